"""general — the r²–s² puzzle, literally, for any distribution P and any function F.

Family: any probability distribution P on R^n with finite second moments and any
F : R^n -> R with F(X), F(Z) square-integrable, Var F(X) > 0 and Var F(Z) > 0, where
X, Y are independent draws from P and Z = (X + Y)/2. Statistics: s2 = share of Var F(X) explained by the best affine fit L of
F(X) on X; r2 = Corr(F(X), F(Z))^2; r = Corr(F(X), F(Z)) itself (signed: unlike on the
cube it can be negative here); slope = Cov(F(X), F(Z)) / Var F(X) and slope_back =
Cov(F(X), F(Z)) / Var F(Z), the two regression slopes (r2 = slope * slope_back);
var_ratio = Var F(Z) / Var F(X). For linear F: s2 = 1, r2 = 1/2, slope = var_ratio =
1/2, slope_back = 1. No components: claims are about statistics only.

PROOF SIDE — the regression relaxation. Write F = L + N with L the best affine fit
under P (the orthogonal projection of F(X) on the affine functions of X), so N(X) is
uncorrelated with every affine function of X, and L(Z) = (L(X) + L(Y))/2 because L is
affine. With everything centred, let a = Var L(X) and b = Var N(X); then L(X), L(Y),
N(X), N(Y) are pairwise uncorrelated (independence of X and Y; orthogonality of L(X)
and N(X)), so S_L = L(X) + L(Y) and S_N = N(X) + N(Y) are uncorrelated with variances
2a and 2b. Regress F(Z) on them:

    F(Z) = u * S_L + v * S_N + R,     R uncorrelated with S_L and S_N,

(u = Cov(F(Z), S_L) / 2a, or any number when a = 0; v likewise with S_N and b), and let
rho = Var R. R is a symmetric function of (X, Y) and (X, Y, Z) has the law of
(Y, X, Z), so Cov(F(X), R) = Cov(F(Y), R) = Cov(S_L + S_N, R)/2 = 0. Hence

    Var F(X) = a + b,   Cov(F(X), F(Z)) = u*a + v*b,   Var F(Z) = 2u^2 a + 2v^2 b + rho,

with a, b, rho >= 0, and s2 = a/(a + b). These are the constraints: a >= 0, b >= 0,
rho >= 0, a + b = Var F(X) > 0, and a variable vz with vz = 2u^2 a + 2v^2 b + rho
(= Var F(Z)) and vz > 0. (This is the same set as "the covariance matrix of L(X), L(Y),
N(X), N(Y), N(Z) is positive semidefinite" of MODELS.md: there Cov(L(X), N(Z)) =
(u - 1/2) a, Cov(N(X), N(Z)) = v b and Var N(Z) = 2(u - 1/2)^2 a + 2 v^2 b + rho, and
every PSD matrix of that shape arises; the lifted coordinates u, v, rho make the
degenerate a*b = 0 boundary harmless, where the minors' form needs case analysis.)
The statistics are s2 = a/(a+b), slope = c/(a+b), slope_back = c/vz,
var_ratio = vz/(a+b) with c = u*a + v*b, and r2 = slope * slope_back; the denominators
a + b and vz pass the encoder's dominance test, so clearing them keeps every
inequality's direction. Hence every real (P, F) gives a point of the encoding: an
unsat negated claim is a proof for the whole family. It proves r2 <= 1/2
(Cauchy–Schwarz for F(X) + F(Y) and F(Z)); explicitly,

    (a + b) * vz / 2 - c^2 = a*b*(u - v)^2 + (a + b)*rho/2,

a sum of products of nonnegative quantities and a square: the certificate the SOS search
finds (one square term with the multiplier a*b). The converse fails — not every point
is a real (P, F) — so a sat answer there is only a hint: counterexamples come from the
concrete side.

COUNTEREXAMPLE SIDE (the `concrete` instance): P = atoms x_1..x_m in R^dim (m = atoms,
dim = dim) at fixed positions — in 1-D x_i = 2^(i-1) - 1 (0, 1, 3, 7, ...); in 2-D and
3-D the first coordinate is the same and the others are (i-1)^2, (i-1)^3 — so that the
pairwise midpoints are distinct and off the atoms (their first coordinates are distinct
dyadic numbers) and the atoms span R^dim affinely. Variables: the weights w1..wm > 0
with sum 1, F's values F1..Fm at the atoms and Fij (i < j) at the midpoint of x_i and
x_j, all free; for dim > 1 also the slopes beta1..beta_dim of the affine fit, tied by
the normal equations Cov(X) beta = Cov(X, F(X)). Constraints: Var F(X) > 0,
Var F(Z) > 0 (and Var X > 0 in 1-D). Statistics, exact: the moments are polynomials in
the variables (Z = x_i w.p. w_i^2, the midpoint of x_i, x_j w.p. 2 w_i w_j); slope,
slope_back, var_ratio and r2 as above; s2 = Cov(X, F)^2 / (Var X Var F(X)) in 1-D and
beta' Cov(X, F) / Var F(X) otherwise. Every point of this
instance is a real (P, F). Its denominators are not sums of nonnegative monomials, so
the encoder divides through quotient variables; that is deliberate: in 1-D no variable
is tied by an equality, so a solver's point can be shortened to simple rationals and
stays a member. Search only: P uniform on the atoms, F1 = 0 and F2 = 1 (shifting and
scaling F changes no statistic), and with more than 4 atoms F = 0 at the atoms beyond
the fourth and at their midpoints (Z3's nonlinear search does not scale with the number
of free values). These restrictions only shrink the search: a claim false only for
skewed weights or richer F may come out unknown, never wrongly valid or refuted.

Realizer: rebuilds P and F's table of values, enumerates every pair (X, Y) with its
probability, looks F up at the midpoint as a point, and recomputes Var F(X), Var F(Z),
Cov(F(X), F(Z)) and the least-squares affine fit exactly
(prover.realizers.general_exact).

Facts: r2 <= 1/2 always. The familiar bounds fail: P uniform on {0, 1}, F(0) = 0,
F(1) = 1, F(1/2) = t gives s2 = 1 and r2 = 1/(4t^2 - 4t + 3) (so s2/2 <= r2 fails); on
three atoms an F with no linear part and F(midpoint) = average of the two ends gives
s2 = 0 and r2 = 1/2 (so r2 <= (1 + s2)/4 fails).
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import InputError
from ..poly import Poly
from .base import (Atom, Evidence, Model, ModelInstance, Param, Ratio, RegionTheorem,
                   Statistic)
from .display import Picture

SEARCH_FREE_ATOMS = 4
# the proof side: Var L, Var N, the regression coefficients of F(Z) on L(X) + L(Y) and
# N(X) + N(Y), the residual variance, and Var F(Z)
VARIABLES = ("a", "b", "u", "v", "rho", "vz")

OTHER_MODELS = {
    "twins": ("rMZ", "rDZ", "rPO", "rHS", "rFC", "h2", "H2", "c2", "e2", "falconer",
              "phantom", "VA", "VD", "VAA", "VAD", "VDD", "VC", "VE"),
    "multilinear": ("W1", "W2", "W3", "W4", "Wtail"),
}

DESCRIPTIONS = {
    "s2": "share of Var F(X) explained by the best affine fit of F(X) on X",
    "r2": "squared correlation of F(X) and F(Z), Z = (X+Y)/2",
    "r": "correlation of F(X) and F(Z) (signed: it can be negative here)",
    "slope": "Cov(F(X), F(Z)) / Var F(X), the regression slope of F(Z) on F(X)",
    "slope_back": "Cov(F(X), F(Z)) / Var F(Z), the regression slope of F(X) on F(Z)",
    "var_ratio": "Var F(Z) / Var F(X)",
}


def positions(atoms: int, dim: int) -> list[tuple[Fraction, ...]]:
    """Fixed atom positions: first coordinate 2^i - 1, then i^2, i^3 (i = 0, 1, ...)."""
    return [tuple(Fraction(c) for c in (2 ** i - 1, i * i, i ** 3)[:dim]) for i in range(atoms)]


def _unavailable(names: list[str]) -> dict[str, str]:
    out = {v: (f"'{v}' is a variable of the proof-side relaxation, not a statistic; "
               f"the 'general' model has the statistics {', '.join(names)}")
           for v in VARIABLES}
    for model, others in OTHER_MODELS.items():
        for n in others:
            out[n] = (f"'{n}' belongs to the '{model}' model; the 'general' model has the "
                      f"statistics {', '.join(names)}")
    return out


class General(Model):
    name = "general"
    lazy_modules = ("prover.realizers.general_family", "prover.realizers.general_exact")
    pictures = (Picture("frontier-general", "s2", "r2"),)
    summary = "the r2–s2 puzzle, literally: any distribution P on R^n and any function F"
    params = (
        Param("atoms", "int", 4, "number of atoms of P on the counterexample side",
              minimum=2, maximum=8),
        Param("dim", "int", 1, "dimension of the atoms' space on the counterexample side",
              minimum=1, maximum=3),
    )

    def check_params(self, params: dict) -> None:
        if params["atoms"] < params["dim"] + 1:
            err = InputError(f"atoms = {params['atoms']} is too few for dim = {params['dim']}: "
                             f"the atoms must span R^{params['dim']}, so atoms >= "
                             f"{params['dim'] + 1}")
            err.param = "atoms"
            raise err

    def region(self, x: str, y: str) -> RegionTheorem | None:
        """(s2, r2): the closed rectangle [0, 1] x [0, 1/2] (docs/frontiers.md)."""
        axes = (x.strip(), y.strip())
        if axes not in (("s2", "r2"), ("r2", "s2")):
            return None
        from ..realizers import general_family as fam
        swap = axes == ("r2", "s2")

        def witness(px: Fraction, py: Fraction):
            pre = fam.exact_preimage(*((py, px) if swap else (px, py)))
            return None if pre is None else fam.values(*pre)

        box = (Fraction(0), Fraction(1), Fraction(0), Fraction(1, 2))
        nice = ((fam.g(Fraction(1, 2)),), (Fraction(1, 4),))
        return RegionTheorem(
            x=axes[0], y=axes[1], box=(box[2], box[3], box[0], box[1]) if swap else box,
            statement="over all P and F, the values (s2, r2) fill exactly the closed "
                      "rectangle 0 <= s2 <= 1, 0 <= r2 <= 1/2",
            family="P uniform on 0, 1, 3, 7; F = (1 - lam)(4x - 11) + lam * 6(2, -1, -2, 1) "
                   "at the atoms and F((xi + xj)/2) = s (F(xi) + F(xj))/2 at the "
                   "midpoints, lam in [0, 1], s in [-1, 1]: s2 = 115 (1 - lam)^2 / "
                   "(115 (1 - lam)^2 + 90 lam^2), r2 = (1 + s)^2 / (4 (1 + s^2))",
            argument="s2 depends on lam only, continuously and strictly decreasing from 1 "
                     "to 0; r2 on s only, continuously and strictly increasing from 0 to "
                     "1/2; so (lam, s) -> (s2, r2) maps [0, 1] x [-1, 1] onto the "
                     "rectangle (prover.realizers.general_family)",
            witness_params=dict(fam.PARAMS), certify=fam.certify, witness=witness,
            nice=(nice[1], nice[0]) if swap else nice)

    def build(self, params: dict) -> ModelInstance:
        a, b, u, v, rho, vz = (Poly.var(n) for n in VARIABLES)
        vx = a + b
        cov = u * a + v * b
        constraints = [
            Atom(a, ">="), Atom(b, ">="), Atom(rho, ">="),
            Atom(vx, ">"),
            Atom(vz, ">"),
            Atom(vz - (u * u * a).scale(2) - (v * v * b).scale(2) - rho, "=="),
        ]
        stats = _statistics(s2=Ratio(a, vx), slope=Ratio(cov, vx),
                            slope_back=Ratio(cov, vz), var_ratio=Ratio(vz, vx))
        return ModelInstance(
            model=self, params=params, variables=list(VARIABLES),
            components=[], constraints=constraints, statistics=stats,
            unavailable=_unavailable(list(stats)), realize=None,
            concrete=_concrete(self, params))


def _statistics(**ratios: Ratio) -> dict[str, Statistic]:
    """s2, slope, slope_back, var_ratio as ratios; r2 and r as expressions in them.

    r2 = Cov^2 / (Var F(X) Var F(Z)) = slope * slope_back: a product of two ratios with
    one denominator each, so the encoder clears exactly Var F(X) * Var F(Z) (one ratio
    with the product as a single denominator would make it clear an extra factor
    Var F(X) against s2, which cvc5 finds much harder)."""
    stats = {name: Statistic(name, DESCRIPTIONS[name], ratio) for name, ratio in ratios.items()}
    stats["r2"] = Statistic("r2", DESCRIPTIONS["r2"], expression="slope * slope_back")
    stats["r"] = Statistic("r", DESCRIPTIONS["r"], expression="slope / sqrt(var_ratio)")
    return {k: stats[k] for k in ("s2", "r2", "slope", "slope_back", "var_ratio", "r")}


def atom_names(m: int) -> tuple[list[str], list[str], dict[tuple[int, int], str]]:
    weights = [f"w{i + 1}" for i in range(m)]
    values = [f"F{i + 1}" for i in range(m)]
    mids = {(i, j): f"F{i + 1}{j + 1}" for i in range(m) for j in range(i + 1, m)}
    return weights, values, mids


def _concrete(model: General, params: dict) -> ModelInstance:
    m, dim = params["atoms"], params["dim"]
    pos = positions(m, dim)
    wn, fn, mn = atom_names(m)
    w = [Poly.var(n) for n in wn]
    y = [Poly.var(n) for n in fn]
    fz = {(i, j): (y[i] if i == j else Poly.var(mn[min(i, j), max(i, j)]))
          for i in range(m) for j in range(m)}

    # moments under P (weights sum to 1, a constraint of this family)
    e_fx = Poly.sum(w[i] * y[i] for i in range(m))
    var_fx = Poly.sum(w[i] * y[i] * y[i] for i in range(m)) - e_fx * e_fx
    pair = lambda i, j: w[i] * w[j]
    e_fz = Poly.sum(pair(i, j) * fz[i, j] for i in range(m) for j in range(m))
    var_fz = Poly.sum(pair(i, j) * fz[i, j] * fz[i, j] for i in range(m) for j in range(m)) \
        - e_fz * e_fz
    cov = Poly.sum(pair(i, j) * y[i] * fz[i, j] for i in range(m) for j in range(m)) \
        - e_fx * e_fz
    mean_x = [Poly.sum(w[i].scale(pos[i][k]) for i in range(m)) for k in range(dim)]
    cov_x = [[Poly.sum(w[i].scale(pos[i][k] * pos[i][l]) for i in range(m))
              - mean_x[k] * mean_x[l] for l in range(dim)] for k in range(dim)]
    c = [Poly.sum(w[i] * y[i].scale(pos[i][k]) for i in range(m)) - mean_x[k] * e_fx
         for k in range(dim)]

    variables = wn + fn + list(mn.values())
    constraints = [Atom(x, ">") for x in w] + [
        Atom(Poly.sum(w) - 1, "=="), Atom(var_fx, ">"), Atom(var_fz, ">")]
    if dim == 1:
        # s2 = Cov(X, F)^2 / (Var X Var F(X)); every variable stays free (no auxiliary
        # tied by an equality), so a solver's point can be shortened to simple rationals
        # (check._simplify). The denominators are positive on the family but not by the
        # encoder's dominance test: it divides through quotient variables, which is legal.
        constraints.append(Atom(cov_x[0][0], ">"))
        s2 = Ratio(c[0] * c[0], var_fx * cov_x[0][0])
    else:
        # the normal equations Cov(X) beta = Cov(X, F) with the fit's slopes as variables
        # (Cov(X) is positive definite: positive weights on atoms spanning R^dim); the
        # explained variance is beta' Cov(X, F). Cramer's rule instead would give
        # polynomials of thousands of terms.
        betas = [f"beta{k + 1}" for k in range(dim)]
        beta = [Poly.var(n) for n in betas]
        variables += betas
        constraints += [Atom(Poly.sum(cov_x[k][l] * beta[l] for l in range(dim)) - c[k], "==")
                        for k in range(dim)]
        s2 = Ratio(Poly.sum(beta[k] * c[k] for k in range(dim)), var_fx)
    stats = _statistics(s2=s2, slope=Ratio(cov, var_fx), slope_back=Ratio(cov, var_fz),
                        var_ratio=Ratio(var_fz, var_fx))
    # search only: uniform weights, F1 = 0, F2 = 1, and F = 0 at atoms beyond the
    # SEARCH_FREE_ATOMS-th and at their midpoints (Z3's nonlinear search does not scale
    # with the number of free values: beyond 5 free atoms it times out)
    search = [Atom(y[0], "=="), Atom(y[1] - 1, "==")] + \
        [Atom(x - Fraction(1, m), "==") for x in w] + \
        [Atom(y[i], "==") for i in range(SEARCH_FREE_ATOMS, m)] + \
        [Atom(Poly.var(name), "==") for (i, j), name in mn.items() if j >= SEARCH_FREE_ATOMS]

    def realize(values: dict[str, Fraction], *, seed: int | None = None,
                effort: int = 1) -> Evidence:
        return _realize(params, values, seed=seed)

    return ModelInstance(
        model=model, params=params, variables=variables, components=[],
        constraints=constraints, statistics=stats,
        search_constraints=search,
        unavailable=_unavailable(list(stats)), realize=realize)


def _realize(params: dict, values: dict[str, Fraction], *, seed: int | None) -> Evidence:
    from ..realizers.general_exact import measure

    m, dim = params["atoms"], params["dim"]
    pos = positions(m, dim)
    wn, fn, mn = atom_names(m)
    values = {k: Fraction(v) for k, v in values.items()}
    atoms = [(pos[i], values[wn[i]]) for i in range(m)]
    table = {pos[i]: values[fn[i]] for i in range(m)}
    for (i, j), name in mn.items():
        mid = tuple((p + q) / 2 for p, q in zip(pos[i], pos[j]))
        if mid in table:
            raise InputError(f"midpoint of x{i + 1} and x{j + 1} is not a new point")
        table[mid] = values[name]
    names = {pos[i]: f"x{i + 1}" for i in range(m)}
    result = measure(atoms, table, names)
    exact = {"s2": result.s2, "r2": result.r2, "slope": result.slope,
             "slope_back": result.slope_back, "var_ratio": result.var_ratio}
    return Evidence(method="exact enumeration of all pairs (X, Y) of atoms with their "
                    "probabilities; s2 by exact least squares",
                    realization=result.realization, seed=seed, samples=None, exact=exact)


MODEL = General()
