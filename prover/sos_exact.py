"""The exact rational algebra of the sum-of-squares search (untrusted, standard library
only): what ``prover.sos`` does with Fractions rather than floats.

* **Elimination.** ``eliminations`` finds equalities linear in a variable with a constant
  coefficient, ``substitute_all`` substitutes them, and ``restore_equalities`` recovers
  their multipliers afterwards by exact division (``_divide_linear``).
* **Gradings.** ``gradings`` is the exact nullspace of weight vectors under which every
  atom is homogeneous; ``_multidegree``/``_poly_multidegree`` read a term's part.
* **Exact projection.** ``_rref`` (sparse exact reduced row echelon form, rows updated by
  ``_subtract_scaled``), ``_solve_dense`` and ``_nearest_solution``: the point of an
  affine space nearest to a rounded guess.

Nothing here is trusted: ``prover.checker`` verifies every certificate on its own.
"""

from __future__ import annotations

import time
from fractions import Fraction

from .poly import Atom, Poly


class _OutOfTime(Exception):
    pass


def _mono(m) -> Poly:
    return Poly({m: 1})


def _product(atoms: list[Atom], idx) -> Poly:
    p = Poly.const(1)
    for i in idx:
        p = p * atoms[i].poly
    return p


def eliminations(atoms: list[Atom]) -> list[tuple[int, str, Poly]]:
    """[(atom index k, variable x, value of x)] for equalities h_k = kappa*x + r with a
    constant kappa != 0 and r free of x, x in no later equality (so exact division by
    h_k, in order, recovers the multipliers)."""
    eqs = [k for k, a in enumerate(atoms) if a.rel == "=="]
    done: list[tuple[int, str, Poly]] = []
    used: set[int] = set()
    progress = True
    while progress:
        progress = False
        for k in eqs:
            if k in used:
                continue
            h = atoms[k].poly
            for (x, kappa) in _linear_variables(h):
                if any(x in atoms[j].poly.variables() for j in eqs if j != k and j not in used):
                    continue
                rest = h - Poly.var(x).scale(kappa)
                value = rest.scale(Fraction(-1) / kappa)
                done.append((k, x, value))
                used.add(k)
                progress = True
                break
    return done


def _linear_variables(h: Poly) -> list[tuple[str, Fraction]]:
    out = []
    for x in sorted(h.variables()):
        occurrences = [(m, c) for m, c in h.terms.items() if any(n == x for n, _ in m)]
        if len(occurrences) == 1 and occurrences[0][0] == ((x, 1),):
            out.append((x, occurrences[0][1]))
    return out


def substitute_all(p: Poly, elims) -> Poly:
    for _k, x, value in elims:
        if x in p.variables():
            p = p.substitute({x: value})
    return p


def _divide_linear(p: Poly, x: str, h: Poly) -> tuple[Poly, Poly]:
    """(q, rem) with p = q*h + rem, rem free of x, for h = kappa*x + r (r free of x)."""
    kappa = h.terms[((x, 1),)]
    q_terms: dict = {}
    rem = p
    while True:
        top = max((dict(m).get(x, 0) for m in rem.terms), default=0)
        if top == 0:
            break
        lead = {}
        for m, c in rem.terms.items():
            e = dict(m)
            if e.get(x, 0) == top:
                e[x] = top - 1
                mm = tuple(sorted((n, k) for n, k in e.items() if k))
                lead[mm] = lead.get(mm, Fraction(0)) + c / kappa
        step = Poly(lead)
        for m, c in step.terms.items():
            q_terms[m] = q_terms.get(m, Fraction(0)) + c
        rem = rem - step * h
    return Poly(q_terms), rem


def _subtract_scaled(row: dict, f: Fraction, other: dict) -> dict:
    """``row - f * other`` for sparse rows (col -> Fraction), in place; zeros dropped."""
    for j, v in other.items():
        nv = row.get(j, Fraction(0)) - f * v
        if nv:
            row[j] = nv
        else:
            row.pop(j, None)
    return row


def _rref(rows: list[dict], ncols: int, rhs: list[Fraction]):
    """Exact reduced row echelon form of sparse rows (dict col -> Fraction) with a
    right-hand side. Returns (pivot rows [(pivot col, row dict, rhs)], consistent)."""
    pivots: list[tuple[int, dict, Fraction]] = []
    by_col: dict[int, int] = {}
    for row, b in zip(rows, rhs):
        row = {j: v for j, v in row.items() if v}
        # the pivot rows are kept reduced (zero in every other pivot column), so one
        # pass over the pivot columns present in this row reduces it completely
        for j in [j for j in row if j in by_col]:
            f = row.get(j)
            if not f:
                continue
            _pc, prow, pb = pivots[by_col[j]]
            _subtract_scaled(row, f, prow)
            b = b - f * pb
        if not row:
            if b != 0:
                return pivots, False
            continue
        j0 = min(row)
        f = row[j0]
        row = {j: v / f for j, v in row.items()}
        b = b / f
        # eliminate j0 from earlier pivots
        for n, (pc, prow, pb) in enumerate(pivots):
            if j0 in prow:
                g = prow[j0]
                pivots[n] = (pc, _subtract_scaled(dict(prow), g, row), pb - g * b)
        by_col[j0] = len(pivots)
        pivots.append((j0, row, b))
    return pivots, True


