"""Gaussian P over all of L²(γ): the threshold below which Cov(F(X), F(Z)) can vanish.

The moments are recomputed here from scratch — Hermite polynomials by their recurrence,
E[X^a Z^b] by expanding Z = (X + Y)/2 over independent standard normals — and compared
with prover.gaussian_l2; the certificates and witnesses are checked exactly and must be
refused when tampered with.
"""

from __future__ import annotations

import random
from fractions import Fraction as Fr
from math import comb

import pytest

from prover import gaussian_l2 as L2


def normal_moment(n: int) -> int:
    if n % 2:
        return 0
    out = 1
    for k in range(n - 1, 0, -2):
        out *= k
    return out


def hermite(n: int) -> list[int]:
    """Monomial coefficients of He_n (He_{n+1} = x He_n - n He_{n-1})."""
    prev, cur = [1], [0, 1]
    if n == 0:
        return prev
    for k in range(1, n):
        nxt = [0] + cur
        for i, c in enumerate(prev):
            nxt[i] -= k * c
        prev, cur = cur, nxt
    return cur


def moment_xz(a: int, b: int) -> Fr:
    """E[X^a Z^b], Z = (X + Y)/2."""
    return sum((Fr(comb(b, m) * normal_moment(a + m) * normal_moment(b - m), 2 ** b)
                for m in range(b + 1)), Fr(0))


def e_he_he(j: int, k: int) -> Fr:
    hj, hk = hermite(j), hermite(k)
    return sum((Fr(p) * q * moment_xz(a, b) for a, p in enumerate(hj)
                for b, q in enumerate(hk) if p and q), Fr(0))


def cov_and_var(a: dict[int, Fr]) -> tuple[Fr, Fr]:
    """Cov(F(X), F(Z)) and Var F(X) of F = Σ a_k He_k, from the monomial moments."""
    poly: dict[int, Fr] = {}
    for k, v in a.items():
        for e, c in enumerate(hermite(k)):
            poly[e] = poly.get(e, Fr(0)) + v * c
    ex = sum((c * moment_xz(e, 0) for e, c in poly.items()), Fr(0))
    ez = sum((c * moment_xz(0, e) for e, c in poly.items()), Fr(0))
    exz = sum((c * d * moment_xz(e, f) for e, c in poly.items() for f, d in poly.items()),
              Fr(0))
    exx = sum((c * d * normal_moment(e + f) for e, c in poly.items() for f, d in poly.items()),
              Fr(0))
    return exz - ex * ez, exx - ex * ex


@pytest.mark.parametrize("j", range(1, 8))
def test_t_prime_is_the_cross_moment(j):
    for k in range(1, 10):
        assert L2.t_prime(j, k) == e_he_he(j, k), (j, k)


def test_covariance_and_variance_match_the_monomial_moments():
    rng = random.Random(5)
    for _ in range(5):
        a = {k: Fr(rng.randint(-9, 9), rng.randint(1, 7)) for k in range(1, 8)}
        assert (L2.covariance(a), L2.variance(a)) == cov_and_var(a)


def test_tail_bounds_cover_the_rows_they_bound():
    beta, beta_t = L2.tail_bounds(20)
    assert beta_t ** 2 >= Fr(2, 2 ** 20) > (beta_t - Fr(1, 2 ** 79)) ** 2
    # the cross block j <= 20 < k, summed exactly up to k = 120 in the normalized basis
    from math import factorial
    part = sum((e_he_he(j, k) ** 2 / (factorial(j) * factorial(k))
                for j in range(1, 21) for k in range(21, 45) if (k - j) % 2 == 0), Fr(0))
    assert beta ** 2 >= part


# a certificate found by L2.search_bound(Fr("114329/1000000"), 60), kept as data
THRESHOLD_60 = {"sigma": "114329/1000000", "degree": 60, "mu": "182815277/581762017",
                "kappa": "1/230385874"}


def test_threshold_certificate_checks_and_means_what_it_says():
    assert "s2 >= 114329/1000000" in L2.check_bound(THRESHOLD_60)
    # spot-check its meaning on polynomials computed independently: C >= kappa V
    rng = random.Random(11)
    kappa, sigma = Fr(THRESHOLD_60["kappa"]), Fr(THRESHOLD_60["sigma"])
    seen = 0
    for _ in range(200):
        a = {k: Fr(rng.randint(-20, 20), rng.randint(1, 30) * (k * k)) for k in range(1, 8)}
        a[1] = Fr(rng.randint(1, 40), 10)
        c, v = cov_and_var(a)
        if a[1] ** 2 >= sigma * v:
            seen += 1
            assert c >= kappa * v
    assert seen > 20


@pytest.mark.parametrize("change,message", [
    ({"sigma": "11/100"}, "not positive semidefinite"),      # below the threshold
    ({"kappa": "1/100"}, "not"),                             # more than holds there
    ({"mu": "0"}, "tail is not covered"),
    ({"degree": 20}, "not positive semidefinite"),           # tail bound too coarse
    ({"mu": "x"}, "malformed"),
])
def test_threshold_certificate_tampered_is_refused(change, message):
    with pytest.raises(L2.L2Error, match=message):
        L2.check_bound({**THRESHOLD_60, **change})


