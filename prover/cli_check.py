"""``prover check``: find and load the conjecture files, reuse the stored results that
are unchanged and still verify, run the rest (each in its own worker, or on a dask
cluster), store them, and print the results (table, ``--json``, ``--junit``)."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time

from .cli_output import _err, _out, _store, _table, _verdict_text
from .errors import InputError, ProverError


def _still_verify(candidates, args, store) -> list[bool]:
    """Whether each stored record of ``candidates`` [(conjecture, record)] is still passed
    by `prover verify` (with this prover: a changed realizer or checker makes the record
    recompute, never go stale): only such a record is reused. They are verified in
    pipeline workers, in parallel, under the budget and memory cap a check gets."""
    from .verify import verify_many
    reports = verify_many(store, [(old.id, old) for _, old in candidates], args.timeout,
                          False, jobs=args.jobs, memory=args.memory)
    return [r.status == "pass" for r in reports]


def cmd_check(args) -> int:
    """Check conjecture files and directories (default: conjectures/), write certificates.

    --shard K/N checks the K-th of N disjoint shares of the conjectures found (by sorted
    id: N CI jobs with K = 1..N check each exactly once). --scheduler ADDRESS runs each
    conjecture on a dask.distributed cluster (pip install 'prover[dask]'); the store is
    written here, and the verdicts are those of a local run.

    Examples:  prover check conjectures/twins/h2-at-most-2rDZ.toml
               prover check --shard 2/4 --junit check-2.xml
               prover check --scheduler tcp://scheduler:8786

    Exit: 0 every verdict equals its expect; 1 a verdict differs; 2 input error."""
    if not args.scheduler:
        return _check(args, None)
    from .distributed_run import Cluster
    with Cluster(args.scheduler) as cluster:
        return _check(args, cluster)


def _check(args, cluster) -> int:
    from .conjecture import discover, load

    began = time.perf_counter()

    found, errors = discover(args.paths or ["conjectures"])
    conjectures, seen = [], {}
    for path, root in found:
        try:
            conj = load(path, root)
        except InputError as exc:
            errors.append(exc)
            continue
        if conj.id in seen:
            errors.append(InputError(f"duplicate id '{conj.id}' (also used by {seen[conj.id]}); "
                                     "give one of them a distinct id = \"...\"", path=str(path),
                                     line=conj.id_line, column=conj.id_column))
            continue
        seen[conj.id] = str(path)
        conjectures.append(conj)
    conjectures = _without_case_twins(conjectures, seen, errors)
    found_count = len(conjectures)
    if args.shard:
        conjectures = args.shard.select(conjectures, key=lambda c: c.id)

    if args.kernel:
        from .coqtext import coqc_available
        if not coqc_available():
            _err("warning: --kernel: coqc is not installed (apt-get install coq); proofs are "
                 "checked by prover's exact checker only (trust 'certificate')")
            args.kernel = False
    store = _store(args)
    results = []
    interactive = sys.stderr.isatty() and not args.quiet
    from .check import Outcome, reusable
    stored, candidates, checkable = {}, [], []
    for conj in conjectures:
        try:
            old = store.record(conj.id)
        except ProverError:
            old = None                  # unreadable or malformed: a fresh run replaces it
        stored[conj.id] = old
        if old is not None and not args.force and not _same_source(store, old.source,
                                                                   conj.source):
            # another file's certificate: overwriting it silently would lose its result
            errors.append(InputError(
                f"id '{conj.id}' is already in the store for another source file, "
                f"{old.source!r}; its certificate is left untouched; give this file "
                "a distinct id = \"...\", or pass --force to let it take over the id",
                path=seen.get(conj.id, conj.source), line=conj.id_line, column=conj.id_column))
            continue
        checkable.append(conj)
        # the encoding is compared by the verification that follows (_still_verify)
        if not args.force and reusable(conj, old, args.kernel, encoding=False):
            candidates.append((conj, old))
    reused = [Outcome(conj, old) for (conj, old), passes
              in zip(candidates, _still_verify(candidates, args, store)) if passes]
    kept = {o.conjecture.id for o in reused}
    fresh = [c for c in checkable if c.id not in kept]      # in the order found
    for exc in errors:
        _err(f"error: {exc}")
    total_checked = len(reused) + len(fresh)
    if reused and (interactive or args.verbose):
        _err(f"{len(reused)} unchanged since their certificates were made: reused "
             "(--force recomputes)")
    reused_ids = {id(o) for o in reused}
    from .pipeline import Failed
    saver = _Saver(store)
    try:
        for outcome in itertools.chain(reused, _run_checks(fresh, args, cluster)):
            if isinstance(outcome, Failed):
                exc = ProverError(f"{outcome.conjecture.source}: {outcome.message}")
                _err(f"error: {exc}")
                errors.append(exc)
                continue
            rec = outcome.record
            old = stored.get(rec.id)
            if id(outcome) in reused_ids:
                results.append(outcome)
                continue
            if old is not None and old.trust_rank > rec.trust_rank:
                why = ("was not kernel-checked (run with --kernel)"
                       if old.trust == "kernel" and rec.verdict == "valid"
                       else f"ended {rec.verdict}" + (f": {rec.reason}" if rec.reason else ""))
                _err(f"warning: trust lowered from {old.trust} to {rec.trust or 'none'} "
                     f"for {rec.id}: the fresh run {why}")
            saver.save(rec)
            results.append(outcome)
            if interactive or args.verbose:
                print(f"[{len(results)}/{total_checked}] {rec.id}: {_verdict_text(rec)} "
                      f"({outcome.seconds:.1f} s)", file=sys.stderr)
            for w in outcome.warnings:
                _err(f"warning: {rec.id}: {w}")
    finally:
        for rec_id, exc in saver.close():       # every result stored (or refused) first
            _err(f"error: cannot store {rec_id}: {exc}")
            errors.append(exc)

    mismatches = [o for o in results if o.verdict != o.conjecture.expect]
    shard = args.shard.summary(len(conjectures), found_count, "conjectures") \
        if args.shard else None
    if args.json:
        doc = {"results": [_result_json(o) for o in results], "errors": [str(e) for e in errors]}
        if args.shard:
            doc["shard"] = args.shard.to_json(len(conjectures), found_count)
        print(json.dumps(doc, indent=2, sort_keys=True))
    elif shard and not results:
        _out(args, shard)
    elif results:
        rows = [[o.record.id, _verdict_text(o.record), o.trust or "-",
                 "ok" if o.verdict == o.conjecture.expect else f"EXPECTED {o.conjecture.expect}",
                 f"{o.seconds:.2f}"] for o in results]
        _out(args, _table(rows, ["id", "verdict", "trust", "expect", "seconds"]))
        head = f"\n{shard}\n" if shard else "\n"
        ran = [o for o in results if id(o) not in reused_ids]
        elapsed = _elapsed(time.perf_counter() - began, len(reused), ran, args, cluster)
        _out(args, f"{head}{len(results)} checked in {elapsed}: "
                   f"{sum(o.verdict == 'valid' for o in results)} valid, "
                   f"{sum(o.verdict == 'refuted' for o in results)} refuted, "
                   f"{sum(o.verdict == 'unknown' for o in results)} unknown; "
                   f"{len(mismatches)} differ from expect; {len(errors)} input errors; "
                   f"certificates in {args.store}/")
    if args.junit:
        from .junit import write_check
        write_check(args.junit, results, errors)
    if errors:
        return 2
    return 1 if mismatches else 0


class _Saver:
    """Stores the records of a batch, in order, from a background thread, so that the
    loop hands the workers their next conjectures while a record is written: each save
    waits for an fsync of the file before its rename, and with --jobs 2 a worker that
    finished during that wait sat idle (40 ms of a 1.2 s batch of 50,
    bench/bench_throughput.py); within the store's ``batch`` the directories' fsyncs
    wait for the end. The thread only serialises and writes; ``close``
    waits for every save and returns those refused, (id, error), for the caller to
    report. A save is atomic either way, so stopping early never leaves half a file."""

    def __init__(self, store):
        import queue
        import threading

        self.store = store
        self.refused: list[tuple[str, ProverError]] = []
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with self.store.batch():        # each directory fsynced once, at the end
            while True:
                rec = self.queue.get()
                if rec is None:
                    return
                try:
                    self.store.save(rec)
                except ProverError as exc:
                    self.refused.append((rec.id, exc))
                except Exception as exc:    # reported by the caller, never a dead thread
                    self.refused.append((rec.id,
                                         ProverError(f"{type(exc).__name__}: {exc}")))

    def save(self, rec) -> None:
        self.queue.put(rec)

    def close(self) -> list[tuple[str, ProverError]]:
        self.queue.put(None)
        self.thread.join()
        return self.refused


def _elapsed(wall: float, reused: int, ran: list, args, cluster) -> str:
    """The summary's time: the command's wall-clock seconds (not the sum of the rows:
    with several workers that sum exceeds the time taken, and a reused row took none),
    then what the rows' seconds add up to and how many ran at once, and how many
    results were reused."""
    notes = []
    if reused:
        notes.append(f"{reused} reused unchanged")
    from .pipeline import worker_count
    at_once = worker_count(args.jobs, len(ran))
    if ran and (cluster is not None or at_once > 1):
        workers = "on the cluster" if cluster is not None else f"{at_once} at a time"
        notes.append(f"checks {sum(o.seconds for o in ran):.1f} s in all, {workers}")
    return f"{wall:.1f} s" + (f" ({'; '.join(notes)})" if notes else "")


def _without_case_twins(conjectures, seen, errors) -> list:
    """Drop (with an error) every conjecture whose id differs from an earlier one's only in
    case: on macOS and Windows both would be one certificate file."""
    from .store import case_collisions

    twins = {later: earlier for earlier, later in case_collisions([c.id for c in conjectures])}
    kept = []
    for conj in conjectures:
        if conj.id in twins:
            other = twins[conj.id]
            errors.append(InputError(
                f"id '{conj.id}' differs from '{other}' (used by {seen[other]}) only in "
                "case; on macOS and Windows they would be one certificate; rename one of "
                "them or set a distinct id = \"...\"", path=seen.get(conj.id, conj.source),
                line=conj.id_line, column=conj.id_column))
            continue
        kept.append(conj)
    return kept


def _same_source(store, stored_source, source: str) -> bool:
    """Whether a stored certificate's ``source`` names the file ``source`` (the same file
    however the path was written, as the store's source_candidates resolve it)."""
    import os
    from .store import source_candidates

    if not isinstance(stored_source, str):
        return False
    for candidate in source_candidates(store, stored_source):
        try:
            if os.path.samefile(candidate, source):
                return True
        except (OSError, ValueError):
            pass
        if os.path.normpath(os.path.abspath(candidate)) \
                == os.path.normpath(os.path.abspath(source)):
            return True
    return False


