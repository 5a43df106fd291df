"""``DirectoryStore``: certificates as files ``<root>/<id>.json``. Atomic writes
(temporary file, fsync, rename); nothing below the root is a symlink, FIFO or device
(walked through directory descriptors with O_NOFOLLOW, or lstat where the platform lacks
them); the tree scanned without recursion, every unreadable entry reported."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import InputError, MalformedCertificate, StoreError
from .limits import (MAX_CERTIFICATE_BYTES, FileRefused, file_kind, read_regular_file,
                     walk_entries)
from .store_base import Store
from .store_ids import _SUFFIX, validate_id
from .store_text import BadEntry, _Unreadable, _doc_id, _document, _parse_entry, dumps

# Final certificates are ordinary repository files; mkstemp creates 0600 files.
_FILE_MODE = 0o644

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
        self._unsynced: set[tuple[str, ...]] | None = None    # see batch
        self._listed: dict[tuple[str, ...], dict[str, set[str]]] = {}   # in a batch

    @contextlib.contextmanager
    def batch(self):
        """Within this scope each save still writes a temporary file, fsyncs it and
        renames it over the old one (atomic: a crash leaves the old file or the new,
        both whole), but the directories' fsyncs, which make the renames durable, are
        made once each when the scope ends instead of once a save: half the fsyncs of
        a batch, the half that a later save's journal commit mostly does anyway. Each
        directory is listed once for the case-twin check (``_refuse_file_twin``): a
        name another process adds during the batch is not seen, as it would not be
        between a scan and the rename anyway."""
        if self._unsynced is not None:          # nested: the outer scope syncs
            yield
            return
        self._unsynced, self._listed = set(), {}
        try:
            yield
        finally:
            directories, self._unsynced, self._listed = self._unsynced, None, {}
            for parts in sorted(directories):
                self._sync_directory(list(parts))

    def _sync_directory(self, parts: list[str]) -> None:
        # best effort, as each save's own directory fsync is
        try:
            fd = self._open_dir(parts, False, "/".join(parts))
        except (OSError, _Refused):
            return
        try:
            _fsync_quietly(fd)
        finally:
            os.close(fd)

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
                    raise _case_twin(cert_id, entry.name, name)

    def _refuse_file_twin(self, dfd: int, directories: list[str], name: str,
                          cert_id: str) -> None:
        """``_refuse_case_twin`` for the file a save writes. Within a ``batch`` each
        directory is listed once and the names saved since are added to that listing:
        a scan per save made a batch of n saves into one directory take n²/2 steps (at
        1000 certificates, 30 % of the batch's time)."""
        if self._unsynced is None:
            self._refuse_case_twin(dfd, name, cert_id)
            return
        key = tuple(directories)
        names = self._listed.get(key)
        if names is None:
            names = self._listed[key] = {}
            for entry in os.listdir(dfd):
                names.setdefault(entry.casefold(), set()).add(entry)
        for other in names.get(name.casefold(), ()):
            if other != name:
                raise _case_twin(cert_id, other, name)

    def _listed_add(self, directories: list[str], name: str) -> None:
        """Within a batch: ``name`` is now in that directory's listing (if it was listed)."""
        names = self._listed.get(tuple(directories))
        if names is not None:
            names.setdefault(name.casefold(), set()).add(name)

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
            self._refuse_file_twin(dfd, directories, filename, cert_id)
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
            if self._unsynced is not None:
                self._unsynced.add(tuple(directories))
                self._listed_add(directories, filename)
            else:
                _fsync_quietly(dfd)
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
        for entry, failure in walk_entries(self.root, skip_hidden=True):
            if failure is not None:
                problems.append((self._relative(entry), entry, failure))
                continue
            try:
                is_link = entry.is_symlink()
                is_file = not is_link and entry.is_file(follow_symlinks=False)
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                problems.append((self._relative(entry.path), entry.path,
                                 f"cannot read: {exc.strerror or exc}"))
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


def _case_twin(cert_id: str, other: str, name: str) -> StoreError:
    return StoreError(f"cannot save certificate {cert_id!r}: {other!r} is already in the "
                      f"store and differs from {name!r} only in case; they would be one "
                      "file on macOS and Windows; rename one of them")


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
        _fsync_quietly(fd)
    finally:
        os.close(fd)


def _fsync_quietly(fd: int) -> None:
    """fsync a directory, best effort: the file is already whole and in place, and some
    platforms and file systems cannot fsync a directory."""
    try:
        os.fsync(fd)
    except OSError:
        pass
