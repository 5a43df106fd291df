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
import errno
import json
import os
import re
import secrets
import stat
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

from .errors import InputError, MalformedCertificate, StoreError
from .limits import (MAX_CERTIFICATE_BYTES, MAX_ID_LENGTH,
                     MAX_JSON_DEPTH, RESERVED_NAMES, FileRefused, file_kind, read_regular_file)
from .poly import _FRACTION, str_to_fraction

__all__ = [
    "ID_PATTERN", "MAX_ID_LENGTH", "validate_id", "dumps", "BadEntry", "Store",
    "DirectoryStore", "MemoryStore", "fraction_to_str", "str_to_fraction", "source_candidates",
    "certificate_problem", "case_collisions", "read_number",
]

# A segment starts with a letter or digit, so '.', '..', hidden files and our own
# '.…tmp' temporary files can never be ids. re.ASCII keeps \w-style surprises
# (non-ASCII digits and letters) out of file names.
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]*"
ID_PATTERN = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*", re.ASCII)

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
    for segment in cert_id.split("/"):
        # Windows opens the device for CON, con.txt, Com1.json...: such a checkout breaks.
        if segment.split(".")[0].upper() in RESERVED_NAMES:
            raise InputError(f"invalid id {cert_id!r}: {segment!r} is a device name "
                             "reserved on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9, "
                             "with any extension); choose another name")
        if segment.endswith("."):
            raise InputError(f"invalid id {cert_id!r}: segment {segment!r} ends with '.', "
                             "which Windows drops (it would collide with "
                             f"{segment.rstrip('.')!r})")
    return cert_id


def case_collisions(ids) -> list[tuple[str, str]]:
    """Pairs (earlier, later) of ids that differ but name the same file, or the same
    directory on the way to it, on a case-insensitive file system (macOS, Windows)."""
    seen: dict[str, tuple[str, str]] = {}     # folded prefix -> (prefix, first full id)
    out = []
    for cert_id in ids:
        parts = cert_id.split("/")
        for n in range(1, len(parts) + 1):
            prefix = "/".join(parts[:n]) + ("" if n == len(parts) else "/")
            key = prefix.casefold()
            if key in seen and seen[key][0] != prefix:
                out.append((seen[key][1], cert_id))
                break
            seen.setdefault(key, (prefix, cert_id))
    return out


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
    # read as JSON, but not a format-1 certificate (reason names the field); otherwise
    # the entry could not be read at all (not a file, too large, not UTF-8 or JSON, ...)
    malformed: bool = False


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
    if isinstance(value, dict):
        return "an object"
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
    if _depth_exceeds(doc, MAX_JSON_DEPTH):
        raise _Unreadable(f"nested more than {MAX_JSON_DEPTH} levels deep")
    if "id" not in doc:
        raise _Unreadable(f"has no 'id' field (expected {cert_id!r})")
    if doc["id"] != cert_id:
        raise _Unreadable(f"id inside is {doc['id']!r} but the file is for {cert_id!r}")
    return doc


def _document(doc) -> dict:
    """A record (``record.Certificate``) as its JSON document; a dict as it is."""
    to_json = getattr(doc, "to_json", None)
    return to_json() if callable(to_json) and not isinstance(doc, dict) else doc


def _depth_exceeds(doc: object, limit: int) -> bool:
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return False


def certificate_problem(doc) -> str | None:
    """Why a parsed document is not a format-1 certificate (``record.Certificate.from_json``
    names the field and says what would be valid), or None. Only the shape is judged
    here; whether the evidence holds is ``verify``'s job."""
    from .record import Certificate
    from .record import MalformedCertificate as Malformed
    try:
        Certificate.from_json(doc)
    except Malformed as exc:
        return str(exc)
    return None


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
        from .record import Certificate
        from .record import MalformedCertificate as Malformed
        doc = self.fetch(cert_id)
        if doc is None:
            return None
        try:
            return Certificate.from_json(doc)
        except Malformed as exc:
            raise MalformedCertificate(f"{self._where(cert_id)}: malformed certificate: {exc}",
                                       path=self._where(cert_id), reason=str(exc)) from None

    def records(self) -> Iterator[tuple[str, object]]:
        """Every entry sorted by id as a ``record.Certificate``; one that is unreadable or
        malformed comes as a BadEntry saying why (the field, for a malformed one)."""
        from .record import Certificate
        from .record import MalformedCertificate as Malformed
        for cert_id, doc in self.entries():
            if isinstance(doc, BadEntry):
                yield cert_id, doc
                continue
            try:
                yield cert_id, Certificate.from_json(doc)
            except Malformed as exc:
                yield cert_id, BadEntry(cert_id, self._where(cert_id), str(exc), True)

    def _where(self, cert_id: str) -> str:
        return cert_id


