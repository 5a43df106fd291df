"""Exact plane geometry on rational points: convex hulls, primitive integer normals, and
the faces (supporting lines) of conv(points) + cone(rays)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable

from ..errors import InputError
from .results import Pt


def _cross(o: Pt, a: Pt, b: Pt) -> Fraction:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _cross2(a: Pt, b: Pt) -> Fraction:
    return a[0] * b[1] - a[1] * b[0]


def _dot(a: Pt, b: Pt) -> Fraction:
    return a[0] * b[0] + a[1] * b[1]


def _sub(a: Pt, b: Pt) -> Pt:
    return (a[0] - b[0], a[1] - b[1])


def convex_hull(points: Iterable[Pt]) -> list[Pt]:
    """Vertices of the convex hull, counter-clockwise, no collinear points (Andrew's
    monotone chain, exact); two points for a segment, one for a point."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts
    lower: list[Pt] = []
    for p in pts:
        while len(lower) >= 2 and _cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[Pt] = []
    for p in reversed(pts):
        while len(upper) >= 2 and _cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = lower[:-1] + upper[:-1]
    return hull if len(hull) >= 2 else pts[:1] + pts[-1:]


def primitive_normal(a, b) -> tuple[int, int]:
    """(a, b) scaled to coprime integers with the same direction."""
    a, b = Fraction(a), Fraction(b)
    scale = math.lcm(a.denominator, b.denominator)
    ia, ib = int(a * scale), int(b * scale)
    g = math.gcd(ia, ib) or 1
    return ia // g, ib // g


@dataclass
class _Face:
    normal: tuple[int, int]
    h: Fraction
    start: Pt
    end: Pt | None                     # None: unbounded along ``direction``
    direction: Pt | None = None
    equality: bool = False


def _faces(points: set[Pt], rays: list[Pt]) -> tuple[str, list[Pt], list[_Face]]:
    """Shape, boundary vertices (counter-clockwise) and facets of conv(points) + cone(rays)."""
    hull = convex_hull(points)
    if not rays:
        if len(hull) == 1:
            p = hull[0]
            return "point", hull, [_Face((1, 0), p[0], p, p, equality=True),
                                   _Face((0, 1), p[1], p, p, equality=True)]
        if len(hull) == 2:
            p, q = hull
            n = primitive_normal(q[1] - p[1], p[0] - q[0])
            # the ends: bounds on X (on Y for a vertical segment) touch one end each
            k = 0 if p[0] != q[0] else 1
            unit = (1, 0) if k == 0 else (0, 1)
            lo_first = p[k] < q[k]
            end_p = tuple(-c if lo_first else c for c in unit)
            end_q = tuple(c if lo_first else -c for c in unit)
            return "segment", hull, [
                _Face(n, _dot(n, p), p, q, equality=True),
                _Face(end_p, _dot(end_p, p), p, p),
                _Face(end_q, _dot(end_q, q), q, q)]
        faces = []
        for i, p in enumerate(hull):
            q = hull[(i + 1) % len(hull)]
            n = primitive_normal(q[1] - p[1], p[0] - q[0])
            faces.append(_Face(n, _dot(n, p), p, q))
        return "polygon", hull, faces

    # extreme rays: d_first (clockwise-most) and d_last (counter-clockwise-most)
    def extreme(first: bool):
        for d in rays:
            if all((_cross2(d, e) > 0 if first else _cross2(e, d) > 0)
                   or (_cross2(d, e) == 0 and _dot(d, e) > 0) for e in rays):
                return d
        raise InputError("the region is unbounded in opposite directions (a half-plane, a "
                         "strip or the whole plane); no frontier to draw")
    d1, d2 = extreme(True), extreme(False)
    if _cross2(d1, d2) < 0:
        raise InputError("the region is unbounded in directions spanning more than a "
                         "half-plane; no frontier to draw")

    def touching(n: Pt, along: Pt) -> int:
        best = max(_dot(n, p) for p in hull)
        tied = [i for i, p in enumerate(hull) if _dot(n, p) == best]
        return min(tied, key=lambda i: _dot(along, hull[i]))

    n_out = (d1[1], -d1[0])
    n_in = (-d2[1], d2[0])
    i_in, i_out = touching(n_in, d2), touching(n_out, d1)
    chain = [hull[i_in]]
    i = i_in
    while i != i_out:
        i = (i + 1) % len(hull)
        chain.append(hull[i])
    n = primitive_normal(*n_in)
    faces = [_Face(n, _dot(n, chain[0]), chain[0], None, direction=d2)]
    for p, q in zip(chain, chain[1:]):
        n = primitive_normal(q[1] - p[1], p[0] - q[0])
        faces.append(_Face(n, _dot(n, p), p, q))
    n = primitive_normal(*n_out)
    faces.append(_Face(n, _dot(n, chain[-1]), chain[-1], None, direction=d1))
    return "unbounded", chain, faces
