"""gaussian — the puzzle, literally, for Gaussian P.

Family: X, Y independent N(0, I_n) (n = dim, 1..4, default 1), Z = (X + Y)/2 ~ N(0, I/2),
Cov(X, Z) = I/2; F any real polynomial of total degree <= d (d = degree, 1..10, default
3) with Var F(X) > 0.
Statistics: s2 = share of Var F(X) explained by the best affine fit of F(X) on X;
r2 = Corr(F(X), F(Z))^2; r = sqrt(r2). No components may be named in claims.

Notation. He_m are the probabilists' Hermite polynomials, He_alpha(x) = prod_i
He_{alpha_i}(x_i), orthogonal under N(0, I) with E[He_alpha^2] = alpha!. Write
F = sum_alpha a_alpha He_alpha, F_k = its part of Hermite degree |alpha| = k,
W_k = E[F_k(X)^2] = sum_{|alpha|=k} alpha! a_alpha^2 >= 0; V = Var F(X) = W_1 + ... + W_d.

PROOF SIDE — a relaxation in five aggregate variables, the same for every dim:
  W1 = W_1 (linear part), V = Var F(X), A = sum_k 2^-k W_k, Q = Var F(Z), C = Cov(F(X), F(Z))
  with the constraints
  (a) W1 >= 0, V - W1 >= 0, V > 0, Q > 0, V*Q > 0;
  (b) d = 1: W1 = V, A = W1/2;   d = 2: A = W1/2 + (V - W1)/4;
      d >= 3: W1/2 + 2^-d (V - W1) <= A <= W1/2 + (V - W1)/4;
  (c) d <= 2: C = A and Q = A;
  (d) C^2 <= Q*A   (the lemma: Cov^2 <= Var F(Z) * Var E[F(X)|Z]);
  and s2 = W1/V, r2 = C^2/(V*Q).
Why every real F gives a point satisfying them (so "unsat" proves the claim for all F):
 1. Parseval: V = sum_{k>=1} W_k. The best affine fit of F(X) is its projection on
    span{1, x_1..x_n} = Hermite degree <= 1, so s2 = W_1/V. r2 = C^2/(V Q) by definition.
 2. V > 0 is the family's hypothesis. Q > 0: F is a nonconstant polynomial and Z has a
    positive density, so F(Z) is not a.s. constant. Hence V*Q > 0. W1 >= 0, V - W1 =
    sum_{k>=2} W_k >= 0.
 3. (b): A - W1/2 = sum_{k=2..d} 2^-k W_k lies between 2^-d and 1/4 times
    sum_{k>=2} W_k = V - W1 (equal to 1/4 of it when d = 2); for d = 1, W_k = 0 for k >= 2.
 4. Mehler: U = sqrt2 Z is N(0, I), and (X, U) is jointly Gaussian with Cov(X_i, U_j) =
    rho delta_ij, rho = 2^-1/2; so E[He_alpha(X) | U] = rho^|alpha| He_alpha(U) and
    E[F(X) | Z] = sum_k rho^k F_k(U), whose variance is sum_k 2^-k W_k = A.
 5. (d): C = Cov(F(X), F(Z)) = Cov(E[F(X)|Z], F(Z)) (F(Z) is a function of Z), so by
    Cauchy–Schwarz C^2 <= Var E[F(X)|Z] * Var F(Z) = A*Q.
 6. (c): let G(u) = F(rho u), so F(Z) = G(U). Per coordinate He_m(rho u) = rho^m He_m(u)
    + (multiples of He_{m-2}, He_{m-4}, ...), so the Hermite-degree-k part of G is
    G_k = rho^k F_k + (parts coming from F_j, j >= k+2). For d <= 2 and k >= 1 no such
    j exists: G_k = rho^k F_k, hence Q = sum_k E[G_k(U)^2] = sum_k 2^-k W_k = A and
    C = sum_k E[rho^k F_k(U) G_k(U)] = sum_k 2^-k W_k = A (orthogonality of degrees).
Consequences (each has an exact Positivstellensatz certificate of degree 2): r2 <= A/V
<= (W1/2 + (V - W1)/4)/V = (1 + s2)/4 and r2 <= 1/2; for d <= 2, r2 = (1 + s2)/4 exactly.
The relaxation keeps no lower bound on C for d >= 3, so a "sat" answer on this side is
only a candidate: counterexamples are searched for on the concrete side.

COUNTEREXAMPLE SIDE (the concrete family): the Hermite coefficients of F — a3 is the
coefficient of He_3(x) in dim 1, a2_0_1 that of He_2(x1) He_1(x3) in dim 3 (the constant
does not matter). V, W1, C and Q are exact rational quadratic forms in them, from
E[He_m(X) He_l(Z)] = 2^-m (-1/4)^i l!/i! (l = m + 2i; 0 otherwise) and
E[He_l(Z) He_m(Z)] = sum_p 2^-p (-1/4)^(i+j) l! m!/(i! j! p!) (p = l - 2i = m - 2j), per
coordinate. Statistics are these exact ratios. Search only (never in a proof): the
linear part is taken along x1 (s2 and r2 are invariant under rotations x -> Rx, which keep
the degree), and the scale is fixed (V = 1; for large instances, where V, W1, C, Q are
auxiliaries tied by equalities, one coefficient = 1 per tier instead) — the statistics
are scale- and sign-free. Tiers searched first: polynomials of x1 alone of degree <= 3,
of odd degrees, of even degrees, of any degree; then the whole family.

REALIZER: the polynomial itself, rewritten in monomials by He_{m+1} = x He_m - m He_{m-1}.
s2 and r2 are recomputed exactly from the definitions in the monomial basis — E[X^a] =
(a-1)!! for even a, Z = (X+Y)/2 expanded binomially with X, Y independent, the best
affine fit by the normal equations — using no Hermite formula; and a seeded Monte Carlo
(20 batches; adjusted R^2 and squared correlation) must agree with them: every exact value
inside its 99.9% batch-means interval. If it does not, the exact values are withheld and
the pipeline judges by the simulation's intervals alone.

Facts: r2 <= (1 + s2)/4 and r2 <= 1/2 for every F, attained by F = x + He_2(x);
r2 >= s2/2 is false (F = x - x^3: s2 = 2/5, r2 = 5/28). The greatest lower bound of r2
given s2 is open. Cov(F(X), F(Z)) itself can be negative from degree 5 on (F = He_1/18 -
He_3 - (3/7) He_5), so some real F of degree 5 has r2 = 0.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from functools import lru_cache

from ..poly import Poly
from .base import Atom, Evidence, Model, ModelInstance, Param, Ratio, Statistic
from .display import Picture

RELAXATION_VARIABLES = ("W1", "V", "A", "Q", "C")
ODD_SCALE = "t"          # the odd part of F carries sqrt(t) (concrete family only)
DIRECT_LIMIT = 20_000    # expand C^2 and V*Q in the coefficients up to this many products
SLICE_STARTS = 200       # local searches for the minima of r2 on a claim's slice of s2

STATISTICS_DOC = {
    "s2": "share of Var F(X) explained by the best linear (affine) fit of F(X) on X",
    "r2": "squared correlation of F(X) and F(Z), Z = (X+Y)/2",
    "r": "sqrt(r2), the correlation of F(X) and F(Z) in absolute value",
}


# --- exact Hermite tables (model formulas; the realizer never uses them) ------------------

@lru_cache(maxsize=None)
def cross_moment(m: int, l: int) -> Fraction:
    """E[He_m(X) He_l(Z)] for X ~ N(0,1), Z = (X+Y)/2: 2^-m (-1/4)^i l!/i!, l = m + 2i."""
    if l < m or (l - m) % 2:
        return Fraction(0)
    i = (l - m) // 2
    return Fraction(math.factorial(l), math.factorial(i)) * Fraction(-1, 4) ** i / 2 ** m


@lru_cache(maxsize=None)
def z_moment(l: int, m: int) -> Fraction:
    """E[He_l(Z) He_m(Z)] for Z ~ N(0, 1/2), via He_l(rho u) in the Hermite basis of u."""
    if (l - m) % 2:
        return Fraction(0)
    total = Fraction(0)
    for p in range(min(l, m) % 2, min(l, m) + 1, 2):
        i, j = (l - p) // 2, (m - p) // 2
        total += (Fraction(math.factorial(l) * math.factorial(m),
                           math.factorial(i) * math.factorial(j) * math.factorial(p))
                  * Fraction(-1, 4) ** (i + j) / 2 ** p)
    return total


def multi_indices(dim: int, degree: int) -> list[tuple[int, ...]]:
    """Every alpha with 1 <= |alpha| <= degree, by degree then lexicographically reversed."""
    out = []
    for k in range(1, degree + 1):
        level = [a for a in itertools.product(range(k + 1), repeat=dim) if sum(a) == k]
        out += sorted(level, reverse=True)
    return out


def coefficient_name(alpha: tuple[int, ...]) -> str:
    return "a" + "_".join(str(e) for e in alpha)


def parse_coefficient_name(name: str) -> tuple[int, ...]:
    return tuple(int(e) for e in name[1:].split("_"))


def alpha_factorial(alpha) -> int:
    return math.prod(math.factorial(e) for e in alpha)


def hermite_forms(dim: int, degree: int) -> dict[str, dict]:
    """Quadratic forms in the Hermite coefficients: {'V','W1','C','Q'} -> {(i, j): coeff}
    over index pairs (i <= j) into multi_indices(dim, degree); off-diagonal entries are
    the whole coefficient of a_i a_j."""
    alphas = multi_indices(dim, degree)
    forms = {"V": {}, "W1": {}, "C": {}, "Q": {}}
    zmean = [math.prod(z_moment(e, 0) for e in a) for a in alphas]
    for i, a in enumerate(alphas):
        forms["V"][(i, i)] = Fraction(alpha_factorial(a))
        if sum(a) == 1:
            forms["W1"][(i, i)] = Fraction(1)
    classes: dict[tuple[int, ...], list[int]] = {}
    for i, a in enumerate(alphas):          # only equal parities per coordinate meet
        classes.setdefault(tuple(e % 2 for e in a), []).append(i)
    for members in classes.values():
        for i in members:
            a = alphas[i]
            for j in members:
                b = alphas[j]
                c = math.prod(cross_moment(x, y) for x, y in zip(a, b))
                if c:
                    key = (min(i, j), max(i, j))
                    forms["C"][key] = forms["C"].get(key, Fraction(0)) + c
                if j >= i:
                    q = math.prod(z_moment(x, y) for x, y in zip(a, b)) - zmean[i] * zmean[j]
                    if q:
                        forms["Q"][(i, j)] = q * (1 if i == j else 2)
    return forms


def form_poly(form: dict, names: list[str]) -> Poly:
    terms = {}
    for (i, j), c in form.items():
        mono = ((names[i], 2),) if i == j else tuple(sorted(((names[i], 1), (names[j], 1))))
        terms[mono] = terms.get(mono, Fraction(0)) + c
    return Poly(terms)


def scaled_forms(dim: int, degree: int, names: list[str]) -> tuple[Poly, Poly, Poly, Poly]:
    """V, Q, C, W1 of F = F_even + sqrt(t) F_odd (parts of even and odd Hermite degree,
    coefficients ``names``) as polynomials in the coefficients and t: each form couples
    only multi-indices of equal parity in every coordinate, so it splits into an even
    block plus t times an odd block."""
    forms = hermite_forms(dim, degree)
    alphas = multi_indices(dim, degree)
    t = Poly.var(ODD_SCALE)
    out = []
    for key in ("V", "Q", "C", "W1"):
        even = {ij: c for ij, c in forms[key].items() if sum(alphas[ij[0]]) % 2 == 0}
        odd = {ij: c for ij, c in forms[key].items() if sum(alphas[ij[0]]) % 2}
        assert all(sum(alphas[i]) % 2 == sum(alphas[j]) % 2 for i, j in forms[key])
        out.append(form_poly(even, names) + t * form_poly(odd, names))
    return tuple(out)


# --- the model --------------------------------------------------------------------------

class Gaussian(Model):
    name = "gaussian"
    lazy_modules = ("numpy.random", "prover.realizers.gaussian_exact", "prover.quadratic_ratio",
                    "prover.quadratic_wedges", "prover.quartic_ratio")
    pictures = (Picture("frontier-gaussian", "s2", "r2",
                        compare=({"degree": 5}, {"degree": 8})),)
    summary = "the puzzle for P = N(0, I_n) and F a polynomial (Hermite-degree relaxation)"
    params = (
        Param("degree", "int", 3, "largest total degree of the polynomial F",
              minimum=1, maximum=10),
        Param("dim", "int", 1, "dimension n of X ~ N(0, I_n)", minimum=1, maximum=4),
    )

    def build(self, params: dict) -> ModelInstance:
        d = params["degree"]
        W1, V, A, Q, C = (Poly.var(x) for x in RELAXATION_VARIABLES)
        cons = [Atom(W1, ">="), Atom(V - W1, ">="), Atom(V, ">"), Atom(Q, ">"),
                Atom(V * Q, ">")]
        if d == 1:                      # F linear: W1 = V, A = V/2
            cons += [Atom(V - W1, "=="), Atom(A.scale(2) - W1, "==")]
        elif d == 2:                    # A = W1/2 + (V - W1)/4
            cons += [Atom(A.scale(4) - W1 - V, "==")]
        else:                           # W1/2 + 2^-d (V - W1) <= A <= W1/2 + (V - W1)/4
            cons += [Atom(V + W1 - A.scale(4), ">="),
                     Atom(A.scale(2 ** d) - W1.scale(2 ** (d - 1) - 1) - V, ">=")]
        if d <= 2:                      # exact: C = Q = A
            cons += [Atom(C - A, "=="), Atom(Q - A, "==")]
        cons.append(Atom(Q * A - C * C, ">="))          # the lemma C^2 <= Q A
        stats = _statistics(Ratio(W1, V), Ratio(C * C, V * Q))
        return ModelInstance(model=self, params=params, variables=list(RELAXATION_VARIABLES),
                             components=[], constraints=cons, statistics=stats,
                             realize=None, concrete=self.build_concrete(params))

    def build_concrete(self, params: dict, expand: bool | None = None) -> ModelInstance:
        """The exact family: F's Hermite coefficients, statistics from exact moments.

        ``expand`` (default: when small enough) writes the statistics as ratios of the
        expanded forms; otherwise V, W1, C, Q are auxiliaries tied by equalities."""
        d, n = params["degree"], params["dim"]
        alphas = multi_indices(n, d)
        names = [coefficient_name(a) for a in alphas]
        V, Q, C, W1 = scaled_forms(n, d, names)
        # V > 0 is the family's hypothesis; Q = Var F(Z) > 0 follows (see the docstring)
        t = Poly.var(ODD_SCALE)
        cons = [Atom(t, ">"), Atom(V, ">"), Atom(Q, ">")]
        if expand is None:
            expand = len(C.terms) ** 2 + len(V.terms) * len(Q.terms) <= DIRECT_LIMIT
        if expand:
            # V*Q > 0 (a product of positives) stated as a constraint, so that the encoder
            # takes the denominator of r2 as a positive factor and clears it (no quotient
            # variable): s2 == c becomes W1 - c*V == 0 and r2 < m becomes m*V*Q - C^2 > 0
            cons.append(Atom(V * Q, ">"))
            # the coefficients are the only variables: any rational point is a polynomial,
            # and the statistics follow from it (the encoder introduces the quotients)
            variables = names + [ODD_SCALE]
            stats = _statistics(Ratio(W1, V), Ratio(C * C, V * Q))
            search = []
        else:
            # too large to expand C^2 and V*Q: positive auxiliaries tied by equalities
            aux = {x: Poly.var(x) for x in ("V", "Q", "C", "W1")}
            variables = names + [ODD_SCALE] + list(aux)
            cons += [Atom(aux["V"] - V, "=="), Atom(aux["Q"] - Q, "=="),
                     Atom(aux["C"] - C, "=="), Atom(aux["W1"] - W1, "=="),
                     Atom(aux["W1"], ">="), Atom(aux["V"], ">"), Atom(aux["Q"], ">"),
                     Atom(aux["V"] * aux["Q"], ">")]
            stats = _statistics(Ratio(aux["W1"], aux["V"]),
                                Ratio(aux["C"] * aux["C"], aux["V"] * aux["Q"]))
            search = []
        # no normalization V = 1 (it makes the solver answer with irrational points, which
        # rounding then takes off an equality such as s2 == 1/2); the tiers fix one
        # coefficient to 1 instead, and t carries the relative scale of the odd part

        # rotation invariance: s2 and r2 do not change under x -> R x (R orthogonal), which
        # keeps the degree, so the linear part may be taken along x1 (lossless)
        search += [Atom(Poly.var(coefficient_name(a)), "==") for a in alphas
                   if sum(a) == 1 and a[0] == 0]

        def realize(values, *, seed: int, effort: int = 1) -> Evidence:
            from ..realizers.gaussian_exact import realize_hermite
            coeffs = {parse_coefficient_name(x): Fraction(values[x]) for x in names}
            return realize_hermite(coeffs, dim=n, degree=d, seed=seed, effort=effort,
                                   odd_scale2=Fraction(values[ODD_SCALE]))

        def starts(problem, seconds: float) -> list[dict[str, float]]:
            # a claimed lower bound on r2 on a slice of s2: the slice's local minima of r2
            # (the walk of numsearch rarely finds the thin valley from degree 8 on)
            if not expand:
                return []
            import time
            from ..quadratic_wedges import slice_minimizers
            return slice_minimizers(problem, lower_bound_forms(n, d), SLICE_STARTS,
                                    time.perf_counter() + seconds)

        return ModelInstance(model=self, params=params, variables=variables, components=[],
                             constraints=cons, statistics=stats, search_constraints=search,
                             search_tiers=search_tiers(alphas),
                             realize=realize, search_starts=starts)


    def boundary_claims(self, params: dict, x: str, y: str):
        """(s2, r2) in dimension 1: ``lo <= s2 <= hi implies r2 >= m`` on five bands of
        width 1/5, m a little below the best bound of the certificate forms there (the
        S-lemma's, and where it stops short the quartic sum of squares'; found in floats
        here; the frontier certifies each claim or drops it). Yielded one band at a time:
        each proposal is a float optimization, made only if the frontier's deadline has
        not passed since the last."""
        if (x.strip(), y.strip()) != ("s2", "r2") or params["dim"] != 1:
            return
        from ..quadratic_ratio import best_form
        from ..quartic_ratio import best_bound
        f = lower_bound_forms(1, params["degree"])
        for k in range(5):
            lo, hi = Fraction(k, 5), Fraction(k + 1, 5)
            mu = best_form(f, lo, hi, False)[0]
            bound = 4 * mu * mu if mu > 0 else 0.0
            if params["degree"] % 2:            # the S-lemma's rank gap: odd blocks
                bound = max(bound, best_bound(f, lo, hi, False) or 0.0)
            m = Fraction(math.floor(bound * 0.995 * 10 ** 4), 10 ** 4)
            if m > 0:
                yield [f"{lo} <= s2", f"s2 <= {hi}"], f"r2 >= {m}"

    def concrete_certificate(self, params: dict, problem) -> tuple[dict | None, str]:
        """Lower bounds on r2 on a slice of s2 (prover/quadratic_ratio.py: an S-lemma
        certificate C >= alpha V + beta Q there, then r2 >= 4 alpha beta), over the
        expanded concrete family."""
        from ..quadratic_wedges import search
        d, n = params["degree"], params["dim"]
        if any(v in problem.variables for v in ("V", "Q", "C", "W1")):
            return None, ("the concrete family is too large to expand here (dim "
                          f"{n}, degree {d}); the lower-bound certificate needs it expanded")
        return search(problem, lower_bound_forms(n, d))


def lower_bound_forms(dim: int, degree: int):
    """V, Q, C, W1 of the expanded concrete family with its even and odd coefficient
    blocks, as ``prover.quadratic_ratio`` takes them."""
    from ..quadratic_ratio import Forms
    alphas = multi_indices(dim, degree)
    names = [coefficient_name(a) for a in alphas]
    V, Q, C, W1 = scaled_forms(dim, degree, names)
    return Forms(V, Q, C, W1, [x for x, a in zip(names, alphas) if sum(a) % 2 == 0],
                 [x for x, a in zip(names, alphas) if sum(a) % 2 == 1], ODD_SCALE)


def search_tiers(alphas: list[tuple[int, ...]]) -> list[list[Atom]]:
    """Subfamilies searched first (small ones are where Z3 finds counterexamples):
    polynomials of x1 alone of degree <= 3, then of odd, then of even degrees only, then
    of any degree, then the whole family; each is skipped when it repeats an earlier one.
    The statistics are free of the scale of F and, through t, of the relative scale of
    its odd part, so each tier fixes its lowest-degree coefficient to 1 (He_1, or He_2
    for the even tier; the first tier also once with no linear part and He_2 = 1), and a
    tier with only odd or only even parts fixes t = 1: this loses only polynomials where
    that coefficient is 0 (the whole family, unnormalized, is searched last by check)."""
    def only_x1(a):
        return all(e == 0 for e in a[1:])

    keeps = [lambda a: only_x1(a) and sum(a) <= 3,
             lambda a: only_x1(a) and sum(a) % 2 == 1,
             lambda a: only_x1(a) and sum(a) % 2 == 0,
             only_x1,
             lambda a: True]
    tiers, seen = [], set()
    t = Poly.var(ODD_SCALE)
    for keep in keeps:
        kept = frozenset(a for a in alphas if keep(a))
        if not kept or kept in seen:
            continue
        seen.add(kept)
        zero = [Atom(Poly.var(coefficient_name(a)), "==") for a in alphas if a not in kept]
        if len({sum(a) % 2 for a in kept}) == 1:
            zero.append(Atom(t - 1, "=="))
        # scale: the lowest x1-degree present is 1 (and, for the first tier, also the
        # case without linear part)
        low = sorted((a for a in kept if only_x1(a)), key=sum)
        choices = low[:2] if not tiers and low[0][0] == 1 and len(low) > 1 else low[:1]
        for k, lead in enumerate(choices):
            below = [Atom(Poly.var(coefficient_name(a)), "==") for a in low[:k]]
            tiers.append(zero + below + [Atom(Poly.var(coefficient_name(lead)) - 1, "==")])
    return tiers


def _statistics(s2: Ratio, r2: Ratio) -> dict[str, Statistic]:
    return {"s2": Statistic("s2", STATISTICS_DOC["s2"], s2),
            "r2": Statistic("r2", STATISTICS_DOC["r2"], r2),
            "r": Statistic("r", STATISTICS_DOC["r"], expression="sqrt(r2)")}


MODEL = Gaussian()
