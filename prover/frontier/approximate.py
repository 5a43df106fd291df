"""The approximate frontier, when the exact structure is missing (square roots, different
denominators, a relaxed proof side such as ``gaussian``'s).

An inner approximation — the convex hull of points realized by sampling the model's
(concrete) variables and improving them along many directions, each point evaluated
exactly from the statistics' definitions — and an outer one — half-planes
a·X + b·Y <= h proved by the solver on the same encoding ``prover check`` uses (tried at
the inner hull's supporting lines, loosened until proved) and valid certificates from
the store — with the Hausdorff distance between the two.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .. import expr as E
from ..errors import ExprError
from ..record import Trust
from ..store import BadEntry
from .geometry import convex_hull, primitive_normal
from .results import Bound, Frontier, Piece, Pt, _open_store
from .sampler import _Sampler
from .text import inequality_text


def _approximate_frontier(inst, ex, ey, x, y, *, reason, store, prove, samples, directions,
                          timeout, seed, profiles: int = 24) -> Frontier:
    import numpy as np

    concrete = inst.concrete or inst
    fr = Frontier(model=inst.model.name, params=inst.params, x=x, y=y, exact=False,
                  shape="approximate")
    fr.notes.append(f"not exact: {reason}")
    fr.notes.append("the region need not be convex here: the realized points are exact "
                    "members of the family; their convex hull is an inner approximation "
                    "only where the region is convex")
    rng = np.random.default_rng(seed)
    sampler = _Sampler(concrete, ex, ey, rng)
    pool = sampler.random_batch(samples)
    px, py = sampler.float_points(pool)
    keep = np.isfinite(px)
    pool, px, py = pool[keep], px[keep], py[keep]
    realized: list[tuple[Pt, dict]] = []
    if len(pool):
        sampled = pool[:: max(1, len(pool) // 120)]
        objectives = []
        # the convex part of the boundary: along directions ...
        for i in range(directions):
            angle = 2 * math.pi * i / directions
            objectives.append(lambda a, b, c=math.cos(angle), s=math.sin(angle): c * a + s * b)
        # ... and the least and greatest Y at each X (the boundary need not be convex);
        # in order of X, so that each search can start from its neighbour's result
        lo, hi = float(px.min()), float(px.max())
        for j in range(profiles if hi > lo else 0):
            x0 = lo + (hi - lo) * j / (profiles - 1)
            for sign in (1, -1):
                objectives.append(lambda a, b, x0=x0, sign=sign:
                                  sign * b - 400 * (a - x0) ** 2)
        previous: dict[int, object] = {}
        for n, objective in enumerate(objectives):
            # a profile search also starts from its neighbour's result (same side)
            key = (n - directions) % 2 if n >= directions else None
            row = _local_search(sampler, pool, px, py, objective, rng,
                                start=previous.get(key))
            previous[key] = row
            rx, ry = sampler.float_points(row[None, :])
            if np.isfinite(rx[0]):
                pool, px, py = np.vstack([pool, row]), np.append(px, rx), np.append(py, ry)
            if (r := sampler.exact_point(row)) is not None:
                realized.append(r)
        for row in sampled:
            if (r := sampler.exact_point(row, digits=3)) is not None:
                realized.append(r)
    fr.points = [p for p, _ in realized]
    fr.inner = convex_hull(fr.points)
    if fr.points:
        fr.best = {"lowest": _envelope(fr.points, profiles, 1),
                   "highest": _envelope(fr.points, profiles, -1)}
    fr.bounds = _store_bounds(store, inst, ex, ey, x, y)
    if prove:
        fr.bounds += _prove_bounds(inst, ex, ey, x, y, fr.inner, timeout)
    fr.bounds = informative(fr.bounds)
    if prove:
        fr.pieces = _certified_pieces(inst, ex, ey, x, y, timeout)
    fr.outer = _outer_polygon(fr.bounds, fr.inner)
    fr.gap = max((_hausdorff(part, fr.inner) for part in _outer_parts(fr.outer, fr.pieces)),
                 default=_hausdorff(fr.outer, fr.inner))
    return fr


def _outer_parts(outer: list[Pt] | None, pieces: list[Piece]) -> list[list[Pt] | None]:
    """The outer approximation cut by the certified pieces: for each piece, the outer
    polygon on its band of X above its floor; where no band reaches, the polygon as is.
    Each part is convex, so the distance of a part from the inner hull is reached at a
    vertex; where bands overlap the parts over-cover (each keeps only its own floor), so
    the distance is never understated. No pieces: the polygon itself."""
    if outer is None or not pieces:
        return [outer]
    parts = [_clip(_clip(_clip(outer, -1, 0, -p.x_from), 1, 0, p.x_to), 0, -1, -p.y_at_least)
             for p in pieces]
    # the stretches of X that no band covers
    lo, hi = min(q[0] for q in outer), max(q[0] for q in outer)
    at = lo
    for p in sorted(pieces, key=lambda p: p.x_from):
        if p.x_from > at:
            parts.append(_clip(_clip(outer, -1, 0, -at), 1, 0, p.x_from))
        at = max(at, p.x_to)
    if at < hi:
        parts.append(_clip(outer, -1, 0, -at))
    return [part for part in parts if part]


def _envelope(points: list[Pt], bins: int, sign: int) -> list[Pt]:
    """The realized point of least (sign 1) or greatest (sign -1) Y in each of ``bins``
    bins of X centred where the profile searches aimed."""
    lo, hi = min(p[0] for p in points), max(p[0] for p in points)
    width = (hi - lo) / max(1, bins - 1)
    best: dict[int, Pt] = {}
    for p in points:
        k = 0 if width == 0 else int((p[0] - lo) / width + Fraction(1, 2))
        if k not in best or sign * p[1] < sign * best[k][1]:
            best[k] = p
    return [best[k] for k in sorted(best)]


def _local_search(sampler: _Sampler, pool, px, py, objective, rng, batch: int = 24,
                  steps: int = 40, start=None):
    """Maximize ``objective(X, Y)`` over the free variables: an adaptive random walk,
    ``batch`` candidates a step, from the best of the pool (and from ``start``, if
    given: the better of the two walks wins)."""
    import numpy as np
    with np.errstate(invalid="ignore"):
        scores = objective(px, py)
    k = int(np.nanargmax(scores))
    found = _walk(sampler, pool[k].copy(), float(scores[k]), objective, rng, batch, steps)
    if start is not None:
        sx, sy = sampler.float_points(start[None, :])
        if np.isfinite(sx[0]):
            other = _walk(sampler, start.copy(), float(objective(sx, sy)[0]), objective, rng,
                          batch, steps)
            if other[1] > found[1]:
                found = other
    return found[0]


def _walk(sampler: _Sampler, best, score: float, objective, rng, batch: int, steps: int):
    import numpy as np
    step = 0.3
    width = np.where(np.isfinite(sampler.hi - sampler.lo), sampler.hi - sampler.lo, 1.0)
    for _ in range(steps):
        cand = best + rng.normal(0.0, 1.0, (batch, len(best))) * step * width
        zero = rng.random((batch, len(best))) < 0.05
        cand = sampler.clip(np.where(zero, 0.0, cand))
        cx, cy = sampler.float_points(cand)
        with np.errstate(invalid="ignore"):
            cs = objective(cx, cy)
        if np.all(np.isnan(cs)) or np.nanmax(cs) <= score:
            step /= 2
            if step < 1e-5:
                break
            continue
        j = int(np.nanargmax(cs))
        best, score = cand[j], float(cs[j])
    return best, score


def _affine(e: E.Expr, ex: E.Expr, ey: E.Expr):
    """e as (cx, cy, c0) when it is affine in X and Y, else None."""
    if e == ex:
        return (Fraction(1), Fraction(0), Fraction(0))
    if e == ey:
        return (Fraction(0), Fraction(1), Fraction(0))
    if isinstance(e, E.Num):
        return (Fraction(0), Fraction(0), e.value)
    if isinstance(e, E.Neg):
        a = _affine(e.operand, ex, ey)
        return None if a is None else tuple(-v for v in a)
    if isinstance(e, E.BinOp):
        a, b = _affine(e.left, ex, ey), _affine(e.right, ex, ey)
        if a is None or b is None:
            return None
        if e.op == "+":
            return tuple(p + q for p, q in zip(a, b))
        if e.op == "-":
            return tuple(p - q for p, q in zip(a, b))
        if e.op == "*":
            if a[:2] == (0, 0):
                return tuple(a[2] * q for q in b)
            if b[:2] == (0, 0):
                return tuple(b[2] * p for p in a)
            return None
        if e.op == "/" and b[:2] == (0, 0) and b[2] != 0:
            return tuple(p / b[2] for p in a)
    return None


def halfplanes(claim: E.Expr, ex: E.Expr, ey: E.Expr) -> list[tuple[Fraction, Fraction,
                                                                     Fraction]] | None:
    """A claim that is a conjunction of linear comparisons in X and Y as half-planes
    (a, b, h): a·X + b·Y <= h (strict ones closed up), else None."""
    if isinstance(claim, E.BoolOp) and claim.op == "and":
        out = []
        for part in claim.operands:
            sub = halfplanes(part, ex, ey)
            if sub is None:
                return None
            out += sub
        return out
    if not isinstance(claim, E.Compare):
        return None
    out = []
    for op, left, right in zip(claim.ops, claim.operands, claim.operands[1:]):
        l, r = _affine(left, ex, ey), _affine(right, ex, ey)
        if l is None or r is None:
            return None
        d = tuple(p - q for p, q in zip(l, r))     # left - right = dx X + dy Y + d0
        if d[:2] == (0, 0):
            continue
        if op in ("<", "<=", "=="):
            out.append((d[0], d[1], -d[2]))
        if op in (">", ">=", "=="):
            out.append((-d[0], -d[1], d[2]))
    return out


def _certified_pieces(inst, ex, ey, x, y, timeout: float) -> list[Piece]:
    """The model's proposed claims along a curved side (``Model.boundary_claims``), each
    kept only if the model's certificate for it replays in the checker; the plotted
    numbers are read back from the certified texts (half-planes in X and Y)."""
    import time as _time
    from ..checker import CertificateError, check_proof
    from ..encode import encode

    out, deadline = [], _time.perf_counter() + timeout
    family = inst.concrete or inst
    for assume, claim in inst.model.boundary_claims(inst.params, x, y):
        if _time.perf_counter() > deadline:
            break
        try:
            hyps = [E.parse_formula(a) for a in assume]
            goal = E.parse_formula(claim)
            problem = encode(family, goal, hyps)
            proof, _ = inst.model.concrete_certificate(inst.params, problem)
            if proof is None:
                continue
            check_proof(problem, proof)
        except (ExprError, CertificateError, ValueError):
            continue
        lo, hi, m = _band(hyps, goal, ex, ey)
        if lo is None or hi is None or m is None:
            continue
        out.append(Piece(lo, hi, m, claim, tuple(assume),
                         f"{proof.get('kind', 'sos')} certificate over the concrete family, "
                         "replayed by the checker", "certificate"))
    return out


def _band(hyps, goal, ex, ey):
    """(lo, hi, m) when the hypotheses bound X to [lo, hi] and the goal says Y >= m."""
    lo = hi = m = None
    for h in hyps:
        for a, b, c in halfplanes(h, ex, ey) or []:
            if b == 0 and a < 0:
                lo = c / a if lo is None else max(lo, c / a)
            elif b == 0 and a > 0:
                hi = c / a if hi is None else min(hi, c / a)
    for a, b, c in halfplanes(goal, ex, ey) or []:
        if a == 0 and b < 0:
            m = c / b
    return lo, hi, m


def _store_bounds(store, inst, ex, ey, x, y) -> list[Bound]:
    store = _open_store(store)
    if store is None:
        return []
    out = []
    for cid, rec in store.records():
        if isinstance(rec, BadEntry) or rec.verdict != "valid" or rec.vacuous or rec.assume:
            continue
        if rec.model.name != inst.model.name or dict(rec.model.params) != inst.params:
            continue
        try:
            claim = E.parse_formula(rec.claim)
        except ExprError:
            continue
        for a, b, h in halfplanes(claim, ex, ey) or []:
            out.append(Bound(a, b, h, rec.claim, f"store:{cid}", rec.trust.value))
    return out


def _prove_bounds(inst, ex, ey, x, y, inner: list[Pt], timeout: float) -> list[Bound]:
    """Supporting lines of the inner hull, loosened until the solver proves them, then
    tightened again by bisection on a dyadic grid."""
    from .. import solvers
    from ..encode import encode

    def proved(a, b, h) -> str | None:
        text = inequality_text(a, b, h, x, y)
        try:
            problem = encode(inst, E.parse_formula(text), [])
        except ExprError:
            return None
        return text if solvers.solve("z3", problem.smtlib(), timeout).result == "unsat" \
            else None

    normals = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)]
    # the directions of the inner hull's longest edges, rounded to simple slopes
    edges = sorted(zip(inner, inner[1:] + inner[:1]),
                   key=lambda pq: -float((pq[1][0] - pq[0][0]) ** 2 + (pq[1][1] - pq[0][1]) ** 2))
    for p, q in edges[:6]:
        n = (q[1] - p[1], p[0] - q[0])
        if n[1] == 0 or abs(n[0] / n[1]) > 8:
            continue
        slope = Fraction(-n[0] / n[1]).limit_denominator(8)
        sign = 1 if n[1] > 0 else -1
        cand = primitive_normal(-slope * sign, sign)
        if cand not in normals:
            normals.append(cand)
    out = []
    for a, b in normals:
        if not inner:
            break
        top = max(a * p[0] + b * p[1] for p in inner)
        failed = Fraction(math.ceil(top * 64), 64) - Fraction(1, 64)   # below the realized
        found = None
        for slack in (Fraction(1, 64), Fraction(1, 16), Fraction(1, 4), Fraction(1)):
            h = failed + slack
            text = proved(a, b, h)
            if text:
                found = (h, text)
                break
            failed = h
        if found is None:
            continue
        for _ in range(4):
            mid = Fraction(math.ceil((failed + found[0]) / 2 * 1024), 1024)
            if not failed < mid < found[0]:
                break
            text = proved(a, b, mid)
            if text:
                found = (mid, text)
            else:
                failed = mid
        out.append(Bound(Fraction(a), Fraction(b), found[0], found[1], "z3", "solver"))
    return out


def informative(bounds: list[Bound]) -> list[Bound]:
    """The bounds less every slanted one (a != 0 and b != 0) that the others already
    imply — the box of the axis bounds, or a sharper slanted bound — decided exactly on
    the polygon the others cut out; the outer approximation does not change."""
    kept = []
    for bd in bounds:                  # one bound per direction: the tightest, best trusted
        if not any(_dominates(o, bd) for o in kept):
            kept = [o for o in kept if not _dominates(bd, o)] + [bd]
    ids = {id(b) for b in kept}
    bounds = kept = [b for b in bounds if id(b) in ids]
    # weakest first: a slanted bound far outside the others is dropped before a sharp one
    for bd in sorted((b for b in bounds if b.a != 0 and b.b != 0),
                     key=lambda b: -_room(b, [o for o in bounds if o is not b])):
        others = [o for o in kept if o is not bd]
        if _room(bd, others) >= 0:
            kept = others
    return kept


def _dominates(o: Bound, bd: Bound) -> bool:
    """``o`` is ``bd``'s direction, at least as tight and at least as trusted."""
    if o.a * bd.b != o.b * bd.a or o.a * bd.a < 0 or o.b * bd.b < 0:
        return False
    k = o.a / bd.a if bd.a != 0 else o.b / bd.b          # o = k * bd, k > 0
    return o.h / k <= bd.h and Trust.rank_of(o.trust) >= Trust.rank_of(bd.trust)


