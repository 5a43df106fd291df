"""Certificates for lower bounds on a squared correlation of quadratic forms on a slice.

Untrusted search (numpy, scipy); what it returns is an ordinary kind-"sos" certificate
that ``prover.checker`` replays exactly. The setting (the gaussian model's concrete
family supplies it): quadratic forms V > 0, Q > 0, C and W1 in coefficients ``a`` and a
scale ``t > 0`` (each form = even block + t * odd block), the statistic
r2 = C^2/(V*Q), and a slice lo <= W1/V <= hi (s2 = W1/V; lo == hi for an equality).
A claim r2 >= m on the slice is proved by rationals alpha, beta > 0 with 4*alpha*beta >=
m and multipliers l1, l2 (>= 0 for inequalities; any sign for an equality) such that

    S = C - alpha*V - beta*Q - l1*(W1 - lo*V) - l2*(hi*V - W1)

has positive semidefinite even and odd blocks (an S-lemma certificate: then C >=
alpha*V + beta*Q on the slice). With g = C - alpha*V - beta*Q the identity

    (m*V*Q - C^2) + g^2 + 2*(alpha*V + beta*Q)*(S + l1*L1 + l2*L2)
        + (alpha*V - beta*Q)^2 + (4*alpha*beta - m)*V*Q  ==  0

(L1 = W1 - lo*V, L2 = hi*V - W1) holds as polynomials; at a point of the negated claim
(m*V*Q - C^2 > 0) every term is >= 0 and the first > 0, a contradiction. Each term is a
term of the checker's format: products of case atoms with nonnegative multipliers, Gram
squares times at most two atoms (V or Q, and t for the odd block), and equality atoms
with polynomial multipliers where the slice is an equality.

The search: for fixed tau > 0 (alpha = mu*tau, beta = mu/tau), the largest mu is
max over (l1, l2) of the least generalized eigenvalue of C - l1*L1 - l2*L2 against
tau*V + Q/tau over both blocks — concave in (l1, l2); tau is searched on a log grid and
refined. The bound 4*mu^2 is then the best of this certificate form (tight on the
slices tried at degree >= 5; somewhat below the realized minimum at degree 3)."""

from __future__ import annotations

import math
from fractions import Fraction

from .checker import CertificateError, check_case
from .poly import Atom, Poly
from .record import checker_description


class Forms:
    """The four quadratic forms, and the coefficient names of the even and odd blocks."""

    def __init__(self, V: Poly, Q: Poly, C: Poly, W1: Poly, even: list[str],
                 odd: list[str], t: str):
        self.V, self.Q, self.C, self.W1 = V, Q, C, W1
        self.even, self.odd, self.t = list(even), list(odd), t
        self.D = V * Q


# --- reading the case ----------------------------------------------------------------

def _multiple(p: Poly, base: Poly) -> Fraction | None:
    """k with p == k * base (k != 0), else None."""
    if base.is_zero() or p.is_zero():
        return None
    mono, coeff = next(iter(base.terms.items()))
    k = p.terms.get(mono, Fraction(0)) / coeff
    return k if k and p == base.scale(k) else None


def _combination(p: Poly, u: Poly, w: Poly) -> tuple[Fraction, Fraction] | None:
    """(x, y) with p == x*u + y*w, if there are such rationals."""
    monos = list(dict.fromkeys(list(u.terms)[:40] + list(w.terms)[:40]))
    for i, m1 in enumerate(monos):
        u1, w1 = u.terms.get(m1, Fraction(0)), w.terms.get(m1, Fraction(0))
        for m2 in monos[i + 1:]:
            u2, w2 = u.terms.get(m2, Fraction(0)), w.terms.get(m2, Fraction(0))
            det = u1 * w2 - u2 * w1
            if det:
                p1, p2 = p.terms.get(m1, Fraction(0)), p.terms.get(m2, Fraction(0))
                x, y = (p1 * w2 - p2 * w1) / det, (u1 * p2 - u2 * p1) / det
                return (x, y) if p == u.scale(x) + w.scale(y) else None
    return None


