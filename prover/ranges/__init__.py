"""What observed statistics imply: exact ranges of targets over a family (``prover bounds``).

Given observed statistics (each an exact value or an interval) and target expressions,
``bounds`` computes for each target its exact range over every member of the family
whose statistics take the given values. It works for models whose statistics are ratios
of linear forms in nonnegative components with one strict constraint (``twins``;
``multilinear`` with a finite ``max_degree``): each given is then a pair of homogeneous
linear inequalities, each end of a linear-fractional target is a linear program after
the Charnes–Cooper substitution (y = v / den(v)), and that program is solved exactly in
rationals (``prover.ranges.lp``), its answer re-checked exactly.

Each end is reported exact (or unbounded), attained or only approached. The closure of
the members with the given values is the cone {v >= 0 : given rows}, so the LP optimum
is the supremum; it is attained when some optimal point has V_G > 0 (a second LP
maximises V_G on the optimal face). An attained end comes with a witness architecture,
checked exactly against the givens and realized by the model's realizer, whose
independently computed statistics must agree. Every finite end is also certified
through prover's ordinary pipeline: the conjecture ``givens implies TARGET <= U`` (or
``< U`` when U is only approached; ``>=``/``>`` for the lower end) goes through
``prover.check.check`` and gets its exact Farkas certificate; with a store it is kept
there (its source under ``conjectures/bounds/`` beside the store) for ``prover verify``.

When no member has the given values, the reason is an exact separating statement: a
combination L of the given statistics with ``L >= c`` on every member while the given
values make L smaller (read from the LP's Farkas vector), and a hint when other
parameters (``shared_environment = true``, a higher ``max_order``) would allow them.

The work is split by job: ``spec`` (SPECs and givens), ``results`` (the answer),
``problem`` (the linear programs and each end), ``witness`` (re-checking and realizing
an attained end), ``certificates`` (certifying each end through ``prover.check``) and
``infeasible`` (why no member has the given values); ``lp`` is the exact LP solver.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Iterable, Mapping

from ..errors import InputError
from .certificates import _certify
from .infeasible import _infeasibility_reason
from .problem import SUPPORTED, _end, _linear_fractional, _problem, _read_statistic, _solve
from .results import BoundsResult, End, Given, TargetBounds
from .spec import parse_given, parse_spec
from .witness import _check_witness, _realize

__all__ = ["Given", "End", "TargetBounds", "BoundsResult", "bounds", "parse_spec",
           "parse_given", "SUPPORTED"]

DEFAULT_SEED = 20261127


# --- the entry point ----------------------------------------------------------------------

def bounds(model: str, given: Mapping[str, Any] | None = None,
           targets: Iterable[str] = ("h2",), params: Mapping[str, Any] | None = None, *,
           store=None, prove: bool = True, realize: bool = True,
           timeout: float | None = None, seed: int = DEFAULT_SEED) -> BoundsResult:
    """The exact range of each target over every member of ``model``'s family (with
    ``params``) whose statistics take the ``given`` values.

    ``given`` maps statistics (or expressions in them) to SPECs: exact strings
    ("0.62", "31/50", "0.55..0.65", "0.62±0.03"), Fractions, ints, floats (as their
    decimal) or (lo, hi) pairs. ``store`` (a directory) keeps each end's certificate and
    its conjecture; ``prove=False`` skips certification, ``realize=False`` the
    simulation of witnesses.

    >>> r = bounds("twins", given={"rMZ": "0.62", "rDZ": "0.25"}, targets=["h2"],
    ...            params={"max_order": 1}, prove=False, realize=False)
    >>> r.feasible, r.bounds[0].lower.value, r.bounds[0].upper.attained
    (True, Fraction(19, 50), True)
    """
    from .. import models

    m = models.get(model)
    params = m.validate_params(dict(params or {}))
    inst = m.build(params)
    if isinstance(targets, str):
        targets = [targets]
    targets = list(targets)
    if not targets:
        raise InputError("name at least one target, e.g. h2 or s2")
    givens, seen = [], set()
    for key, spec in (given or {}).items():
        if not isinstance(key, str):
            raise InputError(f"given {key!r}: keys are statistic names such as rMZ")
        try:
            lo, hi = parse_spec(spec)
        except InputError as exc:
            raise InputError(f"given {key}: {exc.message}") from None
        name = key.strip()
        if name in seen:
            raise InputError(f"given {name} twice; give each statistic once")
        seen.add(name)
        givens.append(Given(name, lo, hi))
    pr = _problem(inst, givens)
    texts = [t.strip() if isinstance(t, str) else t for t in targets]
    target_forms = []
    for t in texts:
        e = _read_statistic(inst, t, "target")
        target_forms.append((t, e, *_linear_fractional(inst, e, t, "target", pr.comps,
                                                       pr.strict)))
    result = BoundsResult(m.name, params, givens, True, [])

    feas = _solve(pr, [Fraction(0)] * len(pr.comps), [pr.strict], [Fraction(1)])
    if feas.status == "infeasible":
        result.feasible = False
        result.reason = _infeasibility_reason(m, params, pr, feas.farkas)
        return result

    if prove:
        from .. import solvers
        solvers.preload()
    for text, e, num, den in target_forms:
        ends = []
        for side in ("lower", "upper"):
            end = _end(pr, num, den, side)
            if end.attained:
                _check_witness(pr, end, e, text)
                if realize:
                    end.realization = _realize(pr, end.witness, e, text, seed)
                    if not end.realization["confirmed"]:
                        end.notes.append("the realized witness did not confirm its "
                                         "statistics: " + end.realization["note"])
            if prove and end.value is not None:
                _certify(m, params, givens, text, side, end, store, timeout)
            ends.append(end)
        result.bounds.append(TargetBounds(text, ends[0], ends[1]))
    return result
