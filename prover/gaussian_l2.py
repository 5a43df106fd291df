"""Gaussian P, all of L²(γ), dimension 1: where Cov(F(X), F(Z)) can vanish, and how far
from zero it stays — with exact certificates that cover every F, not one degree.

NOTATION. X, Y independent N(0, 1), Z = (X + Y)/2. F = Σ_{k>=1} a_k He_k (the constant
changes nothing), so V = Var F(X) = Σ k! a_k², the linear part's variance is W1 = a_1²
and s2 = W1/V. Mehler's formula gives E[He_j(X) | Z] = 2^{-j/2} He_j(√2 Z), and the
scaling formula for He_k(u/√2) then gives, exactly,

    T'_{jk} = E[He_j(X) He_k(Z)] = 2^{-j} (-1/4)^i k!/i!    for k = j + 2i, i >= 0,

and 0 otherwise (k < j or k - j odd). So C = Cov(F(X), F(Z)) = Σ_{j<=k} T'_{jk} a_j a_k.
In the orthonormal basis h_k = He_k/√k! the coefficients are c_k = √k! a_k, V = |c|²,
and T_{jk} = T'_{jk}/√(j! k!); its squares are t_{j,i} = T_{j,j+2i}² =
4^{-j} 16^{-i} (j+2i)!/(j! (i!)²).

THE CERTIFICATE (``check_bound``). Rationals sigma, kappa >= 0, mu >= 0 and a degree D
prove: every F in L²(γ) with s2 >= sigma has C >= kappa * V. Write c = (x, y), x the
coordinates up to D, y the rest. Then

    C - kappa V + mu (sigma V - W1) = x'M x + x'T_HT y + y'T_TT y + (mu sigma - kappa)|y|²

where M = S_D - kappa I + mu (sigma I - e1 e1') (S_D the symmetric head of the form),
T_HT the pairs j <= D < k, and T_TT the pairs D < j <= k. With Frobenius bounds
|T_HT|_F <= beta, |T_TT|_F <= beta_T and 2|x||y| <= |x|² + |y|²:

    >= x'(M - (beta/2) I) x + (mu sigma - kappa - beta_T - beta/2) |y|².

So it suffices that M - (beta/2) I is positive semidefinite — checked by exact LDL^T in
the He coordinates (a congruence by diag(√k!): M' = S'_D - (kappa + beta/2 - mu sigma)
diag(k!) - mu e1 e1', on the odd and the even block) — and that
mu sigma - kappa - beta_T - beta/2 >= 0. The tail bounds are exact rationals:
t_{j,i} <= 4^{-j} C(j+2i, 2i) 4^{-i} (as C(2i, i) <= 4^i) and Σ_n C(j+n, n) 2^{-n} =
2^{j+1} give Σ_i t_{j,i} <= 2^{1-j}, so beta_T² = Σ_{j>D} 2^{1-j} = 2^{1-D}; for beta,
each row's tail Σ_{i: j+2i>D} t_{j,i} is summed exactly until the ratio
t_{j,i+1}/t_{j,i} = (j+2i+1)(j+2i+2)/(16 (i+1)²) (non-increasing in i) is <= 1/2, and the
rest is at most the last term. T is Hilbert–Schmidt (|T|_F² <= Σ_j 2^{1-j} = 2), so C is
continuous on L² and polynomials are dense: the bound holds for every F in L²(γ).
Since Var F(Z) <= √2 V (the density of Z over that of X is at most √2; ``var_z_ratio``
sharpens this for large s2), kappa > 0 also gives r2 = C²/(V Var F(Z)) >= kappa²/√2 for
every F with s2 >= sigma; kappa = 0 with mu > 0 gives C > 0, hence r2 > 0, wherever
s2 > sigma.

THE WITNESS (``check_zero_witness``). Rational He coefficients a (degree d) with
C(a) <= 0 and C(a_2, a_3, ...) <= 0 (the part without He_1 alone) prove r2 = 0 is attained
by polynomials of degree d at every s2 <= s2(a) (docs/frontiers.md: on the circle
cos(theta) h_1 + sin(theta) N, C is a sinusoid in 2 theta, <= 0 at both theta(a) and
pi/2, so <= 0 in between; and C > 0 somewhere on every slice 0 < s2 < 1, e.g. at
h_1 + He_2 mixtures, while each slice is connected, so C = 0 on it).

Search (``search_bound``, ``search_zero_witness``) uses numpy floats and proposes
rationals; nothing it returns counts until the exact checks above accept it.
"""

