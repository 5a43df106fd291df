"""``--scheduler ADDRESS``: conjectures (``check``), stored certificates (``verify``) and
``bounds`` rows on a dask.distributed cluster.

The client — the machine running ``prover`` — connects (within ``CONNECT_TIMEOUT``),
checks that every worker runs the same prover source and solver versions (else the
verdicts and certificates could differ from a local run), submits one task per
conjecture, and writes the store itself as results come back: workers need no shared
file system and never touch the store. ``check --kernel`` compiles the Coq proofs on the
client afterwards, as locally.

Each check task runs ``pipeline.run_many`` on its one conjecture inside the dask worker
process, which forks the usual pipeline worker: the conjecture's whole ``--timeout``
budget (a hard kill of its process group), the ``--memory`` cap (RLIMIT_AS) and the
no-orphans watchdog hold on the cluster exactly as on one machine. A ``bounds`` row runs
the same way in one forked, capped child; its certificates and their conjectures are
written into a temporary directory there and handed back with the result, and the
client stores them, keeping a stored certificate that ``check`` would reuse (so unchanged
inputs leave files byte-identical, as locally).

``distributed`` is imported only here, only when ``--scheduler`` is given.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from pathlib import Path, PurePosixPath
from typing import Iterator

from .errors import InputError, ProverError

CONNECT_TIMEOUT = 10.0      # seconds to reach the scheduler and to see a first worker
INSTALL = "pip install 'prover[dask]'"
ROW_SECONDS = 120.0         # a bounds row's LPs and realizations, besides its certificates
CHECKS_PER_END = 2          # an approached end tries the strict claim, then the plain one


def _distributed():
    try:
        import distributed
    except ImportError:
        raise InputError("--scheduler needs the dask.distributed package, which is not "
                         f"installed: {INSTALL} (on the client and on every worker)") from None
    return distributed


def environment() -> dict:
    """What must agree between the client and every worker for a task's result to be the
    result a local run would give: prover's source and the solvers' versions."""
    from . import solvers
    from ._version import __version__

    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    versions = {}
    for name in solvers.BACKENDS:
        try:
            versions[name] = solvers.backend(name).version() if solvers.available(name) \
                else None
        except Exception:
            versions[name] = None
    return {"prover": __version__, "source_sha256": digest.hexdigest(), "solvers": versions}


def _allow_children() -> None:
    # dask runs tasks in daemonic worker processes, and multiprocessing refuses to start
    # children from a daemonic process. That rule guards against orphans; pipeline's
    # workers guard against them themselves (their own process group, killed by a
    # watchdog as soon as this process is gone), so the flag is lifted for this process.
    multiprocessing.current_process()._config["daemon"] = False


# --- check ----------------------------------------------------------------------------

def check_task(conj, timeout, memory):
    """One conjecture, on a worker: pipeline's forked worker under its budget and cap.
    Returns the Outcome (or pipeline.Failed) without the conjecture, which the client
    already has."""
    _allow_children()
    from . import check       # noqa: F401  imported before forking, not in the child
    from .pipeline import run_many

    result = next(iter(run_many([conj], timeout=timeout, kernel=False, jobs=1,
                                memory=memory)))
    result.conjecture = None
    return result


# --- verify ---------------------------------------------------------------------------

def _verify_shipped(doc, source: str, raw: bytes, timeout, kernel):
    """In the forked child: the certificate verified against its source's bytes as the
    client read them, written at the same relative path in a fresh directory (the id is
    derived from that path) that becomes this child's working directory."""
    import shutil
    import tempfile

    from .verify import _verify_one

    tmp = Path(tempfile.mkdtemp(prefix="prover-verify-"))
    try:
        path = tmp.joinpath(*PurePosixPath(source).parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        os.chdir(tmp)
        return _verify_one(doc, timeout, kernel, None)
    finally:
        os.chdir("/")
        shutil.rmtree(tmp, ignore_errors=True)


def verify_task(doc, source, raw, timeout, kernel, seconds, memory):
    """One certificate, on a worker, in a forked child isolated like a pipeline worker
    (its budget, --memory cap and process-group kill); a Report either way."""
    _allow_children()
    from . import check, verify   # noqa: F401  imported before forking, not in the child
    from .verify import Report

    try:
        return run_forked(_verify_shipped, (doc, source, raw, timeout, kernel), seconds,
                          memory, what="the verification",
                          limit="the certificate's budget, --timeout and its grace")
    except ProverError as exc:
        cid = doc.get("id", "?") if isinstance(doc, dict) else getattr(doc, "id", "?")
        return Report(str(cid), "failed", f"{exc}; the certificate is not passed")


def shippable_source(store, source: str) -> tuple[bytes, str] | None:
    """(the bytes of a certificate's source as a local verify would read them, the
    relative path to write them at on a worker), or None when that verify would not
    get that far (no regular file there, one too large, or a path that climbs out with
    '..' or is absolute): such a certificate is verified here, with the local messages."""
    from .conjecture import MAX_FILE_BYTES
    from .limits import read_regular_file
    from .store import source_path

    parts = PurePosixPath(source).parts
    if not parts or PurePosixPath(source).is_absolute() or ".." in parts or "\\" in source:
        return None
    try:
        return read_regular_file(source_path(store, source), MAX_FILE_BYTES), source
    except Exception:       # verified here: load names the problem as it always does
        return None


# --- bounds rows ----------------------------------------------------------------------

def _forked(func, args, memory, conn, parent) -> None:
    from .worker import isolate

    isolate(memory, parent)
    try:
        conn.send(("done", func(*args)))
    except MemoryError:
        conn.send(("error", "out of memory (the worker's --memory cap)"))
    except BaseException as exc:        # report, never crash the worker
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def run_forked(func, args: tuple, seconds: float, memory: int | None, *,
               what: str = "the row", limit: str = "the row's share of --timeout"):
    """``func(*args)`` in a forked child isolated like a pipeline worker, killed with its
    process group after ``seconds``; its result, or ProverError saying why there is none
    (``what`` ran out of ``limit``, died, or stopped)."""
    ctx = multiprocessing.get_context("fork")
    conn, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_forked, args=(func, args, memory, child, os.getpid()))
    proc.start()
    child.close()
    from .pipeline import kill_group
    try:
        if not conn.poll(seconds):
            raise ProverError(f"{what} stopped after {seconds:g} s ({limit})")
        try:
            kind, payload = conn.recv()
        except (EOFError, OSError):
            proc.join(1)
            raise ProverError(f"the worker died (exit code {proc.exitcode}); try a larger "
                              "--memory") from None
    finally:
        kill_group(proc)
        conn.close()
    if kind == "error":
        raise ProverError(f"{what} stopped: {payload}")
    return payload


