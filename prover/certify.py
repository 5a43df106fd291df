"""Searching for proof certificates that ``prover.checker`` verifies without any solver.

For each case of the negated problem (see ``checker``), the unknown multipliers of a
Positivstellensatz identity enter linearly, so finding them is a linear feasibility
problem: products of up to three inequality atoms with multipliers >= 0, polynomial
multipliers of the equality atoms, and a constant c >= 0, normalised so that c plus the
multipliers of strict products sum to 1. Z3's exact simplex solves it (untrusted
search, exact rational answer); the checker then verifies the identity by itself.

Degree 1 (Farkas/Motzkin multipliers) is complete for linear problems; products of two
or three hypotheses (Pólya/Handelman style) cover the polynomial claims of the puzzle
models, e.g. a square root's defining equation times a positive denominator.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

from .checker import CertificateError, cases_of, check_case, evidence_kind
from .models.base import Atom
from .poly import Poly, fraction_text, monomials_up_to

MAX_PRODUCTS = 4000
SOS_TIMEOUT = 10.0       # seconds for one case's sum-of-squares search


def _search_case(atoms: list[Atom], degree: int, timeout: float) -> dict | None:
    """Runs in an isolated child: the LP for one case at one product degree."""
    import z3

    ineq = [i for i, a in enumerate(atoms) if a.rel in (">=", ">")]
    eqs = [i for i, a in enumerate(atoms) if a.rel == "=="]
    top = max([a.poly.degree() for a in atoms] + [1])
    products = [(i,) for i in ineq]
    for size in range(2, degree + 1):
        products += list(itertools.combinations_with_replacement(ineq, size))
    top = max([top] + [sum(atoms[i].poly.degree() for i in prod) for prod in products])
    if len(products) > MAX_PRODUCTS:
        return None
    ctx = z3.Context()
    s = z3.SolverFor("QF_LRA", ctx=ctx)
    s.set("timeout", max(1, int(timeout * 1000)))
    rows: dict = {}

    def add(poly: Poly, var):
        for m, c in poly.terms.items():
            rows.setdefault(m, []).append((c, var))

    lam = []
    for n, prod in enumerate(products):
        v = z3.Real(f"l{n}", ctx)
        s.add(v >= 0)
        lam.append(v)
        p = Poly.const(1)
        for i in prod:
            p = p * atoms[i].poly
        add(p, v)
    variables = sorted({x for a in atoms for x in a.poly.variables()})
    eq_mults = []
    for k in eqs:
        room = top - atoms[k].poly.degree()
        monos = monomials_up_to(variables, room) if room >= 0 else []
        coeffs = []
        for n, m in enumerate(monos):
            v = z3.Real(f"q{k}_{n}", ctx)
            coeffs.append((m, v))
            add(atoms[k].poly * Poly({m: 1}), v)
        eq_mults.append((k, coeffs))
    c = z3.Real("c", ctx)
    s.add(c >= 0)
    add(Poly.const(1), c)
    for m, entries in rows.items():
        s.add(z3.Sum([z3.RealVal(str(coef), ctx) * v for coef, v in entries]) == 0)
    strict = [lam[n] for n, prod in enumerate(products) if all(atoms[i].rel == ">" for i in prod)]
    s.add(z3.Sum([c] + strict) == 1)
    if s.check() != z3.sat:
        return None
    model = s.model()

    def val(v) -> Fraction:
        r = model.eval(v, model_completion=True)
        return Fraction(r.numerator_as_long(), r.denominator_as_long())

    out = {"products": [], "equalities": [], "constant": fraction_text(val(c))}
    for prod, v in zip(products, lam):
        x = val(v)
        if x:
            out["products"].append({"atoms": list(prod), "multiplier": fraction_text(x)})
    for k, coeffs in eq_mults:
        q = Poly({m: val(v) for m, v in coeffs})
        if not q.is_zero():
            out["equalities"].append({"atom": k, "multiplier": q.to_json()})
    return out


def find_certificate(problem, timeout: float = 60.0) -> dict | None:
    """A checked farkas/polya/sos certificate for the problem, or None."""
    return search_certificate(problem, timeout)[0]


def search_certificate(problem, timeout: float = 60.0) -> tuple[dict | None, str]:
    """(certificate, '') or (None, plain text of what was tried and why it failed)."""
    from .solvers import run_isolated

    try:
        cases = cases_of(problem)
    except CertificateError as exc:
        return None, f"the problem was not expanded into cases: {exc}"
    linear = problem.is_linear()
    degrees = (1,) if linear else (1, 2, 3)
    certs = []
    used = 1
    sos = False
    for atoms in cases:
        found = None
        for degree in degrees:
            status, result = run_isolated(_search_case, (atoms, degree, timeout), timeout)
            if status == "ok" and result is not None:
                try:
                    check_case(atoms, result)
                except CertificateError:
                    continue
                found = result
                used = max(used, degree)
                break
        if found is None and not linear:
            from .sos import search_case
            budget = min(timeout, SOS_TIMEOUT)
            status, result = run_isolated(search_case, (atoms, budget), budget)
            if status != "ok":
                reason = f"the sum-of-squares search did not finish ({result})"
            elif "cert" in result:
                try:
                    check_case(atoms, result["cert"])
                    found = result["cert"]
                    sos = True
                except CertificateError as exc:
                    reason = f"the rounded sum-of-squares certificate does not check ({exc})"
            else:
                reason = result["reason"]
            if found is None:
                return None, (f"case {len(certs) + 1} of {len(cases)}: no exact LP "
                              "certificate (products of up to three hypotheses); "
                              f"sum-of-squares search: {reason}")
        if found is None:
            return None, (f"case {len(certs) + 1} of {len(cases)}: no exact LP certificate "
                          "(Farkas multipliers)")
        certs.append(found)
    kind = evidence_kind({"cases": certs})
    if kind == "sos":
        return {"kind": "sos", "cases": certs,
                "checker": "prover.checker (exact rational arithmetic, exact LDL^T PSD "
                           "check, no solver)"}, ""
    return {"kind": kind, "cases": certs,
            "checker": "prover.checker (exact rational arithmetic, no solver)"}, ""
