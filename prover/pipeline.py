"""Checking many conjectures: long-lived worker processes, each conjecture under its budget.

The same workers, budgets, memory cap and kills run ``verify``'s re-checks of stored
certificates (``run_calls``: ``prover verify``, and ``prover check`` before it reuses a
stored result): a store may come from a stranger, and a certificate whose verification
hangs or exhausts memory fails alone.

``--timeout S`` bounds a whole conjecture — parse, encoding, case splits, certificate
search, both solvers, realizer, simulation, the Coq kernel — not one solver call: the
phases inside ``check`` share one deadline (each gets what is left), and the worker is
killed, with everything it started, once ``S`` plus a grace of ``GRACE_SECONDS`` +
``GRACE_FRACTION``·S has passed. The conjecture then ends ``unknown``, naming the phase
that ran out. ``--memory`` caps each worker's address space (RLIMIT_AS, inherited by the
solver processes it starts); running out is ``unknown`` with that reason, never a crashed
batch.

No orphans: each worker leads its own process group (its solver children and ``coqc``
inherit it), a budget kill signals the whole group, and a watchdog thread in the worker
kills the group as soon as prover itself is gone — also after ``kill -9``, which no
handler can catch. Solver children additionally ask the kernel for the parent-death
signal (see ``solvers``).

At most ``min(--jobs, cores, conjectures)`` workers run at once, each forked once (by
the zygote when the ``prover`` command started one, prover/zygote.py, already loaded;
else here) and sent conjecture after conjecture (with the solver pool it keeps, see ``solvers.pool``): a
worker is replaced only after a budget kill, a crash or an error. Results come back in
input order. Being an isolation unit itself, a worker runs Z3 on linear problems, and
the first slice of a race's Z3 call on a nonlinear one, in-process instead of in a
pooled child (``solvers.INLINE``).
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import pickle
import signal
import time
from collections import deque
from typing import Iterator

from . import zygote as _zygote
from .worker import serve as _serve

GRACE_SECONDS = 2.0
GRACE_FRACTION = 0.1
DEFAULT_MEMORY = 4 * 1024 ** 3


def exit_text(code) -> str:
    """How a worker that died ended, for a reason: its exit code, and the likely cause
    when the kernel killed it (SIGKILL: the memory cap or the OOM killer); None when no
    exit code came (its parent, the zygote, was gone too)."""
    if code is None:
        return "exit code unknown"
    return f"exit code {code}" + (", killed: out of memory?" if code in (-9, 137) else "")


def hard_limit(seconds: float) -> float:
    return seconds + GRACE_SECONDS + GRACE_FRACTION * seconds


def parse_memory(text: str) -> int:
    """'4G', '512M', '2GiB', '1073741824' -> bytes; ValueError with what is valid."""
    units = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}
    s = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = s[-1:] if s[-1:] in units and s[-1:] != "" and not s[-1:].isdigit() else ""
    number = s[:-1] if unit else s
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"--memory {text!r}: expected a size like 4G, 512M or a number "
                         "of bytes") from None
    size = int(value * units[unit])
    if not 64 * 1024 ** 2 <= size <= 1024 ** 5:
        raise ValueError(f"--memory {text!r}: must be between 64M and 1P")
    return size


def kill_group(proc) -> None:
    """Kill a worker started by ``isolate`` and everything it started; reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    if proc.is_alive():
        proc.kill()
    proc.join(2)


class _Worker:
    """A worker process, forked once and reused for conjecture after conjecture (its
    solver pool with it), replaced only when a budget kill or a failure ends it."""

    def __init__(self, memory):
        self.job: _Running | None = None
        zygote = _zygote.current()
        if zygote is not None:          # forked by the zygote, already loaded
            try:
                pid, self.conn, self.phase = zygote.spawn(memory)
                self.proc = _zygote.Child(zygote, pid)
                return
            except OSError:
                pass                    # it stopped answering: fork here, as without it
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe(duplex=True)
        self.phase = mmap.mmap(-1, 1)   # shared with the forked worker (MAP_SHARED)
        self.proc = ctx.Process(target=_serve, args=(child, self.phase, memory, os.getpid()))
        self.proc.start()
        child.close()

    def kill(self, wait: bool = True) -> None:
        """Kill the worker and everything it started; ``wait``: until it is reaped (its
        exit code known). A zygote's worker is killed by the zygote, which reaps it."""
        if isinstance(self.proc, _zygote.Child):
            self.proc.kill()
            if wait:
                self.proc.join(2)
        else:
            kill_group(self.proc)
        self.conn.close()
        self.phase.close()

    def reap(self) -> None:
        """After ``kill(wait=False)``: wait (at most 2 s) until the worker is gone."""
        if isinstance(self.proc, _zygote.Child):
            self.proc.join(2)


