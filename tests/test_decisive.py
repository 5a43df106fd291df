"""Decisive answers (issue 11): exact confirmation for twins, the largest violation, a
portfolio that stops once certain, and unknowns that say why."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from fractions import Fraction

import pytest

from prover import check as check_module
from prover import solvers
from prover.check import check
from prover.cli import main
from prover.conjecture import load
from prover.models.base import Evidence
from prover.realizers.twins_exact import (PAIRS, Factor, Term, exact_statistics,
                                          pair_genotypes)


def _conj(tmp_path, model, claim, assume=(), params=None, name="c"):
    text = f'model = "{model}"\nclaim = "{claim}"\n'
    if assume:
        text += "assume = [" + ", ".join(f'"{a}"' for a in assume) + "]\n"
    if params:
        text += "[params]\n" + "".join(f"{k} = {v}\n" for k, v in params.items())
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return load(path)


# --- exact enumeration against a hand computation -----------------------------------------

@pytest.mark.parametrize("p,a,d", [(Fraction(1, 3), Fraction(1), Fraction(1, 2)),
                                   (Fraction(1, 5), Fraction(2), Fraction(0)),
                                   (Fraction(1, 2), Fraction(0), Fraction(1))])
def test_one_locus_matches_falconers_formulas(p, a, d):
    """One biallelic locus, genotypic values -a, d, +a for 0, 1, 2 copies of the allele
    of frequency p. By hand (Falconer & Mackay ch. 7-9): the average effect is
    alpha = a + d(q - p), VA = 2pq alpha^2, VD = (2pqd)^2; relatives' genetic covariances
    MZ VA + VD, full sibs VA/2 + VD/4, parent-offspring VA/2, half sibs VA/4, first
    cousins VA/8."""
    q = 1 - p
    va = 2 * p * q * (a + d * (q - p)) ** 2
    vd = (2 * p * q * d) ** 2
    ve = Fraction(1)
    vp = va + vd + ve
    expected = {"rMZ": (va + vd) / vp, "rDZ": (va / 2 + vd / 4) / vp, "rPO": va / 2 / vp,
                "rHS": va / 4 / vp, "rFC": va / 8 / vp, "h2": va / vp,
                "H2": (va + vd) / vp, "s2": va / (va + vd), "V_G": va + vd, "V_P": vp}
    term = Term("G", Fraction(1), (Factor(0, p, (-a, d, a)),))
    got = exact_statistics([term], ve=ve)
    for name, value in expected.items():
        assert got[name] == value, name


def test_cousins_share_alleles_as_mendel_says():
    """By hand: first cousins share one allele identical by descent with probability 1/4,
    else none; at p = 1/2, P(both carry no copy of allele 1) = 3/4 * (1/4)^2 +
    1/4 * (1/2)^3 = 5/64. An MZ pair is one genotype twice (Hardy-Weinberg at p)."""
    joint = pair_genotypes(Fraction(1, 2), "c1", "c2")
    assert sum(joint.values()) == 1
    assert joint[0, 0] == Fraction(5, 64)
    mz = pair_genotypes(Fraction(1, 3), "c1", "c1")
    assert mz == {(0, 0): Fraction(4, 9), (1, 1): Fraction(4, 9), (2, 2): Fraction(1, 9)}
    # enumerated once and kept: a caller changing its copy changes no later answer
    mz[0, 0] = Fraction(0)
    joint.clear()
    assert pair_genotypes(Fraction(1, 3), "c1", "c1")[0, 0] == Fraction(4, 9)
    assert pair_genotypes(Fraction(1, 2), "c1", "c2")[0, 0] == Fraction(5, 64)


@pytest.mark.parametrize("p", [Fraction(1, 2), Fraction(1, 3), Fraction(2, 7),
                               Fraction(9, 10), Fraction(1, 1000)])
def test_every_relative_pair_matches_its_identity_by_descent(p):
    """Independently of the pedigree enumeration: relatives sharing 0, 1 or 2 alleles
    identical by descent with probabilities (k0, k1, k2) have, at allele frequency p,
    P(g, h) = k0 P(g) P(h) + k1 sum_s P(s) P(g - s) P(h - s) + k2 [g = h] P(g)
    (Hardy-Weinberg founders, s the shared allele)."""
    allele = {0: 1 - p, 1: p}
    hw = {g: sum(allele[x] * allele[y] for x in (0, 1) for y in (0, 1) if x + y == g)
          for g in (0, 1, 2)}
    ibd = {("c1", "c1"): (0, 0, 1), ("c1", "c1dz"): (Fraction(1, 4), Fraction(1, 2),
                                                     Fraction(1, 4)),
           ("s1", "c1"): (0, 1, 0), ("c1", "h1"): (Fraction(1, 2), Fraction(1, 2), 0),
           ("c1", "c2"): (Fraction(3, 4), Fraction(1, 4), 0)}
    assert {v[:2] for v in PAIRS.values()} == set(ibd)      # every pair a statistic uses
    for (x, y), (k0, k1, k2) in ibd.items():
        expected = {}
        for g in (0, 1, 2):
            for h in (0, 1, 2):
                one = sum(allele[s] * allele[g - s] * allele[h - s] for s in (0, 1)
                          if 0 <= g - s <= 1 and 0 <= h - s <= 1)
                value = k0 * hw[g] * hw[h] + k1 * one + (k2 * hw[g] if g == h else 0)
                if value:
                    expected[g, h] = value
        got = {k: v for k, v in pair_genotypes(p, x, y).items() if v}
        assert got == expected, (x, y)
        assert all(type(v) is Fraction for v in got.values())


# --- refuted exactly, with the largest violation -------------------------------------------

def _exact_refutation(out):
    assert out.verdict == "refuted", out.certificate.get("reason")
    ce = out.certificate["counterexample"]
    nc = ce["numeric_check"]
    assert nc["method"].startswith("exact enumeration"), nc["method"]
    assert nc["confirmed"] is True
    assert Fraction(nc["interval"][0]) == Fraction(ce["violation"]) > 0
    return ce


def test_thin_s2_claim_is_refuted_exactly_near_the_largest_violation(tmp_path):
    """s2 >= 4 rho - 1 is attained (VA : VD = 4 : 1 gives rho = 0.45, s2 = 0.8), so the
    claim fails by at most 0.81 - 0.8 = 0.01; the answer must come within 10% of it."""
    out = check(_conj(tmp_path, "twins", "s2 >= 0.81", assume=["rDZ >= 0.45*rMZ"]))
    ce = _exact_refutation(out)
    violation = Fraction(ce["violation"])
    assert Fraction(9, 1000) <= violation <= Fraction(1, 100)
    assert ce["maximized"]["violation"] == ce["violation"]
    assert Fraction(ce["maximized"]["first_violation"]) <= violation
    assert ce["numeric_check"]["simulation"]["agrees"] is True


def test_claim_false_by_a_thousandth_is_refuted_exactly(tmp_path):
    """h2 >= 4 rDZ - rMZ holds with equality on VA, VD alone: this fails by 1/1000."""
    out = check(_conj(tmp_path, "twins", "h2 >= 4*rDZ - rMZ + 0.001"))
    ce = _exact_refutation(out)
    assert Fraction(ce["violation"]) == Fraction(1, 1000)
    assert "no_violation_above" in ce["maximized"] or "whole_family_not_above" in ce["maximized"]


@pytest.mark.parametrize("model,claim", [
    ("multilinear", "r2 >= s2/2 + 0.001"),     # s2 <= 2 r2 is attained (linear F)
    ("general", "r2 <= 1/2 - 0.001"),          # r2 = 1/2 is reached
])
def test_thin_margins_on_enumerating_models(tmp_path, model, claim):
    out = check(_conj(tmp_path, model, claim))
    assert out.verdict == "refuted"
    ce = out.certificate["counterexample"]
    assert ce["numeric_check"]["method"].startswith("exact")
    violation = Fraction(ce["violation"])
    assert Fraction(9, 10000) <= violation <= Fraction(1, 1000)
    # and the search knows it is near the largest: nothing above 10% more was found
    assert Fraction(ce["maximized"]["no_violation_above"]) <= Fraction(11, 10000)


# --- verify re-checks the exact confirmation ------------------------------------------------

@pytest.fixture
def store(tmp_path, monkeypatch):
    (tmp_path / "conjectures").mkdir()
    (tmp_path / "conjectures" / "thin.toml").write_text(
        'model = "twins"\nclaim = "h2 >= 4*rDZ - rMZ + 0.001"\nexpect = "refuted"\n'
        '[params]\nmax_order = 1\n')
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["check", "--store", "certificates"]) == 0
    return tmp_path / "certificates" / "thin.json"


def _verify(capsys):
    code = main(["verify", "--json", "--store", "certificates"])
    doc = json.loads(capsys.readouterr().out)
    return code, doc["results"][0]


def test_stored_exact_confirmation_verifies(store, capsys):
    code, result = _verify(capsys)
    assert (code, result["status"]) == (0, "pass"), result
    assert "exact computation" in result["detail"]


@pytest.mark.parametrize("path,value", [
    (("estimates", "rMZ"), "1/2"),
    (("estimates", "h2"), "1/3"),
    (("interval", 0), "1/100"),
    (("method",), "simulation of families (Mendelian transmission), batch means"),
    (("simulation", "agrees"), False),
    (("simulation", "estimates", "rDZ"), 0.123),
])
def test_tampered_exact_confirmation_fails_verify(store, capsys, path, value):
    doc = json.loads(store.read_text())
    target = doc["counterexample"]["numeric_check"]
    for key in path[:-1]:
        target = target[key]
    assert target[path[-1]] != value
    target[path[-1]] = value
    store.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    code, result = _verify(capsys)
    assert (code, result["status"]) == (1, "failed"), result
    assert f"field 'counterexample.numeric_check.{path[0]}" in result["detail"], result


def test_tampered_maximized_violation_fails_verify(store, capsys):
    doc = json.loads(store.read_text())
    doc["counterexample"]["maximized"]["violation"] = "1/10"
    store.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    code, result = _verify(capsys)
    assert (code, result["status"]) == (1, "failed"), result
    assert "maximized" in result["detail"]


# --- the portfolio stops once certain -------------------------------------------------------

def test_sqrt_claim_does_not_wait_for_the_slower_solver(tmp_path):
    """Z3 answers unsat at once and a certificate is found: cvc5 (which would run into
    its timeout) is cancelled, and recorded so."""
    out = check(_conj(tmp_path, "twins", "sqrt(h2) <= sqrt(rMZ)"))
    assert (out.verdict, out.trust) == ("valid", "certificate")
    entries = {e["name"]: e for e in out.certificate["solvers"] if e["role"] == "negated claim"}
    assert entries["z3"]["result"] == "unsat"
    assert entries["cvc5"]["result"] == "cancelled"
    assert "certificate" in entries["cvc5"]["reason"]


def _slow(monkeypatch, name, seconds, answer=None):
    """Make backend ``name`` (in the forked children) sleep, or answer ``answer``."""
    real = solvers._run_backend

    def run(backend_name, text, timeout):
        if backend_name == name:
            if answer is not None:
                return {"result": answer, "values": {}}
            time.sleep(seconds)
        return real(backend_name, text, timeout)

    monkeypatch.setattr(solvers, "_run_backend", run)


def test_a_slow_solver_is_cancelled_once_a_certificate_decides(tmp_path, monkeypatch):
    _slow(monkeypatch, "cvc5", 120)
    out = check(_conj(tmp_path, "twins", "h2 <= 2*rDZ"), timeout=300)
    assert (out.verdict, out.trust) == ("valid", "certificate")
    cvc5 = next(e for e in out.certificate["solvers"] if e["name"] == "cvc5")
    assert cvc5["result"] == "cancelled"


def test_a_slow_solver_is_cancelled_once_a_counterexample_is_confirmed(tmp_path, monkeypatch):
    _slow(monkeypatch, "cvc5", 120)
    out = check(_conj(tmp_path, "twins", "falconer <= h2", params={"max_order": 1}),
                timeout=300)
    assert out.verdict == "refuted"
    cvc5 = next(e for e in out.certificate["solvers"] if e["name"] == "cvc5")
    assert cvc5["result"] == "cancelled"
    assert "counterexample" in cvc5["reason"]


def test_disagreement_is_recorded_when_both_answered(tmp_path, monkeypatch):
    """z3 (lying) says sat first; no counterexample exists; cvc5's unsat is then backed by
    a certificate, which decides, and the disagreement is on record."""
    _slow(monkeypatch, "z3", 0, answer="sat")
    out = check(_conj(tmp_path, "twins", "h2 <= 2*rDZ", params={"max_order": 1}))
    assert (out.verdict, out.trust) == ("valid", "certificate")
    assert "disagree" in out.certificate["disagreement"]
    assert "reason" not in out.certificate
    assert any("DISAGREE" in w for w in out.warnings)


# --- unknowns say why and what to try -------------------------------------------------------

def test_thin_margin_without_an_exact_realizer_says_what_to_try(tmp_path, monkeypatch):
    conj = _conj(tmp_path, "twins", "falconer <= h2")
    instance = conj.instance()

    def simulation_only(values, *, seed, effort=1):
        est = {k: 0.0 for k in ("falconer", "h2")}
        return Evidence(method="simulation", realization={}, seed=seed, samples=10,
                        estimates=est, batch_estimates=[dict(est) for _ in range(20)])

    instance.realize = simulation_only
    monkeypatch.setattr(type(conj), "instance", lambda self: instance)
    out = check(conj)
    assert out.verdict == "unknown"
    reason = out.certificate["reason"]
    assert "99% interval" in reason and "exact realizer" in reason


def test_solvers_giving_up_say_what_ran_out_and_what_to_try(tmp_path, monkeypatch):
    _slow(monkeypatch, "z3", 0, answer="unknown")
    monkeypatch.setattr(check_module, "_certify", lambda *a, **k: "no certificate (test)")
    conj = _conj(tmp_path, "twins", "h2 <= 2*rDZ")
    out = check(conj, use_solvers=("z3",))
    assert out.verdict == "unknown"
    reason = out.certificate["reason"]
    assert "no solver answered" in reason and "--timeout" in reason


def test_gaussian_claim_false_by_a_thousandth_is_refuted_exactly_at_the_largest(tmp_path):
    """r2 <= (1 + s2)/4 holds for every F (the bundled upper-bound certificate) and is
    attained by linear F, so r2 <= (1 + s2)/4 - 1/1000 fails by at most 1/1000: the
    answer is an exactly confirmed polynomial within 10% of that."""
    out = check(_conj(tmp_path, "gaussian", "r2 <= (1 + s2)/4 - 0.001"))
    assert out.verdict == "refuted", out.record.reason
    ce = out.certificate["counterexample"]
    assert ce["numeric_check"]["method"].startswith("exact moments")
    assert ce["numeric_check"]["confirmed"] is True
    violation = Fraction(ce["violation"])
    assert Fraction(9, 10000) <= violation <= Fraction(1, 1000)
    s2, r2 = Fraction(ce["statistics"]["s2"]), Fraction(ce["statistics"]["r2"])
    assert (1 + s2) / 4 - Fraction(1, 1000) - r2 == -violation     # recomputed here
