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

from prover import coq as C
from prover import coqrun as R
from prover import coqtext as T
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
    "s2-ratio": ("twins", "s2 <= 2*rDZ/rMZ", {}, "valid"),
    "phantom": ("twins", "2*(rMZ - 2*rDZ) <= phantom <= 3*(rMZ - 2*rDZ)", {}, "valid"),
    "near-half": ("twins", "rDZ >= 0.45*rMZ implies s2 >= 0.8", {}, "valid"),
    "order10": ("twins", "s2 >= 4*rDZ/rMZ - 1", {"max_order": 10}, "valid"),
    # max: a disjunctive definition; sqrt: an equality times a polynomial; == : 3-way split
    "max-sqrt": ("twins", "max(h2, sqrt(h2)^2) == h2", {"max_order": 2}, "valid"),
    "ml-both": ("multilinear", "4*r2 - 1 <= s2 <= 2*r2", {}, "valid"),
    "ml-sqrt": ("multilinear", "r >= sqrt(s2/2)", {}, "valid"),
    "abs-min": ("twins", "abs(h2 - rMZ) == rMZ - h2 and min(h2, rMZ) <= h2", {"max_order": 2},
                "valid"),
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


# strengthened claims (each false somewhere): (valid claim whose proof is reused, the
# written claim's text in Coq, its strengthened text)
TAMPERED = {
    # the constant 0.8 becomes 0.9 (false: see test_tampered_statement_is_false_at_a_point)
    "near-half": [("s2 >= (4/5)", "s2 >= (9/10)"), ("(s2 - (4/5))", "(s2 - (9/10))")],
    # s2 <= 2*r2 becomes s2 <= 1.9*r2 (false for a linear F: s2 = 1, r2 = 1/2)
    "ml-both": [("s2 <= (2 * r2)", "s2 <= ((19/10) * r2)"),
                ("((2 * r2) - s2)", "(((19/10) * r2) - s2)")],
}


@pytest.fixture(scope="module")
def coq(checked):
    """{name: (text, ok, output)} for every valid claim; {'tampered:' + name: ...} for its
    file with the written claim strengthened everywhere (statement and proof alike);
    {'redefined': ...} for the h2 file with the model's definition of h2 changed. All
    compiled in one batch (no cache)."""
    store, ids, paths = checked
    texts = {name: X.export(store, ids[name], "coq") for name in VALID}
    for name, edits in TAMPERED.items():
        text = texts[name]
        for old, new in edits:
            assert old in text, (old, text[-3000:])
            text = text.replace(old, new)
        texts["tampered:" + name] = text
    h2 = texts["h2"]
    definition = next(line for line in h2.splitlines() if line.lstrip().startswith("let h2 :="))
    texts["redefined"] = h2.replace(definition, definition.replace("(VA)", "(VA + VD)", 1))
    assert texts["redefined"] != h2
    texts["synthetic"] = X.coq_text(_synthetic_problem(), _synthetic_proof(), [("id", "s")])
    if not HAVE_COQC:
        return {name: (text, None, NO_COQC) for name, text in texts.items()}
    results = C.compile_many(list(texts.values()), 120, cache=False, jobs=2)
    return {name: (text, *res) for (name, text), res in zip(texts.items(), results)}


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
    assert "Classical_Prop" not in output                      # tauto stayed intuitionistic


def _statement(text: str) -> str:
    return text.split(f"Theorem {X.COQ_THEOREM} :", 1)[1].split("Proof.", 1)[0]


TWINS_VP = ("VA + VAA + VAAA + VAAAA + VAAAD + VAAD + VAADD + VAD + VADD + VADDD + VD + VDD "
            "+ VDDD + VDDDD + VE")
TWINS_VG = TWINS_VP.replace(" + VE", "")


def test_coq_states_h2_at_most_2rDZ_as_written(coq):
    """The issue's first example: h2 and rDZ are defined from the components with real
    division, and the claim is the one written."""
    statement = _statement(coq["h2"][0])
    assert statement.startswith("\n  forall VA VD VAA VAD VDD VAAA VAAD VADD VDDD VAAAA VAAAD "
                                "VAADD VADDD VDDDD VE : R,\n")
    assert f"  let h2 := (VA) / ({TWINS_VP}) in" in statement
    rdz = next(line for line in statement.splitlines() if "let rDZ :=" in line)
    assert rdz.startswith("  let rDZ := ((1/2) * VA + (1/4) * VAA + ") and f") / ({TWINS_VP}) in" in rdz
    assert "0 <= VE ->  (* Hm_15: model constraint *)" in statement
    assert f"0 < {TWINS_VG} ->  (* Hm_16: model constraint *)" in statement
    assert statement.rstrip().endswith("h2 <= (2 * rDZ).")
    assert "rMZ" not in statement and "s2" not in statement   # only what the claim uses


