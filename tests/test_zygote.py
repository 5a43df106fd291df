"""The zygote (prover/zygote.py): the process that ``prover check`` and ``prover verify``
fork first, which imports what the workers share and forks them. Each test runs a script
in a fresh interpreter, as the command does: the zygote is started there, after the
script has replaced what it needs to (so the workers forked from it run the
replacement), never in the test process."""

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

from prover import zygote
from test_pipeline import (REFUTED, VALID, _alive, _assert_all_die, _kill_tree,
                           _wait_for_descendants)

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not zygote.supported(), reason="the zygote is Linux-only")


def _run(script: str, cwd=None, timeout=120, probe: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("OPENBLAS_NUM_THREADS", None)          # the zygote must set it itself
    script = (textwrap.dedent(PROBE) if probe else "") + textwrap.dedent(script)
    proc = subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


PROBE = """
    import json, os, sys, time
    from prover import pipeline, zygote

    def probe(_):
        return {"pid": os.getpid(), "ppid": os.getppid(), "group": os.getpgid(0),
                "numpy": "numpy" in sys.modules,
                "twins": "prover.realizers.twins_sim" in sys.modules,
                "blas": os.environ.get("OPENBLAS_NUM_THREADS")}

    def die(_):
        os.kill(os.getpid(), 9)

    def nap(seconds):
        time.sleep(seconds)

    def failed(event, detail, phase, elapsed):
        return {"event": event, "detail": detail, "elapsed": elapsed}

    def task(func, arg, seconds=30):
        return pipeline.CallTask(func, (arg,), seconds, failed)
"""


def test_workers_are_forked_by_the_zygote_loaded_isolated_and_single_threaded():
    out = _run(probe=True, script="""
        zygote.start()
        z = zygote.current()
        results = list(pipeline.run_calls([task(probe, k) for k in range(4)], jobs=2,
                                          models=("twins",)))
        gone = [not os.path.exists(f"/proc/{r['pid']}") for r in results]
        print(json.dumps({"zygote": z.pid, "me": os.getpid(), "results": results,
                          "numpy_here": "numpy" in sys.modules, "gone": gone}))
    """)
    assert out["zygote"] != out["me"]
    for r in out["results"]:
        assert r["ppid"] == out["zygote"]            # forked by the zygote, not here
        assert r["group"] == r["pid"]                # each leads its own process group
        assert r["numpy"] and r["twins"]             # imported before the fork
        assert r["blas"] == "1"                      # one BLAS thread, set before numpy
    assert len({r["pid"] for r in out["results"]}) == 2     # two workers, reused
    assert not out["numpy_here"]                     # the command itself never imports it
    assert all(out["gone"])                  # killed and reaped before run_calls returns


def test_a_dead_or_overrunning_worker_is_reported_and_replaced_through_the_zygote():
    out = _run(probe=True, script="""
        zygote.start()
        tasks = [task(probe, 0), task(die, 0), task(probe, 1), task(nap, 60, seconds=0.3),
                 task(probe, 2)]
        began = time.monotonic()
        results = list(pipeline.run_calls(tasks, jobs=1))
        print(json.dumps({"results": results, "took": time.monotonic() - began}))
    """)
    first, died, second, overran, third = out["results"]
    assert died["event"] == "died" and died["detail"] == -9       # its signal, reported
    assert overran["event"] == "budget"
    assert 0.3 <= overran["elapsed"] < 10
    assert len({first["pid"], second["pid"], third["pid"]}) == 3  # each failure replaced
    assert out["took"] < 30
    assert not _alive(first["pid"]) and not _alive(second["pid"])


def test_when_the_zygote_is_gone_the_workers_are_forked_here():
    out = _run(probe=True, script="""
        zygote.start()
        z = zygote.current()
        os.kill(z.pid, 9)
        os.waitpid(z.pid, 0)
        results = list(pipeline.run_calls([task(probe, k) for k in range(3)], jobs=1))
        print(json.dumps({"me": os.getpid(), "results": results,
                          "current": zygote.current() is not None}))
    """)
    assert [r["ppid"] for r in out["results"]] == [out["me"]] * 3
    assert not out["current"]


def test_when_the_zygote_dies_mid_batch_the_batch_goes_on_with_workers_forked_here():
    out = _run(probe=True, script="""
        def kill_zygote(_):                 # defined before the zygote is forked
            os.kill(os.getppid(), 9)        # the worker's parent: the zygote
            time.sleep(30)                  # its watchdog ends it before this does

        zygote.start()
        z = zygote.current()
        tasks = [task(probe, 0), task(kill_zygote, 0), task(probe, 1), task(probe, 2)]
        results = list(pipeline.run_calls(tasks, jobs=1))
        print(json.dumps({"me": os.getpid(), "zygote": z.pid, "results": results}))
    """)
    first, killed, second, third = out["results"]
    assert first["ppid"] == out["zygote"]
    assert killed["event"] == "died" and killed["detail"] is None
    assert [second["ppid"], third["ppid"]] == [out["me"]] * 2
    from prover.pipeline import exit_text
    assert exit_text(None) == "exit code unknown"


def test_without_memfd_the_workers_are_forked_here():
    # a sandbox that refuses memfd_create: the zygote is given up, nothing else changes
    out = _run(probe=True, script="""
        zygote.start()
        def refused(*args):
            raise PermissionError(1, "Operation not permitted")
        os.memfd_create = refused
        results = list(pipeline.run_calls([task(probe, k) for k in range(2)], jobs=1))
        print(json.dumps({"me": os.getpid(), "results": results,
                          "current": zygote.current() is not None}))
    """)
    assert [r["ppid"] for r in out["results"]] == [out["me"]] * 2
    assert not out["current"]


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "conjectures").mkdir()
    (tmp_path / "conjectures" / "slow.toml").write_text(VALID)
    (tmp_path / "conjectures" / "good.toml").write_text(REFUTED)
    return tmp_path


