"""The trusted checker of proof certificates: exact arithmetic only, no solver import.

A certificate proves that the negated claim, together with the model's constraints,
the definitions of auxiliary variables, the domain conditions and the assumptions, has
no real solution. The checker rebuilds that system itself from the conjecture (it never
reads constraints from the certificate), expands it into cases (disjunctive normal form,
in a deterministic order) and checks, for each case, a Positivstellensatz identity

    sum_i  lambda_i * prod(g in P_i) g   +   sum_k  q_k * h_k   ==   -c

as an identity of polynomials, where each P_i is a product of some of the case's
inequality atoms (g >= 0 or g > 0), lambda_i >= 0 and c >= 0 are rationals, the h_k are
the case's equality atoms (h == 0) with polynomial multipliers q_k, and either c > 0 or
some lambda_i > 0 multiplies a product of strict atoms only (at most four atoms per
product). Kind "sos" certificates may
add (non-strict) terms prod(P) * m^T G m, P at most two inequality atoms, m a vector of
monomials and G a rational Gram matrix checked positive semidefinite by exact LDL^T. At any point satisfying the
case the left side is >= 0, and > 0 when a strict product has a positive multiplier,
while the right side is <= 0 (< 0 if c > 0): a contradiction, so the case is empty.
Every case empty means the claim holds wherever the hypotheses do.

A case certificate may instead SPLIT the case on a polynomial p: {"split": {"poly": p,
"nonneg": A, "nonpos": B}} proves the case empty when A proves the case plus the atom
p >= 0 empty and B the case plus -p >= 0 (the new atom is the last, index len(atoms)):
every real point has p >= 0 or -p >= 0. Splits nest up to MAX_SPLIT_DEPTH deep.
"""

from __future__ import annotations

from fractions import Fraction

from .formula import conj, dnf
from .poly import Atom, Poly, str_to_fraction

MAX_CASES = 256
MAX_PRODUCT = 4
MAX_SPLIT_DEPTH = 8
MAX_LEAVES = 512


class CertificateError(ValueError):
    """The certificate does not prove this claim."""


def parse_fraction(text) -> Fraction:
    if not isinstance(text, str):
        raise CertificateError(f"exact numbers are strings 'p/q', got {text!r}")
    try:
        return str_to_fraction(text)
    except ValueError as exc:
        raise CertificateError(str(exc)) from None


def cases_of(problem) -> list[list[Atom]]:
    """The hypotheses plus the negated claim, as a deterministic list of conjunctions."""
    system = conj(problem.hypotheses() + [problem.negated_claim])
    cases = dnf(system, MAX_CASES)
    if cases is None:
        raise CertificateError(f"more than {MAX_CASES} cases")
    return cases


def split_of(cert: dict) -> tuple[Poly, dict, dict] | None:
    """(p, the certificate with p >= 0, the one with -p >= 0) of a split case, or None."""
    if "split" not in cert:
        return None
    node = cert["split"]
    if set(cert) != {"split"} or not isinstance(node, dict) or \
            set(node) != {"poly", "nonneg", "nonpos"}:
        raise CertificateError("a split case is {\"split\": {\"poly\", \"nonneg\", "
                               "\"nonpos\"}} and nothing else")
    try:
        p = Poly.from_json(node["poly"], parse_fraction)
    except (TypeError, ValueError) as exc:
        raise CertificateError(f"bad split polynomial: {exc}") from None
    if p.is_constant():
        raise CertificateError("a split on a constant polynomial")
    return p, node["nonneg"], node["nonpos"]


def case_leaves(cert, atoms: list[Atom] | None = None, depth: int = 0) -> list:
    """The identities of a case certificate, splits unfolded: [(atoms, leaf)] (atoms None
    when not given); a leaf is the certificate of one branch."""
    if depth > MAX_SPLIT_DEPTH:
        raise CertificateError(f"splits nested deeper than {MAX_SPLIT_DEPTH}")
    sp = split_of(cert) if isinstance(cert, dict) else None
    if sp is None:
        return [(atoms, cert)]
    p, pos, neg = sp
    out = []
    for branch, poly in ((pos, p), (neg, -p)):
        more = None if atoms is None else atoms + [Atom(poly, ">=")]
        out += case_leaves(branch, more, depth + 1)
        if len(out) > MAX_LEAVES:
            raise CertificateError(f"more than {MAX_LEAVES} leaves in one case")
    return out


