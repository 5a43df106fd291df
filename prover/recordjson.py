"""Reading certificate JSON for the record (prover/record.py): the error that names a
malformed field, frozen JSON values (read-only dicts that pickle, tuples), and the field
reader that checks each field's type once and reports fields format 2 does not have."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import Any, Union

from . import errors

FORMAT = 2

Json = Union[None, bool, int, float, str, tuple, Mapping]


class MalformedCertificate(errors.MalformedCertificate, ValueError):
    """A document that is not a format-2 certificate; the message names the field
    (``where``, a dotted path) and says what would be valid (``problem``)."""

    def __init__(self, where: str, problem: str):
        self.where, self.problem = where, problem
        message = f"field '{where}' {problem}"
        super().__init__(message, reason=message)


# --- frozen JSON -------------------------------------------------------------------------------

class FrozenDict(dict):
    """A read-only dict (it pickles, unlike ``types.MappingProxyType``: records travel
    between worker processes)."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("a certificate record is read-only; use .replace()")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __reduce__(self):
        return (FrozenDict, (dict(self),))

    def __hash__(self):
        return hash(tuple(sorted(self.items(), key=lambda kv: kv[0])))


def freeze(value: Any, where: str = "$") -> Json:
    """A JSON value made read-only: dicts become read-only mappings, lists tuples."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise MalformedCertificate(where, f"has a key {k!r} that is not a string")
            out[k] = freeze(v, f"{where}.{k}")
        return FrozenDict(out)
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v, f"{where}[{i}]") for i, v in enumerate(value))
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise MalformedCertificate(where, f"holds a {type(value).__name__}, not a JSON value")


def thaw(value: Json) -> Any:
    """The plain JSON value (dicts and lists) of a frozen one."""
    if isinstance(value, (str, int, float)) or value is None:   # most values: no ABC check
        return value
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    return value


# --- field readers -----------------------------------------------------------------------------

_EXACT = re.compile(r"-?[0-9]+(/[0-9]+)?\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*\Z")


class _Reader:
    """Reads one JSON object's fields, each once; leftovers are reported."""

    def __init__(self, doc: Any, where: str):
        if not isinstance(doc, Mapping):
            raise MalformedCertificate(where, f"is {_what(doc)}, not an object")
        self.doc, self.where, self.seen = doc, where, set()

    def path(self, key: str) -> str:
        return key if self.where == "$" else f"{self.where}.{key}"

    def has(self, key: str) -> bool:
        return key in self.doc

    def raw(self, key: str, required: bool = True) -> Any:
        self.seen.add(key)
        if key not in self.doc:
            if required:
                raise MalformedCertificate(self.path(key), "is missing")
            return None
        return self.doc[key]

    def str(self, key: str, required: bool = True, pattern: re.Pattern | None = None,
            hint: str = "") -> str | None:
        value = self.raw(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise MalformedCertificate(self.path(key), f"is {_what(value)}, not a string")
        if pattern is not None and not pattern.match(value):
            raise MalformedCertificate(self.path(key), f"is {value[:80]!r}, not {hint}")
        return value

    def exact(self, key: str, required: bool = True) -> str | None:
        return self.str(key, required, _EXACT, "an exact number 'p/q'")

    def bool(self, key: str, required: bool = True) -> bool | None:
        value = self.raw(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, bool):
            raise MalformedCertificate(self.path(key), f"is {_what(value)}, not true/false")
        return value

    def enum(self, key: str, enum: type[Enum], required: bool = True, nullable: bool = False):
        value = self.raw(key, required)
        if value is None and (nullable or not required):
            return None
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(repr(e.value) for e in enum) + (" or null" if nullable else "")
            raise MalformedCertificate(self.path(key), f"is {_what(value)}; it must be one "
                                                       f"of {allowed}") from None

    def exact_map(self, key: str, required: bool = True) -> Mapping[str, str] | None:
        value = self.raw(key, required)
        if value is None and not required:
            return None
        sub = _Reader(value, self.path(key))
        return FrozenDict({k: sub.exact(k) for k in value})

    def value(self, key: str) -> str | float:
        """A displayed value: a string (exact or decimal) or a number."""
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise MalformedCertificate(self.path(key), f"is {_what(value)}, not a number")
        return value

    def str_map(self, key: str) -> Mapping[str, str]:
        value = self.raw(key)
        sub = _Reader(value, self.path(key))
        return FrozenDict({k: sub.str(k) for k in value})

    def json(self, key: str, required: bool = True) -> Json:
        return freeze(self.raw(key, required), self.path(key))

    def done(self) -> None:
        extra = sorted(set(self.doc) - self.seen)
        if extra:
            raise MalformedCertificate(self.path(extra[0]),
                                       f"is not part of format {FORMAT} (unknown field)")


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return repr(value[:80])
    return f"a {type(value).__name__}"


def _put(out: dict, key: str, value: Any) -> None:
    """Set an optional field: absent stays absent."""
    if value is not None:
        out[key] = value.value if isinstance(value, Enum) else value
