"""Sum-of-squares certificate search (untrusted): SDP, then exact rational recovery.

For one case (a conjunction of atoms) we look for the identity of ``prover.checker``

    sum lam_P * prod(P) + sum q_k * h_k + sum_S prod(S) * m_S^T G_S m_S + c == 0

with lam_P >= 0 on products of one to three inequality atoms, free polynomials q_k on
the equality atoms h_k, PSD Gram matrices G_S for products S of zero, one or two
inequality atoms, c >= 0, normalised c + sum(lam of strict products) = 1. Nothing here
is trusted: ``prover.checker`` verifies the result exactly on its own.

What keeps the SDP small and the answer exact:

* **Elimination.** An equality linear in a variable with a constant coefficient
  (``vz - ... == 0``) is solved for it and substituted; the SDP never sees that variable
  or the equality's multiplier, which is recovered afterwards by exact division.
* **Gradings.** The weight vectors under which every atom is homogeneous (an exact
  nullspace) split any identity into homogeneous parts. We search one part at a time,
  at the multidegree of a strict product (the negated claim first): each Gram basis
  then holds only the monomials of the one multidegree its square can reach, e.g. two
  monomials instead of 56. A full (ungraded) search follows if time remains.
* **Facial reduction and exact projection.** Clarabel returns an interior point of the
  optimal face. Multipliers that are numerically zero are fixed to 0, each Gram matrix
  is written G = V H V^T with V a rational basis of its numerical range, and the
  remaining unknowns (H, lam, q, c) are projected exactly (rational arithmetic) onto
  the affine space of the identity; H is then strictly inside its cone, so the exact
  LDL^T check succeeds even when the claim is tight (G singular, a boundary point).

The exact rational algebra (elimination, gradings, exact projection, the recovery of
eliminated multipliers) is ``prover.sos_exact``; this module builds and solves the SDP
and rounds its solution onto rational faces.

Budget: ``search_case`` stops by its deadline: it checks the clock between stages,
gives Clarabel only the time left and skips an SDP whose size estimate cannot fit.
The overshoot is bounded by one stage that does not poll the clock (building one SDP,
or one exact projection), a fraction of a second at the sizes allowed here
(``MAX_GRAM_ENTRIES``); ``run_isolated`` kills the process a few seconds after the
budget at the latest. Every failure returns a reason naming what was tried.
"""

from __future__ import annotations

import itertools
import os
import time
import warnings
from fractions import Fraction

from .checker import CertificateError, check_case, psd_ldl
from .poly import Atom, Poly, fraction_text, monomial_degree, monomials_up_to
from .sos_exact import (_OutOfTime, _mono, _multidegree, _nearest_solution,
                        _poly_multidegree, _product, eliminations, gradings,
                        restore_equalities, substitute_all)

MAX_GRAM_ENTRIES = 40_000        # sum of n^2 over Gram blocks of one SDP
MAX_GRADED_TARGETS = 12          # homogeneous parts tried per degree
MAX_PRODUCT = 3                  # lam products searched (the checker allows up to 4)
SQUARE_ATOMS = 2                 # the checker's limit for a square's multiplier
ZERO_TOLERANCES = (1e-7, 1e-5, 1e-9)
DENOMINATORS = (1, 12, 360, 10 ** 4, 10 ** 6)
GUESS_DENOMINATOR = 10 ** 6


# --- the search -----------------------------------------------------------------------

def search_case(atoms: list[Atom], timeout: float = 10.0) -> dict:
    """{"cert": case certificate} or {"reason": text}. Stops by ``timeout`` seconds.

    Degrees: the smallest even degree covering the atoms, then two more; at each, the
    homogeneous parts at strict products' multidegrees, then the full SDP."""
    deadline = time.monotonic() + timeout
    try:
        import cvxpy  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as exc:
        return {"reason": f"the sum-of-squares search needs cvxpy, clarabel and numpy ({exc})"}
    reasons: list[str] = []
    try:
        return _search(atoms, deadline, reasons)
    except _OutOfTime:
        reasons.append(f"budget of {timeout:g} s spent")
    return {"reason": "; ".join(reasons) or f"budget of {timeout:g} s spent"}


