"""A two-parameter family of real (P, F) that reaches every point of the closed rectangle
0 <= s2 <= 1, 0 <= r2 <= 1/2 — the inner side of the `general` model's exact region —
and the exact checks that prove it does.

THE FAMILY. P is uniform on the four atoms 0, 1, 3, 7 (the concrete instance
``general(atoms = 4, dim = 1)``: the six pairwise midpoints 1/2, 3/2, 7/2, 2, 4, 5 are
distinct and off the atoms). With L0(x) = 4x - 11 (centred under P) and
N0 = 6 * (2, -1, -2, 1) at the atoms (uncorrelated under P with 1 and with x), and
parameters lam in [0, 1] and s in [-1, 1]:

    F(x_i)                = (1 - lam) * L0(x_i) + lam * N0(x_i)     at the atoms,
    F((x_i + x_j)/2)      = s * (F(x_i) + F(x_j)) / 2               at the midpoints.

THE IDENTITIES (polynomial identities in lam and s, checked exactly by ``certify`` on the
concrete instance's own polynomials for Var F(X), Cov(X, F(X)), Var X, Cov(F(X), F(Z)) and
Var F(Z)). With a0 = Var L0(X) = 115 and b0 = Var N0(X) = 90:

    Var F(X) = V := (1 - lam)^2 a0 + lam^2 b0,     Cov(X, F(X))^2 / Var X = (1 - lam)^2 a0,
    Cov(F(X), F(Z)) = (1 + s) V / 4,                Var F(Z) = (1 + s^2) V / 4.

(The last two hold because E F(X) = 0 and the weights are 1/4: Z is an atom with
probability 1/4 and a midpoint with probability 3/4, and the sum over pairs of
(F_i + F_j)^2 is 2 * sum F_i^2 when sum F_i = 0.) Hence, wherever V > 0 (all of
lam in [0, 1], since a0, b0 > 0) — and then also Var F(Z) > 0 —

    s2 = g(lam) := (1 - lam)^2 a0 / ((1 - lam)^2 a0 + lam^2 b0),
    r2 = h(s)   := (1 + s)^2 / (4 (1 + s^2)).

THE THEOREM. g is continuous and strictly decreasing on [0, 1] from g(0) = 1 to
g(1) = 0 (g = 1 / (1 + (b0/a0) t^2) with t = lam/(1 - lam) increasing); h is continuous and
strictly increasing on [-1, 1] from h(-1) = 0 to h(1) = 1/2 (h'(s) = (1 - s^2) /
(2 (1 + s^2)^2) >= 0, zero only at the ends). So (lam, s) -> (s2, r2) = (g(lam), h(s)) maps
[0, 1] x [-1, 1] onto — one to one — the closed rectangle [0, 1] x [0, 1/2]: every point
of it is the (s2, r2) of a real (P, F) in this family. Explicitly, for a target
(sigma, rho): lam = t / (1 + t) with t = sqrt(a0 (1 - sigma) / (b0 sigma)) (lam = 1 at
sigma = 0), and
s = (1 - sqrt(1 - (4 rho - 1)^2)) / (4 rho - 1) (s = 0 at rho = 1/4) — ``preimage``; both
are rational exactly when the square roots are, e.g. at the rectangle's corners, at
sigma = g(1/2) = 23/41 and at rho = 1/4, where ``exact_preimage`` finds them.

Nothing here is trusted for a verdict: ``certify`` re-derives the identities from the
model's concrete polynomials, and every witness it hands out is re-measured by
``general_exact.measure`` (an independent enumeration of all pairs (X, Y)) by the caller.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..poly import Poly

PARAMS = {"atoms": 4, "dim": 1}
POSITIONS = (Fraction(0), Fraction(1), Fraction(3), Fraction(7))
L0 = tuple(4 * x - 11 for x in POSITIONS)                  # (-11, -7, 1, 17)
N0 = tuple(Fraction(6 * c) for c in (2, -1, -2, 1))        # (12, -6, -12, 6)
A0 = Fraction(115)        # Var L0(X) under P uniform on the atoms
B0 = Fraction(90)         # Var N0(X)
LAM_RANGE = (Fraction(0), Fraction(1))
S_RANGE = (Fraction(-1), Fraction(1))


class FamilyError(AssertionError):
    """An identity the family's theorem rests on does not hold."""


def g(lam: Fraction) -> Fraction:
    """s2 of the family member with parameter lam (any s)."""
    lam = Fraction(lam)
    return (1 - lam) ** 2 * A0 / ((1 - lam) ** 2 * A0 + lam ** 2 * B0)


def h(s: Fraction) -> Fraction:
    """r2 of the family member with parameter s (any lam)."""
    s = Fraction(s)
    return (1 + s) ** 2 / (4 * (1 + s * s))


def _atom_values(lam, s, one):
    """F's values at the atoms and midpoints (Polys when lam, s are Polys)."""
    f = [(one - lam) * L0[i] + lam * N0[i] for i in range(4)]
    mids = {(i, j): s * (f[i] + f[j]) * Fraction(1, 2) for i in range(4) for j in range(i + 1, 4)}
    return f, mids