def test_coq_states_s2_ratio_claim_with_its_division(coq):
    """The issue's second example, s2 <= 2*rDZ/rMZ: s2, rDZ and rMZ are defined, and the
    claim keeps its division."""
    statement = _statement(coq["s2-ratio"][0])
    assert f"  let s2 := (VA) / ({TWINS_VG}) in" in statement
    assert f"  let rMZ := ({TWINS_VG}) / ({TWINS_VP}) in" in statement
    assert "  let rDZ := " in statement
    assert statement.rstrip().endswith("s2 <= ((2 * rDZ) / rMZ).")
    # the cleared problem is a lemma the proof uses, not the theorem
    text = coq["s2-ratio"][0]
    assert "Lemma prover_cleared :" in text and "apply (prover_cleared " in text
    assert text.index("Lemma prover_cleared :") < text.index("Theorem claim_holds :")


def test_coq_statement_keeps_the_written_logic(coq):
    statement = _statement(coq["near-half"][0])
    assert statement.rstrip().endswith("(rDZ >= ((9/20) * rMZ) -> s2 >= (4/5)).")
    chain = _statement(coq["phantom"][0])
    assert "let falconer := (2 * (rMZ - rDZ)) in" in chain            # model expressions
    assert "let phantom := (falconer - h2) in" in chain
    assert chain.index("let falconer") < chain.index("let phantom")
    assert chain.rstrip().endswith(
        "((2 * (rMZ - (2 * rDZ))) <= phantom /\\ phantom <= (3 * (rMZ - (2 * rDZ)))).")
    sqrt = _statement(coq["ml-sqrt"][0])
    assert "let r := (sqrt r2) in" in sqrt
    assert "0 <= r2 ->  (* Hd_1: where sqrt is defined *)" in sqrt
    assert "0 <= (s2 / 2) ->  (* Hd_2: where sqrt is defined *)" in sqrt
    assert sqrt.rstrip().endswith("r >= (sqrt (s2 / 2)).")
    assert "forall W1 W2 W3 W4 Wtail u : R," in sqrt               # the model's variables
    other = _statement(coq["abs-min"][0])
    assert other.rstrip().endswith("((Rabs (h2 - rMZ)) = (rMZ - h2) /\\ (Rmin h2 rMZ) <= h2).")
    assert "(Rmax h2 ((sqrt h2) ^ 2)) = h2." in _statement(coq["max-sqrt"][0])
    synthetic = coq["synthetic"][0]
    assert "forall x v_R : R," in synthetic           # R is renamed: it is Coq's type
    assert "left." in synthetic and "right." in synthetic


@pytest.mark.parametrize("name", list(TAMPERED))
def test_strengthened_claim_does_not_compile(coq, name):
    text, ok, output = coq["tampered:" + name]
    assert text != coq[name][0]
    if not HAVE_COQC:
        pytest.skip(NO_COQC)
    assert ok is False, "coqc accepted a proof of a false, strengthened claim"


def test_changed_statistic_definition_does_not_compile(coq):
    """The definitions are part of what the kernel checks: h2 = (VA + VD)/V_P breaks it."""
    text, ok, output = coq["redefined"]
    if not HAVE_COQC:
        pytest.skip(NO_COQC)
    assert ok is False and "Error" in output


def _write(tmp_path, name, model, claim, params=None):
    path = tmp_path / f"{name}.toml"
    path.write_text(_toml(model, claim, params or {}, "valid"))
    conj = load(path)
    return encode(conj.instance(), conj.claim, conj.assume)


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
    monkeypatch.setattr(T.shutil, "which", lambda name: None)
    assert not X.coqc_available()
    with pytest.raises(X.CoqUnavailable, match="apt-get install coq"):
        X.compile_coq("Theorem t : True.\nProof. exact I. Qed.\n")


# --- batches and the cache -------------------------------------------------------------------

@pytest.fixture
def coqc_runs(monkeypatch, tmp_path):
    """Counts coqc compilations (not `coqc --version`); the cache lives in tmp_path."""
    monkeypatch.setenv("PROVER_CACHE_DIR", str(tmp_path / "cache"))
    runs = []
    real = subprocess.run

    def counting(cmd, *args, **kwargs):
        if cmd and str(cmd[0]).endswith("coqc") and "--version" not in cmd:
            runs.append(list(cmd))
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(R.subprocess, "run", counting)
    return runs


