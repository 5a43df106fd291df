"""The certificate store: one JSON document per conjecture, at ``<root>/<id>.json``.

Certificates are committed to the repository and reviewed as diffs, so the text is
canonical: sorted keys, 2-space indent, UTF-8, trailing newline (see ``dumps``). An id
such as ``twins/h2-at-most-2rDZ`` maps to a file in a subdirectory.

``DirectoryStore`` is the real thing; ``MemoryStore`` is its in-memory twin for tests.
Both keep the serialised text, so a document that cannot survive the trip to disk fails
in the same way in both, and ``fetch`` always hands back a fresh copy.

Writes are atomic (temporary file, fsync, rename): a crash leaves either the old or the
new complete file. Reading the whole store never crashes on one bad file: ``entries``
reports it as a ``BadEntry``, and ``fetch`` raises ``StoreError`` for it.

Exact numbers go into certificates as strings (``fraction_to_str``) and come back with
``str_to_fraction``, which parses a fixed grammar and never evaluates anything.
"""

from __future__ import annotations

import abc
import json
import os
import re
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

from .errors import InputError, StoreError
from .poly import str_to_fraction

__all__ = [
    "ID_PATTERN", "MAX_ID_LENGTH", "validate_id", "dumps", "BadEntry", "Store",
    "DirectoryStore", "MemoryStore", "fraction_to_str", "str_to_fraction", "source_candidates",
]

# A segment starts with a letter or digit, so '.', '..', hidden files and our own
# '.…tmp' temporary files can never be ids. re.ASCII keeps \w-style surprises
# (non-ASCII digits and letters) out of file names.
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]*"
ID_PATTERN = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*", re.ASCII)
MAX_ID_LENGTH = 200

_SUFFIX = ".json"
_ID_HELP = "ids are segments of letters, digits, '.', '_' or '-' joined by '/'"

# Final certificates are ordinary repository files; mkstemp creates 0600 files.
_FILE_MODE = 0o644


def validate_id(cert_id: str) -> str:
    """Return ``cert_id`` unchanged if it is a valid certificate id, else raise InputError.

    >>> validate_id("twins/h2-at-most-2rDZ")
    'twins/h2-at-most-2rDZ'
    """
    if isinstance(cert_id, str) and len(cert_id) > MAX_ID_LENGTH:
        raise InputError(f"invalid id {cert_id!r}: {_ID_HELP}"
                         f" (at most {MAX_ID_LENGTH} characters)")
    if (not isinstance(cert_id, str) or ID_PATTERN.fullmatch(cert_id) is None
            or ".." in cert_id.split("/")):  # the pattern already excludes '..'; explicit
        raise InputError(f"invalid id {cert_id!r}: {_ID_HELP}")
    return cert_id


def dumps(doc: dict) -> str:
    """Serialise a certificate as canonical, diff-friendly JSON text.

    Sorted keys, 2-space indent, non-ASCII kept as is, trailing newline. Refuses what
    would not read back as the same document: NaN/infinity, non-string keys, values
    JSON cannot represent, strings that are not encodable as UTF-8.
    """
    _check_keys(doc, "$")
    try:
        text = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False,
                          allow_nan=False) + "\n"
        text.encode("utf-8")  # lone surrogates pass json.dumps but not the disk
    except (TypeError, ValueError) as exc:
        hint = (" (store exact numbers as strings with fraction_to_str)"
                if "Fraction" in str(exc) else "")
        raise InputError(f"certificate cannot be stored as JSON: {exc}{hint}") from exc
    except RecursionError as exc:
        raise InputError("certificate cannot be stored as JSON: nested too deeply") from exc
    return text


def _check_keys(value: object, where: str) -> None:
    # json.dumps would silently turn 1 into "1" (and may then emit duplicate keys that
    # the reader rejects), so a non-string key is refused before anything is written.
    try:
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise InputError(
                        f"certificate cannot be stored as JSON: key {key!r} at {where}"
                        f" is a {type(key).__name__}; keys must be strings")
                _check_keys(item, f"{where}.{key}")
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                _check_keys(item, f"{where}[{index}]")
    except RecursionError as exc:
        raise InputError("certificate cannot be stored as JSON: nested too deeply") from exc


