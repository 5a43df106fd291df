"""What the command handlers share: one-line messages on stdout and stderr, the fix for
an OSError, plain tables, ages, a record's verdict as the tables print it, and the store
that ``--store`` names."""

from __future__ import annotations

import sys
from datetime import datetime, timezone


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
    """'3d', '5h', ... since ``created``; '?' for anything that is not an ISO time with
    its offset (``created`` is cosmetic, and a stranger's store may hold anything)."""
    try:
        then = datetime.fromisoformat(created)
    except (TypeError, ValueError):
        return "?"
    if then.tzinfo is None or then.utcoffset() is None:
        return "?"                  # no offset: the age cannot be told
    try:
        secs = (datetime.now(timezone.utc) - then).total_seconds()
    except (OverflowError, ValueError):
        return "?"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{int(secs // size)}{unit}"
    return f"{max(0, int(secs))}s"


def _verdict_text(cert, stored: bool = False) -> str:
    """A record's verdict as the tables print it. ``stored``: read from the store, where
    the disagreement (in an unknown's reason) is as recorded by the run — `prover verify`
    cannot re-derive it, so the mark says so (VACUOUS it does re-derive)."""
    v = cert.verdict.value
    if v == "valid" and cert.vacuous:
        return "valid (VACUOUS)"
    if v == "unknown" and "disagree" in (cert.reason or ""):
        return "unknown (SOLVERS DISAGREE, as recorded)" if stored \
            else "unknown (SOLVERS DISAGREE)"
    return v
