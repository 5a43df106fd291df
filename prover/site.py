"""A static HTML site for browsing a certificate store, offline.

``build_site(store, outdir)`` writes::

    index.html              every certificate in one table: search box, filters
    cert/<id>.html          one page per certificate (ids contain '/': nested dirs)
    cert/<id>.json          the certificate itself, next to its page
    model/<name>.html       one page per model: its documentation, parameters, plots
    plots/<name>/…          frontier plots from ``prover.plot`` (optional)

The pages open from the file system (file:// URLs): every link is relative, CSS and the
index's small script are inline, and nothing is fetched from the network. Certificates
are data, not markup: every piece of their text is HTML-escaped, no certificate text
ever reaches a script, and each page carries a Content-Security-Policy that lets only
the index's own script run.

The index honours ``index.html#verdict=refuted&model=twins&trust=certificate&q=text``
(or the same as a ``?query``), so a filtered view can be linked or bookmarked.

A store entry that cannot be read is listed on the index with its reason; a certificate
whose fields have unexpected shapes still gets a page (its raw JSON, escaped); a
missing or failing plotting module only removes the plots. The build never fails
because of one certificate.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import posixpath
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from . import __version__
from .errors import InputError
from .show import TRUST_TEXT, _architecture, _num, render
from .store import BadEntry, DirectoryStore, Store, dumps, read_number, validate_id

__all__ = ["SiteReport", "build_site"]

# Written into the output directory so a rebuild may clear the pages it made before
# (a deleted certificate must not leave a stale page) and never anybody else's files.
MARKER = ".prover-site"
_OWNED = ("index.html", "cert", "model")   # plots/ is a cache, checked per model
_IMAGE_SUFFIXES = {".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp"}
VERDICTS = ("valid", "refuted", "unknown")
TRUSTS = ("kernel", "certificate", "solvers", "solver", "none")


@dataclass
class SiteReport:
    """What ``build_site`` wrote, and what it had to leave out."""

    outdir: Path
    index: Path
    certificates: list[str] = field(default_factory=list)    # ids with a page
    unreadable: list[BadEntry] = field(default_factory=list)
    models: list[str] = field(default_factory=list)          # model pages written
    pages: int = 0                                           # HTML files written
    plots: dict[str, list[Path]] = field(default_factory=dict)
    plot_errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {"outdir": str(self.outdir), "index": str(self.index), "pages": self.pages,
                "certificates": self.certificates, "models": self.models,
                "unreadable": [{"id": b.id, "path": b.path, "reason": b.reason}
                               for b in self.unreadable],
                "plots": {m: [str(p) for p in ps] for m, ps in sorted(self.plots.items())},
                "plot_errors": dict(sorted(self.plot_errors.items())),
                "warnings": self.warnings, "seconds": round(self.seconds, 3)}

    def summary(self) -> str:
        plots = sum(len(v) for v in self.plots.values())
        text = (f"wrote {self.pages} pages to {self.outdir}/ in {self.seconds:.1f} s: "
                f"{len(self.certificates)} certificates, {len(self.unreadable)} unreadable, "
                f"{len(self.models)} models, {plots} plots")
        return text + f"; open {self.index}"


# --- small helpers --------------------------------------------------------------------

def _esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _href(from_page: str, target: str) -> str:
    """Relative URL from one site path to another (both relative to the site root)."""
    rel = posixpath.relpath(target, posixpath.dirname(from_page) or ".")
    return _esc(quote(rel, safe="/"))


def _cert_path(cert_id: str) -> str:
    return f"cert/{cert_id}.html"


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _as_list(value) -> list:
    return value if isinstance(value, list) else []


def _model_name(doc: dict) -> str:
    model = doc.get("model")
    if isinstance(model, dict):
        return str(model.get("name", "?"))
    return "?" if model is None else str(model)


def _trust(doc: dict) -> str:
    return doc.get("trust") or "none"


def _approx(value) -> str:
    """The decimal reading of an exact 'p/q' (empty when there is nothing to add)."""
    if isinstance(value, str) and "/" in value:
        try:
            return f"≈{float(Fraction(value)):.6g}"
        except (ValueError, ZeroDivisionError, OverflowError):
            return ""
    return ""


def _num_html(value) -> str:
    return _esc(_num(value))


def _verdict_badge(doc: dict) -> str:
    verdict = str(doc.get("verdict", "?"))
    css = verdict if verdict in VERDICTS else "other"
    extra = ""
    if verdict == "valid" and doc.get("vacuous"):
        extra = ' <span class="badge vacuous">vacuous</span>'
    elif verdict == "unknown" and "disagree" in str(doc.get("reason", "")):
        extra = ' <span class="badge vacuous">solvers disagree</span>'
    return f'<span class="badge {css}">{_esc(verdict)}</span>{extra}'


def _table(headers: list[str], rows: list[list[str]], css: str = "") -> str:
    """A table from already-escaped cells."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _value_html(value, depth: int = 0) -> str:
    """Any JSON value, readably: tables for objects and uniform lists of objects."""
    if depth > 6:
        return f"<code>{_esc(json.dumps(value, ensure_ascii=False))}</code>"
    if isinstance(value, dict):
        if not value:
            return "<em>none</em>"
        rows = [[f"<code>{_esc(k)}</code>", _value_html(v, depth + 1)] for k, v in value.items()]
        return _table(["field", "value"], rows, "kv")
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            keys: list[str] = []
            for item in value:
                keys += [k for k in item if k not in keys]
            rows = [[_value_html(item.get(k, ""), depth + 1) for k in keys] for item in value]
            return _table([_esc(k) for k in keys], rows, "kv")
        if all(not isinstance(v, (dict, list)) for v in value):
            return ", ".join(_num_html(v) for v in value) or "<em>none</em>"
        return "<ul>" + "".join(f"<li>{_value_html(v, depth + 1)}</li>" for v in value) + "</ul>"
    if isinstance(value, bool) or value is None:
        return f"<code>{_esc(json.dumps(value))}</code>"
    return _num_html(value)


