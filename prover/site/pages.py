"""A certificate's page (statement, verdict, evidence, solver calls, plots, the text of
``prover show``) and a model's page (documentation, parameters, plots, certificates)."""

from __future__ import annotations

import json
from urllib.parse import quote

from ..models.display import plotted_axes
from ..record import Certificate, Proof, thaw
from ..show import TRUST_TEXT, render
from ..store import read_number
from .assets import _page
from .markup import (_as_dict, _as_list, _cert_path, _esc, _exact_cells, _href, _model_name,
                     _num_html, _table, _value_html, _verdict_badge)
from .plots import _Plots, _plots_html

# show.RECORDED, in HTML
_RECORDED = ('<span class=muted>(as recorded by the run; <code>prover verify</code> does not '
             're-check it)</span>')


def _statement_html(doc: Certificate, page: str, known_models: set[str],
                    summaries: dict) -> str:
    name = _model_name(doc)
    params = doc.model.params
    if name in known_models:
        family = f'<a href="{_href(page, f"model/{name}.html")}"><code>{_esc(name)}</code></a>'
    else:
        family = f"<code>{_esc(name)}</code> <span class=muted>(not a known model)</span>"
    if summaries.get(name):
        family += f' — {_esc(summaries[name])}'
    parts = ["<h2>Statement</h2>", f'<p class="claim"><code>{_esc(doc.claim)}</code></p>']
    assume = doc.assume
    facts = []
    if assume:
        facts.append(("assuming", "<br>".join(f"<code>{_esc(a)}</code>" for a in assume)))
    else:
        facts.append(("assuming", "<span class=muted>nothing beyond the model</span>"))
    facts.append(("family", family))
    if params:
        facts.append(("parameters", ", ".join(f"<code>{_esc(k)} = {_esc(json.dumps(v))}</code>"
                                              for k, v in sorted(params.items()))))
    facts.append(("source", f"<code>{_esc(doc.source)}</code>"))
    facts.append(("created", f"{_esc(doc.created)}, prover {_esc(doc.prover_version)} "
                             f"{_RECORDED}"))
    facts.append(("conjecture sha256", f"<code>{_esc(doc.conjecture_sha256)}</code>"))
    facts.append(("encoding sha256", f"<code>{_esc(doc.encoding_sha256)}</code>"))
    parts.append('<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
                 + "</dl>")
    return "".join(parts)


def _verdict_html(doc: Certificate) -> str:
    verdict = doc.verdict
    trust = doc.trust
    out = ["<h2>Verdict</h2>", f"<p>{_verdict_badge(doc)}"]
    if verdict == "valid":
        out.append(" — the claim holds on the whole family.</p>")
        if doc.vacuous:
            out.append('<p class="note"><strong>Vacuously:</strong> the hypotheses are '
                       "contradictory, so the claim says nothing.</p>")
    elif verdict == "refuted":
        out.append(" — a counterexample with exact values, whose violation an independent "
                   "numeric computation confirmed.</p>")
    else:
        out.append("</p>")
        out.append(f'<p class="note">Reason: {_esc(doc.reason)} {_RECORDED}</p>')
    if doc.disagreement:
        out.append(f'<p class="note">{_esc(doc.disagreement)} {_RECORDED}</p>')
    expect = doc.expect
    if expect and expect != verdict:
        out.append(f'<p class="note">The conjecture file expected '
                   f"<strong>{_esc(expect)}</strong>.</p>")
    out.append("<h3>Trust</h3>")
    if trust:
        out.append(f"<p><strong>{_esc(trust)}</strong> — {_esc(TRUST_TEXT.get(trust, '?'))}.</p>")
    elif verdict == "refuted":
        out.append("<p><strong>none needed</strong> — a refutation rests on its counterexample, "
                   "which anyone can re-evaluate exactly (<code>prover verify</code>).</p>")
    else:
        out.append("<p><strong>none</strong> — there is no proof to trust.</p>")
    return "".join(out)


