"""Long-lived worker processes for isolated calls: forked once, reused for many tasks.

A task (a module-level function and its arguments) runs in an idle worker of the
calling process's pool, under a hard deadline and the worker's memory cap. A worker
that overruns its deadline, dies, or is cancelled while busy is killed and forgotten;
the next task that finds no idle worker forks a fresh one. So isolation is as before —
a solver crash, hang or memory blow-up costs one call, never the batch — but a batch of
short calls pays one fork per worker instead of one per call (on a process with Z3,
cvc5 and sympy loaded, the fork and the child's exit dominate a simple call).

Workers are forked from the process that uses the pool (a pool belongs to one process:
a forked child that calls in gets a pool of its own). Each worker asks Linux for the
parent-death signal, so none outlives prover, also after ``kill -9``.

Tasks must not depend on state a previous task left behind: every solver backend
builds a fresh context per call and every search seeds its own generator.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import pickle
import time

MEMORY_LIMIT = 6 * 1024 ** 3
MAX_IDLE = 4            # idle workers kept per process; more are closed
CANCEL_GRACE = 0.25     # a cancelled task may finish this long before its worker is killed


def die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no orphaned solvers, even
    after kill -9 of prover); a no-op elsewhere."""
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)      # PR_SET_PDEATHSIG
    except (OSError, AttributeError, ImportError):
        pass
    if os.getppid() != parent:                      # the parent died before prctl
        os._exit(1)


def keep_freed_memory() -> None:
    """Ask glibc's malloc to serve blocks up to 32 MiB from the heap and to keep freed
    memory for reuse instead of returning it to the system (mallopt: M_MMAP_THRESHOLD,
    M_TRIM_THRESHOLD, M_TOP_PAD). By default every array above 128 KiB is a fresh mmap,
    and each of its pages is faulted in and zeroed by the kernel on first touch: on 2
    cores, half of all CPU time of 50 twins conjectures was the kernel doing that (perf),
    and these settings halve the run (bench/bench_throughput.py). The peak memory is
    unchanged and the --memory cap still applies. A no-op where mallopt is missing."""
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError, ImportError):
        return
    for option, value in ((-3, 32 << 20),        # M_MMAP_THRESHOLD
                          (-1, (1 << 31) - 1),    # M_TRIM_THRESHOLD: never trim
                          (-2, 64 << 20)):        # M_TOP_PAD: grow the heap in 64 MiB
        try:
            mallopt(ctypes.c_int(option), ctypes.c_int(value))
        except (OSError, TypeError, ValueError):
            return


def _cap_memory() -> None:
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        cap = MEMORY_LIMIT if soft == resource.RLIM_INFINITY else min(soft, MEMORY_LIMIT)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))   # never above the caller's
    except (ImportError, ValueError, OSError):
        pass