def _search(atoms: list[Atom], deadline: float, reasons: list[str]) -> dict:
    elims = eliminations(atoms)
    gone = {k for k, _x, _v in elims}
    reduced = [Atom(substitute_all(a.poly, elims), a.rel) if k not in gone else None
               for k, a in enumerate(atoms)]
    ineq = [i for i, a in enumerate(atoms) if a.rel in (">=", ">")]
    eqs = [k for k, a in enumerate(atoms) if a.rel == "==" and k not in gone]
    if not ineq:
        return {"reason": "no inequality in this case: nothing for a sum of squares to use"}
    variables = sorted({x for k, a in enumerate(reduced) if a is not None
                        for x in a.poly.variables()})
    polys = [a.poly for a in reduced if a is not None and not a.poly.is_constant()]
    weights = gradings(polys, variables) if variables else []
    low = max([reduced[i].poly.degree() for i in ineq + eqs] + [2])
    low += low % 2
    pos = {x: i for i, x in enumerate(variables)}
    strict = [i for i in ineq if atoms[i].rel == ">"]
    for top in (low, low + 2):
        if weights:
            targets = _graded_targets(reduced, strict, weights, pos, top)
            if not targets:
                reasons.append(f"degree {top}: no strict product is homogeneous under the "
                               "atoms' gradings")
            for target in targets[:MAX_GRADED_TARGETS]:
                out = _search_one(atoms, reduced, elims, ineq, eqs, variables, top,
                                  deadline, weights, target)
                if "cert" in out:
                    return out
                reasons.append(f"degree {top}, homogeneous part {_deg_text(target)}: "
                               f"{out['reason']}")
        out = _search_one(atoms, reduced, elims, ineq, eqs, variables, top, deadline)
        if "cert" in out:
            return out
        reasons.append(f"degree {top}: {out['reason']}")
    return {"reason": "; ".join(reasons)}


def _deg_text(target) -> str:
    return "(" + ", ".join(fraction_text(t) for t in target) + ")"


def _graded_targets(reduced, strict, weights, pos, top) -> list[tuple]:
    """Multidegrees of strict products (at most MAX_PRODUCT atoms, degree <= top), the
    ones with the fewest atoms and the last atoms (the negated claim) first."""
    found: dict[tuple, tuple] = {}
    for size in range(1, MAX_PRODUCT + 1):
        for idx in itertools.combinations_with_replacement(strict, size):
            if sum(reduced[i].poly.degree() for i in idx) > top:
                continue
            degs = [_poly_multidegree(reduced[i].poly, weights, pos) for i in idx]
            if any(d is None for d in degs):
                continue
            total = tuple(sum(col, Fraction(0)) for col in zip(*degs))
            key = (size, -max(idx), sum(reduced[i].poly.degree() for i in idx))
            if total not in found or key < found[total]:
                found[total] = key
    return sorted(found, key=lambda t: found[t])