def _room(bd: Bound, others: list[Bound]) -> Fraction:
    """min over the polygon cut out by ``others`` of h - (a·X + b·Y): >= 0 means the
    others imply ``bd``; -inf (as -10**12) when they leave the polygon unbounded."""
    poly = _outer_polygon(others, [])
    if poly is None:
        return Fraction(-10 ** 12)
    if not poly:
        return Fraction(10 ** 12)            # the others are contradictory: all implied
    return min(bd.h - (bd.a * p[0] + bd.b * p[1]) for p in poly)


def _clip(poly: list[Pt], a, b, h) -> list[Pt]:
    """Sutherland–Hodgman: the part of a convex polygon with a·X + b·Y <= h."""
    out = []
    for i, p in enumerate(poly):
        q = poly[(i + 1) % len(poly)]
        fp, fq = a * p[0] + b * p[1] - h, a * q[0] + b * q[1] - h
        if fp <= 0:
            out.append(p)
        if (fp < 0 < fq) or (fq < 0 < fp):
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def _outer_polygon(bounds: list[Bound], inner: list[Pt]) -> list[Pt] | None:
    """The intersection of the proved half-planes; None if they do not bound the region."""
    big = Fraction(10 ** 6)
    poly = [(-big, -big), (big, -big), (big, big), (-big, big)]
    for bd in bounds:
        poly = _clip(poly, bd.a, bd.b, bd.h)
        if not poly:
            return []
    if any(abs(c) >= big for p in poly for c in p):
        return None
    return convex_hull(poly)


def _hausdorff(outer: list[Pt] | None, inner: list[Pt]) -> float:
    """max over the outer polygon of the distance to the inner hull (inner ⊆ outer)."""
    if outer is None or not inner:
        return math.inf
    return max((_distance(p, inner) for p in outer), default=0.0)


def _distance(p: Pt, hull: list[Pt]) -> float:
    px, py = float(p[0]), float(p[1])
    pts = [(float(a), float(b)) for a, b in hull]
    if len(pts) >= 3 and all((q[0] - o[0]) * (py - o[1]) - (q[1] - o[1]) * (px - o[0]) >= -1e-15
                             for o, q in zip(pts, pts[1:] + pts[:1])):
        return 0.0
    best = math.inf
    for o, q in zip(pts, pts[1:] + pts[:1]):
        dx, dy = q[0] - o[0], q[1] - o[1]
        L = dx * dx + dy * dy
        t = 0.0 if L == 0 else max(0.0, min(1.0, ((px - o[0]) * dx + (py - o[1]) * dy) / L))
        best = min(best, math.hypot(px - o[0] - t * dx, py - o[1] - t * dy))
    return best
