"""Long-lived workers (prover/solvers/pool.py, prover/pipeline.py): reused across calls
and conjectures, replaced after a timeout, a crash or a cancellation."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from prover import solvers
from prover.cli import main
from prover.solvers import pool

VALID = 'model = "twins"\nclaim = "h2 <= 2*rDZ"\n[params]\nmax_order = 1\n'


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_a_worker_serves_many_calls():
    answers = {solvers.run_isolated(os.getpid, (), 10) for _ in range(5)}
    assert len(answers) == 1
    ((status, pid),) = answers
    assert status == "ok" and pid != os.getpid() and _alive(pid)


def test_an_overrun_kills_the_worker_and_the_next_call_gets_a_fresh_one():
    task = pool.submit(time.sleep, (3600,), 0.1)
    hung = task.worker.proc.pid
    task.deadline = time.monotonic() + 0.2          # not the usual 5 s grace
    assert task.result() == ("timeout", "timeout after 0.1 s")
    assert not _alive(hung)
    status, fresh = solvers.run_isolated(os.getpid, (), 10)
    assert status == "ok" and fresh != hung


def test_a_crashed_worker_is_an_error_and_is_replaced():
    status, before = solvers.run_isolated(os.getpid, (), 10)
    status, message = solvers.run_isolated(os._exit, (3,), 10)
    assert (status, message) == ("error", "process died (exit code 3)")
    status, after = solvers.run_isolated(os.getpid, (), 10)
    assert status == "ok" and after != before and not _alive(before)


def _abort_loudly():
    os.write(2, b"Fatal failure within a solver's native code\n")
    os.abort()


def test_what_a_dying_solver_prints_does_not_reach_the_terminal(capfd):
    """A solver child's standard error goes nowhere: cvc5 aborting printed its internal
    'Fatal failure within ...' straight to the user's terminal. The outcome says why."""
    pool.shutdown()                 # a fresh child, forked with the captured stderr
    status, message = solvers.run_isolated(_abort_loudly, (), 10)
    assert (status, message) == ("error", "process died (exit code -6)")
    assert "Fatal failure" not in capfd.readouterr().err


def test_an_exception_is_reported_and_the_worker_kept():
    status, before = solvers.run_isolated(os.getpid, (), 10)
    assert solvers.run_isolated(int, ("x",), 10) == (
        "error", "ValueError: invalid literal for int() with base 10: 'x'")
    assert solvers.run_isolated(os.getpid, (), 10) == ("ok", before)


def test_a_cancelled_call_past_its_grace_is_killed():
    task = pool.submit(time.sleep, (3600,), 60)
    pid = task.worker.proc.pid
    task.cancel()
    time.sleep(pool.CANCEL_GRACE + 0.1)
    pool.pool().reap()
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_a_cancelled_call_that_ends_in_its_grace_keeps_its_worker():
    task = pool.submit(time.sleep, (0.05,), 60)
    pid = task.worker.proc.pid
    task.cancel()
    time.sleep(0.15)
    assert solvers.run_isolated(os.getpid, (), 10) == ("ok", pid)


def test_unpicklable_tasks_run_in_a_worker_forked_for_them():
    secret = object()
    assert solvers.run_isolated(lambda: id(secret), (), 10) == ("ok", id(secret))


def test_one_conjecture_worker_checks_a_whole_batch(tmp_path, monkeypatch, capsys):
    import prover.pipeline as pipeline

    (tmp_path / "conjectures").mkdir()
    for k in range(3):
        (tmp_path / "conjectures" / f"c{k}.toml").write_text(VALID)
    monkeypatch.chdir(tmp_path)
    forked = []
    real = pipeline._Worker.__init__

    def counting(self, *args, **kwargs):
        real(self, *args, **kwargs)
        forked.append(self.proc.pid)

    monkeypatch.setattr(pipeline._Worker, "__init__", counting)
    assert main(["check", "-q", "--jobs", "1"]) == 0
    assert len(forked) == 1
    assert len(list((tmp_path / "certificates").rglob("*.json"))) == 3
    assert not _alive(forked[0])            # closed with the batch


def test_the_command_line_asks_for_one_blas_thread_unless_told_otherwise():
    import subprocess
    import sys

    code = "import os; import prover.cli; print(os.environ['OPENBLAS_NUM_THREADS'])"
    env = {k: v for k, v in os.environ.items() if not k.endswith("NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "1"
    env["OPENBLAS_NUM_THREADS"] = "3"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "3"


_FREED = """
import ctypes, sys
from prover.solvers import pool
if sys.argv[1] == "tuned":
    pool.keep_freed_memory()
libc = ctypes.CDLL(None)
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks",
                "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
block = libc.malloc(16 << 20)
ctypes.memset(block, 1, 16 << 20)
libc.free(ctypes.c_void_p(block))
print(libc.mallinfo2().fordblks)
"""


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="glibc's malloc (Linux) only")
def test_workers_keep_freed_memory_for_reuse():
    """keep_freed_memory: a freed 16 MiB block stays in the heap for the next allocation
    (by default it is a fresh mmap, returned on free, and faulted in page by page again:
    half the CPU time of a twins batch was the kernel zeroing such pages)."""
    import subprocess
    import sys
    kept = {mode: int(subprocess.run([sys.executable, "-c", _FREED, mode], check=True,
                                     capture_output=True, text=True).stdout)
            for mode in ("default", "tuned")}
    assert kept["tuned"] >= 16 << 20 > kept["default"], kept


def test_pool_and_check_workers_ask_for_it(monkeypatch, tmp_path):
    marks = tmp_path / "marks"

    def mark():
        with open(marks, "a") as fh:
            fh.write(f"{os.getpid()}\n")
    monkeypatch.setattr(pool, "keep_freed_memory", mark)
    pool.shutdown()
    status, pid = solvers.run_isolated(os.getpid, (), 10)
    assert status == "ok" and str(pid) in marks.read_text().split()
    conj = tmp_path / "c.toml"
    conj.write_text(VALID)
    before = len(marks.read_text().split())
    assert main(["check", "-q", "--jobs", "1", "--store", str(tmp_path / "s"), str(conj)]) == 0
    assert len(marks.read_text().split()) > before      # the check worker (and its pool)
