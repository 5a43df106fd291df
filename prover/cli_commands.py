"""The handlers of the commands other than ``check``: list, show, verify, models,
export, site, frontier and bounds. Each docstring is the command's ``--help``; each
handler calls the library and turns its errors into clean messages and exit codes."""

from __future__ import annotations

import json
import sys

from .cli_output import _age, _err, _os_fix, _out, _store, _table, _verdict_text
from .errors import InputError, ProverError


# --- list / show -------------------------------------------------------------------------

def cmd_list(args) -> int:
    """One row per stored certificate: id, model, verdict, trust, age.

    A certificate that cannot be read or lacks the fields prover relies on is listed
    with verdict 'malformed' (and a warning saying why); `prover verify` fails it.
    The rows are what the store holds: `prover verify` re-checks verdict, trust and the
    VACUOUS mark; the age and a 'solvers disagree' note are as recorded by the run.

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
        rows.append([cid, rec.model.name, _verdict_text(rec, stored=True), rec.trust or "-",
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
        # the renderer knows only that some payload had the wrong shape; verify's checks
        # walk the evidence piece by piece and say which is at fault
        _err(f"error: certificate '{args.id}' is malformed: {where}: {exc.reason} "
             f"(`prover verify {args.id}` says what is wrong){fix}")
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
    named, or of the whole store. --scheduler ADDRESS verifies each on a dask.distributed
    cluster (pip install 'prover[dask]'), against its source as read here; --kernel's
    Coq proofs are compiled here.

    Examples:  prover verify            (the whole store)
               prover verify --shard 1/3 --junit verify-1.xml
               prover verify --scheduler tcp://scheduler:8786

    Each certificate gets one line `ID  pass|failed|stale|malformed  detail`, then comes a
    summary line; a malformed one (unreadable, not JSON, wrong shape) fails and the rest
    are still verified. A certificate whose trust cannot be re-established here (trust
    solvers/solver with no solver to re-solve it, or no answer) is `unchecked`: no pass.

    Exit: 0 all pass; 1 any failed, stale, malformed or unchecked, or nothing to verify."""
    from .verify import verify_store

    ids, every, shard = args.ids, [], None
    if args.shard:
        every = list(dict.fromkeys(ids)) if ids else [cid for cid, _ in _store(args).entries()]
        ids = args.shard.select(every, key=str)
        shard = args.shard.summary(len(ids), len(every), "certificates")
    # an empty share of a store that has certificates is no failure
    reports = []
    if ids or not every:
        import contextlib
        if args.scheduler:
            from .distributed_run import Cluster
        with Cluster(args.scheduler) if args.scheduler else contextlib.nullcontext() \
                as cluster:
            reports = verify_store(_store(args), ids, timeout=args.timeout,
                                   kernel=args.kernel, jobs=args.jobs, memory=args.memory,
                                   cluster=cluster)
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
    unchecked = [r for r in reports if r.status == "unchecked"]
    if args.json:
        doc = {"results": [r.to_json() for r in reports],
               "passed": not failed and not unchecked}
        if args.shard:
            doc["shard"] = args.shard.to_json(len(ids), len(every))
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        # one plain line per certificate (DESIGN.md: scripts read them), no header
        width = max((len(r.id) for r in reports), default=0)
        status = max((len(r.status) for r in reports), default=0)
        for r in reports:
            _out(args, f"{r.id.ljust(width)}  {r.status.ljust(status)}  {r.detail}".rstrip())
        head = f"{shard}\n" if shard else ""
        passed = len(reports) - len(failed) - len(unchecked)
        malformed = sum(r.status == "malformed" for r in reports)
        _out(args, f"{head}{len(reports)} certificates: {passed} pass, "
                   f"{len(failed) - malformed} failed or stale, {malformed} malformed, "
                   f"{len(unchecked)} could not be checked")
    if args.junit:
        from .junit import write_verify
        write_verify(args.junit, reports, str(_store(args).root), empty_ok=bool(every))
    return 1 if failed or unchecked else 0


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

    --json prints {"id", "to", "output"} (the FILE, or null) and, without -o, "text".

    Exit: 0; 2 unknown id, malformed certificate or a FILE that cannot be written."""
    from .export import export

    try:
        text = export(_store(args), args.id, args.to)
    except ProverError as exc:
        _err(f"error: {exc}")
        return 2
    to_file = args.output not in (None, "-")
    if args.json and not to_file:
        print(json.dumps({"id": args.id, "to": args.to, "output": None, "text": text},
                         indent=2, sort_keys=True))
    elif not to_file:
        sys.stdout.write(text)
    else:
        try:
            with open(args.output, "w", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(text)
        except OSError as exc:
            _err(f"error: cannot write {args.output}: {exc.strerror or exc}; "
                 + _os_fix(exc, args.output))
            return 2
        if args.json:
            print(json.dumps({"id": args.id, "to": args.to, "output": args.output},
                             indent=2, sort_keys=True))
        else:
            _out(args, f"wrote {args.output}")
    return 0


# --- site --------------------------------------------------------------------------------

def cmd_site(args) -> int:
    """Write a static HTML site of the store, to browse offline (file:// works).

    index.html lists every certificate with a search box and filters for model,
    verdict and trust (index.html#verdict=refuted links a filtered view); each
    certificate and each model has its own page, with the model's frontier plots.
    Plots are kept in DIR/plots and redrawn only when their inputs change.

    Example:  prover site && xdg-open site/index.html      (-o DIR: elsewhere than site/)

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
