"""The ``prover`` command line: a thin layer over the library.

Each command's docstring is its ``--help``. Errors become one clean line on stderr;
``main(argv)`` returns the exit code (``sys.exit`` only at the edge), so tests call it
directly. Heavy modules (z3, cvc5, sympy, numpy) are imported only by the commands that
need them: ``prover --help`` and ``prover list`` start fast.

Exit codes: check — 0 every verdict equals its expect, 1 a verdict differs, 2 input
error; verify — 0 all pass, 1 any failed, stale or malformed; show — 2 unknown id or
malformed certificate; any command — 2 for an OSError (one line: the path and the fix,
never a traceback); others — 0. Hostile input: docs/security.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from datetime import datetime, timezone

from ._version import __version__
from .errors import InputError, ProverError
from .shard import add_scale_options


def _out(args, text: str = "") -> None:
    if not getattr(args, "quiet", False):
        print(text)


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _os_fix(exc: OSError, path) -> str:
    """What to do about an OSError on ``path``, for the one-line message."""
    import errno
    import os

    if exc.errno == errno.ENOENT:
        parent = os.path.dirname(os.fspath(path)) or "."
        if not os.path.isdir(parent):
            return f"the folder {parent} does not exist; create it first"
        return "check the path"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "it is not writable (or readable) by you; fix its permissions or choose " \
               "another path (--store DIR, -o FILE)"
    if exc.errno == errno.ENOSPC:
        return "the disk is full; free some space"
    if exc.errno in (errno.EISDIR, errno.ENOTDIR):
        return "a file and a folder are mixed up on that path; choose another path"
    return "check the path"


def _store(args):
    from .store import DirectoryStore
    return DirectoryStore(args.store)


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _age(created: str) -> str:
    try:
        then = datetime.fromisoformat(created)
    except (TypeError, ValueError):
        return "?"
    secs = (datetime.now(timezone.utc) - then).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{int(secs // size)}{unit}"
    return f"{max(0, int(secs))}s"


def _verdict_text(cert) -> str:
    """A record's verdict as the tables print it."""
    v = cert.verdict.value
    if v == "valid" and cert.vacuous:
        return "valid (VACUOUS)"
    if v == "unknown" and "disagree" in (cert.reason or ""):
        return "unknown (SOLVERS DISAGREE)"
    return v


# --- check ---------------------------------------------------------------------------

def _still_verifies(doc, args, store) -> bool:
    """A stored result is reused only while `prover verify` still passes it (with this
    prover: a changed realizer or checker makes the record recompute, never go stale)."""
    from .verify import verify_one
    return verify_one(doc, args.timeout, False, store).status == "pass"


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
    stored, reused, fresh = {}, [], []
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
        if not args.force and reusable(conj, old, args.kernel) and \
                _still_verifies(old, args, store):
            reused.append(Outcome(conj, old))
        else:
            fresh.append(conj)
    for exc in errors:
        _err(f"error: {exc}")
    total_checked = len(reused) + len(fresh)
    if reused and (interactive or args.verbose):
        _err(f"{len(reused)} unchanged since their certificates were made: reused "
             "(--force recomputes)")
    reused_ids = {id(o) for o in reused}
    from .pipeline import Failed
    for outcome in reused + list(_run_checks(fresh, args, cluster)):
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
        try:
            store.save(rec)
        except ProverError as exc:
            _err(f"error: cannot store {rec.id}: {exc}")
            errors.append(exc)
        results.append(outcome)
        if interactive or args.verbose:
            print(f"[{len(results)}/{total_checked}] {rec.id}: {_verdict_text(rec)} "
                  f"({outcome.seconds:.1f} s)", file=sys.stderr)
        for w in outcome.warnings:
            _err(f"warning: {rec.id}: {w}")

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
        total = sum(o.seconds for o in results)
        head = f"\n{shard}\n" if shard else "\n"
        _out(args, f"{head}{len(results)} checked in {total:.1f} s: "
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


def _memory_size(text: str) -> int:
    from .pipeline import parse_memory
    try:
        return parse_memory(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"--memory {text!r}: ")) \
            from None


