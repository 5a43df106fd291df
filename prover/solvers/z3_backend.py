"""Z3 backend: parses SMT-LIB text, solves, returns plain data (no z3 object escapes)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from fractions import Fraction

WATCH_GRACE = 0.5     # seconds past its timeout after which a check is interrupted
WATCH_PERIOD = 0.25   # how often the watchdog looks


def load():
    import z3
    return z3


def version() -> str:
    return load().get_version_string()


def warm() -> None:
    """Create Z3's default context here, before forking workers: each worker's first
    check otherwise creates it (8 ms, and its first conjecture 10 ms slower; the zygote
    calls this, prover/zygote.py). z3py uses it only to name the logic in ``SolverFor``
    (symbols are global in Z3); every check runs in a context of its own, so nothing a
    worker answers depends on it."""
    load().main_ctx()


class _Watchdog:
    """One daemon thread per process that interrupts each watched Z3 context once its
    deadline has passed, looking every WATCH_PERIOD s: a call only registers (a thread
    per call cost 0.4 ms to start, and waking one per call as much; a linear call takes
    about 1 ms). Re-created in a forked child, which inherits the object but not the
    thread."""

    def __init__(self):
        self.pid = None

    def watch(self, ctx, deadline: float) -> int:
        if self.pid != os.getpid():
            self.pid = os.getpid()
            self.lock = threading.Lock()
            self.watched: dict[int, tuple[float, object]] = {}
            self.serial = 0
            threading.Thread(target=self._run, daemon=True).start()
        with self.lock:
            self.serial += 1
            self.watched[self.serial] = (deadline, ctx)
            return self.serial

    def unwatch(self, token: int) -> bool:
        """Stop watching; whether the context was interrupted meanwhile."""
        with self.lock:
            return self.watched.pop(token, None) is None

    def _run(self) -> None:
        while True:
            time.sleep(WATCH_PERIOD)
            now = time.monotonic()
            with self.lock:
                due = [t for t, (deadline, _) in self.watched.items() if deadline <= now]
                for token in due:
                    self.watched.pop(token)[1].interrupt()


_WATCHDOG = _Watchdog()


class _Shared(threading.local):
    """The context that the calls of one ``shared_context`` scope reuse (per thread)."""

    owner: int | None = None      # the pid that opened the scope
    depth = 0
    ctx = None


_SHARED = _Shared()


def _in_scope() -> bool:
    """Whether this process and thread are inside a ``shared_context`` they opened."""
    return bool(_SHARED.depth) and _SHARED.owner == os.getpid()


@contextlib.contextmanager
def shared_context():
    """Within this scope, the linear Z3 calls this process and thread makes reuse one
    context (a nonlinear call always gets a fresh one, see ``run``) instead of creating
    one each (1.5-2 ms apiece, a quarter of a twins conjecture's time: 332 contexts for
    50 conjectures, bench/bench_throughput.py). ``check.check``
    opens one scope per conjecture, so what a call answers depends only on that
    conjecture's own earlier calls, never on which conjectures a worker checked before
    (the store stays byte-stable whatever the batch). A context that a call left
    interrupted, unknown or failed is dropped: the next call gets a fresh one. A process
    forked inside the scope (a pooled solver child) does not share it: it is not the
    owner, so each of its calls gets a fresh context."""
    if not _in_scope():
        _SHARED.owner, _SHARED.depth, _SHARED.ctx = os.getpid(), 0, None
    _SHARED.depth += 1
    try:
        yield
    finally:
        _SHARED.depth -= 1
        if _SHARED.depth == 0:
            _SHARED.ctx = None


def _context(z3):
    """The scope's shared context (see ``shared_context``), else a fresh one."""
    if not _in_scope():
        return z3.Context()
    if _SHARED.ctx is None:
        _SHARED.ctx = z3.Context()
    return _SHARED.ctx


def _drop(ctx) -> None:
    """Never reuse ``ctx`` again (it was interrupted, or a call on it did not answer)."""
    if _SHARED.ctx is ctx:
        _SHARED.ctx = None


def _check(solver, ctx, timeout: float):
    """``solver.check()``, its context interrupted WATCH_GRACE s after ``timeout`` if it
    is still running: Z3's own timeout is checked between steps, so a long step can
    overrun it. A check interrupted either way answers unknown. This matters most where
    Z3 runs inside a pipeline worker (``solvers.INLINE``) rather than in a pooled child
    that a hard deadline kills."""
    token = _WATCHDOG.watch(ctx, time.monotonic() + timeout + WATCH_GRACE)
    answer = None
    try:
        answer = solver.check()
        return answer
    finally:
        if _WATCHDOG.unwatch(token) or answer is None or str(answer) == "unknown":
            _drop(ctx)


def run(text: str, timeout: float) -> dict:
    z3 = load()
    nonlinear = "QF_NRA" in text
    # a nonlinear call gets a fresh context even within a shared_context scope, as in a
    # pooled child: it answers (and models) the same whether it ran in-process or there
    ctx = z3.Context() if nonlinear else _context(z3)
    solver = z3.SolverFor("QF_NRA" if nonlinear else "QF_LRA", ctx=ctx)
    solver.set("timeout", max(1, int(timeout * 1000)))
    solver.from_string(text)
    answer = _check(solver, ctx, timeout)
    if answer == z3.unsat:
        return {"result": "unsat"}
    if answer == z3.unknown:
        return {"result": "unknown", "reason": solver.reason_unknown()}
    model = solver.model()
    values = {}
    for decl in model.decls():
        v = model[decl]
        if z3.is_rational_value(v):
            values[decl.name()] = {"exact": str(Fraction(v.numerator_as_long(),
                                                          v.denominator_as_long()))}
        elif z3.is_algebraic_value(v):
            values[decl.name()] = {"approx": v.approx(60).as_decimal(60).rstrip("?")}
    return {"result": "sat", "values": values}


def solve_lp(names: list[str], rows: list[list[tuple[Fraction, int]]], nonneg: list[int],
             sum_one: list[int], timeout: float) -> dict:
    """An exact feasible point of a linear program over the rationals: real variables
    ``names`` (by index), each row sum(coef * x_j) == 0, x_j >= 0 for j in ``nonneg``,
    and the x_j of ``sum_one`` summing to 1. {"result": "sat", "values": [Fraction]},
    {"result": "unsat"} or {"result": "unknown", "reason": ...}."""
    z3 = load()
    ctx = _context(z3)
    solver = z3.SolverFor("QF_LRA", ctx=ctx)
    solver.set("timeout", max(1, int(timeout * 1000)))
    xs = [z3.Real(name, ctx) for name in names]
    for j in nonneg:
        solver.add(xs[j] >= 0)
    for row in rows:
        solver.add(z3.Sum([z3.RealVal(str(coef), ctx) * xs[j] for coef, j in row]) == 0)
    solver.add(z3.Sum([xs[j] for j in sum_one]) == 1)
    answer = _check(solver, ctx, timeout)
    if answer == z3.unsat:
        return {"result": "unsat"}
    if answer != z3.sat:
        return {"result": "unknown", "reason": solver.reason_unknown()}
    model = solver.model()
    values = []
    for x in xs:
        r = model.eval(x, model_completion=True)
        values.append(Fraction(r.numerator_as_long(), r.denominator_as_long()))
    return {"result": "sat", "values": values}