def _search_one(atoms, reduced, elims, ineq, eqs, variables, top, deadline,
                weights=None, target=None) -> dict:
    """One SDP: every term of total degree <= top (and of multidegree ``target``)."""
    pos = {x: i for i, x in enumerate(variables)}

    def fits(p: Poly) -> bool:
        if p.degree() > top:
            return False
        if target is None:
            return True
        return _poly_multidegree(p, weights, pos) == target

    products = []
    for size in range(1, MAX_PRODUCT + 1):
        for idx in itertools.combinations_with_replacement(ineq, size):
            poly = _product(reduced, idx)
            if not poly.is_zero() and fits(poly):
                products.append((idx, poly))
    all_monos = monomials_up_to(variables, top // 2) if variables else [()]
    blocks = []
    for size in range(SQUARE_ATOMS + 1):
        for idx in itertools.combinations(ineq, size):
            mult = _product(reduced, idx)
            room = top - mult.degree()
            if room < 0:
                continue
            if target is not None:
                md = _poly_multidegree(mult, weights, pos)
                if md is None:
                    continue
                want = tuple((t - d) / 2 for t, d in zip(target, md))
                basis = [m for m in all_monos if 2 * monomial_degree(m) <= room
                         and _multidegree(m, weights, pos) == want]
            else:
                basis = [m for m in all_monos if 2 * monomial_degree(m) <= room]
            if basis and not (idx and basis == [()]):   # prod * const: a lam product
                blocks.append((idx, mult, basis))
    eq_terms = []
    for k in eqs:
        h = reduced[k].poly
        room = top - h.degree()
        for m in (monomials_up_to(variables, room) if room >= 0 else []):
            t = _mono(m) * h
            if fits(t):
                eq_terms.append((k, m, t))
    with_constant = target is None or all(t == 0 for t in target)
    strict_products = [n for n, (idx, _p) in enumerate(products)
                       if all(atoms[i].rel == ">" for i in idx)]
    if not strict_products and not with_constant:
        return {"reason": "no strict product at this degree"}
    entries = sum(len(b) ** 2 for _i, _m, b in blocks)
    if entries > MAX_GRAM_ENTRIES:
        return {"reason": f"skipped: {entries} Gram entries exceed the cap of "
                          f"{MAX_GRAM_ENTRIES}"}
    if time.monotonic() + 0.2 > deadline:
        raise _OutOfTime
    sdp = _Sdp(products, strict_products, with_constant, eq_terms, blocks)
    solved = sdp.solve(deadline)
    if "reason" in solved:
        return solved
    for tol in ZERO_TOLERANCES:
        for den in DENOMINATORS:
            if time.monotonic() > deadline:
                raise _OutOfTime
            cert = _recover(sdp, solved, atoms, elims, tol, den, deadline, frozenset())
            if cert is None:
                continue
            return {"cert": _sparsify(sdp, solved, atoms, elims, tol, den, deadline, cert)}
    return {"reason": "the SDP found a numerical certificate, but no exact rational one "
                      "was recovered from it (facial reduction and exact projection failed "
                      "at every tolerance)"}


def _recover(sdp, solved, atoms, elims, tol, den, deadline, drop) -> dict | None:
    """The exact certificate from the numeric solution with the terms in ``drop`` fixed
    to zero, checked by the checker, or None."""
    cert = sdp.exact(solved, tol, den, deadline, drop)
    if cert is None:
        return None
    cert = restore_equalities(atoms, elims, cert)
    try:
        check_case(atoms, cert)
    except CertificateError:
        return None
    return cert


def _sparsify(sdp, solved, atoms, elims, tol, den, deadline, cert) -> dict:
    """Drop terms one at a time while an exact certificate remains: interior points
    spread weight over redundant terms (rho*(a+b) beside rho*a and rho*b); fewer terms
    give a shorter certificate with simpler numbers. Best effort within the deadline."""
    drop: frozenset = frozenset()
    terms = [("lam", n) for n in range(len(sdp.products))] + \
        [("block", b) for b in sorted(range(len(sdp.blocks)),
                                      key=lambda b: -len(sdp.blocks[b][2]))]
    for term in terms:
        if time.monotonic() > deadline - 0.5:
            break
        try:
            smaller = _recover(sdp, solved, atoms, elims, tol, den, deadline, drop | {term})
        except _OutOfTime:
            break
        if smaller is not None:
            drop, cert = drop | {term}, smaller
    return cert


class _Sdp:
    """The SDP of one search, its numeric solution and the exact recovery."""

    def __init__(self, products, strict_products, with_constant, eq_terms, blocks):
        self.products, self.strict = products, strict_products
        self.with_constant, self.eq_terms, self.blocks = with_constant, eq_terms, blocks
        rows: dict = {}
        col = 0
        self.lam_cols = []
        for _idx, poly in products:
            self._add(rows, poly, col)
            self.lam_cols.append(col)
            col += 1
        self.c_col = None
        if with_constant:
            self._add(rows, Poly.const(1), col)
            self.c_col = col
            col += 1
        self.q_cols = []
        for _k, _m, t in eq_terms:
            self._add(rows, t, col)
            self.q_cols.append(col)
            col += 1
        self.g_cols = []
        for _idx, mult, basis in blocks:
            n = len(basis)
            start = col
            for a in range(n):
                for b in range(a, n):
                    p = mult * _mono(basis[a]) * _mono(basis[b])
                    self._add(rows, p if a == b else p.scale(2), col)
                    col += 1
            self.g_cols.append((start, n))
        self.rows = rows
        self.ncols = col

    @staticmethod
    def _add(rows, poly: Poly, col: int) -> None:
        for m, c in poly.terms.items():
            row = rows.setdefault(m, {})
            row[col] = row.get(col, Fraction(0)) + c

    def solve(self, deadline: float) -> dict:
        import cvxpy as cp
        import numpy as np
        import scipy.sparse as sp

        nlin = self.g_cols[0][0] if self.g_cols else self.ncols
        y = cp.Variable(nlin) if nlin else None
        grams = [cp.Variable((n, n), PSD=True) for _s, n in self.g_cols]
        # the upper triangle of each Gram matrix, in the column order of self.rows
        parts = ([y] if y is not None else [])
        for (start, n), G in zip(self.g_cols, grams):
            iu = np.triu_indices(n)
            parts.append(G[iu])
        x = cp.hstack(parts) if len(parts) > 1 else parts[0]
        keys = list(self.rows)
        data, ri, ci = [], [], []
        for r, m in enumerate(keys):
            for j, v in self.rows[m].items():
                ri.append(r)
                ci.append(j)
                data.append(float(v))
        A = sp.csr_matrix((data, (ri, ci)), shape=(len(keys), self.ncols))
        cons = [A @ x == 0]
        if self.lam_cols:
            cons.append(y[self.lam_cols] >= 0)
        norm = 0
        if self.c_col is not None:
            cons.append(y[self.c_col] >= 0)
            norm = norm + y[self.c_col]
        if self.strict:
            norm = norm + cp.sum(y[[self.lam_cols[n] for n in self.strict]])
        cons.append(norm == 1)
        prob = cp.Problem(cp.Minimize(0), cons)
        left = deadline - time.monotonic()
        if left < 0.2:
            raise _OutOfTime
        try:
            with warnings.catch_warnings():   # an inaccurate solution is judged below
                warnings.simplefilter("ignore")
                from .quartic_ratio import one_thread
                one_thread()
                prob.solve(solver=cp.CLARABEL, time_limit=max(0.1, left - 0.1),
                           verbose=bool(os.environ.get("SOS_VERBOSE")))
        except Exception as exc:  # noqa: BLE001 - any solver failure is "not found"
            if time.monotonic() > deadline:
                raise _OutOfTime from None
            return {"reason": f"Clarabel stopped without a solution ({type(exc).__name__}: "
                              "infeasible or numerically ill-posed)"}
        size = f"{len(self.products)} products, {len(self.blocks)} Gram blocks of sizes " \
               f"{sorted({n for _s, n in self.g_cols}, reverse=True)[:4]}"
        if prob.status not in ("optimal", "optimal_inaccurate"):
            if prob.status == "user_limit" or time.monotonic() > deadline:
                raise _OutOfTime
            return {"reason": f"SDP {prob.status} ({size})"}
        xv = np.concatenate(([y.value] if y is not None else [])
                            + [G.value[np.triu_indices(n)] for (_s, n), G in
                               zip(self.g_cols, grams)])
        return {"x": xv, "grams": [G.value for G in grams]}

    def exact(self, solved: dict, tol: float, den: int, deadline: float,
              drop: frozenset = frozenset()) -> dict | None:
        """Facial reduction at tolerance ``tol``, rational faces with denominators up to
        ``den``, exact projection; a certificate in the reduced atoms' indices or None."""
        import numpy as np

        xv = solved["x"]
        scale = max(1.0, float(np.max(np.abs(xv)))) if len(xv) else 1.0
        # unknowns: lam (kept), c, q, H entries per block
        unknowns: list[tuple] = []          # (kind, data)
        guess: list[Fraction] = []

        def rat(v: float) -> Fraction:
            # simple values stay simple (0.5 -> 1/2); the projection corrects the rest
            return Fraction(float(v)).limit_denominator(GUESS_DENOMINATOR)

        col_exprs: dict[int, dict[int, Fraction]] = {}   # original column -> unknown combo
        for n, col in enumerate(self.lam_cols):
            if xv[col] > tol * scale and ("lam", n) not in drop:
                col_exprs[col] = {len(unknowns): Fraction(1)}
                unknowns.append(("lam", n))
                guess.append(rat(xv[col]))
        if self.c_col is not None and xv[self.c_col] > tol * scale:
            col_exprs[self.c_col] = {len(unknowns): Fraction(1)}
            unknowns.append(("c", None))
            guess.append(rat(xv[self.c_col]))
        for n, col in enumerate(self.q_cols):
            col_exprs[col] = {len(unknowns): Fraction(1)}
            unknowns.append(("q", n))
            guess.append(rat(xv[col]))
        faces = []
        for b, ((start, n), G) in enumerate(zip(self.g_cols, solved["grams"])):
            G = (G + G.T) / 2
            w, v = np.linalg.eigh(G)
            keep = w > tol * max(1.0, float(np.max(np.abs(w))))
            r = int(np.sum(keep))
            if r == 0 or ("block", b) in drop:
                faces.append(None)
                continue
            V = _rational_range(v[:, keep], den) if r < n else \
                [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
            if V is None:
                return None
            # H guess: least squares of V H V^T ~ G
            Vf = np.array([[float(x) for x in row] for row in V])
            pinv = np.linalg.pinv(Vf)
            Hf = pinv @ G @ pinv.T
            first = len(unknowns)
            hidx = {}
            for i in range(r):
                for j in range(i, r):
                    hidx[i, j] = len(unknowns)
                    unknowns.append(("H", (b, i, j)))
                    guess.append(rat((Hf[i, j] + Hf[j, i]) / 2))
            # G[a][c] = sum_ij V[a][i] H[i][j] V[c][j]; column of (a, c), a <= c
            col = start
            for a in range(n):
                for c in range(a, n):
                    expr: dict[int, Fraction] = {}
                    for i in range(r):
                        if not V[a][i]:
                            continue
                        for j in range(r):
                            if not V[c][j]:
                                continue
                            u = hidx[min(i, j), max(i, j)]
                            expr[u] = expr.get(u, Fraction(0)) + V[a][i] * V[c][j]
                    if expr:
                        col_exprs[col] = expr
                    col += 1
            faces.append((V, r, first, hidx))
        # identity rows in the unknowns
        rows, rhs = [], []
        for m, entries in self.rows.items():
            row: dict[int, Fraction] = {}
            for col, coef in entries.items():
                for u, k in col_exprs.get(col, {}).items():
                    row[u] = row.get(u, Fraction(0)) + coef * k
            row = {u: v for u, v in row.items() if v}
            if row:
                rows.append(row)
                rhs.append(Fraction(0))
        norm = {}
        for n in self.strict:
            col = self.lam_cols[n]
            for u, k in col_exprs.get(col, {}).items():
                norm[u] = norm.get(u, Fraction(0)) + k
        if self.c_col is not None:
            for u, k in col_exprs.get(self.c_col, {}).items():
                norm[u] = norm.get(u, Fraction(0)) + k
        if not norm:
            return None
        rows.append(norm)
        rhs.append(Fraction(1))
        try:
            x = _nearest_solution(rows, rhs, len(unknowns), guess, deadline)
        except StopIteration:
            return None
        if x is None:
            return None
        cert = {"products": [], "equalities": [], "squares": [], "constant": "0"}
        for (kind, data), val in zip(unknowns, x):
            if kind == "lam":
                if val < 0:
                    return None
                if val:
                    cert["products"].append({"atoms": list(self.products[data][0]),
                                             "multiplier": fraction_text(val)})
            elif kind == "c":
                if val < 0:
                    return None
                cert["constant"] = fraction_text(val)
        q: dict[int, dict] = {}
        for (kind, data), val in zip(unknowns, x):
            if kind == "q" and val:
                k, m, _t = self.eq_terms[data]
                q.setdefault(k, {})[m] = val
        for k in sorted(q):
            cert["equalities"].append({"atom": k, "multiplier": Poly(q[k]).to_json()})
        for b, face in enumerate(faces):
            if face is None:
                continue
            V, r, _first, hidx = face
            H = [[x[hidx[min(i, j), max(i, j)]] for j in range(r)] for i in range(r)]
            try:
                psd_ldl(H)
            except CertificateError:
                return None
            n = len(V)
            G = [[sum((V[a][i] * H[i][j] * V[c][j] for i in range(r) for j in range(r)
                       if V[a][i] and V[c][j]), Fraction(0)) for c in range(n)]
                 for a in range(n)]
            if not any(any(row) for row in G):
                continue
            idx, _mult, basis = self.blocks[b]
            cert["squares"].append({"atoms": list(idx), "gram": {
                "basis": [[[name, e] for name, e in m] for m in basis],
                "matrix": [[fraction_text(v) for v in row] for row in G]}})
        return cert


def _rational_range(vecs, den: int):
    """A rational basis (n x r, list of rows) of the column span of ``vecs`` (n x r):
    the numeric row echelon form of vecs^T, entries rounded to denominators <= den."""
    import numpy as np

    M = np.array(vecs, dtype=float).T.copy()      # r x n
    r, n = M.shape
    cols = []
    row = 0
    for j in range(n):
        if row == r:
            break
        p = row + int(np.argmax(np.abs(M[row:, j])))
        if abs(M[p, j]) < 1e-6:
            continue
        M[[row, p]] = M[[p, row]]
        M[row] /= M[row, j]
        for i in range(r):
            if i != row:
                M[i] -= M[i, j] * M[row]
        cols.append(j)
        row += 1
    if row < r:
        return None
    out = [[Fraction(0)] * r for _ in range(n)]
    for i in range(r):
        for j in range(n):
            v = Fraction(float(M[i, j])).limit_denominator(den)
            if abs(float(v) - M[i, j]) > 1e-6 * max(1.0, abs(M[i, j])):
                return None
            out[j][i] = v
    return out