def _run_checks(conjectures, args, cluster=None):
    """Each conjecture in its own worker under its whole budget and memory cap
    (prover/pipeline.py; with a cluster, that worker runs in a dask task:
    prover/distributed_run.py); Outcomes, or pipeline.Failed, in input order. With --kernel
    the Coq proofs of all certificates found are compiled afterwards, here, together (one
    coqc run per job, a failing proof isolated, accepted texts cached:
    check.kernel_check_batch)."""
    from .pipeline import Failed, run_many
    jobs = min(args.jobs, os.cpu_count() or 1)
    if cluster is not None:
        outcomes = list(cluster.check_many(conjectures, timeout=args.timeout,
                                           memory=args.memory))
    else:
        outcomes = list(run_many(conjectures, timeout=args.timeout, kernel=False, jobs=jobs,
                                 memory=args.memory))
    if args.kernel:
        from .check import kernel_check_batch
        kernel_check_batch([o for o in outcomes if not isinstance(o, Failed)], jobs=jobs)
    return outcomes


# --- list / show -------------------------------------------------------------------------

def cmd_list(args) -> int:
    """One row per stored certificate: id, model, verdict, trust, age.

    A certificate that cannot be read or lacks the fields prover relies on is listed
    with verdict 'malformed' (and a warning saying why); `prover verify` fails it.

    Example:  prover list --trust certificate --verdict valid

    Exit: 0."""
    from .store import BadEntry

    rows, listed, bad, malformed = [], [], [], []
    filtered = args.verdict or args.trust or args.model
    for cid, rec in _store(args).records():
        if isinstance(rec, BadEntry):
            (malformed if rec.malformed else bad).append(rec)
            if not filtered:
                listed.append({"id": cid, "model": None, "verdict": "malformed",
                               "trust": None, "vacuous": False, "created": None,
                               "problem": rec.reason})
                rows.append([cid, "?", "malformed", "-", "?"])
            continue
        if args.verdict and rec.verdict != args.verdict:
            continue
        if args.trust and (rec.trust or "none") != args.trust:
            continue
        if args.model and rec.model.name != args.model:
            continue
        listed.append({"id": rec.id, "model": rec.model.name, "verdict": rec.verdict.value,
                       "trust": None if rec.trust is None else rec.trust.value,
                       "vacuous": rec.vacuous, "created": rec.created})
        rows.append([cid, rec.model.name, _verdict_text(rec), rec.trust or "-",
                     _age(rec.created)])
    for b in bad:
        _err(f"warning: unreadable certificate {b.path}: {b.reason}")
    for m in malformed:
        _err(f"warning: malformed certificate {m.path}: {m.reason}")
    if args.json:
        print(json.dumps({"certificates": listed,
                          "unreadable": [{"id": b.id, "path": b.path, "reason": b.reason}
                                         for b in bad]},
                         indent=2, sort_keys=True))
    elif rows:
        _out(args, _table(rows, ["id", "model", "verdict", "trust", "age"]))
    else:
        _out(args, f"no certificates in {args.store}/" + (" match" if filtered else ""))
    return 0


def cmd_show(args) -> int:
    """Statement, family, verdict and evidence of one stored certificate, readably.

    Example:  prover show twins/h2-at-most-2rDZ

    Exit: 0; 2 when the id is unknown or its certificate is malformed (the message says
    what is wrong and where)."""
    from .errors import MalformedCertificate, StoreError
    from .show import render

    store = _store(args)
    fix = "; re-run `prover check` on its source, or delete the file"
    try:
        doc = store.record(args.id)
    except MalformedCertificate as exc:
        _err(f"error: certificate '{args.id}' is malformed: {exc.path}: {exc.reason}{fix}")
        return 2
    except (StoreError, InputError) as exc:
        _err(f"error: {exc}")
        return 2
    if doc is None:
        import difflib
        try:
            known = store.ids()
        except StoreError:
            known = []
        close = difflib.get_close_matches(args.id, known, n=1)
        _err(f"error: no certificate '{args.id}' in {args.store}/" +
             (f"; did you mean '{close[0]}'?" if close else "; see `prover list`"))
        return 2
    where = getattr(store, "path_for", lambda i: i)(args.id)
    if args.json:
        print(json.dumps(doc.to_json(), indent=2, sort_keys=True))
        return 0
    problem, why_not = None, ""
    if doc.proof is not None and doc.proof.kind.exact:
        from .explain import rebuild
        problem, why_not = rebuild(store, doc)
    try:
        text = render(doc, problem, why_not)
    except MalformedCertificate as exc:
        _err(f"error: certificate '{args.id}' is malformed: {where}: {exc.reason}{fix}")
        return 2
    print(text)
    return 0


