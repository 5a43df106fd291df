"""The page frame: the CSS, the index's script (with its hash for the
Content-Security-Policy) and ``_page``, which wraps a body into a complete page."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone

from .._version import __version__
from .markup import _esc, _href

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