def _quiet_stderr() -> None:
    """Point this worker's standard error at /dev/null: what a solver's native code prints
    as it aborts (cvc5's 'Fatal failure within ...') would otherwise reach the user's
    terminal raw. The call's outcome still says what happened ('process died (exit code
    -6)'), and its record keeps that."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(null, 2)
    except OSError:
        pass
    finally:
        os.close(null)


def _serve(conn, parent: int, first=None) -> None:
    """A worker's loop: run each task received, send back its outcome, until closed.
    ``first``: a task inherited through the fork (one that cannot be pickled)."""
    die_with_parent(parent)
    keep_freed_memory()
    _cap_memory()
    _quiet_stderr()
    while True:
        if first is None:
            try:
                message = conn.recv_bytes()
            except (EOFError, OSError):
                os._exit(0)
        try:
            if first is not None:
                (func, args), first = first, None
            else:
                func, args = pickle.loads(message)
            outcome = ("ok", func(*args))
        except MemoryError:
            outcome = ("error", "out of memory")
        except BaseException as exc:  # report, never crash the batch
            outcome = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(outcome)
        except MemoryError:
            conn.send(("error", "out of memory"))
        except (BrokenPipeError, OSError):
            os._exit(0)
        except BaseException as exc:  # an unpicklable result
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class Worker:
    def __init__(self, first=None):
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_serve, args=(child, os.getpid(), first), daemon=True)
        self.proc.start()
        child.close()

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(1)
        self.conn.close()


class Task:
    """One call running in a pool worker; ``result`` waits for it (at most until the hard
    deadline, then the worker is killed)."""

    def __init__(self, pool: "Pool", func, args: tuple, timeout: float):
        self.pool = pool
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout + 5
        self.outcome = None
        try:
            message = pickle.dumps((func, args))
        except Exception:       # a local function (a test's stand-in): fork it along
            self.worker = Worker(first=(func, args))
            self.conn = self.worker.conn
            return
        self.worker = pool.acquire()
        self.conn = self.worker.conn
        try:
            self.conn.send_bytes(message)
        except (BrokenPipeError, OSError, EOFError):
            self.worker.kill()              # died while idle: one fresh worker, once
            self.worker = pool.acquire(fresh=True)
            self.conn = self.worker.conn
            self.conn.send_bytes(message)

    def result(self) -> tuple[str, object]:
        if self.outcome is not None:
            return self.outcome
        outcome = None
        if self.conn.poll(max(0.0, self.deadline - time.monotonic())):
            try:
                outcome = self.conn.recv()
            except (EOFError, OSError):
                outcome = None
        worker, self.worker = self.worker, None
        if outcome is None:
            worker.kill()
            code = worker.proc.exitcode
            if code in (None, -9, 0):
                outcome = ("timeout", f"timeout after {self.timeout:g} s")
            else:
                outcome = ("error", f"process died (exit code {code})")
        else:
            self.pool.release(worker)
        self.outcome = outcome
        return outcome

    def cancel(self) -> None:
        """Stop waiting: the worker goes back to the pool if the call ends within
        ``CANCEL_GRACE`` seconds, else it is killed."""
        if self.worker is None:
            return
        worker, self.worker = self.worker, None
        self.outcome = ("cancelled", "cancelled")
        self.pool.abandon(worker, time.monotonic() + CANCEL_GRACE)


class Pool:
    def __init__(self):
        self.pid = os.getpid()
        self.idle: list[Worker] = []
        self.abandoned: list[tuple[Worker, float]] = []

    def reap(self) -> None:
        """Take back abandoned workers that have finished; kill those past their grace."""
        now = time.monotonic()
        keep = []
        for worker, until in self.abandoned:
            try:
                if worker.conn.poll(0):
                    worker.conn.recv()
                    self.release(worker)
                    continue
            except (EOFError, OSError):
                worker.kill()
                continue
            if now >= until:
                worker.kill()
            else:
                keep.append((worker, until))
        self.abandoned = keep

    def acquire(self, fresh: bool = False) -> Worker:
        self.reap()
        while self.idle and not fresh:
            worker = self.idle.pop()
            if worker.proc.is_alive():
                return worker
            worker.kill()
        return Worker()

    def release(self, worker: Worker) -> None:
        if len(self.idle) >= MAX_IDLE or not worker.proc.is_alive():
            worker.kill()
        else:
            self.idle.append(worker)

    def abandon(self, worker: Worker, until: float) -> None:
        self.abandoned.append((worker, until))
        self.reap()

    def close(self) -> None:
        for worker in self.idle + [w for w, _ in self.abandoned]:
            worker.kill()
        self.idle, self.abandoned = [], []


_POOL: Pool | None = None


def pool() -> Pool:
    """This process's pool (a forked child gets its own, never its parent's workers)."""
    global _POOL
    if _POOL is None or _POOL.pid != os.getpid():
        _POOL = Pool()
    return _POOL


def shutdown() -> None:
    global _POOL
    if _POOL is not None and _POOL.pid == os.getpid():
        _POOL.close()
    _POOL = None


atexit.register(shutdown)


def submit(func, args: tuple, timeout: float) -> Task:
    return Task(pool(), func, args, timeout)
