"""A pipeline worker's own side (prover/pipeline.py): becoming an isolation unit
(``isolate``: its own process group, a watchdog on its parent, the memory cap) and
serving conjecture after conjecture (``serve``). Its own module so that the zygote
(prover/zygote.py), which forks the workers, needs nothing of the coordinator's side."""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time

WATCHDOG_PERIOD = 0.2


def _watchdog(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            try:
                os.killpg(0, signal.SIGKILL)
            finally:
                os._exit(1)
        time.sleep(WATCHDOG_PERIOD)


def isolate(memory: int | None, parent: int) -> None:
    """Make the calling forked process a worker: the leader of its own process group (so
    one kill takes everything it starts), watched by a thread that kills that group once
    ``parent`` is gone, its address space capped at ``memory`` bytes."""
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    threading.Thread(target=_watchdog, args=(parent,), daemon=True).start()
    from .solvers.pool import keep_freed_memory
    keep_freed_memory()                  # it simulates; its solver workers ask again
    if memory:
        try:
            import resource
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        except (ImportError, ValueError, OSError):
            pass


def serve(conn, phase, memory, parent) -> None:
    """A long-lived worker: checks each conjecture (or runs each call, e.g. a stored
    certificate's verification) it is sent, one at a time, until its connection closes
    (or it is killed, with its process group, on a budget overrun).
    It writes the phase it is in to the shared byte ``phase`` (an index in
    ``check.PHASES``), which the parent reads only when it must name it: a message per
    phase woke the parent four times a conjecture, on cores the workers need."""
    isolate(memory, parent)
    from . import check as check_module
    from . import solvers

    solvers.INLINE = True       # this process is the isolation unit (see solvers.INLINE)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    solvers.SLICE_ALARM = True  # a nonlinear slice that overruns ends it (and is redone)

    def hook(index: int) -> None:
        phase[0] = index

    check_module.PHASE_HOOK = hook
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            os._exit(0)
        try:
            kind, args = pickle.loads(message)
            if kind == "call":
                solvers.SLICES_NONLINEAR = True
                func, func_args = args
                out = func(*func_args)
            else:
                conj, timeout, kernel, slices = args
                solvers.SLICES_NONLINEAR = slices
                out = check_module.check(conj, timeout=timeout, kernel=kernel)
            conn.send(("done", out))
        except MemoryError:
            conn.send(("error", "out of memory (the worker's --memory cap)"))
        except BaseException as exc:        # report, never crash the batch
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
