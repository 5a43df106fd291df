"""multilinear — the r²–s² puzzle on the Boolean cube, read genetically.

Family: X uniform on {-1,+1}^n, or any product distribution on two-valued coordinates
(haploid biallelic loci in linkage equilibrium); F any function of X (hence multilinear).
F((X+Y)/2) is F's multilinear extension at the midpoint of two independent draws, which
equals the expected phenotype of a child taking each coordinate from X or from Y with
probability 1/2. Var F(X) > 0.

Components (all >= 0): W1, W2, ... — the variance of F at interaction degree k (the sum
of squared Fourier–Walsh coefficients of order k). With max_degree = K (an integer,
1..12) they are W1..WK: the functions whose interactions involve at most K coordinates.
With max_degree = "inf" (the default: all functions) they are W1..W4 plus Wtail, the
variance at every degree above 4; the tail's share of the covariance is u*Wtail with an
internal variable u (not nameable in claims), 0 < u <= 2^-5. V = sum of the components
> 0.

Statistics: s2 = W1/V (the share of Var F explained by the best linear approximation);
r2 = (sum_k 2^-k W_k [+ u*Wtail]) / V (the squared Pearson correlation of F(X) and
F((X+Y)/2)); r = sqrt(r2) (the correlation itself, which is >= 0 here).

Why the proof side is sound: expand F in the orthonormal Fourier–Walsh basis of the
product measure, F = sum_S c_S chi_S (for biased coordinates, chi_S is the product of the
standardised coordinates). The extension is affine in each coordinate, so at
Z = (X+Y)/2 each standardised coordinate is Z_i = (X_i + Y_i)/2 and chi_S(Z) =
prod_{i in S} Z_i. For one coordinate E[Z_i] = 0 and E[X_i Z_i] = E[Z_i^2] = 1/2;
expectations of products over independent coordinates factorise, so
Cov(chi_S(X), chi_T(Z)) = Cov(chi_S(Z), chi_T(Z)) = 0 for S != T and
Cov(chi_S(X), chi_S(Z)) = Var chi_S(Z) = 2^-|S|. Hence
Cov(F(X), F(Z)) = Var F(Z) = sum_k 2^-k W_k and Var F(X) = V, so r2 = Cov^2/(V Var F(Z))
= sum_k 2^-k W_k / V. The best linear (affine) approximation of F is its degree <= 1
part, so s2 = W1/V. With max_degree = K every W_k >= 0 and V > 0 is realized, so the
encoding is exact. With "inf", put Wtail = sum_{k>=5} W_k; when Wtail > 0 the tail's
covariance share sum_{k>=5} 2^-k W_k is Wtail times a weighted average of numbers in
(0, 2^-5], i.e. u*Wtail with 0 < u <= 2^-5 (when Wtail = 0 any such u gives share 0).
So every member satisfies the constraints u > 0, 1 - 32u >= 0 — no disjunction needed —
and conversely every such point is realized (below). Denominators: V is a sum of
nonnegative components dominating the strict constraint V > 0, so it is positive and
clearing it keeps every inequality's direction.

Facts: s2/2 <= r2 <= (1 + s2)/4; the upper bound is attained (linear plus degree 2),
the lower only approached as the degree grows; with finite K,
r2 >= s2/2 + 2^-K (1 - s2); with "inf", r2 > s2/2 whenever s2 < 1.

Realizer: F = sum sqrt(W_k) chi_{S_k} on disjoint coordinate sets with |S_k| = k; the
tail is realized as a mix of degree 5 and one higher degree m with 2^-m <= u, weights
chosen so the tail's share is exactly u*Wtail. Statistics are recomputed exactly from
that F by enumerating every pair (X, Y) of a block and evaluating the multilinear
extension at the midpoint (covariances), by solving the least-squares normal equations
(s2) and by Walsh transforms (the realized W's) — never from the 2^-k formula
(prover.realizers.multilinear_exact documents the two independence facts it uses).
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import InputError
from ..poly import Poly
from .base import Atom, Evidence, Model, ModelInstance, Param, Ratio, Statistic
from .display import Picture

MAX_K = 12
TAIL_START = 5
# search only: a lower bound on u so that every searched point is realized with a tail
# of degree at most 8
SEARCH_MIN_U = Fraction(1, 2 ** 8)

OTHER_MODELS = {
    "twins": ("rMZ", "rDZ", "rPO", "rHS", "rFC", "h2", "H2", "c2", "e2", "falconer",
              "phantom", "VA", "VD", "VAA", "VAD", "VDD", "VC", "VE"),
}


class _DegreeParam(Param):
    """An integer 1..12 or "inf"; every error says both."""

    def validate(self, value):
        if value == "inf":
            return "inf"
        if isinstance(value, bool) or not isinstance(value, int) or \
                not self.minimum <= value <= self.maximum:
            raise InputError(f"parameter '{self.name}' must be an integer from "
                             f"{self.minimum} to {self.maximum}, or \"inf\" (all degrees); "
                             f"got {value!r}")
        return value


class Multilinear(Model):
    name = "multilinear"
    lazy_modules = ("prover.realizers.multilinear_exact",)
    pictures = (Picture("frontier-multilinear", "s2", "r2",
                        compare=({"max_degree": 3}, {"max_degree": 6})),)
    summary = ("the r2–s2 puzzle for any function on {-1,+1}^n (Fourier–Walsh variance "
               "by interaction degree)")
    params = (
        _DegreeParam("max_degree", "int_or_inf", "inf",
                     'highest interaction degree K, or "inf" for all functions (W1..W4 '
                     "and a tail Wtail for every degree above 4)", minimum=1, maximum=MAX_K),
    )

    def build(self, params: dict) -> ModelInstance:
        k_max = params["max_degree"]
        infinite = k_max == "inf"
        degrees = range(1, (TAIL_START - 1 if infinite else k_max) + 1)
        components = [f"W{k}" for k in degrees] + (["Wtail"] if infinite else [])
        variables = components + (["u"] if infinite else [])
        w = {n: Poly.var(n) for n in variables}
        total = Poly.sum(w[n] for n in components)
        cov = Poly.sum(w[f"W{k}"].scale(Fraction(1, 2 ** k)) for k in degrees)
        constraints = [Atom(w[n], ">=") for n in components] + [Atom(total, ">")]
        search = [Atom(total - 1, "==")]    # statistics are scale-free: V = 1 loses nothing
        if infinite:
            u = w["u"]
            cov = cov + u * w["Wtail"]
            constraints += [Atom(u, ">"), Atom(1 - u.scale(2 ** TAIL_START), ">=")]
            search.append(Atom(u - SEARCH_MIN_U, ">="))
        stats = {
            "s2": Statistic("s2", "share of Var F explained by the best linear "
                            "approximation, W1/V", Ratio(w["W1"], total)),
            "r2": Statistic("r2", "squared correlation of F(X) and F((X+Y)/2), "
                            "sum 2^-k W_k / V", Ratio(cov, total)),
            "r": Statistic("r", "correlation of F(X) and F((X+Y)/2) (>= 0 here)",
                           expression="sqrt(r2)"),
        }
        unavailable = {}
        for k in range(len(degrees) + 1, MAX_K + 1):
            unavailable[f"W{k}"] = (f"degrees above {TAIL_START - 1} are pooled in Wtail when "
                                    'max_degree = "inf"' if infinite else
                                    f"needs max_degree >= {k}")
        if not infinite:
            unavailable["Wtail"] = 'needs max_degree = "inf"'
        else:
            unavailable["u"] = ("u is internal (the tail's covariance share per unit of "
                                "Wtail) and cannot be named in a claim")
        for model, names in OTHER_MODELS.items():
            for n in names:
                unavailable[n] = (f"'{n}' belongs to the '{model}' model; this model has "
                                  f"s2, r2, r and {', '.join(components)}")
        return ModelInstance(model=self, params=params, variables=variables,
                             components=components, constraints=constraints,
                             statistics=stats, search_constraints=search,
                             unavailable=unavailable, realize=_realize)


def tail_blocks(w_tail: Fraction, u: Fraction) -> list[tuple[int, Fraction]]:
    """Degree-5 and degree-m blocks whose variances sum to ``w_tail`` and whose share of
    the covariance is exactly ``u * w_tail`` (2^-m <= u <= 2^-5, m the least such)."""
    if w_tail == 0:
        return []
    if not 0 < u <= Fraction(1, 2 ** TAIL_START):
        raise InputError(f"the tail share u must be in (0, 1/32], got {u}")
    if u == Fraction(1, 2 ** TAIL_START):
        return [(TAIL_START, w_tail)]
    m = TAIL_START + 1
    while Fraction(1, 2 ** m) > u:
        m += 1
    low, high = Fraction(1, 2 ** m), Fraction(1, 2 ** TAIL_START)
    alpha = (u - low) / (high - low)        # alpha*2^-5 + (1-alpha)*2^-m = u
    return [(d, x) for d, x in ((TAIL_START, alpha * w_tail), (m, (1 - alpha) * w_tail)) if x]


def _realize(values: dict[str, Fraction], *, seed: int | None = None,
             effort: int = 1) -> Evidence:
    from ..realizers.multilinear_exact import realize_blocks

    values = {k: Fraction(v) for k, v in values.items()}
    blocks = [(int(name[1:]), values[name]) for name in values
              if name.startswith("W") and name[1:].isdigit()]
    blocks.sort()
    infinite = "Wtail" in values
    tail = []
    if infinite:
        tail = tail_blocks(values["Wtail"], values.get("u", Fraction(1, 2 ** TAIL_START)))
    result = realize_blocks(blocks + tail)
    exact = {"s2": result.s2, "r2": result.r2}
    top = TAIL_START - 1 if infinite else max((int(n[1:]) for n in values
                                               if n.startswith("W") and n[1:].isdigit()),
                                              default=0)
    for k in range(1, top + 1):
        exact[f"W{k}"] = result.degree_weights.get(k, Fraction(0))
    if infinite:
        exact["Wtail"] = sum((w for d, w in result.degree_weights.items() if d > top),
                             Fraction(0))
    realization = dict(result.realization)
    if tail:
        realization["tail"] = (f"Wtail = {values['Wtail']} with covariance share "
                               f"u*Wtail, u = {values['u']}: realized as " + " and ".join(
                                   f"degree {d} with variance {w}" for d, w in tail))
    realization["measured"] = {
        "Var F(X)": str(result.var_x), "Var F(Z)": str(result.var_z),
        "Cov(F(X), F(Z))": str(result.cov_xz),
        "variance of the least-squares affine fit": str(result.explained),
    }
    return Evidence(method="exact enumeration of all (X, Y) pairs per block through the "
                    "multilinear extension; s2 by exact least squares",
                    realization=realization, seed=seed, samples=None, exact=exact)


MODEL = Multilinear()