def _proof_html(proof: Proof) -> str:
    kind = proof.kind.value
    out = ["<h2>Evidence: proof</h2>"]
    if kind in ("farkas", "polya", "sos"):
        cases = proof.cases_json()
        out.append(f"<p>A <strong>{_esc(kind)}</strong> certificate over {len(cases)} case(s): "
                   "a nonnegative combination of the hypotheses and the negated claim that is "
                   "identically negative — checked exactly by <code>prover verify</code>.</p>")
        if proof.checker:
            out.append(f"<p class=muted>Checker: {_esc(proof.checker)}</p>")
        from ..checker import CertificateError, case_leaves
        rows = []
        flat = []
        for n, whole in enumerate(cases, 1):
            try:
                leaves = [leaf for _, leaf in case_leaves(_as_dict(whole))]
            except CertificateError:
                leaves = [{}]
            flat += [(str(n) if len(leaves) == 1 else f"{n}.{j}", leaf)
                     for j, leaf in enumerate(leaves, 1)]
        for n, case in flat:
            case = _as_dict(case)
            terms = []
            for p in _as_list(case.get("products")):
                p = _as_dict(p)
                atoms = "·".join(f"g{_esc(i)}" for i in _as_list(p.get("atoms")))
                terms.append(f"<code>{_esc(p.get('multiplier'))}</code>·{atoms}")
            terms += [f"q{_esc(_as_dict(e).get('atom'))}·h{_esc(_as_dict(e).get('atom'))}"
                      for e in _as_list(case.get("equalities"))]
            terms += ["·".join([f"g{_esc(i)}" for i in _as_list(_as_dict(sq).get("atoms"))]
                               + ["m<sup>T</sup>Gm"]) for sq in _as_list(case.get("squares"))]
            rows.append([n, " + ".join(terms) or "<em>none</em>",
                         f"<code>-{_esc(case.get('constant', '0'))}</code>"])
        out.append(_table(["case", "combination (multiplier · product of constraints g)",
                           "equals"], rows))
        out.append('<p class="muted">g<sub>i</sub> ≥ 0 are the constraints of the encoding '
                   "(model, hypotheses, negated claim); h<sub>i</sub> = 0 its equalities.</p>")
    else:
        solvers = ", ".join(proof.unsat or ())
        search = proof.certificate_search
        out.append(f"<p>Unsat answers from {_esc(solvers)} (<code>prover verify</code> "
                   "re-solves the negated claim).</p>")
        if search:
            out.append(f"<p>{_esc(search)} {_RECORDED}</p>")
    return "".join(out)


def _counterexample_html(doc: Certificate, model=None) -> str:
    """``model``: the doc's model, which says how its realizations read (None: unknown)."""
    ce = doc.counterexample
    out = []
    violation = ce.violation
    if ce.sides:
        parts = [f"<code>{_esc(s.left)}</code> = {_num_html(s.left_value)} and "
                 f"<code>{_esc(s.right)}</code> = {_num_html(s.right_value)}"
                 for s in ce.sides]
        out.append('<p class="headline">Here ' + "; ".join(parts)
                   + f", so <code>{_esc(doc.claim)}</code> fails"
                   + (f" by <strong>{_num_html(violation)}</strong>." if violation is not None
                      else ".") + "</p>")
    elif violation is not None:
        out.append(f'<p class="headline">The claim fails by '
                   f"<strong>{_num_html(violation)}</strong>.</p>")

    values = ce.values
    nonzero = {k: v for k, v in values.items() if v not in ("0", 0)}
    zero = [k for k in values if k not in nonzero]
    out.append("<h3>Values</h3>")
    out.append(_table(["component", "exact", "≈"],
                      [[f"<code>{_esc(k)}</code>", *_exact_cells(v)] for k, v in nonzero.items()]))
    if zero:
        out.append(f'<p class="muted">All other components are 0: '
                   f'{_esc(", ".join(zero))}.</p>')
    stats = ce.statistics
    nc = thaw(ce.numeric_check)
    estimates = _as_dict(nc.get("estimates"))
    intervals = _as_dict(nc.get("intervals"))
    if stats:
        out.append("<h3>Statistics</h3>")
        rows = []
        for name, value in stats.items():
            iv = intervals.get(name)
            iv_text = (f"[{_esc(iv[0])}, {_esc(iv[1])}]"
                       if isinstance(iv, list) and len(iv) == 2 else "")
            rows.append([f"<code>{_esc(name)}</code>", *_exact_cells(value),
                         _esc(estimates.get(name, "")), iv_text])
        out.append(_table(["statistic", "exact", "≈", "numeric estimate", "interval"], rows))

    real = thaw(ce.realization)
    out.append("<h3>Realized as</h3>")
    lines = model.realization_lines(real) if model is not None and isinstance(real, dict) \
        else None
    if lines is not None:
        out.append("<ul>" + "".join(f"<li>{_esc(line.strip())}</li>" for line in lines)
                   + "</ul>")
        out.append("<details><summary>every field of the realization</summary>"
                   + _value_html(real) + "</details>")
    elif real:
        out.append(_value_html(real))
    else:
        out.append('<p class="muted">no realization stored</p>')

    if nc:
        out.append("<h3>Independent numeric check</h3>")
        confirmed = bool(nc.get("confirmed"))
        badge = ('<span class="badge confirmed">CONFIRMED</span>' if confirmed
                 else '<span class="badge unconfirmed">NOT confirmed</span>')
        facts = [("method", _esc(nc.get("method")))]
        for key in ("samples", "batches", "confidence", "seed"):
            if nc.get(key) is not None:
                facts.append((key, _esc(nc.get(key))))
        interval = nc.get("interval")
        if isinstance(interval, list):
            facts.append(("violation margin interval",
                          "[" + ", ".join(_num_html(x) for x in interval) + "]"))
        if nc.get("violation_estimate") is not None:
            facts.append(("violation estimate", _esc(nc.get("violation_estimate"))))
        facts.append(("result", badge + (f" — {_esc(nc['note'])}" if nc.get("note") else "")))
        out.append('<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
                   + "</dl>")
        others = {k: v for k, v in estimates.items() if k not in stats}
        if others:
            rows = []
            for name, est in others.items():
                iv = intervals.get(name)
                rows.append([f"<code>{_esc(name)}</code>", _esc(est),
                             f"[{_esc(iv[0])}, {_esc(iv[1])}]"
                             if isinstance(iv, list) and len(iv) == 2 else ""])
            out.append("<details><summary>estimates of the other quantities</summary>"
                       + _table(["quantity", "estimate", "interval"], rows) + "</details>")
    extra = {k: thaw(v) for k, v in (("maximized", ce.maximized), ("family", ce.family))
             if v is not None}
    if extra:
        out.append("<h3>Other fields</h3><p class=muted>As recorded by the search for a "
                   "larger violation; <code>prover verify</code> re-checks only "
                   "<code>maximized.violation</code> (the counterexample's own).</p>"
                   + _value_html(extra))
    return "".join(out)


