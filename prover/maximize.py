"""The largest violation: a counterexample's violation pushed up by asking the solver for
counterexamples violating the claim by more than m (the claim shifted by m), m doubled,
then bisected; the best exact counterexample found is kept, short rationals preferred."""

from __future__ import annotations

import math
import time
from fractions import Fraction

from . import expr as E
from . import solvers
from .counterexample import _env, _num, is_counterexample, rationalize
from .encode import encode
from .errors import ProverError
from .evaluate import Undecided, Undefined, margin


def shifted_claim(e: E.Expr, m: Fraction) -> E.Expr:
    """The claim loosened by ``m`` in the units of ``margin``: it fails exactly where the
    original claim's margin is below -m, i.e. where the claim is violated by more than
    m (an equality ``a == b`` fails by |a - b|; ``not`` and the premise of ``implies``
    are shifted the other way, matching how ``margin`` combines them)."""
    if isinstance(e, E.Compare):
        links = []
        for op, left, right in zip(e.ops, e.operands, e.operands[1:]):
            if op in ("<", "<="):
                links.append(E.Compare(ops=(op,), operands=(left, _plus(right, m))))
            elif op in (">", ">="):
                links.append(E.Compare(ops=(op,), operands=(_plus(left, m), right)))
            else:   # a == b fails by more than m where |a - b| > m
                links.append(E.Compare(ops=("<=", "<="),
                                       operands=(_plus(right, -m), left, _plus(right, m))))
        return links[0] if len(links) == 1 else E.BoolOp(op="and", operands=tuple(links))
    if isinstance(e, E.BoolOp):
        return E.BoolOp(op=e.op, operands=tuple(shifted_claim(x, m) for x in e.operands))
    if isinstance(e, E.Not):
        return E.Not(operand=shifted_claim(e.operand, -m))
    if isinstance(e, E.Implies):
        return E.Implies(left=shifted_claim(e.left, -m), right=shifted_claim(e.right, m))
    raise TypeError("not a boolean expression")


def _plus(x: E.Expr, m: Fraction) -> E.Expr:
    return E.BinOp(op="+", left=x, right=E.Num(value=Fraction(m)))


def claim_violation(conj, instance, values) -> Fraction | None:
    """The exact amount by which the claim fails at ``values`` (DESIGN.md: the claim's
    shortfall; assumptions must hold), as a Fraction (an irrational one rounded down to
    a 2^-40 grid), or None when it cannot be evaluated."""
    try:
        v = -margin(conj.claim, _env(instance, values, exact=True), instance, exact=True)
    except (ZeroDivisionError, KeyError, Undefined, Undecided):
        return None
    if isinstance(v, Fraction):
        return v
    if isinstance(v, float) and math.isfinite(v):
        return Fraction(math.floor(v * 2 ** 40), 2 ** 40)
    return None


MAX_DOUBLINGS = 6
BISECTIONS = 8
CLOSE_ENOUGH = Fraction(1, 20)    # stop when no counterexample is known to do 5% better


READABLE_WITHIN = Fraction(1, 10)   # keep a simpler tier's point unless 10% beaten
# one query's share of the budget: a family the solver cannot decide (a concrete
# nonlinear one whose first counterexample came from the numeric search) costs a fifth
# of the budget, not all of it; the bundled corpus's queries take at most 1 s each
QUERY_SHARE = Fraction(1, 5)
MIN_QUERY = 2.0


def maximize_violation(conj, instance, values, budget: float, primary: str, tier=()):
    """Push a counterexample's violation up: ask the solver for a counterexample
    violating the claim by more than m (``shifted_claim``), m doubling from the first
    violation, then bisection between the largest m answered sat and the smallest that
    was not; the best exact counterexample found is kept. The search stays in the
    simpler restriction ``tier`` the first counterexample came from unless the whole
    family violates by 10% more; short rationals within 5% of the best are preferred.
    Returns (values, record of how it was maximized)."""
    clock = _Clock(time.perf_counter() + budget, max(MIN_QUERY, float(budget * QUERY_SHARE)))
    first_v = claim_violation(conj, instance, values)
    record = {"method": "solver asked for a violation above m: m doubled from the first "
                        "counterexample, then bisected", "queries": 0,
              "first_violation": _num(first_v) if first_v is not None else None}
    if first_v is None or first_v <= 0:
        record["note"] = "the first counterexample's violation could not be measured"
        return values, record
    best, best_v, hi, note = _climb(conj, instance, values, first_v, list(tier), clock,
                                    primary, record)
    if tier:
        # is the whole family much worse for the claim than the simple restriction?
        target = best_v * (1 + READABLE_WITHIN)
        found, _, _ = _ask(conj, instance, [target], [], clock, primary, record)
        if found is not None and found[1] > best_v:
            best, best_v, hi, note = _climb(conj, instance, found[0], found[1], [],
                                            clock, primary, record)
            record["family"] = "whole family (the simpler restriction violates less)"
        else:
            if found is None and not record.get("gave_up"):
                record["whole_family_not_above"] = _num(target)
            record["family"] = ("restricted to simpler components: "
                                + ("no point of the whole family violates by 10% more"
                                   if found is None and not record.get("gave_up")
                                   else "the whole family was not searched further"))
            hi = None     # the restriction's limit is not the family's
    nice = _simplest_close(conj, instance, best, max((1 - CLOSE_ENOUGH) * best_v, first_v))
    if nice is not None:
        best, best_v = nice
    record["violation"] = _num(best_v)
    if hi is not None:
        record["no_violation_above"] = _num(hi)
        record["bound_from"] = f"{primary} found no counterexample violating by more than this"
    elif note:
        record["note"] = note
    record.pop("gave_up", None)
    return best, record


