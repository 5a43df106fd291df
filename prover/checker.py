"""The trusted checker of proof certificates: exact arithmetic only, no solver import.

A certificate proves that the negated claim, together with the model's constraints,
the definitions of auxiliary variables, the domain conditions and the assumptions, has
no real solution. The checker rebuilds that system itself from the conjecture (it never
reads constraints from the certificate), expands it into cases (disjunctive normal form,
in a deterministic order) and checks, for each case, a Positivstellensatz identity

    sum_i  lambda_i * prod(g in P_i) g   +   sum_k  q_k * h_k   ==   -c

as an identity of polynomials, where each P_i is a product of at most three of the case's
inequality atoms (g >= 0 or g > 0), lambda_i >= 0 and c >= 0 are rationals, the h_k are
the case's equality atoms (h == 0) with polynomial multipliers q_k, and either c > 0 or
some lambda_i > 0 multiplies a product of strict atoms only. At any point satisfying the
case the left side is >= 0, and > 0 when a strict product has a positive multiplier,
while the right side is <= 0 (< 0 if c > 0): a contradiction, so the case is empty.
Every case empty means the claim holds wherever the hypotheses do.
"""

from __future__ import annotations

from fractions import Fraction

from .formula import conj, dnf
from .models.base import Atom
from .poly import Poly

MAX_CASES = 256
MAX_PRODUCT = 3


class CertificateError(ValueError):
    """The certificate does not prove this claim."""


def parse_fraction(text) -> Fraction:
    if not isinstance(text, str):
        raise CertificateError(f"exact numbers are strings 'p/q', got {text!r}")
    from .store import str_to_fraction
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


def check_case(atoms: list[Atom], cert: dict) -> None:
    """Raise CertificateError unless ``cert`` proves the conjunction ``atoms`` empty."""
    if not isinstance(cert, dict):
        raise CertificateError("a case certificate must be an object")
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
    c = parse_fraction(cert.get("constant", "0"))
    if c < 0:
        raise CertificateError("the constant must be nonnegative")
    if not (total + Poly.const(c)).is_zero():
        raise CertificateError("the identity does not hold: the combination is "
                               f"{total} instead of {-c}")
    if c == 0 and not strict_used:
        raise CertificateError("no strict inequality and no positive constant: "
                               "the identity proves nothing")


def check_proof(problem, proof: dict) -> str:
    """Check a stored proof against the rebuilt problem; return a one-line summary."""
    if not isinstance(proof, dict) or proof.get("kind") not in ("farkas", "polya"):
        raise CertificateError("not a farkas/polya certificate")
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
    return f"{proof['kind']} certificate: {len(cases)} case(s), identities hold exactly"
