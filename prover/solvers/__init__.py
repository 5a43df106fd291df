"""Solver backends behind one isolated call.

Each backend reads the problem as SMT-LIB 2 text (so no solver object ever leaves its
backend) and answers ``sat`` with a model, ``unsat``, or ``unknown`` with a reason. Every
call runs in a long-lived worker process (``pool``: forked once, reused) with a memory
cap and a hard deadline: a solver crash, hang or memory blow-up costs one call, never
the batch.
"""

from __future__ import annotations

import contextlib
import importlib
import signal
import time
from dataclasses import dataclass, field

BACKENDS = {"z3": "prover.solvers.z3_backend", "cvc5": "prover.solvers.cvc5_backend"}


@dataclass
class SolverResult:
    solver: str
    version: str
    result: str                    # 'sat' | 'unsat' | 'unknown' | 'cancelled' (not needed)
    seconds: float
    reason: str = ""
    values: dict = field(default_factory=dict)   # var -> {'exact': 'p/q'} | {'approx': '1.414…'}


def backend(name: str):
    return importlib.import_module(BACKENDS[name])


def available(name: str) -> bool:
    try:
        backend(name).load()
        return True
    except ImportError:
        return False


from .pool import MEMORY_LIMIT, die_with_parent as _die_with_parent, submit  # noqa: F401,E402


def _Job(func, args: tuple, timeout: float):
    """A function running in a pooled worker with a memory cap and a hard deadline."""
    return submit(func, args, timeout)


def run_isolated(func, args: tuple, timeout: float) -> tuple[str, object]:
    """Run ``func(*args)`` in a long-lived worker process (see ``pool``) with a memory
    cap and a hard deadline.

    Returns ("ok", result), ("error", message) or ("timeout", message)."""
    return submit(func, args, timeout).result()


# In-process calls. A process that is itself an isolation unit — a ``pipeline`` worker:
# budget-killed with its process group, memory-capped by --memory, one conjecture at a
# time — sets INLINE, and then runs in-process the calls whose cost its input bounds:
# Z3 on a linear problem (exact simplex, answered in about a millisecond) and the
# certificate LPs (``certify``: their size is capped). Each still has Z3's own timeout,
# and a watchdog thread interrupts Z3 shortly after it (``z3_backend``). A pool round
# trip cost a valid twins conjecture several times Z3's time (two processes woken per
# call; on 2 cores checking 2 conjectures at once those wake-ups queue), which is what
# kept --jobs 2 below 1.6x --jobs 1.
#
# Z3 on a nonlinear problem, whose cost its input does not bound, runs in-process only
# as the first slice of a race (``Portfolio``): at most INLINE_SLICE seconds of Z3's own
# timeout, in a fresh context as in a pooled child (so it answers what the pool would:
# Z3 is deterministic given the text and a fresh context); a slice that does not settle
# it is asked again in the pool with what is left of the timeout, where the deferred
# solvers join it. Most such calls in the bundled and generated corpora answer in a few
# milliseconds; each pool round trip had cost a worker 5-10 ms more with two workers
# than with one, and each worker's pooled child its first use (bench_throughput.py:
# --jobs 2 went from 1.65x to 1.77x --jobs 1). A crash inside Z3 during a slice, or a
# step that ignores Z3's timeout and interrupt (see SLICE_ALARM), costs the conjecture a
# second check with every nonlinear call pooled, instead of one call. The
# whole-timeout calls (``solve_many``, the counterexample ladder), cvc5, SOS and the
# realizers' searches still run in pooled children: a crash there costs one call, not
# the conjecture.
INLINE = False
INLINE_SLICE = 0.1      # an in-process race call not answered by then moves to the pool
# Z3 5.4 overran its 100 ms timeout by 23-33 ms on hostile systems, but on some (a power
# 32 in a twins assumption) it ignores both its timeout and the watchdog's interrupt for
# seconds, holding the worker. A pipeline worker sets SLICE_ALARM: each nonlinear slice
# arms a real-time timer for INLINE_SLICE + SLICE_GRACE whose signal, SIGALRM left at
# its default action, ends the worker if Z3 is still in the slice then (no thread: a
# handoff between threads cost as much as the pool round trip it replaces). The
# pipeline sees the worker die and checks the conjecture again in a fresh worker with
# SLICES_NONLINEAR off, every nonlinear call in the pool as before (``pipeline``); so
# does a crash, which may have been Z3's in a slice.
SLICE_ALARM = False
SLICE_GRACE = 0.2
SLICES_NONLINEAR = True


