"""Maximizing a counterexample's violation (prover/maximize.py), against the largest
violation worked out by hand, and the search's closed-form eigenvalues
(prover/quadratic_ratio.py) against LAPACK."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from prover import maximize, quadratic_ratio
from prover.conjecture import load

# twins, max_order 1: falconer - h2 = 2 (rMZ - rDZ) - h2 = (3/2) VD / V_P, so the largest
# violation of "falconer <= h2" is 3/2 (all variance dominance: VA = VE = 0).
LARGEST = Fraction(3, 2)


def _conj(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('model = "twins"\nclaim = "falconer <= h2"\n[params]\nmax_order = 1\n')
    return load(path)


def _asks(monkeypatch):
    """The number of margins in each solver call the maximization makes."""
    asked = []
    real = maximize.solvers.solve_until_sat

    def logged(name, texts, timeout, total=None):
        asked.append(len(texts))
        return real(name, texts, timeout, total)

    monkeypatch.setattr(maximize.solvers, "solve_until_sat", logged)
    return asked


def _violation(values):
    va, vd, ve = (values[k] for k in ("VA", "VD", "VE"))
    return LARGEST * vd / (va + vd + ve)


def test_the_violation_is_pushed_to_within_5_percent_of_the_largest(tmp_path, monkeypatch):
    asked = _asks(monkeypatch)
    conj = _conj(tmp_path)
    start = {"VA": Fraction(1), "VD": Fraction(1), "VE": Fraction(1)}      # violation 1/2
    values, record = maximize.maximize_violation(conj, conj.instance(), start, 20.0, "z3")
    v = Fraction(record["violation"])
    assert v == _violation(values)
    assert LARGEST * Fraction(95, 100) <= v <= LARGEST
    assert Fraction(record["no_violation_above"]) >= LARGEST     # a true upper limit
    # twice 1/2 is exceeded, so the rest of the ladder (32x down to 4x) is asked at once
    assert asked[:2] == [1, maximize.MAX_DOUBLINGS - 1]


def test_an_unsat_at_twice_the_first_violation_ends_the_doubling(tmp_path, monkeypatch):
    asked = _asks(monkeypatch)
    conj = _conj(tmp_path)
    start = {"VA": Fraction(0), "VD": Fraction(1), "VE": Fraction(0)}      # the largest
    values, record = maximize.maximize_violation(conj, conj.instance(), start, 20.0, "z3")
    assert Fraction(record["violation"]) == LARGEST
    assert asked[0] == 1                      # twice 3/2 answered unsat: no higher rung
    assert all(n == 1 for n in asked)
    # bisected down from 3 until within 5 %: a true limit, close to the largest
    assert LARGEST < Fraction(record["no_violation_above"]) <= LARGEST * Fraction(21, 20)


def test_one_undecided_query_costs_a_fifth_of_the_budget_not_all_of_it(tmp_path, monkeypatch):
    """A family the solver cannot decide (every query unknown) ends the maximization after
    one query limited to a fifth of the budget, keeps the first counterexample, and says
    why; every query of a decided run is limited the same way."""
    from prover.solvers import SolverResult

    conj = _conj(tmp_path)
    start = {"VA": Fraction(1), "VD": Fraction(1), "VE": Fraction(1)}      # violation 1/2
    timeouts = []

    def undecided(name, texts, timeout, total=None):
        timeouts.append(timeout)
        return [SolverResult(name, "x", "unknown", timeout, "timeout")]

    monkeypatch.setattr(maximize.solvers, "solve_until_sat", undecided)
    values, record = maximize.maximize_violation(conj, conj.instance(), start, 60.0, "z3")
    assert values == start and Fraction(record["violation"]) == Fraction(1, 2)
    assert timeouts == [12.0]
    assert "gave up" in record["note"] and "one query may take 12 s" in record["note"]
    assert "no_violation_above" not in record

    monkeypatch.undo()
    seen = []
    real = maximize.solvers.solve_until_sat

    def logged(name, texts, timeout, total=None):
        seen.append(timeout)
        return real(name, texts, timeout, total)

    monkeypatch.setattr(maximize.solvers, "solve_until_sat", logged)
    maximize.maximize_violation(conj, conj.instance(), start, 100.0, "z3")
    assert seen and max(seen) <= 20.0          # a fifth of 100 s
    seen.clear()
    maximize.maximize_violation(conj, conj.instance(), start, 4.0, "z3")
    assert seen and max(seen) <= 4.0 and seen[0] == maximize.MIN_QUERY   # at least 2 s


@pytest.mark.parametrize("n", [1, 2])
def test_closed_form_least_eigenvalue_matches_lapack(n):
    from scipy.linalg import eigh
    rng = np.random.default_rng(7)
    for _ in range(2000):
        x = rng.normal(size=(n, n)) * rng.choice([1e-3, 1.0, 1e3])
        y = rng.normal(size=(n, n))
        a, b = x + x.T, y @ y.T + 1e-2 * np.eye(n)
        want = float(eigh(a, b, eigvals_only=True)[0])
        assert quadratic_ratio._least(a, b) == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_closed_form_least_eigenvalue_refuses_an_indefinite_b():
    from numpy.linalg import LinAlgError
    for b in (np.array([[0.0]]), np.array([[1.0, 2.0], [2.0, 1.0]])):
        with pytest.raises(LinAlgError):
            quadratic_ratio._least(np.eye(b.shape[0]), b)


def test_the_maximization_gets_at_most_half_of_what_the_search_left(tmp_path, monkeypatch):
    """A counterexample search that used most of the budget leaves the maximization at
    most half of the rest (not the old 2 s floor), so the confirmation still fits and a
    found counterexample is not lost to a budget kill; the verdict stays refuted."""
    import time as time_module

    from prover import check as check_module

    real_find = check_module.find_counterexample
    budgets = []

    def slow_find(*args, **kwargs):
        out = real_find(*args, **kwargs)
        time_module.sleep(0.6)
        return out

    def record_budget(conj, instance, values, budget, primary, tier=()):
        budgets.append(budget)
        return values, {"method": "test", "queries": 0}

    monkeypatch.setattr(check_module, "find_counterexample", slow_find)
    monkeypatch.setattr(check_module, "maximize_violation", record_budget)
    out = check_module.check(_conj(tmp_path), timeout=2.0)
    assert out.record.verdict.value == "refuted"
    assert len(budgets) == 1 and 0 < budgets[0] <= 0.7      # (2 - 0.6) / 2 at most
