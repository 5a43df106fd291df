"""Z3 backend: parses SMT-LIB text, solves, returns plain data (no z3 object escapes)."""

from __future__ import annotations

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

    def unwatch(self, token: int) -> None:
        with self.lock:
            self.watched.pop(token, None)

    def _run(self) -> None:
        while True:
            time.sleep(WATCH_PERIOD)
            now = time.monotonic()
            with self.lock:
                due = [t for t, (deadline, _) in self.watched.items() if deadline <= now]
                for token in due:
                    self.watched.pop(token)[1].interrupt()


_WATCHDOG = _Watchdog()


def _check(solver, ctx, timeout: float):
    """``solver.check()``, its context interrupted WATCH_GRACE s after ``timeout`` if it
    is still running: Z3's own timeout is checked between steps, so a long step can
    overrun it. A check interrupted either way answers unknown. This matters most where
    Z3 runs inside a pipeline worker (``solvers.INLINE``) rather than in a pooled child
    that a hard deadline kills."""
    token = _WATCHDOG.watch(ctx, time.monotonic() + timeout + WATCH_GRACE)
    try:
        return solver.check()
    finally:
        _WATCHDOG.unwatch(token)


def run(text: str, timeout: float) -> dict:
    z3 = load()
    ctx = z3.Context()
    solver = z3.SolverFor("QF_NRA" if "QF_NRA" in text else "QF_LRA", ctx=ctx)
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
    ctx = z3.Context()
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
