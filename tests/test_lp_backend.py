"""The exact LP behind the solver interface (prover/solvers/z3_backend.solve_lp), which
the certificate search hands plain rows: answers checked here by substitution."""

from __future__ import annotations

from fractions import Fraction

from prover.solvers import z3_backend


def test_a_feasible_lp_gets_an_exact_point_that_satisfies_every_row():
    # x0 - 2 x1 == 0, x1 + x2 - 3 x3 == 0, x >= 0, x0 + x3 == 1
    rows = [[(Fraction(1), 0), (Fraction(-2), 1)],
            [(Fraction(1), 1), (Fraction(1), 2), (Fraction(-3), 3)]]
    out = z3_backend.solve_lp(["a", "b", "c", "d"], rows, [0, 1, 2, 3], [0, 3], 10)
    assert out["result"] == "sat"
    x = out["values"]
    assert all(isinstance(v, Fraction) and v >= 0 for v in x)
    assert all(sum(c * x[j] for c, j in row) == 0 for row in rows)
    assert x[0] + x[3] == 1


def test_an_infeasible_lp_is_unsat():
    # x0 + x1 == 0 with x >= 0 forces x = 0, contradicting x0 + x1 == 1
    rows = [[(Fraction(1), 0), (Fraction(1), 1)]]
    assert z3_backend.solve_lp(["a", "b"], rows, [0, 1], [0, 1], 10) == {"result": "unsat"}
