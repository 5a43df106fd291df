"""The linear programs of ``prover bounds``: the model checked to be a linear-fractional
family over its components, givens and targets as ratios of linear forms, the given
rows after the Charnes–Cooper substitution, and each end of a target's range as an
exact LP optimum (attained when an optimal point has V_G > 0)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .. import expr as E
from ..errors import ExprError, InputError
from ..poly import Poly
from .lp import LPError, maximize
from .results import End, Given

SUPPORTED = "twins, and multilinear with a finite max_degree"


@dataclass
class _Problem:
    inst: Any
    comps: list[str]
    strict: list[Fraction]          # the strict constraint's coefficients (V_G > 0)
    givens: list[tuple[Given, E.Expr, list[Fraction], list[Fraction]]]
    ub: list[list[Fraction]]
    eq: list[list[Fraction]]
    labels_ub: list[tuple[int, str]]
    labels_eq: list[tuple[int, str]]


def _supported(inst) -> list[Fraction]:
    """The strict constraint's coefficient vector, or InputError when the model is not a
    linear-fractional family over its components."""
    why = None
    comps = list(inst.components)
    if inst.concrete is not None:
        why = "its proof side is a relaxation"
    elif list(inst.variables) != comps:
        why = "it has internal variables besides the components"
    strict = None
    for atom in inst.constraints if why is None else ():
        p = atom.poly
        linear = p.degree() == 1 and p.constant_value() == 0 and \
            all(c > 0 for c in p.terms.values())
        if linear and atom.rel == ">=" and len(p.terms) == 1:
            continue
        if linear and atom.rel == ">" and strict is None:
            strict = p
            continue
        why = f"its constraint {atom} is not a nonnegativity or one positive sum"
        break
    if why is None and strict is None:
        why = "it has no strict constraint"
    if why:
        raise InputError(f"bounds supports {SUPPORTED}; model '{inst.model.name}' with "
                         f"these parameters is not supported ({why})")
    return [strict.terms.get(((k, 1),), Fraction(0)) for k in comps]


def _vector(p: Poly, comps: list[str]) -> list[Fraction] | None:
    """Coefficients of a linear homogeneous polynomial, None if it is not one."""
    out = dict.fromkeys(comps, Fraction(0))
    for mono, coef in p.terms.items():
        if len(mono) != 1 or mono[0][1] != 1 or mono[0][0] not in out:
            return None
        out[mono[0][0]] = coef
    return [out[k] for k in comps]


def _read_statistic(inst, text: str, what: str) -> E.Expr:
    """``text`` (a --given name or a target, untrusted) read by prover's own expression
    parser: nothing is evaluated; InputError says what is valid."""
    return inst.parse_expression(text, what, examples=4)


def _linear_fractional(inst, e: E.Expr, text: str, what: str, comps, strict):
    """(numerator, denominator) coefficient vectors of ``e``, whose denominator is
    positive on every member; InputError when ``e`` is not such a ratio."""
    from ..encode import Encoder

    enc = Encoder(inst)
    try:
        t = enc.term(e)
        num, dfac = enc.materialize(t)
        den = enc.den_poly(tuple(dfac.items()))
    except ExprError as exc:
        raise InputError(f"{what} {text!r}: {exc.message}") from None
    nv, dv = _vector(num, comps), _vector(den, comps)
    if len(enc.variables) > len(inst.variables) or nv is None or dv is None \
            or all(c == 0 for c in dv):
        raise InputError(f"{what} {text!r} is not a ratio of linear forms in the "
                         "components (bounds needs statistics such as h2, rDZ/rMZ, "
                         "2*(rMZ - rDZ); no components alone, products of statistics, "
                         "sqrt, abs, min or max)")
    # positive on every member: nonnegative coefficients covering the strict sum
    if any(c < 0 for c in dv) or any(s > 0 and d == 0 for s, d in zip(strict, dv)):
        raise InputError(f"{what} {text!r}: its denominator can be 0 on members of the "
                         "family; use statistics whose denominators are positive "
                         "(V_P, V_G, rMZ, ...)")
    return nv, dv


def _problem(inst, givens: list[Given]) -> _Problem:
    comps = list(inst.components)
    strict = _supported(inst)
    out = _Problem(inst, comps, strict, [], [], [], [], [])
    for gi, g in enumerate(givens):
        e = _read_statistic(inst, g.name, "given")
        num, den = _linear_fractional(inst, e, g.name, "given", comps, strict)
        out.givens.append((g, e, num, den))
        if g.lo == g.hi:
            out.eq.append([a - g.lo * b for a, b in zip(num, den)])
            out.labels_eq.append((gi, "eq"))
        else:
            out.ub.append([g.lo * b - a for a, b in zip(num, den)])
            out.labels_ub.append((gi, "lo"))
            out.ub.append([a - g.hi * b for a, b in zip(num, den)])
            out.labels_ub.append((gi, "hi"))
    return out


def _solve(pr: _Problem, objective, extra_eq=(), extra_rhs=()):
    """max objective·y over the given rows (right-hand sides 0) and extra equalities."""
    return maximize(objective, pr.ub, [Fraction(0)] * len(pr.ub),
                    pr.eq + [list(r) for r in extra_eq],
                    [Fraction(0)] * len(pr.eq) + list(extra_rhs))


def _end(pr: _Problem, num, den, side: str) -> End:
    sign = 1 if side == "upper" else -1
    obj = [sign * c for c in num]
    res = _solve(pr, obj, [den], [Fraction(1)])
    if res.status == "unbounded":
        return End(None)
    if res.status != "optimal":
        raise LPError("internal error: a feasible problem became infeasible with a target")
    value = sign * res.value
    point = res.x
    if sum(s * x for s, x in zip(pr.strict, point)) <= 0:
        # the optimum found lies on V_G = 0: look for an optimal point with V_G > 0
        res2 = _solve(pr, pr.strict, [den, num], [Fraction(1), value])
        if res2.status == "optimal" and res2.value > 0:
            point = res2.x
        elif res2.status == "unbounded":
            raise LPError("internal error: V_G unbounded on the optimal face")
        else:
            return End(value, attained=False)
    total = sum(point)
    witness = {k: x / total for k, x in zip(pr.comps, point)}
    return End(value, attained=True, witness=witness)
