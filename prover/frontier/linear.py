"""The linear-fractional structure of two axes: X = a·v / b·v and Y = c·v / b·v over the
model's nonnegative components, with one common denominator.

Normalising b·v = 1 writes (X, Y) as the convex combination sum_k (b_k v_k) p_k of the
per-component points p_k = (a_k, c_k)/b_k. So the closure of the region is the convex
hull of those points, plus the cone of the directions (a_k, c_k) of components the
denominator does not see (b_k = 0): the region is then unbounded. A component whose
coefficients depend on an internal variable of the model (multilinear's tail share u in
(0, 1/32]) contributes the segment its point sweeps (a ``_Generator``). The model's
proof side must be exact for this (no ``concrete`` twin): every point of the encoding
is a member of the family. ``_linear_fractional`` finds this structure, or says why
there is none (then the frontier is approximate).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .. import expr as E
from ..errors import ExprError, InputError
from ..poly import Poly
from .geometry import _cross2, convex_hull
from .results import Pt


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
    from ..encode import Encoder

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
