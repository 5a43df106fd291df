"""The zygote: a process forked at the start of ``check`` and ``verify``, before they load
anything, that imports what the workers share (Z3, numpy, the checker, each model's
realizers) while the command loads its files and reads its store, then forks the
pipeline's workers on request, already loaded.

Without it the command imports those modules itself after loading, and only then forks:
60-75 ms of every run's start-up that no number of jobs divides (docs/internals.md,
"Throughput on two cores"). With it that time overlaps the loading, on the core the
command leaves idle while it parses.

The isolation a worker gets is the pipeline's, unchanged: each worker leads its own
process group under its memory cap, and its watchdog kills that group once its parent --
here the zygote -- is gone. The zygote asks the kernel to kill it when the command dies
(PR_SET_PDEATHSIG), also after ``kill -9``, and kills its workers' groups when the
command's end of its socket closes; it reaps its workers and reports each exit code, so
that a worker killed by the memory cap is still named as such. It is asked to kill a
worker (``kill``) rather than the command signalling the group itself: only the parent
knows a pid has not been reaped and reused.

Linux only (a memfd for the worker's phase byte, descriptors passed over a SEQPACKET
socket). Elsewhere, or when the zygote cannot be started or has stopped answering, the
pipeline forks its workers itself (``current()`` is None), as it did before.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import sys
import time

# how long the command waits for the zygote to answer a request (it may still be
# importing): past this it stops using it and forks its workers itself
ANSWER_SECONDS = 30.0

# imported by the zygote before its first request: what every model's workers use
# (``check.preload`` adds the certificate search and checker, and each model's realizers)
_SHARED = ("numpy", "prover.check", "prover.worker", "multiprocessing.connection", "mmap")

_CURRENT: "Zygote | None" = None


def supported() -> bool:
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and hasattr(os, "memfd_create") and hasattr(socket, "send_fds")
            and hasattr(socket, "SOCK_SEQPACKET"))


def wanted(argv: list[str]) -> bool:
    """Whether the command line ``argv`` (without the program) runs pipeline workers:
    ``check`` and ``verify``, unless only asking for their help."""
    return argv[:1] in (["check"], ["verify"]) and not {"-h", "--help"} & set(argv)


def start() -> None:
    """Fork the zygote, once per process (a no-op where unsupported, or when it cannot
    be forked: the pipeline then forks its workers itself). Call it before loading
    anything, from a process with no other threads yet."""
    global _CURRENT
    if _CURRENT is not None or not supported():
        return
    try:
        _CURRENT = Zygote()
    except OSError:
        _CURRENT = None


def current() -> "Zygote | None":
    """The zygote this process started, while it answers; else None."""
    zygote = _CURRENT
    if zygote is None or not zygote.usable or zygote.owner != os.getpid():
        return None
    return zygote


class Zygote:
    """The command's end: requests (preload, spawn, kill) and the exits it reports."""

    def __init__(self):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            raise
        if pid == 0:                                    # the zygote
            code = 1
            try:
                ours.close()
                _main(theirs, parent)
                code = 0
            finally:
                os._exit(code)
        theirs.close()
        self.sock, self.pid, self.owner = ours, pid, parent
        self.usable = True
        self.exits: dict[int, int] = {}     # worker pid -> exit code, as reported
        self._pending = None                # the answer to a spawn request

    # -- requests

    def preload(self, model_names) -> None:
        """Have the zygote import the lazy modules of these models before it forks."""
        self._send(("preload", sorted(set(model_names))))

    def spawn(self, memory: int | None):
        """A new worker: (pid, the command's Connection to it, its phase byte). Raises
        OSError when the zygote cannot make one (and stops using it)."""
        import mmap
        from multiprocessing import Pipe

        try:
            phase_fd = os.memfd_create("prover-phase", os.MFD_CLOEXEC)
        except OSError:
            self.close()                # e.g. refused by a sandbox: fork without it
            raise
        ours, theirs = Pipe(duplex=True)
        try:
            os.ftruncate(phase_fd, 1)
            phase = mmap.mmap(phase_fd, 1)
            self._send(("spawn", memory), [theirs.fileno(), phase_fd])
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
            os.close(phase_fd)
        try:
            pid = self._answer()
        except BaseException:
            ours.close()
            phase.close()
            raise
        return pid, ours, phase

    def kill(self, pid: int) -> None:
        """Have the zygote SIGKILL worker ``pid``'s process group, unless it has already
        reaped it (then the pid may belong to someone else)."""
        try:
            self._send(("kill", pid))
        except OSError:
            pass                    # gone: its workers' watchdogs kill their groups

    def exitcode(self, pid: int, wait: float = 0.0) -> int | None:
        """Worker ``pid``'s exit code (negative: the signal that killed it) once the
        zygote has reported it, waiting up to ``wait`` seconds for the report."""
        deadline = time.monotonic() + wait
        while pid not in self.exits and self.usable:
            left = deadline - time.monotonic()
            if not self._receive(max(0.0, left)) and left <= 0:
                break
        return self.exits.get(pid)

    def close(self) -> None:
        self.usable = False
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            os.waitpid(self.pid, os.WNOHANG)
        except OSError:
            pass

    # -- the socket

    def _send(self, message, fds=()) -> None:
        if not self.usable:
            raise OSError("the zygote is closed")
        try:
            socket.send_fds(self.sock, [pickle.dumps(message)], list(fds))
        except OSError:
            self.close()
            raise

    def _answer(self) -> int:
        """The pid of the worker just asked for (reading past the exits reported)."""
        deadline = time.monotonic() + ANSWER_SECONDS
        self._pending = None
        while self._pending is None:
            left = deadline - time.monotonic()
            if left <= 0 or (not self._receive(left) and not self.usable):
                self.close()
                raise OSError("the zygote did not answer")
        kind, value = self._pending
        if kind != "spawned":
            raise OSError(f"the zygote could not start a worker: {value}")
        return value

    def _receive(self, timeout: float) -> bool:
        """Read one message if one comes within ``timeout`` s; False if none did."""
        import select
        if not self.usable:
            return False
        try:
            poller = select.poll()
            poller.register(self.sock, select.POLLIN)
            if not poller.poll(max(0, int(timeout * 1000 + 0.999))):
                return False
            data = self.sock.recv(4096)
        except OSError:
            self.close()
            return False
        if not data:                                # the zygote is gone
            self.close()
            return False
        message = pickle.loads(data)
        if message[0] == "exited":
            self.exits[message[1]] = message[2]
        else:
            self._pending = message
        return True


