"""Lower bounds on r2 = C^2/(V*Q) on a slice by one quartic sum of squares: exact where the
S-lemma form of ``quadratic_ratio`` is not (odd degrees, the rank gap of its relaxation).

The setting is ``quadratic_ratio``'s: quadratic forms V, Q > 0, C, W1 in the Hermite
coefficients a and the odd-block scale t > 0 (each form = even block + t * odd block),
D = V*Q, and a slice s2 = W1/V == sigma, or lo <= s2 <= hi. In the coordinates
z = (a_even, sqrt(t) * a_odd) every form is a quadratic form of z, and the claim r2 >= m
reads C^2 - m*D >= 0 on the slice: a quartic form. It is proved by

    C^2 - m'*D - h*(W1 - sigma*V)  ==  z' G z   (G positive semidefinite, m' >= m)

(an equality slice: h any quadratic form of z), or with p1*(W1 - lo*V) + p2*(hi*V - W1)
in place of h*(W1 - sigma*V) and p1, p2 positive semidefinite quadratic forms (a band).
The basis of G is the degree-2 monomials of z, split by parity into two blocks that
never meet (every form is even in sqrt(t)): {a_e a_e', t a_o a_o'} and {a_e a_o} (whose
square carries the factor t). In the checker's format, the identity

    (m*D - C^2) + (m' - m)*D + [z' G z] + h*(W1 - sigma*V) == 0

is one product of the negated claim's atom, one of D > 0, two Gram squares (the second
times the atom t > 0), and a polynomial multiplier of the slice's equality (for a band:
Gram squares of p1, p2 times the slice atoms, and t for their odd blocks). At a point of
the negated claim (m*D - C^2 > 0, or >= 0 with m' > m) every term is >= 0 and one > 0.

Untrusted search: an SDP (cvxpy + Clarabel) in the orthonormal scaling u_k ~ sqrt(k!) a_k
(rational), first for the largest m', then at a rational m' between the claim and it for
the most interior point; the multipliers are rounded to rationals, the Gram matrix is
projected exactly onto the identity (each entry of a monomial's class moved by the same
amount: the orthogonal projection) and checked positive semidefinite by exact LDL^T.
Only what ``checker.check_case`` accepts counts.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

from .checker import CertificateError, check_case, psd_ldl
from .poly import Atom, Poly
from .quadratic_ratio import Forms, block_matrices, opposite_pair, read_case, slice_of

MAX_COORDINATES = 14         # z coordinates (Gram blocks of about n^2/2 rows): larger is left out


def _txt(x: Fraction) -> str:
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


class _Setup:
    """The forms as exact symmetric matrices in the scaled coordinates u = w * z, the
    Gram bases, and the quartic monomials (sorted index 4-tuples) they meet in."""

    def __init__(self, f: Forms):
        self.f = f
        self.names = list(f.even) + list(f.odd)
        self.ne, self.n = len(f.even), len(f.even) + len(f.odd)
        VE, VO = block_matrices(f.V, f)
        # w_i: the power of 2 nearest sqrt of V's diagonal (sqrt(k!) in dimension 1), so
        # that every number of the certificate has a power of 2 (times small factors) as
        # its denominator: the Coq export clears them all with one common multiple
        diag = [VE[i][i] for i in range(self.ne)] + [VO[i][i] for i in range(self.n - self.ne)]
        self.w = [Fraction(2) ** round(math.log2(float(d)) / 2) if d > 0 else Fraction(1)
                  for d in diag]
        self.M = {}
        for key in ("V", "Q", "C", "W1"):
            E, O = block_matrices(getattr(f, key), f)
            full = [[Fraction(0)] * self.n for _ in range(self.n)]
            for i in range(self.ne):
                for j in range(self.ne):
                    full[i][j] = E[i][j] / (self.w[i] * self.w[j])
            for i in range(self.n - self.ne):
                for j in range(self.n - self.ne):
                    a, b = self.ne + i, self.ne + j
                    full[a][b] = O[i][j] / (self.w[a] * self.w[b])
            self.M[key] = full
        pairs = [(i, j) for i in range(self.n) for j in range(i, self.n)]
        self.odd = lambda i: i >= self.ne
        self.blockA = [p for p in pairs if self.odd(p[0]) == self.odd(p[1])]
        self.blockB = [p for p in pairs if self.odd(p[0]) != self.odd(p[1])]
        self.evens = list(range(self.ne))
        self.odds = list(range(self.ne, self.n))

    def product(self, A, B) -> dict:
        """The quartic z'A z * z'B z as {sorted index 4-tuple: coefficient}."""
        out: dict = {}
        nz_a = [(i, j, A[i][j]) for i in range(self.n) for j in range(self.n) if A[i][j]]
        nz_b = [(k, l, B[k][l]) for k in range(self.n) for l in range(self.n) if B[k][l]]
        for i, j, x in nz_a:
            for k, l, y in nz_b:
                key = tuple(sorted((i, j, k, l)))
                out[key] = out.get(key, 0) + x * y
        return out

    def lin(self, key: str, c: Fraction, other: str):
        """The matrix c * M[other] + M[key] (for slice forms W1 - c V)."""
        return [[self.M[key][i][j] + c * self.M[other][i][j] for j in range(self.n)]
                for i in range(self.n)]

    def classes(self) -> dict:
        """{quartic: [(block, a, b)]}: the Gram entries that make each coefficient."""
        out: dict = {}
        for name, block in (("A", self.blockA), ("B", self.blockB)):
            for a, p in enumerate(block):
                for b, q in enumerate(block):
                    out.setdefault(tuple(sorted(p + q)), []).append((name, a, b))
        return out


def _slice_forms(s: _Setup, roles: dict):
    """[(kind, matrix, role)]: the slice's forms in u, kind 'eq' (h free) or 'ge' (p PSD)."""
    lo, hi = roles["lo"], roles["hi"]
    equal = lo is not None and hi is not None and lo[0] == hi[0] and lo[3]
    out = []
    if equal:
        out.append(("eq", s.lin("W1", -lo[1], "V"), lo))
        return out
    if lo is not None:
        out.append(("eq" if lo[3] else "ge", s.lin("W1", -lo[1], "V"), lo))
    if hi is not None:
        neg = [[-x for x in row] for row in s.lin("W1", -hi[1], "V")]
        out.append(("eq" if hi[3] else "ge", neg, hi))
    return out


