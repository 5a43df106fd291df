"""Exact arithmetic in a real quadratic field Q(sqrt t), t a positive rational.

A polynomial whose odd part carries the factor sqrt(t) (the `gaussian` model's concrete
family) has irrational coefficients when t is not a rational square; its moments are
computed exactly here, as a + b*sqrt(t) with a, b rational. Signs are decided exactly
(compare a^2 with b^2 t), never by floats.
"""

from __future__ import annotations

import math
from fractions import Fraction


def rational_sqrt(t: Fraction) -> Fraction | None:
    """sqrt(t) when it is rational, else None."""
    t = Fraction(t)
    if t < 0:
        return None
    n, d = math.isqrt(t.numerator), math.isqrt(t.denominator)
    return Fraction(n, d) if n * n == t.numerator and d * d == t.denominator else None


class Surd:
    """a + b*sqrt(t) for one fixed t > 0 that is not a rational square (the caller folds
    a rational root in instead), so that a + b*sqrt(t) = 0 only when a = b = 0."""

    __slots__ = ("a", "b", "t")

    def __init__(self, a, b, t):
        self.a, self.b, self.t = Fraction(a), Fraction(b), Fraction(t)
        if self.t <= 0 or rational_sqrt(self.t) is not None:
            raise ValueError("Surd needs t > 0 that is not a rational square")

    def _lift(self, other) -> "Surd":
        if isinstance(other, Surd):
            if other.t != self.t:
                raise ValueError("Surds of different fields")
            return other
        return Surd(other, 0, self.t)

    def __add__(self, other):
        o = self._lift(other)
        return Surd(self.a + o.a, self.b + o.b, self.t)

    __radd__ = __add__

    def __neg__(self):
        return Surd(-self.a, -self.b, self.t)

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __rsub__(self, other):
        return self._lift(other) - self

    def __mul__(self, other):
        o = self._lift(other)
        return Surd(self.a * o.a + self.b * o.b * self.t, self.a * o.b + self.b * o.a, self.t)

    __rmul__ = __mul__

    def conjugate(self) -> "Surd":
        return Surd(self.a, -self.b, self.t)

    def norm(self) -> Fraction:
        return self.a * self.a - self.b * self.b * self.t

    def __truediv__(self, other):
        o = self._lift(other)
        n = o.norm()
        if n == 0:          # t is not a square: only 0 has norm 0
            raise ZeroDivisionError("division by zero in Q(sqrt t)")
        p = self * o.conjugate()
        return Surd(p.a / n, p.b / n, self.t)

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def sign(self) -> int:
        """-1, 0 or 1, exactly."""
        sa = (self.a > 0) - (self.a < 0)
        sb = (self.b > 0) - (self.b < 0)
        if sb == 0 or sa == sb:
            return sa if sa else sb
        if sa == 0:
            return sb
        # opposite signs: compare |a| with |b| sqrt(t)
        d = self.a * self.a - self.b * self.b * self.t
        return sa if d > 0 else (sb if d < 0 else 0)

    def is_rational(self) -> bool:
        return self.b == 0

    def __float__(self):
        return float(self.a) + float(self.b) * math.sqrt(float(self.t))

    def __eq__(self, other):
        return (self - other).sign() == 0

    def __hash__(self):
        return hash((self.a, self.b, self.t))

    def text(self) -> str:
        a, b = _frac(self.a), _frac(self.b)
        if self.b == 0:
            return a
        root = f"sqrt({_frac(self.t)})"
        tail = root if self.b == 1 else f"{b}*{root}"
        return tail if self.a == 0 else f"{a} + {tail}"


def _frac(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
