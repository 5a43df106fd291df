"""Sum-of-squares certificate search (untrusted): SDP, then exact rational rounding.

For one case (a conjunction of atoms) we look for the identity of ``prover.checker``

    sum lam_P * prod(P) + sum q_k * h_k + sum_j g_j * m_j^T G_j m_j + c == 0

with lam_P >= 0 on products of at most two inequality atoms, free polynomial q_k, PSD
Gram matrices G_0 (g_0 = 1, plain SOS) and G_i for single inequality atoms g_i, c >= 0,
normalised c + sum(strict lam) = 1. cvxpy + Clarabel solve it in floating point; then
every multiplier except G_0 is rounded to a rational (the G_i through a rounded
eigen-decomposition, so they are PSD by construction), G_0 is projected exactly onto the
affine space of the coefficient equations (Peyrl-Parrilo) and checked PSD exactly. The
checker verifies the result on its own; nothing here is trusted.

When the claim is tight the SDP solution sits on the boundary of the PSD cone and the
projection may break semidefiniteness: then ``search_case`` returns a reason string.
"""

from __future__ import annotations

import itertools
import os
import warnings
from fractions import Fraction

from .checker import CertificateError, check_case, psd_ldl
from .models.base import Atom
from .poly import Poly, fraction_text, monomials_up_to

PRECISIONS = (10, 14, 18, 22, 26, 30)
ZERO = 1e-7


def _mono_poly(m) -> Poly:
    return Poly({m: 1})


def _round(x: float, bits: int) -> Fraction:
    return Fraction(round(x * (1 << bits)), 1 << bits)


def _rounded_psd(mat, bits: int):
    """A PSD rational matrix near ``mat``: V diag(max(ev, 0)) V^T with V, ev rounded."""
    import numpy as np

    w, v = np.linalg.eigh((mat + mat.T) / 2)
    n = len(w)
    g = [[Fraction(0)] * n for _ in range(n)]
    for k in range(n):
        if w[k] <= ZERO:
            continue
        lam = _round(w[k], bits)
        if lam <= 0:
            continue
        col = [_round(v[i, k], bits) for i in range(n)]
        for i in range(n):
            if col[i]:
                for j in range(n):
                    g[i][j] += lam * col[i] * col[j]
    return g


def _gram_json(basis, g):
    return {"basis": [[[n, e] for n, e in m] for m in basis],
            "matrix": [[fraction_text(x) for x in row] for row in g]}


MAX_BASIS = 90