def _bounds_row(model, given, options, keep):
    """One row of ``prover bounds`` (in the forked child): ('done', result, certificates,
    conjecture texts) with the certificates made in a temporary store when ``keep``,
    or ('input', message)."""
    import shutil
    import tempfile

    from .ranges import bounds
    from .store import BadEntry, DirectoryStore

    tmp = Path(tempfile.mkdtemp(prefix="prover-row-")) if keep else None
    try:
        try:
            result = bounds(model, given=given, store=tmp / "certificates" if tmp else None,
                            **options)
        except InputError as exc:
            return ("input", exc.message)
        docs, texts = [], {}
        if tmp:
            docs = [rec for _, rec in DirectoryStore(tmp / "certificates").records()
                    if not isinstance(rec, BadEntry)]
            for path in sorted((tmp / "conjectures").rglob("*.toml")):
                texts[path.relative_to(tmp).as_posix()] = path.read_text(encoding="utf-8")
        return ("done", result, docs, texts)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def bounds_task(model, given, options, keep, seconds, memory):
    _allow_children()
    from . import check, ranges     # noqa: F401  imported before forking

    return run_forked(_bounds_row, (model, given, options, keep), seconds, memory)


def row_seconds(options: dict) -> float:
    """A hard limit for one row: its LPs and realizations, plus every certificate check
    it may run, each under the conjecture budget (--timeout) and its grace."""
    from .check import DEFAULT_TIMEOUT
    from .pipeline import hard_limit

    if not options.get("prove", True):
        return ROW_SECONDS
    checks = 2 * CHECKS_PER_END * len(options.get("targets") or ["h2"])
    return ROW_SECONDS + checks * hard_limit(float(options.get("timeout") or DEFAULT_TIMEOUT))


