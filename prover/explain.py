"""A proof certificate in the user's terms, for ``prover show`` (a view: it decides nothing).

The checker's identity for one case is ``sum(weights * products of constraints) + c = 0``
with every constraint ``g >= 0`` (or ``> 0``) of the case: the model's, the assumptions',
the definitions' and the negated claim's. When the negated claim ``-P > 0`` enters once,
linearly, with weight ``mu``, the identity says

    P = sum (weight/mu) * product + c/mu,

the claim's slack ``P`` (the claim with its positive denominators cleared, ``P >= 0``) as
a sum of nonnegative terms: a nonnegative weight times constraints the hypotheses make
nonnegative, a polynomial times an equality (zero), or a square. Each constraint is
printed as its polynomial in the model's own variables (``VA``, ``a``, ...) and named by
where it comes from; a sum-of-squares term is written as explicit squares from the exact
LDL^T of its Gram matrix. Otherwise (the claim inside a product) the whole identity is
printed the same way. The atoms are rebuilt from the source conjecture (the encoding
``verify`` re-derives), never read from the certificate.
"""

from __future__ import annotations

from fractions import Fraction

from .checker import cases_of, parse_fraction, parse_gram, psd_ldl
from .formula import atoms as atoms_of
from .poly import Poly


def _num(x: Fraction) -> str:
    return str(x)


def _poly_text(p: Poly) -> str:
    text = str(p)
    return text if p.is_constant() or len(p.terms) == 1 else f"({text})"


def _roles(problem) -> dict:
    """Atom -> where it comes from (the first source that has it)."""
    out: dict = {}
    for label, formulas in (("negated claim", [problem.negated_claim]),
                            ("model", problem.model_constraints),
                            ("definition", problem.definitions),
                            ("domain", problem.domain),
                            ("assumption", problem.assumptions)):
        for f in formulas:
            for a in atoms_of(f):
                out.setdefault(a, label)
    return out


def _weighted(weight: Fraction, factors: list[str]) -> str:
    body = "·".join(factors) if factors else "1"
    if weight == 1 and factors:
        return body
    return f"{_num(weight)}·{body}"


def case_lines(case: dict, atoms, roles: dict) -> list[str]:
    """The identity of one case in words and named polynomials."""
    claim_idx = [i for i, a in enumerate(atoms) if roles.get(a) == "negated claim"]
    products = case.get("products", [])
    linear_claim = [p for p in products if len(p["atoms"]) == 1 and p["atoms"][0] in claim_idx
                    and parse_fraction(p["multiplier"]) > 0]
    claim_elsewhere = any(i in claim_idx for p in products for i in p["atoms"]
                          if not (len(p["atoms"]) == 1)) or \
        any(i in claim_idx for sq in case.get("squares", []) for i in sq.get("atoms", []))
    terms: list[str] = []
    scale = Fraction(1)
    skip = None
    if len(linear_claim) == 1 and not claim_elsewhere and len(claim_idx) == 1:
        skip = linear_claim[0]
        scale = 1 / parse_fraction(skip["multiplier"])
    used: dict[int, None] = {}
    for p in products:
        if p is skip:
            continue
        w = parse_fraction(p["multiplier"]) * scale
        if w == 0:
            continue
        for i in p["atoms"]:
            used[i] = None
        terms.append(_weighted(w, [_poly_text(atoms[i].poly) for i in p["atoms"]]))
    for e in case.get("equalities", []):
        q = Poly.from_json(e["multiplier"], parse_fraction).scale(scale)
        if q.is_zero():
            continue
        used[e["atom"]] = None
        terms.append(f"{_poly_text(q)}·{_poly_text(atoms[e['atom']].poly)}")
    for sq in case.get("squares", []):
        basis, gram = parse_gram(sq["gram"])
        squares = []
        for d, row in psd_ldl(gram):
            form = Poly.sum(basis[j].scale(row[j]) for j in range(len(basis)) if row[j])
            squares.append(_weighted(d * scale, [f"{_poly_text(form)}²"]))
        for i in sq.get("atoms", []):
            used[i] = None
        inner = " + ".join(squares) or "0"
        factors = [_poly_text(atoms[i].poly) for i in sq.get("atoms", [])]
        terms.append("·".join(factors + [f"[{inner}]"]) if factors else inner)
    c = parse_fraction(case.get("constant", "0")) * scale
    if c:
        terms.append(_num(c))
    total = " + ".join(terms) or "0"
    lines = []
    if skip is not None:
        slack = -atoms[claim_idx[0]].poly
        lines.append(f"    slack   P = {slack}")
        lines.append("            (the claim, cleared of its positive denominators, is P >= 0)")
        lines.append(f"    and     P = {total}")
        lines.append("    where")
    else:
        lines.append(f"    {total} = 0, though the hypotheses and the negated claim would "
                     "make the left side positive; where")
    for i in used:
        a = atoms[i]
        what = {"==": "= 0", ">=": ">= 0", ">": "> 0"}[a.rel]
        lines.append(f"      {str(a.poly)} {what}  ({roles.get(a, 'hypothesis')})")
    return lines


def proof_explanation(proof_cases: list, problem) -> list[str]:
    """Lines for every case of an exact certificate, or [] when it does not fit."""
    cases = cases_of(problem)
    if len(cases) != len(proof_cases):
        return []
    roles = _roles(problem)
    out = []
    from .checker import CertificateError, case_leaves
    for n, (case, atoms) in enumerate(zip(proof_cases, cases), 1):
        out.append(f"  case {n} of {len(cases)}:" if len(cases) > 1 else "  In the model's "
                   "own variables:")
        try:
            leaves = case_leaves(case, list(atoms))
        except CertificateError:
            return []
        for j, (more, leaf) in enumerate(leaves, 1):
            if len(leaves) > 1:
                conditions = "; ".join(f"{_poly_text(a.poly)} >= 0" for a in more[len(atoms):])
                out.append(f"   branch {j} of {len(leaves)} (where {conditions}):")
                for a in more[len(atoms):]:
                    roles.setdefault(a, "branch condition")
            out += case_lines(leaf, more, roles)
    return out


def rebuild(store, cert):
    """(problem, '') for a stored certificate whose source still holds its conjecture and
    encoding, else (None, why not): the atoms a certificate speaks of come from there."""
    from .conjecture import load
    from .encode import encode
    from .errors import ProverError
    from .store import source_candidates

    path = next((p for p in source_candidates(store, cert.source) if p.is_file()), None)
    if path is None:
        return None, f"its source {cert.source} is not here"
    try:
        conj = load(path)
        if conj.sha256() != cert.conjecture_sha256:
            return None, f"{cert.source} changed since the certificate was made"
        problem = encode(conj.instance(), conj.claim, conj.assume)
    except ProverError as exc:
        return None, f"its source does not load ({exc})"
    if problem.sha256() != cert.encoding_sha256:
        return None, "the encoding changed since the certificate was made"
    if cert.proof is not None and cert.proof.family is not None:
        try:
            problem = conj.proof_problem(cert.proof.family)
        except (ProverError, ValueError) as exc:
            return None, f"its {cert.proof.family} family does not encode ({exc})"
    return problem, ""
