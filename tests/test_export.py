"""`prover export`: SMT-LIB text that z3 and cvc5 answer as the verdict says, and Coq proofs
that coqc accepts — and rejects once the claim is strengthened.

One module-level run of `prover check` writes the certificates (twins claims, one with
max_order = 10, an equality with max and sqrt — a disjunctive definition, an equality
multiplied by a polynomial — the multilinear model's degree-2 bounds, and a refuted
claim); the Coq files, and two with a strengthened claim, are compiled in parallel once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import pytest

from prover import export as X
from prover.conjecture import load
from prover.encode import encode
from prover.errors import InputError
from prover.formula import atoms as formula_atoms
from prover.poly import Poly
from prover.store import DirectoryStore, MemoryStore

ROOT = Path(__file__).resolve().parents[1]
HAVE_COQC = shutil.which("coqc") is not None
NO_COQC = "coqc not installed: apt-get install coq"

CONJECTURES = {
    "h2": ("twins", "h2 <= 2*rDZ", {}, "valid"),
    "s2": ("twins", "s2 >= 4*rDZ/rMZ - 1", {}, "valid"),
    "phantom": ("twins", "2*(rMZ - 2*rDZ) <= phantom <= 3*(rMZ - 2*rDZ)", {}, "valid"),
    "near-half": ("twins", "rDZ >= 0.45*rMZ implies s2 >= 0.8", {}, "valid"),
    "order10": ("twins", "s2 >= 4*rDZ/rMZ - 1", {"max_order": 10}, "valid"),
    # max: a disjunctive definition; sqrt: an equality times a polynomial; == : 3-way split
    "max-sqrt": ("twins", "max(h2, sqrt(h2)^2) == h2", {"max_order": 2}, "valid"),
    "ml-both": ("multilinear", "4*r2 - 1 <= s2 <= 2*r2", {}, "valid"),
    "phantom-false": ("twins", "phantom <= 2*(rMZ - 2*rDZ)", {}, "refuted"),
}
VALID = [k for k, v in CONJECTURES.items() if v[3] == "valid"]


def _toml(model, claim, params, expect):
    text = f'model = "{model}"\nclaim = "{claim}"\nexpect = "{expect}"\n'
    if params:
        text += "[params]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in params.items())
    return text


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """(store, {name: certificate id}, {name: conjecture path}) after one `prover check`."""
    base = tmp_path_factory.mktemp("export")
    folder = base / "conjectures" / "x"
    folder.mkdir(parents=True)
    paths = {}
    for name, spec in CONJECTURES.items():
        paths[name] = folder / f"{name}.toml"
        paths[name].write_text(_toml(*spec))
    store_dir = base / "store"
    proc = subprocess.run([sys.executable, "-m", "prover", "check", str(folder), "--store",
                           str(store_dir), "--jobs", "2", "--timeout", "30", "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    store = DirectoryStore(store_dir)
    ids = {name: f"x/{name}" for name in CONJECTURES}
    for name, cid in ids.items():
        doc = store.fetch(cid)
        assert doc["verdict"] == CONJECTURES[name][3], (name, doc.get("reason"))
    return store, ids, paths


# strengthened claims (each false somewhere): (valid claim whose proof is reused, new claim)
TAMPERED = {
    # the constant 0.8 becomes 0.9 (false: see test_tampered_statement_is_false_at_a_point)
    "near-half": "rDZ >= 0.45*rMZ implies s2 >= 0.9",
    # s2 <= 2*r2 becomes s2 <= 1.9*r2 (false for a linear F: s2 = 1, r2 = 1/2)
    "ml-both": "4*r2 - 1 <= s2 <= 1.9*r2",
}


@pytest.fixture(scope="module")
def coq(checked, tmp_path_factory):
    """{name: (text, ok, output)} for every valid claim, and {'tampered:' + name: ...} for
    its proof with the claim strengthened; all compiled in parallel."""
    store, ids, paths = checked
    texts = {name: X.export(store, ids[name], "coq") for name in VALID}
    tmp = tmp_path_factory.mktemp("tampered")
    for name, claim in TAMPERED.items():
        model = CONJECTURES[name][0]
        stronger = _write(tmp, name, model, claim)
        texts["tampered:" + name] = _tamper(texts[name], _problem(paths[name]), stronger)
    texts["synthetic"] = X.coq_text(_synthetic_problem(), _synthetic_proof(), [("id", "s")])
    if not HAVE_COQC:
        return {name: (text, None, NO_COQC) for name, text in texts.items()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(texts, pool.map(lambda t: X.compile_coq(t, 120), texts.values())))
    return {name: (texts[name], *results[name]) for name in texts}


def _synthetic_problem():
    """A variable named like a Coq constant, a disjunctive definition, an equality claim
    and a disjunction in the claim: y = x or y = -x  implies  y^2 = x^2 and (y >= x or
    -y >= x), over x >= 0."""
    from prover.encode import Problem
    from prover.formula import And, Atom, Or
    x, y = Poly.var("x"), Poly.var("R")
    return Problem(variables=["x", "R"], model_constraints=[Atom(x, ">=")],
                   definitions=[Or((Atom(y - x, "=="), Atom(y + x, "==")))], domain=[],
                   assumptions=[],
                   claim=And((Atom(y * y - x * x, "=="),
                              Or((Atom(y - x, ">="), Atom(-y - x, ">="))))))


def _synthetic_proof():
    from prover.certify import find_certificate
    from prover.checker import check_proof
    problem = _synthetic_problem()
    proof = find_certificate(problem, timeout=30)
    check_proof(problem, proof)
    return proof


def _problem(path):
    conj = load(path)
    return encode(conj.instance(), conj.claim, conj.assume)


# --- Coq ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", VALID + ["synthetic"])
def test_coq_export_compiles(coq, name):
    text, ok, output = coq[name]
    assert "Admitted" not in text and "admit" not in text
    assert f"Theorem {X.COQ_THEOREM} :" in text and "Qed." in text
    assert text.startswith("(*") and "Require Import Reals Psatz Lra." in text
    if not HAVE_COQC:
        pytest.skip(NO_COQC)
    assert ok, output
    assert "Axioms:" not in output or "sig_forall_dec" in output   # only the reals' axioms


def test_coq_statement_is_the_encoded_problem(checked, coq):
    store, ids, paths = checked
    text = coq["phantom"][0]
    problem = _problem(paths["phantom"])
    statement = text.split("Theorem claim_holds :", 1)[1].split("Proof.", 1)[0]
    for atom in problem.model_constraints:
        assert X.coq_formula(atom) + " ->" in statement
    assert statement.rstrip().endswith(X.coq_formula(problem.claim) + ".")
    assert "/\\" in X.coq_formula(problem.claim)          # the two links of the chain
    # the multilinear bounds are degree 2 (u*Wtail), proved from polya products
    ml = coq["ml-both"][0]
    assert "Wtail * u" in ml and "Rmult_le_pos" in ml
    assert "polya certificate" in ml
    # min/max definitions are disjunctions the proof destructs; the square-root identity
    # needs an equality times a polynomial
    text = coq["max-sqrt"][0]
    assert "\\/" in text.split("Proof.")[0] and "|H_" in text      # destructed disjunction
    assert "by (rewrite" in text and "Rtotal_order" in text
    synthetic = coq["synthetic"][0]
    assert "forall x v_R : R," in synthetic           # R is renamed: it is Coq's type
    assert "left." in synthetic and "right." in synthetic


def _tamper(text: str, original, strengthened) -> str:
    """Replace every claim polynomial of ``original`` by its counterpart in
    ``strengthened``, in the statement and in the proof script alike."""
    old = list(formula_atoms(original.claim))
    new = list(formula_atoms(strengthened.claim))
    assert len(old) == len(new)
    out = text
    for a, b in zip(old, new):
        if a.poly != b.poly:
            assert X.coq_poly(a.poly) in out
            out = out.replace(X.coq_poly(a.poly), X.coq_poly(b.poly))
    assert out != text
    return out


def _write(tmp_path, name, model, claim, params=None):
    path = tmp_path / f"{name}.toml"
    path.write_text(_toml(model, claim, params or {}, "valid"))
    conj = load(path)
    return encode(conj.instance(), conj.claim, conj.assume)


@pytest.mark.parametrize("name", list(TAMPERED))
def test_strengthened_claim_does_not_compile(coq, name):
    text, ok, output = coq["tampered:" + name]
    assert text != coq[name][0]
    if not HAVE_COQC:
        pytest.skip(NO_COQC)
    assert ok is False, "coqc accepted a proof of a false, strengthened claim"
    assert "Cannot find witness" in output      # it is the arithmetic that fails


def test_tampered_statement_is_false_at_a_point(tmp_path):
    """The strengthened near-half claim really fails (so coqc must reject it)."""
    stronger = _write(tmp_path, "b", "twins", "rDZ >= 0.45*rMZ implies s2 >= 0.9")
    point = {v: Fraction(0) for v in stronger.variables}
    point.update({"VA": Fraction(85), "VD": Fraction(15)})     # s2 = 0.85, rDZ/rMZ ~ 0.46
    from prover.formula import holds
    assert all(holds(a, point) for a in stronger.model_constraints)
    assert not holds(stronger.claim, point)


@pytest.mark.skipif(not HAVE_COQC, reason=NO_COQC)
def test_compile_coq_reports_errors_and_refuses_admitted():
    ok, output = X.compile_coq("Require Import Reals.\nOpen Scope R_scope.\n"
                               "Theorem t : forall x : R, 0 <= x.\nProof. intros. Admitted.\n")
    assert not ok and "Admitted" in output
    ok, output = X.compile_coq("Theorem t : True.\nProof. exact I. Qed.\n"
                               "Print Assumptions t.\n")
    assert ok and "Closed under the global context" in output, output
    ok, output = X.compile_coq("Theorem t : False.\nProof. exact I. Qed.\n")
    assert not ok and "Error" in output
    ok, output = X.compile_coq("Axiom magic : False.\nTheorem t : False.\n"
                               "Proof. exact magic. Qed.\n")
    assert not ok


def test_compile_coq_without_coqc(monkeypatch):
    monkeypatch.setattr(X.shutil, "which", lambda name: None)
    assert not X.coqc_available()
    with pytest.raises(X.CoqUnavailable, match="apt-get install coq"):
        X.compile_coq("Theorem t : True.\nProof. exact I. Qed.\n")


# --- refusals ----------------------------------------------------------------------------------

def test_refuted_certificate_has_no_coq_proof(checked):
    store, ids, _ = checked
    with pytest.raises(InputError, match="refuted"):
        X.export(store, ids["phantom-false"], "coq")


def test_unknown_id_and_format(checked):
    store, ids, _ = checked
    with pytest.raises(InputError, match="no certificate with id 'x/nope'"):
        X.export(store, "x/nope", "coq")
    with pytest.raises(InputError, match="unknown export format"):
        X.export(store, ids["h2"], "lean")


def test_solver_only_proof_is_refused_with_what_is_needed(checked):
    store, ids, _ = checked
    doc = store.fetch(ids["h2"])
    doc["proof"] = {"kind": "smt", "unsat": ["z3", "cvc5"]}
    doc["trust"] = "solvers"
    mem = MemoryStore()
    mem.save(doc)
    with pytest.raises(InputError, match="farkas/polya certificate"):
        X.export(mem, ids["h2"], "coq")


def test_stale_source_is_refused(checked):
    store, ids, _ = checked
    doc = store.fetch(ids["h2"])
    doc["conjecture_sha256"] = "0" * 64
    mem = MemoryStore()
    mem.save(doc)
    for to in ("coq", "smtlib"):
        with pytest.raises(InputError, match="stale"):
            X.export(mem, ids["h2"], to)


def test_bad_certificate_is_refused(checked):
    store, ids, _ = checked
    doc = store.fetch(ids["h2"])
    doc["proof"]["cases"][0]["products"][0]["multiplier"] = "12345"
    mem = MemoryStore()
    mem.save(doc)
    with pytest.raises(InputError, match="does not check"):
        X.export(mem, ids["h2"], "coq")


def test_cli_export(checked, tmp_path):
    store, ids, _ = checked
    out = tmp_path / "h2.v"
    run = [sys.executable, "-m", "prover", "export", "--store", str(store.root)]
    proc = subprocess.run(run + [ids["h2"], "--to", "coq", "-o", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Theorem claim_holds" in out.read_text()
    proc = subprocess.run(run + [ids["phantom-false"], "--to", "coq"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "refuted" in proc.stderr


# --- SMT-LIB -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [("h2", "unsat"), ("phantom", "unsat"),
                                            ("phantom-false", "sat")])
def test_smtlib_runs_unchanged_in_z3_and_cvc5(checked, tmp_path, name, expected):
    from prover import solvers

    store, ids, _ = checked
    text = X.export(store, ids[name], "smtlib")
    assert f"; expected answer: {expected}" in text
    assert f"(set-info :status {expected})" in text
    assert f"; id: {ids[name]}" in text and "; claim: " in text and "; model: twins" in text
    for solver in ("z3", "cvc5"):
        if not solvers.available(solver):
            continue
        assert solvers.solve(solver, text, 30).result == expected, solver
    path = tmp_path / "problem.smt2"
    path.write_text(text)
    binaries = [b for b in ("z3", "cvc5") if shutil.which(b)]
    for binary in binaries:
        proc = subprocess.run([binary, str(path)], capture_output=True, text=True, timeout=60)
        assert proc.stdout.split()[:1] == [expected], (binary, proc.stdout, proc.stderr)
    if "z3" not in binaries:
        pytest.skip("z3 binary not on PATH: the command-line run was skipped")


# --- rendering ---------------------------------------------------------------------------------

def test_coq_rendering_of_numbers_and_names():
    p = Poly.var("x") * Poly.var("x").scale(Fraction(3, 4)) - Poly.var("y") + Fraction(-5, 2)
    assert X.coq_poly(p) == "- (5/2) - y + (3/4) * x * x"
    assert X.coq_poly(Poly()) == "0"
    names = X._coq_names(["VA", "R", "fun", "H_1", "a-b", "v_x"])
    assert names["VA"] == "VA"
    assert len(set(names.values())) == 6
    for n in names.values():
        assert n not in X.COQ_KEYWORDS and n.isidentifier()
    assert names["R"] != "R" and names["fun"] != "fun" and names["H_1"] != "H_1"
