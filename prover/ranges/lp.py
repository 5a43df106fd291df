"""A small exact linear-programming solver over Fractions (two-phase simplex, Bland's rule).

``maximize(c, A_ub, b_ub, A_eq, b_eq)`` solves  max c·x  s.t.  A_ub x <= b_ub,
A_eq x = b_eq, x >= 0  in exact rational arithmetic and returns evidence for its answer:
an optimal x with its dual y (checked: primal feasible, dual feasible, equal objectives),
a Farkas vector for infeasibility, or an improving ray for unboundedness. Every answer is
re-checked exactly by ``_check`` before it is returned, so a bug in the pivoting cannot
produce a wrong answer silently (it raises ``LPError`` instead).

The problems ``prover bounds`` builds are tiny (a few rows, at most ~100 columns), so a
dense tableau is fast enough; Bland's rule guarantees termination on degenerate
problems, which these are (homogeneous rows with right-hand side 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

ZERO, ONE = Fraction(0), Fraction(1)


class LPError(ArithmeticError):
    """The solver's answer failed its own exact check (a bug, never an input error)."""


@dataclass
class LPResult:
    status: str                          # 'optimal' | 'infeasible' | 'unbounded'
    x: list[Fraction] | None = None      # optimal point
    value: Fraction | None = None        # optimal objective
    dual: list[Fraction] | None = None   # optimal dual: A_ub rows first, then A_eq rows
    farkas: list[Fraction] | None = None  # infeasible: y, y_ub >= 0, y·A >= 0, y·b < 0
    ray: list[Fraction] | None = None    # unbounded: d >= 0, A_ub d <= 0, A_eq d = 0, c·d > 0


def _dot(a, b) -> Fraction:
    return sum((x * y for x, y in zip(a, b) if x and y), ZERO)


def maximize(c, A_ub=(), b_ub=(), A_eq=(), b_eq=()) -> LPResult:
    c = [Fraction(v) for v in c]
    n = len(c)
    rows = [[Fraction(v) for v in r] for r in A_ub] + [[Fraction(v) for v in r] for r in A_eq]
    rhs = [Fraction(v) for v in b_ub] + [Fraction(v) for v in b_eq]
    m_ub, m = len(A_ub), len(rows)
    if any(len(r) != n for r in rows) or len(rhs) != m:
        raise ValueError("inconsistent LP dimensions")
    # columns: x (n), slacks (m_ub), artificials (m); rows flipped so that rhs >= 0
    width = n + m_ub + m
    sign = [ONE if b >= 0 else -ONE for b in rhs]
    tab = []
    for i in range(m):
        row = [ZERO] * (width + 1)
        for j in range(n):
            row[j] = rows[i][j] * sign[i]
        if i < m_ub:
            row[n + i] = sign[i]
        row[n + m_ub + i] = ONE
        row[width] = rhs[i] * sign[i]
        tab.append(row)
    basis = [n + m_ub + i for i in range(m)]
    art = set(basis)

    def pivot(r: int, col: int) -> None:
        p = tab[r][col]
        if p != 1:
            tab[r] = [v / p for v in tab[r]]
        pr = tab[r]
        for i in range(m):
            f = tab[i][col]
            if i != r and f:
                tab[i] = [a - f * b if b else a for a, b in zip(tab[i], pr)]
        basis[r] = col

    def run(cost: list[Fraction], allowed) -> int | None:
        """Simplex on ``cost``; returns None at optimum, or the column of an unbounded ray."""
        while True:
            dual_cost = [cost[b] for b in basis]
            entering = None
            for j in allowed:
                if j in basis:
                    continue
                d = cost[j] - sum((dual_cost[i] * tab[i][j] for i in range(m) if tab[i][j]),
                                  ZERO)
                if d > 0:
                    entering = j
                    break
            if entering is None:
                return None
            best, leave = None, None
            for i in range(m):
                a = tab[i][entering]
                if a > 0:
                    ratio = tab[i][width] / a
                    if best is None or ratio < best or (ratio == best and basis[i] < basis[leave]):
                        best, leave = ratio, i
            if leave is None:
                return entering
            pivot(leave, entering)

    def duals(cost: list[Fraction]) -> list[Fraction]:
        # the artificial columns hold B^-1 (of the flipped system); y' = c_B B^-1
        dual_cost = [cost[b] for b in basis]
        y_flipped = [sum((dual_cost[i] * tab[i][n + m_ub + k] for i in range(m)
                          if tab[i][n + m_ub + k]), ZERO) for k in range(m)]
        return [y_flipped[k] * sign[k] for k in range(m)]

    # phase 1: maximise -(sum of artificials)
    cost1 = [ZERO] * (n + m_ub) + [-ONE] * m
    run(cost1, range(width))
    phase1 = sum((tab[i][width] for i in range(m) if basis[i] in art), ZERO)
    if phase1 > 0:
        y = duals(cost1)
        result = LPResult("infeasible", farkas=y)
        _check(result, c, rows, rhs, m_ub)
        return result
    # drive artificials (at value 0) out of the basis where possible
    for i in range(m):
        if basis[i] in art:
            for j in range(n + m_ub):
                if tab[i][j] and j not in basis:
                    pivot(i, j)
                    break
    cost2 = c + [ZERO] * m_ub + [ZERO] * m
    ray_col = run(cost2, range(n + m_ub))
    if ray_col is not None:
        d = [ZERO] * (n + m_ub)
        d[ray_col] = ONE
        for i in range(m):
            if basis[i] < n + m_ub:
                d[basis[i]] = -tab[i][ray_col]
        result = LPResult("unbounded", ray=d[:n])
        _check(result, c, rows, rhs, m_ub)
        return result
    x = [ZERO] * (n + m_ub)
    for i in range(m):
        if basis[i] < n + m_ub:
            x[basis[i]] = tab[i][width]
    result = LPResult("optimal", x=x[:n], value=_dot(c, x[:n]), dual=duals(cost2))
    _check(result, c, rows, rhs, m_ub)
    return result


def _check(result: LPResult, c, rows, rhs, m_ub) -> None:
    """Exact re-check of the evidence; raises LPError if it does not prove the answer."""
    n, m = len(c), len(rows)

    def feasible(x) -> bool:
        return all(v >= 0 for v in x) and all(
            (_dot(rows[i], x) <= rhs[i]) if i < m_ub else (_dot(rows[i], x) == rhs[i])
            for i in range(m))

    if result.status == "optimal":
        x, y = result.x, result.dual
        ok = feasible(x) and all(y[i] >= 0 for i in range(m_ub)) and all(
            sum((y[i] * rows[i][j] for i in range(m)), ZERO) >= c[j] for j in range(n)) \
            and _dot(y, rhs) == result.value == _dot(c, x)
    elif result.status == "infeasible":
        y = result.farkas
        ok = all(y[i] >= 0 for i in range(m_ub)) and all(
            sum((y[i] * rows[i][j] for i in range(m)), ZERO) >= 0 for j in range(n)) \
            and _dot(y, rhs) < 0
    else:
        d = result.ray
        ok = all(v >= 0 for v in d) and _dot(c, d) > 0 and all(
            (_dot(rows[i], d) <= 0) if i < m_ub else (_dot(rows[i], d) == 0) for i in range(m))
        # an unbounded answer also needs a feasible point: phase 1 found one
    if not ok:
        raise LPError(f"internal error: the exact LP check rejected a '{result.status}' answer")
