"""``Store``: the interface every certificate store implements (save, fetch, delete,
ids, entries), and the typed-record readers built on it (``record``, ``records``)."""

from __future__ import annotations

import abc
import contextlib
from typing import Iterator

from .errors import MalformedCertificate
from .store_text import BadEntry


class Store(abc.ABC):
    """A keyed collection of certificates; ``doc['id']`` is the key."""

    @abc.abstractmethod
    def save(self, doc: dict) -> None:
        """Store ``doc`` under ``doc['id']``, replacing any previous version atomically."""

    @contextlib.contextmanager
    def batch(self):
        """A scope for many saves (one run's records): a store may defer what makes each
        save durable, never what makes it atomic, to the scope's end. Here nothing is."""
        yield

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
        if the entry is unreadable or is not a format-2 certificate (naming the field)."""
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
