"""A numeric counterexample search that ends in exact rational points.

When the solver's candidates are irrational (an equality such as ``s2 == 1/2`` on a
quadric without rational points in the solver's coordinates) or the solver does not
answer, check asks here: a seeded random walk in floats (numpy) maximizes the claim's
violation over the concrete family's variables, then the best points are rounded to
short rationals and every equality hypothesis is re-imposed *exactly* by solving it for
a variable in which it is linear (e.g. the `gaussian` model's odd-part scale t). Floats
only propose; a point is returned only after the caller's exact check.

Equalities handled: ``assume`` entries and the premise of an ``A implies B`` claim made
of comparisons ``==`` between rational expressions of ratio statistics and components.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable

from . import expr as E
from .poly import Poly
from .vectorized import vec_term

RatioPair = tuple[Poly, Poly]


# --- expressions as rational functions ------------------------------------------------------

def rational_function(e: E.Expr, inst) -> RatioPair | None:
    """(num, den) with e = num/den over the instance's variables, or None (sqrt, abs,
    min, max, an expression statistic)."""
    if isinstance(e, E.Num):
        return Poly.const(e.value), Poly.const(1)
    if isinstance(e, E.Name):
        stat = inst.statistics.get(e.name)
        if stat is not None:
            return (stat.ratio.num, stat.ratio.den) if stat.ratio is not None else None
        return Poly.var(e.name), Poly.const(1)
    if isinstance(e, E.Neg):
        r = rational_function(e.operand, inst)
        return None if r is None else (-r[0], r[1])
    if isinstance(e, E.BinOp):
        a = rational_function(e.left, inst)
        if a is None:
            return None
        if e.op == "^":
            if not isinstance(e.right, E.Num) or e.right.value.denominator != 1 \
                    or not 0 <= e.right.value <= 8:
                return None
            n = int(e.right.value)
            return a[0] ** n, a[1] ** n
        b = rational_function(e.right, inst)
        if b is None:
            return None
        if e.op == "+":
            return a[0] * b[1] + b[0] * a[1], a[1] * b[1]
        if e.op == "-":
            return a[0] * b[1] - b[0] * a[1], a[1] * b[1]
        if e.op == "*":
            return a[0] * b[0], a[1] * b[1]
        return a[0] * b[1], a[1] * b[0]
    return None


def _equalities(conj) -> tuple[list[E.Expr], E.Expr, list[E.Expr]]:
    """The equality comparisons a counterexample must satisfy (in ``assume`` and in an
    implication's premise), the claim with its premise's equalities dropped, and the
    assumptions' other parts."""
    eqs, claim, rest = [], conj.claim, []

    def split(e):
        if isinstance(e, E.Compare) and all(op == "==" for op in e.ops):
            return [e], None
        if isinstance(e, E.BoolOp) and e.op == "and":
            out, rest = [], []
            for x in e.operands:
                q, r = split(x)
                out += q
                if r is not None:
                    rest.append(r)
            return out, (None if not rest else rest[0] if len(rest) == 1
                         else E.BoolOp(op="and", operands=tuple(rest)))
        return [], e

    for a in conj.assume:
        q, r = split(a)
        eqs += q
        if r is not None:
            rest.append(r)
    if isinstance(claim, E.Implies):
        q, r = split(claim.left)
        eqs += q
        claim = claim.right if r is None else E.Implies(left=r, right=claim.right)
    return eqs, claim, rest


def has_equalities(conj) -> bool:
    return bool(_equalities(conj)[0])


def equality_polys(eqs: list[E.Expr], inst) -> list[Poly] | None:
    out = []
    for e in eqs:
        for left, right in zip(e.operands, e.operands[1:]):
            a, b = rational_function(left, inst), rational_function(right, inst)
            if a is None or b is None:
                return None
            out.append(a[0] * b[1] - b[0] * a[1])
    return out


def _linear_in(p: Poly, v: str) -> tuple[Poly, Poly] | None:
    """(A, B) with p = A*v + B and A, B free of v, or None."""
    a, b = {}, {}
    for mono, c in p.terms.items():
        e = dict(mono).get(v, 0)
        if e > 1:
            return None
        rest = tuple((n, k) for n, k in mono if n != v)
        (a if e else b)[rest] = c
    if not a:
        return None
    return Poly(a), Poly(b)


# --- vectorized evaluation ------------------------------------------------------------------

class _Vec:
    """Polynomials over ``names`` evaluated together on a batch of points: the union of
    their monomials is evaluated once (a table of each variable's powers, then each
    monomial's product), and each polynomial is that row times its coefficients."""

    def __init__(self, polys: list[Poly], names: list[str]):
        import numpy as np
        col = {n: i for i, n in enumerate(names)}
        monos = sorted({m for p in polys for m in p.terms})
        row = {m: r for r, m in enumerate(monos)}
        self.coef = np.zeros((len(monos), len(polys)))
        for j, p in enumerate(polys):
            for m, c in p.terms.items():
                self.coef[row[m], j] = float(c)
        self.exps = np.zeros((len(monos), len(names)), dtype=int)
        for r, mono in enumerate(monos):
            for n, e in mono:
                self.exps[r, col[n]] = e
        self.powers = np.arange(int(self.exps.max()) + 1 if self.exps.size else 1)
        self.cols = np.broadcast_to(np.arange(len(names)), self.exps.shape)

    def __call__(self, x):
        """(batch, number of polynomials)."""
        import numpy as np
        if not len(self.exps):
            return np.zeros((x.shape[0], self.coef.shape[1]))
        with np.errstate(all="ignore"):
            table = x[:, :, None] ** self.powers[None, None, :]
            return np.prod(table[:, self.cols, self.exps], axis=2) @ self.coef


def _vec_margin(e, env, inst):
    """``evaluate.margin`` on arrays (equalities: -|a - b|)."""
    import numpy as np
    if isinstance(e, E.Compare):
        out = None
        for op, left, right in zip(e.ops, e.operands, e.operands[1:]):
            a, b = vec_term(left, env, inst), vec_term(right, env, inst)
            m = -np.abs(a - b) if op == "==" else (b - a if op in ("<", "<=") else a - b)
            out = m if out is None else np.minimum(out, m)
        return out
    if isinstance(e, E.BoolOp):
        ms = [_vec_margin(x, env, inst) for x in e.operands]
        out = ms[0]
        for m in ms[1:]:
            out = np.minimum(out, m) if e.op == "and" else np.maximum(out, m)
        return out
    if isinstance(e, E.Not):
        return -_vec_margin(e.operand, env, inst)
    if isinstance(e, E.Implies):
        return np.maximum(-_vec_margin(e.left, env, inst), _vec_margin(e.right, env, inst))
    raise TypeError("not a boolean expression")


# --- the search -----------------------------------------------------------------------------

def search(conj, inst, is_counterexample: Callable[[dict], bool], *, seed: int = 0,
           budget: float = 5.0, restarts: int = 12, steps: int = 160,
           batch: int = 48, starts: list[dict[str, float]] = ()) -> list[dict[str, Fraction]]:
    """Exact counterexamples (rational points the caller's ``is_counterexample``
    accepted), best float violation first; [] when none was found in ``budget`` seconds.
    ``starts``: float points (the model's proposals, e.g. a local optimizer's) where
    the first walks begin, before the random restarts."""
    import time

    import numpy as np
    deadline = time.perf_counter() + budget
    eqs, claim, rest = _equalities(conj)
    polys = equality_polys(eqs, inst)
    if polys is None:
        return []
    fixed: dict[str, Fraction] = {}
    for atom in inst.search_constraints:        # e.g. rotation: a0_1 == 0
        p = atom.poly
        if atom.rel == "==" and p.degree() == 1 and len(p.variables()) == 1:
            (v,) = p.variables()
            fixed[v] = -p.constant_value() / p.terms[((v, 1),)]
    solved: list[tuple[str, Poly, Poly]] = []
    for p in polys:
        p = p.substitute({k: Poly.const(c) for k, c in fixed.items()})
        if p.is_zero():
            continue
        taken = {s for s, _, _ in solved}
        for v in sorted(p.variables() - taken):
            lin = _linear_in(p, v)
            if lin is not None and not (lin[0].variables() | lin[1].variables()) & taken:
                solved.append((v, *lin))
                break
        else:
            return []
    names = list(inst.variables)
    free = [v for v in names if v not in fixed and v not in {s for s, _, _ in solved}]
    col = {v: i for i, v in enumerate(names)}
    solve_vec = [(col[v], _Vec([a, b], names)) for v, a, b in solved]
    ratios = [(n, s.ratio) for n, s in inst.statistics.items() if s.ratio is not None]
    rels = [a.rel for a in inst.constraints]
    # every constraint, numerator and denominator in one evaluation
    together = _Vec([a.poly for a in inst.constraints]
                    + [p for _, r in ratios for p in (r.num, r.den)], names)
    positive = {v for v in names for a in inst.constraints
                if a.rel in (">", ">=") and a.poly == Poly.var(v)}
    rng = np.random.default_rng(seed)

    def complete(xfree):
        x = np.zeros((xfree.shape[0], len(names)))
        for v, c in fixed.items():
            x[:, col[v]] = float(c)
        for j, v in enumerate(free):
            x[:, col[v]] = xfree[:, j]
        with np.errstate(all="ignore"):
            for i, ab in solve_vec:
                v = ab(x)
                x[:, i] = -v[:, 1] / v[:, 0]
        return x

    def score(xfree):
        x = complete(xfree)
        ok = np.all(np.isfinite(x), axis=1)
        values = together(x)
        for k, rel in enumerate(rels):
            val = values[:, k]
            ok &= (val > 1e-12) if rel == ">" else (val >= 0) if rel == ">=" \
                else (np.abs(val) < 1e-9)
        env = {}
        with np.errstate(all="ignore"):
            for k, (n, _) in enumerate(ratios):
                env[n] = values[:, len(rels) + 2 * k] / values[:, len(rels) + 2 * k + 1]
            for v in names:
                env[v] = x[:, col[v]]
            parts = [-_vec_margin(claim, env, inst)]
            parts += [_vec_margin(a, env, inst) for a in rest]
        s = parts[0]
        for p in parts[1:]:
            s = np.minimum(s, p)
        s = np.where(ok & np.isfinite(s), s, -np.inf)
        return s

    def start_points(size):
        pts = rng.normal(0.0, 1.0, (size, len(free)))
        for j, v in enumerate(free):
            if v in positive:
                pts[:, j] = np.abs(pts[:, j]) + 1e-3
        return pts

    seeded = [np.array([float(p.get(v, 0.0)) for v in free]) for p in starts]
    best_rows = []
    for r in range(len(seeded) + restarts):
        if time.perf_counter() > deadline:
            break
        if r < len(seeded):             # a proposal: already near a local optimum
            cur, step = seeded[r], 0.05
            cur_s = float(score(cur[None, :])[0])
        else:
            pool = start_points(batch * 4)
            sc = score(pool)
            k = int(np.argmax(sc))
            cur, cur_s, step = pool[k].copy(), float(sc[k]), 0.5
        for _ in range(steps):
            if time.perf_counter() > deadline or step < 1e-7:
                break
            cand = cur + rng.normal(0.0, 1.0, (batch, len(free))) * step * (
                np.abs(cur) + 0.05)
            cs = score(cand)
            j = int(np.argmax(cs))
            if cs[j] > cur_s:
                cur, cur_s = cand[j], float(cs[j])
                step *= 1.5
            else:
                step /= 2
        if math.isfinite(cur_s) and cur_s > 0:
            best_rows.append((cur_s, cur))
    best_rows.sort(key=lambda r: -r[0])
    out = []
    for _, row in best_rows[:4]:
        for digits in (2, 3, 4, 6, 8, 10, 14):
            values = dict(fixed)
            for v, x in zip(free, row):
                values[v] = Fraction(float(x)).limit_denominator(10 ** digits)
            try:
                for v, a, b in solved:
                    den = a.evaluate(values)
                    if den == 0:
                        raise ZeroDivisionError
                    values[v] = -b.evaluate(values) / den
            except ZeroDivisionError:
                continue
            if is_counterexample(values):
                out.append(values)
                break
        if out and time.perf_counter() > deadline:
            break
    return out
