"""Cross-check: random linear claims in (h2, rDZ, rMZ) against an independent oracle.

Under twins with unique environment, alpha*h2 + beta*rDZ + gamma*rMZ is a ratio over V_P
of a linear form in the components, so its values are the mixtures of one value per
genetic component (VE only pulls mixtures toward 0, never reaching it since V_G > 0).
Hence `... <= delta` holds on the whole family iff every genetic component's value is
<= delta and delta >= 0. The oracle uses the Cockerham table directly; prover decides by
its encoding, certificate and simulation — two independent paths must agree.
"""

import random
from fractions import Fraction

import pytest

from prover.check import check
from prover.conjecture import load
from prover.models.twins import component_names

from helpers import write_conjecture


def oracle(alpha, beta, gamma, delta, max_order) -> str:
    values = []
    for name, i, j in component_names(max_order):
        h2 = 1 if (i, j) == (1, 0) else 0
        values.append(alpha * h2 + beta * Fraction(1, 2 ** i * 4 ** j) + gamma)
    return "valid" if max(values) <= delta and delta >= 0 else "refuted"


def threshold(alpha, beta, gamma, max_order) -> Fraction:
    """The least delta for which the claim holds (the oracle's supremum)."""
    values = [alpha * (1 if (i, j) == (1, 0) else 0) + beta * Fraction(1, 2 ** i * 4 ** j)
              + gamma for _, i, j in component_names(max_order)]
    return max(max(values), Fraction(0))


def cases(n=14, seed=7):
    """Random claims exactly at, above, or a clear 1/4 below the supremum."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        alpha, beta, gamma = (rng.randint(-3, 3) for _ in range(3))
        max_order = rng.choice([1, 2, 3])
        shift = rng.choice([Fraction(0), Fraction(1, 4), Fraction(-1, 4)])
        out.append((alpha, beta, gamma, threshold(alpha, beta, gamma, max_order) + shift,
                    max_order))
    return out


@pytest.mark.parametrize("alpha,beta,gamma,delta,max_order", cases())
def test_prover_agrees_with_the_oracle(tmp_path, alpha, beta, gamma, delta, max_order):
    claim = f"{alpha}*h2 + {beta}*rDZ + {gamma}*rMZ <= {delta.numerator}/{delta.denominator}"
    path = write_conjecture(tmp_path, "twins", claim, params={"max_order": max_order})
    out = check(load(path))
    assert out.verdict == oracle(alpha, beta, gamma, delta, max_order), claim
