"""Exact realizer for the `general` model: a finite (P, F), statistics from definitions.

The concrete object is P = a finite distribution on R^dim (atoms with positive rational
weights summing to 1) and F given by a table of rational values at the atoms and at
their pairwise midpoints — the only points where F(X) or F((X+Y)/2) is ever evaluated.
Every statistic is recomputed from its definition with exact rational arithmetic:

* every ordered pair (X, Y) = (x_i, x_j) is enumerated with probability w_i w_j, and
  Z = (x_i + x_j)/2 is looked up in F's table (as a point, not as a pair of indices);
* Var F(X), Var F(Z), Cov(F(X), F(Z)) are exact weighted sums over those pairs;
* s2 = Var L(X) / Var F(X) with L the least-squares affine fit of F(X) on X, found by
  solving the normal equations E[phi phi'] beta = E[phi F], phi(x) = (1, x_1..x_dim),
  by exact Gaussian elimination.

Nothing here knows the model's polynomials; it is the check on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..errors import InputError
from .moments import SecondMoments, solve_exact

Point = tuple[Fraction, ...]


def _text(p: Point) -> str:
    return str(p[0]) if len(p) == 1 else "(" + ", ".join(str(c) for c in p) + ")"


@dataclass
class Measured(SecondMoments):
    realization: dict

    @property
    def slope(self) -> Fraction:
        return self.cov_xz / self.var_x

    @property
    def slope_back(self) -> Fraction:
        return self.cov_xz / self.var_z

    @property
    def var_ratio(self) -> Fraction:
        return self.var_z / self.var_x


def measure(atoms: list[tuple[Point, Fraction]], table: dict[Point, Fraction],
            names: dict[Point, str] | None = None) -> Measured:
    """Statistics of (P, F): ``atoms`` = [(position, weight)], ``table`` = F's values."""
    if not atoms:
        raise InputError("P needs at least one atom")
    dim = len(atoms[0][0])
    total = sum(w for _, w in atoms)
    if total != 1 or any(w <= 0 for _, w in atoms):
        raise InputError("atom weights must be positive and sum to 1")
    if len({p for p, _ in atoms}) != len(atoms):
        raise InputError("atoms must be distinct points")

    def F(p: Point) -> Fraction:
        if p not in table:
            raise InputError(f"F is not given at {_text(p)}")
        return table[p]

    # moments of F(X)
    e_fx = sum(w * F(p) for p, w in atoms)
    var_x = sum(w * F(p) ** 2 for p, w in atoms) - e_fx ** 2
    # every ordered pair (X, Y), Z = (X + Y)/2
    e_fz = e_fz2 = e_fxfz = Fraction(0)
    for p, wp in atoms:
        for q, wq in atoms:
            z = tuple((a + b) / 2 for a, b in zip(p, q))
            prob = wp * wq
            fz = F(z)
            e_fz += prob * fz
            e_fz2 += prob * fz * fz
            e_fxfz += prob * F(p) * fz
    var_z = e_fz2 - e_fz ** 2
    cov = e_fxfz - e_fx * e_fz
    # least-squares affine fit: normal equations in phi = (1, x_1, ..., x_dim)
    phis = [((Fraction(1),) + p, w, F(p)) for p, w in atoms]
    gram = [[sum(w * phi[i] * phi[j] for phi, w, _ in phis) for j in range(dim + 1)]
            for i in range(dim + 1)]
    rhs = [sum(w * phi[i] * f for phi, w, f in phis) for i in range(dim + 1)]
    try:
        beta = solve_exact(gram, rhs)
    except ArithmeticError:
        raise InputError("the atoms do not span an affine space of full dimension: "
                         "the least-squares fit is not unique") from None
    fitted = [(sum(b * c for b, c in zip(beta, phi)), w) for phi, w, _ in phis]
    e_l = sum(w * l for l, w in fitted)
    explained = sum(w * l * l for l, w in fitted) - e_l ** 2
    if var_x <= 0 or var_z <= 0:
        raise InputError("Var F(X) and Var F(Z) must be positive")

    names = names or {}
    name = lambda p: names.get(p, _text(p))
    midpoints = [(p, q, tuple((a + b) / 2 for a, b in zip(p, q)))
                 for i, (p, _) in enumerate(atoms) for q, _ in atoms[i + 1:]]
    realization = {
        "P": " + ".join(f"{w}·δ({_text(p)})" for p, w in atoms),
        "F": "; ".join([f"F({_text(p)}) = {F(p)}" for p, _ in atoms]
                       + [f"F({_text(z)}) = {F(z)}" for _, _, z in midpoints])
             + "; elsewhere arbitrary (X, Y and (X+Y)/2 take only these values)",
        "atoms": [{"atom": name(p), "position": _text(p), "weight": str(w), "F": str(F(p))}
                  for p, w in atoms],
        "midpoints": [{"between": f"{name(p)}, {name(q)}", "position": _text(z),
                       "F": str(F(z))} for p, q, z in midpoints],
        "best affine fit": "L(x) = " + " + ".join(
            [str(beta[0])] + [f"{b}*x{i}" if dim > 1 else f"{b}*x"
                              for i, b in enumerate(beta[1:], 1)]),
        "measured": {"Var F(X)": str(var_x), "Var F(Z)": str(var_z),
                     "Cov(F(X), F(Z))": str(cov), "Var L(X)": str(explained)},
    }
    return Measured(var_x, var_z, cov, explained, realization)
