"""Frontiers in words: bounds as formulas (``r2 >= s2/2``, ``h2 <= 2*rDZ``), points as
``(1/2, 1/4)``, and ``describe``, the human-readable account ``prover frontier`` prints."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import TYPE_CHECKING

from ..poly import fraction_text

if TYPE_CHECKING:
    from .results import Frontier


def _atom_text(name: str) -> str:
    """The axis text, parenthesized unless it is a single name or number."""
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|\d+(/\d+)?", name) else f"({name})"


def linear_text(c1: Fraction, c0: Fraction, x: str) -> str:
    """``c1*x + c0`` with exact coefficients over one denominator: ``(16*(rDZ/rMZ) - 1)/7``,
    ``s2/2``, ``4*(rDZ/rMZ) - 1``."""
    c1, c0 = Fraction(c1), Fraction(c0)
    q = math.lcm(c1.denominator, c0.denominator)
    p1, p0 = int(c1 * q), int(c0 * q)
    xt = _atom_text(x)
    parts = []
    if p1 < 0 and p0 > 0:          # 15 - 7*h2 rather than -7*h2 + 15
        parts = [str(p0), f"- {xt}" if p1 == -1 else f"- {-p1}*{xt}"]
    else:
        if p1:
            parts.append(xt if p1 == 1 else f"-{xt}" if p1 == -1 else f"{p1}*{xt}")
        if p0 or not parts:
            parts.append(f"+ {p0}" if parts and p0 > 0 else f"- {-p0}" if parts else str(p0))
    inner = " ".join(parts)
    if q == 1:
        return inner
    if len(parts) == 1:
        if p1 == 0:
            return fraction_text(c0)
        return f"{inner}/{q}"
    return f"({inner})/{q}"


_FLIP = {"<=": ">=", ">=": "<=", "<": ">", ">": "<", "==": "=="}


SHORT_DENOMINATOR = 10 ** 4


def bound_display(b, x: str, y: str) -> str:
    """A proved bound as a person reads it: its claim, or — when its numbers are huge
    rationals — the same inequality with short decimals (the exact values stay in the
    JSON and the certificate)."""
    if all(Fraction(v).denominator <= SHORT_DENOMINATOR and
           abs(Fraction(v).numerator) < SHORT_DENOMINATOR ** 2 for v in (b.a, b.b, b.h)):
        return b.claim
    a, bb, h = Fraction(b.a), Fraction(b.b), Fraction(b.h)
    if bb != 0:
        lhs, c1, c0, flip = y, -a / bb, h / bb, bb < 0
    else:
        lhs, c1, c0, flip = x, Fraction(0), h / a, a < 0
    rel = ">=" if flip else "<="
    if c1 == 0:
        return f"{lhs} {rel} {float(c0):.6g} (approx.)"
    sign = "-" if c0 < 0 else "+"
    return f"{lhs} {rel} {float(c1):.6g}*{x} {sign} {abs(float(c0)):.6g} (approx.)"


def inequality_text(a, b, h, x: str, y: str, rel: str = "<=",
                    shift: Fraction = Fraction(0)) -> str:
    """a·X + b·Y REL h solved for Y (for X when b = 0); ``shift`` moves the bound by that
    much towards the region's inside (a strengthened claim)."""
    a, b, h, shift = Fraction(a), Fraction(b), Fraction(h), Fraction(shift)
    if b != 0:
        lhs, c1, c0 = y, -a / b, h / b
        out_rel = rel if b > 0 else _FLIP[rel]
    else:
        lhs, c1, c0 = x, Fraction(0), h / a
        out_rel = rel if a > 0 else _FLIP[rel]
    shift = -shift if out_rel in ("<=", "<") else shift
    if c1 == 0:
        return f"{lhs} {out_rel} {fraction_text(c0 + shift)}"
    rhs = linear_text(c1, c0, x)
    if shift:
        rhs += f" {'-' if shift < 0 else '+'} {fraction_text(abs(shift))}"
    return f"{lhs} {out_rel} {rhs}"