def _exact_cells(value) -> list[str]:
    return [f"<code>{_esc(value)}</code>", _esc(_approx(value))]


# --- page frame -----------------------------------------------------------------------

CSS = """
:root { --fg:#1d2330; --muted:#5b6475; --bg:#fff; --panel:#f5f7fa; --line:#dde2ea;
  --link:#1a56b0; --valid:#1b7f3b; --refuted:#b3261e; --unknown:#8a6100; --warn:#fff4d6; }
@media (prefers-color-scheme: dark) { :root { --fg:#e4e8ef; --muted:#a0a9b8; --bg:#14171c;
  --panel:#1d2128; --line:#333a45; --link:#7fb0ff; --valid:#5ccf7e; --refuted:#ff8a80;
  --unknown:#f0c060; --warn:#3a3220; } }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  color:var(--fg); background:var(--bg); }
header.top { background:var(--panel); border-bottom:1px solid var(--line); padding:.6rem 1.5rem; }
header.top a { font-weight:600; }
main { max-width:1200px; margin:0 auto; padding:1rem 1.5rem 3rem; }
footer { color:var(--muted); font-size:.85em; text-align:center; padding:1rem; }
a { color:var(--link); text-decoration:none; } a:hover { text-decoration:underline; }
h1 { font-size:1.45rem; margin:.8rem 0 .2rem; } h1 code { font-size:1.2rem; }
h2 { font-size:1.15rem; margin:1.6rem 0 .5rem; border-bottom:1px solid var(--line); padding-bottom:.2rem; }
h3 { font-size:1rem; margin:1.1rem 0 .4rem; }
.subtitle { color:var(--muted); margin:0 0 .8rem; font-size:1.05em; }
code, pre { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:.92em; }
pre { background:var(--panel); border:1px solid var(--line); padding:.8rem; overflow-x:auto;
  white-space:pre-wrap; border-radius:6px; }
table { border-collapse:collapse; margin:.4rem 0 1rem; }
th, td { border-bottom:1px solid var(--line); padding:.3rem .6rem; text-align:left; vertical-align:top; }
th { background:var(--panel); font-weight:600; }
table.kv td:first-child { white-space:nowrap; }
table.kv table.kv { margin:0; }
#certs { width:100%; } #certs td { font-size:.93em; }
#certs th { cursor:pointer; user-select:none; white-space:nowrap; }
#certs th[aria-sort=ascending]::after { content:" ▲"; } #certs th[aria-sort=descending]::after { content:" ▼"; }
#certs td.id { white-space:nowrap; } #certs td.created { white-space:nowrap; color:var(--muted); }
.badge { display:inline-block; padding:0 .45em; border-radius:.8em; font-size:.85em; font-weight:600;
  border:1px solid currentColor; white-space:nowrap; }
.badge.valid { color:var(--valid); } .badge.refuted { color:var(--refuted); }
.badge.unknown, .badge.other { color:var(--unknown); } .badge.vacuous { color:var(--refuted); }
.badge.confirmed { color:var(--valid); } .badge.unconfirmed { color:var(--refuted); }
.muted { color:var(--muted); }
.note { background:var(--warn); border:1px solid var(--line); border-radius:6px; padding:.5rem .8rem; }
.facts { display:grid; grid-template-columns:max-content 1fr; gap:.25rem 1rem; margin:.5rem 0; }
.facts dt { color:var(--muted); } .facts dd { margin:0; }
.claim { font-size:1.1em; background:var(--panel); border-left:4px solid var(--link);
  padding:.4rem .8rem; display:inline-block; }
.filters { display:flex; flex-wrap:wrap; gap:.6rem; align-items:center; margin:.6rem 0; }
.filters input, .filters select { font:inherit; padding:.25rem .4rem; border:1px solid var(--line);
  border-radius:4px; background:var(--bg); color:var(--fg); }
.filters input { min-width:18rem; }
.plots { display:flex; flex-wrap:wrap; gap:1rem; }
.plots figure { margin:0; max-width:100%; }
.plots img { max-width:560px; width:100%; border:1px solid var(--line); border-radius:6px; background:#fff; }
.plots figcaption { color:var(--muted); font-size:.85em; }
details summary { cursor:pointer; color:var(--link); }
.strip { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:.45rem .8rem; }
.headline { font-size:1.05em; border-left:4px solid var(--refuted); padding:.3rem .8rem; background:var(--panel); }
""".strip()