# --- verify ------------------------------------------------------------------------------

def cmd_verify(args) -> int:
    """Re-check stored certificates, trusting nothing from the first run.

    Sources must be unchanged (else stale), proof certificates are re-checked exactly,
    counterexamples re-evaluated exactly and re-confirmed numerically, and results
    without a solver-free certificate are re-solved.

    --shard K/N verifies the K-th of N disjoint shares (by sorted id) of the certificates
    named, or of the whole store.

    Examples:  prover verify            (the whole store)
               prover verify --shard 1/3 --junit verify-1.xml

    Each certificate gets one line `ID  pass|failed|stale|malformed  detail`; a malformed
    one (unreadable, not JSON, wrong shape) fails and the rest are still verified.

    Exit: 0 all pass; 1 any failed or stale or malformed, or nothing to verify."""
    from .verify import verify_store

    ids, every, shard = args.ids, [], None
    if args.shard:
        every = list(dict.fromkeys(ids)) if ids else [cid for cid, _ in _store(args).entries()]
        ids = args.shard.select(every, key=str)
        shard = args.shard.summary(len(ids), len(every), "certificates")
    # an empty share of a store that has certificates is no failure
    reports = verify_store(_store(args), ids, timeout=args.timeout, kernel=args.kernel) \
        if ids or not every else []
    if not reports and not every:
        # nothing verified is not a pass: a CI job pointed at a wrong or empty store
        # must fail, not report success
        print(f"prover: nothing to verify: the store {_store(args).root} holds no "
              "certificates; run `prover check` first or pass --store DIR",
              file=sys.stderr)
        if args.json:
            print(json.dumps({"results": [], "passed": False}, indent=2, sort_keys=True))
        if args.junit:
            from .junit import write_verify
            write_verify(args.junit, [], str(_store(args).root))
        return 1
    failed = [r for r in reports if r.status in ("failed", "stale", "malformed")]
    if args.json:
        doc = {"results": [r.to_json() for r in reports], "passed": not failed}
        if args.shard:
            doc["shard"] = args.shard.to_json(len(ids), len(every))
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        rows = [[r.id, r.status, r.detail] for r in reports]
        if rows:
            _out(args, _table(rows, ["id", "status", "detail"]))
        unchecked = [r for r in reports if r.status == "unchecked"]
        head = f"\n{shard}\n" if shard else "\n"
        passed = len(reports) - len(failed) - len(unchecked)
        malformed = sum(r.status == "malformed" for r in reports)
        _out(args, f"{head}{len(reports)} certificates: {passed} pass, "
                   f"{len(failed) - malformed} failed or stale, {malformed} malformed, "
                   f"{len(unchecked)} could not be checked")
    if args.junit:
        from .junit import write_verify
        write_verify(args.junit, reports, str(_store(args).root), empty_ok=bool(every))
    return 1 if failed else 0


# --- models ------------------------------------------------------------------------------

