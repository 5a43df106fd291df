"""Exact counterexamples: candidate points made rational from a solver's model, exact
tests of the hypotheses and of the claim at a point, the violation margin, and the
search for a counterexample (solver margins from large to small, simplest restrictions
of the family first; a seeded numeric search that ends in exact points)."""

from __future__ import annotations

import time
from fractions import Fraction

from . import solvers
from .conjecture import Conjecture
from .evaluate import Undecided, Undefined, exact_truth, margin, ExactEvaluator
from .formula import holds
from .poly import fraction_text

MARGINS = tuple(Fraction(1, 2 ** k) for k in (0, 1, 2, 4, 6, 8, 10))


def rationalize(values: dict, variables: list[str]) -> list[dict[str, Fraction]]:
    """Candidate exact points from a solver model: exact values as they are, algebraic
    ones approximated by rationals of growing precision."""
    exact, approx = {}, {}
    for v in variables:
        entry = values.get(v, {"exact": "0"})
        if "exact" in entry:
            exact[v] = Fraction(entry["exact"])
        else:
            approx[v] = Fraction(entry["approx"])
    if not approx:
        return [exact]
    return [{**exact, **{k: x.limit_denominator(10 ** d) for k, x in approx.items()}}
            for d in (2, 3, 4, 6, 9, 12, 18)]


def hypotheses_hold(conj: Conjecture, instance, values: dict[str, Fraction]) -> bool:
    """Exactly: the model's constraints and every assumption hold at ``values``."""
    if set(values) != set(instance.variables):
        return False
    try:
        return all(holds(a, values) for a in instance.constraints) and \
            all(exact_truth(instance, values, a) for a in conj.assume)
    except (Undefined, Undecided, ZeroDivisionError):
        return False


def hypotheses_witness(conj: Conjecture, instance, result) -> dict | None:
    """An exact point where the hypotheses hold, from the vacuity check's model: the
    evidence that the claim is not vacuous, which `verify` re-checks without a solver."""
    if result.result != "sat":
        return None
    for cand in rationalize(result.values, list(instance.variables)):
        if hypotheses_hold(conj, instance, cand):
            return {k: fraction_text(cand[k]) for k in sorted(cand)}
    return None


def is_counterexample(conj: Conjecture, instance, values: dict[str, Fraction]) -> bool:
    """Exactly: a member of the family where every assumption holds and the claim fails."""
    if not all(holds(a, values) for a in instance.constraints):
        return False
    try:
        if not all(exact_truth(instance, values, a) for a in conj.assume):
            return False
        return not exact_truth(instance, values, conj.claim)
    except (Undefined, Undecided, ZeroDivisionError):
        return False


def _env(instance, values: dict[str, Fraction], exact: bool = False) -> dict:
    ev = ExactEvaluator(instance, values, 128)
    env = {}
    for name in instance.statistics:
        try:
            v = ev.statistic(name)
        except (Undefined, Undecided):
            continue
        if not isinstance(v, Fraction):      # irrational: this one value as a float
            env[name] = float((v.lo + v.hi) / 2)
            continue
        env[name] = v if exact else float(v)
    for name in instance.components:
        env[name] = values[name] if exact else float(values[name])
    return env


def violation_margin(conj: Conjecture, env: dict, instance, exact: bool = False):
    """> 0 when every assumption holds and the claim fails, by that much (at least)."""
    parts = [-margin(conj.claim, env, instance, exact=exact)]
    parts += [margin(a, env, instance, skip_equalities=True, exact=exact) for a in conj.assume]
    return min(parts)


def _simplify(conj, instance, values):
    """Prefer short rationals when they still violate the claim by a similar margin."""
    base = violation_margin(conj, _env(instance, values), instance)
    for d in (10, 100, 1000, 10000):
        nice = {k: v.limit_denominator(d) for k, v in values.items()}
        if nice != values and is_counterexample(conj, instance, nice) and \
                violation_margin(conj, _env(instance, nice), instance) >= base / 2:
            return nice
    return values


MIN_SEARCH_STEP = 0.5      # no search step starts with less than this many seconds left


def find_counterexample(conj, instance, problem, first, timeout, primary):
    """Search for an exact counterexample: simplest restrictions of the family first
    (``search_tiers``) with clear margins, then the whole family with margins from large
    to small, then none.

    ``first`` is the sat answer on the proof side; when the model's points are concrete
    it is a candidate too (a relaxation's point is not, so the caller passes None)."""
    from . import numsearch

    model_vars = list(instance.variables)
    step = max(2.0, min(10.0, timeout / 4))
    deadline = time.monotonic() + timeout   # the whole search stays within ``timeout``

    def budget() -> float:
        return min(step, deadline - time.monotonic())

    def numeric():
        # a seeded float search that ends in exact points: equalities re-imposed exactly;
        # the model's proposals (half the step at most) are where its first walks begin
        if budget() < MIN_SEARCH_STEP:
            return None
        starts = []
        if instance.search_starts is not None:
            starts = instance.search_starts(problem, budget() / 2)
        found = numsearch.search(conj, instance,
                                 lambda v: is_counterexample(conj, instance, v),
                                 seed=0, budget=budget(), starts=starts)
        return (_simplify(conj, instance, found[0]), tried, []) if found else None

    tried = []
    # an equality hypothesis (s2 == 1/2) often has no rational point where the solver
    # looks: the numeric search, which solves it exactly, goes first
    if instance.realize is not None and numsearch.has_equalities(conj):
        if (hit := numeric()) is not None:
            return hit
    ladders = [(tier, list(MARGINS)) for tier in instance.search_tiers]
    ladders.append(([], list(MARGINS) + [None]))
    for tier, margins in ladders:
        if budget() < MIN_SEARCH_STEP:
            break
        texts = [problem.smtlib(search=True, margin=m, extra=tier) for m in margins]
        left = budget()
        results = solvers.solve_until_sat(primary, texts, left, total=left)
        tried += results
        if not results or results[-1].result != "sat":
            continue
        for cand in rationalize(results[-1].values, model_vars):
            if is_counterexample(conj, instance, cand):
                return _simplify(conj, instance, cand), tried, tier
    if first is not None:
        for cand in rationalize(first.values, model_vars):
            if is_counterexample(conj, instance, cand):
                return _simplify(conj, instance, cand), tried, []
    if instance.realize is not None and not numsearch.has_equalities(conj):
        if (hit := numeric()) is not None:
            return hit
    return None, tried, []


def _num(x):
    """An exact number as its text ("p/q"); a float as it is."""
    return fraction_text(x) if isinstance(x, Fraction) else x