def search_case(atoms: list[Atom], timeout: float = 60.0) -> dict:
    """Runs in an isolated child. {"cert": case certificate} or {"reason": text}.

    Tries the smallest even Gram degree covering the atoms, then two more, while the
    plain SOS basis stays at most MAX_BASIS monomials and time remains."""
    import time

    deadline = time.monotonic() + timeout
    low = max([a.poly.degree() for a in atoms] + [2])
    low += low % 2
    variables = sorted({x for a in atoms for x in a.poly.variables()})
    reasons = []
    for top in (low, low + 2):
        left = deadline - time.monotonic()
        if top > low and (len(monomials_up_to(variables, top // 2)) > MAX_BASIS or left < 5):
            break
        out = _search_degree(atoms, top, left)
        if "cert" in out:
            return out
        reasons.append(f"degree {top}: {out['reason']}")
    return {"reason": "; ".join(reasons)}


def _search_degree(atoms: list[Atom], top: int, timeout: float) -> dict:
    try:
        import cvxpy as cp
        import numpy as np
        import scipy.sparse as sp
    except ImportError as exc:
        return {"reason": f"sum-of-squares search needs cvxpy and clarabel ({exc})"}

    ineq = [i for i, a in enumerate(atoms) if a.rel in (">=", ">")]
    eqs = [i for i, a in enumerate(atoms) if a.rel == "=="]
    variables = sorted({x for a in atoms for x in a.poly.variables()})
    products = [(i,) for i in ineq] + [p for p in itertools.combinations_with_replacement(ineq, 2)
                                       if sum(atoms[i].poly.degree() for i in p) <= top]
    prod_polys = []
    for p in products:
        poly = Poly.const(1)
        for i in p:
            poly = poly * atoms[i].poly
        prod_polys.append(poly)
    # Gram blocks: (atom index or None, basis)
    blocks = [(None, monomials_up_to(variables, top // 2))]
    for i in ineq:
        d = (top - atoms[i].poly.degree()) // 2
        if d >= 1:
            blocks.append((i, monomials_up_to(variables, d)))
    eq_monos = []
    for k in eqs:
        room = top - atoms[k].poly.degree()
        eq_monos.append(monomials_up_to(variables, room) if room >= 0 else [])

    # columns: lam | c | q | vec(G) per block
    rows: dict = {}
    col = 0

    def add(poly: Poly, j: int, scale=1.0):
        for m, c in poly.terms.items():
            rows.setdefault(m, []).append((j, float(c) * scale))

    for p in prod_polys:
        add(p, col)
        col += 1
    c_col = col
    add(Poly.const(1), col)
    col += 1
    q_cols = []
    for k, monos in zip(eqs, eq_monos):
        start = col
        for m in monos:
            add(atoms[k].poly * _mono_poly(m), col)
            col += 1
        q_cols.append((start, col))
    g_cols = []
    for owner, basis in blocks:
        start = col
        n = len(basis)
        base = Poly.const(1) if owner is None else atoms[owner].poly
        for a in range(n):
            for b in range(n):
                add(base * _mono_poly(basis[a]) * _mono_poly(basis[b]), col + a * n + b)
        col += n * n
        g_cols.append((start, n))
    nvar = col
    keys = list(rows)
    data, ri, ci = [], [], []
    for r, m in enumerate(keys):
        for j, v in rows[m]:
            ri.append(r)
            ci.append(j)
            data.append(v)
    A = sp.csr_matrix((data, (ri, ci)), shape=(len(keys), nvar))
    nfree = g_cols[0][0]
    y = cp.Variable(nfree)
    grams = [cp.Variable((n, n), PSD=True) for _start, n in g_cols]
    x = cp.hstack([y] + [cp.vec(G, order="C") for G in grams])
    nl = len(products)
    strict = [n for n, p in enumerate(products) if all(atoms[i].rel == ">" for i in p)]
    cons = [A @ x == 0, y[:nl] >= 0, y[c_col] >= 0,
            y[c_col] + (cp.sum(y[strict]) if strict else 0) == 1]
    prob = cp.Problem(cp.Minimize(0), cons)
    try:
        with warnings.catch_warnings():     # an inaccurate solution is reported below
            warnings.simplefilter("ignore")
            prob.solve(solver=cp.CLARABEL, time_limit=max(1.0, timeout * 0.8),
                       verbose=bool(os.environ.get("SOS_VERBOSE")))
    except Exception as exc:  # noqa: BLE001 - any solver failure is just "not found"
        return {"reason": "the SDP solver (Clarabel) stopped without a solution, which usually "
                          "means the SDP is infeasible (no such certificate at this degree) "
                          f"or numerically ill-posed ({type(exc).__name__})"}
    if prob.status not in ("optimal", "optimal_inaccurate") or y.value is None:
        return {"reason": f"the SDP solver ended with status '{prob.status}': no sum-of-squares "
                          f"certificate with products of at most two hypotheses and Gram "
                          f"degree {top} was found"}
    xv = np.concatenate([y.value] + [G.value.reshape(-1) for G in grams])
    tried = []
    for bits in PRECISIONS:
        cert = _round_case(atoms, xv, bits, products, prod_polys, c_col, eqs, eq_monos,
                           q_cols, blocks, g_cols)
        if isinstance(cert, dict):
            try:
                check_case(atoms, cert)
            except CertificateError as exc:
                tried.append(f"2^-{bits}: {exc}")
                continue
            return {"cert": cert}
        tried.append(f"2^-{bits}: {cert}")
    return {"reason": "the SDP found a numerical sum-of-squares certificate (Gram degree "
                      f"{top}), but rounding to rationals failed at every precision "
                      f"(probably on the boundary of the PSD cone: a tight claim): "
                      + "; ".join(tried)}


def _round_case(atoms, xv, bits, products, prod_polys, c_col, eqs, eq_monos, q_cols,
                blocks, g_cols):
    import numpy as np

    scale = max(1.0, float(np.max(np.abs(xv))))
    tiny = ZERO * scale
    total = Poly()
    cert = {"products": [], "equalities": [], "squares": []}
    for n, (p, poly) in enumerate(zip(products, prod_polys)):
        v = _round(xv[n], bits) if xv[n] > tiny else Fraction(0)
        if v > 0:
            cert["products"].append({"atoms": list(p), "multiplier": fraction_text(v)})
            total = total + poly.scale(v)
    c = _round(xv[c_col], bits) if xv[c_col] > tiny else Fraction(0)
    cert["constant"] = fraction_text(c)
    total = total + Poly.const(c)
    for k, monos, (start, _end) in zip(eqs, eq_monos, q_cols):
        q = Poly({m: _round(xv[start + j], bits) for j, m in enumerate(monos)
                  if abs(xv[start + j]) > tiny})
        if not q.is_zero():
            cert["equalities"].append({"atom": k, "multiplier": q.to_json()})
            total = total + q * atoms[k].poly
    for (owner, basis), (start, n) in list(zip(blocks, g_cols))[1:]:
        mat = np.array(xv[start:start + n * n]).reshape(n, n)
        g = _rounded_psd(mat, bits)
        if not any(any(r) for r in g):
            continue
        form = Poly.sum(_mono_poly(basis[a]) * _mono_poly(basis[b]) * Poly.const(g[a][b])
                        for a in range(n) for b in range(n) if g[a][b])
        total = total + form * atoms[owner].poly
        cert["squares"].append({"atoms": [owner], "gram": _gram_json(basis, g)})
    # G_0: prune monomials with (numerically) zero diagonal, project exactly
    (_, basis0), (start, n) = blocks[0], g_cols[0]
    mat = np.array(xv[start:start + n * n]).reshape(n, n)
    keep = [a for a in range(n) if mat[a, a] > tiny]
    basis = [basis0[a] for a in keep]
    g = [[_round((mat[a, b] + mat[b, a]) / 2, bits) for b in keep] for a in keep]
    target = -total       # m^T G0 m must equal this
    pairs: dict = {}
    for i, a in enumerate(basis):
        for j, b in enumerate(basis):
            m = (_mono_poly(a) * _mono_poly(b))
            pairs.setdefault(next(iter(m.terms)), []).append((i, j))
    current: dict = {}
    for m, ps in pairs.items():
        current[m] = sum((g[i][j] for i, j in ps), Fraction(0))
    for m in target.terms:
        if m not in pairs:
            return (f"the rounded multipliers leave the monomial {Poly({m: 1})} that the "
                    "sum of squares cannot produce")
    for m, ps in pairs.items():
        err = target.terms.get(m, Fraction(0)) - current[m]
        if err:
            share = err / len(ps)
            for i, j in ps:
                g[i][j] += share
    try:
        psd_ldl(g)
    except CertificateError:
        return ("the SDP solution is on the boundary of the PSD cone: rounding to rationals "
                f"broke positive semidefiniteness at precision 2^-{bits}")
    if basis and any(any(r) for r in g):
        cert["squares"].insert(0, {"atoms": [], "gram": _gram_json(basis, g)})
    return cert
