"""The index page: every certificate in one table, with a search box and filters."""

from __future__ import annotations

from ..show import TRUST_TEXT
from ..store import BadEntry
from .assets import INDEX_JS, _page
from .markup import TRUSTS, VERDICTS, _cert_path, _esc, _href, _model_name, _table, _trust


def _index_page(docs: list, bad: list[BadEntry], known_models: list[str],
                summaries: dict) -> str:
    page = "index.html"
    counts = {v: sum(d.verdict == v for d in docs) for v in VERDICTS}
    body = ["<h1>Certificates</h1>",
            f'<p class="subtitle">{len(docs)} certificates: {counts["valid"]} valid, '
            f'{counts["refuted"]} refuted, {counts["unknown"]} unknown'
            + (f"; {len(bad)} unreadable" if bad else "") + "</p>"]

    def options(key: str, values) -> str:
        opts = "".join(f'<option value="{_esc(v)}">{_esc(v)}</option>' for v in values)
        return (f'<label>{key} <select id="f-{key}"><option value="">all</option>'
                f"{opts}</select></label>")

    models_seen = sorted({_model_name(d) for d in docs})
    trusts = [t for t in TRUSTS if any(_trust(d) == t for d in docs)]
    trusts += sorted({_trust(d) for d in docs} - set(trusts))
    verdicts = list(VERDICTS)
    # Hidden until the script shows it: without JavaScript the page is a plain table.
    body.append('<div class="filters" id="filters" hidden>'
                '<input id="q" type="search" placeholder="search id, title, claim…" '
                'aria-label="search">'
                + options("model", models_seen) + options("verdict", verdicts)
                + options("trust", trusts)
                + '<button id="reset" type="button">reset</button>'
                '<span id="count" class="muted"></span></div>')
    rows = []
    for d in docs:
        cid = d.id
        name = _model_name(d)
        search = " ".join((cid, d.title, d.claim, name, " ".join(d.assume))).lower()
        model_cell = (f'<a href="{_href(page, f"model/{name}.html")}">{_esc(name)}</a>'
                      if name in known_models else _esc(name))
        created = d.created
        vacuous = '<span class="badge vacuous">vacuous</span>' if d.vacuous else ""
        rows.append(
            f'<tr data-model="{_esc(name)}" data-verdict="{_esc(d.verdict)}" '
            f'data-trust="{_esc(_trust(d))}" data-search="{_esc(search)}">'
            f'<td class="id"><a href="{_href(page, _cert_path(cid))}">{_esc(cid)}</a></td>'
            f"<td>{_esc(d.title)}</td><td>{model_cell}</td>"
            f'<td><span class="badge {_esc(d.verdict)}">{_esc(d.verdict)}</span></td>'
            f"<td>{_esc(d.trust or '—')}</td>"
            f'<td data-sort="{"1" if d.vacuous else "0"}">{vacuous}</td>'
            f'<td class="created" title="{_esc(created)}" data-sort="{_esc(created)}">'
            f"{_esc(created[:16].replace('T', ' '))}</td></tr>")
    body.append('<table id="certs"><thead><tr><th>id</th><th>title</th><th>model</th>'
                "<th>verdict</th><th>trust</th><th>vacuous</th><th>created</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")
    if not docs:
        body.append('<p class="muted">The store holds no readable certificate.</p>')
    if bad:
        body.append(f"<h2>Unreadable entries ({len(bad)})</h2>"
                    + _table(["id", "file", "reason"],
                             [[f"<code>{_esc(b.id)}</code>", f"<code>{_esc(b.path)}</code>",
                               _esc(b.reason)] for b in bad]))
    body.append("<h2>Models</h2><ul>" + "".join(
        f'<li><a href="{_href(page, f"model/{m}.html")}"><code>{_esc(m)}</code></a> — '
        f"{_esc(summaries.get(m, ''))}</li>" for m in known_models) + "</ul>")
    body.append('<h2>Trust levels</h2><dl class="facts">' + "".join(
        f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in TRUST_TEXT.items()) + "</dl>")
    return _page(page, "prover certificates", "".join(body), script=INDEX_JS)
