"""The per-conjecture budget, the memory cap and no orphans (prover/pipeline.py).

Slow or greedy phases are simulated by replacing the certificate search in the test
process; the workers are forked from it, so they run the replacement."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from prover.cli import main

ROOT = Path(__file__).resolve().parent.parent
VALID = 'model = "twins"\nclaim = "h2 <= 2*rDZ"\n[params]\nmax_order = 1\n'
REFUTED = 'model = "twins"\nclaim = "falconer <= h2"\nexpect = "refuted"\n[params]\nmax_order = 1\n'


@pytest.fixture
def tree(tmp_path, monkeypatch):
    (tmp_path / "conjectures").mkdir()
    (tmp_path / "conjectures" / "slow.toml").write_text(VALID)
    (tmp_path / "conjectures" / "good.toml").write_text(REFUTED)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _results(capsys) -> dict:
    out = json.loads(capsys.readouterr().out)
    return {r["id"]: r for r in out["results"]}


def test_budget_bounds_the_whole_conjecture(tree, capsys, monkeypatch):
    import prover.certify

    def endless(problem, timeout=60.0):
        time.sleep(3600)

    monkeypatch.setattr(prover.certify, "search_certificate", endless)
    code = main(["check", "--json", "--timeout", "1", "--jobs", "2"])
    results = _results(capsys)
    assert code == 1                              # slow ends unknown, expected valid
    assert results["slow"]["verdict"] == "unknown"
    assert results["slow"]["reason"].startswith(
        "the conjecture's budget of 1 s (--timeout) ran out during the certificate search")
    assert results["good"]["verdict"] == "refuted"    # the rest of the batch goes on
    stored = json.loads(Path("certificates/slow.json").read_text())
    assert stored["verdict"] == "unknown" and "budget of 1 s" in stored["reason"]
    assert main(["verify", "-q"]) == 0


def test_memory_cap_ends_unknown_not_a_crashed_batch(tree, capsys, monkeypatch):
    import prover.certify

    def greedy(problem, timeout=60.0):
        return bytearray(8 * 1024 ** 3), ""

    monkeypatch.setattr(prover.certify, "search_certificate", greedy)
    code = main(["check", "--json", "--memory", "1G"])
    results = _results(capsys)
    assert code == 1
    assert results["slow"]["verdict"] == "unknown"
    assert "out of memory" in results["slow"]["reason"]
    assert results["good"]["verdict"] == "refuted"


@pytest.mark.parametrize("value", ["lots", "1K", "-4G"])
def test_bad_memory_is_an_input_error(tree, capsys, value):
    assert main(["check", "--memory", value]) == 2
    assert "--memory" in capsys.readouterr().err


def test_jobs_never_exceed_the_conjectures(tree, capsys, monkeypatch):
    import prover.pipeline as pipeline

    started = []
    real = pipeline._Running.__init__

    def counting(self, *args, **kwargs):
        started.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(pipeline._Running, "__init__", counting)
    peak = []
    real_wait = __import__("multiprocessing.connection").connection.wait

    def watching(conns, timeout=None):
        peak.append(len(conns))
        return real_wait(conns, timeout)

    monkeypatch.setattr("multiprocessing.connection.wait", watching)
    assert main(["check", "-q", "--jobs", "100"]) == 0
    assert len(started) == 2 and max(peak) <= min(2, os.cpu_count() or 1)


def test_the_next_conjecture_starts_before_the_caller_stores_the_last(tree, monkeypatch):
    """An idle worker is handed the next conjecture before the finished outcome goes to
    the caller (who stores and prints it): the worker does not wait for the store."""
    import prover.pipeline as pipeline
    from prover.conjecture import load

    events = []
    real = pipeline._Running.__init__

    def recording(self, index, *args, **kwargs):
        events.append(("start", index))
        real(self, index, *args, **kwargs)

    monkeypatch.setattr(pipeline._Running, "__init__", recording)
    conjs = [load(tree / "conjectures" / n) for n in ("slow.toml", "good.toml", "slow.toml")]
    for k, out in enumerate(pipeline.run_many(conjs, jobs=1)):
        events.append(("stored", k))
        assert out.record.verdict.value == ("refuted" if k == 1 else "valid")
    assert events == [("start", 0), ("start", 1), ("stored", 0), ("start", 2),
                      ("stored", 1), ("stored", 2)]


def test_outcomes_are_stored_as_they_arrive_without_kernel(tree, monkeypatch):
    """Without --kernel the store is written conjecture by conjecture while the batch
    runs (not all at the end): the first certificate exists before the last check."""
    import prover.pipeline as pipeline

    seen = []
    real = pipeline._Running.__init__

    def recording(self, index, *args, **kwargs):
        seen.append(sorted(p.name for p in (tree / "certificates").rglob("*.json"))
                    if (tree / "certificates").exists() else [])
        real(self, index, *args, **kwargs)

    monkeypatch.setattr(pipeline._Running, "__init__", recording)
    (tree / "conjectures" / "third.toml").write_text(VALID.replace("2*rDZ", "3*rDZ"))
    assert main(["check", "-q", "--jobs", "1"]) == 0
    assert seen[0] == [] and seen[-1] != []


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _wait_for_descendants(proc, count: int, what: str) -> set[int]:
    """The processes below ``proc`` once there are at least ``count`` (within 60 s)."""
    deadline = time.monotonic() + 60
    pids: set[int] = set()
    while time.monotonic() < deadline:
        pids = _descendants(proc.pid)
        if len(pids) >= count:
            return pids
        time.sleep(0.2)
    raise AssertionError(f"{what} never started")


def _assert_all_die(pids: set[int]) -> None:
    """Every one of ``pids`` is gone within 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    assert not [p for p in pids if _alive(p)]


