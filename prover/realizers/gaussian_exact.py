"""Realizer for the `gaussian` model: the polynomial itself, measured two independent ways.

Given F's Hermite coefficients (what the solver proposes), F is rewritten in the monomial
basis by the defining recurrence He_0 = 1, He_1 = x, He_{m+1} = x He_m - m He_{m-1}.
From then on only the monomial coefficients are used:

* exactly, from the definitions: X, Y independent N(0, I_n), Z = (X+Y)/2; moments
  E[X^a] = (a-1)!! for even a (0 for odd a), E[X^a Z^b] by expanding ((X+Y)/2)^b
  binomially; Var F(X), Var F(Z), Cov(F(X), F(Z)); the best affine fit of F(X) on X by
  solving the normal equations with exact moments; s2 = explained share, r2 = Corr^2;
* by simulation: seeded draws of X and Y in 20 batches, s2 as the (adjusted) R^2 of an
  ordinary least-squares fit of F(X) on (1, X), r2 as the (adjusted) squared sample
  correlation of F(X) and F(Z).

No Hermite moment formula, Mehler's formula or model statistic is used here: agreement
with the model's exact ratios is a genuine check of them.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np

from ..models.base import Evidence
from .moments import solve_exact
from .student import t_quantile
from .surd import Surd, rational_sqrt

BATCHES = 20
SAMPLES_PER_EFFORT = 200_000
# the exact values must lie in the batch-means intervals (two-sided 99.9 % Student t, for
# the batches there are: student.py) for the exact computation to be reported

Monomials = dict[tuple[int, ...], Fraction]


# --- the polynomial ---------------------------------------------------------------------

@lru_cache(maxsize=None)
def hermite_1d(m: int) -> tuple[Fraction, ...]:
    """Monomial coefficients (constant first) of He_m, by the three-term recurrence."""
    prev, cur = (Fraction(1),), (Fraction(0), Fraction(1))
    if m == 0:
        return prev
    for k in range(1, m):
        nxt = [Fraction(0)] * (k + 2)
        for i, c in enumerate(cur):
            nxt[i + 1] += c
        for i, c in enumerate(prev):
            nxt[i] -= k * c
        prev, cur = cur, tuple(nxt)
    return cur


def hermite_to_monomial(coeffs: dict[tuple[int, ...], Fraction]) -> Monomials:
    out: Monomials = {}
    for alpha, a in coeffs.items():
        if not a:
            continue
        parts = [hermite_1d(e) for e in alpha]
        # product of the one-dimensional expansions
        terms = {(): Fraction(a)}
        for part in parts:
            terms = {exps + (p,): c * pc for exps, c in terms.items()
                     for p, pc in enumerate(part) if pc}
        for exps, c in terms.items():
            out[exps] = out.get(exps, Fraction(0)) + c
    return {k: v for k, v in out.items() if v}


def _coordinate_names(dim: int) -> list[str]:
    return ["x"] if dim == 1 else [f"x{i + 1}" for i in range(dim)]


def monomial_text(exps: tuple[int, ...]) -> str:
    """x^3, x1^2*x2, or 1 for the constant."""
    names = _coordinate_names(len(exps))
    return "*".join(n if e == 1 else f"{n}^{e}" for n, e in zip(names, exps) if e) or "1"


def hermite_text(alpha: tuple[int, ...]) -> str:
    """He3(x), He2(x1)*He1(x3)."""
    names = _coordinate_names(len(alpha))
    return "*".join(f"He{e}({n})" for n, e in zip(names, alpha) if e) or "1"


def polynomial_text(mono: Monomials, dim: int) -> str:
    parts = []
    for exps in sorted(mono, key=lambda e: (sum(e), tuple(-x for x in e))):
        c = mono[exps]
        mono_text = monomial_text(exps) if any(exps) else ""
        mag = abs(c)
        num = str(mag) if mag.denominator == 1 else f"({mag})"
        body = mono_text if (mag == 1 and mono_text) else (
            num if not mono_text else f"{num}*{mono_text}")
        parts.append(("-" if c < 0 else "+", body))
    if not parts:
        return "0"
    text = ("-" if parts[0][0] == "-" else "") + parts[0][1]
    for sign, body in parts[1:]:
        text += f" {sign} {body}"
    return text


# --- exact moments from the definition ----------------------------------------------------

@lru_cache(maxsize=None)
def normal_moment(a: int) -> int:
    """E[X^a] for X ~ N(0, 1): (a-1)!! for even a, 0 for odd a."""
    if a % 2:
        return 0
    return math.prod(range(a - 1, 0, -2))


@lru_cache(maxsize=None)
def xz_moment(a: int, b: int) -> Fraction:
    """E[X^a Z^b] for one coordinate, Z = (X+Y)/2, X and Y independent N(0, 1)."""
    total = sum(math.comb(b, j) * normal_moment(a + j) * normal_moment(b - j)
                for j in range(b + 1))
    return Fraction(total, 2 ** b)


def _integer_table(kind: str, top: int) -> list[list[int]]:
    """2^shift * moment, an integer: kind 'xx' E[X^a X^b] (shift 0), 'xz' E[X^a Z^b]
    (shift b), 'zz' E[Z^a Z^b] (shift a + b)."""
    table = [[0] * (top + 1) for _ in range(top + 1)]
    for a in range(top + 1):
        for b in range(top + 1):
            if kind == "xx":
                table[a][b] = normal_moment(a + b)
            elif kind == "xz":
                table[a][b] = int(xz_moment(a, b) * 2 ** b)
            else:
                table[a][b] = int(xz_moment(0, a + b) * 2 ** (a + b))
    return table


def _expect(mono_f: Monomials, mono_g: Monomials, kind: str) -> Fraction:
    """E[f(.) g(.)] for the pair ('xx': f(X) g(X), 'xz': f(X) g(Z), 'zz': f(Z) g(Z)),
    in integer arithmetic: pairs whose exponents differ in parity in some coordinate
    contribute 0 and are skipped."""
    if not mono_f or not mono_g:
        return Fraction(0)
    top = max(max(e, default=0) for e in list(mono_f) + list(mono_g))
    table = _integer_table(kind, top)
    shift_f = (lambda e: sum(e)) if kind == "zz" else (lambda e: 0)
    shift_g = (lambda e: 0) if kind == "xx" else (lambda e: sum(e))
    den_f = math.lcm(*(c.denominator for c in mono_f.values()))
    den_g = math.lcm(*(c.denominator for c in mono_g.values()))
    top_f = max(shift_f(e) for e in mono_f)
    top_g = max(shift_g(e) for e in mono_g)
    by_parity: dict[tuple[int, ...], list[tuple[tuple[int, ...], int]]] = {}
    for e, c in mono_g.items():     # integer coefficient times 2^(top_g - shift)
        by_parity.setdefault(tuple(x % 2 for x in e), []).append(
            (e, int(c * den_g) << (top_g - shift_g(e))))
    total = 0
    for ea, ca in mono_f.items():
        inner = 0
        for eb, cb in by_parity.get(tuple(x % 2 for x in ea), ()):
            term = cb
            for x, y in zip(ea, eb):
                term *= table[x][y]
                if not term:
                    break
            inner += term
        total += (int(ca * den_f) << (top_f - shift_f(ea))) * inner
    return Fraction(total, den_f * den_g * 2 ** (top_f + top_g))


def exact_statistics(mono: Monomials, dim: int) -> dict[str, Fraction]:
    """s2, r2 and the moments behind them, exactly, from the monomial coefficients."""
    one = {(0,) * dim: Fraction(1)}
    mean_x = _expect(mono, one, "xx")
    mean_z = _expect(one, mono, "xz")
    var_x = _expect(mono, mono, "xx") - mean_x ** 2
    var_z = _expect(mono, mono, "zz") - mean_z ** 2
    cov = _expect(mono, mono, "xz") - mean_x * mean_z
    # best affine fit of F(X) on X: normal equations Sigma beta = Cov(X, F(X))
    coords = [{tuple(int(i == j) for i in range(dim)): Fraction(1)} for j in range(dim)]
    sigma = [[_expect(ci, cj, "xx") - _expect(ci, one, "xx") * _expect(cj, one, "xx")
              for cj in coords] for ci in coords]
    rhs = [_expect(ci, mono, "xx") - _expect(ci, one, "xx") * mean_x for ci in coords]
    beta = solve_exact(sigma, rhs)
    explained = sum(b * r for b, r in zip(beta, rhs))
    out = {"VarFX": var_x, "VarFZ": var_z, "CovFXFZ": cov, "explained": explained}
    if var_x > 0:
        out["s2"] = explained / var_x
    if var_x > 0 and var_z > 0:
        out["r2"] = cov * cov / (var_x * var_z)
    return out


def exact_statistics_scaled(mono_even: Monomials, mono_odd: Monomials, t: Fraction,
                            dim: int) -> dict:
    """The same statistics for F = F_even + sqrt(t) F_odd with t not a rational square:
    every moment is computed bilinearly from the two rational parts, exactly, as an
    element a + b sqrt(t) of Q(sqrt t) (``Surd``); values whose sqrt(t) part is 0 are
    returned as Fractions. No parity argument is used: a nonzero irrational part would
    show."""
    one = {(0,) * dim: Fraction(1)}
    parts = (mono_even, mono_odd)

    def lift(x, k):                 # x * sqrt(t)^k, k in {0, 1, 2}
        return Surd(0, x, t) if k == 1 else Surd(x * (t if k == 2 else 1), 0, t)

    def expect(f, g, kind):         # f, g: 'F' (the pair) or a rational monomial dict
        fs = [(f, 0)] if isinstance(f, dict) else [(parts[0], 0), (parts[1], 1)]
        gs = [(g, 0)] if isinstance(g, dict) else [(parts[0], 0), (parts[1], 1)]
        total = Surd(0, 0, t)
        for mf, kf in fs:
            for mg, kg in gs:
                total = total + lift(_expect(mf, mg, kind), kf + kg)
        return total

    mean_x = expect("F", one, "xx")
    mean_z = expect(one, "F", "xz")
    var_x = expect("F", "F", "xx") - mean_x * mean_x
    var_z = expect("F", "F", "zz") - mean_z * mean_z
    cov = expect("F", "F", "xz") - mean_x * mean_z
    coords = [{tuple(int(i == j) for i in range(dim)): Fraction(1)} for j in range(dim)]
    sigma = [[_expect(ci, cj, "xx") - _expect(ci, one, "xx") * _expect(cj, one, "xx")
              for cj in coords] for ci in coords]
    rhs = [expect(ci, "F", "xx") - lift(_expect(ci, one, "xx"), 0) * mean_x
           for ci in coords]
    # Sigma is rational: solve for the rational and the sqrt(t) parts separately
    beta_a = solve_exact(sigma, [r.a for r in rhs])
    beta_b = solve_exact(sigma, [r.b for r in rhs])
    explained = Surd(0, 0, t)
    for ba, bb, r in zip(beta_a, beta_b, rhs):
        explained = explained + Surd(ba, bb, t) * r
    out = {"VarFX": var_x, "VarFZ": var_z, "CovFXFZ": cov, "explained": explained}
    if var_x.sign() > 0:
        out["s2"] = explained / var_x
    if var_x.sign() > 0 and var_z.sign() > 0:
        out["r2"] = cov * cov / (var_x * var_z)
    return {k: v.a if v.is_rational() else v for k, v in out.items()}


# --- simulation --------------------------------------------------------------------------

def _evaluate(mono: Monomials, points: np.ndarray) -> np.ndarray:
    dim = points.shape[1]
    top = max((max(e) for e in mono), default=0)
    powers = [[np.ones(len(points))] for _ in range(dim)]
    for i in range(dim):
        for _ in range(top):
            powers[i].append(powers[i][-1] * points[:, i])
    out = np.zeros(len(points))
    for exps, c in mono.items():
        term = np.full(len(points), float(c))
        for i, e in enumerate(exps):
            if e:
                term = term * powers[i][e]
        out += term
    return out


def _batch_statistics(fx: np.ndarray, fz: np.ndarray, x: np.ndarray) -> dict[str, float]:
    """Adjusted (nearly unbiased) R^2 of the least-squares fit of F(X) on (1, X), and the
    adjusted squared correlation of F(X) and F(Z): plain sample R^2 and r^2 are biased
    upwards by about p/n, which would put a true value of 0 outside every interval."""
    n, p = x.shape
    design = np.column_stack([np.ones(n), x])
    beta, *_ = np.linalg.lstsq(design, fx, rcond=None)
    resid = fx - design @ beta
    centred = fx - fx.mean()
    s2 = 1.0 - float(resid @ resid) / float(centred @ centred)
    r = float(np.corrcoef(fx, fz)[0, 1])
    return {"s2": 1.0 - (1.0 - s2) * (n - 1) / (n - p - 1),
            "r2": 1.0 - (1.0 - r * r) * (n - 1) / (n - 2)}


def monte_carlo(mono, dim: int, *, seed: int, samples: int,
                batches: int = BATCHES) -> tuple[dict[str, float], list[dict[str, float]]]:
    """``mono``: monomial coefficients, or a function evaluating F on an array of points."""
    evaluate = mono if callable(mono) else (lambda p: _evaluate(mono, p))
    rng = np.random.default_rng(seed)
    per = samples // batches
    batch_estimates = []
    fxs, fzs, xs = [], [], []
    for _ in range(batches):
        x = rng.standard_normal((per, dim))
        y = rng.standard_normal((per, dim))
        z = (x + y) / 2
        fx, fz = evaluate(x), evaluate(z)
        batch_estimates.append(_batch_statistics(fx, fz, x))
        fxs.append(fx), fzs.append(fz), xs.append(x)
    estimates = _batch_statistics(np.concatenate(fxs), np.concatenate(fzs), np.concatenate(xs))
    return estimates, batch_estimates


def batch_interval(batch: list[dict[str, float]], name: str, t: float) -> tuple[float, float]:
    vals = np.array([b[name] for b in batch])
    mean = float(vals.mean())
    half = t * float(vals.std(ddof=1)) / math.sqrt(len(vals))
    return mean - half, mean + half


# --- the realizer -------------------------------------------------------------------------

def realize_hermite(coeffs: dict[tuple[int, ...], Fraction], *, dim: int, degree: int,
                    seed: int, effort: int = 1, odd_scale2: Fraction = Fraction(1)) -> Evidence:
    """Realize F = sum_alpha a_alpha He_alpha, its odd part (odd |alpha|) multiplied by
    sqrt(odd_scale2); when that root is rational it is folded into the coefficients."""
    t = Fraction(odd_scale2)
    root = rational_sqrt(t)
    if root is not None:
        coeffs = {a: c * (root if sum(a) % 2 else 1) for a, c in coeffs.items()}
        mono = hermite_to_monomial(coeffs)
        exact = exact_statistics(mono, dim)
        mono_odd = None
        text = polynomial_text(mono, dim)
        points = lambda p: _evaluate(mono, p)               # noqa: E731
        listed = {monomial_text(k): _text(v) for k, v in sorted(mono.items())}
        hermite = {hermite_text(k): _text(v) for k, v in sorted(coeffs.items()) if v}
    else:
        even = {a: c for a, c in coeffs.items() if sum(a) % 2 == 0}
        odd = {a: c for a, c in coeffs.items() if sum(a) % 2}
        mono, mono_odd = hermite_to_monomial(even), hermite_to_monomial(odd)
        exact = exact_statistics_scaled(mono, mono_odd, t, dim)
        scale = math.sqrt(float(t))
        root_text = f"sqrt({_text(t)})"
        text = (polynomial_text(mono, dim) + " + " if mono else "") + \
            f"{root_text}*({polynomial_text(mono_odd, dim)})"
        points = lambda p: _evaluate(mono, p) + scale * _evaluate(mono_odd, p)  # noqa: E731
        listed = {monomial_text(k): _text(v) for k, v in sorted(mono.items())}
        listed.update({monomial_text(k): f"{_text(v)}*{root_text}"
                       for k, v in sorted(mono_odd.items())})
        listed = dict(sorted(listed.items()))
        hermite = {hermite_text(k): _text(v) if sum(k) % 2 == 0 else f"{_text(v)}*{root_text}"
                   for k, v in sorted(coeffs.items()) if v}
    samples = SAMPLES_PER_EFFORT * effort
    estimates, batch_estimates = monte_carlo(points, dim, seed=seed, samples=samples)
    t = t_quantile(0.999, len(batch_estimates) - 1)
    intervals = {k: batch_interval(batch_estimates, k, t)
                 for k in ("s2", "r2")}
    agree = all(k in exact and intervals[k][0] <= float(exact[k]) <= intervals[k][1]
                for k in ("s2", "r2"))
    realization = {
        "distribution": f"X, Y independent N(0, I_{dim}), Z = (X+Y)/2",
        "dim": dim,
        "degree": degree,
        "polynomial": text,
        "monomial_coefficients": listed,
        "hermite_coefficients": hermite,
        "exact": {k: _value_text(v) for k, v in sorted(exact.items())},
        "monte_carlo": {"seed": seed, "samples": samples, "batches": BATCHES,
                        "estimates": {k: round(v, 6) for k, v in sorted(estimates.items())},
                        "intervals_99.9": {k: [round(lo, 6), round(hi, 6)]
                                           for k, (lo, hi) in sorted(intervals.items())},
                        "agrees_with_exact": agree},
    }
    if mono_odd is not None:
        realization["odd_part_scale"] = root_text
    method = ("exact moments of the monomial expansion (X, Y independent N(0, I), "
              "Z = (X+Y)/2), cross-checked by a seeded Monte Carlo in 20 batches")
    if mono_odd is not None:
        method += "; the odd part carries sqrt(t), computed exactly in Q(sqrt t)"
    stats_exact = {k: exact[k] for k in ("s2", "r2") if k in exact}
    irrational = [k for k, v in stats_exact.items() if not isinstance(v, Fraction)]
    if irrational:
        method = ("seeded Monte Carlo in 20 batches, batch means (the exact value of "
                  + ", ".join(irrational) + " is irrational and is not used)")
        stats_exact = None
    elif not agree:
        method = ("seeded Monte Carlo in 20 batches, batch means (the exact moment "
                  "computation disagreed with it and is not used)")
        stats_exact = None
    return Evidence(method=method, realization=realization, seed=seed, samples=samples,
                    exact=stats_exact, estimates=estimates, batch_estimates=batch_estimates)


def _value_text(v) -> str:
    return v.text() if isinstance(v, Surd) else _text(v)


def _text(v: Fraction) -> str:
    v = Fraction(v)
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
