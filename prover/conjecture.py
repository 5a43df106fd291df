"""Loading conjecture files (TOML, one conjecture per file) into validated records.

Nothing in a file is evaluated as Python: TOML is parsed by ``tomllib`` and expressions
by our own parser. Every problem is reported as an ``InputError`` naming the file, the
line and the column, and saying what would be valid.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import expr as E
from . import models
from .errors import ExprError, InputError
from .limits import (MAX_ASSUMPTIONS, MAX_CONJECTURE_BYTES, MAX_TIMEOUT, FileRefused,
                     file_kind, read_regular_file, walk_entries)

KEYS = ("id", "title", "model", "claim", "assume", "expect", "timeout", "params")
EXPECTS = ("valid", "refuted", "unknown")
MAX_FILE_BYTES = MAX_CONJECTURE_BYTES


@dataclass
class Conjecture:
    id: str
    source: str
    model: str
    params: dict
    claim_text: str
    claim: E.Expr
    assume_texts: list[str] = field(default_factory=list)
    assume: list[E.Expr] = field(default_factory=list)
    title: str = ""
    expect: str = "valid"
    timeout: float | None = None
    # where the file sets ``id = ...`` (None when the id comes from the path), so a
    # duplicate id can be reported at its line
    id_line: int | None = None
    id_column: int | None = None

    @property
    def explicit_id(self) -> bool:
        return self.id_line is not None

    def normalized(self) -> dict:
        """The mathematical content only: reformatting the file keeps it (and its hash)."""
        return {"model": self.model, "params": self.params,
                "claim": E.to_text(self.claim), "assume": [E.to_text(a) for a in self.assume]}

    def sha256(self) -> str:
        text = json.dumps(self.normalized(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def instance(self):
        return models.get(self.model).instance(self.params)

    def family_instance(self, family: str | None = None):
        """The instance a proof's cases are over: the model's proof side (None), or its
        concrete family ("concrete") — exact, so a proof there is as sound. ValueError
        when the model has no such family."""
        instance = self.instance()
        if family == "concrete":
            if instance.concrete is None:
                raise ValueError(f"model '{self.model}' has no concrete family")
            return instance.concrete
        if family is not None:
            raise ValueError(f"unknown proof family {family!r}")
        return instance

    def proof_problem(self, family: str | None = None):
        """The encoding a proof's cases are identities over (``family_instance``)."""
        from .encode import encode
        return encode(self.family_instance(family), self.claim, self.assume)


class _Locator:
    """Finds where keys and string values sit in the TOML text, for error positions.

    Heuristic and line-based (tomllib reports no positions for values): it maps plain
    ``key = value`` lines, table headers and single- or multi-line string literals
    without escapes; anything it cannot map falls back to the nearest known place."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]")

    def __init__(self, text: str):
        self.text = text.replace("\r\n", "\n")
        self.lines = self.text.split("\n")

    def _header(self, line: str) -> tuple[str, int] | None:
        """(dotted table name without spaces or quotes, column of the name) of a header."""
        m = self._HEADER.match(line)
        if not m:
            return None
        name = re.sub(r"\s*\.\s*", ".", m.group(2)).replace('"', "").replace("'", "")
        return name, m.start(2) + 1

    def key(self, key: str, table: str | None = None) -> tuple[int | None, int | None]:
        """(line, column) of ``key``'s definition in ``table`` (None: top level)."""
        if not key:
            return None, None
        current = None
        pattern = re.compile(r'^(\s*)(["\']?)' + re.escape(key) + r'\2\s*[=.]')
        for n, line in enumerate(self.lines, 1):
            header = self._header(line)
            if header:
                current = header[0]
                full = key if table is None else f"{table}.{key}"
                if current == full or current.startswith(full + "."):
                    return n, header[1]      # [key], [[key]] or [table.key]
                continue
            m = pattern.match(line)
            if current == table and m:
                return n, len(m.group(1)) + len(m.group(2)) + 1
        if table is not None:
            # an inline table (params = {max_order = 13}) or a dotted key
            # (params.max_order = 13): point at the key inside that line if we can
            line, _ = self.key(table)
            if line is not None:
                m = re.search(r"(?<![\w-])" + re.escape(key) + r"(?![\w-])",
                              self.lines[line - 1])
                return line, (m.start() + 1 if m else 1)
        return None, None

    def strings_after(self, key: str) -> list[tuple[int, int, str]]:
        """(line, column of the string's first character, raw content) of the string
        literals in ``key``'s value, in order."""
        line_no, _ = self.key(key)
        if line_no is None:
            return []
        offset = sum(len(l) + 1 for l in self.lines[:line_no - 1])
        offset = self.text.index("=", offset) + 1
        out = []
        pos = offset
        depth = 0
        while pos < len(self.text):
            ch = self.text[pos]
            if ch in "\"'":
                quote = self.text[pos:pos + 3] if self.text[pos:pos + 3] in ('"""', "'''") else ch
                end = self.text.find(quote, pos + len(quote))
                while quote != "'" and end > 0 and self.text[end - 1] == "\\":
                    end = self.text.find(quote, end + 1)
                if end < 0:
                    break
                start = pos + len(quote)
                if len(quote) == 3 and self.text.startswith("\n", start):
                    start += 1   # TOML drops a newline right after the opening quotes
                line = self.text.count("\n", 0, start) + 1
                col = start - (self.text.rfind("\n", 0, start) + 1) + 1
                out.append((line, col, self.text[start:end]))
                pos = end + len(quote)
                if depth == 0:
                    break
                continue
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth <= 0:
                    break
            elif ch == "\n" and depth == 0:
                break
            elif ch == "#":
                nl = self.text.find("\n", pos)
                pos = len(self.text) if nl < 0 else nl
                continue
            pos += 1
        return out

    def in_string(self, key: str, index: int, value: str,
                  offset: int) -> tuple[int | None, int | None]:
        """(line, column) of character ``offset`` of the ``index``-th string in ``key``'s
        value, when the literal in the file reads exactly ``value`` (no escapes);
        otherwise the key's own position."""
        literals = self.strings_after(key)
        if index < len(literals) and literals[index][2] == value:
            line, col, raw = literals[index]
            offset = max(0, min(offset, len(raw)))
            newlines = raw.count("\n", 0, offset)
            if newlines:
                return line + newlines, offset - raw.rfind("\n", 0, offset)
            return line, col + offset
        return self.key(key)