def read_case(atoms: list[Atom], f: Forms) -> dict | str:
    """The roles of the case's atoms, or why the case is not of the supported shape."""
    roles: dict = {"lo": None, "hi": None, "claim": None}
    for name, base in (("V", f.V), ("Q", f.Q), ("D", f.D), ("t", Poly.var(f.t))):
        hit = [i for i, a in enumerate(atoms) if a.rel == ">"
               and (k := _multiple(a.poly, base)) is not None and k > 0]
        if not hit:
            return f"no hypothesis {name} > 0 in the case"
        roles[name] = (hit[0], _multiple(atoms[hit[0]].poly, base))
    for i, a in enumerate(atoms):
        xy = _combination(a.poly, f.W1, f.V)
        if xy is not None and xy[0] != 0:
            x, y = xy
            c = -y / x                                    # the atom says W1 - c V rel 0
            if a.rel == "==":
                for side in ("lo", "hi"):
                    old = roles[side]
                    if old is None or (side == "lo" and c > old[1]) or \
                            (side == "hi" and c < old[1]):
                        roles[side] = (i, c, x, True)
            elif x > 0 and (roles["lo"] is None or c > roles["lo"][1]):
                roles["lo"] = (i, c, x, False)            # x (W1 - c V) >= 0
            elif x < 0 and (roles["hi"] is None or c < roles["hi"][1]):
                roles["hi"] = (i, c, x, False)            # -|x| (W1 - c V) >= 0
            continue
        if a.rel in (">", ">="):
            xy = _combination(a.poly, f.C * f.C, f.D)
            if xy is not None and xy[0] < 0 and xy[1] > 0:
                m = xy[1] / -xy[0]                        # |x| (m D - C^2) rel 0
                if roles["claim"] is None or m < roles["claim"][1]:
                    roles["claim"] = (i, m, -xy[0])
    if roles["claim"] is None:
        return "the negated claim is not of the form r2 < m (or r2 <= m) with m > 0"
    return roles


def opposite_pair(atoms: list[Atom]) -> dict | None:
    """The certificate of a case holding p > 0 and -p >= 0 (or the like), if it has one."""
    ineq = [i for i, a in enumerate(atoms) if a.rel in (">", ">=")]
    for i in ineq:
        for j in ineq:
            if i < j and (atoms[i].poly + atoms[j].poly).is_zero() and \
                    ">" in (atoms[i].rel, atoms[j].rel):
                return {"constant": "0", "equalities": [],
                        "products": [{"atoms": [i], "multiplier": "1"},
                                     {"atoms": [j], "multiplier": "1"}], "squares": []}
    return None


# --- exact matrices ------------------------------------------------------------------

def block_matrices(p: Poly, f: Forms) -> tuple[list[list[Fraction]], list[list[Fraction]]]:
    """(E, O) with p == a_e^T E a_e + t * a_o^T O a_o, or ValueError."""
    out = [[[Fraction(0)] * len(names) for _ in names] for names in (f.even, f.odd)]
    for mono, c in p.terms.items():
        powers = dict(mono)
        tp = powers.pop(f.t, 0)
        vars_ = [n for n, e in powers.items() for _ in range(e)]
        if len(vars_) != 2 or tp not in (0, 1):
            raise ValueError(f"term {mono} is not a quadratic form of a block")
        names = f.even if tp == 0 else f.odd
        if not all(v in names for v in vars_):
            raise ValueError(f"term {mono} mixes the blocks")
        i, j = names.index(vars_[0]), names.index(vars_[1])
        mat = out[tp]
        if i == j:
            mat[i][i] += c
        else:
            mat[i][j] += c / 2
            mat[j][i] += c / 2
    return out[0], out[1]


def _floats(m):
    import numpy as np
    return np.array([[float(x) for x in row] for row in m], dtype=float)


# --- numeric search ------------------------------------------------------------------