def _keep_row_files(store, result, docs: list, texts: dict[str, str]) -> None:
    """Write a row's conjectures beside the client's store and its certificates into it,
    as ``prover bounds`` does locally: a stored certificate that would be reused stays
    (byte-identical), and the row's ends then report its trust."""
    from .check import reusable
    from .conjecture import load
    from .store import DirectoryStore

    st = store if isinstance(store, DirectoryStore) else DirectoryStore(store)
    base = Path(st.root).resolve().parent
    for rel, text in texts.items():
        parts = PurePosixPath(rel).parts
        if parts[:2] != ("conjectures", "bounds") or ".." in parts or len(parts) < 4:
            raise ProverError(f"a worker sent an unexpected conjecture path {rel!r}")
        path = base.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    for doc in docs:
        rel = doc.source
        if rel not in texts:
            raise ProverError(f"a worker sent a certificate without its conjecture: {rel!r}")
        conj = load(base.joinpath(*PurePosixPath(rel).parts))
        conj.source = rel
        try:
            stored = st.record(doc.id)
        except ProverError:
            stored = None
        if not reusable(conj, stored):
            st.save(doc)
            continue
        for target in result.bounds:
            for end in (target.lower, target.upper):
                if end.certificate == doc.id and stored.verdict == "valid":
                    end.certified = stored.trust.value
                    end.proof = stored.proof.kind.value


# --- the client -----------------------------------------------------------------------

