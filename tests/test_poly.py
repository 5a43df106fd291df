"""Poly, the exact polynomials everything that decides a verdict works on: arithmetic
against an independent evaluation at rational points, cancellation, exact coefficient
type (the arithmetic builds its results without re-converting each coefficient)."""

from __future__ import annotations

import random
from fractions import Fraction

from prover.poly import Poly

X, Y, Z = Poly.var("x"), Poly.var("y"), Poly.var("z")


def _random_poly(rng: random.Random) -> Poly:
    out = Poly.const(Fraction(rng.randint(-3, 3), rng.randint(1, 4)))
    for _ in range(rng.randint(0, 4)):
        term = Poly.const(Fraction(rng.randint(-5, 5), rng.randint(1, 6)))
        for v in (X, Y, Z):
            term = term * v ** rng.randint(0, 2)
        out = out + term
    return out


def _value(p: Poly, at: dict) -> Fraction:
    """The polynomial's value computed here from its terms, not by Poly.evaluate."""
    total = Fraction(0)
    for mono, c in p.terms.items():
        v = c
        for name, e in mono:
            for _ in range(e):
                v = v * at[name]
        total += v
    return total


def test_arithmetic_agrees_with_evaluation_at_rational_points():
    rng = random.Random(7)
    for _ in range(300):
        a, b = _random_poly(rng), _random_poly(rng)
        at = {v: Fraction(rng.randint(-7, 7), rng.randint(1, 5)) for v in "xyz"}
        va, vb = _value(a, at), _value(b, at)
        assert _value(a + b, at) == va + vb
        assert _value(a - b, at) == va - vb
        assert _value(a * b, at) == va * vb
        assert _value(-a, at) == -va
        assert _value(a.scale(Fraction(-2, 3)), at) == Fraction(-2, 3) * va
        assert _value(Poly.sum([a, b, a]), at) == 2 * va + vb
        assert _value(a ** 2, at) == va * va
        for p in (a + b, a - b, a * b, -a, Poly.sum([a, b])):
            assert all(type(c) is Fraction and c != 0 for c in p.terms.values())


def test_cancelled_terms_are_dropped():
    p = (X + 1) * (X - 1) - X * X
    assert p.terms == {(): Fraction(-1)}
    assert (X - X).terms == {} and (X - X).is_zero()
    assert (X * Y).scale(0).is_zero()
    assert Poly.sum([X, -X, Y]).terms == {(("y", 1),): Fraction(1)}
    assert (X + Y) * (X - Y) == X ** 2 - Y ** 2
    assert hash((X + Y) * (X - Y)) == hash(X ** 2 - Y ** 2)


def test_coefficients_are_converted_to_exact_fractions():
    class Sub(Fraction):
        pass

    p = Poly({(("x", 1),): 3, (("y", 1),): Sub(1, 2), (): 0})
    assert p.terms == {(("x", 1),): Fraction(3), (("y", 1),): Fraction(1, 2)}
    assert all(type(c) is Fraction for c in p.terms.values())
    assert all(type(c) is Fraction for c in (p * p + p).terms.values())