def _least(A, B) -> float:
    """The least eigenvalue of the symmetric-definite pencil (A, B) (their lower
    triangles, as LAPACK reads them); LinAlgError when B is not positive definite. Sizes
    1 and 2 in closed form: the degree-3 search asks 190 000 of them, and scipy's eigh
    spends 30 us on each checking its arguments (a float search: the certificate it
    leads to is checked exactly)."""
    n = A.shape[0]
    if n == 0:
        return math.inf
    if n <= 2:
        from numpy.linalg import LinAlgError
        b11 = float(B[0, 0])
        if n == 1:
            if not b11 > 0:
                raise LinAlgError("the pencil's B is not positive definite")
            return float(A[0, 0]) / b11
        a11, a21, a22 = float(A[0, 0]), float(A[1, 0]), float(A[1, 1])
        b21, b22 = float(B[1, 0]), float(B[1, 1])
        det_b = b11 * b22 - b21 * b21
        if not (b11 > 0 and det_b > 0):
            raise LinAlgError("the pencil's B is not positive definite")
        # det(A - x B) = det_b x^2 - p x + det_a: the smaller root, without cancellation
        p = a11 * b22 + a22 * b11 - 2 * a21 * b21
        det_a = a11 * a22 - a21 * a21
        root = math.sqrt(max(0.0, p * p - 4 * det_b * det_a))
        return 2 * det_a / (p + root) if p > 0 else (p - root) / (2 * det_b)
    from scipy.linalg import eigh
    return float(eigh(A, B, eigvals_only=True)[0])


class _Numeric:
    def __init__(self, f: Forms, lo, hi, equal: bool):
        self.blocks = {}
        for key, p in (("C", f.C), ("V", f.V), ("Q", f.Q), ("W1", f.W1)):
            self.blocks[key] = [_floats(m) for m in block_matrices(p, f)]
        self.lo, self.hi, self.equal = lo, hi, equal

    def _A(self, k, l1, l2):
        b = self.blocks
        A = b["C"][k].copy()
        if self.lo is not None:
            A -= l1 * (b["W1"][k] - float(self.lo) * b["V"][k])
        if self.hi is not None and not self.equal:
            A -= l2 * (float(self.hi) * b["V"][k] - b["W1"][k])
        return A

    def value(self, tau, l1, l2) -> float:
        b = self.blocks
        return min(_least(self._A(k, l1, l2), tau * b["V"][k] + b["Q"][k] / tau)
                   for k in (0, 1))

    def best_multipliers(self, tau) -> tuple[float, float, float]:
        """(mu, l1, l2) maximizing the least eigenvalue at this tau."""
        from scipy.optimize import minimize, minimize_scalar
        if self.lo is None and self.hi is None:
            return self.value(tau, 0.0, 0.0), 0.0, 0.0
        if self.equal:
            best = None
            for width in (4.0, 64.0, 1024.0):
                r = minimize_scalar(lambda l: -self.value(tau, l, 0.0), bounds=(-width, width),
                                    method="bounded", options={"xatol": 1e-11})
                best = r
                if abs(r.x) < 0.95 * width:
                    break
            return -best.fun, float(best.x), 0.0
        if self.lo is None or self.hi is None:
            r = minimize_scalar(lambda u: -self.value(tau, u * u, u * u), bounds=(0, 40),
                                method="bounded", options={"xatol": 1e-10})
            u = float(r.x) ** 2
            return -r.fun, u, u
        r = minimize(lambda u: -self.value(tau, u[0] ** 2, u[1] ** 2), [0.5, 0.5],
                     method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-13,
                                                    "maxiter": 2000})
        return -r.fun, float(r.x[0] ** 2), float(r.x[1] ** 2)

    def best(self) -> tuple[float, float, float, float]:
        """(mu, tau, l1, l2): the best certificate of the form."""
        from scipy.optimize import minimize_scalar
        grid = [math.exp(x / 2) for x in range(-12, 13)]
        vals = [self.best_multipliers(tau)[0] for tau in grid]
        k = max(range(len(grid)), key=lambda i: vals[i])
        lo, hi = math.log(grid[max(k - 1, 0)]), math.log(grid[min(k + 1, len(grid) - 1)])
        r = minimize_scalar(lambda x: -self.best_multipliers(math.exp(x))[0],
                            bounds=(lo, hi), method="bounded", options={"xatol": 1e-9})
        tau = math.exp(float(r.x))
        mu, l1, l2 = self.best_multipliers(tau)
        if vals[k] > mu:
            tau = grid[k]
            mu, l1, l2 = self.best_multipliers(tau)
        return mu, tau, l1, l2