def _checked_address(address: str) -> str:
    """The address if dask can use it (SCHEME://HOST:PORT, the scheme tcp by default);
    else InputError before any connection is tried."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import backends

    example = "expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786"
    try:
        scheme, location = parse_address(address.strip())
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise InputError(f"--scheduler {address!r}: not a scheduler address ({exc}); "
                         f"{example}") from None
    if scheme not in backends or scheme == "inproc":
        raise InputError(f"--scheduler {address!r}: unknown protocol {scheme!r} (known: "
                         f"{', '.join(sorted(set(backends) - {'inproc'}))}); {example}")
    if not host or not 0 < port < 65536 or any(c.isspace() for c in host):
        raise InputError(f"--scheduler {address!r}: not a scheduler address; {example}")
    return address.strip()


class Cluster:
    """A connection to a dask.distributed scheduler whose workers run this prover."""

    def __init__(self, address: str, connect_timeout: float | None = None):
        distributed = _distributed()
        self.address = _checked_address(address)
        timeout = CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        try:
            self.client = distributed.Client(self.address, timeout=timeout,
                                             set_as_default=False)
        except Exception as exc:        # unreachable, refused
            why = str(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
            raise InputError(f"--scheduler {address}: cannot connect within {timeout:g} s "
                             f"({why}); is `dask scheduler` running there, and is the "
                             "address right?") from None
        try:
            self._check_workers(timeout)
        except BaseException:
            self.close()
            raise

    def _check_workers(self, timeout: float) -> None:
        try:
            self.client.wait_for_workers(1, timeout=timeout)
        except Exception:
            raise InputError(f"--scheduler {self.address}: no worker joined within "
                             f"{timeout:g} s; start some with `dask worker "
                             f"{self.address}`") from None
        try:
            found = self.client.run(environment)
        except Exception as exc:
            raise InputError(f"--scheduler {self.address}: the workers cannot run prover "
                             f"({type(exc).__name__}: {exc}); install the same prover on "
                             f"every worker ({INSTALL})") from None
        mine = environment()
        for worker, theirs in sorted(found.items()):
            if theirs != mine:
                diff = ", ".join(f"{k} {theirs.get(k)!r} there, {mine[k]!r} here"
                                 for k in mine if theirs.get(k) != mine[k])
                raise InputError(f"--scheduler {self.address}: worker {worker} runs a "
                                 f"different prover or solvers ({diff}); its results could "
                                 "differ from a local run: install the same on every worker")

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _in_order(self, futures) -> Iterator[tuple[int, object, BaseException | None]]:
        """(index, result, exception) for each future, in submission order, each as soon
        as it and all before it are done."""
        distributed = _distributed()
        position = {f.key: i for i, f in enumerate(futures)}
        done, emitted = {}, 0
        try:
            for future in distributed.as_completed(futures, loop=self.client.loop):
                try:
                    done[position[future.key]] = (future.result(), None)
                except BaseException as exc:      # the task, its worker or the connection
                    done[position[future.key]] = (None, exc)
                while emitted in done:
                    yield (emitted, *done.pop(emitted))
                    emitted += 1
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def check_many(self, conjectures, *, timeout: float | None = None,
                   memory: int | None = None) -> Iterator:
        """Like ``pipeline.run_many``: an Outcome (or pipeline.Failed) per conjecture, in
        input order, each computed by one task on the cluster."""
        from .pipeline import _unknown

        started = time.monotonic()
        futures = [self.client.submit(check_task, conj, timeout, memory, pure=False)
                   for conj in conjectures]
        for index, result, exc in self._in_order(futures):
            conj = conjectures[index]
            if exc is not None:
                yield _unknown(conj, f"the dask task failed ({type(exc).__name__}: {exc})",
                               timeout, "the dask task", time.monotonic() - started)
                continue
            result.conjecture = conj
            yield result

    def verify_many(self, store, docs, *, timeout: float | None = None,
                    kernel: bool = False, jobs: int | None = None,
                    memory: int | None = None) -> list:
        """Like ``verify.verify_many``: a Report per (id, record) of ``docs``, in order,
        each verified by one task on the cluster against its source as read here (their
        Coq proofs still to be compiled, here). A certificate whose source cannot be
        shipped (see ``shippable_source``) is verified here, in a pipeline worker."""
        from .check import DEFAULT_TIMEOUT
        from .pipeline import hard_limit
        from .verify import Report, verify_many as verify_here

        seconds = hard_limit(float(timeout or DEFAULT_TIMEOUT))
        reports: list = [None] * len(docs)
        local, futures, where = [], [], []
        for k, (cid, doc) in enumerate(docs):
            source = getattr(doc, "source", None) if not isinstance(doc, dict) \
                else doc.get("source")
            shipped = shippable_source(store, source) if isinstance(source, str) else None
            if shipped is None:
                local.append(k)
                continue
            raw, source = shipped
            futures.append(self.client.submit(verify_task, doc, source, raw, timeout,
                                              kernel, seconds, memory, pure=False))
            where.append(k)
        here = verify_here(store, [docs[k] for k in local], timeout, kernel, jobs, memory)
        for k, report in zip(local, here):
            reports[k] = report
        for index, result, exc in self._in_order(futures):
            k = where[index]
            if exc is not None:
                result = Report(docs[k][0], "failed", f"the dask task failed "
                                                      f"({type(exc).__name__}: {exc}); the "
                                                      "certificate is not passed")
            reports[k] = result
        return reports

    def bounds_rows(self, model: str, givens: list[dict], options: dict, store=None,
                    memory: int | None = None) -> Iterator:
        """For each row's givens, in order: its BoundsResult, or an InputError (without
        location; the caller knows the row). ``store`` (the client's directory) receives
        the rows' certificates."""
        seconds = row_seconds(options)
        futures = [self.client.submit(bounds_task, model, given, options, store is not None,
                                      seconds, memory, pure=False) for given in givens]
        for index, payload, exc in self._in_order(futures):
            if exc is not None:
                if isinstance(exc, ProverError):
                    raise ProverError(f"row {index + 1}: {exc}")
                raise ProverError(f"row {index + 1}: the dask task failed "
                                  f"({type(exc).__name__}: {exc})")
            if payload[0] == "input":
                yield InputError(payload[1])
                continue
            _, result, docs, texts = payload
            if store is not None:
                _keep_row_files(store, result, docs, texts)
            yield result
