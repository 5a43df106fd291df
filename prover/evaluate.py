"""Evaluating claims at a point: exactly (to decide counterexamples) and in floats (to
read simulated estimates).

The exact evaluator works on the conjecture's expression tree and the model's statistics,
not on the solver encoding, so a counterexample is re-checked by a second path. Values
are Fractions; an irrational square root becomes a rigorous interval with Fraction
endpoints, refined until every comparison is decided.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping

from . import expr as E


class Undefined(ArithmeticError):
    """The expression is not defined at this point (division by zero, sqrt of negative)."""


class Undecided(ArithmeticError):
    """A comparison could not be decided at the highest precision tried."""


@dataclass(frozen=True)
class Interval:
    lo: Fraction
    hi: Fraction


Value = Fraction | Interval


def _bounds(v: Value) -> tuple[Fraction, Fraction]:
    return (v, v) if isinstance(v, Fraction) else (v.lo, v.hi)


def _make(lo: Fraction, hi: Fraction) -> Value:
    return lo if lo == hi else Interval(lo, hi)


def _sqrt(v: Value, bits: int) -> Value:
    lo, hi = _bounds(v)
    if hi < 0:
        raise Undefined("square root of a negative number")
    if isinstance(v, Fraction):
        n, d = v.numerator, v.denominator
        rn, rd = math.isqrt(n), math.isqrt(d)
        if rn * rn == n and rd * rd == d:
            return Fraction(rn, rd)
    if lo < 0:
        raise Undecided("square root of an interval that straddles 0")
    scale = 1 << bits

    def down(x: Fraction) -> Fraction:
        return Fraction(math.isqrt(x.numerator * scale * scale // x.denominator), scale)

    def up(x: Fraction) -> Fraction:
        r = down(x)
        return r if r * r == x else r + Fraction(1, scale)

    return Interval(down(lo), up(hi))


class ExactEvaluator:
    """Evaluates expressions of one model instance at exact component values."""

    def __init__(self, instance, values: Mapping[str, Fraction], bits: int = 64):
        self.inst = instance
        self.values = {k: Fraction(v) for k, v in values.items()}
        self.bits = bits
        self._stats: dict[str, Value] = {}

    def statistic(self, name: str) -> Value:
        if name not in self._stats:
            stat = self.inst.statistics[name]
            if stat.ratio is not None:
                den = stat.ratio.den.evaluate(self.values)
                if den == 0:
                    raise Undefined(f"{name} is undefined (zero denominator)")
                self._stats[name] = stat.ratio.num.evaluate(self.values) / den
            else:
                self._stats[name] = self.term(E.parse_term(stat.expression))
        return self._stats[name]

    def term(self, e: E.Expr) -> Value:
        if isinstance(e, E.Num):
            return e.value
        if isinstance(e, E.Name):
            if e.name in self.inst.statistics:
                return self.statistic(e.name)
            return self.values[e.name]
        if isinstance(e, E.Neg):
            lo, hi = _bounds(self.term(e.operand))
            return _make(-hi, -lo)
        if isinstance(e, E.BinOp):
            a = self.term(e.left)
            if e.op == "^":
                n = self.term(e.right)
                if not isinstance(n, Fraction) or n.denominator != 1:
                    raise Undefined("exponent must be an integer")
                n = int(n)
                if n < 0:
                    a = self._div(Fraction(1), a)
                    n = -n
                result: Value = Fraction(1)
                for _ in range(n):
                    result = self._mul(result, a)
                return result
            b = self.term(e.right)
            if e.op == "+":
                (al, ah), (bl, bh) = _bounds(a), _bounds(b)
                return _make(al + bl, ah + bh)
            if e.op == "-":
                (al, ah), (bl, bh) = _bounds(a), _bounds(b)
                return _make(al - bh, ah - bl)
            if e.op == "*":
                return self._mul(a, b)
            return self._div(a, b)
        if isinstance(e, E.Call):
            args = [self.term(x) for x in e.args]
            if e.func == "sqrt":
                return _sqrt(args[0], self.bits)
            if e.func == "abs":
                lo, hi = _bounds(args[0])
                if lo >= 0:
                    return args[0]
                if hi <= 0:
                    return _make(-hi, -lo)
                return Interval(Fraction(0), max(-lo, hi))
            bounds = [_bounds(x) for x in args]
            pick = min if e.func == "min" else max
            return _make(pick(b[0] for b in bounds), pick(b[1] for b in bounds))
        raise TypeError(f"not a number expression: {e!r}")

    @staticmethod
    def _mul(a: Value, b: Value) -> Value:
        if isinstance(a, Fraction) and isinstance(b, Fraction):
            return a * b
        (al, ah), (bl, bh) = _bounds(a), _bounds(b)
        products = [al * bl, al * bh, ah * bl, ah * bh]
        return _make(min(products), max(products))

    def _div(self, a: Value, b: Value) -> Value:
        bl, bh = _bounds(b)
        if isinstance(b, Fraction) and b == 0:
            raise Undefined("division by zero")
        if bl <= 0 <= bh:
            raise Undecided("divisor interval contains 0")
        return self._mul(a, _make(1 / bh, 1 / bl))

    def truth(self, e: E.Expr) -> bool:
        if isinstance(e, E.Compare):
            for op, left, right in zip(e.ops, e.operands, e.operands[1:]):
                if not self._compare(op, self.term(left), self.term(right)):
                    return False
            return True
        if isinstance(e, E.BoolOp):
            results = [self.truth(x) for x in e.operands]
            return all(results) if e.op == "and" else any(results)
        if isinstance(e, E.Not):
            return not self.truth(e.operand)
        if isinstance(e, E.Implies):
            return (not self.truth(e.left)) or self.truth(e.right)
        raise TypeError("not a boolean expression")

    @staticmethod
    def _compare(op: str, a: Value, b: Value) -> bool:
        (al, ah), (bl, bh) = _bounds(a), _bounds(b)
        if op == "==":
            if isinstance(a, Fraction) and isinstance(b, Fraction):
                return a == b
            if ah < bl or bh < al:
                return False
            raise Undecided("equality of irrational values")
        lhs_less = ah < bl          # certainly a < b
        lhs_greater = al > bh       # certainly a > b
        if op in ("<", "<="):
            if lhs_less:
                return True
            if lhs_greater:
                return False
            if ah == bl and op == "<=" and al == ah and bl == bh:
                return True
        else:
            if lhs_greater:
                return True
            if lhs_less:
                return False
            if al == bh and op == ">=" and al == ah and bl == bh:
                return True
        if isinstance(a, Fraction) and isinstance(b, Fraction):
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        raise Undecided("comparison too close to decide")


def exact_truth(instance, values: Mapping[str, Fraction], e: E.Expr) -> bool:
    """Decide a formula at exact values, refining interval precision as needed."""
    for bits in (64, 256, 1024, 4096):
        try:
            return ExactEvaluator(instance, values, bits).truth(e)
        except Undecided:
            continue
    raise Undecided("could not decide the claim at this point even with 4096-bit intervals")


class RealizedEvaluator(ExactEvaluator):
    """Exact evaluation on values a realizer recomputed from a concrete object: the
    statistics in ``env`` are taken as given (never from the model's formulas);
    expression statistics missing from it (e.g. r = sqrt(r2)) are evaluated from it."""

    def __init__(self, instance, env: Mapping[str, Fraction], bits: int = 64):
        super().__init__(instance, {k: v for k, v in env.items()
                                    if k in instance.components}, bits)
        self.env = {k: Fraction(v) for k, v in env.items()}

    def statistic(self, name: str) -> Value:
        if name in self.env:
            return self.env[name]
        if self.inst.statistics[name].ratio is not None:
            raise Undefined(f"the realizer did not recompute '{name}'")
        return super().statistic(name)


def realized_violation(instance, env: Mapping[str, Fraction], claim: E.Expr,
                       assume: list) -> bool:
    """Exactly: on the realized values every assumption holds and the claim fails
    (a violation on the boundary, e.g. r2 = 1/2 against 'r2 < 1/2', counts)."""
    for bits in (64, 256, 1024, 4096):
        try:
            ev = RealizedEvaluator(instance, env, bits)
            return all(ev.truth(a) for a in assume) and not ev.truth(claim)
        except Undecided:
            continue
    raise Undecided("could not decide the claim on the realized values")


# --- floats: margins of claims at simulated estimates ------------------------------------

def float_term(e: E.Expr, env: Mapping[str, float], instance=None, exact: bool = False):
    """Value of a number expression from estimates (floats), or from exact values when
    ``exact`` (literals then stay Fractions; only irrational square roots become floats)."""
    if isinstance(e, E.Num):
        return e.value if exact else float(e.value)
    if isinstance(e, E.Name):
        if e.name in env:
            return env[e.name]
        stat = instance.statistics.get(e.name) if instance is not None else None
        if stat is not None and stat.expression:
            return float_term(E.parse_term(stat.expression), env, instance, exact)
        raise KeyError(f"no estimate for '{e.name}'")
    if isinstance(e, E.Neg):
        return -float_term(e.operand, env, instance, exact)
    if isinstance(e, E.BinOp):
        a = float_term(e.left, env, instance, exact)
        b = float_term(e.right, env, instance, exact)
        if exact and e.op == "^" and isinstance(b, Fraction) and b.denominator == 1:
            return a ** int(b) if a != 0 or b >= 0 else math.nan
        try:
            return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                    "/": lambda: a / b, "^": lambda: a ** b}[e.op]()
        except (ZeroDivisionError, OverflowError):
            return math.nan
    if isinstance(e, E.Call):
        args = [float_term(x, env, instance, exact) for x in e.args]
        if e.func == "sqrt":
            if exact and isinstance(args[0], Fraction) and args[0] >= 0:
                root = _sqrt(args[0], 64)
                if isinstance(root, Fraction):
                    return root
            return math.sqrt(args[0]) if args[0] >= 0 else math.nan
        if e.func == "abs":
            return abs(args[0])
        return min(args) if e.func == "min" else max(args)
    raise TypeError("not a number expression")


def margin(e: E.Expr, env: Mapping[str, float], instance=None,
           skip_equalities: bool = False, exact: bool = False):
    """How much a formula holds at float estimates: > 0 holds, < 0 fails.

    ``a <= b`` has margin b - a; 'and' is the minimum, 'or' the maximum, 'not' the
    negative. An equality has margin -|a - b| (it can never be confirmed numerically);
    with ``skip_equalities`` equalities count as +inf (they were checked exactly)."""
    if isinstance(e, E.Compare):
        out = math.inf
        for op, left, right in zip(e.ops, e.operands, e.operands[1:]):
            a = float_term(left, env, instance, exact)
            b = float_term(right, env, instance, exact)
            if op == "==":
                m = math.inf if skip_equalities else -abs(a - b)
            else:
                m = b - a if op in ("<", "<=") else a - b
            out = min(out, m)
        return out
    if isinstance(e, E.BoolOp):
        ms = [margin(x, env, instance, skip_equalities, exact) for x in e.operands]
        return min(ms) if e.op == "and" else max(ms)
    if isinstance(e, E.Not):
        return -margin(e.operand, env, instance, exact=exact)  # never skip a negated equality
    if isinstance(e, E.Implies):
        return max(-margin(e.left, env, instance, exact=exact),
                   margin(e.right, env, instance, skip_equalities, exact))
    raise TypeError("not a boolean expression")