def cmd_models(args) -> int:
    """List the models, or document one (parameters, statistics, components).

    With a NAME: the family, parameters and defaults, statistics, components, and why
    its proof side is sound.

    Example:  prover models twins

    Exit: 0; 2 when the model is unknown."""
    from . import models

    if not args.name:
        rows = []
        for name in models.names():
            m = models.get(name)
            rows.append([name, m.summary])
        if args.json:
            print(json.dumps({"models": [{"name": r[0], "summary": r[1]} for r in rows]},
                             indent=2))
        else:
            print(_table(rows, ["model", "family"]))
            print("\n`prover models NAME` documents one.")
        return 0
    try:
        model = models.get(args.name)
    except InputError as exc:
        _err(f"error: {exc}")
        return 2
    inst = model.build(model.validate_params({}))
    if args.json:
        print(json.dumps({"name": model.name, "summary": model.summary, "doc": model.doc,
                          "params": [{"name": p.name, "type": p.kind, "default": p.default,
                                      "minimum": p.minimum, "maximum": p.maximum,
                                      "description": p.description} for p in model.params],
                          "statistics": {k: s.description for k, s in inst.statistics.items()},
                          "components": inst.components}, indent=2, sort_keys=True))
        return 0
    print(f"{model.name} — {model.summary}\n")
    print(model.doc)
    print("\nParameters:")
    for p in model.params:
        rng = f" (range {p.minimum}..{p.maximum})" if p.minimum is not None else ""
        default = json.dumps(p.default)
        print(f"  {p.name} = {default}  — {p.description}{rng}")
    print("\nStatistics (with default parameters):")
    for name, s in inst.statistics.items():
        print(f"  {name:10} {s.description}")
    print("\nComponents (with default parameters): " + (", ".join(inst.components) or "none"))
    return 0


# --- export ------------------------------------------------------------------------------

def cmd_export(args) -> int:
    """Export a stored result: a Coq proof (coqc checks it) or the SMT-LIB problem.

    Example:  prover export twins/h2-at-most-2rDZ --to coq -o h2.v

    Exit: 0; 2 unknown id, malformed certificate or a FILE that cannot be written."""
    from .export import export

    try:
        text = export(_store(args), args.id, args.to)
    except ProverError as exc:
        _err(f"error: {exc}")
        return 2
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            _err(f"error: cannot write {args.output}: {exc.strerror or exc}; "
                 + _os_fix(exc, args.output))
            return 2
        _out(args, f"wrote {args.output}")
    return 0


# --- site --------------------------------------------------------------------------------