def inline_ok(name: str, text: str, sliced: bool = False) -> bool:
    """Whether the call of backend ``name`` on SMT-LIB ``text`` runs in this process:
    Z3 on a linear problem; ``sliced`` (a race's first slice, see above), also Z3 on a
    nonlinear one."""
    if not (INLINE and name == "z3"):
        return False
    return text.startswith("(set-logic QF_LRA)") or (sliced and SLICES_NONLINEAR
                                                    and _nonlinear(text))


def shared_context():
    """A scope within which this process's linear Z3 calls reuse one context (see
    ``z3_backend.shared_context``): ``check.check`` opens one per conjecture."""
    return backend("z3").shared_context()


def run_inline(func, args: tuple) -> tuple[str, object]:
    """``run_isolated``'s answer, computed in this process (see INLINE): ("ok", result)
    or ("error", message); the caller's own deadline bounds it."""
    try:
        return "ok", func(*args)
    except MemoryError:
        return "error", "out of memory"
    except Exception as exc:   # report, as the pooled child would
        return "error", f"{type(exc).__name__}: {exc}"


class _Done:
    """A call answered in this process, with a pooled task's interface."""

    conn = None

    def __init__(self, outcome: tuple[str, object], timeout: float):
        self.outcome = outcome
        self.deadline = time.monotonic() + timeout

    def result(self) -> tuple[str, object]:
        return self.outcome

    def cancel(self) -> None:
        pass


def _start(name: str, text: str, timeout: float, piece: float | None = None):
    """Backend ``name`` on ``text``: answered in this process when ``inline_ok`` (within
    ``piece`` seconds when given: a call not answered by then is started in the pool with
    what is left of ``timeout``), else a pooled task."""
    if inline_ok(name, text, sliced=piece is not None):
        began = time.perf_counter()
        first = timeout if piece is None else min(timeout, piece)
        guard = _alarm(first + SLICE_GRACE) if SLICE_ALARM and _nonlinear(text) \
            else contextlib.nullcontext()
        with guard:
            outcome = run_inline(_run_backend, (name, text, first))
        settled = outcome[0] == "ok" and outcome[1]["result"] != "unknown"
        # a slice that did not settle it (unknown, or an error such as running out of
        # the worker's memory) is asked again in the pool, under the pool's own cap
        if settled or first >= timeout or (outcome[0] != "ok" and not _nonlinear(text)):
            return _Done(outcome, timeout)
        timeout = max(0.1, timeout - (time.perf_counter() - began))
    return _Job(_run_backend, (name, text, timeout), timeout)


@contextlib.contextmanager
def _alarm(seconds: float):
    """SIGALRM after ``seconds`` unless the block has ended (see SLICE_ALARM); the signal's
    action must be the default, which ends the process."""
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _nonlinear(text: str) -> bool:
    return text.startswith("(set-logic QF_NRA)")


def _run_backend(name: str, text: str, timeout: float) -> dict:
    start = time.perf_counter()
    answer = backend(name).run(text, timeout)
    answer["seconds"] = time.perf_counter() - start     # the solver's own time
    return answer


def solve(name: str, text: str, timeout: float) -> SolverResult:
    """Run one backend on SMT-LIB ``text`` in an isolated child process."""
    return solve_many([(name, text)], timeout)[0]


