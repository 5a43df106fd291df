"""Why no member of the family has the given values (``prover bounds``): an exact
separating statement read from the LP's Farkas vector -- the violated facet of the
region the given statistics fill, or a combination of them -- and a hint when another
value of one parameter would allow the values."""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction

from ..errors import InputError
from ..poly import fraction_text
from .problem import _Problem, _problem, _solve


def _combination_text(coeffs: list[tuple[str, Fraction]]) -> str:
    parts = []
    for name, c in coeffs:
        if c == 0:
            continue
        term = name if re.fullmatch(r"\w+", name) else f"({name})"
        mag = abs(c)
        body = term if mag == 1 else f"{fraction_text(mag)}*{term}"
        parts.append((("-" if c < 0 else "+"), body))
    if not parts:
        return "0"
    first_sign, first = parts[0]
    text = ("-" if first_sign == "-" else "") + first
    for s, body in parts[1:]:
        text += f" {s} {body}"
    return text


def _params_text(model, params: dict) -> str:
    order = [p.name for p in model.params]
    keys = sorted(params, key=lambda k: order.index(k) if k in order else len(order))
    return ", ".join(f"{k} = {json.dumps(params[k])}" for k in keys)


def _infeasibility_reason(model, params: dict, pr: _Problem, y: list[Fraction]) -> str:
    head = f"no member of {model.name} ({_params_text(model, params)}) has these values"
    y_ub, y_eq = y[:len(pr.ub)], y[len(pr.ub):len(pr.ub) + len(pr.eq)]
    # The Farkas vector y combines the given rows into h = sum y_i row_i, > 0 on every
    # member while the givens make it <= 0. With one common denominator D, h/D = L - k
    # where L is a combination of the given statistics: that names the statistics
    # involved. The statement shown is then the violated facet of the region those
    # statistics fill (the deepest cut), or L itself when the facets cannot be listed.
    dens = [den for _, _, _, den in pr.givens]
    ref = next((d for d in dens if any(d)), None)
    j = next(k for k, v in enumerate(ref) if v)
    scale = []
    for d in dens:
        c = d[j] / ref[j]
        scale.append(c if c > 0 and [c * v for v in ref] == d else None)
    mu = [Fraction(0)] * len(pr.givens)
    for (gi, kind), w in list(zip(pr.labels_ub, y_ub)) + list(zip(pr.labels_eq, y_eq)):
        mu[gi] += w if kind in ("eq", "hi") else -w
    used = [i for i, v in enumerate(mu) if v]
    detail, violated = "", None
    if used and all(scale[i] is not None for i in used):
        cut = _facet(pr, used, scale, ref)
        if cut is None:
            mu = [mu[i] * scale[i] for i in used]
            num = [sum((m * pr.givens[i][2][k] / scale[i] for m, i in zip(mu, used)),
                       Fraction(0)) for k in range(len(pr.comps))]
            low = _solve(_free(pr), [-v for v in num], [ref], [Fraction(1)])
            if low.status == "optimal":
                c = -low.value
                attained = sum(s * x for s, x in zip(pr.strict, low.x)) > 0 or \
                    _positive_on_face(_free(pr), num, ref, c)
                cut = (_integral(mu), c * _integral_factor(mu), attained)
        if cut is not None:
            mu, c, attained = cut
            names = [pr.givens[i][0].name for i in used]
            boxes = [(pr.givens[i][0].lo, pr.givens[i][0].hi) for i in used]
            box = sum((m * (hi if m > 0 else lo) for m, (lo, hi) in zip(mu, boxes)),
                      Fraction(0))
            point = all(lo == hi for lo, hi in boxes)
            comb = _combination_text(list(zip(names, mu)))
            holds, violated = _isolated(names, mu, c, attained)
            if len(used) == 1:
                lo, hi = boxes[0]
                given = (f"{names[0]} = {fraction_text(lo)}" if point else
                         f"{names[0]} in [{fraction_text(lo)}, {fraction_text(hi)}]")
                detail = f": every member has {holds}, but the given value is {given}"
            else:
                detail = (f": every member has {holds}, but the given values have "
                          f"{violated} ({comb} {'=' if point else '<='} "
                          f"{fraction_text(box)})")
    if not detail:
        names = [pr.givens[i][0].name for i in used] or [g.name for g, *_ in pr.givens]
        detail = f": {', '.join(names)} cannot take these values together"
    hint = _hint(model, params, pr)
    if hint:
        hint = f"; {violated or 'these values'} {'needs' if violated else 'need'} {hint}"
    return head + detail + hint


def _integral_factor(mu: list[Fraction]) -> Fraction:
    lcm = 1
    for v in mu:
        lcm = lcm * v.denominator // math.gcd(lcm, v.denominator)
    g = 0
    for v in mu:
        g = math.gcd(g, int(v * lcm))
    return Fraction(lcm, g or 1)


def _integral(mu: list[Fraction]) -> list[Fraction]:
    f = _integral_factor(mu)
    return [v * f for v in mu]


def _nullspace_vector(rows: list[list[Fraction]], n: int) -> list[Fraction] | None:
    """The one vector spanning the null space of ``rows`` (n columns), None if the null
    space is not one-dimensional."""
    a = [list(r) for r in rows]
    pivots, r = [], 0
    for col in range(n):
        p = next((i for i in range(r, len(a)) if a[i][col]), None)
        if p is None:
            continue
        a[r], a[p] = a[p], a[r]
        a[r] = [v / a[r][col] for v in a[r]]
        for i in range(len(a)):
            if i != r and a[i][col]:
                f = a[i][col]
                a[i] = [x - f * y for x, y in zip(a[i], a[r])]
        pivots.append(col)
        r += 1
    free = [c for c in range(n) if c not in pivots]
    if len(free) != 1:
        return None
    v = [Fraction(0)] * n
    v[free[0]] = Fraction(1)
    for i, col in enumerate(pivots):
        v[col] = -a[i][free[0]]
    return v