class Child:
    """A worker forked by the zygote, with the part of ``multiprocessing.Process``'s
    interface the pipeline uses."""

    def __init__(self, zygote: Zygote, pid: int):
        self.zygote, self.pid = zygote, pid

    @property
    def exitcode(self) -> int | None:
        return self.zygote.exitcode(self.pid)

    def is_alive(self) -> bool:
        return self.zygote.usable and self.exitcode is None

    def kill(self) -> None:
        self.zygote.kill(self.pid)

    def join(self, timeout: float | None = None) -> None:
        self.zygote.exitcode(self.pid, wait=ANSWER_SECONDS if timeout is None else timeout)


# -- the zygote's side ---------------------------------------------------------------

def _main(sock: socket.socket, parent: int) -> None:
    from .solvers.pool import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is the command's to handle
    die_with_parent(parent)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the poll below
    from ._env import one_thread
    one_thread()                    # before numpy: the command line has not set it yet
    _import(_SHARED)
    try:
        from . import check, solvers
        from .solvers import z3_backend
        check.preload(())
        solvers.preload()
        z3_backend.warm()
    except Exception:   # a worker imports what it needs itself
        pass
    import select
    children: set[int] = set()
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    while True:
        for fd, _ in poller.poll():
            if fd == wake_r:
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
                continue
            try:
                data, fds, _, _ = socket.recv_fds(sock, 4096, 4)
            except OSError:
                data, fds = b"", []
            if not data:                        # the command is gone
                for pid in children:
                    _kill_group(pid)
                return
            kind, value = pickle.loads(data)
            if kind == "preload":
                for name in value:
                    try:
                        from . import check
                        check.preload((name,))
                    except Exception:       # its workers import (or report) it
                        pass
            elif kind == "spawn":
                pid = _fork_worker(sock, (wake_r, wake_w), fds, value)
                if pid:
                    children.add(pid)
                    _tell(sock, ("spawned", pid))
                else:
                    _tell(sock, ("failed", "fork failed"))
            elif kind == "kill" and value in children:
                _kill_group(value)
        while children:                         # reap, and report each exit
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if not pid:
                break
            children.discard(pid)
            _tell(sock, ("exited", pid, os.waitstatus_to_exitcode(status)))


def _import(names) -> None:
    import importlib
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            pass


def _tell(sock: socket.socket, message) -> None:
    try:
        sock.send(pickle.dumps(message))
    except OSError:
        pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _fork_worker(sock, wake, fds, memory) -> int:
    """Fork a worker on the descriptors sent (its connection, its phase byte); its pid,
    0 when that failed. The worker never returns from here."""
    if len(fds) != 2:
        for fd in fds:
            os.close(fd)
        return 0
    conn_fd, phase_fd = fds
    zygote = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        pid = -1
    if pid != 0:
        os.close(conn_fd)
        os.close(phase_fd)
        return max(pid, 0)
    code = 1
    try:                                        # the worker
        sock.close()
        signal.set_wakeup_fd(-1)
        for fd in wake:
            os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        import mmap
        from multiprocessing.connection import Connection
        os.set_inheritable(conn_fd, False)
        phase = mmap.mmap(phase_fd, 1)
        os.close(phase_fd)
        from .worker import serve
        serve(Connection(conn_fd), phase, memory, zygote)
        code = 0
    finally:
        os._exit(code)
