"""Realizing points of a model instance for the approximate frontier: free variables
sampled in their ranges (numpy, floats, to search), each kept point completed and
evaluated exactly at rational values."""

from __future__ import annotations

import math
from fractions import Fraction

from .. import expr as E
from ..errors import InputError
from ..poly import Poly
from ..vectorized import parsed, vec_term
from .results import Pt


class _VecPoly:
    """A polynomial evaluated on a batch of points at once (numpy, floats)."""

    def __init__(self, poly: Poly):
        import numpy as np
        self.names = sorted(poly.variables())
        col = {n: i for i, n in enumerate(self.names)}
        monos = list(poly.terms.items())
        self.coef = np.array([float(c) for _, c in monos])
        self.exps = np.zeros((len(monos), max(1, len(self.names))), dtype=int)
        for r, (m, _) in enumerate(monos):
            for n, e in m:
                self.exps[r, col[n]] = e
        self.top = int(self.exps.max()) if monos else 0
        self.cols = np.broadcast_to(np.arange(self.exps.shape[1]), self.exps.shape)

    def __call__(self, env: dict, size: int):
        import numpy as np
        if not self.names:
            return np.full(size, float(self.coef.sum()))
        x = np.stack([env[n] for n in self.names], axis=1)              # (B, k)
        powers = np.stack([x ** e for e in range(self.top + 1)], axis=2)  # (B, k, top+1)
        return (powers[:, self.cols, self.exps].prod(axis=2) * self.coef).sum(axis=1)


