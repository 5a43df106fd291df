"""End to end on the twins model: verdicts, trust, exact counterexamples, confirmation."""

from fractions import Fraction

import pytest

from prover import check as check_module
from prover.check import check
from prover.conjecture import load
from prover.models.base import Evidence

CASES = [
    # claim, params, expected verdict  (none of these is in the bundled corpus)
    ("rPO <= rDZ", "", "valid"),
    ("rHS <= rPO/2", "", "valid"),
    ("rHS >= rPO/2", "", "refuted"),          # A×A variance: rHS = rPO/2 fails
    ("rFC <= rHS/2", "max_order = 3", "valid"),
    ("h2 <= rMZ", "", "valid"),
    ("s2 >= 0.5", "", "refuted"),
    ("rDZ >= rMZ/4", "max_order = 1", "valid"),
    ("rDZ >= rMZ/4", "max_order = 2", "refuted"),   # VDD: rDZ/rMZ = 1/16
    ("c2 <= rDZ", "shared_environment = true", "valid"),
]


def _conj(tmp_path, claim, params="", assume=None, name="c"):
    text = f'model = "twins"\nclaim = "{claim}"\n'
    if assume:
        text += "assume = [" + ", ".join(f'"{a}"' for a in assume) + "]\n"
    if params:
        text += "[params]\n" + params.replace(", ", "\n") + "\n"
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return load(path)


@pytest.mark.parametrize("claim,params,verdict", CASES)
def test_verdicts(tmp_path, claim, params, verdict):
    out = check(_conj(tmp_path, claim, params))
    assert out.verdict == verdict
    if verdict == "valid":
        assert out.trust == "certificate"
        assert out.certificate["proof"]["kind"] == "farkas"
    else:
        nc = out.certificate["counterexample"]["numeric_check"]
        assert nc["confirmed"] is True
        assert nc["method"].startswith("exact enumeration")
        assert Fraction(nc["interval"][0]) > 0
        assert nc["simulation"]["agrees"] is True


def test_counterexample_is_exact_and_readable(tmp_path):
    out = check(_conj(tmp_path, "falconer <= h2"))
    ce = out.certificate["counterexample"]
    values = {k: Fraction(v) for k, v in ce["values"].items()}
    assert sum(values.values()) == 1                      # searched on V_P = 1
    # the violation is maximized: VA/VD alone reach at most 3/2 (VD only), the whole
    # family nearly 2 (four-locus dominance), and the search goes there
    assert {k for k, v in values.items() if v} <= {"VDDDD", "VE"}
    assert Fraction(ce["violation"]) == Fraction(255, 128)
    assert ce["maximized"]["family"].startswith("whole family")
    stats = {k: Fraction(v) for k, v in ce["statistics"].items()}
    assert stats["falconer"] - stats["h2"] == Fraction(ce["violation"])
    assert Fraction(ce["violation"]) > 0
    assert ce["realization"]["terms"]


def test_assumptions_restrict_the_family(tmp_path):
    out = check(_conj(tmp_path, "s2 >= 0.8", assume=["rDZ >= 0.45*rMZ"]))
    assert out.verdict == "valid"
    out = check(_conj(tmp_path, "s2 >= 0.9", assume=["rDZ >= 0.45*rMZ"], name="d"))
    assert out.verdict == "refuted"
    stats = out.certificate["counterexample"]["statistics"]
    # the counterexample satisfies the assumption exactly
    assert Fraction(stats["rDZ"]) >= Fraction(9, 20) * Fraction(stats["rMZ"])


def test_contradictory_assumptions_are_flagged_vacuous(tmp_path):
    out = check(_conj(tmp_path, "h2 >= 0.99", assume=["rDZ > rMZ/2"]))
    assert out.verdict == "valid"
    assert out.certificate["vacuous"] is True
    assert any("vacuously" in w for w in out.warnings)


def test_refutation_needs_the_realizer_to_agree(tmp_path, monkeypatch):
    """A candidate that the independent simulation does not confirm is not refuted."""
    conj = _conj(tmp_path, "falconer <= h2")
    instance = conj.instance()

    def wrong_realizer(values, *, seed, effort=1):
        est = {k: 0.0 for k in ("falconer", "h2")}
        return Evidence(method="broken", realization={}, seed=seed, samples=10,
                        estimates=est, batch_estimates=[dict(est) for _ in range(20)])

    instance.realize = wrong_realizer
    monkeypatch.setattr(type(conj), "instance", lambda self: instance)
    out = check(conj)
    assert out.verdict == "unknown"
    assert "not confirmed numerically" in out.certificate["reason"]


def _patch_answers(monkeypatch, change):
    """Alter the negated-claim answers as the portfolio collects them."""
    real = check_module.solvers.Portfolio

    class Patched(real):
        def _collect(self, k):
            result = super()._collect(k)
            if k > 0:
                change(result)
            return result

    monkeypatch.setattr(check_module.solvers, "Portfolio", Patched)


def test_solver_disagreement_withholds_the_verdict(tmp_path, monkeypatch):
    def lying(r):
        if r.solver == "cvc5":
            r.result = "sat"

    _patch_answers(monkeypatch, lying)
    out = check(_conj(tmp_path, "h2 <= 2*rDZ"), certify=False)
    assert out.verdict == "unknown"
    assert "disagree" in out.certificate["reason"]


def test_certificate_decides_when_the_solvers_give_up(tmp_path, monkeypatch):
    def giving_up(r):
        r.result, r.reason = "unknown", "timeout (simulated)"

    _patch_answers(monkeypatch, giving_up)
    out = check(_conj(tmp_path, "h2 <= 2*rDZ"))
    assert (out.verdict, out.trust) == ("valid", "certificate")
    out = check(_conj(tmp_path, "falconer <= h2", name="f"))
    assert out.verdict == "unknown"
    assert "timeout (simulated)" in out.certificate["reason"]


def test_no_solver_runs_while_a_found_counterexample_is_maximized(tmp_path, monkeypatch):
    """Once an exact counterexample is in hand, the solver calls still running are
    cancelled before it is maximized and confirmed (they cost 2-3 s of two cores on
    the bundled gaussian refutations and could not make the claim valid)."""
    portfolios, running = [], []
    real_portfolio, real_maximize = check_module.solvers.Portfolio, check_module.maximize_violation

    class Recorded(real_portfolio):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            portfolios.append(self)

    def maximize(*args, **kwargs):
        running.append(list(portfolios[-1].pending()))
        return real_maximize(*args, **kwargs)

    monkeypatch.setattr(check_module.solvers, "Portfolio", Recorded)
    monkeypatch.setattr(check_module, "maximize_violation", maximize)
    out = check(_conj(tmp_path, "h2 <= rDZ"))
    assert out.verdict == "refuted" and out.record.counterexample.confirmed
    assert running == [[]]
    for call in out.certificate["solvers"][:3]:
        reason = call.get("reason", "").removesuffix(" (it was not started)")
        assert call["result"] in ("sat", "unsat", "unknown") or reason in (
            "not needed: an exact counterexample was found",
            "not needed: the counterexample satisfies the hypotheses"), call
