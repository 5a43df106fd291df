"""The committed corpus and its certificates agree: every conjecture has a certificate
whose verdict equals its expect, and `prover verify` passes on the committed store."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prover.conjecture import discover, load
from prover.store import BadEntry, DirectoryStore

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_every_conjecture_has_a_matching_certificate(in_root):
    store = DirectoryStore("certificates")
    found, errors = discover(["conjectures"])
    assert not errors
    assert len(found) >= 50
    for path, root in found:
        conj = load(path, root)
        doc = store.fetch(conj.id)
        assert doc is not None, f"no certificate for {conj.id}: run `prover check --kernel`"
        assert doc["verdict"] == conj.expect, conj.id
        assert doc["conjecture_sha256"] == conj.sha256(), f"{conj.id} is stale"


def test_twins_corpus_size_and_trust(in_root):
    entries = [d for _, d in DirectoryStore("certificates").entries()
               if not isinstance(d, BadEntry) and d["model"]["name"] == "twins"]
    assert len(entries) >= 12
    assert sum(d["verdict"] == "refuted" for d in entries) >= 4
    # every valid twins verdict rests on a solver-free proof
    assert all(d["trust"] in ("certificate", "kernel") for d in entries if d["verdict"] == "valid")


def test_committed_store_verifies_without_solvers(in_root):
    code = ("import sys; sys.modules['z3'] = None; sys.modules['cvc5'] = None\n"
            "from prover.cli import main\nsys.exit(main(['verify', '-q']))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_committed_store_verifies(in_root):
    proc = subprocess.run([sys.executable, "-m", "prover", "verify", "--json"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    import json
    results = json.loads(proc.stdout)["results"]
    assert {r["status"] for r in results} == {"pass"}


def test_committed_kernel_proofs_compile(in_root):
    """CI compiles every exported Coq proof of the bundled corpus (`verify --kernel`)."""
    import shutil
    if shutil.which("coqc") is None:
        pytest.skip("coqc not installed: apt-get install coq")
    proc = subprocess.run([sys.executable, "-m", "prover", "verify", "--kernel", "--json"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    import json
    results = json.loads(proc.stdout)["results"]
    recompiled = [r for r in results if "Coq kernel re-checked" in r["detail"]]
    assert len(recompiled) >= 25


def test_verify_finds_sources_from_another_directory(tmp_path):
    """Sources are stored relative to the project; verify also looks beside the store."""
    proc = subprocess.run(
        [sys.executable, "-m", "prover", "verify", "--store", str(ROOT / "certificates"),
         "twins/h2-at-most-2rDZ", "twins/falconer-lower-bounds-h2"],
        cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 certificates: 2 pass" in proc.stdout


def test_verify_kernel_compiles_the_store_in_one_batch_without_the_cache(in_root, monkeypatch):
    """`verify --kernel` hands every kernel proof of the run to coqc at once (cache off),
    and a proof coqc rejects fails that certificate only."""
    import shutil
    from prover import coq
    from prover.verify import verify_store
    if shutil.which("coqc") is None:
        pytest.skip("coqc not installed: apt-get install coq")
    calls = []

    def fake_compile_many(texts, timeout=120, *, cache=True, jobs=1):
        calls.append((len(texts), cache))
        return [(i != 1, "coqc: ok" if i != 1 else "Error: the second one is rejected")
                for i in range(len(texts))]

    monkeypatch.setattr(coq, "compile_many", fake_compile_many)
    reports = verify_store(DirectoryStore("certificates"), kernel=True)
    kernel_ids = sorted(p.relative_to("certificates").with_suffix("").as_posix()
                        for p in Path("certificates").rglob("*.json")
                        if json.loads(p.read_text())["trust"] == "kernel")
    assert calls == [(len(kernel_ids), False)]
    failed = [r for r in reports if r.status != "pass"]
    assert len(failed) == 1 and failed[0].detail == (
        "the exported Coq proof no longer compiles: Error: the second one is rejected")
    rechecked = [r for r in reports if "Coq kernel re-checked" in r.detail]
    assert len(rechecked) == len(kernel_ids) - 1