from __future__ import annotations

from fractions import Fraction
from math import factorial, isqrt


class L2Error(ValueError):
    """A certificate or witness that does not check; the message says what failed."""


def t_prime(j: int, k: int) -> Fraction:
    """E[He_j(X) He_k(Z)], Z = (X + Y)/2 (exact)."""
    if k < j or (k - j) % 2:
        return Fraction(0)
    i = (k - j) // 2
    return Fraction((-1) ** i * factorial(k), 2 ** j * 4 ** i * factorial(i))


def covariance(a: dict[int, Fraction]) -> Fraction:
    """C = Cov(F(X), F(Z)) for F = Σ a_k He_k (exact; ``covariance_nd`` in dimension 1)."""
    return covariance_nd({(k,): v for k, v in a.items() if k >= 1})


def variance(a: dict[int, Fraction]) -> Fraction:
    return sum((factorial(k) * v * v for k, v in a.items() if k >= 1), Fraction(0))


def _row_tail(j: int, i0: int) -> Fraction:
    """An exact upper bound on Σ_{i >= i0} t_{j,i}."""
    t = Fraction(factorial(j + 2 * i0), 4 ** j * 16 ** i0 * factorial(j) * factorial(i0) ** 2)
    total, i = Fraction(0), i0
    while True:
        total += t
        ratio = Fraction((j + 2 * i + 1) * (j + 2 * i + 2), 16 * (i + 1) ** 2)
        if ratio <= Fraction(1, 2):
            return total + t          # the rest: at most t/2 + t/4 + ... = t
        t *= ratio
        i += 1


