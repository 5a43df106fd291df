"""``prover frontier MODEL X Y``: parse ``--param``, compute the frontier, emit its
conjectures, draw it, print it. With ``pictures``, the only frontier modules that import
``prover.plot`` (which reads ``frontier.results`` and ``text`` and computes nothing), so
the data flow one way: computation → records → plot → command."""

from __future__ import annotations

import re
from typing import Iterable

from ..errors import InputError
from ..plot import plot_frontier
from .emit import emit
from .region import frontier
from .results import DEFAULT_EPSILON
from .text import describe


def parse_params(items: Iterable[str] | None) -> dict:
    """``["max_order=6", "shared_environment=true", "max_degree=inf"]`` -> a params dict
    (integers, booleans and strings as in a conjecture file's [params] table)."""
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise InputError(f"--param {item!r}: write KEY=VALUE, e.g. --param max_order=6")
        if re.fullmatch(r"[+-]?\d+", value):
            out[key] = int(value)
        elif value.lower() in ("true", "false"):
            out[key] = value.lower() == "true"
        else:
            out[key] = value.strip("\"'")
    return out


def run_command(args, out=print, store=None) -> int:
    """``prover frontier MODEL X Y``: what ``cli.cmd_frontier`` runs. ``args`` has
    model, x, y, param (list of KEY=VALUE), json, plot (list of files), emit (a
    directory or None), epsilon (text), no_prove, timeout; ``store`` is the certificate
    store (its counterexamples are plotted, its valid bounds join approximate
    frontiers). Raises InputError on bad input (exit 2 at the edge); returns 0."""
    import json

    from ..limits import number_problem
    from ..store import read_number

    try:    # bounded: Fraction("1e99999999") would build a hundred-million-digit integer
        epsilon = read_number(str(getattr(args, "epsilon", None) or DEFAULT_EPSILON))
    except (ValueError, ZeroDivisionError):
        raise InputError(f"--epsilon {args.epsilon!r}: give a positive rational such as "
                         "1/16") from None
    if number_problem(epsilon):
        raise InputError(f"--epsilon {args.epsilon!r}: {number_problem(epsilon)}")
    if epsilon <= 0:
        raise InputError(f"--epsilon {args.epsilon!r}: give a positive rational such as 1/16")
    fr = frontier(args.model, args.x, args.y, parse_params(args.param), store=store,
                  prove=not getattr(args, "no_prove", False),
                  timeout=getattr(args, "timeout", None))
    written = emit(fr, args.emit, epsilon) if getattr(args, "emit", None) else []
    plots = []
    if getattr(args, "plot", None):
        plots = [plot_frontier(fr, path, store=store) for path in args.plot]
    if getattr(args, "json", False):
        doc = fr.to_json()
        doc["emitted"] = [str(p) for p in written]
        doc["plots"] = [str(p) for p in plots]
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        out(describe(fr))
        if written:
            out(f"\nwrote {len(written)} conjectures to {args.emit}/ "
                f"(`prover check {args.emit}` checks them)")
        for path in plots:
            out(f"wrote {path}")
    return 0
