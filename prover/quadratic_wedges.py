"""Lower bounds on r2 where the S-lemma form of ``quadratic_ratio`` is not tight: cases
on the direction of a two-dimensional odd block (Gaussian P, odd degree 3).

The S-lemma form is exact for its relaxation (a a^T replaced by any PSD block matrix), so
where the relaxation is loose — rank-two odd blocks, at odd degree 3 — no (alpha, beta)
reaches the frontier. Splitting the case by the direction of (a_1, a_k) (the odd
block's two coefficients: first on the sign of a_1, then on the sign of a_k - s a_1 at
cut slopes s) leaves wedges on which L * R >= 0 for the wedge's two bounding atoms; the
S-lemma with the extra term nu * t * L * R (nu >= 0) is tight for narrow wedges. Each
leaf is an ordinary certificate of its branch (``exact_case`` with ``wedge``); the
checker replays the split (``checker.split_of``) and the Coq export turns it into a
case analysis. Untrusted search (numpy, scipy): only what the checker accepts counts.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .checker import CertificateError
from .poly import Atom, Poly
from .quadratic_ratio import (_BEST, Forms, _floats, _least, _Numeric, _rationals,
                              block_matrices, case_certificate, exact_case, read_case,
                              rounded, slice_of)
from .quadratic_ratio import search as _search

MAX_WEDGES = 24          # leaves per sign of a_1


def search(problem, f: Forms) -> tuple[dict | None, str]:
    """``quadratic_ratio.search``, each case falling back to the split by direction."""
    return _search(problem, f, split_case_certificate)


def split_case_certificate(atoms, f: Forms) -> tuple[dict | None, str]:
    """``case_certificate``, or where its form stops short and a local search over real
    coefficients does not already reach below the claim, the quartic sum of squares of
    ``quartic_ratio`` (exact at every slice tried), then a split certificate when the odd
    block has two coefficients."""
    cert, why = case_certificate(atoms, f)
    if cert is not None or not why.startswith("the best S-lemma certificate"):
        return cert, why
    roles = read_case(atoms, f)
    lo, hi, equal = slice_of(roles)
    m = roles["claim"][1]
    low = realized_min(f, lo, hi, equal)
    if low < float(m) * (1 - 1e-9):
        return None, why + f"; and a polynomial reaches r2 = {low:.6g} on the slice"
    from .quartic_ratio import case_certificate as quartic_certificate
    cert, quartic = quartic_certificate(atoms, f)
    if cert is not None:
        return cert, ""
    why += f"; quartic sum of squares: {quartic}"
    if len(f.odd) != 2 or f.odd[0] not in odd_linear(f):
        return None, why
    cert, more = wedge_certificate(atoms, f, roles, _Numeric(f, lo, hi, equal))
    if cert is not None:
        return cert, ""
    return None, why + f"; split by the direction of the odd part: {more}"


def odd_linear(f: Forms) -> list[str]:
    """The odd coefficients that W1 (the linear part's variance) involves."""
    _, O = block_matrices(f.W1, f)
    return [n for i, n in enumerate(f.odd) if O[i][i]]


def realized_min(f: Forms, lo, hi, equal: bool, starts: int = 8) -> float:
    """The least r2 a local search finds over real coefficient vectors on the slice (an
    upper bound on the true least r2: when it is below the claim, no certificate can
    exist and the split search is not tried)."""
    found = realized_argmins(f, lo, hi, equal, starts)
    return found[0][0] if found else math.inf


def realized_argmins(f: Forms, lo, hi, equal: bool, starts: int = 8,
                     deadline: float | None = None,
                     enough: float | None = None) -> list[tuple[float, list[float]]]:
    """[(r2, x)], least r2 first: local minima of r2 on the slice from ``starts`` seeded
    SLSQP runs (until ``deadline``, a time.perf_counter() value, or the first below
    ``enough``), x the coefficients in the order f.even + f.odd with the odd-part scale
    t = 1. Floats: proposals only."""
    import time

    import numpy as np
    from scipy.optimize import minimize
    mats = {}
    for key, p in (("C", f.C), ("V", f.V), ("Q", f.Q), ("W1", f.W1)):
        E, O = (_floats(m) for m in block_matrices(p, f))
        n_e, n_o = len(E), len(O)
        M = np.zeros((n_e + n_o, n_e + n_o))
        M[:n_e, :n_e], M[n_e:, n_e:] = E, O
        mats[key] = M
    q = lambda k, x: float(x @ mats[k] @ x)
    s2 = lambda x: q("W1", x) / q("V", x)
    r2 = lambda x: q("C", x) ** 2 / (q("V", x) * q("Q", x))
    cons = []
    if equal:
        cons.append({"type": "eq", "fun": lambda x: s2(x) - float(lo)})
    else:
        if lo is not None:
            cons.append({"type": "ineq", "fun": lambda x: s2(x) - float(lo)})
        if hi is not None:
            cons.append({"type": "ineq", "fun": lambda x: float(hi) - s2(x)})
    rng = np.random.default_rng(3)
    found = []
    for _ in range(starts):
        if deadline is not None and time.perf_counter() > deadline:
            break
        x0 = rng.normal(size=len(mats["V"]))
        try:
            r = minimize(r2, x0, method="SLSQP", constraints=cons,
                         options={"maxiter": 300, "ftol": 1e-12})
        except (ValueError, ArithmeticError, ZeroDivisionError):
            continue
        x = r.x
        ok = all((c["fun"](x) >= -1e-9) if c["type"] == "ineq" else abs(c["fun"](x)) < 1e-9
                 for c in cons)
        if ok and np.isfinite(r2(x)):
            found.append((r2(x), [float(v) for v in x]))
            if enough is not None and found[-1][0] < enough:
                break
    found.sort(key=lambda vx: vx[0])
    return found


def slice_minimizers(problem, f: Forms, starts: int, deadline: float | None = None,
                     keep: int = 4) -> list[dict[str, float]]:
    """Points of the concrete family (its coefficients and t = 1, floats) where r2 is
    locally least on a case's slice and below that case's claimed bound: proposals for
    the counterexample search of a claim ``r2 >= m`` on a slice of s2, which a random
    walk rarely finds at high degree (the minimum is a thin valley). The caller
    re-imposes the slice exactly and checks each point exactly."""
    from .checker import cases_of
    try:
        cases = cases_of(problem)
    except CertificateError:
        return []
    out = []
    for atoms in cases:
        roles = read_case(atoms, f)
        if isinstance(roles, str) or roles["claim"] is None:
            continue
        lo, hi, equal = slice_of(roles)
        m = float(roles["claim"][1])
        # the first minimum clearly below the claim is enough (a local minimum is a
        # thin valley's floor: the walk of numsearch then only has to round it)
        for value, x in realized_argmins(f, lo, hi, equal, starts, deadline,
                                         enough=m * (1 - 1e-4))[:keep]:
            if value < m:
                point = dict(zip(list(f.even) + list(f.odd), x))
                point[f.t] = 1.0
                out.append(point)
    return out


class _WedgeNumeric(_Numeric):
    """The S-lemma value with one more constraint matrix P (odd block), multiplier nu."""

    def __init__(self, f: Forms, lo, hi, equal: bool, P):
        super().__init__(f, lo, hi, equal)
        self.P = P

    def wvalue(self, tau, l1, l2, nu) -> float:
        b = self.blocks
        out = []
        for k in (0, 1):
            A = self._A(k, l1, l2)
            if k == 1:
                A = A - nu * self.P
            try:
                out.append(_least(A, tau * b["V"][k] + b["Q"][k] / tau))
            except (ValueError, ArithmeticError):
                return -math.inf
        return min(out)

    def at_tau(self, tau, start):
        from scipy.optimize import minimize_scalar
        l1, l2, nu = start
        opts = {"method": "bounded", "options": {"xatol": 1e-10}}
        for _ in range(4):          # coordinate ascent: concave in each multiplier
            l1 = minimize_scalar(lambda x: -self.wvalue(tau, x, l2, nu),
                                 bounds=(-1024, 1024) if self.equal else (0, 1024), **opts).x
            if not self.equal and self.hi is not None:
                l2 = minimize_scalar(lambda x: -self.wvalue(tau, l1, x, nu),
                                     bounds=(0, 1024), **opts).x
            nu = minimize_scalar(lambda x: -self.wvalue(tau, l1, l2, x),
                                 bounds=(0, 1024), **opts).x
        return self.wvalue(tau, l1, l2, nu), (float(l1), float(l2), float(nu))

    def wbest(self):
        from scipy.optimize import minimize_scalar
        best, start = (-math.inf, 1.0, (0.0, 0.0, 0.0)), (0.0, 0.0, 0.0)
        for tau in [math.exp(x / 3) for x in range(-9, 10)]:
            v, s = self.at_tau(tau, start)
            if v > best[0]:
                best, start = (v, tau, s), s
        lt = math.log(best[1])
        r = minimize_scalar(lambda x: -self.at_tau(math.exp(x), best[2])[0],
                            bounds=(lt - 0.4, lt + 0.4), method="bounded",
                            options={"xatol": 1e-9})
        v, s = self.at_tau(math.exp(float(r.x)), best[2])
        return (v, math.exp(float(r.x)), s) if v > best[0] else best


def _wedge_leaf(atoms, f, m: Fraction, num, need, iL, iR):
    """(an exact certificate of a leaf whose atoms iL, iR bound its wedge, or None; the
    float bound mu found)."""
    tpoly = Poly.var(f.t) * atoms[iL].poly * atoms[iR].poly
    _, O = block_matrices(tpoly, f)
    wn = _WedgeNumeric(f, num.lo, num.hi, num.equal, _floats(O))
    # the a_1 <= 0 side has the same wedge products as the a_1 >= 0 side: search once
    key = (f.V, f.Q, f.C, f.W1, num.lo, num.hi, num.equal, tpoly)
    if key not in _BEST:
        _BEST[key] = wn.wbest()
    mu_best, tau, (l1, l2, nu) = _BEST[key]
    if not mu_best > need * (1 + 1e-9):
        return None, mu_best
    mu_best = min(mu_best, 4 * need + 1)
    roles = read_case(atoms, f)
    for mu, tq in rounded(m, need, mu_best, tau):
        _, (l1f, l2f, nuf) = wn.at_tau(float(tq), (l1, l2, nu))
        for l1q, l2q, nuq in zip(_rationals(l1f if num.equal else max(l1f, 0.0)),
                                 _rationals(max(l2f, 0.0)), _rationals(max(nuf, 0.0))):
            try:
                return exact_case(atoms, f, roles, mu, tq, l1q, l2q, (nuq, iL, iR)), mu_best
            except CertificateError:
                continue
    return None, mu_best


def wedge_certificate(atoms, f: Forms, roles: dict, num: _Numeric):
    """A split certificate of the case: by the sign of a_1, then by cut slopes of the
    odd block's direction, each leaf an S-lemma certificate on its wedge; (cert, '') or
    (None, why not)."""
    _, m, _ = roles["claim"]
    need = math.sqrt(float(m)) / 2
    x1, xk = Poly.var(f.odd[0]), Poly.var(f.odd[1])
    why, close = "no wedges tried", True
    _, Vo = block_matrices(f.V, f)
    ratio = math.sqrt(float(Vo[0][0]) / float(Vo[1][1]))   # a-slope per unit c-slope
    for n in (8, 16, MAX_WEDGES):
        if n > 8 and not close:
            break
        cuts = [Fraction(math.tan(math.pi * (i / n - 0.5)) * ratio).limit_denominator(1000)
                for i in range(1, n)]
        cuts = sorted(set(cuts))
        leaves = list(zip([None] + cuts, cuts + [None]))
        sides = []
        for flip in (False, True):                 # a_1 >= 0, then a_1 <= 0
            sub = _side(atoms, f, x1, xk, leaves, num, need, m, flip=flip)
            if isinstance(sub, tuple):
                why, got = sub
                # finer wedges only help when the worst one is nearly there
                close = got > 0.97 * float(m)
                break
            sides.append(sub)
        else:
            return {"split": {"poly": x1.to_json(), "nonneg": sides[0],
                              "nonpos": sides[1]}}, ""
    return None, why


def _side(atoms, f, x1, xk, leaves, num, need, m: Fraction, flip: bool):
    """The subtree for a_1 >= 0 (flip: a_1 <= 0) over the wedges ``leaves``."""
    base = atoms + [Atom(-x1 if flip else x1, ">=")]
    sign_atom = len(base) - 1

    def build(lo: int, hi: int, have: list[Atom], bounds: dict):
        if hi - lo == 1:
            k_lo, k_hi = leaves[lo]
            iL = bounds.get(("lo", k_lo), sign_atom)
            iR = bounds.get(("hi", k_hi), sign_atom)
            cert, got = _wedge_leaf(have, f, m, num, need, iL, iR)
            if cert is None:
                bound = 4 * max(got, 0) ** 2
                return (f"the wedge of slopes {k_lo} to {k_hi} proves r2 >= {bound:.6g} "
                        "only", bound)
            return cert
        mid = (lo + hi) // 2
        k = leaves[mid][0]                       # the cut between the halves
        ell = xk - x1.scale(k)
        # a_1 >= 0: ell >= 0 is slope >= k (the upper half); a_1 <= 0: the lower half
        upper_first = not flip
        out = {}
        for branch, poly in (("nonneg", ell), ("nonpos", -ell)):
            more = have + [Atom(poly, ">=")]
            upper = (branch == "nonneg") == upper_first
            b = dict(bounds)
            b[("lo", k) if upper else ("hi", k)] = len(more) - 1
            sub = build(mid, hi, more, b) if upper else build(lo, mid, more, b)
            if isinstance(sub, tuple):
                return sub
            out[branch] = sub
        return {"split": {"poly": ell.to_json(), "nonneg": out["nonneg"],
                          "nonpos": out["nonpos"]}}

    return build(0, len(leaves), base, {})