def _facet(pr: _Problem, used: list[int], scale, ref):
    """The facet of the region the used statistics fill that the given box violates
    most (per unit of its coefficients), as (integer coefficients, bound, attained)."""
    from itertools import combinations

    if any(v == 0 for v in ref):
        return None
    d = len(used)
    points = {}
    for k, name in enumerate(pr.comps):
        p = tuple(pr.givens[i][2][k] / (scale[i] * ref[k]) for i in used)
        points[p] = points.get(p, False) or pr.strict[k] > 0
    pts = list(points)
    boxes = [(pr.givens[i][0].lo, pr.givens[i][0].hi) for i in used]
    best, best_score = None, None
    if len(pts) > 24 or d > 4:
        return None
    for subset in combinations(pts, d):
        v = _nullspace_vector([list(p) + [Fraction(-1)] for p in subset], d + 1)
        if v is None:
            continue
        mu, c = v[:d], v[d]
        vals = [sum((m * x for m, x in zip(mu, p)), Fraction(0)) - c for p in pts]
        if all(x <= 0 for x in vals):
            mu, c, vals = [-m for m in mu], -c, [-x for x in vals]
        elif not all(x >= 0 for x in vals):
            continue
        if not any(mu):
            continue
        attained = any(points[p] for p, x in zip(pts, vals) if x == 0)
        box = sum((m * (hi if m > 0 else lo) for m, (lo, hi) in zip(mu, boxes)), Fraction(0))
        gap = c - box
        if gap < 0 or (gap == 0 and attained):
            continue
        score = gap / sum(abs(m) for m in mu)
        if best_score is None or score > best_score:
            f = _integral_factor(mu)
            best, best_score = ([m * f for m in mu], c * f, attained), score
    return best


def _isolated(names: list[str], mu: list[Fraction], c: Fraction, attained: bool):
    """``sum mu_i S_i >= c`` solved for its last statistic, and the violated opposite:
    ('rDZ <= rMZ/2', 'rDZ > rMZ/2')."""
    t = max(i for i, m in enumerate(mu) if m)
    a = mu[t]
    # a*S_t >= c - rest  ->  S_t >= (c - rest)/a  (a > 0)  or  S_t <= (rest - c)/|a|
    coeffs = [(names[i], -mu[i] / a) for i in range(len(mu)) if i != t and mu[i]]
    const = c / a
    rhs = _linear_text(coeffs, const)
    if a > 0:
        ops = (">=", "<") if attained else (">", "<=")
    else:
        ops = ("<=", ">") if attained else ("<", ">=")
    lhs = names[t] if re.fullmatch(r"\w+", names[t]) else f"({names[t]})"
    return f"{lhs} {ops[0]} {rhs}", f"{lhs} {ops[1]} {rhs}"


def _linear_text(coeffs: list[tuple[str, Fraction]], const: Fraction) -> str:
    parts = []
    # positive terms first: '2*rDZ - rMZ/2' rather than '-rMZ/2 + 2*rDZ'
    for name, c in sorted(coeffs, key=lambda nc: nc[1] < 0):
        term = name if re.fullmatch(r"\w+", name) else f"({name})"
        mag = abs(c)
        if mag == 1:
            body = term
        elif mag.numerator == 1:
            body = f"{term}/{mag.denominator}"
        elif mag.denominator == 1:
            body = f"{mag.numerator}*{term}"
        else:
            body = f"{mag.numerator}*{term}/{mag.denominator}"
        parts.append(("-" if c < 0 else "+", body))
    if const or not parts:
        parts.append(("-" if const < 0 else "+", fraction_text(abs(const))))
    text = ("-" if parts[0][0] == "-" else "") + parts[0][1]
    for s, body in parts[1:]:
        text += f" {s} {body}"
    return text


def _free(pr: _Problem) -> _Problem:
    """The same components with no givens (the whole family)."""
    return _Problem(pr.inst, pr.comps, pr.strict, [], [], [], [], [])


def _positive_on_face(pr, num, den, value) -> bool:
    res = _solve(pr, pr.strict, [den, num], [Fraction(1), value])
    return res.status == "unbounded" or (res.status == "optimal" and res.value > 0)


def _hint(model, params: dict, pr: _Problem) -> str:
    """Which other value of one parameter would allow the given values ('' if none):
    a boolean switched on, or the smallest larger integer."""
    givens = [g for g, *_ in pr.givens]
    # switches first (the smaller change), then larger integers
    for p in sorted(model.params, key=lambda p: p.kind != "bool"):
        if p.kind == "bool" and params.get(p.name) is False:
            tries = [True]
        elif p.kind == "int" and p.maximum is not None and isinstance(params.get(p.name), int):
            tries = list(range(params[p.name] + 1, p.maximum + 1))
        else:
            continue
        for value in tries:
            try:
                alt = model.validate_params({**params, p.name: value})
                other = _problem(model.build(alt), givens)
            except InputError:
                break
            res = _solve(other, [Fraction(0)] * len(other.comps), [other.strict],
                         [Fraction(1)])
            if res.status != "infeasible":
                if p.kind == "int" and value != p.maximum:
                    return f"{p.name} >= {value}"
                return f"{p.name} = {json.dumps(value)}"
    return ""
