"""The frontier of two statistics under a model: the set of values (X, Y) it allows.

``prover check`` answers "is this inequality true?"; a frontier answers "what is the best
inequality?": the region that (X, Y) — two statistics, or expressions in them such as
``rDZ/rMZ`` or ``1 - s2`` — can occupy over the whole family, which parts of its boundary
are attained, and conjecture files that pin every part of it down (``emit``).

EXACT CASE. When X and Y are linear-fractional in the model's nonnegative components with
one common denominator — X = a·v / b·v and Y = c·v / b·v, as ``rDZ/rMZ`` = covDZ/V_G and
``s2`` = VA/V_G are in ``twins``, or ``s2``, ``r2`` in ``multilinear`` — normalising
b·v = 1 writes (X, Y) as the convex combination sum_k (b_k v_k) p_k of the per-component
points p_k = (a_k, c_k)/b_k. So the closure of the region is the convex hull of those
points, plus the cone of the directions (a_k, c_k) of components the denominator does not
see (b_k = 0): the region is then unbounded. A component whose coefficients depend on an
internal variable of the model (multilinear's tail share u in (0, 1/32]) contributes the
segment its point sweeps. The model's proof side must be exact for this (no ``concrete``
twin): every point of the encoding is a member of the family. Vertices come out as exact
rationals and edges as equations a·X + b·Y = h with a primitive integer normal.

Attained or only approached. A point on a face of the hull is a combination of
generators lying on that face only. So the realized part of a face is the convex hull of
the generators' actual points on it — the open end of a swept segment (u = 0) is not
actual — and it needs positive weight on a component of the model's strict constraint
(V_G > 0 in twins: VE alone is not a genotype–phenotype map). Every vertex and every piece
of every edge is marked attained or approached, and every attained one carries a witness
(component values) that is re-evaluated exactly from the model's statistics before it is
reported.

APPROXIMATE CASE. Otherwise (square roots, different denominators, a relaxed proof side
such as ``gaussian``'s): an inner approximation — the convex hull of points realized by
sampling the model's (concrete) variables and improving them along many directions, each
point evaluated exactly from the statistics' definitions — and an outer one — half-planes
a·X + b·Y <= h proved by the solver on the same encoding ``prover check`` uses (tried at
the inner hull's supporting lines, loosened until proved) and valid certificates from the
store — with the Hausdorff distance between the two.

EMISSION. ``emit(frontier, directory)`` writes one conjecture file per boundary edge
(expect valid), a variant with the constant strengthened by a small rational for every
edge and every attained vertex (expect refuted: the bound is tight), and strict versions
for every part that is only approached (expect valid: it is not attained).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterable

from . import expr as E
from . import models
from .errors import ExprError, InputError
from .poly import Poly, fraction_text

Pt = tuple[Fraction, Fraction]

# how much a tightness variant strengthens a bound; 1/16 is also a margin the
# counterexample search tries, so it finds points on the bound itself, where the violation
# is the whole 1/16 and a simulation confirms it quickly
DEFAULT_EPSILON = Fraction(1, 16)
DEFAULT_SAMPLES = 400
DEFAULT_DIRECTIONS = 24


# --- results ------------------------------------------------------------------------------

@dataclass(frozen=True)
class BoundaryPoint:
    """A vertex of the region, or a break on an edge where attainment changes."""

    x: Fraction
    y: Fraction
    attained: bool
    kind: str = "vertex"                       # 'vertex' | 'break'
    witness: dict[str, Fraction] | None = None  # component values realizing it

    @property
    def point(self) -> Pt:
        return (self.x, self.y)


@dataclass(frozen=True)
class Facet:
    """A supporting line of the region: a·X + b·Y <= h on the region, with equality on
    the face (or a·X + b·Y == h everywhere when ``equality``)."""

    a: int
    b: int
    h: Fraction
    formula: str
    equality: bool = False
    attained: str = "all"       # of the face: 'all' | 'part' | 'none'


@dataclass(frozen=True)
class Edge:
    """A piece of the boundary on one facet, attained or approached throughout its
    relative interior; ``end`` is None (and ``direction`` set) for an unbounded piece."""

    start: BoundaryPoint
    end: BoundaryPoint | None
    facet: int
    attained: bool
    direction: Pt | None = None
    witness: dict[str, Fraction] | None = None


@dataclass(frozen=True)
class Bound:
    """A proved half-plane a·X + b·Y <= h (the outer approximation)."""

    a: Fraction
    b: Fraction
    h: Fraction
    claim: str
    source: str                 # 'z3' or 'store:<certificate id>'
    trust: str | None = None


@dataclass
class Frontier:
    """The region of (X, Y) under one model instance: exact (vertices, facets, edges
    marked attained or approached) or approximate (realized points, proved bounds)."""

    model: str
    params: dict
    x: str
    y: str
    exact: bool
    shape: str                  # 'point' | 'segment' | 'polygon' | 'unbounded' | 'approximate'
    vertices: list[BoundaryPoint] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    facets: list[Facet] = field(default_factory=list)
    rays: list[Pt] = field(default_factory=list)
    irrelevant: list[str] = field(default_factory=list)   # components X and Y ignore
    generators: dict[str, dict] = field(default_factory=dict)   # exact: each component's
    # point (or swept segment, or direction) in the plane
    inner: list[Pt] = field(default_factory=list)       # approximate: realized hull
    points: list[Pt] = field(default_factory=list)      # approximate: realized points
    bounds: list[Bound] = field(default_factory=list)   # approximate: proved half-planes
    outer: list[Pt] | None = None                       # approximate: outer polygon
    best: dict[str, list[Pt]] = field(default_factory=dict)  # approximate: least and
    # greatest realized Y across X ('lowest', 'highest')
    gap: float | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def breaks(self) -> list[BoundaryPoint]:
        seen, out = set(), []
        for e in self.edges:
            for p in (e.start, e.end):
                if p is not None and p.kind == "break" and p.point not in seen:
                    seen.add(p.point)
                    out.append(p)
        return out

    def to_json(self) -> dict:
        def pt(p):
            return [_num(p[0]), _num(p[1])]

        def bpoint(p: BoundaryPoint):
            d = {"x": _num(p.x), "y": _num(p.y), "attained": p.attained, "kind": p.kind}
            if p.witness is not None:
                d["witness"] = {k: _num(v) for k, v in p.witness.items()}
            return d

        out = {
            "model": self.model, "params": self.params, "x": self.x, "y": self.y,
            "exact": self.exact, "shape": self.shape,
            "vertices": [bpoint(v) for v in self.vertices],
            "breaks": [bpoint(v) for v in self.breaks()],
            "facets": [{"a": f.a, "b": f.b, "h": _num(f.h), "formula": f.formula,
                        "equation": equation_text(f.a, f.b, f.h, self.x, self.y,
                                                  "==" if f.equality else "<="),
                        "equality": f.equality, "attained": f.attained}
                       for f in self.facets],
            "edges": [{"from": pt(e.start.point), "to": pt(e.end.point) if e.end else None,
                       "direction": pt(e.direction) if e.direction else None,
                       "facet": e.facet, "formula": self.facets[e.facet].formula,
                       "attained": e.attained,
                       **({"witness": {k: _num(v) for k, v in e.witness.items()}}
                          if e.witness else {})}
                      for e in self.edges],
            "rays": [pt(r) for r in self.rays],
            "generators": self.generators,
            "irrelevant_components": self.irrelevant,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }
        if not self.exact:
            out["inner"] = {"hull": [pt(p) for p in self.inner],
                            "points": len(self.points),
                            "best": {k: [pt(p) for p in v] for k, v in self.best.items()}}
            out["outer"] = {"bounds": [{"a": _num(b.a), "b": _num(b.b), "h": _num(b.h),
                                        "claim": b.claim, "source": b.source,
                                        "trust": b.trust} for b in self.bounds],
                            "polygon": [pt(p) for p in self.outer] if self.outer else None}
            out["gap"] = None if self.gap is None or math.isinf(self.gap) else round(self.gap, 6)
        return out


def _num(v) -> str | float:
    return fraction_text(v) if isinstance(v, (Fraction, int)) else float(v)


# --- the entry point ----------------------------------------------------------------------

def frontier(model_name: str, x: str, y: str, params: dict | None = None, *,
             store=None, prove: bool = True, samples: int = DEFAULT_SAMPLES,
             directions: int = DEFAULT_DIRECTIONS, timeout: float | None = None,
             seed: int = 20261127) -> Frontier:
    """The region of (X, Y) under ``model_name`` with ``params``: exact when X and Y are
    linear-fractional with a common denominator over an exact proof side, else an inner
    and an outer approximation (``prove`` runs the solver for the outer one; ``store`` —
    a Store or a directory — adds its valid certificates)."""
    start = time.perf_counter()
    model = models.get(model_name)
    params = model.validate_params(params or {})
    inst = model.build(params)
    ex, ey = _parse_axis(inst, x, "X"), _parse_axis(inst, y, "Y")
    x, y = x.strip(), y.strip()
    lf = _linear_fractional(inst, ex, ey)
    if isinstance(lf, _LinearFractional) and (lf.rays and _degenerate_with_rays(lf)):
        lf = "the region is a half-line or line (degenerate and unbounded)"
    if isinstance(lf, _LinearFractional):
        fr = _exact_frontier(inst, lf, ex, ey, x, y)
    else:
        fr = _approximate_frontier(inst, ex, ey, x, y, reason=lf, store=store, prove=prove,
                                   samples=samples, directions=directions,
                                   timeout=timeout or 10.0, seed=seed)
    fr.seconds = time.perf_counter() - start
    return fr


def _parse_axis(inst, text: str, which: str) -> E.Expr:
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{which}: give a statistic or an expression in statistics, "
                         f"e.g. {', '.join(list(inst.statistics)[:3])}")
    try:
        e = E.parse_term(text)
        E.check_names(e, inst.names())
    except ExprError as exc:
        m = re.match(r"unknown name '([^']+)'", exc.message)
        if m and m.group(1) in inst.unavailable:
            raise InputError(f"{which} = {text!r}: '{m.group(1)}' is not available here: "
                             f"{inst.unavailable[m.group(1)]}") from None
        raise InputError(f"{which} = {text!r}: {exc.message}") from None
    return e


def parse_params(items: Iterable[str] | None) -> dict:
    """``["max_order=6", "shared_environment=true", "max_degree=inf"]`` -> a params dict
    (integers, booleans and strings as in a conjecture file's [params] table)."""
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise InputError(f"--param {item!r}: write KEY=VALUE, e.g. --param max_order=6")
        if re.fullmatch(r"[+-]?\d+", value):
            out[key] = int(value)
        elif value.lower() in ("true", "false"):
            out[key] = value.lower() == "true"
        else:
            out[key] = value.strip("\"'")
    return out


# --- linear-fractional structure ----------------------------------------------------------

@dataclass(frozen=True)
class _Domain:
    lo: Fraction
    hi: Fraction
    lo_closed: bool
    hi_closed: bool

    def inside(self) -> Fraction:
        """A value in the domain (its closed upper end when there is one)."""
        if self.hi_closed:
            return self.hi
        if self.lo_closed:
            return self.lo
        return (self.lo + self.hi) / 2


@dataclass(frozen=True)
class _Generator:
    """The points one component contributes: p(s) = lo + s (hi - lo), s in [0, 1], the
    ends included as flagged; ``var`` sweeps from ``u_lo`` to ``u_hi`` meanwhile."""

    component: str
    lo: Pt
    hi: Pt
    lo_closed: bool = True
    hi_closed: bool = True
    strict: bool = True             # the component counts for the strict constraint
    var: str | None = None
    u_lo: Fraction | None = None
    u_hi: Fraction | None = None

    def actual(self, s: Fraction) -> bool:
        return (0 < s < 1) or (s == 0 and self.lo_closed) or (s == 1 and self.hi_closed) \
            or (self.lo == self.hi and (self.lo_closed or self.hi_closed))

    def at(self, s: Fraction) -> Pt:
        return (self.lo[0] + s * (self.hi[0] - self.lo[0]),
                self.lo[1] + s * (self.hi[1] - self.lo[1]))

    def values(self, s: Fraction, weight: Fraction, lf: "_LinearFractional") -> dict:
        """Component values putting ``weight`` of the normalised denominator here."""
        out = {self.component: weight / lf.den[self.component]}
        if self.var is not None:
            out[self.var] = self.u_lo + s * (self.u_hi - self.u_lo)
        return out


@dataclass
class _LinearFractional:
    components: list[str]
    den: dict[str, Fraction]                 # b_k
    gens: list[_Generator]
    rays: list[tuple[str, Pt]]
    irrelevant: list[str]
    domains: dict[str, _Domain]


def _linear_fractional(inst, ex: E.Expr, ey: E.Expr) -> "_LinearFractional | str":
    """X and Y as a·v/b·v and c·v/b·v over the components, or why not."""
    from .encode import Encoder

    if inst.concrete is not None:
        return ("the model's proof side is a relaxation (its points need not be members "
                "of the family), so its image is only an outer bound")
    enc = Encoder(inst)
    try:
        tx, ty = enc.term(ex), enc.term(ey)
    except ExprError as exc:
        raise InputError(f"cannot encode the axes: {exc.message}") from None
    if len(enc.variables) > len(inst.variables):
        return ("X or Y needs an auxiliary variable (a square root, abs, min, max or a "
                "quotient of unknown sign)")
    nx, dx = enc.materialize(tx)
    ny, dy = enc.materialize(ty)
    den_x = enc.den_poly(tuple(dx.items()))
    den_y = enc.den_poly(tuple(dy.items()))
    if den_x.is_constant() or den_y.is_constant():
        return "X or Y is not a ratio (it changes when every component is scaled)"
    mono = next(iter(den_x.terms))
    if mono not in den_y.terms:
        return "X and Y have different denominators"
    c = den_y.terms[mono] / den_x.terms[mono]
    if den_y != den_x.scale(c):
        return "X and Y have different denominators"
    ny = ny.scale(1 / c)

    comps = list(inst.components)
    comp_set = set(comps)
    internal = set(inst.variables) - comp_set

    def linear_in_components(p: Poly, what: str):
        coeffs: dict[str, Poly] = {}
        for m, coef in p.terms.items():
            inside = [(n, e) for n, e in m if n in comp_set]
            if len(inside) != 1 or inside[0][1] != 1:
                return f"{what} is not linear and homogeneous in the components"
            rest = tuple((n, e) for n, e in m if n not in comp_set)
            k = inside[0][0]
            coeffs[k] = coeffs.get(k, Poly.const(0)) + Poly({rest: coef})
        return coeffs

    den = linear_in_components(den_x, "the denominator")
    if isinstance(den, str):
        return den
    if any(not p.is_constant() or p.constant_value() < 0 for p in den.values()):
        return "the denominator's coefficients are not nonnegative constants"
    num_x = linear_in_components(nx, "X's numerator")
    num_y = linear_in_components(ny, "Y's numerator")
    for r in (num_x, num_y):
        if isinstance(r, str):
            return r

    # constraints: components >= 0, one strict support sum > 0, internal variable ranges
    nonneg, strict_sets, bounds = set(), [], {}
    for atom in inst.constraints:
        p, vars_ = atom.poly, atom.poly.variables()
        if vars_ <= comp_set and p.degree() == 1 and p.constant_value() == 0 \
                and all(c > 0 for c in p.terms.values()):
            if len(vars_) == 1 and atom.rel == ">=":
                nonneg |= vars_
                continue
            if atom.rel == ">":
                strict_sets.append(vars_)
                continue
        if vars_ <= internal and len(vars_) == 1 and p.degree() == 1 and atom.rel != "==":
            (v,) = vars_
            a, b = p.terms.get(((v, 1),), Fraction(0)), p.constant_value()
            bounds.setdefault(v, []).append((a, b, atom.rel == ">"))
            continue
        return f"the model constraint {atom} is not of the supported kinds"
    if set(comps) - nonneg:
        return f"components of unknown sign: {', '.join(sorted(set(comps) - nonneg))}"
    if len(strict_sets) > 1:
        return "more than one strict constraint on the components"
    strict = strict_sets[0] if strict_sets else {k for k in comps if den.get(k)}

    domains: dict[str, _Domain] = {}
    for v in internal:
        lo = hi = None
        lo_closed = hi_closed = True
        for a, b, is_strict in bounds.get(v, []):
            bound = -b / a          # a*v + b REL 0
            if a > 0 and (lo is None or bound > lo or (bound == lo and is_strict)):
                lo, lo_closed = bound, not is_strict
            elif a < 0 and (hi is None or bound < hi or (bound == hi and is_strict)):
                hi, hi_closed = bound, not is_strict
        if lo is None or hi is None or lo > hi:
            return f"the internal variable {v} has no bounded range"
        domains[v] = _Domain(lo, hi, lo_closed, hi_closed)

    gens, rays, irrelevant = [], [], []
    owner: dict[str, str] = {}
    for k in comps:
        px = num_x.get(k, Poly.const(0))
        py = num_y.get(k, Poly.const(0))
        used = (px.variables() | py.variables()) & internal
        for v in used:
            if v in owner and owner[v] != k:
                return f"the internal variable {v} is shared by {owner[v]} and {k}"
            owner[v] = k
        if len(used) > 1 or px.degree() > 1 or py.degree() > 1:
            return f"{k}'s point is not affine in one internal variable"
        b = den.get(k, Poly.const(0)).constant_value()
        if b == 0:
            if used:
                return f"{k} is an unbounded direction that depends on {used.pop()}"
            d = (px.constant_value(), py.constant_value())
            if d == (0, 0):
                irrelevant.append(k)
            else:
                rays.append((k, d))
            continue
        if not used:
            p = (px.constant_value() / b, py.constant_value() / b)
            gens.append(_Generator(k, p, p, strict=k in strict))
            continue
        (v,) = used
        dom = domains[v]

        def point(u):
            return (px.evaluate({v: u}) / b, py.evaluate({v: u}) / b)

        gens.append(_Generator(k, point(dom.lo), point(dom.hi), dom.lo_closed,
                               dom.hi_closed, k in strict, v, dom.lo, dom.hi))
    if any(k in strict for k, _ in rays):
        return "a component of the strict constraint is not in the denominator"
    return _LinearFractional(comps, {k: den[k].constant_value() for k in den},
                             gens, rays, irrelevant, domains)


def _degenerate_with_rays(lf: _LinearFractional) -> bool:
    pts = {p for g in lf.gens for p in (g.lo, g.hi)}
    hull = convex_hull(pts)
    if len(hull) > 2:
        return False
    dirs = [d for _, d in lf.rays]
    base = (hull[1][0] - hull[0][0], hull[1][1] - hull[0][1]) if len(hull) == 2 else dirs[0]
    return all(_cross2(base, d) == 0 for d in dirs)


# --- exact geometry -----------------------------------------------------------------------

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


# --- attainment on a face -----------------------------------------------------------------

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


# --- the exact frontier -------------------------------------------------------------------

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


def _check_witnesses(inst, fr: Frontier, ex, ey) -> None:
    """Every witness is re-evaluated from the model's statistics: it must be a member of
    the family (constraints hold) and land exactly on its point."""
    from .evaluate import ExactEvaluator
    from .formula import holds

    def check(values: dict, expected: Pt, what: str):
        if not all(holds(a, values) for a in inst.constraints):
            raise AssertionError(f"witness of {what} violates the model's constraints")
        ev = ExactEvaluator(inst, values)
        got = (ev.term(ex), ev.term(ey))
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


# --- formulas -----------------------------------------------------------------------------

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


# --- describing a frontier ----------------------------------------------------------------

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
    else:
        lines.append(f"Approximate: {len(fr.points)} realized points; inner hull "
                     f"{len(fr.inner)} vertices; {len(fr.bounds)} proved bounds.")
        for b in fr.bounds:
            lines.append(f"  proved: {b.claim:36} [{b.source}]")
        gap = "unbounded" if fr.gap is None or math.isinf(fr.gap) else f"{fr.gap:.4g}"
        lines.append(f"Distance between the inner and the outer approximation: {gap}")
    for n in fr.notes:
        lines.append(f"Note: {n}")
    lines.append(f"({fr.seconds:.2f} s)")
    return "\n".join(lines)


# --- emitting conjectures -----------------------------------------------------------------

def _toml_value(v) -> str:
    import json
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v), ensure_ascii=False)


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
    return s or "x"