# Reads only data-* attributes and the URL: certificate text never reaches the script.
INDEX_JS = """
(function () {
  var table = document.getElementById('certs');
  if (!table) return;
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var keys = ['model', 'verdict', 'trust'];
  var box = document.getElementById('filters');
  var q = document.getElementById('q');
  var count = document.getElementById('count');
  var selects = {};
  keys.forEach(function (k) { selects[k] = document.getElementById('f-' + k); });
  box.hidden = false;

  function fromUrl() {
    var text = (location.search || '').replace(/^\\?/, '') + '&' + (location.hash || '').replace(/^#/, '');
    var params = new URLSearchParams(text);
    if (params.has('q')) q.value = params.get('q');
    keys.forEach(function (k) {
      var v = params.get(k);
      if (v === null) return;
      var ok = Array.prototype.some.call(selects[k].options, function (o) { return o.value === v; });
      if (!ok) { var o = document.createElement('option'); o.value = v; o.textContent = v; selects[k].appendChild(o); }
      selects[k].value = v;
    });
  }

  function apply(remember) {
    var text = q.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (r) {
      var ok = (!text || r.getAttribute('data-search').indexOf(text) >= 0) &&
        keys.every(function (k) { return !selects[k].value || r.getAttribute('data-' + k) === selects[k].value; });
      r.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + ' of ' + rows.length + ' shown';
    if (remember) {
      var p = new URLSearchParams();
      if (q.value.trim()) p.set('q', q.value.trim());
      keys.forEach(function (k) { if (selects[k].value) p.set(k, selects[k].value); });
      var s = p.toString();
      try { history.replaceState(null, '', location.pathname + (s ? '#' + s : '')); } catch (e) {}
    }
  }

  var sortCol = -1, sortDir = 1;
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.addEventListener('click', function () {
      sortDir = sortCol === i ? -sortDir : 1;
      sortCol = i;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      rows.slice().sort(function (a, b) {
        var x = a.cells[i].getAttribute('data-sort') || a.cells[i].textContent;
        var y = b.cells[i].getAttribute('data-sort') || b.cells[i].textContent;
        return x < y ? -sortDir : x > y ? sortDir : 0;
      }).forEach(function (r) { body.appendChild(r); });
    });
  });

  fromUrl();
  q.addEventListener('input', function () { apply(true); });
  keys.forEach(function (k) { selects[k].addEventListener('change', function () { apply(true); }); });
  document.getElementById('reset').addEventListener('click', function () {
    q.value = ''; keys.forEach(function (k) { selects[k].value = ''; }); apply(true);
  });
  window.addEventListener('hashchange', function () { fromUrl(); apply(false); });
  apply(false);
})();
""".strip()

_INDEX_JS_HASH = base64.b64encode(hashlib.sha256(INDEX_JS.encode("utf-8")).digest()).decode()


def _page(path: str, title: str, body: str, script: str | None = None) -> str:
    """A complete page. ``title`` and ``body`` must already be escaped."""
    root = _href(path, "index.html")
    # No network (default-src 'none'); on pages without our script, no script at all.
    script_src = f"'sha256-{_INDEX_JS_HASH}'" if script else "'none'"
    csp = (f"default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; "
           f"script-src {script_src}; base-uri 'none'; form-action 'none'")
    tail = f"<script>{script}</script>" if script else ""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            f"<title>{title}</title><style>{CSS}</style></head><body>"
            f'<header class="top"><a href="{root}">prover certificates</a></header>'
            f"<main>{body}</main>"
            f"<footer>generated by prover {_esc(__version__)} on {stamp}</footer>"
            f"{tail}</body></html>\n")


# --- plots ----------------------------------------------------------------------------

def _plot_inputs(docs: list[dict], model: str) -> list:
    """What a model's plots may show from the store: its certificates' counterexample
    points and proved claims (not their timestamps or solver timings)."""
    out = []
    for d in docs:
        if _model_name(d) != model:
            continue
        ce = _as_dict(d.get("counterexample"))
        out.append([d.get("id"), d.get("verdict"), d.get("trust"), d.get("vacuous"),
                    _as_dict(d.get("model")).get("params"), d.get("claim"), d.get("assume"),
                    ce.get("statistics")])
    return out