def check_case(atoms: list[Atom], cert: dict) -> None:
    """Raise CertificateError unless ``cert`` proves the conjunction ``atoms`` empty."""
    if not isinstance(cert, dict):
        raise CertificateError("a case certificate must be an object")
    if "split" in cert:
        leaves = case_leaves(cert, list(atoms))
        for n, (more, leaf) in enumerate(leaves, 1):
            try:
                check_case(more, leaf)
            except CertificateError as exc:
                raise CertificateError(f"split leaf {n} of {len(leaves)}: {exc}") from None
        return
    ineq = [i for i, a in enumerate(atoms) if a.rel in (">=", ">")]
    eq = [i for i, a in enumerate(atoms) if a.rel == "=="]
    total = Poly()
    strict_used = False
    for item in cert.get("products", []):
        idx = item.get("atoms")
        if not isinstance(idx, list) or not 1 <= len(idx) <= MAX_PRODUCT or \
                not all(isinstance(i, int) and i in ineq for i in idx):
            raise CertificateError(f"product {idx!r} must list 1 to {MAX_PRODUCT} indices of "
                                   "inequality atoms of this case")
        lam = parse_fraction(item.get("multiplier"))
        if lam < 0:
            raise CertificateError("product multipliers must be nonnegative")
        prod = Poly.const(1)
        for i in idx:
            prod = prod * atoms[i].poly
        total = total + prod.scale(lam)
        if lam > 0 and all(atoms[i].rel == ">" for i in idx):
            strict_used = True
    for item in cert.get("equalities", []):
        k = item.get("atom")
        if not isinstance(k, int) or k not in eq:
            raise CertificateError(f"equality index {k!r} is not an equality atom of this case")
        try:
            q = Poly.from_json(item.get("multiplier", []), parse_fraction)
        except (TypeError, ValueError) as exc:
            raise CertificateError(f"bad equality multiplier: {exc}") from None
        total = total + q * atoms[k].poly
    for item in cert.get("squares", []):
        total = total + square_term(atoms, ineq, item)
    c = parse_fraction(cert.get("constant", "0"))
    if c < 0:
        raise CertificateError("the constant must be nonnegative")
    if not (total + Poly.const(c)).is_zero():
        raise CertificateError("the identity does not hold: the combination is "
                               f"{_shown(total)} instead of {_shown(Poly.const(-c))}")
    if c == 0 and not strict_used:
        raise CertificateError("no strict inequality and no positive constant: "
                               "the identity proves nothing")


def psd_ldl(matrix: list[list[Fraction]]) -> list[tuple[Fraction, list[Fraction]]]:
    """Exact LDL^T of a symmetric rational matrix, or CertificateError if it is not PSD.

    Returns [(d_k, row_k)] with d_k > 0 and row_k[j] = L[j][k] (row_k[k] = 1, zeros before
    k), so that m^T G m == sum_k d_k * (row_k . m)^2. A negative pivot, or a zero pivot
    whose remaining column is not zero, means G is not positive semidefinite."""
    n = len(matrix)
    a = [list(row) for row in matrix]
    out = []
    for k in range(n):
        d = a[k][k]
        if d < 0:
            raise CertificateError(f"the Gram matrix is not PSD (pivot {k + 1} is {d})")
        if d == 0:
            if any(a[k][j] != 0 for j in range(k + 1, n)):
                raise CertificateError(f"the Gram matrix is not PSD (pivot {k + 1} is zero "
                                       "but its column is not)")
            continue
        row = [Fraction(0)] * k + [a[k][j] / d for j in range(k, n)]
        for i in range(k + 1, n):
            if a[k][i]:
                f = a[k][i] / d
                for j in range(i, n):
                    a[i][j] -= f * a[k][j]
                    a[j][i] = a[i][j]
        out.append((d, row))
    return out