def frontier_id(fr: Frontier) -> str:
    params = "-".join(f"{_slug(k)}{_slug(str(v))}" for k, v in sorted(fr.params.items())
                      if k in ("max_order", "max_degree", "degree", "dim", "atoms"))
    return f"frontier/{fr.model}-{_slug(fr.x)}-{_slug(fr.y)}" + (f"-{params}" if params else "")


@dataclass(frozen=True)
class EmittedConjecture:
    name: str
    title: str
    claim: str
    expect: str
    assume: tuple[str, ...] = ()


def conjectures(fr: Frontier, epsilon: Fraction = DEFAULT_EPSILON) -> list[EmittedConjecture]:
    """The conjectures that pin the frontier down (see the module docstring)."""
    eps = Fraction(epsilon)
    out: list[EmittedConjecture] = []
    x, y = fr.x, fr.y
    if not fr.exact:
        for i, b in enumerate(fr.bounds, 1):
            out.append(EmittedConjecture(f"bound-{i}", f"Proved bound on ({x}, {y})",
                                         b.claim, "valid"))
        return out
    # components that change neither X nor Y are pinned to 0 in the tightness variants:
    # no witness is lost, and the realizer's estimates get less noisy
    pin = tuple(f"{k} == 0" for k in fr.irrelevant)
    for i, f in enumerate(fr.facets, 1):
        rel = "==" if f.equality else "<="
        where = _face_text(fr, i - 1)
        out.append(EmittedConjecture(f"facet-{i}", f"Frontier {where}: {f.formula}",
                                     f.formula, "valid"))
        if not f.equality:
            tight = inequality_text(f.a, f.b, f.h, x, y, rel, shift=eps)
            out.append(EmittedConjecture(
                f"facet-{i}-tight", f"The bound {f.formula} is tight: it cannot be "
                f"strengthened by {fraction_text(eps)}", tight, "refuted", pin))
    # approached pieces of edges: the strict inequality holds there (an end where the
    # face goes on — a break, or a vertex that is attained — is excluded by assumption)
    for j, e in enumerate(fr.edges, 1):
        if e.attained or (e.end is not None and e.end.point == e.start.point):
            continue
        f = fr.facets[e.facet]
        axis, k = (x, 0) if f.b != 0 else (y, 1)
        if e.end is not None:
            low, high = sorted((e.start, e.end), key=lambda p: p.point[k])
        else:
            low, high = (e.start, None) if e.direction[k] > 0 else (None, e.start)
        assume = []
        for p, rel in ((low, ">"), (high, "<")):
            if p is not None and (p.attained or p.kind == "break"):
                assume.append(f"{_atom_text(axis)} {rel} {fraction_text(p.point[k])}")
        to = _pt_text(e.end.point) if e.end else "infinity"
        out.append(EmittedConjecture(
            f"edge-{j}-strict", f"The bound {f.formula} is only approached between "
            f"{_pt_text(e.start.point)} and {to}",
            inequality_text(f.a, f.b, f.h, x, y, "<"), "valid", tuple(assume)))
    # vertices: a supporting line through the vertex alone (the sum of its facets' normals)
    for j, v in enumerate(fr.vertices, 1):
        normal = _vertex_normal(fr, v)
        if normal is None:
            continue
        h = normal[0] * v.x + normal[1] * v.y
        if v.attained:
            claim = inequality_text(normal[0], normal[1], h, x, y, "<=", shift=eps)
            out.append(EmittedConjecture(
                f"vertex-{j}-tight", f"The vertex {_pt_text(v.point)} is attained: "
                f"{inequality_text(normal[0], normal[1], h, x, y)} cannot be strengthened "
                f"by {fraction_text(eps)}", claim, "refuted", pin))
        else:
            claim = inequality_text(normal[0], normal[1], h, x, y, "<")
            out.append(EmittedConjecture(
                f"vertex-{j}-strict", f"The vertex {_pt_text(v.point)} is only approached",
                claim, "valid"))
    # a segment's ends are facets and vertices at once: say each thing once
    seen, unique = set(), []
    for c in out:
        if (c.claim, c.assume) not in seen:
            seen.add((c.claim, c.assume))
            unique.append(c)
    return unique