def _code_digest(model: str) -> str:
    """Digest of the code that decides what a model's plots show: the plotting module,
    the frontier computation and the model. A plot made by other code is not reused."""
    h = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent
    for name in ("plot.py", "frontier.py", "models/base.py", f"models/{model}.py"):
        h.update(name.encode())
        try:
            h.update((package / name).read_bytes())
        except OSError:
            h.update(b"-")
    return h.hexdigest()


def _plot_worker(model: str, target: str, store) -> list[str]:
    """Make one model's plots (in a worker process, or in this one)."""
    import importlib
    import inspect

    module = importlib.import_module("prover.plot")
    function = module.plot_model_frontiers
    try:
        takes_store = "store" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        takes_store = False
    made = function(model, Path(target), store=store) if takes_store else function(model,
                                                                                   Path(target))
    return [str(p) for p in (made or [])]


class _Plots:
    """Frontier plots per model: made once per build (in parallel, one process per
    model), kept under plots/<model>/ with a key of their inputs, and reused by the next
    build while the key — the plotting and frontier code, the model's module, the
    store's certificates of that model — is unchanged. Drawing frontiers runs solvers
    and takes a minute; a rebuild should not."""

    KEY_FILE = ".key.json"

    def __init__(self, outdir: Path, enabled: bool, report: SiteReport, store: Store,
                 docs: list[dict], log: Callable[[str], None] | None = None):
        self.log = log or (lambda message: None)
        self.outdir = outdir
        self.enabled = enabled
        self.report = report
        self.store = store
        self.docs = docs
        self._cache: dict[str, list[str]] = {}
        self._import_error: str | None = None
        if enabled:
            try:
                import importlib   # through sys.modules, so tests can substitute it
                module = importlib.import_module("prover.plot")
                if not callable(getattr(module, "plot_model_frontiers", None)):
                    self._import_error = "prover.plot has no plot_model_frontiers()"
            except Exception as exc:   # a broken plotting module must not stop the site
                self._import_error = f"prover.plot could not be imported: {exc}"

    def unavailable(self, model: str) -> str | None:
        """Why ``model`` has no plots (None when it has them)."""
        if not self.enabled:
            return "plots were not requested for this build"
        if self._import_error:
            return self._import_error
        return self.report.plot_errors.get(model)

    def images(self, model: str) -> list[str]:
        """Site-relative paths of the model's plot images ([] when unavailable)."""
        if model not in self._cache:
            self.prepare([model])
        return self._cache.get(model, [])

    def prepare(self, models: list[str], parallel: bool = True) -> None:
        """Make (or reuse) the plots of ``models``."""
        todo = [m for m in models if m not in self._cache]
        if not self.enabled or not todo:
            return
        if self._import_error:
            for m in todo:
                self._cache[m] = []
                self.report.plot_errors[m] = self._import_error
            return
        fresh = []
        for m in todo:
            key = hashlib.sha256(json.dumps([_code_digest(m), m, _plot_inputs(self.docs, m)],
                                            sort_keys=True, default=str).encode()).hexdigest()
            reused = self._reuse(m, key)
            if reused is not None:
                self._accept(m, reused)
            else:
                fresh.append((m, key))
        if fresh:
            self.log(f"drawing frontier plots for {', '.join(m for m, _ in fresh)} "
                     "(kept for the next build)")
        results = self._run([m for m, _ in fresh], parallel)
        for m, key in fresh:
            outcome = results[m]
            if isinstance(outcome, str):
                self.report.plot_errors[m] = outcome
                self._cache[m] = []
            else:
                self._accept(m, self._adopt(m, outcome))
                (self._dir(m) / self.KEY_FILE).write_text(
                    json.dumps({"key": key, "images": self._cache[m]}), encoding="utf-8")

    def _dir(self, model: str) -> Path:
        return self.outdir / "plots" / model

    def _reuse(self, model: str, key: str) -> list[str] | None:
        try:
            saved = json.loads((self._dir(model) / self.KEY_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict):
            return None
        images = saved.get("images")
        if saved.get("key") != key or not isinstance(images, list) or not all(
                isinstance(i, str) and (self.outdir / i).is_file() for i in images):
            return None
        return images

    def _run(self, models: list[str], parallel: bool) -> dict[str, list[str] | str]:
        """model -> image paths, or the reason there are none."""
        for m in models:   # stale images of changed inputs go; nothing else is in there
            shutil.rmtree(self._dir(m), ignore_errors=True)
            self._dir(m).mkdir(parents=True, exist_ok=True)
        results: dict[str, list[str] | str] = {}

        def failed(exc: BaseException) -> str:
            return f"plotting failed: {type(exc).__name__}: {exc}"

        if parallel and len(models) > 1 and (os.cpu_count() or 1) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            try:
                context = multiprocessing.get_context("fork")
                with ProcessPoolExecutor(min(len(models), os.cpu_count() or 1),
                                         mp_context=context) as pool:
                    futures = {m: pool.submit(_plot_worker, m, str(self._dir(m)), self.store)
                               for m in models}
                    for m, future in futures.items():
                        try:
                            results[m] = future.result()
                        except Exception as exc:
                            results[m] = failed(exc)
                return results
            except (ValueError, OSError, RuntimeError):
                results.clear()   # no fork here, or no processes: draw them one by one
        for m in models:
            try:
                results[m] = _plot_worker(m, str(self._dir(m)), self.store)
            except Exception as exc:
                results[m] = failed(exc)
        return results

    def _adopt(self, model: str, made: list[str]) -> list[str]:
        """Site-relative image paths; images made outside the site are copied in."""
        found: list[str] = []
        root = self.outdir.resolve()
        for name in made:
            path = Path(name)
            if path.suffix.lower() not in _IMAGE_SUFFIXES or not path.is_file():
                continue
            resolved = path.resolve()
            if not resolved.is_relative_to(root):
                copy = self._dir(model) / path.name
                shutil.copyfile(resolved, copy)
                resolved = copy.resolve()
            found.append(resolved.relative_to(root).as_posix())
        if not found:
            self.report.plot_errors[model] = "the plotting module made no image for this model"
        return found

    def _accept(self, model: str, images: list[str]) -> None:
        self._cache[model] = images
        if images:
            self.report.plots[model] = [self.outdir / i for i in images]


def _figures(images: list[str]) -> list[tuple[str, list[str]]]:
    """Images grouped by name without suffix: one figure per picture, in every format."""
    groups: dict[str, list[str]] = {}
    for img in images:
        groups.setdefault(posixpath.splitext(img)[0], []).append(img)
    return list(groups.items())


def _plots_html(page: str, model: str, plots: _Plots, point: str = "") -> str:
    images = plots.images(model)
    if not images:
        why = plots.unavailable(model) or "no plots"
        return f'<p class="muted">No plots: {_esc(why)}.</p>'
    figures = []
    for stem, files in _figures(images):
        # A raster shown inline (light, renders everywhere); every format linked.
        shown = next((f for f in files if not f.lower().endswith(".svg")), files[0])
        links = " · ".join(f'<a href="{_href(page, f)}">{_esc(posixpath.splitext(f)[1][1:])}</a>'
                           for f in files)
        figures.append(f'<figure><a href="{_href(page, shown)}"><img src="{_href(page, shown)}" '
                       f'alt="{_esc(posixpath.basename(stem))}"></a>'
                       f"<figcaption>{_esc(posixpath.basename(stem))} — {links}</figcaption>"
                       "</figure>")
    return point + f'<div class="plots">{"".join(figures)}</div>'


# --- the certificate page -------------------------------------------------------------

def _statement_html(doc: dict, page: str, known_models: set[str], summaries: dict) -> str:
    model = _as_dict(doc.get("model"))
    name = _model_name(doc)
    params = _as_dict(model.get("params"))
    if name in known_models:
        family = f'<a href="{_href(page, f"model/{name}.html")}"><code>{_esc(name)}</code></a>'
    else:
        family = f"<code>{_esc(name)}</code> <span class=muted>(not a known model)</span>"
    if summaries.get(name):
        family += f' — {_esc(summaries[name])}'
    parts = ["<h2>Statement</h2>", f'<p class="claim"><code>{_esc(doc.get("claim"))}</code></p>']
    assume = _as_list(doc.get("assume"))
    facts = []
    if assume:
        facts.append(("assuming", "<br>".join(f"<code>{_esc(a)}</code>" for a in assume)))
    else:
        facts.append(("assuming", "<span class=muted>nothing beyond the model</span>"))
    facts.append(("family", family))
    if params:
        facts.append(("parameters", ", ".join(f"<code>{_esc(k)} = {_esc(json.dumps(v))}</code>"
                                              for k, v in sorted(params.items()))))
    facts.append(("source", f"<code>{_esc(doc.get('source'))}</code>"))
    facts.append(("created", f"{_esc(doc.get('created'))}, "
                             f"prover {_esc(doc.get('prover_version'))}"))
    for key in ("conjecture_sha256", "encoding_sha256"):
        if doc.get(key):
            facts.append((key.replace("_", " "), f"<code>{_esc(doc.get(key))}</code>"))
    parts.append('<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
                 + "</dl>")
    return "".join(parts)


def _verdict_html(doc: dict) -> str:
    verdict = doc.get("verdict")
    trust = doc.get("trust")
    out = ["<h2>Verdict</h2>", f"<p>{_verdict_badge(doc)}"]
    if verdict == "valid":
        out.append(" — the claim holds on the whole family.</p>")
        if doc.get("vacuous"):
            out.append('<p class="note"><strong>Vacuously:</strong> the hypotheses are '
                       "contradictory, so the claim says nothing.</p>")
    elif verdict == "refuted":
        out.append(" — a counterexample with exact values, whose violation an independent "
                   "numeric computation confirmed.</p>")
    else:
        out.append("</p>")
        out.append(f'<p class="note">Reason: {_esc(doc.get("reason", "?"))}</p>')
    expect = doc.get("expect")
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


def _proof_html(proof: dict) -> str:
    kind = proof.get("kind")
    out = ["<h2>Evidence: proof</h2>"]
    if kind in ("farkas", "polya"):
        cases = _as_list(proof.get("cases"))
        out.append(f"<p>A <strong>{_esc(kind)}</strong> certificate over {len(cases)} case(s): "
                   "a nonnegative combination of the hypotheses and the negated claim that is "
                   "identically negative — checked exactly by <code>prover verify</code>.</p>")
        if proof.get("checker"):
            out.append(f"<p class=muted>Checker: {_esc(proof['checker'])}</p>")
        rows = []
        for n, case in enumerate(cases, 1):
            case = _as_dict(case)
            terms = []
            for p in _as_list(case.get("products")):
                p = _as_dict(p)
                atoms = "·".join(f"g{_esc(i)}" for i in _as_list(p.get("atoms")))
                terms.append(f"<code>{_esc(p.get('multiplier'))}</code>·{atoms}")
            terms += [f"q{_esc(_as_dict(e).get('atom'))}·h{_esc(_as_dict(e).get('atom'))}"
                      for e in _as_list(case.get("equalities"))]
            rows.append([str(n), " + ".join(terms) or "<em>none</em>",
                         f"<code>-{_esc(case.get('constant', '0'))}</code>"])
        out.append(_table(["case", "combination (multiplier · product of constraints g)",
                           "equals"], rows))
        out.append('<p class="muted">g<sub>i</sub> ≥ 0 are the constraints of the encoding '
                   "(model, hypotheses, negated claim); h<sub>i</sub> = 0 its equalities.</p>")
    elif kind == "smt":
        solvers = ", ".join(map(str, _as_list(proof.get("unsat"))))
        search = proof.get("certificate_search")
        out.append(f"<p>Unsat answers from {_esc(solvers)}"
                   + (f"; {_esc(search)}" if search else "") + ".</p>")
    else:
        out.append(f"<p>Proof of kind <code>{_esc(kind)}</code>:</p>" + _value_html(proof))
    return "".join(out)


def _counterexample_html(doc: dict) -> str:
    ce = _as_dict(doc.get("counterexample"))
    out = []
    sides = [_as_dict(s) for s in _as_list(ce.get("sides"))]
    violation = ce.get("violation")
    if sides:
        parts = [f"<code>{_esc(s.get('left'))}</code> = {_num_html(s.get('left_value'))} and "
                 f"<code>{_esc(s.get('right'))}</code> = {_num_html(s.get('right_value'))}"
                 for s in sides]
        out.append('<p class="headline">Here ' + "; ".join(parts)
                   + f", so <code>{_esc(doc.get('claim'))}</code> fails"
                   + (f" by <strong>{_num_html(violation)}</strong>." if violation is not None
                      else ".") + "</p>")
    elif violation is not None:
        out.append(f'<p class="headline">The claim fails by '
                   f"<strong>{_num_html(violation)}</strong>.</p>")

    values = _as_dict(ce.get("values"))
    nonzero = {k: v for k, v in values.items() if v not in ("0", 0)}
    zero = [k for k in values if k not in nonzero]
    out.append("<h3>Values</h3>")
    out.append(_table(["component", "exact", "≈"],
                      [[f"<code>{_esc(k)}</code>", *_exact_cells(v)] for k, v in nonzero.items()]))
    if zero:
        out.append(f'<p class="muted">All other components are 0: '
                   f'{_esc(", ".join(zero))}.</p>')
    stats = _as_dict(ce.get("statistics"))
    nc = _as_dict(ce.get("numeric_check"))
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

    real = ce.get("realization")
    out.append("<h3>Realized as</h3>")
    if isinstance(real, dict) and "terms" in real and "allele_frequency" in real:
        out.append("<ul>" + "".join(f"<li>{_esc(line.strip())}</li>"
                                     for line in _architecture(real)) + "</ul>")
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
    extra = {k: v for k, v in ce.items() if k not in
             ("values", "sides", "violation", "statistics", "realization", "numeric_check")}
    if extra:
        out.append("<h3>Other fields</h3>" + _value_html(extra))
    return "".join(out)


def _solvers_html(doc: dict) -> str:
    rows = []
    for s in _as_list(doc.get("solvers")):
        s = _as_dict(s)
        rows.append([_esc(s.get("name")), _esc(s.get("version")), _esc(s.get("result")),
                     _esc(s.get("seconds")),
                     _esc(s.get("role", "")) + (f" ({_esc(s['reason'])})" if s.get("reason")
                                                 else "")])
    if not rows:
        return '<h2>Solver calls</h2><p class="muted">none</p>'
    return "<h2>Solver calls</h2>" + _table(["solver", "version", "result", "seconds", "role"],
                                            rows)


def _point_html(doc: dict, model) -> str:
    """Where the counterexample lies, in the coordinates the frontier plots use, and
    whether the plots mark it (they mark the store's counterexamples whose parameters
    are the plotted ones, the model's defaults)."""
    stats = _as_dict(_as_dict(doc.get("counterexample")).get("statistics"))
    coords = [f"<code>{name}</code> = {_num_html(stats[name])}"
              for name in ("s2", "r2", "h2", "falconer") if name in stats]
    try:
        rho = read_number(stats["rDZ"]) / read_number(stats["rMZ"])
        coords.append(f"<code>rDZ/rMZ</code> = {_esc(rho)} (≈{float(rho):.4g})")
    except (KeyError, ValueError, ZeroDivisionError, TypeError):
        pass
    if not coords:
        return ""
    text = f"This counterexample's point: {', '.join(coords)}."
    try:
        defaults = model.validate_params({})
    except Exception:
        defaults = None
    params = _as_dict(doc.get("model")).get("params")
    if defaults is not None and params == defaults:
        label = str(doc.get("id", "")).split("/")[-1]
        text += f" The plots mark it with a purple ✕ labelled <code>{_esc(label)}</code>."
    elif defaults is not None:
        text += (" Its parameters are not the plotted ones (the model's defaults), so the "
                 "plots do not mark it.")
    return f"<p>{text}</p>"


def _cert_page(doc: dict, page: str, raw: str, plots: _Plots, known_models: dict,
               summaries: dict) -> str:
    cert_id = doc["id"]
    title = doc.get("title")
    verdict = doc.get("verdict")
    body = [f"<h1><code>{_esc(cert_id)}</code></h1>"]
    if title:
        body.append(f'<p class="subtitle">{_esc(title)}</p>')
    trust = doc.get("trust") or ("none needed" if verdict == "refuted" else "none")
    body.append(f'<p class="strip">{_verdict_badge(doc)} · trust <strong>{_esc(trust)}'
                f'</strong> · model <code>{_esc(_model_name(doc))}</code> · '
                f'<a href="{_href(page, "index.html")}">all certificates</a> · '
                f'<a href="{_href(page, raw)}">raw JSON</a></p>')
    body.append(_statement_html(doc, page, known_models, summaries))
    body.append(_verdict_html(doc))
    if verdict == "valid" and doc.get("proof") is not None:
        body.append(_proof_html(_as_dict(doc.get("proof"))))
    if doc.get("counterexample"):
        heading = ("Evidence: counterexample" if verdict == "refuted"
                   else "An unconfirmed candidate counterexample")
        body.append(f"<h2>{heading}</h2>" + _counterexample_html(doc))
    body.append(_solvers_html(doc))
    name = _model_name(doc)
    if name in known_models:
        point = (_point_html(doc, known_models[name]) if doc.get("counterexample")
                 and doc.get("verdict") == "refuted" else "")
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


def _fallback_page(doc: dict, page: str, raw: str, error: Exception) -> str:
    """For a certificate whose fields have shapes the renderer does not expect."""
    body = (f"<h1><code>{_esc(doc.get('id'))}</code></h1>"
            f'<p class="note">This certificate could not be rendered readably '
            f"({_esc(type(error).__name__)}: {_esc(error)}). Its JSON follows.</p>"
            f'<p><a href="{_href(page, "index.html")}">← all certificates</a> · '
            f'<a href="{_href(page, raw)}">raw JSON</a></p>'
            f"<pre>{_esc(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False))}</pre>")
    return _page(page, _esc(doc.get("id")), body)


# --- model pages ----------------------------------------------------------------------

def _model_page(model, page: str, plots: _Plots, certs: list[dict]) -> str:
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
        items = "".join(f'<li><a href="{_href(page, _cert_path(d["id"]))}"><code>'
                        f'{_esc(d["id"])}</code></a> {_verdict_badge(d)} '
                        f'<span class="muted">{_esc(d.get("title", ""))}</span></li>'
                        for d in certs)
        body.append(f"<ul>{items}</ul>")
    else:
        body.append('<p class="muted">none in this store</p>')
    return _page(page, _esc(f"model {model.name}"), "".join(body))


# --- index ----------------------------------------------------------------------------

def _index_page(docs: list[dict], bad: list[BadEntry], known_models: list[str],
                summaries: dict) -> str:
    page = "index.html"
    counts = {v: sum(d.get("verdict") == v for d in docs) for v in VERDICTS}
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
    verdicts = list(VERDICTS) + sorted({str(d.get("verdict")) for d in docs} - set(VERDICTS))
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
        cid = d["id"]
        name = _model_name(d)
        search = " ".join(str(x) for x in (cid, d.get("title", ""), d.get("claim", ""), name,
                                            " ".join(map(str, _as_list(d.get("assume")))))).lower()
        model_cell = (f'<a href="{_href(page, f"model/{name}.html")}">{_esc(name)}</a>'
                      if name in known_models else _esc(name))
        created = str(d.get("created", ""))
        vacuous = '<span class="badge vacuous">vacuous</span>' if d.get("vacuous") else ""
        rows.append(
            f'<tr data-model="{_esc(name)}" data-verdict="{_esc(d.get("verdict"))}" '
            f'data-trust="{_esc(_trust(d))}" data-search="{_esc(search)}">'
            f'<td class="id"><a href="{_href(page, _cert_path(cid))}">{_esc(cid)}</a></td>'
            f"<td>{_esc(d.get('title', ''))}</td><td>{model_cell}</td>"
            f"<td>{_verdict_badge({'verdict': d.get('verdict')})}</td>"
            f"<td>{_esc(d.get('trust') or '—')}</td>"
            f'<td data-sort="{"1" if d.get("vacuous") else "0"}">{vacuous}</td>'
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


# --- build ----------------------------------------------------------------------------

def _prepare(outdir: Path, store: Store) -> None:
    if isinstance(store, DirectoryStore):
        root = store.root.resolve()
        out = outdir.resolve()
        if out == root or out.is_relative_to(root):
            raise InputError(f"the site directory {outdir} is inside the certificate store "
                             f"{store.root}: its JSON copies would become certificates; "
                             "choose another directory")
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"{outdir} exists and is not a directory")
    if outdir.is_dir() and any(outdir.iterdir()):
        if not (outdir / MARKER).exists():
            raise InputError(f"{outdir} is not empty and was not made by `prover site`; "
                             "choose a new or empty directory")
        for name in _OWNED:   # pages of certificates deleted since must not linger
            target = outdir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / MARKER).write_text("made by `prover site`; its pages are rebuilt in place\n",
                                 encoding="utf-8")