class _IntPoly:
    """A polynomial evaluated exactly in integer arithmetic (much faster than Fractions
    for the big polynomials of the concrete models)."""

    def __init__(self, poly: Poly):
        self.scale = math.lcm(*(c.denominator for c in poly.terms.values())) \
            if poly.terms else 1
        self.terms = [(int(c * self.scale), m, sum(e for _, e in m))
                      for m, c in poly.terms.items()]
        self.top = max((d for _, _, d in self.terms), default=0)

    def __call__(self, values: dict[str, Fraction]) -> Fraction:
        den = math.lcm(*(values[n].denominator for _, m, _ in self.terms for n, _ in m)) \
            if self.terms else 1
        nums = {}
        total = 0
        for c, m, d in self.terms:
            t = c * den ** (self.top - d)
            for n, e in m:
                if n not in nums:
                    nums[n] = values[n].numerator * (den // values[n].denominator)
                t *= nums[n] ** e
            total += t
        return Fraction(total, self.scale * den ** self.top)


def _statistics_used(inst, exprs) -> list[str]:
    """The ratio statistics an expression needs, through expression statistics."""
    out, todo, seen = [], list(exprs), set()
    while todo:
        for name in sorted(E.names(todo.pop())):
            stat = inst.statistics.get(name)
            if stat is None or name in seen:
                continue
            seen.add(name)
            if stat.ratio is not None:
                out.append(name)
            else:
                todo.append(parsed(stat.expression))
    return out


class _Sampler:
    """Realizes points of a model instance: free variables sampled in their ranges,
    variables defined by equalities computed from them, every constraint checked exactly.

    Batches of candidates are evaluated in floats (numpy) to search; a point is kept only
    after an exact evaluation at rational values."""

    def __init__(self, inst, ex, ey, rng):
        import numpy as np
        self.inst, self.ex, self.ey, self.rng = inst, ex, ey, rng
        dependent: dict[str, Poly] = {}
        for atom in inst.constraints:
            if atom.rel != "==":
                continue
            for v in sorted(atom.poly.variables()):
                mono = ((v, 1),)
                if v in dependent or mono not in atom.poly.terms:
                    continue
                if any(v in dict(m) for m in atom.poly.terms if m != mono):
                    continue
                c = atom.poly.terms[mono]
                dependent[v] = (atom.poly - Poly.var(v).scale(c)).scale(-1 / c)
                break
            else:
                raise InputError(f"cannot sample the model: the equality {atom} defines no "
                                 "variable")
        self.free = [v for v in inst.variables if v not in dependent]
        resolved, pending, order = set(self.free), dict(dependent), []
        while pending:
            ready = [v for v, p in pending.items() if p.variables() <= resolved]
            if not ready:
                raise InputError("cannot sample the model: circular equalities")
            for v in ready:
                order.append((v, pending.pop(v)))
                resolved.add(v)
        # ranges of the free variables from single-variable constraints (the search-only
        # boxes included: they keep to realizable points)
        lo = np.full(len(self.free), -np.inf)
        hi = np.full(len(self.free), np.inf)
        self.exact_lo: dict[str, tuple[Fraction, bool]] = {}
        self.exact_hi: dict[str, tuple[Fraction, bool]] = {}
        index = {v: i for i, v in enumerate(self.free)}
        for atom in list(inst.constraints) + list(inst.search_constraints):
            vars_ = atom.poly.variables()
            if len(vars_) != 1 or atom.poly.degree() != 1 or atom.rel == "==":
                continue
            (v,) = vars_
            if v not in index:
                continue
            a, b = atom.poly.terms[((v, 1),)], atom.poly.constant_value()
            bound, strict = -b / a, atom.rel == ">"
            i = index[v]
            if a > 0 and bound >= lo[i]:
                lo[i] = float(bound)
                self.exact_lo[v] = (bound, strict)
            elif a < 0 and bound <= hi[i]:
                hi[i] = float(bound)
                self.exact_hi[v] = (bound, strict)
        self.lo, self.hi = lo, hi
        self.order_vec = [(v, _VecPoly(p)) for v, p in order]
        self.order_int = [(v, _IntPoly(p)) for v, p in order]
        self.cons_vec = [(_VecPoly(a.poly), a.rel) for a in inst.constraints]
        self.cons_int = [(_IntPoly(a.poly), a.rel) for a in inst.constraints]
        needed = _statistics_used(inst, [ex, ey])
        self.stats_vec = {n: (_VecPoly(inst.statistics[n].ratio.num),
                              _VecPoly(inst.statistics[n].ratio.den)) for n in needed}
        self.stats_int = {n: (_IntPoly(inst.statistics[n].ratio.num),
                              _IntPoly(inst.statistics[n].ratio.den)) for n in needed}

    def random_batch(self, size: int):
        import numpy as np
        rng = self.rng
        lo = np.where(np.isfinite(self.lo), self.lo, np.where(np.isfinite(self.hi),
                                                              self.hi - 1, -1.0))
        hi = np.where(np.isfinite(self.hi), self.hi, lo + 1.0)
        batch = rng.uniform(lo, hi, size=(size, len(self.free)))
        # sparse points: many members of a family have most components at 0
        zero_ok = (lo <= 0) & (hi >= 0)
        mask = (rng.random((size, len(self.free))) < 0.35) & zero_ok
        return np.where(mask, 0.0, batch)

    def clip(self, batch):
        import numpy as np
        return np.clip(batch, self.lo, self.hi)

    def float_points(self, batch):
        """(X, Y) of each row, nan where the row is not a member of the family."""
        import numpy as np
        size = batch.shape[0]
        env = {v: batch[:, i] for i, v in enumerate(self.free)}
        for v, f in self.order_vec:
            env[v] = f(env, size)
        ok = np.ones(size, dtype=bool)
        for f, rel in self.cons_vec:
            val = f(env, size)
            ok &= (val > 1e-12) if rel == ">" else (val >= -1e-12) if rel == ">=" \
                else (np.abs(val) <= 1e-9)
        with np.errstate(all="ignore"):
            for n, (num, den) in self.stats_vec.items():
                d = den(env, size)
                env[n] = np.where(d != 0, num(env, size) / np.where(d != 0, d, 1.0), np.nan)
        px = np.broadcast_to(vec_term(self.ex, env, self.inst), (size,))
        py = np.broadcast_to(vec_term(self.ey, env, self.inst), (size,))
        ok &= np.isfinite(px) & np.isfinite(py)
        return np.where(ok, px, np.nan), np.where(ok, py, np.nan)

    def exact_point(self, row, digits: int = 6) -> tuple[Pt, dict] | None:
        """Rationalize a row, complete it exactly, and evaluate (X, Y) exactly; None when
        the rational point is not a member of the family."""
        from ..evaluate import float_term
        step = Fraction(1, 10 ** digits)
        values = {}
        for v, val in zip(self.free, row):
            q = Fraction(float(val)).limit_denominator(10 ** digits)
            if v in self.exact_lo:
                b, strict = self.exact_lo[v]
                if q < b or (q == b and strict):
                    q = b + step if strict else b
            if v in self.exact_hi:
                b, strict = self.exact_hi[v]
                if q > b or (q == b and strict):
                    q = b - step if strict else b
            values[v] = q
        for v, f in self.order_int:
            values[v] = f(values)
        for f, rel in self.cons_int:
            val = f(values)
            if not (val > 0 if rel == ">" else val >= 0 if rel == ">=" else val == 0):
                return None
        env = dict(values)
        for n, (num, den) in self.stats_int.items():
            d = den(values)
            if d == 0:
                return None
            env[n] = num(values) / d
        try:
            px = float_term(self.ex, env, self.inst, exact=True)
            py = float_term(self.ey, env, self.inst, exact=True)
        except (KeyError, ValueError, ZeroDivisionError, OverflowError):
            return None
        if not all(isinstance(v, Fraction) or math.isfinite(v) for v in (px, py)):
            return None
        return (Fraction(px), Fraction(py)), values