def _result_json(o) -> dict:
    c = o.record
    return {"id": c.id, "source": c.source, "verdict": c.verdict.value,
            "trust": None if c.trust is None else c.trust.value,
            "expect": o.conjecture.expect, "matches_expect": o.verdict == o.conjecture.expect,
            "vacuous": c.vacuous, "reason": c.reason,
            "seconds": round(o.seconds, 3), "solver_seconds": round(o.solver_seconds, 3),
            "confirm_seconds": round(o.confirm_seconds, 3),
            "certify_seconds": round(o.certify_seconds, 3)}


def _run_checks(conjectures, args, cluster=None):
    """Each conjecture in its own worker under its whole budget and memory cap
    (prover/pipeline.py; with a cluster, that worker runs in a dask task:
    prover/distributed_run.py); Outcomes, or pipeline.Failed, in input order. With --kernel
    the Coq proofs of all certificates found are compiled afterwards, here, together (one
    coqc run per job, a failing proof isolated, accepted texts cached:
    check.kernel_check_batch). Without --kernel each Outcome is handed on as it arrives,
    so it is stored (and reported) while the workers check the next ones."""
    from .pipeline import Failed, run_many
    jobs = min(args.jobs, os.cpu_count() or 1)
    if cluster is not None:
        outcomes = cluster.check_many(conjectures, timeout=args.timeout, memory=args.memory)
    else:
        outcomes = run_many(conjectures, timeout=args.timeout, kernel=False, jobs=jobs,
                            memory=args.memory)
    if not args.kernel:
        yield from outcomes
        return
    from .check import kernel_check_batch
    outcomes = list(outcomes)
    kernel_check_batch([o for o in outcomes if not isinstance(o, Failed)], jobs=jobs)
    yield from outcomes