# --- the certificate -----------------------------------------------------------------

def _square(poly: Poly) -> dict:
    """poly^2 as a rank-one Gram square."""
    monos = [m for m, _ in poly.sorted_terms()]
    coeffs = [poly.terms[m] for m in monos]
    return {"atoms": [], "gram": {"basis": [[[n, e] for n, e in m] for m in monos],
                                  "matrix": [[_txt(a * b) for b in coeffs] for a in coeffs]}}


def _txt(x: Fraction) -> str:
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _block_square(mat, names, atoms_idx, scale: Fraction) -> dict | None:
    if not names:
        return None
    return {"atoms": list(atoms_idx), "gram": {"basis": [[[n, 1]] for n in names],
                                               "matrix": [[_txt(scale * x) for x in row]
                                                          for row in mat]}}


def exact_case(atoms: list[Atom], f: Forms, roles: dict, mu: Fraction, tau: Fraction,
               l1: Fraction, l2: Fraction, wedge: tuple | None = None) -> dict:
    """The exact case certificate for these rationals, checked; CertificateError if the
    blocks of S are not PSD (or the identity fails). ``wedge`` = (nu, iL, iR): the case's
    atoms iL, iR (both >= 0 on it) add nu * t * L * R to the S-lemma (a split leaf)."""
    from .checker import psd_ldl
    alpha, beta = mu * tau, mu / tau
    i_claim, m, k_claim = roles["claim"]
    lo, hi = roles["lo"], roles["hi"]
    equal = lo is not None and hi is not None and lo[0] == hi[0] and lo[3]
    L1 = f.W1 - f.V.scale(lo[1]) if lo is not None else Poly()
    L2 = f.V.scale(hi[1]) - f.W1 if hi is not None else Poly()
    if equal:
        l2 = Fraction(0)
    g = f.C - f.V.scale(alpha) - f.Q.scale(beta)
    S = g - L1.scale(l1) - L2.scale(l2)
    if wedge is not None and wedge[0]:
        S = S - (Poly.var(f.t) * atoms[wedge[1]].poly * atoms[wedge[2]].poly).scale(wedge[0])
    E, O = block_matrices(S, f)
    psd_ldl(E)
    psd_ldl(O)
    iV, iQ, iD, it = (roles[k][0] for k in ("V", "Q", "D", "t"))
    kV, kQ, kD = (roles[k][1] for k in ("V", "Q", "D"))
    products = [{"atoms": [i_claim], "multiplier": _txt(1 / k_claim)}]
    if 4 * alpha * beta > m:
        products.append({"atoms": [iD], "multiplier": _txt((4 * alpha * beta - m) / kD)})
    squares = [_square(g), _square(f.V.scale(alpha) - f.Q.scale(beta))]
    for idx, k, w in ((iV, kV, alpha), (iQ, kQ, beta)):
        for mat, names, extra in ((E, f.even, []), (O, f.odd, [it])):
            sq = _block_square(mat, names, [idx] + extra,
                               2 * w / k / (roles["t"][1] if extra else 1))
            if sq is not None:
                squares.append(sq)
    equalities = []
    weight = f.V.scale(2 * alpha) + f.Q.scale(2 * beta)     # 2 (alpha V + beta Q)
    for side, lam, L in (("lo", l1, L1), ("hi", l2, L2)):
        r = roles[side]
        if r is None or lam == 0:
            continue
        i, _, x, is_eq = r
        # the atom is x*(W1 - c V); L1 = atom/x, L2 = -atom/x
        sign = 1 if side == "lo" else -1
        if is_eq:
            q = weight.scale(lam * sign / x)
            equalities.append({"atom": i, "multiplier": q.to_json()})
        else:
            for idx, k, w in ((iV, kV, 2 * alpha), (iQ, kQ, 2 * beta)):
                products.append({"atoms": sorted([i, idx]),
                                 "multiplier": _txt(w * lam * sign / x / k)})
    if wedge is not None and wedge[0]:
        nu, iL, iR = wedge
        kt = roles["t"][1]
        for idx, k, w in ((iV, kV, 2 * alpha), (iQ, kQ, 2 * beta)):
            products.append({"atoms": sorted([idx, it, iL, iR]),
                             "multiplier": _txt(w * nu / (k * kt))})
    cert = {"constant": "0", "equalities": equalities, "products": products,
            "squares": squares}
    check_case(atoms, cert)
    return cert


