"""The ``prover`` command line: a thin layer over the library.

Each command's docstring is its ``--help``. Errors become one clean line on stderr;
``main(argv)`` returns the exit code (``sys.exit`` only at the edge), so tests call it
directly. Heavy modules (z3, cvc5, sympy, numpy) are imported only by the commands that
need them: ``prover --help`` and ``prover list`` start fast.

Exit codes: check — 0 every verdict equals its expect, 1 a verdict differs, 2 input
error; verify — 0 all pass, 1 any failed, stale or malformed; show — 2 unknown id or
malformed certificate; any command — 2 for an OSError (one line: the path and the fix,
never a traceback); others — 0. Hostile input: docs/security.md.

This module builds the parser and maps errors to exit codes; the handlers are in
``cli_check`` (check) and ``cli_commands`` (the others), what they print with in
``cli_output``.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys

from ._env import one_thread

one_thread()    # one BLAS thread per process, set before numpy is imported (prover/_env.py)

from ._version import __version__
from .cli_check import cmd_check
from .cli_commands import (cmd_bounds, cmd_export, cmd_frontier, cmd_list, cmd_models,
                           cmd_show, cmd_site, cmd_verify)
from .cli_output import _err, _os_fix
from .errors import ProverError
from .shard import add_scale_options


def _memory_size(text: str) -> int:
    from .pipeline import parse_memory
    try:
        return parse_memory(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"--memory {text!r}: ")) \
            from None


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
    p.add_argument("--force", action="store_true",
                   help="as for check (DESIGN.md's common options); verify reuses nothing, "
                        "so every certificate is re-checked from scratch with or without it")
    add_scale_options(p, "certificates (by sorted id)")
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
    p.add_argument("--input", metavar="FILE.csv",
                   help="a table of givens, one query per row ('-': standard input)")
    p.add_argument("--csv", action="store_true", help="CSV output")
    p.add_argument("--no-prove", action="store_true",
                   help="skip the certificates of the ends (faster for big tables)")
    p.add_argument("--no-realize", action="store_true",
                   help="skip the simulation of the witnesses")
    add_scale_options(p, "table's rows (with --input)")
    p = add("site", cmd_site, cmd_site.__doc__)
    p.add_argument("-o", "--output", default="site", metavar="DIR",
                   help="where to write the site: a new or empty directory, or a previous "
                        "site (default: site)")
    p.add_argument("--no-plots", action="store_true",
                   help="leave out the frontier plots (they run solvers on a first build)")
    return parser


_UNSAFE = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f,
                                    *range(0x80, 0xa0)]}
# bidirectional overrides and isolates reorder what a terminal shows; lone surrogates
# (a JSON "\\ud800", a file name that is not UTF-8) cannot be encoded at all
_UNSAFE.update({c: f"\\u{c:04x}" for c in [*range(0x202a, 0x202f), *range(0x2066, 0x206a),
                                           *range(0xd800, 0xe000)]})


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


def run() -> None:
    """The console command (and ``python -m prover``): ``main``, then a quick exit. Once
    the output is flushed and the exit handlers have run (worker pools shut down, every
    child killed), interpreter finalization would only tear down each loaded module
    (Z3, cvc5, numpy): 40 ms of a 0.3 s run, skipped by ``os._exit``. An exception
    leaves the ordinary way. The ``prover`` command and ``python -m prover`` reach it
    through ``prover.__main__.main``, which first forks the zygote for ``check`` and
    ``verify`` (prover/zygote.py)."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):       # a closed pipe: nothing more can be said
            pass
    import atexit
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:           # not CPython: the ordinary exit
        sys.exit(code)
    run_exit_handlers()
    os._exit(code)


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