def _solvers_html(doc: Certificate) -> str:
    rows = []
    for s in doc.solvers:
        rows.append([_esc(s.name), _esc(s.version), _esc(s.result), _esc(s.seconds),
                     _esc(s.role) + (f" ({_esc(s.reason)})" if s.reason else "")])
    if not rows:
        return '<h2>Solver calls</h2><p class="muted">none</p>'
    return ("<h2>Solver calls</h2><p class=muted>As recorded by the run that made this "
            "certificate; the verdict does not rest on them unless trust is solvers/solver, "
            "and <code>prover verify</code> re-solves those.</p>"
            + _table(["solver", "version", "result", "seconds", "role"], rows))


def _point_html(doc: Certificate, model) -> str:
    """Where the counterexample lies, in the coordinates the frontier plots use, and
    whether the plots mark it (they mark the store's counterexamples whose parameters
    are the plotted ones, the model's defaults)."""
    stats = doc.counterexample.statistics
    coords = []
    for axis in plotted_axes(getattr(model, "pictures", ())):
        if axis in stats:
            coords.append(f"<code>{_esc(axis)}</code> = {_num_html(stats[axis])}")
            continue
        num, sep, den = axis.partition("/")     # a ratio of two statistics, e.g. rDZ/rMZ
        try:
            ratio = read_number(stats[num]) / read_number(stats[den]) if sep else None
        except (KeyError, ValueError, ZeroDivisionError, TypeError):
            ratio = None
        if ratio is not None:
            coords.append(f"<code>{_esc(axis)}</code> = {_esc(ratio)} (≈{float(ratio):.4g})")
    if not coords:
        return ""
    text = f"This counterexample's point: {', '.join(coords)}."
    try:
        defaults = model.validate_params({})
    except Exception:
        defaults = None
    params = dict(doc.model.params)
    if defaults is not None and params == defaults:
        label = doc.id.split("/")[-1]
        text += f" The plots mark it with a purple ✕ labelled <code>{_esc(label)}</code>."
    elif defaults is not None:
        text += (" Its parameters are not the plotted ones (the model's defaults), so the "
                 "plots do not mark it.")
    return f"<p>{text}</p>"