def _face_text(fr: Frontier, index: int) -> str:
    edges = [e for e in fr.edges if e.facet == index]
    if not edges:
        touching = [v for v in fr.vertices
                    if fr.facets[index].a * v.x + fr.facets[index].b * v.y == fr.facets[index].h]
        return "at " + ", ".join(_pt_text(v.point) for v in touching)
    first, last = edges[0], edges[-1]
    to = _pt_text(last.end.point) if last.end else "infinity"
    return f"edge from {_pt_text(first.start.point)} to {to}"


def _vertex_normal(fr: Frontier, v: BoundaryPoint) -> tuple[int, int] | None:
    """A normal whose supporting line meets the region at ``v`` only."""
    normals = [(f.a, f.b) for f in fr.facets
               if not f.equality and f.a * v.x + f.b * v.y == f.h]
    if fr.shape == "segment":
        return normals[0] if normals else None
    if len(normals) < 2:
        return None
    s = (sum(n[0] for n in normals), sum(n[1] for n in normals))
    return None if s == (0, 0) else primitive_normal(*s)


def emit(fr: Frontier, directory, epsilon: Fraction = DEFAULT_EPSILON) -> list[Path]:
    """Write the frontier's conjectures as TOML files in ``directory``; returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    base = frontier_id(fr)
    paths = []
    params = "\n".join(f"{k} = {_toml_value(v)}" for k, v in fr.params.items())
    for c in conjectures(fr, epsilon):
        lines = [f"# written by `prover frontier {fr.model} {fr.x!r} {fr.y!r}`: "
                 f"{'exact' if fr.exact else 'approximate'} frontier",
                 f"id = {_toml_value(base + '/' + c.name)}",
                 f"title = {_toml_value(c.title)}",
                 f"model = {_toml_value(fr.model)}",
                 f"claim = {_toml_value(c.claim)}"]
        if c.assume:
            lines.append("assume = [" + ", ".join(_toml_value(a) for a in c.assume) + "]")
        lines.append(f"expect = {_toml_value(c.expect)}")
        if params:
            lines += ["", "[params]", params]
        path = directory / f"{c.name}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


# --- the command line ---------------------------------------------------------------------

def run_command(args, out=print, store=None) -> int:
    """``prover frontier MODEL X Y``: what ``cli.cmd_frontier`` runs. ``args`` has
    model, x, y, param (list of KEY=VALUE), json, plot (list of files), emit (a
    directory or None), epsilon (text), no_prove, timeout; ``store`` is the certificate
    store (its counterexamples are plotted, its valid bounds join approximate
    frontiers). Raises InputError on bad input (exit 2 at the edge); returns 0."""
    import json

    from .limits import number_problem
    from .store import read_number

    try:    # bounded: Fraction("1e99999999") would build a hundred-million-digit integer
        epsilon = read_number(str(getattr(args, "epsilon", None) or DEFAULT_EPSILON))
    except (ValueError, ZeroDivisionError):
        raise InputError(f"--epsilon {args.epsilon!r}: give a positive rational such as "
                         "1/16") from None
    if number_problem(epsilon):
        raise InputError(f"--epsilon {args.epsilon!r}: {number_problem(epsilon)}")
    if epsilon <= 0:
        raise InputError(f"--epsilon {args.epsilon!r}: give a positive rational such as 1/16")
    fr = frontier(args.model, args.x, args.y, parse_params(args.param), store=store,
                  prove=not getattr(args, "no_prove", False),
                  timeout=getattr(args, "timeout", None))
    written = emit(fr, args.emit, epsilon) if getattr(args, "emit", None) else []
    plots = []
    if getattr(args, "plot", None):
        from .plot import plot_frontier
        plots = [plot_frontier(fr, path, store=store) for path in args.plot]
    if getattr(args, "json", False):
        doc = fr.to_json()
        doc["emitted"] = [str(p) for p in written]
        doc["plots"] = [str(p) for p in plots]
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        out(describe(fr))
        if written:
            out(f"\nwrote {len(written)} conjectures to {args.emit}/ "
                f"(`prover check {args.emit}` checks them)")
        for path in plots:
            out(f"wrote {path}")
    return 0


# --- the approximate frontier -------------------------------------------------------------

class _VecPoly:
    """A polynomial evaluated on a batch of points at once (numpy, floats)."""

    def __init__(self, poly: Poly):
        import numpy as np
        self.names = sorted(poly.variables())
        col = {n: i for i, n in enumerate(self.names)}
        monos = list(poly.terms.items())
        self.coef = np.array([float(c) for _, c in monos])
        self.exps = np.zeros((len(monos), max(1, len(self.names))), dtype=int)
        for r, (m, _) in enumerate(monos):
            for n, e in m:
                self.exps[r, col[n]] = e
        self.top = int(self.exps.max()) if monos else 0
        self.cols = np.broadcast_to(np.arange(self.exps.shape[1]), self.exps.shape)

    def __call__(self, env: dict, size: int):
        import numpy as np
        if not self.names:
            return np.full(size, float(self.coef.sum()))
        x = np.stack([env[n] for n in self.names], axis=1)              # (B, k)
        powers = np.stack([x ** e for e in range(self.top + 1)], axis=2)  # (B, k, top+1)
        return (powers[:, self.cols, self.exps].prod(axis=2) * self.coef).sum(axis=1)


class _IntPoly:
    """A polynomial evaluated exactly in integer arithmetic (much faster than Fractions
    for the big polynomials of the concrete models)."""

    def __init__(self, poly: Poly):
        self.scale = math.lcm(*(c.denominator for c in poly.terms.values())) \
            if poly.terms else 1
        self.terms = [(int(c * self.scale), m, sum(e for _, e in m))
                      for m, c in poly.terms.items()]
        self.top = max((d for _, _, d in self.terms), default=0)

    def __call__(self, values: dict[str, Fraction]) -> Fraction:
        den = math.lcm(*(values[n].denominator for _, m, _ in self.terms for n, _ in m)) \
            if self.terms else 1
        nums = {}
        total = 0
        for c, m, d in self.terms:
            t = c * den ** (self.top - d)
            for n, e in m:
                if n not in nums:
                    nums[n] = values[n].numerator * (den // values[n].denominator)
                t *= nums[n] ** e
            total += t
        return Fraction(total, self.scale * den ** self.top)


def _statistics_used(inst, exprs) -> list[str]:
    """The ratio statistics an expression needs, through expression statistics."""
    out, todo, seen = [], list(exprs), set()
    while todo:
        for name in sorted(E.names(todo.pop())):
            stat = inst.statistics.get(name)
            if stat is None or name in seen:
                continue
            seen.add(name)
            if stat.ratio is not None:
                out.append(name)
            else:
                todo.append(_parsed(stat.expression))
    return out


_PARSED: dict[str, E.Expr] = {}


def _parsed(text: str) -> E.Expr:
    if text not in _PARSED:
        _PARSED[text] = E.parse_term(text)
    return _PARSED[text]


def _vec_term(e: E.Expr, env: dict, inst):
    """An expression on a batch (numpy arrays); undefined entries become nan."""
    import numpy as np
    if isinstance(e, E.Num):
        return float(e.value)
    if isinstance(e, E.Name):
        if e.name not in env:
            stat = inst.statistics[e.name]
            env[e.name] = _vec_term(_parsed(stat.expression), env, inst)
        return env[e.name]
    if isinstance(e, E.Neg):
        return -_vec_term(e.operand, env, inst)
    if isinstance(e, E.BinOp):
        a, b = _vec_term(e.left, env, inst), _vec_term(e.right, env, inst)
        with np.errstate(all="ignore"):
            if e.op == "+":
                return a + b
            if e.op == "-":
                return a - b
            if e.op == "*":
                return a * b
            if e.op == "/":
                return np.where(b != 0, a / np.where(b != 0, b, 1.0), np.nan)
            return np.power(a, b)
    if isinstance(e, E.Call):
        args = [_vec_term(a, env, inst) for a in e.args]
        with np.errstate(all="ignore"):
            if e.func == "sqrt":
                return np.where(args[0] >= 0, np.sqrt(np.abs(args[0])), np.nan)
            if e.func == "abs":
                return np.abs(args[0])
            return (np.minimum if e.func == "min" else np.maximum).reduce(
                np.broadcast_arrays(*args))
    raise TypeError("not a number expression")


class _Sampler:
    """Realizes points of a model instance: free variables sampled in their ranges,
    variables defined by equalities computed from them, every constraint checked exactly.

    Batches of candidates are evaluated in floats (numpy) to search; a point is kept only
    after an exact evaluation at rational values."""

    def __init__(self, inst, ex, ey, rng):
        import numpy as np
        self.inst, self.ex, self.ey, self.rng = inst, ex, ey, rng
        dependent: dict[str, Poly] = {}
        for atom in inst.constraints:
            if atom.rel != "==":
                continue
            for v in sorted(atom.poly.variables()):
                mono = ((v, 1),)
                if v in dependent or mono not in atom.poly.terms:
                    continue
                if any(v in dict(m) for m in atom.poly.terms if m != mono):
                    continue
                c = atom.poly.terms[mono]
                dependent[v] = (atom.poly - Poly.var(v).scale(c)).scale(-1 / c)
                break
            else:
                raise InputError(f"cannot sample the model: the equality {atom} defines no "
                                 "variable")
        self.free = [v for v in inst.variables if v not in dependent]
        resolved, pending, order = set(self.free), dict(dependent), []
        while pending:
            ready = [v for v, p in pending.items() if p.variables() <= resolved]
            if not ready:
                raise InputError("cannot sample the model: circular equalities")
            for v in ready:
                order.append((v, pending.pop(v)))
                resolved.add(v)
        # ranges of the free variables from single-variable constraints (the search-only
        # boxes included: they keep to realizable points)
        lo = np.full(len(self.free), -np.inf)
        hi = np.full(len(self.free), np.inf)
        self.exact_lo: dict[str, tuple[Fraction, bool]] = {}
        self.exact_hi: dict[str, tuple[Fraction, bool]] = {}
        index = {v: i for i, v in enumerate(self.free)}
        for atom in list(inst.constraints) + list(inst.search_constraints):
            vars_ = atom.poly.variables()
            if len(vars_) != 1 or atom.poly.degree() != 1 or atom.rel == "==":
                continue
            (v,) = vars_
            if v not in index:
                continue
            a, b = atom.poly.terms[((v, 1),)], atom.poly.constant_value()
            bound, strict = -b / a, atom.rel == ">"
            i = index[v]
            if a > 0 and bound >= lo[i]:
                lo[i] = float(bound)
                self.exact_lo[v] = (bound, strict)
            elif a < 0 and bound <= hi[i]:
                hi[i] = float(bound)
                self.exact_hi[v] = (bound, strict)
        self.lo, self.hi = lo, hi
        self.order_vec = [(v, _VecPoly(p)) for v, p in order]
        self.order_int = [(v, _IntPoly(p)) for v, p in order]
        self.cons_vec = [(_VecPoly(a.poly), a.rel) for a in inst.constraints]
        self.cons_int = [(_IntPoly(a.poly), a.rel) for a in inst.constraints]
        needed = _statistics_used(inst, [ex, ey])
        self.stats_vec = {n: (_VecPoly(inst.statistics[n].ratio.num),
                              _VecPoly(inst.statistics[n].ratio.den)) for n in needed}
        self.stats_int = {n: (_IntPoly(inst.statistics[n].ratio.num),
                              _IntPoly(inst.statistics[n].ratio.den)) for n in needed}

    def random_batch(self, size: int):
        import numpy as np
        rng = self.rng
        lo = np.where(np.isfinite(self.lo), self.lo, np.where(np.isfinite(self.hi),
                                                              self.hi - 1, -1.0))
        hi = np.where(np.isfinite(self.hi), self.hi, lo + 1.0)
        batch = rng.uniform(lo, hi, size=(size, len(self.free)))
        # sparse points: many members of a family have most components at 0
        zero_ok = (lo <= 0) & (hi >= 0)
        mask = (rng.random((size, len(self.free))) < 0.35) & zero_ok
        return np.where(mask, 0.0, batch)

    def clip(self, batch):
        import numpy as np
        return np.clip(batch, self.lo, self.hi)

    def float_points(self, batch):
        """(X, Y) of each row, nan where the row is not a member of the family."""
        import numpy as np
        size = batch.shape[0]
        env = {v: batch[:, i] for i, v in enumerate(self.free)}
        for v, f in self.order_vec:
            env[v] = f(env, size)
        ok = np.ones(size, dtype=bool)
        for f, rel in self.cons_vec:
            val = f(env, size)
            ok &= (val > 1e-12) if rel == ">" else (val >= -1e-12) if rel == ">=" \
                else (np.abs(val) <= 1e-9)
        with np.errstate(all="ignore"):
            for n, (num, den) in self.stats_vec.items():
                d = den(env, size)
                env[n] = np.where(d != 0, num(env, size) / np.where(d != 0, d, 1.0), np.nan)
        px = np.broadcast_to(_vec_term(self.ex, env, self.inst), (size,))
        py = np.broadcast_to(_vec_term(self.ey, env, self.inst), (size,))
        ok &= np.isfinite(px) & np.isfinite(py)
        return np.where(ok, px, np.nan), np.where(ok, py, np.nan)

    def exact_point(self, row, digits: int = 6) -> tuple[Pt, dict] | None:
        """Rationalize a row, complete it exactly, and evaluate (X, Y) exactly; None when
        the rational point is not a member of the family."""
        from .evaluate import float_term
        step = Fraction(1, 10 ** digits)
        values = {}
        for v, val in zip(self.free, row):
            q = Fraction(float(val)).limit_denominator(10 ** digits)
            if v in self.exact_lo:
                b, strict = self.exact_lo[v]
                if q < b or (q == b and strict):
                    q = b + step if strict else b
            if v in self.exact_hi:
                b, strict = self.exact_hi[v]
                if q > b or (q == b and strict):
                    q = b - step if strict else b
            values[v] = q
        for v, f in self.order_int:
            values[v] = f(values)
        for f, rel in self.cons_int:
            val = f(values)
            if not (val > 0 if rel == ">" else val >= 0 if rel == ">=" else val == 0):
                return None
        env = dict(values)
        for n, (num, den) in self.stats_int.items():
            d = den(values)
            if d == 0:
                return None
            env[n] = num(values) / d
        try:
            px = float_term(self.ex, env, self.inst, exact=True)
            py = float_term(self.ey, env, self.inst, exact=True)
        except (KeyError, ValueError, ZeroDivisionError, OverflowError):
            return None
        if not all(isinstance(v, Fraction) or math.isfinite(v) for v in (px, py)):
            return None
        return (Fraction(px), Fraction(py)), values


def _approximate_frontier(inst, ex, ey, x, y, *, reason, store, prove, samples, directions,
                          timeout, seed, profiles: int = 24) -> Frontier:
    import numpy as np

    concrete = inst.concrete or inst
    fr = Frontier(model=inst.model.name, params=inst.params, x=x, y=y, exact=False,
                  shape="approximate")
    fr.notes.append(f"not exact: {reason}")
    fr.notes.append("the region need not be convex here: the realized points are exact "
                    "members of the family; their convex hull is an inner approximation "
                    "only where the region is convex")
    rng = np.random.default_rng(seed)
    sampler = _Sampler(concrete, ex, ey, rng)
    pool = sampler.random_batch(samples)
    px, py = sampler.float_points(pool)
    keep = np.isfinite(px)
    pool, px, py = pool[keep], px[keep], py[keep]
    realized: list[tuple[Pt, dict]] = []
    if len(pool):
        sampled = pool[:: max(1, len(pool) // 120)]
        objectives = []
        # the convex part of the boundary: along directions ...
        for i in range(directions):
            angle = 2 * math.pi * i / directions
            objectives.append(lambda a, b, c=math.cos(angle), s=math.sin(angle): c * a + s * b)
        # ... and the least and greatest Y at each X (the boundary need not be convex);
        # in order of X, so that each search can start from its neighbour's result
        lo, hi = float(px.min()), float(px.max())
        for j in range(profiles if hi > lo else 0):
            x0 = lo + (hi - lo) * j / (profiles - 1)
            for sign in (1, -1):
                objectives.append(lambda a, b, x0=x0, sign=sign:
                                  sign * b - 400 * (a - x0) ** 2)
        previous: dict[int, object] = {}
        for n, objective in enumerate(objectives):
            # a profile search also starts from its neighbour's result (same side)
            key = (n - directions) % 2 if n >= directions else None
            row = _local_search(sampler, pool, px, py, objective, rng,
                                start=previous.get(key))
            previous[key] = row
            rx, ry = sampler.float_points(row[None, :])
            if np.isfinite(rx[0]):
                pool, px, py = np.vstack([pool, row]), np.append(px, rx), np.append(py, ry)
            if (r := sampler.exact_point(row)) is not None:
                realized.append(r)
        for row in sampled:
            if (r := sampler.exact_point(row, digits=3)) is not None:
                realized.append(r)
    fr.points = [p for p, _ in realized]
    fr.inner = convex_hull(fr.points)
    if fr.points:
        fr.best = {"lowest": _envelope(fr.points, profiles, 1),
                   "highest": _envelope(fr.points, profiles, -1)}
    fr.bounds = _store_bounds(store, inst, ex, ey, x, y)
    if prove:
        fr.bounds += _prove_bounds(inst, ex, ey, x, y, fr.inner, timeout)
    fr.outer = _outer_polygon(fr.bounds, fr.inner)
    fr.gap = _hausdorff(fr.outer, fr.inner)
    return fr


def _envelope(points: list[Pt], bins: int, sign: int) -> list[Pt]:
    """The realized point of least (sign 1) or greatest (sign -1) Y in each of ``bins``
    bins of X centred where the profile searches aimed."""
    lo, hi = min(p[0] for p in points), max(p[0] for p in points)
    width = (hi - lo) / max(1, bins - 1)
    best: dict[int, Pt] = {}
    for p in points:
        k = 0 if width == 0 else int((p[0] - lo) / width + Fraction(1, 2))
        if k not in best or sign * p[1] < sign * best[k][1]:
            best[k] = p
    return [best[k] for k in sorted(best)]


def _local_search(sampler: _Sampler, pool, px, py, objective, rng, batch: int = 24,
                  steps: int = 40, start=None):
    """Maximize ``objective(X, Y)`` over the free variables: an adaptive random walk,
    ``batch`` candidates a step, from the best of the pool (and from ``start``, if
    given: the better of the two walks wins)."""
    import numpy as np
    with np.errstate(invalid="ignore"):
        scores = objective(px, py)
    k = int(np.nanargmax(scores))
    found = _walk(sampler, pool[k].copy(), float(scores[k]), objective, rng, batch, steps)
    if start is not None:
        sx, sy = sampler.float_points(start[None, :])
        if np.isfinite(sx[0]):
            other = _walk(sampler, start.copy(), float(objective(sx, sy)[0]), objective, rng,
                          batch, steps)
            if other[1] > found[1]:
                found = other
    return found[0]


def _walk(sampler: _Sampler, best, score: float, objective, rng, batch: int, steps: int):
    import numpy as np
    step = 0.3
    width = np.where(np.isfinite(sampler.hi - sampler.lo), sampler.hi - sampler.lo, 1.0)
    for _ in range(steps):
        cand = best + rng.normal(0.0, 1.0, (batch, len(best))) * step * width
        zero = rng.random((batch, len(best))) < 0.05
        cand = sampler.clip(np.where(zero, 0.0, cand))
        cx, cy = sampler.float_points(cand)
        with np.errstate(invalid="ignore"):
            cs = objective(cx, cy)
        if np.all(np.isnan(cs)) or np.nanmax(cs) <= score:
            step /= 2
            if step < 1e-5:
                break
            continue
        j = int(np.nanargmax(cs))
        best, score = cand[j], float(cs[j])
    return best, score


def _affine(e: E.Expr, ex: E.Expr, ey: E.Expr):
    """e as (cx, cy, c0) when it is affine in X and Y, else None."""
    if e == ex:
        return (Fraction(1), Fraction(0), Fraction(0))
    if e == ey:
        return (Fraction(0), Fraction(1), Fraction(0))
    if isinstance(e, E.Num):
        return (Fraction(0), Fraction(0), e.value)
    if isinstance(e, E.Neg):
        a = _affine(e.operand, ex, ey)
        return None if a is None else tuple(-v for v in a)
    if isinstance(e, E.BinOp):
        a, b = _affine(e.left, ex, ey), _affine(e.right, ex, ey)
        if a is None or b is None:
            return None
        if e.op == "+":
            return tuple(p + q for p, q in zip(a, b))
        if e.op == "-":
            return tuple(p - q for p, q in zip(a, b))
        if e.op == "*":
            if a[:2] == (0, 0):
                return tuple(a[2] * q for q in b)
            if b[:2] == (0, 0):
                return tuple(b[2] * p for p in a)
            return None
        if e.op == "/" and b[:2] == (0, 0) and b[2] != 0:
            return tuple(p / b[2] for p in a)
    return None


def halfplanes(claim: E.Expr, ex: E.Expr, ey: E.Expr) -> list[tuple[Fraction, Fraction,
                                                                     Fraction]] | None:
    """A claim that is a conjunction of linear comparisons in X and Y as half-planes
    (a, b, h): a·X + b·Y <= h (strict ones closed up), else None."""
    if isinstance(claim, E.BoolOp) and claim.op == "and":
        out = []
        for part in claim.operands:
            sub = halfplanes(part, ex, ey)
            if sub is None:
                return None
            out += sub
        return out
    if not isinstance(claim, E.Compare):
        return None
    out = []
    for op, left, right in zip(claim.ops, claim.operands, claim.operands[1:]):
        l, r = _affine(left, ex, ey), _affine(right, ex, ey)
        if l is None or r is None:
            return None
        d = tuple(p - q for p, q in zip(l, r))     # left - right = dx X + dy Y + d0
        if d[:2] == (0, 0):
            continue
        if op in ("<", "<=", "=="):
            out.append((d[0], d[1], -d[2]))
        if op in (">", ">=", "=="):
            out.append((-d[0], -d[1], d[2]))
    return out


def _store_bounds(store, inst, ex, ey, x, y) -> list[Bound]:
    store = _open_store(store)
    if store is None:
        return []
    out = []
    for cid, doc in store.entries():
        if not isinstance(doc, dict) or doc.get("verdict") != "valid" or doc.get("vacuous") \
                or doc.get("assume"):
            continue
        m = doc.get("model")    # a stranger's store: any JSON may sit in any field
        if not isinstance(m, dict) or not isinstance(doc.get("claim"), str) \
                or m.get("name") != inst.model.name or m.get("params") != inst.params:
            continue
        try:
            claim = E.parse_formula(doc["claim"])
        except ExprError:
            continue
        for a, b, h in halfplanes(claim, ex, ey) or []:
            out.append(Bound(a, b, h, doc["claim"], f"store:{cid}", doc.get("trust")))
    return out


def _open_store(store):
    if store is None:
        return None
    if isinstance(store, (str, Path)):
        from .store import DirectoryStore
        if not Path(store).is_dir():
            return None
        return DirectoryStore(store)
    return store


def _prove_bounds(inst, ex, ey, x, y, inner: list[Pt], timeout: float) -> list[Bound]:
    """Supporting lines of the inner hull, loosened until the solver proves them, then
    tightened again by bisection on a dyadic grid."""
    from . import solvers
    from .encode import encode

    def proved(a, b, h) -> str | None:
        text = inequality_text(a, b, h, x, y)
        try:
            problem = encode(inst, E.parse_formula(text), [])
        except ExprError:
            return None
        return text if solvers.solve("z3", problem.smtlib(), timeout).result == "unsat" \
            else None

    normals = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)]
    # the directions of the inner hull's longest edges, rounded to simple slopes
    edges = sorted(zip(inner, inner[1:] + inner[:1]),
                   key=lambda pq: -float((pq[1][0] - pq[0][0]) ** 2 + (pq[1][1] - pq[0][1]) ** 2))
    for p, q in edges[:6]:
        n = (q[1] - p[1], p[0] - q[0])
        if n[1] == 0 or abs(n[0] / n[1]) > 8:
            continue
        slope = Fraction(-n[0] / n[1]).limit_denominator(8)
        sign = 1 if n[1] > 0 else -1
        cand = primitive_normal(-slope * sign, sign)
        if cand not in normals:
            normals.append(cand)
    out = []
    for a, b in normals:
        if not inner:
            break
        top = max(a * p[0] + b * p[1] for p in inner)
        failed = Fraction(math.ceil(top * 64), 64) - Fraction(1, 64)   # below the realized
        found = None
        for slack in (Fraction(1, 64), Fraction(1, 16), Fraction(1, 4), Fraction(1)):
            h = failed + slack
            text = proved(a, b, h)
            if text:
                found = (h, text)
                break
            failed = h
        if found is None:
            continue
        for _ in range(4):
            mid = Fraction(math.ceil((failed + found[0]) / 2 * 1024), 1024)
            if not failed < mid < found[0]:
                break
            text = proved(a, b, mid)
            if text:
                found = (mid, text)
            else:
                failed = mid
        out.append(Bound(Fraction(a), Fraction(b), found[0], found[1], "z3", "solver"))
    return out


def _clip(poly: list[Pt], a, b, h) -> list[Pt]:
    """Sutherland–Hodgman: the part of a convex polygon with a·X + b·Y <= h."""
    out = []
    for i, p in enumerate(poly):
        q = poly[(i + 1) % len(poly)]
        fp, fq = a * p[0] + b * p[1] - h, a * q[0] + b * q[1] - h
        if fp <= 0:
            out.append(p)
        if (fp < 0 < fq) or (fq < 0 < fp):
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def _outer_polygon(bounds: list[Bound], inner: list[Pt]) -> list[Pt] | None:
    """The intersection of the proved half-planes; None if they do not bound the region."""
    big = Fraction(10 ** 6)
    poly = [(-big, -big), (big, -big), (big, big), (-big, big)]
    for bd in bounds:
        poly = _clip(poly, bd.a, bd.b, bd.h)
        if not poly:
            return []
    if any(abs(c) >= big for p in poly for c in p):
        return None
    return convex_hull(poly)


def _hausdorff(outer: list[Pt] | None, inner: list[Pt]) -> float:
    """max over the outer polygon of the distance to the inner hull (inner ⊆ outer)."""
    if outer is None or not inner:
        return math.inf
    return max((_distance(p, inner) for p in outer), default=0.0)


def _distance(p: Pt, hull: list[Pt]) -> float:
    px, py = float(p[0]), float(p[1])
    pts = [(float(a), float(b)) for a, b in hull]
    if len(pts) >= 3 and all((q[0] - o[0]) * (py - o[1]) - (q[1] - o[1]) * (px - o[0]) >= -1e-15
                             for o, q in zip(pts, pts[1:] + pts[:1])):
        return 0.0
    best = math.inf
    for o, q in zip(pts, pts[1:] + pts[:1]):
        dx, dy = q[0] - o[0], q[1] - o[1]
        L = dx * dx + dy * dy
        t = 0.0 if L == 0 else max(0.0, min(1.0, ((px - o[0]) * dx + (py - o[1]) * dy) / L))
        best = min(best, math.hypot(px - o[0] - t * dx, py - o[1] - t * dy))
    return best