def cmd_site(args) -> int:
    """Write a static HTML site of the store, to browse offline (file:// works).

    index.html lists every certificate with a search box and filters for model,
    verdict and trust (index.html#verdict=refuted links a filtered view); each
    certificate and each model has its own page, with the model's frontier plots.
    Plots are kept in DIR/plots and redrawn only when their inputs change.

    Example:  prover site -o site && xdg-open site/index.html

    Exit: 0; 2 when DIR cannot be used (not empty and not made by `prover site`)."""
    from .site import build_site

    log = None if args.quiet else _err
    report = build_site(_store(args), args.output, plots=not args.no_plots, log=log)
    for b in report.unreadable:
        _err(f"warning: unreadable certificate {b.path}: {b.reason}")
    for model, why in sorted(report.plot_errors.items()):
        _err(f"warning: no plots for model {model}: {why}")
    for w in report.warnings:
        _err(f"warning: {w}")
    if args.json:
        print(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        _out(args, report.summary())
    return 0


# --- frontier ----------------------------------------------------------------------------

def cmd_frontier(args) -> int:
    """The region two statistics (or expressions in them) can occupy under a model.

    Exact when both are linear-fractional with one denominator (twins, multilinear):
    vertices as rationals, edges as equations, each marked attained or only approached,
    with witnesses. Otherwise an inner approximation (realized points) and an outer one
    (bounds proved by the solver, and valid certificates in the store), and the distance
    between them. --emit writes the boundary as conjecture files for `prover check`;
    --plot draws it (PNG or SVG) with the store's counterexamples.

    Examples:  prover frontier twins "rDZ/rMZ" s2 --param max_order=6
               prover frontier multilinear s2 r2 --plot r2-s2.svg --emit conjectures/frontier

    Exit: 0; 2 input error."""
    from .frontier import run_command

    return run_command(args, out=lambda text: _out(args, text), store=_store(args))


# --- bounds ------------------------------------------------------------------------------

def cmd_bounds(args) -> int:
    """Exact ranges implied by observed statistics (e.g. h2 given rMZ and rDZ).

    For each TARGET: its exact range over every member of MODEL's family whose
    statistics take the given values. Each end is exact (a rational) or unbounded,
    attained (with a witness architecture, realized and checked) or only approached,
    and certified: the conjecture "givens
    implies TARGET <= end" goes through `prover check` and gets its exact certificate;
    --store DIR keeps the certificates (their conjectures under conjectures/bounds/
    beside DIR) for `prover verify`. Supported models: twins, and multilinear with a
    finite max_degree (statistics must be ratios of linear forms in the components).

    SPEC: an exact decimal or fraction (0.62, 31/50), an interval LO..HI (0.55..0.65),
    or V±W (0.62±0.03; also 0.62+-0.03). Any mix of relatives: rMZ, rDZ, rPO, rHS, rFC.
    --input FILE.csv: header = statistic names, every cell a SPEC (empty = not given),
    one query per row; prints CSV: the input columns, <target>_lower, <target>_upper
    (decimals; inf when unbounded) and feasible. --shard K/N answers the K-th of N
    disjoint shares of the rows; --scheduler ADDRESS answers each row on a
    dask.distributed cluster (certificates are stored here).

    Examples:  prover bounds twins h2 s2 phantom --given rMZ=0.62 --given rDZ=0.25
               prover bounds twins h2 --given rMZ=0.62±0.02 --given rDZ=0.25±0.02 --json
               prover bounds twins h2 --param shared_environment=true --input twins.csv

    Exit: 0 answered; 1 no member has these values (the reason is printed; for a table:
    some row); 2 input error."""
    from .ranges.command import run_command

    return run_command(args, out=lambda text: _out(args, text))


# --- parser ------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", default="certificates", metavar="DIR",
                        help="certificate store directory (default: certificates/)")
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    common.add_argument("--timeout", type=float, default=None, metavar="S",
                        help="seconds for a whole conjecture: solvers, certificate search, "
                             "counterexample search and confirmation share it, plus a "
                             "grace of 2 s + 10%% (default: the file's, else 60)")
    common.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="conjectures checked in parallel (default: the cores, "
                             f"{os.cpu_count() or 1} here; never more than the cores)")
    common.add_argument("--memory", default="4G", metavar="SIZE", type=_memory_size,
                        help="address-space cap of each worker, e.g. 4G or 512M (default "
                             "4G); running out ends that conjecture 'unknown'")
    common.add_argument("-q", "--quiet", action="store_true", help="print less")
    common.add_argument("-v", "--verbose", action="store_true", help="print more")

    parser = argparse.ArgumentParser(
        prog="prover", description=__doc__.split("\n\n")[0],
        epilog="Exit codes: check 0 all verdicts as expected, 1 a verdict differs, 2 input "
               "error; verify 0 all pass, 1 failed or stale or malformed; show 2 unknown id "
               "or malformed certificate; any command 2 on a file-system error.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"prover {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name, func, help_text):
        p = sub.add_parser(name, parents=[common], help=help_text.split("\n")[0],
                           description=help_text,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    p = add("check", cmd_check, cmd_check.__doc__)
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories")
    p.add_argument("--force", action="store_true",
                   help="recompute results whose conjecture, encoding and versions are "
                        "unchanged (by default their certificates are reused as they are)")
    p.add_argument("--kernel", action="store_true",
                   help="also compile each certificate as a Coq proof (trust 'kernel'; "
                        "needs coqc)")
    p.add_argument("--junit", metavar="FILE",
                   help="also write a JUnit XML report (one testcase per conjecture)")
    add_scale_options(p, "conjectures (by sorted id)")
    p = add("list", cmd_list, cmd_list.__doc__)
    p.add_argument("--verdict", choices=["valid", "refuted", "unknown"])
    p.add_argument("--trust", choices=["kernel", "certificate", "solvers", "solver", "none"])
    p.add_argument("--model")
    p = add("show", cmd_show, cmd_show.__doc__)
    p.add_argument("id")
    p = add("verify", cmd_verify, cmd_verify.__doc__)
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--junit", metavar="FILE",
                   help="also write a JUnit XML report (one testcase per certificate)")
    p.add_argument("--kernel", action="store_true",
                   help="also re-compile the Coq proofs behind trust 'kernel' (needs coqc)")
    add_scale_options(p, "certificates (by sorted id)", scheduler=False)
    p = add("models", cmd_models, cmd_models.__doc__)
    p.add_argument("name", nargs="?")
    p = add("export", cmd_export, cmd_export.__doc__)
    p.add_argument("id")
    p.add_argument("--to", choices=["coq", "smtlib"], required=True)
    p.add_argument("-o", "--output", metavar="FILE")
    p = add("frontier", cmd_frontier, cmd_frontier.__doc__)
    p.add_argument("model", metavar="MODEL")
    p.add_argument("x", metavar="X", help="a statistic or an expression in statistics, e.g. rDZ/rMZ")
    p.add_argument("y", metavar="Y", help="a statistic or an expression in statistics, e.g. s2")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a model parameter, e.g. max_order=6 (repeatable)")
    p.add_argument("--plot", action="append", default=[], metavar="FILE",
                   help="draw the region to FILE, .png or .svg (repeatable)")
    p.add_argument("--emit", metavar="DIR", help="write the boundary's conjectures to DIR")
    p.add_argument("--epsilon", default="1/16", metavar="Q",
                   help="how much tightness variants strengthen a bound (default 1/16)")
    p.add_argument("--no-prove", action="store_true",
                   help="approximate frontiers: no solver calls for the outer bounds")
    # bounds keeps certificates only when --store is given: its own copy of the common
    # options (set_defaults would change the shared --store action of every command)
    bounds_common = argparse.ArgumentParser(add_help=False)
    for action in common._actions:
        bounds_common._add_action(copy.copy(action))
    store_action = next(a for a in bounds_common._actions if a.dest == "store")
    store_action.default = None
    store_action.help = ("keep each end's certificate in DIR, its conjecture in "
                         "conjectures/bounds/ beside DIR (default: not stored)")
    p = sub.add_parser("bounds", parents=[bounds_common], help=cmd_bounds.__doc__.split("\n")[0],
                       description=cmd_bounds.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=cmd_bounds)
    p.add_argument("model", metavar="MODEL", help="a model name (twins)")
    p.add_argument("targets", nargs="+", metavar="TARGET",
                   help="a statistic or an expression in statistics, e.g. h2, s2, rDZ/rMZ")
    p.add_argument("--given", action="append", default=[], metavar="STAT=SPEC",
                   help="an observed statistic, e.g. rMZ=0.62 or rDZ=0.25±0.02 (repeatable)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a model parameter, e.g. max_order=1 (repeatable)")
    p.add_argument("--input", metavar="FILE.csv", help="a table of givens, one query per row")
    p.add_argument("--csv", action="store_true", help="CSV output")
    p.add_argument("--no-prove", action="store_true",
                   help="skip the certificates of the ends (faster for big tables)")
    p.add_argument("--no-realize", action="store_true",
                   help="skip the simulation of the witnesses")
    add_scale_options(p, "table's rows (with --input)")
    p = add("site", cmd_site, cmd_site.__doc__)
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="where to write the site: a new or empty directory, or a previous site")
    p.add_argument("--no-plots", action="store_true",
                   help="leave out the frontier plots (they run solvers on a first build)")
    return parser