def one_thread() -> None:
    """Keep Clarabel to one thread in this process (unless the user set it). Its Rust
    thread pool (rayon) starts at the first solve; a process forked after that (the
    solver pool, a pipeline worker) hung in its own first solve, waiting on threads
    that do not exist there. Must run before the first solve of the process."""
    import os
    os.environ.setdefault("RAYON_NUM_THREADS", "1")


def _numeric(s: _Setup, slices, m_fixed: float | None):
    """The SDP: the largest m' (m_fixed None), or at m' = m_fixed the most interior
    solution. Returns a dict of numpy values, or None when the solver fails."""
    import cvxpy as cp
    import numpy as np
    from scipy import sparse

    classes = s.classes()
    keys = sorted(set(classes) | set(s.product(s.M["C"], s.M["C"]))
                  | set(s.product(s.M["V"], s.M["Q"])))
    index = {k: r for r, k in enumerate(keys)}
    K = len(keys)

    def vecmap(pairs_of_entries, size):
        rows, cols, vals = [], [], []
        for key, entries in pairs_of_entries:
            for col, val in entries:
                rows.append(index[key])
                cols.append(col)
                vals.append(val)
        return sparse.csr_matrix((vals, (rows, cols)), shape=(K, size))

    nA, nB = len(s.blockA), len(s.blockB)
    GA = cp.Variable((nA, nA), PSD=True)
    GB = cp.Variable((nB, nB), PSD=True) if nB else None
    ent = {"A": [], "B": []}
    for key, entries in classes.items():
        for name, a, b in entries:
            ent[name].append((key, [(a * (nA if name == "A" else nB) + b, 1.0)]))
    lhs = vecmap(ent["A"], nA * nA) @ cp.vec(GA, order="C")
    if GB is not None:
        lhs = lhs + vecmap(ent["B"], nB * nB) @ cp.vec(GB, order="C")
    c2 = np.zeros(K)
    for k, v in s.product(s.M["C"], s.M["C"]).items():
        c2[index[k]] += float(v)
    dv = np.zeros(K)
    for k, v in s.product(s.M["V"], s.M["Q"]).items():
        dv[index[k]] += float(v)
    mults = []
    psd_vars = [GA] + ([GB] if GB is not None else [])
    for kind, L, _role in slices:
        if kind == "eq":
            pairs = s.blockA
            h = cp.Variable(len(pairs))
            cols = []
            for c, (i, j) in enumerate(pairs):
                unit = [[0.0] * s.n for _ in range(s.n)]
                unit[i][j] = 1.0
                for key, v in s.product(unit, L).items():
                    cols.append((key, [(c, float(v))]))
            lhs = lhs + vecmap(cols, len(pairs)) @ h
            mults.append(("eq", h))
        else:
            blocks = []
            for idx in (s.evens, s.odds):
                if not idx:
                    blocks.append(None)
                    continue
                P = cp.Variable((len(idx), len(idx)), PSD=True)
                cols = []
                for a, i in enumerate(idx):
                    for b, j in enumerate(idx):
                        unit = [[0.0] * s.n for _ in range(s.n)]
                        unit[i][j] = 1.0
                        for key, v in s.product(unit, L).items():
                            cols.append((key, [(a * len(idx) + b, float(v))]))
                lhs = lhs + vecmap(cols, len(idx) ** 2) @ cp.vec(P, order="C")
                blocks.append(P)
                psd_vars.append(P)
            mults.append(("ge", blocks))
    if m_fixed is None:
        m = cp.Variable()
        problem = cp.Problem(cp.Maximize(m), [lhs + m * dv == c2])
    else:
        eps = cp.Variable()
        cons = [lhs + m_fixed * dv == c2, eps <= 1]
        cons += [X - eps * np.eye(X.shape[0]) >> 0 for X in psd_vars]
        problem = cp.Problem(cp.Maximize(eps), cons)
    one_thread()
    try:
        problem.solve(solver="CLARABEL")
    except (cp.error.SolverError, ValueError, ArithmeticError):
        return None
    if problem.status not in ("optimal", "optimal_inaccurate"):
        return None
    out = {"GA": GA.value, "GB": None if GB is None else GB.value, "mults": []}
    for kind, v in mults:
        out["mults"].append((kind, v.value if kind == "eq" else
                             [None if P is None else P.value for P in v]))
    out["m"] = float(m.value) if m_fixed is None else m_fixed
    return out