@dataclass(frozen=True)
class BadEntry:
    """A stored entry that could not be read as a certificate: reported, not raised."""

    id: str
    path: str
    reason: str


class _Unreadable(Exception):
    """Internal: why an entry's content is not a certificate (becomes BadEntry/StoreError)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _reject_constant(name: str) -> None:
    # Python's json accepts NaN/Infinity by default; dumps never writes them.
    raise ValueError(f"{name} is not allowed")


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict:
    # A hand-edited file with a repeated key is ambiguous; json would keep the last.
    doc: dict = {}
    for key, value in pairs:
        if key in doc:
            raise ValueError(f"duplicate key {key!r}")
        doc[key] = value
    return doc


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _parse_entry(cert_id: str, content: bytes | str) -> dict:
    """Parse stored content as the certificate ``cert_id``, or raise _Unreadable."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Unreadable(f"not valid UTF-8: byte {exc.start}: {exc.reason}") from None
    try:
        doc = json.loads(content, parse_constant=_reject_constant,
                         object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as exc:
        raise _Unreadable(f"not valid JSON: {exc.msg} at line {exc.lineno}"
                          f" column {exc.colno}") from None
    except ValueError as exc:
        raise _Unreadable(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise _Unreadable("not valid JSON: nested too deeply") from None
    if not isinstance(doc, dict):
        raise _Unreadable(f"not a JSON object (top level is {_json_kind(doc)})")
    if "id" not in doc:
        raise _Unreadable(f"has no 'id' field (expected {cert_id!r})")
    if doc["id"] != cert_id:
        raise _Unreadable(f"id inside is {doc['id']!r} but the file is for {cert_id!r}")
    return doc


def _document(doc) -> dict:
    """A record (``record.Certificate``) as its JSON document; a dict as it is."""
    to_json = getattr(doc, "to_json", None)
    return to_json() if callable(to_json) and not isinstance(doc, dict) else doc


def _doc_id(doc: dict) -> str:
    """The validated key of a document about to be saved."""
    if not isinstance(doc, dict):
        raise InputError(f"a certificate must be a dict, got {type(doc).__name__}")
    if "id" not in doc:
        raise InputError("a certificate needs an 'id' field to be saved")
    return validate_id(doc["id"])


class Store(abc.ABC):
    """A keyed collection of certificates; ``doc['id']`` is the key."""

    @abc.abstractmethod
    def save(self, doc: dict) -> None:
        """Store ``doc`` under ``doc['id']``, replacing any previous version atomically."""

    @abc.abstractmethod
    def fetch(self, cert_id: str) -> dict | None:
        """Return a fresh copy of the certificate, None if absent.

        Raises StoreError if the entry exists but is not a readable certificate.
        """

    @abc.abstractmethod
    def delete(self, cert_id: str) -> bool:
        """Remove the certificate; return whether it existed."""

    @abc.abstractmethod
    def ids(self) -> list[str]:
        """All stored ids, sorted."""

    @abc.abstractmethod
    def entries(self) -> Iterator[tuple[str, dict | BadEntry]]:
        """Every entry sorted by id; an unreadable one comes as a BadEntry, never raises."""

    # -- the typed record (prover/record.py): what every reader of a store uses --

    def record(self, cert_id: str):
        """The certificate as a ``record.Certificate``, None if absent. Raises StoreError
        if the entry is unreadable or is not a format-1 certificate (naming the field)."""
        from .record import Certificate, MalformedCertificate
        doc = self.fetch(cert_id)
        if doc is None:
            return None
        try:
            return Certificate.from_json(doc)
        except MalformedCertificate as exc:
            raise StoreError(f"{self._where(cert_id)}: malformed certificate: {exc}") from None

    def records(self) -> Iterator[tuple[str, object]]:
        """Every entry sorted by id as a ``record.Certificate``; one that is unreadable or
        malformed comes as a BadEntry saying why (the field, for a malformed one)."""
        from .record import Certificate, MalformedCertificate
        for cert_id, doc in self.entries():
            if isinstance(doc, BadEntry):
                yield cert_id, doc
                continue
            try:
                yield cert_id, Certificate.from_json(doc)
            except MalformedCertificate as exc:
                yield cert_id, BadEntry(cert_id, self._where(cert_id),
                                        f"malformed certificate: {exc}")

    def _where(self, cert_id: str) -> str:
        return cert_id


class DirectoryStore(Store):
    """Certificates as files ``<root>/<id>.json``; the root is created on first save."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(os.fspath(root))

    def __repr__(self) -> str:
        return f"DirectoryStore({str(self.root)!r})"

    def _where(self, cert_id: str) -> str:
        return str(self.path_for(cert_id))

    def path_for(self, cert_id: str) -> Path:
        """The file that holds ``cert_id`` (whether or not it exists)."""
        *directories, name = validate_id(cert_id).split("/")
        return self.root.joinpath(*directories, name + _SUFFIX)

    def save(self, doc) -> None:
        doc = _document(doc)
        cert_id = _doc_id(doc)
        # Serialise before touching the disk: a refused document leaves no trace.
        data = dumps(doc).encode("utf-8")
        path = self.path_for(cert_id)

        def failed(exc: OSError) -> StoreError:
            return StoreError(f"cannot save certificate {cert_id!r} to {path}:"
                              f" {exc.strerror or exc}")

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Same directory as the target, so os.replace is a rename on one filesystem.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        except OSError as exc:
            raise failed(exc) from exc
        try:
            try:
                handle = os.fdopen(fd, "wb")  # binary: no newline translation on Windows
            except BaseException:
                os.close(fd)
                raise
            with handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())  # data on disk before the rename makes it visible
            os.chmod(tmp, _FILE_MODE)
            os.replace(tmp, path)
        except BaseException as exc:  # including KeyboardInterrupt: never leave a temp file
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if isinstance(exc, OSError):
                raise failed(exc) from exc
            raise
        _fsync_directory(path.parent)

    def fetch(self, cert_id: str) -> dict | None:
        path = self.path_for(cert_id)
        try:
            return _parse_entry(cert_id, self._read(path))
        except FileNotFoundError:
            return None
        except _Unreadable as exc:
            raise StoreError(f"cannot read certificate {cert_id!r} from {path}:"
                             f" {exc.reason}") from None

    def delete(self, cert_id: str) -> bool:
        path = self.path_for(cert_id)
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise StoreError(f"cannot delete certificate {cert_id!r} at {path}:"
                             f" {exc.strerror or exc}") from exc
        # Empty directories are left in place: removing them would race a concurrent
        # save into the same directory, and ids() never lists directories anyway.
        return True

    def ids(self) -> list[str]:
        found, _misnamed, problems = self._scan()
        if problems:
            _name, path, reason = problems[0]
            # A silently partial list would look like missing certificates.
            raise StoreError(f"cannot list certificate store {self.root}: {path}: {reason}")
        return found

    def entries(self) -> Iterator[tuple[str, dict | BadEntry]]:
        found, misnamed, problems = self._scan()
        bad = {name: BadEntry(name, path, reason) for name, path, reason in problems}
        for name, path in misnamed:
            bad[name] = BadEntry(name, path, f"file name is not a valid id: {_ID_HELP}")
        for name in sorted([*found, *bad]):
            if name in bad:
                yield name, bad[name]
                continue
            path = self.path_for(name)
            try:
                yield name, _parse_entry(name, self._read(path))
            except FileNotFoundError:
                continue  # deleted since the listing: no longer an entry
            except _Unreadable as exc:
                yield name, BadEntry(name, str(path), exc.reason)

    @staticmethod
    def _read(path: Path) -> bytes:
        """The file's bytes; FileNotFoundError if absent, _Unreadable if it can't be read."""
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            # A file where a directory of the id should be means the id is absent.
            raise FileNotFoundError(path) from None
        except OSError as exc:
            raise _Unreadable(f"cannot read file: {exc.strerror or exc}") from None

    def _scan(self) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str, str]]]:
        """Walk the root: (valid ids, misnamed .json files, directories that failed to list).

        Names starting with '.' are skipped: temporary files, .git and the like can
        never be ids. Files not ending in .json are not entries.
        """
        found: list[str] = []
        misnamed: list[tuple[str, str]] = []
        problems: list[tuple[str, str, str]] = []
        if not os.path.lexists(self.root):
            return found, misnamed, problems

        def on_error(exc: OSError) -> None:
            where = exc.filename or str(self.root)
            problems.append((self._relative(where), str(where),
                             f"cannot list directory: {exc.strerror or exc}"))

        for dirpath, dirnames, filenames in os.walk(self.root, onerror=on_error):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for filename in filenames:
                if filename.startswith(".") or not filename.endswith(_SUFFIX):
                    continue
                full = os.path.join(dirpath, filename)
                name = self._relative(full)[: -len(_SUFFIX)]
                try:
                    found.append(validate_id(name))
                except InputError:
                    misnamed.append((name, full))
        found.sort()
        return found, misnamed, problems

    def _relative(self, path: str | os.PathLike) -> str:
        relative = os.path.relpath(path, self.root)
        return "" if relative == "." else relative.replace(os.sep, "/")


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable on POSIX. Best effort: the new file is already
    # complete and in place, and some platforms cannot open directories at all.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class MemoryStore(Store):
    """In-memory twin of DirectoryStore for tests.

    Keeps the ``dumps`` text, not the dict, so serialisation errors, key order and
    copying behave exactly as on disk.
    """

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._texts)} certificates)"

    def save(self, doc) -> None:
        doc = _document(doc)
        cert_id = _doc_id(doc)
        self._texts[cert_id] = dumps(doc)

    def fetch(self, cert_id: str) -> dict | None:
        text = self._texts.get(validate_id(cert_id))
        if text is None:
            return None
        try:
            return _parse_entry(cert_id, text)
        except _Unreadable as exc:
            raise StoreError(f"cannot read certificate {cert_id!r} from"
                             f" {self._location(cert_id)}: {exc.reason}") from None

    def delete(self, cert_id: str) -> bool:
        return self._texts.pop(validate_id(cert_id), None) is not None

    def ids(self) -> list[str]:
        return sorted(self._texts)

    def entries(self) -> Iterator[tuple[str, dict | BadEntry]]:
        for cert_id in self.ids():
            text = self._texts.get(cert_id)
            if text is None:
                continue  # deleted while iterating, as a file can be
            try:
                yield cert_id, _parse_entry(cert_id, text)
            except _Unreadable as exc:
                yield cert_id, BadEntry(cert_id, self._location(cert_id), exc.reason)

    def _where(self, cert_id: str) -> str:
        return self._location(cert_id)

    @staticmethod
    def _location(cert_id: str) -> str:
        return f"<memory>/{cert_id}{_SUFFIX}"


def fraction_to_str(x: Fraction) -> str:
    """Exact number as certificate text: ``'3'`` or ``'-3/4'`` (lowest terms)."""
    # Floats (and bools) are refused: a float in a certificate is not exact.
    if isinstance(x, bool) or not isinstance(x, (int, Fraction)):
        raise TypeError(f"fraction_to_str needs a Fraction or int, got"
                        f" {type(x).__name__} {x!r}")
    return str(Fraction(x))


def source_candidates(store: Store, source: str) -> list[Path]:
    """Where a certificate's ``source`` may be: as written (relative to the current
    directory), then relative to the directory that holds the store (the project root
    when the store is ``certificates/``)."""
    out = [Path(source)]
    root = getattr(store, "root", None)
    if root is not None and not Path(source).is_absolute():
        out.append(Path(root).resolve().parent / source)
    return out
