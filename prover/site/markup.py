"""Escaping and the small pieces of HTML every page uses: links, badges, tables, any JSON
value as readable HTML. Every piece of certificate text goes through ``_esc``."""

from __future__ import annotations

import html
import json
import posixpath
from fractions import Fraction
from urllib.parse import quote

from ..record import Trust, Verdict
from ..show import _num

VERDICTS = tuple(v.value for v in Verdict)
TRUSTS = tuple(t.value for t in Trust) + ("none",)


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


def _model_name(cert) -> str:
    return cert.model.name


def _trust(cert) -> str:
    return "none" if cert.trust is None else cert.trust.value


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


def _verdict_badge(cert) -> str:
    verdict = cert.verdict.value
    extra = ""
    if verdict == "valid" and cert.vacuous:
        extra = ' <span class="badge vacuous">vacuous</span>'
    elif verdict == "unknown" and "disagree" in (cert.reason or ""):
        extra = (' <span class="badge vacuous" title="as recorded by the run; `prover verify`'
                 ' does not re-check it">solvers disagree (as recorded)</span>')
    return f'<span class="badge {verdict}">{_esc(verdict)}</span>{extra}'


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
