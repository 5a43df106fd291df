"""Z3 backend: parses SMT-LIB text, solves, returns plain data (no z3 object escapes)."""

from __future__ import annotations

from fractions import Fraction


def load():
    import z3
    return z3


def version() -> str:
    return load().get_version_string()


def run(text: str, timeout: float) -> dict:
    z3 = load()
    ctx = z3.Context()
    solver = z3.SolverFor("QF_NRA" if "QF_NRA" in text else "QF_LRA", ctx=ctx)
    solver.set("timeout", max(1, int(timeout * 1000)))
    solver.from_string(text)
    answer = solver.check()
    if answer == z3.unsat:
        return {"result": "unsat"}
    if answer == z3.unknown:
        return {"result": "unknown", "reason": solver.reason_unknown()}
    model = solver.model()
    values = {}
    for decl in model.decls():
        v = model[decl]
        if z3.is_rational_value(v):
            values[decl.name()] = {"exact": str(Fraction(v.numerator_as_long(),
                                                          v.denominator_as_long()))}
        elif z3.is_algebraic_value(v):
            values[decl.name()] = {"approx": v.approx(60).as_decimal(60).rstrip("?")}
    return {"result": "sat", "values": values}


def solve_lp(names: list[str], rows: list[list[tuple[Fraction, int]]], nonneg: list[int],
             sum_one: list[int], timeout: float) -> dict:
    """An exact feasible point of a linear program over the rationals: real variables
    ``names`` (by index), each row sum(coef * x_j) == 0, x_j >= 0 for j in ``nonneg``,
    and the x_j of ``sum_one`` summing to 1. {"result": "sat", "values": [Fraction]},
    {"result": "unsat"} or {"result": "unknown", "reason": ...}."""
    z3 = load()
    ctx = z3.Context()
    solver = z3.SolverFor("QF_LRA", ctx=ctx)
    solver.set("timeout", max(1, int(timeout * 1000)))
    xs = [z3.Real(name, ctx) for name in names]
    for j in nonneg:
        solver.add(xs[j] >= 0)
    for row in rows:
        solver.add(z3.Sum([z3.RealVal(str(coef), ctx) * xs[j] for coef, j in row]) == 0)
    solver.add(z3.Sum([xs[j] for j in sum_one]) == 1)
    answer = solver.check()
    if answer == z3.unsat:
        return {"result": "unsat"}
    if answer != z3.sat:
        return {"result": "unknown", "reason": solver.reason_unknown()}
    model = solver.model()
    values = []
    for x in xs:
        r = model.eval(x, model_completion=True)
        values.append(Fraction(r.numerator_as_long(), r.denominator_as_long()))
    return {"result": "sat", "values": values}
