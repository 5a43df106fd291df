"""``prover bounds`` on the command line: one query from --given, or a table (--input CSV).

Human output is a small table per query; ``--json`` the documented JSON (one document,
or ``{"model", "params", "rows": [...]}`` for a table); ``--csv`` the input columns plus
``<target>_lower``, ``<target>_upper`` (decimals) and ``feasible``.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from fractions import Fraction

from ..errors import InputError
from ..poly import fraction_text
from . import BoundsResult, End, bounds, parse_given, parse_spec
from .infeasible import _params_text

MAX_ROWS = 100_000


def _decimal(v: Fraction | None, side: str) -> str:
    """An exact decimal when it has at most 12 places, else 12 significant digits."""
    if v is None:
        return "-inf" if side == "lower" else "inf"
    d = v.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d == 1:
        places = 0
        while (v * 10 ** places).denominator != 1:
            places += 1
        if places <= 12:
            digits = str(abs(v.numerator) * 10 ** places // v.denominator).rjust(places + 1, "0")
            text = digits if not places else f"{digits[:-places]}.{digits[-places:]}"
            return ("-" if v < 0 else "") + text
    return f"{float(v):.12g}"


def _cell_text(end: End) -> str:
    if end.value is None:
        return "unbounded"
    exact = fraction_text(end.value)
    approx = f"{float(end.value):.6g}"
    text = exact if exact == approx else f"{exact} ~ {approx}"
    return text + (" (attained)" if end.attained else " (approached)")


def _witness_text(w: dict) -> str:
    return ", ".join(f"{k} = {fraction_text(v)}" for k, v in w.items() if v) or "all 0"


def render(r: BoundsResult, model) -> str:
    lines = [f"{r.model} ({_params_text(model, r.params)})"]
    if r.given:
        lines.append("given: " + ", ".join(
            f"{g.name} = {fraction_text(g.lo)}" if g.lo == g.hi else
            f"{fraction_text(g.lo)} <= {g.name} <= {fraction_text(g.hi)}" for g in r.given))
    else:
        lines.append("given: nothing (the whole family)")
    if not r.feasible:
        lines.append(f"infeasible: {r.reason}")
        return "\n".join(lines)
    rows = [[b.target, _cell_text(b.lower), _cell_text(b.upper)] for b in r.bounds]
    widths = [max(len(x) for x in col) for col in zip(["target", "lower", "upper"], *rows)]
    fmt = lambda row: "  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip()
    lines += ["", fmt(["target", "lower", "upper"]), fmt(["-" * w for w in widths])]
    lines += [fmt(row) for row in rows]
    details = []
    for b in r.bounds:
        for side, end in (("lower", b.lower), ("upper", b.upper)):
            if end.value is None:
                continue
            head = f"{b.target} {side} = {fraction_text(end.value)}: "
            parts = []
            if end.attained:
                parts.append(f"attained by {_witness_text(end.witness)}")
                if end.realization:
                    parts.append("realized, statistics agree" if end.realization["confirmed"]
                                 else "realized, NOT confirmed")
            else:
                parts.append("only approached (no member attains it)")
            if end.certified:
                parts.append(f"certified ({end.proof}, trust {end.certified})"
                             + (f" as {end.certificate}" if end.certificate else
                                ", not stored (--store DIR keeps it)"))
            details.append(head + "; ".join(parts))
            for note in end.notes:
                details.append(f"  note: {note}")
    if details:
        lines += [""] + details
    return "\n".join(lines)


def _progress(done: int, total: int) -> None:
    # numbers only, so the raw stream is safe; the terminal-safe wrapper would escape \r
    stream = getattr(sys.stderr, "_stream", sys.stderr)
    width = 30
    filled = width * done // total
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows")
    if done == total:
        stream.write("\n")
    stream.flush()


MAX_TABLE_BYTES = 50_000_000
MAX_COLUMNS = 256       # a model has a few dozen statistics; a wider header is no table


def _read_table(path: str, given_keys: set[str]) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and the rows of an --input table: a regular file (a FIFO or device is
    refused, so it cannot hang the command), or '-' for standard input."""
    from ..limits import FileRefused, read_regular_file

    try:
        if path == "-":
            raw = sys.stdin.buffer.read(MAX_TABLE_BYTES + 1)
        else:
            raw = read_regular_file(path, MAX_TABLE_BYTES)
    except FileNotFoundError:
        raise InputError("cannot read: no such file", path=path) from None
    except FileRefused as exc:
        reason = exc.reason + (" (tables are at most 50 MB)"
                               if exc.reason.startswith("file is") else "")
        raise InputError(reason + (f"; {exc.fix}" if exc.fix else "")
                         + "; pass a regular file, or '-' to read standard input",
                         path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if len(raw) > MAX_TABLE_BYTES:
        raise InputError("table larger than 50 MB", path=path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; save the table as UTF-8 CSV", path=path) from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty table: the first row names the given statistics, e.g. "
                         "rMZ,rDZ", path=path, line=1) from None
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", path=path, line=1) from None
    header = [h.strip() for h in header]
    if len(header) > MAX_COLUMNS:
        raise InputError(f"{len(header)} columns: a table has at most {MAX_COLUMNS} (one per "
                         "given statistic)", path=path, line=1)
    first: dict[str, int] = {}
    for col, name in enumerate(header, 1):
        if not name:
            raise InputError("empty column name; the header names statistics, e.g. rMZ",
                             path=path, line=1, column=col)
        if first.setdefault(name, col) != col:
            raise InputError(f"column '{name}' appears twice", path=path, line=1, column=col)
        if name in given_keys:
            raise InputError(f"column '{name}' is also given with --given; give it once",
                             path=path, line=1, column=col)
    rows = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise InputError(f"{len(cells)} cells but the header has {len(header)}",
                                 path=path, line=line)
            row = {}
            for col, (name, cell) in enumerate(zip(header, cells), 1):
                if not cell.strip():
                    continue
                try:
                    parse_spec(cell)
                except InputError as exc:
                    raise InputError(f"{name}: {exc.message}", path=path, line=line,
                                     column=col) from None
                row[name] = cell.strip()
            rows.append((line, row, cells))
            if len(rows) > MAX_ROWS:
                raise InputError(f"more than {MAX_ROWS} rows", path=path, line=line)
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", path=path, line=reader.line_num) from None
    if not rows:
        raise InputError("no rows below the header", path=path, line=2)
    return header, rows


def run_command(args, out=print) -> int:
    from .. import models
    from ..frontier import parse_params

    params = parse_params(args.param)
    model = models.get(args.model)
    given = {}
    for item in args.given:
        key, spec = parse_given(item)
        if key in given:
            raise InputError(f"--given {key} twice; give each statistic once")
        try:
            parse_spec(spec)
        except InputError as exc:
            raise InputError(f"--given {item!r}: {exc.message}") from None
        given[key] = spec
    options = dict(targets=args.targets, params=params, store=args.store,
                   prove=not args.no_prove, realize=not args.no_realize,
                   timeout=args.timeout)
    if not args.input:
        if args.shard:
            raise InputError("--shard splits a table's rows: use it with --input FILE.csv")
        result = next(_answers(args, given, [(None, {}, None)], options))
        if isinstance(result, InputError):
            raise result
        if args.json:
            out(json.dumps(result.to_json(), indent=2, sort_keys=True))
        elif args.csv:
            out(_csv([list(given)], [[given[k] for k in given]], [result], args.targets))
        else:
            out(render(result, model))
        return 0 if result.feasible else 1

    header, rows = _read_table(args.input, set(given))
    total = len(rows)
    if args.shard:
        rows = args.shard.select(rows)
        if not args.quiet and not args.json:
            print(args.shard.summary(len(rows), total, "rows"), file=sys.stderr)
    # validate the targets and each column's statistic before any row runs
    quick = {**options, "prove": False, "realize": False}
    first = bounds(args.model, given=given, **quick)
    for col, name in enumerate(header, 1):
        try:
            bounds(args.model, given={name: "0..1"}, **quick)
        except InputError as exc:
            raise InputError(f"column {exc.message.removeprefix('given ')}", path=args.input, line=1,
                             column=col) from None
    results = []
    show = sys.stderr.isatty() and not args.quiet and len(rows) > 1
    for k, ((line, _, _), result) in enumerate(zip(rows, _answers(args, given, rows,
                                                                    options)), 1):
        if isinstance(result, InputError):
            raise InputError(result.message, path=args.input, line=line) from None
        results.append(result)
        if show:
            _progress(k, len(rows))
    if args.json:
        doc = {"model": model.name, "params": first.params,
               "rows": [r.to_json() for r in results]}
        if args.shard:
            doc["shard"] = args.shard.to_json(len(rows), total)
        out(json.dumps(doc, indent=2, sort_keys=True))
    else:       # a table's answer is a table: CSV unless --json
        out(_csv([list(given) + header], [[given[k] for k in given] + list(cells)
                                          for _, _, cells in rows], results, args.targets))
    return 0 if all(r.feasible for r in results) else 1


def _answers(args, given: dict, rows, options: dict):
    """Each row's BoundsResult (or its InputError), in order: here, or one task per row on
    the dask cluster of --scheduler (prover/distributed_run.py)."""
    if not args.scheduler:
        for _, row, _ in rows:
            try:
                yield bounds(args.model, given={**given, **row}, **options)
            except InputError as exc:
                yield exc
        return
    from ..distributed_run import Cluster

    remote = {k: v for k, v in options.items() if k != "store"}
    with Cluster(args.scheduler) as cluster:
        yield from cluster.bounds_rows(args.model, [{**given, **row} for _, row, _ in rows],
                                       remote, store=options["store"], memory=args.memory)


def _csv(headers: list[list[str]], rows: list[list[str]], results, targets) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = [t.strip() for t in targets]
    w.writerow(headers[0] + [f"{t}_{s}" for t in names for s in ("lower", "upper")]
               + ["feasible"])
    for cells, r in zip(rows, results):
        extra = []
        for b in r.bounds:
            extra += [_decimal(b.lower.value, "lower"), _decimal(b.upper.value, "upper")]
        if not r.feasible:
            extra = [""] * (2 * len(names))
        w.writerow(list(cells) + extra + ["true" if r.feasible else "false"])
    return buf.getvalue().rstrip("\n")
