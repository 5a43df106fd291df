"""The exact frontier: vertices and edges of the hull, each marked attained or only
approached, with witnesses checked exactly.

A point on a face of the hull is a combination of generators lying on that face only.
So the realized part of a face is the convex hull of the generators' actual points on
it — the open end of a swept segment (u = 0) is not actual — and it needs positive
weight on a component of the model's strict constraint (V_G > 0 in twins: VE alone is
not a genotype–phenotype map). Every vertex and every piece of every edge is marked
attained or approached, and every attained one carries a witness (component values)
that is re-evaluated exactly from the model's statistics before it is reported.
Vertices come out as exact rationals and edges as equations a·X + b·Y = h with a
primitive integer normal.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..errors import InputError
from ..poly import fraction_text
from .geometry import _cross2, _dot, _Face, _faces, _sub
from .linear import _Generator, _LinearFractional
from .results import BoundaryPoint, Edge, Facet, Frontier, Pt, _num
from .text import inequality_text


@dataclass(frozen=True)
class _Interval:
    """A convex subset of the line parameter t: [lo, hi] with flagged ends (hi None: +oo)."""

    lo: Fraction
    hi: Fraction | None
    lo_closed: bool
    hi_closed: bool

    def contains(self, t: Fraction) -> bool:
        above = t > self.lo or (t == self.lo and self.lo_closed)
        below = self.hi is None or t < self.hi or (t == self.hi and self.hi_closed)
        return above and below


def _hull_of(intervals: list[_Interval]) -> _Interval | None:
    if not intervals:
        return None
    lo = min(i.lo for i in intervals)
    his = [i.hi for i in intervals]
    hi = None if any(h is None for h in his) else max(his)
    return _Interval(lo, hi, any(i.lo == lo and i.lo_closed for i in intervals),
                     hi is None or any(i.hi == hi and i.hi_closed for i in intervals))


def _on_face(g: _Generator, face: _Face, param) -> tuple[_Interval, tuple] | None:
    """The generator's actual points on the face line, as an interval of the face
    parameter, with (s at t-low, s at t-high) to rebuild them."""
    f0 = _dot(face.normal, g.lo) - face.h
    f1 = _dot(face.normal, g.hi) - face.h
    if f0 == 0 and f1 == 0 and g.lo != g.hi:
        t0, t1 = param(g.lo), param(g.hi)
        if t0 <= t1:
            return _Interval(t0, t1, g.lo_closed, g.hi_closed), (Fraction(0), Fraction(1))
        return _Interval(t1, t0, g.hi_closed, g.lo_closed), (Fraction(1), Fraction(0))
    for s, f in ((Fraction(0), f0), (Fraction(1), f1)):
        if f == 0 and g.actual(s):
            t = param(g.at(s))
            return _Interval(t, t, True, True), (s, s)
    return None


def _face_attainment(face: _Face, lf: _LinearFractional):
    """The attained part of a face as an interval of its parameter (None: nothing on it
    is attained), and the generators' pieces on it (for witnesses)."""
    start = face.start
    if face.end is not None and face.end != start:
        d = _sub(face.end, start)
    elif face.direction is not None:
        d = face.direction
    else:
        d = None

    def param(p: Pt) -> Fraction:
        return Fraction(0) if d is None else _dot(_sub(p, start), d) / _dot(d, d)

    on = [(g, *r) for g in lf.gens if (r := _on_face(g, face, param)) is not None]
    strict = _hull_of([iv for g, iv, _ in on if g.strict])
    everything = _hull_of([iv for _, iv, _ in on])
    if strict is None:
        return None, on
    lo_closed = strict.lo == everything.lo and strict.lo_closed
    hi = everything.hi
    hi_closed = hi is not None and strict.hi == hi and strict.hi_closed
    if face.end is None and face.direction is not None and any(
            _cross2(r, face.direction) == 0 and _dot(r, face.direction) > 0
            for _, r in lf.rays):
        hi, hi_closed = None, False
    return _Interval(everything.lo, hi, lo_closed, hi_closed), on