_UNSAFE = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f,
                                    *range(0x80, 0xa0)]}
# bidirectional overrides and isolates reorder what a terminal shows
_UNSAFE.update({c: f"\\u{c:04x}" for c in [*range(0x202a, 0x202f), *range(0x2066, 0x206a)]})


def terminal_safe(text: str) -> str:
    """Text from files (titles, claims, ids, reasons) with every control character except
    newline and tab written as an escape, so a certificate or conjecture from a stranger
    cannot move the cursor, recolour or rewrite the terminal."""
    return text.translate(_UNSAFE)


class _SafeStream:
    """A text stream that escapes control characters in everything written to it."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(terminal_safe(text))

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _SafeStream(out), _SafeStream(err)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:       # argparse exits on --help and on usage errors
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if args.jobs < 1:
        _err("error: --jobs must be at least 1")
        return 2
    if args.timeout is not None and not 0 < args.timeout <= 3600:
        _err("error: --timeout must be between 0 and 3600 seconds")
        return 2
    try:
        return args.func(args)
    except ProverError as exc:
        _err(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except OSError as exc:          # never a traceback: one line, the path, the fix
        if isinstance(exc, BrokenPipeError):    # e.g. `prover list | head`
            sys.stderr.close()
            return 0
        where = exc.filename or getattr(args, "output", None) or args.store
        _err(f"error: {where}: {exc.strerror or exc}; {_os_fix(exc, where)}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