def _sqrt_up(q: Fraction, bits: int = 80) -> Fraction:
    """A rational >= sqrt(q)."""
    scale = 1 << (2 * bits)
    return Fraction(isqrt(q.numerator * scale // q.denominator) + 1, 1 << bits)


def tail_bounds(degree: int) -> tuple[Fraction, Fraction]:
    """(beta, beta_T): rationals >= |T_HT|_F and |T_TT|_F for the head 1..degree."""
    d = degree
    cross = sum((_row_tail(j, (d - j) // 2 + 1) for j in range(1, d + 1)), Fraction(0))
    return _sqrt_up(cross), _sqrt_up(Fraction(2, 2 ** d))


def check_bound(cert: dict) -> str:
    """Exactly check {"sigma", "kappa", "mu", "degree"} (rational strings, an int):
    every F in L²(γ) with s2 >= sigma has Cov(F(X), F(Z)) >= kappa Var F(X). Returns
    a one-line summary; raises L2Error. (``check_bound_nd`` in dimension 1.)"""
    return check_bound_nd({**cert, "dim": 1})


def var_z_ratio(sigma: Fraction) -> float:
    """An upper bound on Var F(Z) / Var F(X) over F with s2 >= sigma (float, for the
    displayed r2 floor): F = c_1 h_1 + N gives, by Minkowski in L2 and E N(Z)^2 <=
    sqrt(2) E N(X)^2, Var F(Z) <= (sqrt(s2 V / 2) + 2^(1/4) sqrt((1 - s2) V))^2; that is
    decreasing in s2 from 1/(1 + 2 sqrt 2) on; and never above sqrt(2)."""
    peak = 1 / (1 + 2 * 2 ** 0.5)
    u = max(float(sigma), peak)
    f = ((u / 2) ** 0.5 + 2 ** 0.25 * (1 - u) ** 0.5) ** 2
    return min(2 ** 0.5, f)


def r2_floor(sigma: Fraction, kappa: Fraction) -> float:
    """r2 >= kappa^2 / (Var F(Z)/Var F(X)) wherever s2 >= sigma and C >= kappa V (a
    corollary, in floats: rounding only affects the displayed digits)."""
    return float(kappa) ** 2 / var_z_ratio(sigma) * (1 - 1e-12)


def check_zero_witness(a: dict[int, Fraction]) -> Fraction:
    """Exactly check a polynomial (He coefficients) with C <= 0 and C(non-linear part)
    <= 0; returns its s2 (r2 = 0 is attained at every s2 up to it). Raises L2Error."""
    a = {int(k): Fraction(str(v)) for k, v in a.items()}
    if a.get(1, 0) == 0:
        raise L2Error("the witness has no linear part")
    if covariance(a) > 0:
        raise L2Error(f"Cov(F(X), F(Z)) = {float(covariance(a)):.3g} > 0")
    rest = {k: v for k, v in a.items() if k != 1}
    if covariance(rest) > 0:
        raise L2Error("the part without He_1 has Cov > 0: the sinusoid argument needs <= 0")
    return a[1] ** 2 / variance(a)


# ---- search (floats; untrusted) -------------------------------------------------------

def search_bound(sigma: Fraction, degree: int = 80, margin: float = 1e-9) -> dict:
    """A certificate for about the largest kappa this head degree gives at sigma (kappa = 0
    if that is not positive), rounded to rationals; check it with ``check_bound``."""
    cert = search_bound_nd(sigma, 1, degree, margin)
    del cert["dim"]
    return cert


def threshold(degree: int, certified: bool = False) -> float:
    """The largest s2 at which some polynomial of degree <= ``degree`` has C <= 0 (float:
    bisection on the S-lemma certificate); ``certified``: the least sigma at which this
    head degree's certificate, tail included, has room (float; then ``search_bound``)."""
    return threshold_nd(1, degree, certified)


def search_zero_witness(sigma: float, degree: int) -> dict[int, Fraction]:
    """Rational He coefficients of a degree-``degree`` polynomial with C < 0 at s2 about
    ``sigma`` (below the degree's threshold); check with ``check_zero_witness``."""
    import numpy as np
    s, e = _normalized_nd(1, degree)
    mu, _ = _best_mu_nd(s, e, sigma)
    d = len(s)
    w, v = np.linalg.eigh(s + mu * (sigma * np.eye(d) - e))
    c = v[:, 0] / (abs(v[0, 0]) if v[0, 0] else 1.0)
    # a_k = c_k / sqrt(k!): c_k to 12 digits, sqrt(k!) to 24 (relative), so that the
    # tiny high-order coefficients keep their digits
    out = {}
    for k in range(1, d + 1):
        root = Fraction(isqrt(factorial(k) * 10 ** 48), 10 ** 24)
        out[k] = Fraction(float(c[k - 1])).limit_denominator(10 ** 12) / root
    return out


# ---- any dimension: a degree-3 family that reaches Cov = 0 at any s2 < 1 ---------------

def product_family(m: int, beta: Fraction) -> tuple[Fraction, Fraction, Fraction]:
    """(s2, Cov(F(X), F(Z)), Var F(X)) of F = x_1 (1 + beta Σ_{i=2}^{m+1} He_2(x_i)) in
    dimension m + 1 (exact). The coordinates are independent, so with E[X_1 Z_1] = 1/2,
    E He_2(X) = 0, E He_2(Z) = -1/2, E[He_2(X) He_2(Z)] = 1/2 and E He_2(X)^2 = 2:
    Cov = (1 - beta m/2 + beta^2 m/2)/2, Var F(X) = 1 + 2 beta^2 m, and the best affine fit
    is x_1 itself, so s2 = 1/Var F(X)."""
    beta = Fraction(beta)
    var = 1 + 2 * beta * beta * m
    cov = (1 - beta * m / 2 + beta * beta * m / 2) / 2
    return 1 / var, cov, var


def dimension_for_zero(sigma: Fraction) -> int:
    """The least m + 1 for which ``product_family`` has Cov <= 0 at s2 = sigma: with
    beta = sqrt((1 - sigma)/(2 sigma m)), Cov <= 0 iff m >= (3 sigma + 1)^2 /
    (2 sigma (1 - sigma))."""
    sigma = Fraction(sigma)
    if not 0 < sigma < 1:
        raise ValueError("need 0 < sigma < 1")
    bound = (3 * sigma + 1) ** 2 / (2 * sigma * (1 - sigma))
    m = -(-bound.numerator // bound.denominator)
    return m + 1


# ---- dimension n: the same certificate over multi-indices -----------------------------
#
# In dimension n, F = Σ_{α != 0} a_α He_α with He_α(x) = Π_i He_{α_i}(x_i); coordinates are
# independent, so E[He_α(X) He_β(Z)] = Π_i t_prime(α_i, β_i) (zero unless β >= α
# componentwise with even differences), V = Σ α! a_α², and W1 = Σ_{|α|=1} a_α² (the
# affine fit is the projection on degree <= 1). The head is |α| <= D, the tail the rest.
# Row norms factor: Σ_β T_{αβ}² = Π_i R(α_i) with R(j) = Σ_i t_{j,i} the one-dimensional
# row sums (R(0) = Σ C(2i,i) 16^-i = 2/√3). beta_T² bounds Σ_{|α|>D} Π R(α_i), beta² the
# head rows' squares beyond |β| > D; both from exact partial sums and ratio-1/2 remainders.

def _row_terms(j: int, count: int) -> tuple[list[Fraction], Fraction]:
    """(t_{j,0..count-1} exactly, a bound on the rest of the row's sum)."""
    out = []
    t = Fraction(1, 4 ** j)
    for i in range(count):
        out.append(t)
        t *= Fraction((j + 2 * i + 1) * (j + 2 * i + 2), 16 * (i + 1) ** 2)
    # the rest from i = count on: summed exactly until the ratio is <= 1/2 (``_row_tail``)
    return out, _row_tail(j, count)


def tail_bounds_nd(dim: int, degree: int, terms: int = 60) -> tuple[Fraction, Fraction]:
    """(beta, beta_T) in dimension ``dim`` for the head |α| <= degree: rationals >= the
    Frobenius norms of the head-tail and tail-tail parts of the normalized form."""
    import itertools
    if dim == 1:
        return tail_bounds(degree)              # the same sums, in closed form
    d = degree
    rows = {j: _row_terms(j, terms) for j in range(0, d + 1)}
    full = {j: sum(v) + rest for j, (v, rest) in rows.items()}      # >= R(j)

    def R(j: int) -> Fraction:
        return full[j] if j <= d else Fraction(2, 2 ** j)          # R(j) <= 2^(1-j)

    # tail-tail: every row with |α| > d; Σ over |α| = s of Π R(α_i), summed exactly to
    # s = 4d and beyond that bounded by Σ_s C(s+dim-1, dim-1) * max(R0, 1)^dim * 2^(dim-s)
    r0 = max(R(0), Fraction(1))
    tail_t = Fraction(0)
    for s in range(d + 1, 4 * d + 1):
        for alpha in itertools.product(range(s + 1), repeat=dim):
            if sum(alpha) == s:
                p = Fraction(1)
                for a in alpha:
                    p *= R(a)
                tail_t += p
    from math import comb
    far = Fraction(0)
    for s in range(4 * d + 1, 4 * d + 400):
        far += comb(s + dim - 1, dim - 1) * r0 ** dim * Fraction(2 ** dim, 2 ** s)
    tail_t += far * 2            # the sum beyond s = 4d + 400 is below the last 400 terms'
    # cross: head rows, columns with |β| > d: Σ over (i_1..i_n), 2 Σ i > d - |α|
    cross = Fraction(0)
    for s in range(1, d + 1):
        for alpha in itertools.product(range(s + 1), repeat=dim):
            if sum(alpha) != s:
                continue
            need = (d - s) // 2 + 1              # Σ i_k >= need
            seqs = [rows[a][0] for a in alpha]
            # exact part over i_k < terms: the convolution of the rows, from Σ i = need on
            conv = {0: Fraction(1)}
            for seq in seqs:
                new: dict[int, Fraction] = {}
                for k, v in conv.items():
                    for i, t in enumerate(seq):
                        new[k + i] = new.get(k + i, Fraction(0)) + v * t
                conv = new
            cross += sum((v for k, v in conv.items() if k >= need), Fraction(0))
            # any i_k >= terms: at most rest(α_k) times the others' full sums
            for k, a in enumerate(alpha):
                p = rows[a][1]
                for m, b in enumerate(alpha):
                    if m != k:
                        p *= full[b]
                cross += p
    return _sqrt_up(cross), _sqrt_up(tail_t)


def _multi_indices(dim: int, degree: int) -> list[tuple[int, ...]]:
    import itertools
    return [a for s in range(1, degree + 1)
            for a in itertools.product(range(s + 1), repeat=dim) if sum(a) == s]


def _t_multi(a: tuple, b: tuple) -> Fraction:
    """E[He_a(X) He_b(Z)] in dimension len(a) (exact)."""
    out = Fraction(1)
    for x, y in zip(a, b):
        out *= t_prime(x, y)
        if not out:
            break
    return out


def _alpha_factorial(a: tuple) -> int:
    out = 1
    for x in a:
        out *= factorial(x)
    return out


def check_bound_nd(cert: dict) -> str:
    """``check_bound`` in dimension cert["dim"] (1 to 3): every F in L2(N(0, I_dim)) with
    s2 >= sigma has Cov(F(X), F(Z)) >= kappa Var F(X). Raises L2Error."""
    from .checker import CertificateError, psd_ldl
    try:
        sigma, kappa, mu = (Fraction(str(cert[k])) for k in ("sigma", "kappa", "mu"))
        d, dim = int(cert["degree"]), int(cert["dim"])
    except (KeyError, ValueError, TypeError, ZeroDivisionError) as exc:
        raise L2Error(f"malformed certificate: {exc}") from None
    if not (0 <= sigma <= 1 and kappa >= 0 and mu >= 0 and 1 <= dim <= 3
            and 2 <= d <= (200 if dim == 1 else 30 if dim == 2 else 12)):
        raise L2Error("need 0 <= sigma <= 1, kappa >= 0, mu >= 0, dim 1..3 and a head "
                      "degree of at most 200, 30, 12 for dim 1, 2, 3")
    beta, beta_t = tail_bounds_nd(dim, d)
    slack = mu * sigma - kappa - beta_t - beta / 2
    if slack < 0:
        raise L2Error(f"the tail is not covered: mu*sigma - kappa - beta_T - beta/2 = "
                      f"{float(slack):.3g} < 0")
    shift = mu * sigma - kappa - beta / 2
    classes: dict[tuple, list] = {}
    for a in _multi_indices(dim, d):
        classes.setdefault(tuple(x % 2 for x in a), []).append(a)
    for parity, members in sorted(classes.items(), reverse=True):   # the odd ones first
        m = []
        for a in members:
            row = []
            for b in members:
                if a == b:
                    v = _t_multi(a, a) + shift * _alpha_factorial(a) - (mu if sum(a) == 1 else 0)
                else:
                    v = (_t_multi(a, b) + _t_multi(b, a)) / 2
                row.append(v)
            m.append(row)
        try:
            psd_ldl(m)
        except CertificateError as exc:
            import re
            pivot = re.search(r"pivot (\d+)", str(exc))
            where = f" (exact LDL^T: pivot {pivot.group(1)} fails)" if pivot else ""
            block = (f"the {'odd' if parity[0] else 'even'} head block" if dim == 1
                     else f"the head block of parity {parity}")
            raise L2Error(f"{block} is not positive semidefinite{where}") from None
    if kappa == 0:
        what = "Cov > 0 wherever s2 > sigma"
    elif dim == 1:
        what = f"Cov >= {kappa} Var F(X), so r2 >= {r2_floor(sigma, kappa):.4g}"
    else:
        what = f"Cov >= {kappa} Var F(X)"
    where = "" if dim == 1 else f"dimension {dim}: "
    return (f"{where}every F in L2 with s2 >= {sigma}: {what} (head degree {d}, "
            f"tail bounds beta = {float(beta):.2g}, beta_T = {float(beta_t):.2g}; exact LDL)")


def _normalized_nd(dim: int, d: int):
    import numpy as np
    al = _multi_indices(dim, d)
    s = np.zeros((len(al), len(al)))
    for i, a in enumerate(al):
        for j, b in enumerate(al):
            v = _t_multi(a, b)
            if v:
                s[i, j] = float(v) / (_alpha_factorial(a) * _alpha_factorial(b)) ** 0.5
    w = np.diag([1.0 if sum(a) == 1 else 0.0 for a in al])
    return (s + s.T) / 2, w


def _best_mu_nd(s, w, sigma: float):
    import numpy as np
    f = lambda mu: np.linalg.eigvalsh(s + mu * (sigma * np.eye(len(s)) - w))[0]
    lo, hi = 0.0, 50.0
    for _ in range(120):
        m1, m2 = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        lo, hi = (m1, hi) if f(m1) < f(m2) else (lo, m2)
    return lo, f(lo)


def threshold_nd(dim: int, degree: int, certified: bool = False) -> float:
    """``threshold`` in dimension ``dim``."""
    s, w = _normalized_nd(dim, degree)
    need = 0.0
    if certified:
        beta, _ = (float(b) for b in tail_bounds_nd(dim, degree))
        need = beta / 2 + 1e-9
    lo, hi = 0.0, 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if _best_mu_nd(s, w, mid)[1] > need else (mid, hi)
    return hi if certified else lo


def search_bound_nd(sigma: Fraction, dim: int, degree: int, margin: float = 1e-6) -> dict:
    """A ``check_bound_nd`` certificate for about the largest kappa at sigma (floats)."""
    beta, beta_t = (float(b) for b in tail_bounds_nd(dim, degree))
    s, w = _normalized_nd(dim, degree)
    mu, lam = _best_mu_nd(s, w, float(sigma))
    kappa = max(0.0, min(lam - beta / 2, mu * float(sigma) - beta_t - beta / 2) - margin)
    return {"sigma": str(Fraction(sigma)), "degree": degree, "dim": dim,
            "mu": str(Fraction(mu).limit_denominator(10 ** 9)),
            "kappa": str(Fraction(kappa).limit_denominator(10 ** 9))}


def covariance_nd(a: dict[tuple, Fraction]) -> Fraction:
    """C = Cov(F(X), F(Z)) for F = Σ a_α He_α (multi-indices; exact)."""
    keys = [k for k, v in a.items() if v and any(k)]
    return sum((_t_multi(x, y) * a[x] * a[y] for x in keys for y in keys), Fraction(0))


def check_zero_witness_nd(a: dict[tuple, Fraction]) -> tuple[Fraction, bool]:
    """Multi-index coefficients with C <= 0: (s2, whether the part without degree 1 has
    C <= 0 too). r2 = 0 is attained at s2 (the slice is connected and holds an F with
    C > 0); with the second, at every s2 up to it (the sinusoid argument). Raises L2Error
    when C > 0."""
    a = {tuple(k): Fraction(str(v)) for k, v in a.items()}
    linear = sum((v * v for k, v in a.items() if sum(k) == 1), Fraction(0))
    if linear == 0:
        raise L2Error("the witness has no linear part")
    if covariance_nd(a) > 0:
        raise L2Error(f"Cov(F(X), F(Z)) = {float(covariance_nd(a)):.3g} > 0")
    below = covariance_nd({k: v for k, v in a.items() if sum(k) != 1}) <= 0
    var = sum((_alpha_factorial(k) * v * v for k, v in a.items() if any(k)), Fraction(0))
    return linear / var, below


def search_zero_witness_nd(sigma: float, dim: int, degree: int) -> dict[tuple, Fraction]:
    """Rational multi-index coefficients with C < 0 at s2 about ``sigma`` (below the
    threshold of this degree); check with ``check_zero_witness_nd``."""
    import numpy as np
    s, w = _normalized_nd(dim, degree)
    mu, _ = _best_mu_nd(s, w, sigma)
    vals, vecs = np.linalg.eigh(s + mu * (sigma * np.eye(len(s)) - w))
    c = vecs[:, 0]
    c = c / (np.abs(c).max() or 1.0)
    out = {}
    for i, a in enumerate(_multi_indices(dim, degree)):
        root = Fraction(isqrt(_alpha_factorial(a) * 10 ** 48), 10 ** 24)
        out[a] = Fraction(float(c[i])).limit_denominator(10 ** 12) / root
    return out