_BEST: dict = {}


def best_bound(f: Forms, lo, hi, equal: bool) -> float | None:
    """The largest m the quartic form proves on the slice lo <= s2 <= hi (s2 == lo when
    ``equal``), a float from the SDP (untrusted; remembered for the process), or None."""
    key = (f.V, f.Q, f.C, f.W1, lo, hi, equal)
    if key not in _BEST:
        s = _Setup(f)
        sol = None
        if s.n <= MAX_COORDINATES:
            spec = (None, Fraction(lo), 1, True) if equal else None
            roles = {"lo": spec or (None if lo is None else (None, Fraction(lo), 1, False)),
                     "hi": spec or (None if hi is None else (None, Fraction(hi), -1, False))}
            sol = _numeric(s, _slice_forms(s, roles), None)
        if len(_BEST) > 512:
            _BEST.clear()
        _BEST[key] = None if sol is None else sol["m"]
    return _BEST[key]


GRID = 2 ** 36        # numeric values are rounded to multiples of 1/GRID


def _q(x: float, den: int = 10 ** 9) -> Fraction:
    """A short rational near x (for the bound m', one number)."""
    return Fraction(float(x)).limit_denominator(den)


def _g(x: float) -> Fraction:
    """x on the common grid (Gram entries and multipliers: one denominator for all)."""
    return Fraction(round(float(x) * GRID), GRID)


