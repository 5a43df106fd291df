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

This module is the door (every name in ``__all__``) and holds ``MemoryStore``; the
parts: ``store_ids`` (which strings are ids), ``store_text`` (canonical text out, guarded
text in, ``BadEntry``), ``store_base`` (the ``Store`` interface and its record readers),
``store_directory`` (``DirectoryStore``: atomic writes, no links followed, scanning).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from .errors import MalformedCertificate, StoreError
from .limits import MAX_ID_LENGTH
from .poly import str_to_fraction
from .store_base import Store
from .store_directory import DirectoryStore
from .store_ids import _SUFFIX, ID_PATTERN, case_collisions, validate_id
from .store_text import (BadEntry, _Unreadable, _doc_id, _document, _parse_entry,
                         certificate_problem, dumps, fraction_to_str, read_number)

__all__ = [
    "ID_PATTERN", "MAX_ID_LENGTH", "validate_id", "dumps", "BadEntry", "Store",
    "DirectoryStore", "MemoryStore", "fraction_to_str", "str_to_fraction", "source_candidates",
    "source_path",
    "certificate_problem", "case_collisions", "read_number",
]


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


def source_candidates(store: Store, source: str) -> list[Path]:
    """Where a certificate's ``source`` may be: as written (relative to the current
    directory), then relative to the directory that holds the store (the project root
    when the store is ``certificates/``)."""
    out = [Path(source)]
    root = getattr(store, "root", None)
    if root is not None and not Path(source).is_absolute():
        out.append(Path(root).resolve().parent / source)
    return out


def source_path(store: Store | None, source: str) -> Path:
    """The file a certificate's ``source`` is verified against: the first of
    ``source_candidates`` that is a file, else the first (loading it names the problem)."""
    candidates = source_candidates(store, source)
    return next((p for p in candidates if os.path.isfile(p)), candidates[0])