def _raw_text(store: Store, cert_id: str, doc: dict) -> bytes:
    """The stored bytes when the store is a directory; else the canonical text."""
    if isinstance(store, DirectoryStore):
        try:
            return store.path_for(cert_id).read_bytes()
        except OSError:
            pass
    return dumps(doc).encode("utf-8")


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)


def build_site(store: Store, outdir: str | os.PathLike, plots: bool = True,
               log: Callable[[str], None] | None = None) -> SiteReport:
    """Write the static site for every entry of ``store`` into ``outdir``.

    ``outdir`` must be new, empty, or a previous site (which is rebuilt in place).
    With ``plots`` the frontier plots of ``prover.plot`` are drawn once per model; if that
    module is missing or fails, pages say so and the build goes on. Plots are kept in
    ``outdir/plots`` and reused by the next build while their inputs are unchanged.
    ``log`` receives progress messages (drawing plots can take a minute). Raises
    InputError only for an unusable ``outdir``.
    """
    start = time.perf_counter()
    outdir = Path(os.fspath(outdir))
    _prepare(outdir, store)
    report = SiteReport(outdir=outdir, index=outdir / "index.html")

    from . import models as registry
    known: dict[str, object] = {}
    for name in registry.names():
        try:
            known[name] = registry.get(name)
        except Exception as exc:   # one broken model module must not cost the site
            report.warnings.append(f"model {name} could not be loaded: {exc}")
    summaries = {name: getattr(m, "summary", "") for name, m in known.items()}

    docs: list[dict] = []
    for cert_id, entry in store.entries():
        if isinstance(entry, BadEntry):
            report.unreadable.append(entry)
            continue
        try:
            validate_id(cert_id)
        except InputError as exc:
            report.unreadable.append(BadEntry(cert_id, "?", str(exc)))
            continue
        docs.append(entry)

    plot_maker = _Plots(outdir, plots, report, store, docs, log)
    plot_maker.prepare(list(known))
    for name, model in known.items():
        page = f"model/{name}.html"
        certs = [d for d in docs if _model_name(d) == name]
        try:
            text = _model_page(model, page, plot_maker, certs)
        except Exception as exc:
            report.warnings.append(f"model {name}: page failed: {exc}")
            continue
        _write(outdir / page, text)
        report.models.append(name)
        report.pages += 1

    known_names = {m: known[m] for m in report.models}   # pages exist: safe to link
    for doc in docs:
        cert_id = doc["id"]
        page = _cert_path(cert_id)
        raw = f"cert/{cert_id}.json"
        _write(outdir / raw, _raw_text(store, cert_id, doc))
        try:
            text = _cert_page(doc, page, raw, plot_maker, known_names, summaries)
        except Exception as exc:
            report.warnings.append(f"{cert_id}: rendered as raw JSON: {exc}")
            text = _fallback_page(doc, page, raw, exc)
        _write(outdir / page, text)
        report.certificates.append(cert_id)
        report.pages += 1

    _write(report.index, _index_page(docs, report.unreadable, sorted(report.models), summaries))
    report.pages += 1
    report.seconds = time.perf_counter() - start
    return report