def default_id(path: Path, root: Path | None) -> str:
    """The path under the nearest ``conjectures`` directory (or ``root``), without .toml."""
    parts = path.resolve().parts
    if "conjectures" in parts[:-1]:
        i = len(parts) - 1 - parts[::-1].index("conjectures", 1)
        rel = Path(*parts[i + 1:])
    elif root is not None and root.is_dir():
        rel = path.resolve().relative_to(root.resolve())
    else:
        rel = Path(path.name)
    return rel.with_suffix("").as_posix()


def _toml_repr(value) -> str:
    """A value as it would be written in TOML, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def _kind(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def _deepest_bracket(text: str, limit: int = 100) -> tuple[int, int]:
    """(line, column) of the first '[' or '{' opened ``limit`` deep (outside strings, as
    far as a plain scan tells), else of the deepest one: where a too-deep nest is."""
    depth, best, where, line, col, quote = 0, -1, (1, 1), 1, 0, None
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        elif quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > best:
                best, where = depth, (line, col)
            if depth >= limit:
                return line, col
        elif ch in "]}":
            depth = max(0, depth - 1)
    return where


def load(path: str | os.PathLike, root: str | os.PathLike | None = None) -> Conjecture:
    """Read and validate one conjecture file; raise InputError (with file, line and
    column where they apply) for anything unacceptable."""
    path = Path(path)
    spath = str(path)

    def fail(message, line=None, column=None):
        raise InputError(message, path=spath, line=line, column=column)

    try:
        is_dir = path.is_dir()
    except OSError as exc:      # e.g. a name too long: a certificate's source can be any text
        fail(f"cannot read file: {exc.strerror or exc}")
    if is_dir:
        fail("is a directory, not a conjecture file (to check the files inside, "
             "pass the directory without naming it .toml)")
    try:
        raw = read_regular_file(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        fail("cannot read file: no such file")
    except FileRefused as exc:
        reason = exc.reason
        if reason.startswith("file is"):
            reason += " (conjecture files are at most 1 MiB)"
        fail(reason + (f"; {exc.fix}" if exc.fix else ""))
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]   # a UTF-8 byte-order mark, as some editors write: harmless
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        fail(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded; save the file "
             "as UTF-8", line, col)
    if not text.strip():
        fail('empty file: a conjecture needs at least model = "..." and claim = "..."', 1, 1)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        m2 = re.search(r"\(at end of document\)", msg)
        if m:
            fail(f"malformed TOML: {msg}", int(m.group(1)), int(m.group(2)))
        msg = re.sub(r"\s*\(at end of document\)", "", msg)
        fail(f"malformed TOML: {msg}" + (" at the end of the file" if m2 else ""),
             len(text.splitlines()) or 1)
    except RecursionError:
        line, column = _deepest_bracket(text)
        fail("malformed TOML: arrays or inline tables nested too deeply (a conjecture needs "
             "at most one level: assume = [\"...\", \"...\"])", line, column)
    loc = _Locator(text)

    for key in data:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(KEYS)}"
            fail(f"unknown key '{key}'; {hint}", *loc.key(key))

    def string(key, required=False, default=""):
        if key not in data:
            if required:
                fail(f"missing required key '{key}'" + (
                    "; add for example claim = \"h2 <= 2*rDZ\"" if key == "claim" else
                    f"; models: {', '.join(models.names())}" if key == "model" else ""), 1, 1)
            return default
        value = data[key]
        if not isinstance(value, str):
            fail(f"'{key}' must be a string, got {_kind(value)} {_toml_repr(value)}",
                 *loc.key(key))
        return value

    model_name = string("model", required=True)
    claim_text = string("claim", required=True)
    title = string("title")
    expect = string("expect", default="valid")
    if expect not in EXPECTS:
        fail(f"expect = {_toml_repr(expect)} is not a verdict; use one of: "
             f"{', '.join(EXPECTS)}", *loc.key("expect"))
    try:
        model = models.get(model_name)
    except InputError as exc:
        fail(exc.message, *loc.key("model"))

    id_line = id_column = None
    if "id" in data:
        cid = string("id")
        id_line, id_column = loc.key("id")
        if id_line is None:
            id_line, id_column = 1, 1
    else:
        cid = default_id(path, Path(root) if root else None)
    from .store_ids import validate_id
    try:
        validate_id(cid)
    except InputError as exc:
        if "id" in data:
            fail(exc.message, id_line, id_column)
        fail(f"{exc.message}; the id comes from the file's path: rename the file or "
             "set id = \"...\"")

    timeout = data.get("timeout")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
                or not 0 < timeout <= MAX_TIMEOUT:
            fail(f"timeout must be a number of seconds greater than 0 and at most "
                 f"{MAX_TIMEOUT}, got {_toml_repr(timeout)}", *loc.key("timeout"))
        timeout = float(timeout)

    raw_params = data.get("params", {})
    if not isinstance(raw_params, dict):
        fail(f"'params' must be a table, e.g. [params] then max_order = 2; got "
             f"{_kind(raw_params)}", *loc.key("params"))
    try:
        params = model.validate_params(raw_params)
    except InputError as exc:
        param = getattr(exc, "param", "")
        line, col = loc.key(param, "params")
        if line is None:
            line, col = loc.key("params")
        fail(exc.message, line, col)
    instance = model.instance(params)

    assume_raw = data.get("assume", [])
    if isinstance(assume_raw, str):
        assume_raw = [assume_raw]
    if not isinstance(assume_raw, list) or not all(isinstance(a, str) for a in assume_raw):
        got = _kind(assume_raw) if not isinstance(assume_raw, list) else \
            "an array holding " + next(_kind(a) for a in assume_raw if not isinstance(a, str))
        fail(f'assume must be a list of strings, e.g. assume = ["rMZ >= 1/2"]; got {got}',
             *loc.key("assume"))
    if len(assume_raw) > MAX_ASSUMPTIONS:
        fail(f"at most {MAX_ASSUMPTIONS} assumptions", *loc.key("assume"))

    def located(exc: ExprError, text: str, key: str, index: int):
        message = exc.message
        bad = _unavailable_name(message, instance)
        if bad:
            message = f"'{bad}' is not available here: {instance.unavailable[bad]}"
        fail(f"in {key}: {message}", *loc.in_string(key, index, text, exc.offset))

    def parse(text, key, index=0):
        try:
            e = E.parse_formula(text)
            E.check_names(e, instance.names())
            return e
        except ExprError as exc:
            located(exc, text, key, index)

    claim = parse(claim_text, "claim")
    assume = [parse(a, "assume", i) for i, a in enumerate(assume_raw)]
    # Encode once now, one expression at a time in the order encode() uses, so that
    # semantic errors (division by zero, a bad exponent, an expansion too large) are
    # input errors of this file, located in it, found before any solver runs.
    from .encode import Encoder
    encoder = Encoder(instance)
    for text, e, key, index in [(t, a, "assume", i)
                                for i, (t, a) in enumerate(zip(assume_raw, assume))] \
            + [(claim_text, claim, "claim", 0)]:
        try:
            encoder.formula(e)
        except ExprError as exc:
            located(exc, text, key, index)
    return Conjecture(id=cid, source=_relative(spath), model=model_name, params=params,
                      claim_text=claim_text, claim=claim, assume_texts=list(assume_raw),
                      assume=assume, title=title, expect=expect, timeout=timeout,
                      id_line=id_line, id_column=id_column)


def _relative(path: str) -> str:
    """The source path a certificate stores: relative to the directory check runs in
    (a committed store holds no absolute paths; verify looks there and beside the store)."""
    if not os.path.isabs(path):
        return path
    try:
        return os.path.relpath(path)
    except ValueError:           # another drive (Windows): no relative path exists
        return path


def could_be(conj: Conjecture, cert_id: str) -> bool:
    """Whether ``conj`` (loaded on its own) is the conjecture stored as ``cert_id``.

    An explicit id must match. An id taken from the path depends on the directory the
    file was checked from (``prover check DIR`` names ``DIR/a/b.toml`` 'a/b'), so then
    ``cert_id`` must be a trailing part of the path without .toml."""
    if conj.id == cert_id:
        return True
    if conj.explicit_id:
        return False
    parts = Path(conj.source).with_suffix("").parts
    wanted = tuple(cert_id.split("/"))
    return parts[len(parts) - len(wanted):] == wanted


def _unavailable_name(message: str, instance) -> str | None:
    m = re.match(r"unknown name '([^']+)'", message)
    if m and m.group(1) in instance.unavailable:
        return m.group(1)
    return None


def discover(paths: list[str]) -> tuple[list[tuple[Path, Path | None]], list[InputError]]:
    """Expand files and directories into (file, root) pairs, sorted; errors for paths
    that do not exist or directories that hold no conjecture. A file named twice (or
    given and also inside a given directory) is checked once."""
    found: list[tuple[Path, Path | None]] = []
    errors: list[InputError] = []
    seen: set[Path] = set()

    def add(file: Path, root: Path | None) -> None:
        key = file.resolve()
        if key not in seen:
            seen.add(key)
            found.append((file, root))

    for p in paths:
        path = Path(p)
        if path.is_dir():
            files, refused = _walk_toml(path)
            errors.extend(refused)
            if not files and not refused:
                what = ("is a directory, not a conjecture file" if path.suffix == ".toml"
                        else "no conjecture files (*.toml) in this directory")
                errors.append(InputError(what, path=str(path)))
            for f in files:
                add(f, path)
        elif path.is_file():
            add(path, None)
        elif path.exists():
            try:
                kind = file_kind(path.stat().st_mode)
            except OSError:
                kind = "not a regular file"
            errors.append(InputError(f"is {kind}: not a regular file or directory",
                                     path=str(path)))
        elif path.is_symlink():
            errors.append(InputError("is a symbolic link to nothing (dangling)",
                                     path=str(path)))
        else:
            errors.append(InputError("no such file or directory", path=str(path)))
    return found, errors


def _walk_toml(root: Path) -> tuple[list[Path], list[InputError]]:
    """Every regular ``*.toml`` file under ``root``, sorted, without recursion (a tree
    nested thousands deep is fine) and without entering symlinked directories (no
    loops, no escapes). A ``*.toml`` that is a FIFO, a device, a dangling link or a
    directory is reported, never opened."""
    files: list[Path] = []
    refused: list[InputError] = []
    for entry, failure in walk_entries(root):
        if failure is not None:
            refused.append(InputError(f"{failure}; check its permissions", path=entry))
            continue
        try:
            if not entry.name.endswith(".toml"):
                continue
            if entry.is_file():                 # follows a link to a regular file
                files.append(Path(entry.path))
                continue
            mode = os.stat(entry.path).st_mode if not entry.is_symlink() or \
                os.path.exists(entry.path) else None
        except OSError as exc:
            refused.append(InputError(f"cannot read: {exc.strerror or exc}",
                                      path=entry.path))
            continue
        if mode is None:
            what = "is a symbolic link to nothing (dangling)"
        elif entry.is_symlink() and stat.S_ISDIR(mode):
            what = "is a symbolic link to a directory, which is not followed"
        else:
            what = f"is {file_kind(mode)}, not a regular file; only regular files " \
                   "are read"
        refused.append(InputError(what, path=entry.path))
    files.sort()
    refused.sort(key=lambda e: e.path or "")
    return files, refused
