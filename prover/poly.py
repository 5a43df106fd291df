"""Exact sparse multivariate polynomials with rational coefficients.

Everything that decides a verdict (the encoding, the certificate checker, exact evaluation
of counterexamples) works on these objects, so they are small, immutable and exact:
coefficients are ``fractions.Fraction``; a monomial is a sorted tuple of
``(variable name, exponent)`` pairs. No solver or computer-algebra import is needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Mapping

Monomial = tuple[tuple[str, int], ...]
ONE_MONOMIAL: Monomial = ()


def _mul_monomials(a: Monomial, b: Monomial) -> Monomial:
    if not a:
        return b
    if not b:
        return a
    exps = dict(a)
    for name, e in b:
        exps[name] = exps.get(name, 0) + e
    return tuple(sorted(exps.items()))


def monomial_degree(m: Monomial) -> int:
    return sum(e for _, e in m)


def monomials_up_to(variables, degree: int) -> list[Monomial]:
    """Every monomial in ``variables`` of total degree 0..degree, by degree."""
    import itertools

    out = [ONE_MONOMIAL]
    for d in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(sorted(variables), d):
            exps: dict[str, int] = {}
            for v in combo:
                exps[v] = exps.get(v, 0) + 1
            out.append(tuple(sorted(exps.items())))
    return out


def monomial_text(m: Monomial) -> str:
    return "*".join(name if e == 1 else f"{name}^{e}" for name, e in m) or "1"


class Poly:
    """An immutable polynomial ``sum(coeff * monomial)``; zero coefficients are dropped."""

    __slots__ = ("terms", "_hash")

    def __init__(self, terms: Mapping[Monomial, Fraction] | None = None):
        clean: dict[Monomial, Fraction] = {}
        if terms:
            for m, c in terms.items():
                if type(c) is not Fraction:     # exactly Fraction: no subclass kept
                    c = Fraction(c)
                if c:
                    clean[m] = c
        object.__setattr__(self, "terms", clean)
        object.__setattr__(self, "_hash", None)

    @classmethod
    def _of(cls, terms: dict[Monomial, Fraction]) -> "Poly":
        """A polynomial of ``terms`` that are already clean: Fractions (the results of
        Fraction arithmetic on them), the zero ones dropped here. The arithmetic below
        builds its results so, without ``__init__``'s conversion of every coefficient."""
        p = object.__new__(cls)
        object.__setattr__(p, "terms", {m: c for m, c in terms.items() if c})
        object.__setattr__(p, "_hash", None)
        return p

    def __setattr__(self, key, value):  # immutability: polynomials are dictionary keys
        raise AttributeError("Poly is immutable")

    def __reduce__(self):       # pickled by its terms (tasks sent to pooled workers)
        return (Poly, (self.terms,))

    # construction -------------------------------------------------------------------
    @staticmethod
    def const(c) -> "Poly":
        return Poly({ONE_MONOMIAL: Fraction(c)})

    @staticmethod
    def var(name: str) -> "Poly":
        return Poly({((name, 1),): Fraction(1)})

    @staticmethod
    def sum(polys: Iterable["Poly"]) -> "Poly":
        acc: dict[Monomial, Fraction] = {}
        for p in polys:
            for m, c in p.terms.items():
                acc[m] = acc[m] + c if m in acc else c
        return Poly._of(acc)

    # arithmetic ---------------------------------------------------------------------
    def __add__(self, other) -> "Poly":
        other = _lift(other)
        acc = dict(self.terms)
        for m, c in other.terms.items():
            acc[m] = acc[m] + c if m in acc else c
        return Poly._of(acc)

    __radd__ = __add__

    def __neg__(self) -> "Poly":
        return Poly._of({m: -c for m, c in self.terms.items()})

    def __sub__(self, other) -> "Poly":
        return self + (-_lift(other))

    def __rsub__(self, other) -> "Poly":
        return _lift(other) - self

    def __mul__(self, other) -> "Poly":
        other = _lift(other)
        acc: dict[Monomial, Fraction] = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in other.terms.items():
                m = _mul_monomials(m1, m2)
                c = c1 * c2
                acc[m] = acc[m] + c if m in acc else c
        return Poly._of(acc)

    __rmul__ = __mul__

    def __pow__(self, n: int) -> "Poly":
        if not isinstance(n, int) or n < 0:
            raise ValueError("polynomial powers must be nonnegative integers")
        result, base = Poly.const(1), self
        while n:
            if n & 1:
                result = result * base
            n >>= 1
            if n:
                base = base * base
        return result

    def scale(self, c) -> "Poly":
        c = Fraction(c)
        return Poly._of({m: c * v for m, v in self.terms.items()})

    # inspection ---------------------------------------------------------------------
    def is_zero(self) -> bool:
        return not self.terms

    def is_constant(self) -> bool:
        return all(m == ONE_MONOMIAL for m in self.terms)

    def constant_value(self) -> Fraction:
        return self.terms.get(ONE_MONOMIAL, Fraction(0))

    def degree(self) -> int:
        return max((monomial_degree(m) for m in self.terms), default=0)

    def variables(self) -> set[str]:
        return {name for m in self.terms for name, _ in m}

    def evaluate(self, values: Mapping[str, Fraction]) -> Fraction:
        total = Fraction(0)
        for m, c in self.terms.items():
            term = c
            for name, e in m:
                term *= Fraction(values[name]) ** e
            total += term
        return total

    def substitute(self, values: Mapping[str, "Poly"]) -> "Poly":
        """Replace variables by polynomials (variables not in ``values`` stay)."""
        out = []
        for m, c in self.terms.items():
            term = Poly.const(c)
            for name, e in m:
                term = term * (values[name] ** e if name in values else Poly({((name, e),): 1}))
            out.append(term)
        return Poly.sum(out)

    def sorted_terms(self) -> list[tuple[Monomial, Fraction]]:
        return sorted(self.terms.items(), key=lambda mc: (monomial_degree(mc[0]), mc[0]))

    # equality and hashing -----------------------------------------------------------
    def __eq__(self, other) -> bool:
        if isinstance(other, (int, Fraction)):
            other = Poly.const(other)
        return isinstance(other, Poly) and self.terms == other.terms

    def __hash__(self) -> int:
        if self._hash is None:
            object.__setattr__(self, "_hash", hash(frozenset(self.terms.items())))
        return self._hash

    # rendering ----------------------------------------------------------------------
    def __str__(self) -> str:
        if not self.terms:
            return "0"
        parts = []
        for m, c in self.sorted_terms():
            mono = monomial_text(m)
            if m == ONE_MONOMIAL:
                text = str(abs(c))
            elif abs(c) == 1:
                text = mono
            else:
                text = f"{abs(c)}*{mono}"
            sign = "-" if c < 0 else "+"
            parts.append((sign, text))
        first_sign, first = parts[0]
        out = ("-" if first_sign == "-" else "") + first
        for sign, text in parts[1:]:
            out += f" {sign} {text}"
        return out

    __repr__ = __str__

    def to_smtlib(self) -> str:
        if not self.terms:
            return "0.0"
        parts = []
        for m, c in self.sorted_terms():
            factors = []
            if c != 1 or not m:
                factors.append(smt_number(c))
            for name, e in m:
                factors.extend([name] * e)
            parts.append(factors[0] if len(factors) == 1 else "(* " + " ".join(factors) + ")")
        return parts[0] if len(parts) == 1 else "(+ " + " ".join(parts) + ")"

    def to_json(self) -> list:
        """``[[coefficient 'p/q', [[var, exp], ...]], ...]`` in a canonical order."""
        return [[fraction_text(c), [[n, e] for n, e in m]] for m, c in self.sorted_terms()]

    @staticmethod
    def from_json(data, parse_number) -> "Poly":
        terms: dict[Monomial, Fraction] = {}
        for coeff, mono in data:
            m = tuple(sorted((str(n), int(e)) for n, e in mono))
            if any(e <= 0 for _, e in m) or len({n for n, _ in m}) != len(m):
                raise ValueError(f"malformed monomial {mono!r}")
            terms[m] = terms.get(m, Fraction(0)) + parse_number(coeff)
        return Poly(terms)