def solve_many(calls: list[tuple[str, str]], timeout: float) -> list[SolverResult]:
    """Run several (backend, SMT-LIB text) calls at once, each in its own child."""
    jobs = []
    for name, text in calls:
        try:
            version = backend(name).version()
        except ImportError as exc:
            jobs.append((name, "", None, 0.0, f"{name} is not installed ({exc})"))
            continue
        jobs.append((name, version, _start(name, text, timeout), time.perf_counter(), ""))
    results = []
    for name, version, job, start, reason in jobs:
        if job is None:
            results.append(SolverResult(name, version, "unknown", 0.0, reason))
            continue
        status, payload = job.result()
        seconds = time.perf_counter() - start
        if status != "ok":
            results.append(SolverResult(name, version, "unknown", seconds, str(payload)))
        else:
            results.append(SolverResult(name, version, payload["result"], seconds,
                                        payload.get("reason", ""), payload.get("values", {})))
    return results


class Portfolio:
    """Several (backend, SMT-LIB text) calls running at once, each in its own child, read
    in the order they finish, so the caller can act on the first answer and ``cancel``
    the rest once the verdict is settled (the child is killed at once, not awaited).

    ``deferred`` {call: seconds}: a call that joins the race only if it is still needed
    that long after the start — when the calls waited for have not answered by then, when
    every one of them has answered without settling anything, or when ``start`` asks for
    it (the caller needs its answer). A call cancelled before it started costs nothing:
    on 2 cores checking 2 conjectures at once, a second solver racing a first that
    answers in milliseconds only takes the other conjecture's core."""

    def __init__(self, calls: list[tuple[str, str]], timeout: float,
                 deferred: dict[int, float] | None = None):
        self.timeout = timeout
        self.calls = list(calls)
        self.results: list[SolverResult | None] = [None] * len(calls)
        self._jobs: dict[int, tuple[str, str, "_Job", float]] = {}
        self._began = time.perf_counter()
        self._due: dict[int, float] = {}          # deferred call -> when it joins
        for k, (name, text) in enumerate(calls):
            try:
                backend(name).version()
            except ImportError as exc:
                self.results[k] = SolverResult(name, "", "unknown", 0.0,
                                               f"{name} is not installed ({exc})")
                continue
            if deferred and k in deferred:
                self._due[k] = time.monotonic() + deferred[k]
            else:
                self.start(k)

    def start(self, k: int) -> None:
        """Start call ``k`` now if it is deferred (a no-op if it runs or has ended); it
        gets what is left of the timeout."""
        if k in self._jobs or self.results[k] is not None:
            return
        self._due.pop(k, None)
        name, text = self.calls[k]
        left = max(0.1, self.timeout - (time.perf_counter() - self._began))
        began = time.perf_counter()
        self._jobs[k] = (name, backend(name).version(),
                         _start(name, text, left, piece=INLINE_SLICE), began)

    def pending(self) -> list[int]:
        """Calls running or deferred (not yet answered nor cancelled)."""
        return sorted(set(self._jobs) | set(self._due))

    def _collect(self, k: int) -> SolverResult:
        name, version, job, start = self._jobs.pop(k)
        status, payload = job.result()
        seconds = time.perf_counter() - start
        if status != "ok":
            result = SolverResult(name, version, "unknown", seconds, str(payload))
        else:
            seconds = payload.get("seconds", seconds)
            result = SolverResult(name, version, payload["result"], seconds,
                                  payload.get("reason", ""), payload.get("values", {}))
        self.results[k] = result
        return result

    def next(self, among=None) -> tuple[int, SolverResult] | None:
        """Wait for the first of the pending calls ``among`` (default: all) to finish;
        None when none is pending. Deferred calls join when they are due, and those
        among them at once when no started call among them is left."""
        from multiprocessing.connection import wait

        keys = [k for k in self.pending() if among is None or k in among]
        if not keys:
            return None
        while True:
            now = time.monotonic()
            idle = not any(j in self._jobs for j in keys)
            for k in list(self._due):
                if self._due[k] <= now or (idle and k in keys):
                    self.start(k)
            running = [k for k in keys if k in self._jobs]
            answered = [k for k in running if self._jobs[k][2].conn is None]
            if answered:                            # in-process calls answered already
                return answered[0], self._collect(answered[0])
            conns = {self._jobs[k][2].conn: k for k in running}
            deadline = min(self._jobs[k][2].deadline for k in running)
            due = min(self._due.values(), default=deadline)
            ready = wait(list(conns), timeout=max(0.0, min(deadline, due) - now))
            if ready:
                k = min(conns[c] for c in ready)
                return k, self._collect(k)
            if time.monotonic() < deadline:
                continue                            # a deferred call is due: start it
            # past a hard deadline: that child is hung; collect (kills) it
            k = min(running, key=lambda j: self._jobs[j][2].deadline)
            return k, self._collect(k)

    def wait(self, k: int) -> SolverResult:
        """The result of call ``k``, waiting for it if it is still running (a deferred
        call is started first)."""
        self.start(k)
        if k in self._jobs:
            return self._collect(k)
        return self.results[k]

    def cancel(self, k: int, reason: str) -> None:
        """Kill call ``k`` if it is still running (recorded as 'cancelled'); a deferred
        call that never started is recorded as 'cancelled' after 0 s."""
        if k in self._due:
            del self._due[k]
            name, _ = self.calls[k]
            self.results[k] = SolverResult(name, backend(name).version(), "cancelled", 0.0,
                                           reason + " (it was not started)")
            return
        if k not in self._jobs:
            return
        if self._jobs[k][2].conn is None:           # answered in-process: keep the answer
            self._collect(k)
            return
        name, version, job, start = self._jobs.pop(k)
        job.cancel()
        self.results[k] = SolverResult(name, version, "cancelled",
                                       time.perf_counter() - start, reason)

    def cancel_all(self, reason: str) -> None:
        for k in self.pending():
            self.cancel(k, reason)