def _exact(atoms: list[Atom], s: _Setup, roles: dict, slices, m_prime: Fraction, sol) -> dict:
    """The checked case certificate from a numeric interior solution at m'."""
    f = s.f
    i_claim, m, k_claim = roles["claim"]
    n = s.n
    # the quartic to represent, exactly, in u coordinates: C^2 - m' D - multipliers
    target: dict = {}
    for k, v in s.product(s.M["C"], s.M["C"]).items():
        target[k] = target.get(k, 0) + v
    for k, v in s.product(s.M["V"], s.M["Q"]).items():
        target[k] = target.get(k, 0) - m_prime * v
    exact_mults = []
    for (kind, L, role), (_, value) in zip(slices, sol["mults"]):
        if kind == "eq":
            H = [[Fraction(0)] * n for _ in range(n)]
            for c, (i, j) in enumerate(s.blockA):
                H[i][j] = _g(value[c])
            exact_mults.append((kind, role, H, None))
            for k, v in s.product(H, L).items():
                target[k] = target.get(k, 0) - v
        else:
            Ps = []
            full = [[Fraction(0)] * n for _ in range(n)]
            for idx, P in zip((s.evens, s.odds), value):
                if P is None:
                    Ps.append(None)
                    continue
                E = [[_g((P[a][b] + P[b][a]) / 2) for b in range(len(idx))]
                     for a in range(len(idx))]
                psd_ldl(E)
                Ps.append(E)
                for a, i in enumerate(idx):
                    for b, j in enumerate(idx):
                        full[i][j] = E[a][b]
            exact_mults.append((kind, role, full, Ps))
            for k, v in s.product(full, L).items():
                target[k] = target.get(k, 0) - v
    # the Gram matrices, projected onto the identity
    G = {"A": [[_g((x + y) / 2) for x, y in zip(row, col)]
               for row, col in zip(sol["GA"], sol["GA"].T)]}
    if sol["GB"] is not None:
        G["B"] = [[_g((x + y) / 2) for x, y in zip(row, col)]
                  for row, col in zip(sol["GB"], sol["GB"].T)]
    classes = s.classes()
    for key in set(target) - set(classes):
        if target[key]:
            raise CertificateError(f"the quartic has a term {key} no square can make")
    for key, entries in classes.items():
        have = sum((G[b][i][j] for b, i, j in entries), Fraction(0))
        fix = (target.get(key, Fraction(0)) - have) / len(entries)
        if fix:
            for b, i, j in entries:
                G[b][i][j] += fix
    for b in G:
        psd_ldl(G[b])
    return _assemble(atoms, s, roles, m_prime, G, exact_mults)