class _Clock:
    """The maximization's deadline and the most one solver call may take."""

    def __init__(self, deadline: float, cap: float):
        self.deadline, self.cap = deadline, cap

    def left(self) -> float:
        return self.deadline - time.perf_counter()


def _ask(conj, instance, ms, tier, clock, primary, record):
    """Solve for a counterexample violating by more than each of ``ms`` in turn (one
    child), stopping at the first sat. Returns ((values, violation) of an exact
    counterexample or None, the margins answered unsat, the margin answered sat)."""
    left = clock.left()
    if left <= 0.2:
        record["gave_up"] = True
        return None, [], None
    texts = []
    for m in ms:
        try:
            texts.append(encode(instance, shifted_claim(conj.claim, m),
                                conj.assume).smtlib(search=True, extra=tier))
        except ProverError:
            record["gave_up"] = True
            return None, [], None
    results = solvers.solve_until_sat(primary, texts,
                                      min(clock.cap, max(0.2, left / len(texts))))
    record["queries"] += len(results)
    refused = [m for m, r in zip(ms, results) if r.result == "unsat"]
    if any(r.result not in ("sat", "unsat") for r in results):
        record["gave_up"] = True
    last = results[-1]
    if last.result == "sat":
        for cand in rationalize(last.values, list(instance.variables)):
            if is_counterexample(conj, instance, cand):
                v = claim_violation(conj, instance, cand)
                if v is not None:
                    return (cand, v), refused, ms[len(results) - 1]
    return None, refused, None


def _climb(conj, instance, best, best_v, tier, clock, primary, record):
    """Doubling, then bisection, from ``best``; returns (best, violation, the smallest
    margin answered unsat or None, a note when no upper limit was found)."""
    lo, hi = best_v, None
    # doubling: first twice the first violation alone (the first counterexample is most
    # often within a factor 2 of the largest, and one unsat then bounds it); when that is
    # exceeded, the rest of the ladder in one child, largest first, so that the first
    # sat is the largest that is
    start = best_v
    for ladder in ([start * 2], [start * 2 ** k for k in range(MAX_DOUBLINGS, 1, -1)]):
        found, refused, sat_m = _ask(conj, instance, ladder, tier, clock, primary,
                                     record)
        if found is not None and found[1] > best_v:
            best, best_v = found
        if sat_m is not None:
            lo = max(lo, sat_m)
        if refused:
            hi = min(refused + ([hi] if hi is not None else []))
        if sat_m is None:
            break                   # unsat (or gave up) at twice: no higher rung is asked
    for _ in range(BISECTIONS):
        lo = max(lo, best_v)
        if hi is None or hi - lo <= CLOSE_ENOUGH * lo or clock.left() <= 0:
            break
        mid = _short_between(lo, hi)
        found, refused, sat_m = _ask(conj, instance, [mid], tier, clock, primary, record)
        if found is not None:
            if found[1] > best_v:
                best, best_v = found
            lo = max(mid, best_v)
        elif refused:
            hi = mid
        else:
            break
    note = ""
    if hi is None:
        note = (f"the solver gave up before an upper limit was found (one query may take "
                f"{clock.cap:.3g} s)" if record.get("gave_up")
                else f"violations above {float(lo):.4g} exist: {MAX_DOUBLINGS} doublings "
                     "did not reach the largest")
    return best, best_v, hi, note


def _short_between(lo: Fraction, hi: Fraction) -> Fraction:
    """A rational with a small denominator strictly between lo and hi (near the middle)."""
    mid = (lo + hi) / 2
    for d in (10, 100, 1000, 10 ** 4, 10 ** 6, 10 ** 9):
        x = mid.limit_denominator(d)
        if lo < x < hi:
            return x
    return mid


def _simplest_close(conj, instance, values, floor):
    """The point with the shortest rationals (rounded from ``values``) whose violation
    is at least ``floor``, or None."""
    for d in (4, 10, 20, 100, 1000, 10000):
        nice = {k: v.limit_denominator(d) for k, v in values.items()}
        if nice == values:
            return None
        if is_counterexample(conj, instance, nice):
            v = claim_violation(conj, instance, nice)
            if v is not None and v >= floor:
                return nice, v
    return None
