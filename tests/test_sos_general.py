"""The `general` model's r2 <= 1/2 (issue 9: SOS end to end): in regression coordinates
(a, b, u, v, rho) the claim has an exact sum-of-squares certificate. Checked here: check
finds it (kind 'sos', trust 'certificate'; 'kernel' once Coq compiled it), verify passes
it, an altered Gram entry fails, the identity holds at random points by an evaluation
written in this file (not prover's checker), the Gram matrices are PSD by numpy, the
search keeps to its budget, and the encoding's statistics are the model's formulas."""

from __future__ import annotations

import copy
import json
import random
import shutil
import time
from fractions import Fraction as Fr
from pathlib import Path

import numpy as np
import pytest

from prover.check import check, kernel_check_batch
from prover.checker import cases_of
from prover.cli import main
from prover.conjecture import load
from prover.encode import encode
from prover.store import DirectoryStore

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "conjectures" / "puzzle" / "general" / "r2-at-most-half.toml"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The bundled conjecture checked once, into a store of its own."""
    root = tmp_path_factory.mktemp("sosgen")
    (root / "conjectures").mkdir()
    shutil.copy(SOURCE, root / "conjectures" / SOURCE.name)
    conj = load(root / "conjectures" / SOURCE.name, root / "conjectures")
    conj.source = f"conjectures/{SOURCE.name}"
    out = check(conj)
    problem = encode(conj.instance(), conj.claim, conj.assume)
    return {"root": root, "conj": conj, "out": out, "problem": problem}


def test_check_finds_an_exact_sos_certificate(run):
    rec = run["out"].record
    assert (rec.verdict, rec.kind, rec.trust) == ("valid", "sos", "certificate")
    cases = rec.proof.cases_json()
    assert len(cases) == len(cases_of(run["problem"])) == 1
    assert any(case.get("squares") for case in cases)


def test_kernel_check_compiles_the_sos_proof_of_the_claim_as_written(run):
    if shutil.which("coqc") is None:
        pytest.skip("coqc not installed: apt-get install coq")
    out = copy.copy(run["out"])
    kernel_check_batch([out])
    assert out.record.trust == "kernel" and out.record.proof.coq.compiled is True


def _store(run, tmp_path, doc=None):
    shutil.copytree(run["root"], tmp_path / "repo")
    store = DirectoryStore(tmp_path / "repo" / "certificates")
    store.save(doc if doc is not None else run["out"].record)
    return store


def _verify(capsys, store, monkeypatch):
    monkeypatch.chdir(store.root.parent)
    code = main(["verify", "--json", "--store", str(store.root)])
    (result,) = json.loads(capsys.readouterr().out)["results"]
    return code, result


def test_verify_passes_the_certificate(run, tmp_path, capsys, monkeypatch):
    code, result = _verify(capsys, _store(run, tmp_path), monkeypatch)
    assert code == 0 and result["status"] == "pass", result
    assert result["detail"].startswith("sos certificate: 1 case(s), identities hold exactly")


def test_a_changed_gram_entry_fails_verify(run, tmp_path, capsys, monkeypatch):
    doc = run["out"].certificate
    gram = next(sq["gram"] for case in doc["proof"]["cases"] for sq in case["squares"])
    gram["matrix"][0][0] = str(Fr(gram["matrix"][0][0]) + 1)
    code, result = _verify(capsys, _store(run, tmp_path, doc), monkeypatch)
    assert code == 1 and result["status"] == "failed"
    assert result["detail"].startswith("certificate rejected: case 1: the identity does not hold")


# --- an independent look at the identity ----------------------------------------------------

def _monomial(mono, point):
    value = Fr(1)
    for var, exp in mono:
        value *= point[var] ** exp
    return value


def _poly(terms, point):
    return sum((Fr(c) * _monomial(m, point) for c, m in terms), Fr(0))


def _identity_at(case, atoms, point):
    """sum lam*prod(g) + sum q*h + sum prod(g)*m^T G m + c, evaluated at ``point``."""
    g = [a.poly.evaluate(point) for a in atoms]
    total = Fr(case.get("constant", "0"))
    for item in case.get("products", []):
        value = Fr(item["multiplier"])
        for i in item["atoms"]:
            value *= g[i]
        total += value
    for item in case.get("equalities", []):
        total += _poly(item["multiplier"], point) * g[item["atom"]]
    for item in case.get("squares", []):
        m = [_monomial(mono, point) for mono in item["gram"]["basis"]]
        G = [[Fr(x) for x in row] for row in item["gram"]["matrix"]]
        form = sum((m[i] * G[i][j] * m[j] for i in range(len(m)) for j in range(len(m))),
                   Fr(0))
        for i in item.get("atoms", []):
            form *= g[i]
        total += form
    return total


def test_the_identity_holds_at_random_points_and_the_grams_are_psd(run):
    (case,) = run["out"].record.proof.cases_json()
    (atoms,) = cases_of(run["problem"])
    variables = sorted({v for a in atoms for v in a.poly.variables()})
    rng = random.Random(7)
    for _ in range(25):
        point = {v: Fr(rng.randint(-40, 40), rng.randint(1, 9)) for v in variables}
        assert _identity_at(case, atoms, point) == 0
    for item in case["squares"]:
        G = np.array([[float(Fr(x)) for x in row] for row in item["gram"]["matrix"]])
        assert np.allclose(G, G.T) and np.linalg.eigvalsh(G).min() >= -1e-9


def test_an_altered_identity_is_caught_by_the_same_evaluation(run):
    """The evaluation above is not vacuous: a changed multiplier breaks it."""
    (case,) = run["out"].record.proof.cases_json()
    (atoms,) = cases_of(run["problem"])
    bad = copy.deepcopy(case)
    bad["products"][0]["multiplier"] = str(Fr(bad["products"][0]["multiplier"]) + 1)
    variables = sorted({v for a in atoms for v in a.poly.variables()})
    point = {v: Fr(i + 2, 3) for i, v in enumerate(variables)}
    assert _identity_at(bad, atoms, point) != 0


def test_the_sos_search_keeps_to_its_budget(run):
    from prover.sos import search_case
    (atoms,) = cases_of(run["problem"])
    start = time.monotonic()
    result = search_case(atoms, timeout=0.01)
    elapsed = time.monotonic() - start
    assert "cert" not in result and "budget of 0.01 s spent" in result["reason"]
    assert elapsed < 30        # generous: one stage may overshoot, never the whole search


# --- the encoding is the model's statistics -------------------------------------------------

def test_the_statistics_are_the_models_formulas_in_regression_coordinates():
    """F = L + N, L linear (variance a per copy), N the rest (variance b); F(Z) regressed
    on L(X)+L(Y) and N(X)+N(Y) with slopes u and v and residual variance rho. Then
    Var F(X) = a + b, Cov(F(X), F(Z)) = Cov(L(X)+N(X), u(L(X)+L(Y)) + v(N(X)+N(Y))) =
    u a + v b, Var F(Z) = 2u^2 a + 2v^2 b + rho; s2 = a/(a+b); r2 is the squared
    correlation of F(X) and F(Z)."""
    from prover.models import get
    inst = get("general").build(get("general").validate_params({}))
    a, b, u, v, rho = Fr(3, 5), Fr(2, 7), Fr(1, 3), Fr(-1, 4), Fr(1, 9)
    vz = 2 * u * u * a + 2 * v * v * b + rho
    point = {"a": a, "b": b, "u": u, "v": v, "rho": rho, "vz": vz}
    for atom in inst.constraints:
        assert atom.holds(point), str(atom)
    cov, vx = u * a + v * b, a + b
    expected = {"s2": a / vx, "slope": cov / vx, "slope_back": cov / vz, "var_ratio": vz / vx}
    for name, value in expected.items():
        ratio = inst.statistics[name].ratio
        assert ratio.num.evaluate(point) / ratio.den.evaluate(point) == value, name
    # r2 = slope * slope_back: the squared correlation of F(X) and F(Z)
    assert inst.statistics["r2"].expression == "slope * slope_back"
    assert expected["slope"] * expected["slope_back"] == cov * cov / (vx * vz)