def _cert_page(doc: Certificate, page: str, raw: str, plots: _Plots, known_models: dict,
               summaries: dict) -> str:
    cert_id = doc.id
    name = _model_name(doc)
    title = doc.title
    verdict = doc.verdict
    body = [f"<h1><code>{_esc(cert_id)}</code></h1>"]
    if title:
        body.append(f'<p class="subtitle">{_esc(title)}</p>')
    trust = doc.trust or ("none needed" if verdict == "refuted" else "none")
    body.append(f'<p class="strip">{_verdict_badge(doc)} · trust <strong>{_esc(trust)}'
                f'</strong> · model <code>{_esc(_model_name(doc))}</code> · '
                f'<a href="{_href(page, "index.html")}">all certificates</a> · '
                f'<a href="{_href(page, raw)}">raw JSON</a></p>')
    body.append(_statement_html(doc, page, known_models, summaries))
    body.append(_verdict_html(doc))
    if doc.proof is not None:
        body.append(_proof_html(doc.proof))
    if doc.counterexample is not None:
        heading = ("Evidence: counterexample" if verdict == "refuted"
                   else "An unconfirmed candidate counterexample")
        body.append(f"<h2>{heading}</h2>" + _counterexample_html(doc, known_models.get(name)))
    body.append(_solvers_html(doc))
    if name in known_models:
        point = (_point_html(doc, known_models[name]) if doc.counterexample is not None
                 and verdict == "refuted" else "")
        body.append(f"<h2>Plots of the <code>{_esc(name)}</code> model</h2>"
                    + _plots_html(page, name, plots, point))
    try:
        text = render(doc)
    except Exception as exc:   # render expects the usual shapes; the page must not
        text = f"(prover show could not render this certificate: {exc})"
    body.append("<h2>As <code>prover show</code> prints it</h2>"
                f"<details><summary>text</summary><pre>{_esc(text)}</pre></details>")
    head = f"{cert_id} — {verdict}" + (f" — {title}" if title else "")
    return _page(page, _esc(head), "".join(body))


def _fallback_page(doc: Certificate, page: str, raw: str, error: Exception) -> str:
    """For a certificate whose payload has shapes the renderer does not expect."""
    body = (f"<h1><code>{_esc(doc.id)}</code></h1>"
            f'<p class="note">This certificate could not be rendered readably '
            f"({_esc(type(error).__name__)}: {_esc(error)}). Its JSON follows.</p>"
            f'<p><a href="{_href(page, "index.html")}">← all certificates</a> · '
            f'<a href="{_href(page, raw)}">raw JSON</a></p>'
            f"<pre>{_esc(json.dumps(doc.to_json(), indent=2, sort_keys=True, ensure_ascii=False))}"
            "</pre>")
    return _page(page, _esc(doc.id), body)


# --- model pages ----------------------------------------------------------------------

def _model_page(model, page: str, plots: _Plots, certs: list) -> str:
    body = [f"<h1>Model <code>{_esc(model.name)}</code></h1>",
            f'<p class="subtitle">{_esc(model.summary)}</p>',
            f'<p><a href="{_href(page, "index.html")}">← all certificates</a> · '
            f'<a href="{_href(page, "index.html")}#model={quote(model.name)}">'
            f"its certificates in the index</a></p>",
            f"<pre>{_esc(model.doc)}</pre>", "<h2>Parameters</h2>"]
    rows = []
    for p in getattr(model, "params", []):
        rng = "" if getattr(p, "minimum", None) is None else f"{p.minimum} .. {p.maximum}"
        rows.append([f"<code>{_esc(p.name)}</code>", _esc(getattr(p, "kind", "")),
                     f"<code>{_esc(json.dumps(p.default))}</code>", _esc(rng),
                     _esc(getattr(p, "description", ""))])
    body.append(_table(["name", "type", "default", "range", "description"], rows) if rows
                else '<p class="muted">none</p>')
    body.append("<h2>Frontier plots</h2>" + _plots_html(page, model.name, plots))
    body.append(f"<h2>Certificates ({len(certs)})</h2>")
    if certs:
        items = "".join(f'<li><a href="{_href(page, _cert_path(d.id))}"><code>'
                        f'{_esc(d.id)}</code></a> {_verdict_badge(d)} '
                        f'<span class="muted">{_esc(d.title)}</span></li>'
                        for d in certs)
        body.append(f"<ul>{items}</ul>")
    else:
        body.append('<p class="muted">none in this store</p>')
    return _page(page, _esc(f"model {model.name}"), "".join(body))
