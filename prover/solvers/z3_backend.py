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