def _witness(t: Fraction, on: list, lf: _LinearFractional) -> dict | None:
    """Component values realizing the face point at parameter t: a strict generator's
    point there, or one on each side of t with positive weight on a strict one."""
    def candidates(iv: _Interval, ss: tuple) -> list[tuple[Fraction, Fraction]]:
        """Actual points (t, s) of a generator: its closed ends, points between t and its
        ends, its middle."""
        if iv.lo == iv.hi:
            return [(iv.lo, ss[0])] if iv.lo_closed else []
        ts = [iv.lo, iv.hi, (iv.lo + iv.hi) / 2, (t + iv.lo) / 2, (t + iv.hi) / 2, t]
        return [(u, ss[0] + (u - iv.lo) / (iv.hi - iv.lo) * (ss[1] - ss[0]))
                for u in ts if iv.contains(u)]

    points = [(g, u, s) for g, iv, ss in on for u, s in candidates(iv, ss)]
    for g, tx, sx in points:
        if g.strict and tx == t:
            return _complete(g.values(sx, Fraction(1), lf), lf)
    for g, tx, sx in points:
        if not g.strict:
            continue
        for h, ty, sy in points:
            if (ty - t) * (tx - t) < 0:
                lam = (ty - t) / (ty - tx)          # lam*tx + (1 - lam)*ty = t
                vals = g.values(sx, lam, lf)
                for k, v in h.values(sy, 1 - lam, lf).items():
                    vals[k] = vals.get(k, Fraction(0)) + v
                return _complete(vals, lf)
    return None


def _complete(values: dict, lf: _LinearFractional) -> dict:
    out = {k: values.get(k, Fraction(0)) for k in lf.components}
    for v, dom in lf.domains.items():
        out[v] = values.get(v, dom.inside())
    return out

