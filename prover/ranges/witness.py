"""The witness of an attained end of ``prover bounds``: re-checked exactly on the
model's own statistics, then realized by the model's realizer, whose independently
computed statistics must agree."""

from __future__ import annotations

import math
import statistics as pystats
from fractions import Fraction

from .. import expr as E
from ..poly import fraction_text
from ..realizers.student import t_quantile
from .lp import LPError
from .problem import _Problem
from .results import End

# a witness is checked on several statistics at once, so each interval is wide: the
# two-sided 99.9 % Student t quantile for the batch means there are (realizers/student.py)
EFFORTS = (1, 4)


def _check_witness(pr: _Problem, end: End, target: E.Expr, text: str) -> None:
    """The witness, evaluated exactly on the model's own statistics (not the LP rows),
    satisfies the model, every given and reaches the end's value."""
    from ..evaluate import ExactEvaluator

    inst, w = pr.inst, end.witness
    ev = ExactEvaluator(inst, w)
    ok = all(a.holds(w) for a in inst.constraints)
    for g, e, _, _ in pr.givens:
        v = ev.term(e)
        ok = ok and isinstance(v, Fraction) and g.lo <= v <= g.hi
    ok = ok and ev.term(target) == end.value
    if not ok:
        raise LPError(f"internal error: the witness of {text} fails the exact re-check")


def _realize(pr: _Problem, witness: dict, target: E.Expr, text: str, seed: int) -> dict:
    """Rebuild the witness as a concrete object (the model's realizer) and compare its
    independently computed statistics with the exact ones: exactly when the realizer
    computes exactly (twins: enumeration of genotypes and transmissions), else each
    within its 99.9% batch-means interval (simulation)."""
    from ..evaluate import ExactEvaluator, float_term

    inst = pr.inst
    exact_ev = ExactEvaluator(inst, witness)
    exprs = [(g.name, e) for g, e, _, _ in pr.givens] + [(text, target)]
    record: dict = {}
    for effort in EFFORTS:
        ev = inst.realize(witness, seed=seed, effort=effort)
        record = {"method": ev.method, "seed": ev.seed, "samples": ev.samples}
        estimates, bad = {}, []
        for name, e in exprs:
            want = exact_ev.term(e)
            if ev.exact is not None:
                got = float_term(e, ev.exact, inst, exact=True)
                estimates[name] = {"exact": fraction_text(want),
                                   "realized": fraction_text(got)
                                   if isinstance(got, Fraction) else got}
                if got != want:
                    bad.append(name)
                continue
            est = float_term(e, ev.estimates, inst)
            per = [float_term(e, b, inst) for b in ev.batch_estimates]
            half = t_quantile(0.999, len(per) - 1) * pystats.stdev(per) / math.sqrt(len(per))
            estimates[name] = {"exact": fraction_text(want), "estimate": round(est, 6),
                               "interval": [round(est - half, 6), round(est + half, 6)]}
            if not (abs(est - float(want)) <= half + 1e-12) or math.isnan(est):
                bad.append(name)
        record["estimates"] = estimates
        record["confirmed"] = not bad
        record["note"] = ("the realized object's statistics agree with the exact values"
                          if not bad else
                          f"{', '.join(bad)} outside the 99.9% interval with "
                          f"{ev.samples} samples")
        if not bad:
            break
    return record