@pytest.mark.skipif(not HAVE_COQC, reason=NO_COQC)
def test_batch_isolates_a_failing_proof(coq, coqc_runs):
    good1, good2 = coq["h2"][0], coq["s2-ratio"][0]
    bad = coq["tampered:near-half"][0]
    results = C.compile_many([good1, bad, good2], 120, cache=False)
    assert [ok for ok, _ in results] == [True, False, True]
    assert "batch of 2" in results[0][1] and "batch of 2" in results[2][1]
    assert "Error" in results[1][1]
    # one batch of three fails on the bad proof, the two others compile in a second batch,
    # and the bad one is compiled alone for its own error
    assert [run[-1] for run in coqc_runs] == ["Batch.v", "Batch.v", "Claim.v"]


@pytest.mark.skipif(not HAVE_COQC, reason=NO_COQC)
def test_batch_refuses_a_file_with_another_axiom(coqc_runs):
    sneaky = C.PRELUDE + "\nLemma claim_holds : forall P : Prop, P \\/ ~ P.\n" + \
        "Proof. intro P. apply Classical_Prop.classic. Qed.\n\nPrint Assumptions claim_holds.\n"
    honest = C.PRELUDE + "\nLemma claim_holds : 1 + 1 = 2.\nProof. ring. Qed.\n\n" + \
        "Print Assumptions claim_holds.\n"
    results = C.compile_many([sneaky, honest], 120, cache=False)
    assert results[0][0] is False and "Classical_Prop.classic" in results[0][1]
    assert results[1][0] is True


@pytest.mark.skipif(not HAVE_COQC, reason=NO_COQC)
def test_cache_hit_skips_coqc(coq, coqc_runs, monkeypatch):
    text = coq["h2"][0]
    assert C.compile_many([text])[0][0] is True
    assert len(coqc_runs) == 1
    ok, output = C.compile_many([text])[0]
    assert ok and "cached" in output and len(coqc_runs) == 1       # no coqc this time
    entries = list(C.cache_dir().glob("*.json"))
    assert len(entries) == 1 and json.loads(entries[0].read_text())["ok"] is True
    # another coqc version, or another text, is compiled again
    monkeypatch.setattr(R, "coqc_version", lambda: "The Coq Proof Assistant, version 9.9")
    assert C.compile_many([text])[0][0] is True and len(coqc_runs) == 2
    # a file coqc rejects is not cached: it is compiled every time
    bad = coq["tampered:ml-both"][0]
    assert C.compile_many([bad])[0][0] is False
    assert C.compile_many([bad])[0][0] is False and len(coqc_runs) == 4
    # verify --kernel never uses the cache: compile_coq always runs coqc
    assert X.compile_coq(text)[0] is True and len(coqc_runs) == 5


def test_cache_dir_is_the_users_not_the_store(monkeypatch, tmp_path):
    monkeypatch.delenv("PROVER_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert C.cache_dir() == tmp_path / "xdg" / "prover" / "coq"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert C.cache_dir() == tmp_path / "home" / ".cache" / "prover" / "coq"


def test_division_of_unknown_sign_is_not_stated_and_keeps_trust_certificate(tmp_path):
    """A construct the export cannot state as written is said so, and never gets 'kernel'."""
    from prover.check import Outcome, kernel_check_batch, new_draft
    from prover.record import Kind, Proof, Trust
    path = tmp_path / "q.toml"
    path.write_text(_toml("twins", "h2 / (rMZ - 2*rDZ) >= 0 or h2 / (rMZ - 2*rDZ) < 0", {},
                          "valid"))
    conj = load(path)
    with pytest.raises(C.NotStatedAsWritten, match="sign"):
        C.claim_text(conj, {"kind": "farkas", "cases": []})
    draft = new_draft(conj, encode(conj.instance(), conj.claim, conj.assume))
    draft.set_valid(Trust.CERTIFICATE, Proof(Kind.FARKAS, cases=()))
    out = Outcome(conj, draft.freeze())
    kernel_check_batch([out])
    assert out.record.trust == "certificate"
    if HAVE_COQC:
        assert out.record.proof.coq.compiled is False
        assert "not stated as written" in out.record.proof.coq.error
        assert any("as written" in w for w in out.warnings)


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
    # --json: one JSON document, the text in it or the file named
    proc = subprocess.run(run + [ids["h2"], "--to", "smtlib", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0 and doc["id"] == ids["h2"] and doc["to"] == "smtlib"
    assert doc["output"] is None and doc["text"] == X.export(store, ids["h2"], "smtlib")
    proc = subprocess.run(run + [ids["h2"], "--to", "coq", "-o", str(out), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert json.loads(proc.stdout) == {"id": ids["h2"], "to": "coq", "output": str(out)}


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
    names = T._coq_names(["VA", "R", "fun", "H_1", "a-b", "v_x"])
    assert names["VA"] == "VA"
    assert len(set(names.values())) == 6
    for n in names.values():
        assert n not in T.COQ_KEYWORDS and n.isidentifier()
    assert names["R"] != "R" and names["fun"] != "fun" and names["H_1"] != "H_1"