_BEST: dict = {}


def best_form(f: Forms, lo, hi, equal: bool, num: "_Numeric | None" = None):
    """``_Numeric(f, lo, hi, equal).best()``, remembered for the process (a frontier
    proposes a band's claim from it, then the certificate search needs it again; the
    numbers are an untrusted search result either way)."""
    key = (f.V, f.Q, f.C, f.W1, lo, hi, equal)
    if key not in _BEST:
        if len(_BEST) > 512:
            _BEST.clear()
        _BEST[key] = (num or _Numeric(f, lo, hi, equal)).best()
    return _BEST[key]


def _rationals(x: float, digits=(10 ** 3, 10 ** 6, 10 ** 9, 10 ** 12)):
    return [Fraction(x).limit_denominator(d) for d in digits]


def slice_of(roles: dict) -> tuple:
    """(lo, hi, equal) of a case's slice, as ``_Numeric`` takes them."""
    lo, hi = roles["lo"], roles["hi"]
    equal = lo is not None and hi is not None and lo[0] == hi[0] and lo[3]
    return None if lo is None else lo[1], None if hi is None else hi[1], equal


def rounded(m: Fraction, need: float, mu_best: float, tau: float):
    """Rational (mu, tau) to try for an exact certificate proving r2 >= m: mu a quarter of
    the way from the needed sqrt(m)/2 to the float optimum mu_best, with 4 mu^2 >= m, and
    tau near the optimum's, simplest first."""
    for mu in _rationals(need + (mu_best - need) / 4):
        if 4 * mu * mu < m or float(mu) >= mu_best:
            continue
        for tau_q in _rationals(tau, (10 ** 3, 10 ** 6)):
            if tau_q > 0:
                yield mu, tau_q


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
    _, m, _ = roles["claim"]
    num = _Numeric(f, lo, hi, equal)
    mu_best, tau, l1, l2 = best_form(f, lo, hi, equal, num)
    need = math.sqrt(float(m)) / 2
    if not mu_best > need * (1 + 1e-12):
        best = 4 * max(mu_best, 0.0) ** 2
        return None, (f"the best S-lemma certificate on this slice proves r2 >= "
                      f"{best:.6g} only, below {float(m):.6g}")
    last = "no rational choice checked"
    for mu, tau_q in rounded(m, need, mu_best, tau):
        _, l1f, l2f = num.best_multipliers(float(tau_q))
        for l1q, l2q in zip(_rationals(max(l1f, 0.0) if not equal else l1f),
                            _rationals(max(l2f, 0.0))):
            try:
                return exact_case(atoms, f, roles, mu, tau_q, l1q, l2q), ""
            except CertificateError as exc:
                last = str(exc)
    return None, f"the rounded certificate does not check ({last})"


def search(problem, f: Forms, case_search=None) -> tuple[dict | None, str]:
    """A kind-'sos' proof of the whole problem, or (None, why not); ``case_search`` (by
    default ``case_certificate``) certifies one case."""
    case_search = case_search or case_certificate
    from .checker import cases_of
    try:
        cases = cases_of(problem)
    except CertificateError as exc:
        return None, str(exc)
    certs = []
    for n, atoms in enumerate(cases, 1):
        cert, why = case_search(atoms, f)
        if cert is None:
            return None, f"case {n} of {len(cases)}: {why}"
        certs.append(cert)
    return {"kind": "sos", "cases": certs, "checker": checker_description("sos"),
            "family": "concrete"}, ""