def test_zero_witness_below_the_threshold():
    a = L2.search_zero_witness(0.1, 11)
    s2 = L2.check_zero_witness(a)
    c, v = cov_and_var(a)                       # independent recomputation
    assert c < 0 and a[1] ** 2 / v == s2 and s2 > Fr(1, 10) - Fr(1, 10 ** 6)
    rest = {k: x for k, x in a.items() if k != 1}
    assert cov_and_var(rest)[0] < 0
    with pytest.raises(L2.L2Error, match="> 0"):
        L2.check_zero_witness({**a, 1: a[1] * 3})   # too much linear part: Cov > 0


def test_threshold_of_each_degree_increases_towards_the_limit():
    t = [L2.threshold(d) for d in (3, 5, 7, 11, 21)]
    assert t[0] == 0 and all(x < y for x, y in zip(t[1:], t[2:]))
    assert 0.1135 < t[-1] < 0.1142056


def test_product_family_in_high_dimension():
    # dimension 9 (m = 8), beta = 1/2: Cov = 0 exactly, s2 = 1/5
    assert L2.product_family(8, Fr(1, 2))[:2] == (Fr(1, 5), 0)
    # its formula from the one-dimensional moments, recomputed here
    e_xz, e_h2z, e_h2h2 = moment_xz(1, 1), e_he_he(0, 2), e_he_he(2, 2)
    assert (e_xz, e_h2z, e_h2h2, normal_moment(4) - 2 * normal_moment(2) + 1) == \
        (Fr(1, 2), Fr(-1, 2), Fr(1, 2), 2)
    for m, beta in ((3, Fr(1, 3)), (10, Fr(2, 7))):
        # E[(1 + b S_X)(1 + b S_Z)] = 1 + b m E He2(Z) + b^2 m E[He2(X) He2(Z)]
        cov = e_xz * (1 + beta * m * e_h2z + beta * beta * m * e_h2h2)
        assert L2.product_family(m, beta)[1] == cov
    # Cov <= 0 at s2 = sigma needs the real beta = sqrt(b2), b2 = (1 - sigma)/(2 sigma m):
    # 1 + b2 m/2 <= beta m/2, i.e. (1 + b2 m/2)^2 <= b2 m^2/4
    def cov_can_vanish(m, sigma):
        b2 = (1 - sigma) / (2 * sigma * m)
        return (1 + b2 * m / 2) ** 2 <= b2 * m * m / 4
    assert L2.dimension_for_zero(Fr(9, 10)) == 78
    assert cov_can_vanish(77, Fr(9, 10)) and not cov_can_vanish(76, Fr(9, 10))
    assert L2.dimension_for_zero(Fr(1, 2)) == 14 and not cov_can_vanish(12, Fr(1, 2))


# --- dimension 2 ---------------------------------------------------------------------------

def test_multi_index_moments_are_products_of_the_one_dimensional_ones():
    # E[He_a(X) He_b(Z)] for independent coordinates, against the moments recomputed here
    for a, b in (((1, 0), (1, 2)), ((2, 1), (2, 3)), ((0, 2), (2, 2)), ((1, 1), (3, 1))):
        want = e_he_he(a[0], b[0]) * e_he_he(a[1], b[1])
        assert L2._t_multi(a, b) == want, (a, b)
    assert L2._t_multi((1, 0), (0, 1)) == 0 == L2._t_multi((2, 0), (1, 1))


def test_dimension_two_tail_bounds_cover_a_direct_sum():
    from math import factorial
    beta, beta_t = L2.tail_bounds_nd(2, 7)
    d = 7
    heads = [a for a in L2._multi_indices(2, d)]
    part = Fr(0)
    for a in heads:
        for i in range(0, 8):
            for j in range(0, 8):
                b = (a[0] + 2 * i, a[1] + 2 * j)
                if sum(b) > d:
                    t = L2._t_multi(a, b)
                    part += t * t / (factorial(a[0]) * factorial(a[1]) * factorial(b[0])
                                     * factorial(b[1]))
    assert beta ** 2 >= part > 0
    # in dimension 1 they agree with the dedicated ones (beta_T is 2^((1-20)/2) there)
    nd, one = L2.tail_bounds_nd(1, 20), L2.tail_bounds(20)
    assert nd[1] ** 2 >= Fr(2, 2 ** 20) and abs(nd[1] - one[1]) < Fr(1, 10 ** 15)
    assert nd[0] <= one[0] + Fr(1, 10 ** 15)


def test_dimension_two_zero_witness_is_checked_exactly():
    # the degree-11 threshold in dimension 2 is 0.1571 (above dimension 1's 0.1142)
    a = L2.search_zero_witness_nd(0.155, 2, 11)
    s2, below = L2.check_zero_witness_nd(a)
    assert s2 > Fr(15, 100) and L2.covariance_nd(a) < 0
    with pytest.raises(L2.L2Error, match="> 0"):
        L2.check_zero_witness_nd({**a, (1, 0): a[(1, 0)] * 3, (0, 1): a[(0, 1)] * 3})




@pytest.mark.slow
def test_dimension_two_certificate_covers_every_F_with_s2_at_least_a_half():
    cert = L2.search_bound_nd(Fr(1, 2), 2, 15)
    assert "dimension 2: every F in L2 with s2 >= 1/2" in L2.check_bound_nd(cert)
    with pytest.raises(L2.L2Error):
        L2.check_bound_nd({**cert, "sigma": "1/5"})        # below the dimension-2 threshold