class _CheckTask:
    """Checking one conjecture: its budget, and the outcome when the worker fails it."""

    def __init__(self, conj, timeout, kernel, slices: bool = True):
        from .check import budget
        self.conj, self.timeout, self.kernel = conj, timeout, kernel
        self.slices = slices
        self.seconds = budget(conj, timeout)

    def message(self) -> bytes:
        """What the worker is sent (pickled when it starts, not all up front)."""
        return pickle.dumps(("check", (self.conj, self.timeout, self.kernel, self.slices)))

    def without_slices(self) -> "_CheckTask | None":
        """The same check with every nonlinear solver call in the pool, for a worker that
        died (a nonlinear slice's alarm ended it, solvers.SLICE_ALARM, or a crash, maybe
        Z3's in a slice); None if this was it."""
        return _CheckTask(self.conj, self.timeout, self.kernel, False) if self.slices \
            else None

    def failed(self, event: str, detail, phase: str, elapsed: float):
        if event == "error":
            reason = f"the check stopped during {phase}: {detail}"
        elif event == "died":
            reason = (f"the worker died during {phase} ({exit_text(detail)}); try a larger "
                      "--memory or a smaller problem")
        elif event == "budget":
            reason = (f"the conjecture's budget of {self.seconds:g} s (--timeout) ran out "
                      f"during {phase}; try a longer --timeout, a smaller max_order/degree, "
                      "or split the claim")
        else:
            reason = "no worker process could be started"
        return _unknown(self.conj, reason, self.timeout, phase, elapsed)


class CallTask:
    """``func(*args)`` in a worker (a module-level function: it is sent by name), under
    ``seconds`` of budget, the memory cap and the process-group kill a check gets; when
    the worker does not finish it, ``failed(event, detail, phase, elapsed)`` gives the
    result instead (event 'error' with the message, 'died' with the exit code, 'budget',
    or 'start')."""

    def __init__(self, func, args: tuple, seconds: float, failed):
        self.func, self.args = func, args
        self.seconds = float(seconds)
        self.failed = failed

    def message(self) -> bytes:
        return pickle.dumps(("call", (self.func, self.args)))


class _Running:
    """One task (a conjecture to check, a certificate to verify) being run by a worker,
    under its budget."""

    def __init__(self, index, task, worker: _Worker):
        self.index, self.task = index, task
        self.seconds = task.seconds
        self.started = time.monotonic()
        self.deadline = self.started + hard_limit(self.seconds)
        self.worker = worker
        worker.job = self
        worker.phase[0] = 0                 # "start", until the worker says otherwise
        worker.conn.send_bytes(task.message())

    @property
    def phase(self) -> str:
        from .check import PHASES
        return PHASES[self.worker.phase[0]]


class Failed:
    """A conjecture that ended before its encoding existed: no certificate can be written
    (the store holds only answers to an encoded problem), so it is reported as an error."""

    def __init__(self, conj, message: str):
        self.conjecture, self.message = conj, message


def _unknown(conj, reason: str, timeout, phase: str, seconds: float = 0.0):
    """An ``unknown`` outcome for a conjecture whose worker did not finish."""
    from .check import Outcome, new_draft
    from .encode import encode

    if phase in ("start", "encoding"):
        # the encoding itself did not finish: redoing it here could hang the batch
        return Failed(conj, reason)
    problem = encode(conj.instance(), conj.claim, conj.assume)
    draft = new_draft(conj, problem)
    draft.set_unknown(reason)
    out = Outcome(conj, draft.freeze())
    out.seconds = seconds
    out.warnings.append(reason)
    return out


def run_many(conjectures, *, timeout: float | None = None, kernel: bool = False,
             jobs: int = 1, memory: int | None = DEFAULT_MEMORY) -> Iterator:
    """Check each conjecture in its own worker; yield Outcomes in input order."""
    _preload(c.model for c in conjectures)
    yield from _run_tasks([_CheckTask(c, timeout, kernel) for c in conjectures], jobs, memory)


