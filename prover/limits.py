"""Limits at the door: every bound prover puts on what a file or a store may make it do.

Conjecture files and certificate stores come from strangers (a pull request, a shared
folder, CI artifacts). Each limit below is checked where the input enters, and going
past it is an input error naming the file (and line and column where there is one) and
the limit -- never a traceback, a hang or unbounded memory. ``docs/security.md`` lists
them with the tests that hold them.

Besides the constants, this module holds the one function that reads an untrusted
file (:func:`read_regular_file`) and the check every exact number passes
(:func:`number_problem`). It imports only the standard library.
"""

from __future__ import annotations

import errno
import os
import stat
from fractions import Fraction

from .poly import MAX_NUMBER_TEXT_DIGITS

# --- files -----------------------------------------------------------------------------
MAX_CONJECTURE_BYTES = 1 << 20          # 1 MiB per conjecture file
MAX_CERTIFICATE_BYTES = 64 << 20        # 64 MiB per certificate file
MAX_JSON_DEPTH = 64                     # arrays/objects nested in a certificate (bundled: 9)
# JSON values in one certificate, counted before it is parsed as its commas, objects and
# arrays (an over-count): a 60 MB file of 20 million empty objects took 3 GB to parse.
# The bundled certificates hold at most 4,106.
MAX_JSON_VALUES = 1_000_000

# --- expressions (prover/expr.py) -------------------------------------------------------
MAX_EXPRESSION_LENGTH = 10_000          # characters of one claim or assumption
MAX_TOKENS = 5_000                      # tokens of one expression
MAX_NODES = 5_000                       # nodes of its parsed tree
MAX_NESTING = 64                        # parentheses, calls, prefix operators, exponents
MAX_TREE_DEPTH = 200                    # operator chains (a + b + ...) nest without brackets
MAX_LITERAL_DIGITS = 1_000              # digits of a number literal as written
MAX_ASSUMPTIONS = 100                   # entries of ``assume``
MAX_TIMEOUT = 3600                      # seconds, ``timeout`` in a file and ``--timeout``

# --- exact arithmetic on the input (prover/expr.py, prover/encode.py) -------------------
# Numerator and denominator of every exact number that a literal denotes or that the
# encoding computes from literals (2^32^..., products, quotients) have at most this
# many decimal digits. Such a number also converts to a finite, nonzero float, so the
# numeric side (simulation, display, plots) never meets inf or NaN. The bundled corpus
# needs at most 6 digits.
MAX_NUMBER_DIGITS = 300
MAX_EXPONENT = 32                       # |n| in x^n
MAX_DEGREE = 64                         # polynomial degree of an encoded expression
# Coefficient products the encoder may spend on one conjecture (expanding
# (rMZ - rDZ)^8 over fifteen components needs ~320,000; the bundled corpus < 1,000).
MAX_EXPANSION = 50_000

# --- certificates (prover/store.py) -----------------------------------------------------
MAX_ID_LENGTH = 200
# Digits of one exact number string ("p/q") in a certificate: Python's own limit for
# converting text to int, stated here so the refusal is ours and clear.
MAX_CERTIFICATE_NUMBER_DIGITS = MAX_NUMBER_TEXT_DIGITS   # poly.str_to_fraction enforces it
# File names Windows reserves, with or without an extension, in any case.
RESERVED_NAMES = frozenset({"CON", "PRN", "AUX", "NUL",
                            *(f"COM{i}" for i in range(1, 10)),
                            *(f"LPT{i}" for i in range(1, 10))})

_NUMBER_BOUND = 10 ** MAX_NUMBER_DIGITS


def number_problem(value: Fraction) -> str | None:
    """Why ``value`` is too large to enter exact arithmetic, or None if it is fine."""
    if abs(value.numerator) >= _NUMBER_BOUND:
        part = "numerator" if value.denominator != 1 else "value"
        return (f"number too large: its {part} has {_digits(value.numerator)} digits; "
                f"exact numbers have at most {MAX_NUMBER_DIGITS} digits in numerator "
                "and denominator")
    if value.denominator >= _NUMBER_BOUND:
        return (f"number too precise: its denominator has {_digits(value.denominator)} "
                f"digits; exact numbers have at most {MAX_NUMBER_DIGITS} digits in "
                "numerator and denominator")
    return None


def _digits(n: int) -> str:
    n = abs(n)
    if n.bit_length() > 13_000:    # str() refuses past 4300 digits; estimate instead
        return f"about {int(n.bit_length() * 0.30103)}"
    return str(len(str(n)))


class FileRefused(Exception):
    """Internal: why a path cannot be read as an input file (callers add the path)."""

    def __init__(self, reason: str, fix: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


def file_kind(mode: int) -> str:
    """'a FIFO (named pipe)', 'a directory', ... for a non-regular file's mode."""
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def read_regular_file(path, cap: int, *, dir_fd: int | None = None,
                      follow_symlinks: bool = True) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``cap`` bytes.

    Opened without blocking (a FIFO cannot hang us) and checked with fstat on the open
    descriptor (no race between the check and the read); at most ``cap + 1`` bytes are
    ever read, so /dev/zero or a sparse 2 GB file costs nothing. Raises
    FileNotFoundError when absent, FileRefused for anything else unacceptable.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) \
        | getattr(os, "O_NOCTTY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, dir_fd=dir_fd) if dir_fd is not None \
            else os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise FileRefused("is a symbolic link", "replace the link by the file itself")
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise FileRefused(f"cannot read file: {exc.strerror}",
                              "check the file's permissions")
        if exc.errno == errno.EISDIR:
            raise FileRefused("is a directory, not a file")
        if exc.errno == errno.ENOTDIR:
            raise FileNotFoundError(path) from None
        raise FileRefused(f"cannot read file: {exc.strerror or exc}")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"is {file_kind(info.st_mode)}, not a regular file",
                              "only regular files are read")
        if info.st_size > cap:
            raise FileRefused(f"file is {info.st_size} bytes; the limit is {cap}")
        chunks, size = [], 0
        while size <= cap:
            try:
                chunk = os.read(fd, min(1 << 20, cap + 1 - size))
            except OSError as exc:
                raise FileRefused(f"cannot read file: {exc.strerror or exc}") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > cap:     # it grew between fstat and read
            raise FileRefused(f"file is more than {cap} bytes; the limit is {cap}")
        return b"".join(chunks)
    finally:
        os.close(fd)


def walk_entries(root, *, skip_hidden: bool = False):
    """Every entry below ``root`` that is not a directory it enters, as
    ``(entry, None)``, and every directory that could not be listed, as
    ``(path, reason)``. Iterative (a tree nested thousands deep is fine) and never
    entering a symlinked directory (no loops, no escapes): a link is yielded as an entry
    for the caller to judge. ``skip_hidden``: names starting with '.' are neither
    yielded nor entered. One walk for the conjecture tree and the certificate store."""
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                listing = list(it)
        except OSError as exc:
            yield directory, f"cannot list directory: {exc.strerror or exc}"
            continue
        for entry in listing:
            if skip_hidden and entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False              # the caller's own stat reports why
            if is_dir:
                stack.append(entry.path)
            else:
                yield entry, None