def _assemble(atoms, s: _Setup, roles, m_prime: Fraction, G, mults) -> dict:
    """The certificate in the coefficients a and t (u_i = w_i z_i), checked."""
    f = s.f
    i_claim, m, k_claim = roles["claim"]
    iD, kD = roles["D"]
    it, kt = roles["t"]

    def mono(i):                       # (name, power) of z_i in a, t
        return s.names[i]

    def basis_pair(i, j, with_t):
        powers: dict = {}
        for x in (i, j):
            powers[mono(x)] = powers.get(mono(x), 0) + 1
        if with_t:
            powers[f.t] = powers.get(f.t, 0) + 1
        return [[name, e] for name, e in sorted(powers.items())]

    def scaled(mat, block):            # entries times w-products: a-coordinate Gram
        pairs = s.blockA if block == "A" else s.blockB
        div = kt if block == "B" else 1
        return [[_txt(mat[a][b] * s.w[p[0]] * s.w[p[1]] * s.w[q[0]] * s.w[q[1]] / div)
                 for b, q in enumerate(pairs)] for a, p in enumerate(pairs)]

    squares = [{"atoms": [], "gram": {
        "basis": [basis_pair(i, j, s.odd(i)) for i, j in s.blockA],
        "matrix": scaled(G["A"], "A")}}]
    if "B" in G and s.blockB:
        squares.append({"atoms": [it], "gram": {
            "basis": [basis_pair(i, j, False) for i, j in s.blockB],
            "matrix": scaled(G["B"], "B")}})
    products = [{"atoms": [i_claim], "multiplier": _txt(1 / k_claim)}]
    if m_prime > m:
        products.append({"atoms": [iD], "multiplier": _txt((m_prime - m) / kD)})
    equalities = []
    for kind, role, H, Ps in mults:
        i_atom, c, x, _ = role         # the atom is x * (W1 - c V)
        sign = 1 if role is roles["lo"] else -1     # lo: L = atom/x; hi: L = -atom/x
        if kind == "eq":
            terms: dict = {}
            for i in range(s.n):
                for j in range(i, s.n):
                    if H[i][j]:
                        powers: dict = {}
                        for y in (i, j):
                            powers[mono(y)] = powers.get(mono(y), 0) + 1
                        if s.odd(i):
                            powers[f.t] = 1
                        key = tuple(sorted(powers.items()))
                        terms[key] = terms.get(key, 0) + \
                            H[i][j] * s.w[i] * s.w[j] * sign / x
            equalities.append({"atom": i_atom, "multiplier": Poly(terms).to_json()})
        else:
            for idx, P in zip((s.evens, s.odds), Ps):
                if P is None:
                    continue
                odd = bool(idx) and s.odd(idx[0])
                mat = [[_txt(P[a][b] * s.w[i] * s.w[j] * sign / x / (kt if odd else 1))
                        for b, j in enumerate(idx)] for a, i in enumerate(idx)]
                squares.append({"atoms": sorted([i_atom] + ([it] if odd else [])),
                                "gram": {"basis": [[[mono(i), 1]] for i in idx],
                                         "matrix": mat}})
    cert = {"constant": "0", "equalities": equalities, "products": products,
            "squares": squares}
    check_case(atoms, cert)
    return cert


def case_certificate(atoms: list[Atom], f: Forms) -> tuple[dict | None, str]:
    """(certificate, '') or (None, why not) for one case."""
    trivial = opposite_pair(atoms)
    if trivial is not None:
        return trivial, ""
    roles = read_case(atoms, f)
    if isinstance(roles, str):
        return None, roles
    lo, hi, equal = slice_of(roles)
    if lo is not None and hi is not None and not equal and lo > hi:
        return None, "the slice bounds are inconsistent"
    s = _Setup(f)
    if s.n > MAX_COORDINATES:
        return None, (f"{s.n} coefficients exceed the quartic certificate's cap of "
                      f"{MAX_COORDINATES}")
    slices = _slice_forms(s, roles)
    best = best_bound(f, lo, hi, equal)
    if best is None:
        return None, "the quartic SDP did not solve"
    m = roles["claim"][1]
    if not best > float(m) * (1 + 1e-9):
        return None, (f"the best quartic certificate on this slice proves r2 >= "
                      f"{best:.6g} only, below {float(m):.6g}")
    last = "no rational choice checked"
    top = _q(best, 10 ** 12)
    for share in (Fraction(1, 2), Fraction(1, 4), Fraction(1, 16)):
        m_prime = m + (top - m) * share            # strictly between the claim and the best
        short = _q(float(m_prime), 10 ** 6)
        if m < short < top:
            m_prime = short
        sol = _numeric(s, slices, float(m_prime))
        if sol is None:
            continue
        try:
            return _exact(atoms, s, roles, slices, m_prime, sol), ""
        except CertificateError as exc:
            last = str(exc)
    return None, f"the rounded quartic certificate does not check ({last})"