def parse_gram(gram) -> tuple[list[Poly], list[list[Fraction]]]:
    """The basis monomials (as Polys) and the symmetric rational matrix of a Gram object."""
    if not isinstance(gram, dict) or not isinstance(gram.get("basis"), list) or \
            not isinstance(gram.get("matrix"), list):
        raise CertificateError("a square needs a gram object with basis and matrix")
    try:
        basis = [Poly.from_json([["1", mono]], parse_fraction) for mono in gram["basis"]]
    except (TypeError, ValueError) as exc:
        raise CertificateError(f"bad Gram basis monomial: {exc}") from None
    n = len(basis)
    rows = gram["matrix"]
    if len(rows) != n or not all(isinstance(r, list) and len(r) == n for r in rows):
        raise CertificateError(f"the Gram matrix must be {n} x {n}")
    g = [[parse_fraction(x) for x in r] for r in rows]
    if any(g[i][j] != g[j][i] for i in range(n) for j in range(i)):
        raise CertificateError("the Gram matrix is not symmetric")
    return basis, g


def _shown(p: Poly, limit: int = 300) -> str:      # for a message; never fails to print
    try:
        text = str(p)
    except ValueError:
        return f"a polynomial of {len(p.terms)} term(s) whose coefficients are too long to print"
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def square_term(atoms: list[Atom], ineq: list[int], item) -> Poly:
    """prod(atoms) * m^T G m for a checked PSD G: nonnegative wherever the case holds."""
    if not isinstance(item, dict):
        raise CertificateError("a square must be an object")
    idx = item.get("atoms", [])
    if not isinstance(idx, list) or len(idx) > 2 or \
            not all(isinstance(i, int) and i in ineq for i in idx):
        raise CertificateError(f"square atoms {idx!r} must list 0 to 2 indices of "
                               "inequality atoms of this case")
    basis, g = parse_gram(item.get("gram"))
    psd_ldl(g)
    form = Poly.sum(basis[i] * basis[j] * Poly.const(g[i][j])
                    for i in range(len(basis)) for j in range(len(basis)) if g[i][j])
    for i in idx:
        form = form * atoms[i].poly
    return form


def evidence_kind(proof: dict) -> str:
    """The kind a proof's data make it, whatever its label says: 'sos' when a case uses a
    square term, else 'farkas' when every product is a single atom (a linear
    combination), else 'polya' (products of several atoms)."""
    cases = proof.get("cases") if isinstance(proof, dict) else None
    if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
        raise CertificateError("a certificate needs a list of case objects")
    cases = [leaf for c in cases for _, leaf in case_leaves(c)]
    if not all(isinstance(c, dict) for c in cases):
        raise CertificateError("a split branch must be a case object")
    if any(c.get("squares") for c in cases):
        return "sos"
    products = [p for c in cases for p in c.get("products", []) if isinstance(p, dict)]
    if all(isinstance(p.get("atoms"), list) and len(p["atoms"]) <= 1 for p in products):
        return "farkas"
    return "polya"


def check_proof(problem, proof: dict) -> str:
    """Check a stored proof against the rebuilt problem; return a one-line summary."""
    if not isinstance(proof, dict) or proof.get("kind") not in ("farkas", "polya", "sos"):
        raise CertificateError("not a farkas/polya/sos certificate")
    cases = cases_of(problem)
    certs = proof.get("cases")
    if not isinstance(certs, list) or len(certs) != len(cases):
        raise CertificateError(f"the problem has {len(cases)} cases; the certificate covers "
                               f"{len(certs) if isinstance(certs, list) else 0}")
    for n, (atoms, cert) in enumerate(zip(cases, certs)):
        try:
            check_case(atoms, cert)
        except CertificateError as exc:
            raise CertificateError(f"case {n + 1}: {exc}") from None
    kind = evidence_kind(proof)
    if proof["kind"] != kind:
        raise CertificateError(f"field 'kind' is {proof['kind']!r} but the certificate's "
                               f"data make it a {kind} certificate")
    return f"{kind} certificate: {len(cases)} case(s), identities hold exactly"
