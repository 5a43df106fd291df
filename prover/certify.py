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
import time

from .checker import CertificateError, cases_of, check_case, evidence_kind
from .models.base import Atom
from .poly import Poly, fraction_text, monomials_up_to
from .record import checker_description as description

MAX_PRODUCTS = 4000
MAX_LP_COLUMNS = 20_000  # multipliers of one LP (products and equality monomials)
SOS_TIMEOUT = 10.0       # seconds for one case's sum-of-squares search
MIN_STEP = 0.5           # a step with less time left than this is not started


def _search_case(atoms: list[Atom], degree: int, timeout: float) -> dict:
    """Runs in an isolated child (in-process in a pipeline worker: ``search_certificate``):
    the LP for one case at one product degree.

    {"cert": case certificate} or {"reason": why not}. Equalities linear in a variable
    with a constant coefficient are substituted first (``sos.eliminations``): their
    polynomial multipliers, which would be thousands of LP columns, are recovered by
    exact division afterwards."""
    from .solvers import z3_backend
    from .sos_exact import eliminations, restore_equalities, substitute_all

    elims = eliminations(atoms)
    gone = {k for k, _x, _v in elims}
    reduced = [substitute_all(a.poly, elims) for a in atoms]
    ineq = [i for i, a in enumerate(atoms) if a.rel in (">=", ">")]
    eqs = [i for i, a in enumerate(atoms) if a.rel == "==" and i not in gone]
    top = max([reduced[i].degree() for i in ineq + eqs] + [1])
    products = [(i,) for i in ineq]
    for size in range(2, degree + 1):
        products += list(itertools.combinations_with_replacement(ineq, size))
    top = max([top] + [sum(reduced[i].degree() for i in prod) for prod in products])
    if len(products) > MAX_PRODUCTS:
        return {"reason": f"{len(products)} products exceed the cap of {MAX_PRODUCTS}"}
    variables = sorted({x for i in ineq + eqs for x in reduced[i].variables()})
    eq_monos = []
    for k in eqs:
        room = top - reduced[k].degree()
        eq_monos.append((k, monomials_up_to(variables, room) if room >= 0 else []))
    columns = len(products) + sum(len(m) for _k, m in eq_monos)
    if columns > MAX_LP_COLUMNS:
        return {"reason": f"{columns} multipliers exceed the cap of {MAX_LP_COLUMNS}"}
    # the LP in plain data, solved exactly behind the solver interface: one variable per
    # product multiplier (l), equality multiplier coefficient (q) and the constant (c)
    names: list[str] = []
    rows: dict = {}

    def var(name: str) -> int:
        names.append(name)
        return len(names) - 1

    def add(poly: Poly, v: int):
        for m, coef in poly.terms.items():
            rows.setdefault(m, []).append((coef, v))

    lam = []
    for n, prod in enumerate(products):
        v = var(f"l{n}")
        lam.append(v)
        p = Poly.const(1)
        for i in prod:
            p = p * reduced[i]
        add(p, v)
    eq_mults = []
    for k, monos in eq_monos:
        coeffs = []
        for n, m in enumerate(monos):
            v = var(f"q{k}_{n}")
            coeffs.append((m, v))
            add(reduced[k] * Poly({m: 1}), v)
        eq_mults.append((k, coeffs))
    c = var("c")
    add(Poly.const(1), c)
    strict = [lam[n] for n, prod in enumerate(products) if all(atoms[i].rel == ">" for i in prod)]
    answer = z3_backend.solve_lp(names, list(rows.values()), lam + [c], [c] + strict, timeout)
    if answer["result"] != "sat":
        return {"reason": "infeasible" if answer["result"] == "unsat" else
                f"Z3 gave up ({answer['reason']})"}
    values = answer["values"]
    out = {"products": [], "equalities": [], "constant": fraction_text(values[c])}
    for prod, v in zip(products, lam):
        x = values[v]
        if x:
            out["products"].append({"atoms": list(prod), "multiplier": fraction_text(x)})
    for k, coeffs in eq_mults:
        q = Poly({m: values[v] for m, v in coeffs})
        if not q.is_zero():
            out["equalities"].append({"atom": k, "multiplier": q.to_json()})
    out = restore_equalities(atoms, elims, {**out, "squares": []})
    out.pop("squares")
    return {"cert": out}


def find_certificate(problem, timeout: float = 60.0) -> dict | None:
    """A checked farkas/polya/sos certificate for the problem, or None."""
    return search_certificate(problem, timeout)[0]


def search_certificate(problem, timeout: float = 60.0) -> tuple[dict | None, str]:
    """(certificate, '') or (None, plain text of what was tried and why it failed).

    The whole search (every case, every degree, the SOS step) shares one deadline,
    ``timeout`` seconds from now; no step starts with less than MIN_STEP seconds left,
    and each child is given only the time that is left. The LPs, whose size is capped
    (MAX_PRODUCTS, MAX_LP_COLUMNS), run in this process when it is a pipeline worker
    (``solvers.INLINE``), under Z3's timeout and watchdog; the SOS step (an SDP solver
    whose cost its input does not bound) always runs in a pooled child."""
    from . import solvers

    deadline = time.monotonic() + timeout
    try:
        cases = cases_of(problem)
    except CertificateError as exc:
        return None, f"the problem was not expanded into cases: {exc}"
    linear = problem.is_linear()
    degrees = (1,) if linear else (1, 2, 3)
    certs = []
    for atoms in cases:
        where = f"case {len(certs) + 1} of {len(cases)}"
        found = None
        tried = []
        for degree in degrees:
            left = deadline - time.monotonic()
            if left < MIN_STEP:
                tried.append(f"degree {degree}: not started, the {timeout:g} s budget is spent")
                break
            args = (atoms, degree, left)
            status, result = (solvers.run_inline(_search_case, args) if solvers.INLINE else
                              solvers.run_isolated(_search_case, args, left))
            if status != "ok":
                tried.append(f"degree {degree}: {result}")
                continue
            if "cert" not in result:
                tried.append(f"degree {degree}: {result['reason']}")
                continue
            try:
                check_case(atoms, result["cert"])
            except CertificateError as exc:
                tried.append(f"degree {degree}: the LP answer does not check ({exc})")
                continue
            found = result["cert"]
            break
        lp = ("no exact LP certificate (products of up to "
              f"{max(degrees)} hypothes{'is' if max(degrees) == 1 else 'es'}: "
              + "; ".join(tried) + ")")
        if found is None and not linear:
            reason = _sos_step(atoms, deadline, timeout)
            if isinstance(reason, dict):
                found = reason
            else:
                return None, f"{where}: {lp}; sum-of-squares search: {reason}"
        if found is None:
            return None, f"{where}: {lp}"
        certs.append(found)
    kind = evidence_kind({"cases": certs})
    return {"kind": kind, "cases": certs, "checker": description(kind)}, ""


def _sos_step(atoms: list[Atom], deadline: float, timeout: float) -> dict | str:
    """The checked SOS certificate of one case, or the reason there is none."""
    from .solvers import run_isolated
    from .sos import search_case

    budget = min(deadline - time.monotonic(), SOS_TIMEOUT)
    if budget < MIN_STEP:
        return f"not started, the {timeout:g} s budget is spent"
    status, result = run_isolated(search_case, (atoms, budget), budget)
    if status != "ok":
        return f"did not finish ({result})"
    if "cert" not in result:
        return result["reason"]
    try:
        check_case(atoms, result["cert"])
    except CertificateError as exc:
        return f"the recovered certificate does not check ({exc})"
    return result["cert"]
