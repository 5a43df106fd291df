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
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import expr as E
from . import models
from .errors import ExprError, InputError

KEYS = ("id", "title", "model", "claim", "assume", "expect", "timeout", "params")
EXPECTS = ("valid", "refuted", "unknown")
MAX_FILE_BYTES = 1_000_000
MAX_ASSUMPTIONS = 100
MAX_TIMEOUT = 3600


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

    def normalized(self) -> dict:
        """The mathematical content only: reformatting the file keeps it (and its hash)."""
        return {"model": self.model, "params": self.params,
                "claim": E.to_text(self.claim), "assume": [E.to_text(a) for a in self.assume]}

    def sha256(self) -> str:
        text = json.dumps(self.normalized(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def instance(self):
        return models.get(self.model).build(self.params)


class _Locator:
    """Finds where keys and string values sit in the TOML text, for error positions."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.text = text

    def key(self, key: str, table: str | None = None) -> tuple[int | None, int | None]:
        current = None
        pattern = re.compile(r'^\s*["\']?' + re.escape(key) + r'["\']?\s*=')
        for n, line in enumerate(self.lines, 1):
            header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
            if header:
                current = header.group(1)
                continue
            if current == table and pattern.match(line):
                return n, line.index(key[0]) + 1
        return None, None

    def strings_after(self, key: str) -> list[tuple[int, int, str]]:
        """(line, column of the string's first character, raw content) of the string
        literals in ``key``'s value, in order; only single-line literals are mapped."""
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
                while quote == '"' and end > 0 and self.text[end - 1] == "\\":
                    end = self.text.find(quote, end + 1)
                if end < 0:
                    break
                start = pos + len(quote)
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


def load(path: str | os.PathLike, root: str | os.PathLike | None = None) -> Conjecture:
    path = Path(path)
    spath = str(path)

    def fail(message, line=None, column=None):
        raise InputError(message, path=spath, line=line, column=column)

    try:
        raw = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read file: {exc.strerror or exc}")
    if len(raw) > MAX_FILE_BYTES:
        fail(f"file is {len(raw)} bytes; conjecture files are at most {MAX_FILE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        fail(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded; save the file "
             "as UTF-8", line, col)
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
            fail(f"'{key}' must be a string, got {type(value).__name__}", *loc.key(key))
        return value

    model_name = string("model", required=True)
    claim_text = string("claim", required=True)
    title = string("title")
    expect = string("expect", default="valid")
    if expect not in EXPECTS:
        fail(f"expect = '{expect}' is not a verdict; use one of: {', '.join(EXPECTS)}",
             *loc.key("expect"))
    try:
        model = models.get(model_name)
    except InputError as exc:
        fail(exc.message, *loc.key("model"))

    cid = string("id") or default_id(path, Path(root) if root else None)
    from .store import validate_id
    try:
        validate_id(cid)
    except InputError as exc:
        fail(exc.message, *loc.key("id"))

    timeout = data.get("timeout")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
                or not 0 < timeout <= MAX_TIMEOUT:
            fail(f"timeout must be a number of seconds between 0 and {MAX_TIMEOUT}, "
                 f"got {timeout!r}", *loc.key("timeout"))
        timeout = float(timeout)

    raw_params = data.get("params", {})
    if not isinstance(raw_params, dict):
        fail("'params' must be a table, e.g. [params] then max_order = 2", *loc.key("params"))
    try:
        params = model.validate_params(raw_params)
    except InputError as exc:
        line, col = loc.key(getattr(exc, "param", ""), "params")
        fail(exc.message, line, col)
    instance = model.build(params)

    assume_raw = data.get("assume", [])
    if isinstance(assume_raw, str):
        assume_raw = [assume_raw]
    if not isinstance(assume_raw, list) or not all(isinstance(a, str) for a in assume_raw):
        fail('assume must be a list of strings, e.g. assume = ["rMZ >= 1/2"]',
             *loc.key("assume"))
    if len(assume_raw) > MAX_ASSUMPTIONS:
        fail(f"at most {MAX_ASSUMPTIONS} assumptions", *loc.key("assume"))

    def parse(text, key, index=0):
        literals = loc.strings_after(key)
        line, col = loc.key(key)
        exact = None
        if index < len(literals) and literals[index][2] == text:
            exact = literals[index]
        try:
            e = E.parse_formula(text)
            E.check_names(e, instance.names())
            return e
        except ExprError as exc:
            message = exc.message
            if isinstance(exc, ExprError) and exact is not None:
                line, col = exact[0], exact[1] + exc.offset
            bad = _unavailable_name(message, instance)
            if bad:
                message = f"'{bad}' is not available here: {instance.unavailable[bad]}"
            fail(f"in {key}: {message}", line, col)

    claim = parse(claim_text, "claim")
    assume = [parse(a, "assume", i) for i, a in enumerate(assume_raw)]
    conj = Conjecture(id=cid, source=spath, model=model_name, params=params,
                      claim_text=claim_text, claim=claim, assume_texts=list(assume_raw),
                      assume=assume, title=title, expect=expect, timeout=timeout)
    # encode once now so that semantic errors (division by zero, bad exponent) are input
    # errors of this file, found before any solver runs
    from .encode import encode
    try:
        encode(instance, claim, assume)
    except ExprError as exc:
        fail(f"{exc.message}")
    return conj


def _unavailable_name(message: str, instance) -> str | None:
    m = re.match(r"unknown name '([^']+)'", message)
    if m and m.group(1) in instance.unavailable:
        return m.group(1)
    return None


def discover(paths: list[str]) -> tuple[list[tuple[Path, Path | None]], list[InputError]]:
    """Expand files and directories into (file, root) pairs, sorted; errors for paths
    that do not exist or directories that hold no conjecture."""
    found: list[tuple[Path, Path | None]] = []
    errors: list[InputError] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files = sorted(f for f in path.rglob("*.toml") if f.is_file())
            if not files:
                errors.append(InputError("no conjecture files (*.toml) in this directory",
                                         path=str(path)))
            found.extend((f, path) for f in files)
        elif path.is_file():
            found.append((path, None))
        else:
            errors.append(InputError("no such file or directory", path=str(path)))
    return found, errors