# Walking the store one directory at a time through open descriptors (openat) with
# O_NOFOLLOW means a subdirectory replaced by a symlink -- to /etc, to $HOME -- is
# refused, not followed, even if it is swapped in while we work. Where the platform
# lacks dir_fd support (Windows) each component is checked with lstat instead.
_DIR_FD = (os.open in os.supports_dir_fd and os.mkdir in os.supports_dir_fd
           and os.rename in os.supports_dir_fd and os.unlink in os.supports_dir_fd
           and hasattr(os, "O_DIRECTORY") and hasattr(os, "O_NOFOLLOW"))
_FIX_WRITE = "make the store writable or pass --store DIR"


def _os_fix(exc: OSError) -> str:
    """What to do about an OSError, for the one-line message."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return _FIX_WRITE
    if exc.errno == errno.ENOSPC or exc.errno == getattr(errno, "EDQUOT", -1):
        return "free some disk space"
    if exc.errno == errno.ENAMETOOLONG:
        return "use a shorter id or store path"
    return "check the path"


class DirectoryStore(Store):
    """Certificates as files ``<root>/<id>.json``; the root is created on first save.

    The root itself may be a symlink (the user chose it); nothing below it may be: a
    symlinked subdirectory or file, a FIFO or a device is refused when reading and never
    written through. Ids that differ only in case, in the store or in one run, are
    refused on save, so a checkout on macOS or Windows cannot merge two certificates."""

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

    # -- walking the tree below the root

    def _open_dir(self, parts: list[str], create: bool, cert_id: str) -> int:
        """A descriptor for root/parts..., each component a real directory (no symlink).
        Raises FileNotFoundError (absent, create=False), StoreError, OSError."""
        if create:
            self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for n, part in enumerate(parts):
                if create:
                    self._refuse_case_twin(fd, part, cert_id)
                    try:
                        os.mkdir(part, 0o755, dir_fd=fd)
                    except FileExistsError:
                        pass
                try:
                    child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                                    dir_fd=fd)
                except OSError as exc:
                    if exc.errno == errno.ENOENT:
                        raise FileNotFoundError(part) from None
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        if not _is_link(fd, part):
                            if create:
                                raise
                            raise FileNotFoundError(part) from None  # a file: id absent
                        raise _Refused("/".join(parts[:n + 1]),
                                       "a symbolic link, where a directory of the id is "
                                       "expected; the store never follows links out of "
                                       "itself", "remove or replace it") from None
                    raise
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd

    @staticmethod
    def _refuse_case_twin(directory: int | Path, name: str, cert_id: str) -> None:
        folded = name.casefold()
        with os.scandir(directory) as it:
            for entry in it:
                if entry.name != name and entry.name.casefold() == folded:
                    raise StoreError(
                        f"cannot save certificate {cert_id!r}: {entry.name!r} is already in "
                        f"the store and differs from {name!r} only in case; they would be "
                        "one file on macOS and Windows; rename one of them")

    def save(self, doc) -> None:
        doc = _document(doc)
        cert_id = _doc_id(doc)
        # Serialise before touching the disk: a refused document leaves no trace.
        data = dumps(doc).encode("utf-8")
        path = self.path_for(cert_id)

        def failed(exc: OSError) -> StoreError:
            return StoreError(f"cannot save certificate {cert_id!r} to {path}:"
                              f" {exc.strerror or exc}; {_os_fix(exc)}")

        if not _DIR_FD:
            return self._save_by_path(cert_id, path, data, failed)
        *directories, name = cert_id.split("/")
        filename = name + _SUFFIX
        try:
            dfd = self._open_dir(directories, True, cert_id)
        except _Refused as exc:
            raise StoreError(f"cannot save certificate {cert_id!r}: "
                             f"{self.root.joinpath(exc.part)} is {exc.reason}; "
                             f"{exc.fix}") from None
        except OSError as exc:
            if isinstance(exc, StoreError):
                raise
            raise failed(exc) from exc
        try:
            self._refuse_case_twin(dfd, filename, cert_id)
            tmp = f".{name}.{secrets.token_hex(6)}.tmp"
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                             _FILE_MODE, dir_fd=dfd)
            except OSError as exc:
                raise failed(exc) from exc
            try:
                try:
                    os.fchmod(fd, _FILE_MODE)   # whatever the umask: a repository file
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)                # data on disk before the rename shows it
                finally:
                    os.close(fd)
                # rename never follows a symlink at the target: it replaces the link
                os.replace(tmp, filename, src_dir_fd=dfd, dst_dir_fd=dfd)
            except BaseException as exc:  # including KeyboardInterrupt: no temp file left
                try:
                    os.unlink(tmp, dir_fd=dfd)
                except OSError:
                    pass
                if isinstance(exc, OSError):
                    raise failed(exc) from exc
                raise
            try:
                os.fsync(dfd)
            except OSError:
                pass
        finally:
            os.close(dfd)

    def _save_by_path(self, cert_id, path: Path, data: bytes, failed) -> None:
        """save() where dir_fd is unsupported: each component checked with lstat."""
        try:
            current = self.root
            current.mkdir(parents=True, exist_ok=True)
            for part in path.relative_to(self.root).parts[:-1]:
                self._refuse_case_twin(current, part, cert_id)
                current = current / part
                if current.is_symlink():
                    raise StoreError(f"cannot save certificate {cert_id!r}: {current} is a "
                                     "symbolic link, where a directory of the id is "
                                     "expected; the store never follows links out of "
                                     "itself; remove or replace it")
                current.mkdir(exist_ok=True)
            self._refuse_case_twin(current, path.name, cert_id)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        except StoreError:
            raise
        except OSError as exc:
            raise failed(exc) from exc
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, _FILE_MODE)
            os.replace(tmp, path)
        except BaseException as exc:
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
            return _parse_entry(cert_id, self._read(cert_id))
        except FileNotFoundError:
            return None
        except _Unreadable as exc:
            raise MalformedCertificate(f"cannot read certificate {cert_id!r} from {path}:"
                                       f" {exc.reason}", path=str(path),
                                       reason=exc.reason) from None

    def delete(self, cert_id: str) -> bool:
        path = self.path_for(cert_id)
        *directories, name = cert_id.split("/")
        try:
            if not _DIR_FD:
                os.unlink(path)
                return True
            try:
                dfd = self._open_dir(directories, False, cert_id)
            except _Refused:
                return False
            try:
                os.unlink(name + _SUFFIX, dir_fd=dfd)
            finally:
                os.close(dfd)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise StoreError(f"cannot delete certificate {cert_id!r} at {path}:"
                             f" {exc.strerror or exc}; {_os_fix(exc)}") from exc
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
        for name, path, reason in misnamed:
            bad.setdefault(name, BadEntry(name, path, reason))
        for name in sorted({*found, *bad}):
            if name in bad:
                yield name, bad[name]
                continue
            path = self.path_for(name)
            try:
                yield name, _parse_entry(name, self._read(name))
            except FileNotFoundError:
                continue  # deleted since the listing: no longer an entry
            except _Unreadable as exc:
                yield name, BadEntry(name, str(path), exc.reason)

    def _read(self, cert_id: str) -> bytes:
        """The entry's bytes; FileNotFoundError if absent, _Unreadable if it can't be read
        (a symlink, FIFO or device, too large, unreadable)."""
        *directories, name = validate_id(cert_id).split("/")
        try:
            if not _DIR_FD:
                path = self.path_for(cert_id)
                if path.is_symlink():
                    raise FileRefused("is a symbolic link", "replace the link by the file")
                return read_regular_file(path, MAX_CERTIFICATE_BYTES)
            try:
                dfd = self._open_dir(directories, False, cert_id)
            except _Refused as exc:
                raise _Unreadable(f"{exc.part} is {exc.reason}") from None
            try:
                return read_regular_file(name + _SUFFIX, MAX_CERTIFICATE_BYTES, dir_fd=dfd,
                                         follow_symlinks=False)
            finally:
                os.close(dfd)
        except (FileNotFoundError, NotADirectoryError):
            # A file where a directory of the id should be means the id is absent.
            raise FileNotFoundError(cert_id) from None
        except FileRefused as exc:
            reason = exc.reason
            if reason.startswith("file is"):
                reason += " (certificates are at most 64 MiB)"
            if "symbolic link" in reason:
                reason += "; the store never follows links"
            raise _Unreadable(reason) from None
        except OSError as exc:
            raise _Unreadable(f"cannot read file: {exc.strerror or exc}") from None

    def _scan(self) -> tuple[list[str], list[tuple[str, str, str]],
                             list[tuple[str, str, str]]]:
        """Walk the root without recursion and without following links: (valid ids,
        misnamed or refused entries, directories that failed to list), the last two as
        (name, path, reason).

        Names starting with '.' are skipped: temporary files, .git and the like can
        never be ids. Files not ending in .json are not entries. A symlink (to a file
        or a directory), FIFO or device where an entry could be is reported.
        """
        found: list[str] = []
        misnamed: list[tuple[str, str, str]] = []
        problems: list[tuple[str, str, str]] = []
        if not os.path.lexists(self.root):
            return found, misnamed, problems
        stack = [str(self.root)]
        while stack:
            directory = stack.pop()
            try:
                with os.scandir(directory) as it:
                    listing = list(it)
            except OSError as exc:
                problems.append((self._relative(directory), directory,
                                 f"cannot list directory: {exc.strerror or exc}"))
                continue
            for entry in listing:
                if entry.name.startswith("."):
                    continue
                try:
                    is_link = entry.is_symlink()
                    is_dir = not is_link and entry.is_dir(follow_symlinks=False)
                    is_file = not is_link and entry.is_file(follow_symlinks=False)
                    mode = entry.stat(follow_symlinks=False).st_mode
                except OSError as exc:
                    problems.append((self._relative(entry.path), entry.path,
                                     f"cannot read: {exc.strerror or exc}"))
                    continue
                if is_dir:
                    stack.append(entry.path)
                    continue
                json_name = entry.name.endswith(_SUFFIX)
                name = self._relative(entry.path)
                if json_name:
                    name = name[: -len(_SUFFIX)]
                if is_link and (json_name or os.path.isdir(entry.path)):
                    misnamed.append((name, entry.path, "is a symbolic link; the store "
                                     "never follows links (replace it by the file itself)"))
                    continue
                if not json_name:
                    continue
                if not is_file:
                    misnamed.append((name, entry.path, f"is {file_kind(mode)}, not a "
                                     "regular file; only regular files are read"))
                    continue
                try:
                    found.append(validate_id(name))
                except InputError as exc:
                    misnamed.append((name, entry.path, f"file name is not a valid id: "
                                     f"{exc.message.split(': ', 1)[-1]}"))
        found.sort()
        return found, misnamed, problems

    def _relative(self, path: str | os.PathLike) -> str:
        relative = os.path.relpath(path, self.root)
        return "" if relative == "." else relative.replace(os.sep, "/")


class _Refused(Exception):
    """Internal: a component below the store root that must not be entered."""

    def __init__(self, part: str, reason: str, fix: str):
        super().__init__(reason)
        self.part, self.reason, self.fix = part, reason, fix


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


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
        text = dumps(doc)
        if cert_id not in self._texts:
            for earlier, _ in case_collisions([*self._texts, cert_id])[:1]:
                raise StoreError(f"cannot save certificate {cert_id!r}: {earlier!r} is already "
                                 f"in the store and differs from it only in case; they "
                                 "would be one file on macOS and Windows; rename one of them")
        self._texts[cert_id] = text

    def fetch(self, cert_id: str) -> dict | None:
        text = self._texts.get(validate_id(cert_id))
        if text is None:
            return None
        try:
            return _parse_entry(cert_id, text)
        except _Unreadable as exc:
            raise MalformedCertificate(f"cannot read certificate {cert_id!r} from"
                                       f" {self._location(cert_id)}: {exc.reason}",
                                       path=self._location(cert_id),
                                       reason=exc.reason) from None

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


_DECIMAL = re.compile(r"-?[0-9]{1,400}(?:\.[0-9]{1,400})?(?:[eE][+-]?[0-9]{1,3})?", re.ASCII)


def read_number(s: object) -> Fraction:
    """A stored number for display: ``str_to_fraction``'s grammar, or a decimal such as
    ``'0.7071'`` or ``'1.5e-3'`` (irrational statistics are stored so) with at most a
    three-digit exponent -- ``Fraction('1e999999999')`` would build a billion-digit
    integer. Raises ValueError for anything else."""
    if isinstance(s, str) and _DECIMAL.fullmatch(s) and "/" not in s \
            and not _FRACTION.fullmatch(s):
        return Fraction(s)
    return str_to_fraction(s)


def source_candidates(store: Store, source: str) -> list[Path]:
    """Where a certificate's ``source`` may be: as written (relative to the current
    directory), then relative to the directory that holds the store (the project root
    when the store is ``certificates/``)."""
    out = [Path(source)]
    root = getattr(store, "root", None)
    if root is not None and not Path(source).is_absolute():
        out.append(Path(root).resolve().parent / source)
    return out