def _nearest_solution(rows, rhs, ncols: int, guess: list[Fraction], deadline: float):
    """The point of {x : rows . x = rhs} nearest to ``guess`` (exact orthogonal
    projection), or None if the system is inconsistent."""
    pivots, ok = _rref(rows, ncols, rhs)
    if not ok:
        return None
    if time.monotonic() > deadline:
        raise _OutOfTime
    m = len(pivots)
    # residual r = R g - b; solve (R R^T) y = r; x = g - R^T y
    resid = [sum((v * guess[j] for j, v in row.items()), Fraction(0)) - b
             for _pc, row, b in pivots]
    if not any(resid):
        return list(guess)
    gram = [[Fraction(0)] * m for _ in range(m)]
    for i in range(m):
        ri = pivots[i][1]
        for k in range(i, m):
            rk = pivots[k][1]
            small, big = (ri, rk) if len(ri) <= len(rk) else (rk, ri)
            s = sum((v * big[j] for j, v in small.items() if j in big), Fraction(0))
            gram[i][k] = gram[k][i] = s
    y = _solve_dense(gram, resid, deadline)
    x = list(guess)
    for i in range(m):
        if y[i]:
            for j, v in pivots[i][1].items():
                x[j] -= v * y[i]
    return x


def _solve_dense(a: list[list[Fraction]], b: list[Fraction], deadline: float) -> list[Fraction]:
    n = len(a)
    a = [row[:] + [b[i]] for i, row in enumerate(a)]
    for k in range(n):
        if time.monotonic() > deadline:
            raise _OutOfTime
        p = next(i for i in range(k, n) if a[i][k] != 0)
        a[k], a[p] = a[p], a[k]
        piv = a[k][k]
        for i in range(k + 1, n):
            if a[i][k]:
                f = a[i][k] / piv
                for j in range(k, n + 1):
                    a[i][j] -= f * a[k][j]
    x = [Fraction(0)] * n
    for k in range(n - 1, -1, -1):
        s = a[k][n] - sum((a[k][j] * x[j] for j in range(k + 1, n)), Fraction(0))
        x[k] = s / a[k][k]
    return x


def gradings(polys: list[Poly], variables: list[str]) -> list[list[Fraction]]:
    """A basis of the weight vectors w (one weight per variable) under which every
    polynomial is homogeneous: w . (m1 - m2) = 0 for any two monomials of one poly."""
    n = len(variables)
    pos = {x: i for i, x in enumerate(variables)}
    rows = []
    for p in polys:
        monos = list(p.terms)
        for m in monos[1:]:
            diff = {}
            for x, e in monos[0]:
                diff[pos[x]] = diff.get(pos[x], 0) + e
            for x, e in m:
                diff[pos[x]] = diff.get(pos[x], 0) - e
            rows.append({j: Fraction(v) for j, v in diff.items() if v})
    pivots, _ = _rref(rows, n, [Fraction(0)] * len(rows))
    pivot_cols = {pc for pc, _r, _b in pivots}
    basis = []
    for free in range(n):
        if free in pivot_cols:
            continue
        w = [Fraction(0)] * n
        w[free] = Fraction(1)
        for pc, row, _b in pivots:
            w[pc] = -row.get(free, Fraction(0))
        basis.append(w)
    return basis


def _multidegree(m, weights, pos) -> tuple:
    return tuple(sum((w[pos[x]] * e for x, e in m), Fraction(0)) for w in weights)


def _poly_multidegree(p: Poly, weights, pos):
    degs = {_multidegree(m, weights, pos) for m in p.terms}
    return degs.pop() if len(degs) == 1 else None



def restore_equalities(atoms: list[Atom], elims, cert: dict) -> dict:
    """Recover the multipliers of the eliminated equalities by exact division, so the
    identity holds in the original atoms."""
    if not elims:
        return cert
    from .checker import square_term

    ineq = [i for i, a in enumerate(atoms) if a.rel in (">=", ">")]
    total = Poly.const(Fraction(cert["constant"]))
    for item in cert["products"]:
        total = total + _product(atoms, item["atoms"]).scale(Fraction(item["multiplier"]))
    for item in cert["equalities"]:
        q = Poly.from_json(item["multiplier"], Fraction)
        total = total + q * atoms[item["atom"]].poly
    for item in cert["squares"]:
        total = total + square_term(atoms, ineq, item)
    extra = []
    for k, x, _value in elims:
        q, total = _divide_linear(total, x, atoms[k].poly)
        if not q.is_zero():
            extra.append({"atom": k, "multiplier": (-q).to_json()})
    cert = dict(cert)
    cert["equalities"] = sorted(cert["equalities"] + extra, key=lambda e: e["atom"])
    return cert
