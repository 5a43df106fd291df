"""Re-running `prover check` on unchanged inputs reuses the stored results byte for byte;
`--force` recomputes; a recomputation that lowers the stored trust says so on stderr."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from prover.cli import main

VALID = 'model = "twins"\nclaim = "h2 <= 2*rDZ"\n[params]\nmax_order = 1\n'
REFUTED = ('title = "Falconer never overestimates"\nmodel = "twins"\n'
           'claim = "falconer <= h2"\nexpect = "refuted"\n[params]\nmax_order = 1\n')


@pytest.fixture
def tree(tmp_path, monkeypatch):
    (tmp_path / "conjectures" / "t").mkdir(parents=True)
    (tmp_path / "conjectures" / "t" / "valid.toml").write_text(VALID)
    (tmp_path / "conjectures" / "t" / "refuted.toml").write_text(REFUTED)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def snapshot() -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(Path("certificates").rglob("*.json"))}


def test_unchanged_inputs_leave_the_store_byte_identical(tree, capsys):
    assert main(["check", "-q"]) == 0
    first = snapshot()
    assert len(first) == 2
    assert main(["check", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert {r["id"]: r["verdict"] for r in results} == {"t/valid": "valid",
                                                      "t/refuted": "refuted"}
    assert snapshot() == first


def test_force_recomputes(tree, capsys):
    assert main(["check", "-q"]) == 0
    first = json.loads(Path("certificates/t/valid.json").read_text())
    first["created"] = "2000-01-01T00:00:00+00:00"
    Path("certificates/t/valid.json").write_text(json.dumps(first, indent=2, sort_keys=True))
    assert main(["check", "-q"]) == 0
    assert json.loads(Path("certificates/t/valid.json").read_text())["created"] == \
        "2000-01-01T00:00:00+00:00"
    assert main(["check", "-q", "--force"]) == 0
    assert json.loads(Path("certificates/t/valid.json").read_text())["created"] != \
        "2000-01-01T00:00:00+00:00"


@pytest.mark.parametrize("edit", [
    lambda d: d.update(conjecture_sha256="0" * 64),
    lambda d: d.update(encoding_sha256="0" * 64),
    lambda d: d.update(prover_version="0.0.1"),
    lambda d: d["solvers"][0].update(version="0.0"),
    lambda d: d.update(title="another title"),
])
def test_a_changed_key_recomputes(tree, capsys, edit):
    assert main(["check", "-q"]) == 0
    path = Path("certificates/t/valid.json")
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc, indent=2, sort_keys=True))
    assert main(["check", "-q"]) == 0
    fresh = json.loads(path.read_text())
    assert fresh["encoding_sha256"] != "0" * 64 and fresh["prover_version"] != "0.0.1"
    assert fresh["solvers"][0]["version"] != "0.0" and fresh["title"] == ""
    assert fresh["conjecture_sha256"] != "0" * 64


def test_changed_source_recomputes(tree, capsys):
    assert main(["check", "-q"]) == 0
    Path("conjectures/t/valid.toml").write_text(VALID.replace("2*rDZ", "3*rDZ"))
    assert main(["check", "-q"]) == 0
    assert json.loads(Path("certificates/t/valid.json").read_text())["claim"] == "h2 <= 3 * rDZ"


@pytest.mark.skipif(shutil.which("coqc") is None, reason="coqc not installed")
def test_lowered_trust_is_announced(tree, capsys):
    assert main(["check", "-q", "--kernel"]) == 0
    path = Path("certificates/t/valid.json")
    assert json.loads(path.read_text())["trust"] == "kernel"
    capsys.readouterr()
    # a plain re-run reuses the stronger result rather than lowering it
    assert main(["check", "-q"]) == 0
    assert json.loads(path.read_text())["trust"] == "kernel"
    assert "trust lowered" not in capsys.readouterr().err
    assert main(["check", "-q", "--force"]) == 0
    err = capsys.readouterr().err
    assert ("warning: trust lowered from kernel to certificate for t/valid: the fresh run "
            "was not kernel-checked (run with --kernel)") in err


@pytest.mark.parametrize("cid,edit", [
    # a record the current prover no longer reproduces (e.g. written by a prover whose
    # realizer differed): its confirmation method, or a Farkas multiplier
    ("t/refuted", lambda d: d["counterexample"]["numeric_check"].update(method="old")),
    ("t/valid", lambda d: d["proof"]["cases"][0]["products"][0].update(multiplier="7")),
])
def test_a_record_that_no_longer_verifies_is_recomputed(tree, capsys, cid, edit):
    assert main(["check", "-q"]) == 0
    path = Path(f"certificates/{cid}.json")
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc, indent=2, sort_keys=True))
    assert main(["verify", "-q"]) == 1
    capsys.readouterr()
    assert main(["check", "-q"]) == 0
    assert main(["verify"]) == 0, capsys.readouterr().out


def test_kernel_rerun_reuses_a_solver_only_result(tmp_path):
    """`check --kernel` recomputes an exact certificate not yet kernel-checked (it may earn
    trust 'kernel'), but reuses a solver-only valid: Coq has nothing to check there, and
    recomputing it would rewrite the file (timings) on every run of the main job."""
    from prover.check import check, reusable
    from prover.conjecture import load

    path = tmp_path / "v.toml"
    path.write_text(VALID)
    conj = load(path)
    solver_only = check(conj, certify=False).record
    assert (solver_only.verdict, solver_only.trust) == ("valid", "solvers")
    assert reusable(conj, solver_only, kernel=True)
    certified = check(conj).record
    assert certified.trust == "certificate"
    assert reusable(conj, certified, kernel=False)
    assert not reusable(conj, certified, kernel=True)


def _summary(out: str) -> str:
    return [line for line in out.splitlines() if " checked in " in line][-1]


def test_the_summary_gives_the_wall_time_and_what_was_reused(tree, capsys):
    import re
    import time

    began = time.perf_counter()
    assert main(["check", "--jobs", "2"]) == 0
    took = time.perf_counter() - began
    out = capsys.readouterr().out
    rows = [float(line.split()[-1]) for line in out.splitlines() if line.startswith("t/")]
    assert len(rows) == 2
    m = re.match(r"2 checked in (\d+\.\d) s \(checks (\d+\.\d) s in all, 2 at a time\): "
                 r"1 valid, 1 refuted", _summary(out))
    assert m, _summary(out)
    # the wall-clock time of the command, not the sum of the rows
    assert float(m.group(1)) <= round(took, 1) + 0.05
    assert abs(float(m.group(2)) - sum(rows)) <= 0.05 + 0.01
    # unchanged inputs: both reused, and the summary says so
    assert main(["check"]) == 0
    assert re.match(r"2 checked in \d+\.\d s \(2 reused unchanged\): 1 valid, 1 refuted",
                    _summary(capsys.readouterr().out))
    # one at a time: only the wall time
    assert main(["check", "--jobs", "1", "--force", "conjectures/t/valid.toml"]) == 0
    assert re.match(r"1 checked in \d+\.\d s: 1 valid, 0 refuted", _summary(
        capsys.readouterr().out))



def test_the_summary_counts_the_workers_that_ran(tree, capsys, monkeypatch):
    """--jobs beyond the cores starts no more workers than the cores, and the summary
    says how many ran: on one core, one at a time."""
    import os
    import re
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert main(["check", "--jobs", "8"]) == 0
    assert re.match(r"2 checked in \d+\.\d s: 1 valid, 1 refuted",
                    _summary(capsys.readouterr().out))