def equation_text(a, b, h, x: str, y: str, rel: str = "<=") -> str:
    """``a*X + b*Y REL h`` as written (no solving)."""
    parts = []
    for c, name in ((a, x), (b, y)):
        if c:
            t = _atom_text(name)
            term = t if abs(c) == 1 else f"{abs(c)}*{t}"
            parts.append(("- " if c < 0 else "+ ") + term if parts else
                         ("-" if c < 0 else "") + term)
    return f"{' '.join(parts)} {rel} {fraction_text(Fraction(h))}"


def _pt_text(p) -> str:
    return f"({_short(p[0])}, {_short(p[1])})"


def _short(v) -> str:
    return fraction_text(v) if isinstance(v, Fraction) and v.denominator < 10 ** 6 \
        else f"{float(v):.6g}"


def describe(fr: Frontier) -> str:
    """A human-readable account of a frontier."""
    head = (f"Frontier of ({fr.x}, {fr.y}) under {fr.model} "
            f"({', '.join(f'{k} = {v}' for k, v in fr.params.items()) or 'defaults'})")
    lines = [head, ""]
    if fr.exact:
        lines.append(f"Exact ({fr.shape}). Vertices:")
        for v in fr.vertices:
            how = "attained" if v.attained else "only approached"
            wit = ""
            if v.witness:
                wit = "  by " + ", ".join(f"{k} = {fraction_text(val)}"
                                          for k, val in v.witness.items() if val)
            lines.append(f"  {_pt_text(v.point):24} {how}{wit}")
        for b in fr.breaks():
            lines.append(f"  {_pt_text(b.point):24} break: "
                         f"{'attained' if b.attained else 'not attained'}")
        lines.append("Boundary:")
        for e in fr.edges:
            f = fr.facets[e.facet]
            to = _pt_text(e.end.point) if e.end else f"infinity along {_pt_text(e.direction)}"
            how = "attained" if e.attained else "only approached"
            lines.append(f"  {f.formula:36} from {_pt_text(e.start.point)} to {to}: {how}")
        if fr.shape in ("segment", "point"):
            lines.append("Facets:")
            for f in fr.facets:
                lines.append(f"  {f.formula}")
        if fr.irrelevant:
            lines.append("Components that change neither X nor Y: " + ", ".join(fr.irrelevant))
        if fr.theorem is not None:
            th = fr.theorem
            lines.append("Outer side (each side proved, certificate replayed now):")
            for b in fr.bounds:
                lines.append(f"  {b.claim:36} [trust {b.trust}: {b.source}]")
            lines.append(f"Inner side: {th['statement']}.")
            lines.append(f"  Family: {th['family']}.")
            lines.append(f"  Why every point: {th['argument']}.")
            lines.append("  Checked exactly now: " + "; ".join(th["checked"]) + ".")
            lines.append("  Every witness above re-measured by the realizer (exact "
                         "enumeration of all pairs (X, Y)). Gap between inner and outer: 0.")
    else:
        lines.append(f"Approximate: {len(fr.points)} realized points; inner hull "
                     f"{len(fr.inner)} vertices; {len(fr.bounds)} proved bounds.")
        for b in fr.bounds:
            lines.append(f"  proved: {bound_display(b, fr.x, fr.y):36} "
                         f"[trust {b.trust or 'unchecked'}: {b.source}]")
        if fr.pieces:
            lines.append(f"  certified pieces of the curved side ({len(fr.pieces)}):")
        for c in fr.pieces:
            lines.append(f"    {' and '.join(c.assume)} implies {c.claim}"
                         f"{'':4}[trust {c.trust}]")
        gap = "unbounded" if fr.gap is None or math.isinf(fr.gap) else f"{fr.gap:.4g}"
        lines.append(f"Distance between the inner and the outer approximation: {gap}")
    for n in fr.notes:
        lines.append(f"Note: {n}")
    lines.append(f"({fr.seconds:.2f} s)")
    return "\n".join(lines)