def run_calls(tasks: list[CallTask], *, jobs: int = 1, memory: int | None = DEFAULT_MEMORY,
              models: tuple[str, ...] = ()) -> Iterator:
    """Run each ``CallTask`` in a worker, at most ``jobs`` at once; yield the results in
    input order. ``models``: the models whose lazy modules the calls will import (loaded
    here once, shared by the forked workers)."""
    _preload(models)
    yield from _run_tasks(tasks, jobs, memory)


def _preload(model_names) -> None:
    """Import once here what the workers will need (Z3, the models' lazy modules), so
    that every forked worker shares it instead of importing it again."""
    zygote = _zygote.current()
    if zygote is not None:              # it imports them, and forks the workers
        try:
            zygote.preload(model_names)
            return
        except OSError:
            pass
    from . import check, solvers

    solvers.preload()
    check.preload(model_names)


def worker_count(jobs: int, tasks: int) -> int:
    """How many workers ``tasks`` tasks get with ``jobs`` asked: never more than the
    machine's cores or the tasks (DESIGN.md: at most min(--jobs, cores, conjectures))."""
    return max(1, min(jobs, os.cpu_count() or 1, tasks or 1))


def _run_tasks(tasks, jobs: int, memory: int | None) -> Iterator:
    """Run each task in a worker, at most ``worker_count(jobs, len(tasks))`` at once;
    yield results in input order."""
    from multiprocessing.connection import wait

    todo = deque(enumerate(tasks))
    idle: list[_Worker] = []
    running: dict[object, _Worker] = {}
    done: dict[int, object] = {}
    emitted = 0
    jobs = worker_count(jobs, len(tasks))

    def start(index, task) -> None:
        for attempt in range(2):
            worker = idle.pop() if idle and not attempt else _Worker(memory)
            try:
                _Running(index, task, worker)
            except (BrokenPipeError, OSError):      # died while idle: a fresh one
                worker.kill()
                continue
            running[worker.conn] = worker
            return
        done[index] = task.failed("start", None, "start", 0.0)

    def retire(worker: _Worker, reuse: bool) -> None:
        del running[worker.conn]
        worker.job = None
        if reuse and worker.proc.is_alive():
            idle.append(worker)
        else:
            worker.kill()

    try:
        while todo or running:
            while todo and len(running) < jobs:
                start(*todo.popleft())
            if not running:
                continue
            now = time.monotonic()
            ready = wait(list(running), timeout=max(0.0, min(
                w.job.deadline for w in running.values()) - now))
            for conn in ready:
                worker = running[conn]
                job = worker.job
                try:
                    kind, payload = conn.recv()
                except (EOFError, OSError):
                    kind, payload = "died", None
                phase = job.phase                   # before the worker is retired
                retire(worker, reuse=kind == "done")
                if kind == "done":
                    done[job.index] = payload
                elif kind == "error":
                    done[job.index] = job.task.failed("error", payload, phase,
                                                      time.monotonic() - job.started)
                else:
                    # a slice's alarm (-SIGALRM), or a crash that may have been Z3's in
                    # a slice: once more, every nonlinear call in the pool, where a crash
                    # costs one call (a crash elsewhere simply recurs, and is reported)
                    code = worker.proc.exitcode
                    again = getattr(job.task, "without_slices", lambda: None)()
                    if again is not None:
                        todo.appendleft((job.index, again))
                    else:
                        done[job.index] = job.task.failed("died", code, phase,
                                                          time.monotonic() - job.started)
            now = time.monotonic()
            for conn, worker in list(running.items()):
                job = worker.job
                if now >= job.deadline:
                    phase = job.phase
                    retire(worker, reuse=False)
                    done[job.index] = job.task.failed("budget", None, phase,
                                                      time.monotonic() - job.started)
            while todo and len(running) < jobs:
                start(*todo.popleft())      # before the caller stores what is done
            while emitted in done:
                yield done.pop(emitted)
                emitted += 1
    finally:
        workers = list(running.values()) + idle
        for worker in workers:              # all killed first, then waited for together:
            worker.kill(wait=False)         # none outlives the batch (nor holds its stdout)
        for worker in workers:
            worker.reap()