def test_a_budget_overrun_names_the_phase_the_zygotes_worker_was_in(tree):
    # the phase byte is shared through a memfd the zygote hands on to the worker
    out = _run("""
        import contextlib, io, json, sys, time
        import prover.certify
        from prover import zygote

        def endless(problem, timeout=60.0):
            time.sleep(3600)

        prover.certify.search_certificate = endless
        zygote.start()
        from prover.cli import main
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = main(["check", "--json", "--timeout", "1", "--jobs", "2"])
        results = {r["id"]: r for r in json.loads(buffer.getvalue())["results"]}
        print(json.dumps({"code": code, "results": results,
                          "zygote": zygote.current() is not None}))
    """, cwd=tree)
    assert out["zygote"]
    assert out["code"] == 1
    assert out["results"]["slow"]["verdict"] == "unknown"
    assert out["results"]["slow"]["reason"].startswith(
        "the conjecture's budget of 1 s (--timeout) ran out during the certificate search")
    assert out["results"]["good"]["verdict"] == "refuted"


def test_no_orphans_after_kill_9_of_the_command(tree):
    """The command is killed with SIGKILL while a worker of the zygote waits on an
    isolated search child: the zygote, the worker and that child all die."""
    script = textwrap.dedent("""
        import sys, time
        import prover.certify
        from prover import solvers

        def search(problem, timeout=60.0):
            solvers.run_isolated(time.sleep, (3600,), 7200)
            return None, "unreachable"

        prover.certify.search_certificate = search
        sys.argv = ["prover", "check", "-q", "conjectures/slow.toml"]
        from prover.__main__ import main
        main()
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tree, env=env)
    try:
        tree_pids = _wait_for_descendants(proc, 3,
                                          "the zygote, the worker and its search child")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        _assert_all_die(tree_pids)
    finally:
        _kill_tree(proc)


def test_the_command_starts_the_zygote_only_for_check_and_verify():
    assert zygote.wanted(["check", "conjectures"])
    assert zygote.wanted(["verify", "-q"])
    assert not zygote.wanted(["check", "--help"])
    assert not zygote.wanted(["list"])
    assert not zygote.wanted(["show", "check"])
    assert not zygote.wanted([])


def test_ctrl_c_interrupts_the_command_quietly_and_leaves_nothing_running(tree):
    """Ctrl-C reaches the command and the zygote (one process group; each worker leads
    its own): the command says "interrupted" and exits 130, the zygote prints nothing
    (it ignores SIGINT and dies with the command), and no worker outlives them."""
    script = textwrap.dedent("""
        import sys, time
        import prover.certify

        def search(problem, timeout=60.0):
            time.sleep(3600)

        prover.certify.search_certificate = search
        sys.argv = ["prover", "check", "-q", "conjectures/slow.toml"]
        from prover.__main__ import main
        main()
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tree, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        tree_pids = _wait_for_descendants(proc, 2, "the zygote and its worker")
        time.sleep(0.3)                      # the worker is in its (endless) search
        os.killpg(proc.pid, signal.SIGINT)   # what the terminal sends on Ctrl-C
        out, err = proc.communicate(timeout=30)
        assert (proc.returncode, err.decode()) == (130, "interrupted\n")
        _assert_all_die(tree_pids)
    finally:
        _kill_tree(proc)
