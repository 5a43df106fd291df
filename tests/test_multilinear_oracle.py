"""Cross-check: random linear claims `r2 >= a*s2 + b` under multilinear with finite degree
K against the known region (MODELS.md): for K >= 2 the convex hull of the attained points
(s2, r2) = (1, 1/2) [linear], (0, 1/4) [degree 2], (0, 2^-K) [degree K] — every point of
which is realized by a mixture of degree blocks. A linear claim holds on the hull iff it
holds at its vertices."""

import random
from fractions import Fraction

import pytest

from prover.check import check
from prover.conjecture import load

from helpers import write_conjecture


def vertices(k):
    return [(Fraction(1), Fraction(1, 2)), (Fraction(0), Fraction(1, 4)),
            (Fraction(0), Fraction(1, 2 ** k))]


def slack(a, b, k) -> Fraction:
    return min(r2 - a * s2 - b for s2, r2 in vertices(k))


def cases(n=10, seed=11):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.choice([2, 3, 4, 6])
        a = Fraction(rng.randint(0, 6), 8)
        b0 = min(r2 - a * s2 for s2, r2 in vertices(k))      # the tight constant
        b = b0 + rng.choice([Fraction(0), Fraction(1, 16), Fraction(-1, 16)])
        out.append((a, b, k))
    return out


@pytest.mark.parametrize("a,b,k", cases())
def test_prover_agrees_with_the_known_region(tmp_path, a, b, k):
    claim = f"r2 >= {a.numerator}/{a.denominator}*s2 + ({b.numerator}/{b.denominator})"
    path = write_conjecture(tmp_path, "multilinear", claim, params={"max_degree": k})
    out = check(load(path))
    expected = "valid" if slack(a, b, k) >= 0 else "refuted"
    assert out.verdict == expected, claim