def values(lam, s) -> dict[str, Fraction]:
    """The concrete instance's variables (w1..w4, F1..F4, F12..F34) of the member."""
    from ..models.general import atom_names
    lam, s = Fraction(lam), Fraction(s)
    wn, fn, mn = atom_names(4)
    f, mids = _atom_values(lam, s, Fraction(1))
    out = {n: Fraction(1, 4) for n in wn}
    out.update({fn[i]: f[i] for i in range(4)})
    out.update({mn[k]: v for k, v in mids.items()})
    return out


def table(lam, s) -> tuple[list, dict]:
    """(atoms, F's table) of the member, in ``general_exact.measure``'s form."""
    f, mids = _atom_values(Fraction(lam), Fraction(s), Fraction(1))
    atoms = [((x,), Fraction(1, 4)) for x in POSITIONS]
    tab = {(POSITIONS[i],): f[i] for i in range(4)}
    for (i, j), v in mids.items():
        tab[((POSITIONS[i] + POSITIONS[j]) / 2,)] = v
    return atoms, tab


def certify(concrete) -> list[str]:
    """Check, exactly, every identity the theorem uses, on the polynomials of the
    concrete instance ``concrete`` (general, atoms = 4, dim = 1); returns the statements
    checked, raises FamilyError on the first that fails."""
    from ..models.general import atom_names, positions
    if [p[0] for p in positions(4, 1)] != list(POSITIONS):
        raise FamilyError("the concrete instance's atoms are not 0, 1, 3, 7")
    lam, s, one = Poly.var("lam"), Poly.var("s"), Poly.const(1)
    wn, fn, mn = atom_names(4)
    f, mids = _atom_values(lam, s, one)
    sub = {n: Poly.const(Fraction(1, 4)) for n in wn}
    sub.update({fn[i]: f[i] for i in range(4)})
    sub.update({mn[k]: v for k, v in mids.items()})
    st = concrete.statistics
    var_fx = st["slope"].ratio.den.substitute(sub)
    cov = st["slope"].ratio.num.substitute(sub)
    var_fz = st["slope_back"].ratio.den.substitute(sub)
    if st["slope_back"].ratio.num.substitute(sub) != cov:
        raise FamilyError("slope and slope_back do not share Cov(F(X), F(Z))")
    s2_num = st["s2"].ratio.num.substitute(sub)
    s2_den = st["s2"].ratio.den.substitute(sub)
    v = (one - lam) ** 2 * A0 + lam ** 2 * B0
    done = []

    def need(ok: bool, what: str):
        if not ok:
            raise FamilyError(f"the family's identity fails: {what}")
        done.append(what)

    need(A0 > 0 and B0 > 0, "a0 = 115 > 0 and b0 = 90 > 0, so V > 0 for lam in [0, 1]")
    need(var_fx == v, "Var F(X) = (1 - lam)^2 * 115 + lam^2 * 90")
    # s2 = Cov(X, F)^2 / (Var X * Var F(X)), so s2 = g(lam) is this cross-multiplied
    need(s2_num * v == s2_den * ((one - lam) ** 2 * A0),
         "s2 = (1 - lam)^2 * 115 / Var F(X) (the fitted line carries (1 - lam) * L0)")
    need(cov == (one + s) * v * Fraction(1, 4), "Cov(F(X), F(Z)) = (1 + s) * Var F(X) / 4")
    need(var_fz == (one + s * s) * v * Fraction(1, 4), "Var F(Z) = (1 + s^2) * Var F(X) / 4")
    member = values(Fraction(1, 2), Fraction(0))
    need(all(a.holds(member) for a in concrete.constraints
             if a.poly.variables() <= set(wn)),
         "the weights 1/4 are positive and sum to 1, and Var X > 0")
    return done


def preimage(sigma: float, rho: float) -> tuple[float, float]:
    """(lam, s) of the member with (s2, r2) = (sigma, rho), in floats (for display and
    search; ``exact_preimage`` gives the exact values where they are rational)."""
    if not (0 <= sigma <= 1 and 0 <= rho <= 0.5):
        raise ValueError("(s2, r2) must lie in [0, 1] x [0, 1/2]")
    if sigma == 0:
        lam = 1.0
    else:
        t = math.sqrt(float(A0) * (1 - sigma) / (float(B0) * sigma))
        lam = t / (1 + t)
    k = 4 * rho - 1
    s = 0.0 if k == 0 else (1 - math.sqrt(max(0.0, 1 - k * k))) / k
    return lam, s


def _sqrt(q: Fraction) -> Fraction | None:
    if q < 0:
        return None
    n, d = math.isqrt(q.numerator), math.isqrt(q.denominator)
    return Fraction(n, d) if n * n == q.numerator and d * d == q.denominator else None


def exact_preimage(sigma: Fraction, rho: Fraction) -> tuple[Fraction, Fraction] | None:
    """Rational (lam, s) with g(lam) = sigma and h(s) = rho, or None when one of them is
    irrational (the point is still attained: by the irrational parameter)."""
    sigma, rho = Fraction(sigma), Fraction(rho)
    if not (0 <= sigma <= 1 and 0 <= rho <= Fraction(1, 2)):
        return None
    if sigma == 0:
        lam = Fraction(1)
    else:
        root = _sqrt(A0 * (1 - sigma) / (B0 * sigma))
        if root is None:
            return None
        lam = root / (1 + root)
    k = 4 * rho - 1
    if k == 0:
        s = Fraction(0)
    else:
        root = _sqrt(1 - k * k)
        if root is None:
            return None
        s = (1 - root) / k
    return lam, s