def _run_until_sat(name: str, texts: list[str], timeout: float,
                   total: float | None = None) -> list[dict]:
    answers = []
    begin = time.perf_counter()
    for text in texts:
        start = time.perf_counter()
        left = timeout if total is None else min(timeout, total - (start - begin))
        if left <= 0.05:
            break                       # the ladder's whole budget is spent
        answer = backend(name).run(text, left)
        answer["seconds"] = time.perf_counter() - start
        answers.append(answer)
        if answer["result"] == "sat":
            break
    return answers


def solve_until_sat(name: str, texts: list[str], timeout: float,
                    total: float | None = None) -> list[SolverResult]:
    """Solve ``texts`` in order in one isolated child, stopping at the first sat
    (one process for a whole counterexample search ladder): each text gets ``timeout``
    seconds, and the whole ladder at most ``total`` when given."""
    try:
        version = backend(name).version()
    except ImportError as exc:
        return [SolverResult(name, "", "unknown", 0.0, f"{name} is not installed ({exc})")]
    start = time.perf_counter()
    args = (name, texts, timeout, total)
    if all(inline_ok(name, text) for text in texts):
        status, payload = run_inline(_run_until_sat, args)
    else:
        status, payload = run_isolated(_run_until_sat, args, timeout * len(texts)
                                       if total is None else total + 1.0)
    if status != "ok":
        return [SolverResult(name, version, "unknown", time.perf_counter() - start, str(payload))]
    return [SolverResult(name, version, a["result"], a["seconds"], a.get("reason", ""),
                         a.get("values", {})) for a in payload]


PRELOADED = ("z3",)      # imported in the parent; cvc5 is imported by the child that runs it


def preload() -> None:
    """Read every solver's version and import Z3 once in the parent, so forked children
    start fast. cvc5 is not imported here: it races only when Z3 has not settled a claim
    within SECOND_OPINION_DELAY, so most runs never start it, and its import (15-20 ms)
    would lengthen every run's start-up, which no number of jobs shortens."""
    for name in BACKENDS:
        try:
            if name in PRELOADED:
                backend(name).load()
            backend(name).version()
        except ImportError:
            pass