def _kill_tree(proc) -> None:
    """Clean-up after a test: ``proc`` and whatever it left, killed."""
    if proc.poll() is None:
        proc.kill()
    for p in _descendants(proc.pid):
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
def test_no_orphans_after_kill_9(tree):
    """prover check is killed with SIGKILL (no handler runs) while a worker waits on an
    isolated search child: the worker and that child die too."""
    script = textwrap.dedent("""
        import sys, time
        import prover.certify
        from prover import solvers
        from prover.cli import main

        def search(problem, timeout=60.0):
            solvers.run_isolated(time.sleep, (3600,), 7200)
            return None, "unreachable"

        prover.certify.search_certificate = search
        sys.exit(main(["check", "-q", "conjectures/slow.toml"]))
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tree, env=env)
    try:
        tree_pids = _wait_for_descendants(proc, 2, "the worker and its search child")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        _assert_all_die(tree_pids)
    finally:
        _kill_tree(proc)


# ------------------------------------------------- verifying a store in the same workers

def _verify_lines(capsys) -> dict:
    out = capsys.readouterr().out
    return {line.split()[0]: line for line in out.splitlines() if line.strip()
            and line.split()[0] in ("slow", "good")}


def test_workers_never_exceed_the_cores(monkeypatch):
    """DESIGN.md: at most min(--jobs, cores, conjectures) workers, whoever calls the
    pipeline (check, verify, the reuse test before check) and whatever jobs it asks."""
    import prover.pipeline as pipeline

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    tasks = [pipeline.CallTask(os.getpid, (), 30, lambda *a: None) for _ in range(6)]
    pids = list(pipeline.run_calls(tasks, jobs=100))
    assert len(pids) == 6 and None not in pids
    assert len(set(pids)) == 2 and os.getpid() not in pids


def test_a_verification_that_hangs_fails_alone_within_its_budget(tree, capsys, monkeypatch):
    """A store may come from a stranger: each certificate is verified in a worker under
    the budget, and one whose verification never ends fails, naming it; the rest pass."""
    assert main(["check", "-q"]) == 0
    capsys.readouterr()
    import prover.verify

    real = prover.verify._verify

    def hangs_on_slow(rec, *args):
        if rec.id == "slow":
            time.sleep(3600)
        return real(rec, *args)

    monkeypatch.setattr(prover.verify, "_verify", hangs_on_slow)
    began = time.monotonic()
    code = main(["verify", "--timeout", "0.5", "--jobs", "2"])
    lines = _verify_lines(capsys)
    assert code == 1
    assert time.monotonic() - began < 30
    assert lines["slow"].split()[1] == "failed"
    assert "the verification did not finish within 0.5 s (--timeout)" in lines["slow"]
    assert "the certificate is not passed" in lines["slow"]
    assert lines["good"].split()[1] == "pass"


def test_a_verification_that_exhausts_memory_fails_alone(tree, capsys, monkeypatch):
    assert main(["check", "-q"]) == 0
    capsys.readouterr()
    import prover.verify

    real = prover.verify._verify

    def greedy_on_good(rec, *args):
        if rec.id == "good":
            blocks = [bytearray(64 * 1024 ** 2) for _ in range(64)]    # 4 GiB
            del blocks
        return real(rec, *args)

    monkeypatch.setattr(prover.verify, "_verify", greedy_on_good)
    code = main(["verify", "--memory", "512M"])
    lines = _verify_lines(capsys)
    assert code == 1
    assert lines["good"].split()[1] == "failed"
    assert "out of memory" in lines["good"] and "not passed" in lines["good"]
    assert lines["slow"].split()[1] == "pass"


def test_stored_results_are_reverified_in_workers_and_a_failing_one_is_rechecked(
        tree, capsys, monkeypatch):
    """`check` reuses a stored result only while verify passes it; that verification runs
    in the workers too, and a record it fails is checked afresh (reported after the
    reused ones, as every fresh result is)."""
    (tree / "conjectures" / "also.toml").write_text(VALID.replace("2*rDZ", "3*rDZ"))
    assert main(["check", "-q"]) == 0
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in Path("certificates").glob("*.json")}
    import prover.verify

    real = prover.verify._verify
    parent = os.getpid()

    def fails_good_in_a_worker(rec, *args):
        report = real(rec, *args)
        if rec.id == "good":
            assert os.getpid() != parent            # verified in a worker, not here
            report.status, report.detail = "failed", "made to fail by the test"
        return report

    monkeypatch.setattr(prover.verify, "_verify", fails_good_in_a_worker)
    assert main(["check", "--json", "-v"]) == 0
    captured = capsys.readouterr()
    results = json.loads(captured.out)["results"]
    assert "2 unchanged since their certificates were made: reused" in captured.err
    assert [r["id"] for r in results] == ["also", "slow", "good"]   # reused, then fresh
    after = {p.name: p.read_bytes() for p in Path("certificates").glob("*.json")}
    assert after["slow.json"] == before["slow.json"]        # reused: not a byte changed
    assert after["also.json"] == before["also.json"]
    assert json.loads(after["good.json"])["verdict"] == "refuted"