def _exact_frontier(inst, lf: _LinearFractional, ex, ey, x: str, y: str) -> Frontier:
    points = {p for g in lf.gens for p in (g.lo, g.hi)}
    rays = [d for _, d in lf.rays]
    if not points:
        raise InputError("no component has a positive denominator: X and Y are undefined")
    shape, hull, faces = _faces(points, rays)

    def vertex(p: Pt) -> BoundaryPoint:
        on = []
        for g in lf.gens:
            for s in (Fraction(0), Fraction(1)):
                if g.at(s) == p and g.actual(s):
                    on.append((g, _Interval(Fraction(0), Fraction(0), True, True), (s, s)))
        attained = any(g.strict for g, _, _ in on)
        wit = _witness(Fraction(0), on, lf) if attained else None
        return BoundaryPoint(p[0], p[1], attained, "vertex", wit)

    vertices = {p: vertex(p) for p in hull}
    fr = Frontier(model=inst.model.name, params=inst.params, x=x, y=y, exact=True,
                  shape=shape, vertices=[vertices[p] for p in hull], rays=rays,
                  irrelevant=list(lf.irrelevant))
    fr.generators = {g.component: ({"point": [_num(g.lo[0]), _num(g.lo[1])]}
                                   if g.lo == g.hi else
                                   {"from": [_num(g.lo[0]), _num(g.lo[1])],
                                    "to": [_num(g.hi[0]), _num(g.hi[1])],
                                    "as": f"{g.var} from {fraction_text(g.u_lo)} "
                                          f"({'closed' if g.lo_closed else 'open'}) to "
                                          f"{fraction_text(g.u_hi)} "
                                          f"({'closed' if g.hi_closed else 'open'})"})
                     for g in lf.gens}
    fr.generators.update({k: {"direction": [_num(d[0]), _num(d[1])]} for k, d in lf.rays})

    for index, face in enumerate(faces):
        att, on = _face_attainment(face, lf)
        length = None if face.end is None else (Fraction(1) if face.end != face.start
                                                else Fraction(0))
        if att is None:
            status = "none"
        elif att.lo == 0 and att.lo_closed and (
                (length is None and att.hi is None) or
                (length is not None and att.hi == length and att.hi_closed)):
            status = "all"
        else:
            status = "part"
        formula = inequality_text(face.normal[0], face.normal[1], face.h, x, y,
                                  "==" if face.equality else "<=")
        fr.facets.append(Facet(face.normal[0], face.normal[1], face.h, formula,
                               face.equality, status))
        if length == 0 or (shape == "segment" and not face.equality) or shape == "point":
            continue                      # a facet touching the region at one vertex
        # cut the face [0, length] (length None: [0, oo)) into uniform pieces
        d = _sub(face.end, face.start) if face.end is not None else face.direction

        def at(t: Fraction) -> Pt:
            return (face.start[0] + t * d[0], face.start[1] + t * d[1])

        def point(t: Fraction, closed: bool) -> BoundaryPoint:
            p = at(t)
            if p in vertices:
                return vertices[p]
            return BoundaryPoint(p[0], p[1], closed, "break",
                                 _witness(t, on, lf) if closed else None)

        cuts: list[tuple[Fraction, Fraction | None, bool]] = []   # (t0, t1, attained)
        end_t = length
        if att is None:
            cuts.append((Fraction(0), end_t, False))
        else:
            if att.lo > 0:
                cuts.append((Fraction(0), att.lo, False))
            if att.hi is None or att.hi > att.lo:
                cuts.append((att.lo, att.hi, True))
            if att.hi is not None and (end_t is None or att.hi < end_t):
                cuts.append((att.hi, end_t, False))
        for t0, t1, attained in cuts:
            p0 = point(t0, att is not None and att.contains(t0))
            if t1 is None:
                fr.edges.append(Edge(p0, None, index, attained, direction=d))
                continue
            p1 = point(t1, att is not None and att.contains(t1))
            wit = _witness((t0 + t1) / 2, on, lf) if attained else None
            fr.edges.append(Edge(p0, p1, index, attained, witness=wit))
    _check_witnesses(inst, fr, ex, ey)
    if rays:
        fr.notes.append("unbounded: components outside the denominator move (X, Y) along "
                        + ", ".join(f"({fraction_text(a)}, {fraction_text(b)})"
                                    for a, b in rays))
    return fr


def witness_point(inst, values: dict, ex, ey) -> Pt | None:
    """Where the component values ``values`` land, (X, Y) evaluated exactly from the
    instance's statistics, or None when they are not a member (a constraint fails)."""
    from ..evaluate import ExactEvaluator
    from ..formula import holds
    if not all(holds(a, values) for a in inst.constraints):
        return None
    ev = ExactEvaluator(inst, values)
    return ev.term(ex), ev.term(ey)


def _check_witnesses(inst, fr: Frontier, ex, ey) -> None:
    """Every witness is re-evaluated from the model's statistics: it must be a member of
    the family (constraints hold) and land exactly on its point."""
    def check(values: dict, expected: Pt, what: str):
        got = witness_point(inst, values, ex, ey)
        if got is None:
            raise AssertionError(f"witness of {what} violates the model's constraints")
        if got != expected:
            raise AssertionError(f"witness of {what} gives {got}, not {expected}")

    for p in fr.vertices + fr.breaks():
        if p.attained:
            if p.witness is None:
                raise AssertionError(f"attained point {p.point} has no witness")
            check(p.witness, p.point, f"vertex {p.point}")
    for e in fr.edges:
        if e.attained and e.end is not None:
            if e.witness is None:
                raise AssertionError(f"attained edge {e.start.point}-{e.end.point} has no "
                                     "witness")
            mid = ((e.start.x + e.end.x) / 2, (e.start.y + e.end.y) / 2)
            check(e.witness, mid, f"edge {e.start.point}-{e.end.point}")