def _lift(x) -> Poly:
    if isinstance(x, Poly):
        return x
    if isinstance(x, (int, Fraction)):
        return Poly.const(x)
    raise TypeError(f"cannot combine Poly with {type(x).__name__}")


def fraction_text(c: Fraction) -> str:
    c = Fraction(c)
    return str(c.numerator) if c.denominator == 1 else f"{c.numerator}/{c.denominator}"


def smt_number(c: Fraction) -> str:
    """An SMT-LIB real literal for an exact rational (negative and fractional forms)."""
    c = Fraction(c)
    mag = abs(c)
    text = f"{mag.numerator}.0" if mag.denominator == 1 else f"(/ {mag.numerator}.0 {mag.denominator}.0)"
    return f"(- {text})" if c < 0 else text


_FRACTION = re.compile(r"-?[0-9]+(?:/[0-9]+)?", re.ASCII)
# digits of a stored numerator or denominator (docs/security.md; limits.py names it too):
# int() of a longer string is slow and Python refuses it past 4300 digits anyway
MAX_NUMBER_TEXT_DIGITS = 4_300


def str_to_fraction(s: str) -> Fraction:
    """Parse certificate text ``'3'`` or ``'-3/4'`` back to a Fraction.

    Only ``-?digits`` or ``-?digits/digits`` with a nonzero denominator are accepted;
    no spaces, decimals or expressions, and nothing is ever evaluated.
    """
    if not isinstance(s, str) or _FRACTION.fullmatch(s) is None:
        raise ValueError(f"invalid exact number {s!r}: expected an integer like '3'"
                         " or a fraction like '-3/4'")
    numerator, _, denominator = s.partition("/")
    if max(len(numerator.lstrip("-")), len(denominator)) > MAX_NUMBER_TEXT_DIGITS:
        raise ValueError(f"invalid exact number {s[:20]}...: more than "
                         f"{MAX_NUMBER_TEXT_DIGITS} digits")
    if denominator and int(denominator) == 0:
        raise ValueError(f"invalid exact number {s!r}: denominator is zero")
    return Fraction(int(numerator), int(denominator or 1))


@dataclass(frozen=True)
class Atom:
    """A polynomial constraint ``poly REL 0`` with REL in '>=', '>', '=='."""

    poly: Poly
    rel: str

    def __post_init__(self):
        if self.rel not in (">=", ">", "=="):
            raise ValueError(f"bad relation {self.rel!r}")

    def holds(self, values: Mapping[str, Fraction]) -> bool:
        v = self.poly.evaluate(values)
        return v > 0 if self.rel == ">" else v >= 0 if self.rel == ">=" else v == 0

    def __str__(self) -> str:
        return f"{self.poly} {self.rel} 0"
