"""The text of a stored certificate: canonical, diff-friendly JSON written by ``dumps``;
stored content read back under limits (UTF-8, strict JSON, no duplicate keys, bounded
depth, the id inside matching the file) or reported as a ``BadEntry``; exact numbers as
certificate text (``fraction_to_str``, ``read_number``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction

from .errors import InputError
from .limits import MAX_JSON_DEPTH, MAX_JSON_VALUES
from .poly import _FRACTION, str_to_fraction
from .store_ids import validate_id


def dumps(doc: dict) -> str:
    """Serialise a certificate as canonical, diff-friendly JSON text.

    Sorted keys, 2-space indent, non-ASCII kept as is, trailing newline: byte for byte
    ``json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)``
    (tests/test_store_text.py compares them on generated documents), written by
    ``_encode``, which escapes strings with json's C function: given an indent, json
    itself falls back to its generator-based Python encoder, four times slower -- and
    a batch's records are serialised while its workers wait for their next conjecture.
    Refuses what would not read back as the same document: NaN/infinity, non-string
    keys, values JSON cannot represent, strings that are not encodable as UTF-8.
    """
    parts: list[str] = []
    try:
        _encode(doc, parts, "\n")
        parts.append("\n")
        text = "".join(parts)
        text.encode("utf-8")  # lone surrogates pass json.dumps but not the disk
    except _NonStringKey:
        _check_keys(doc, "$")           # names the key and where it is, and raises
        raise InputError("certificate cannot be stored as JSON: a key is not a string")
    except (TypeError, ValueError) as exc:
        hint = (" (store exact numbers as strings with fraction_to_str)"
                if "Fraction" in str(exc) else "")
        raise InputError(f"certificate cannot be stored as JSON: {exc}{hint}") from exc
    except RecursionError as exc:
        raise InputError("certificate cannot be stored as JSON: nested too deeply") from exc
    return text


class _NonStringKey(Exception):
    """Internal: ``_encode`` met a key that is not a string (``_check_keys`` names it)."""


_STRING = json.encoder.encode_basestring        # json's C function where it has one
_INFINITY = float("inf")


def _encode(value: object, parts: list[str], indent: str) -> None:
    """Append ``value`` as JSON text to ``parts``; ``indent`` is the newline and the
    spaces before the value's line, its items' lines get two more: what json.dumps
    writes with indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False, testing
    the types in the order json's encoder does. Strings, the commonest items, are
    written without a call of their own."""
    if isinstance(value, str):
        parts.append(_STRING(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        if value != value or value == _INFINITY or value == -_INFINITY:
            raise ValueError("Out of range float values are not JSON compliant: "
                             + repr(value))
        parts.append(float.__repr__(value))
    elif isinstance(value, (list, tuple)):
        if not value:
            parts.append("[]")
            return
        inner = indent + "  "
        separator = "[" + inner
        for item in value:
            if isinstance(item, str):
                parts.append(separator + _STRING(item))
            else:
                parts.append(separator)
                _encode(item, parts, inner)
            separator = "," + inner
        parts.append(indent + "]")
    elif isinstance(value, dict):
        if not value:
            parts.append("{}")
            return
        inner = indent + "  "
        separator = "{" + inner
        try:
            items = sorted(value.items())
        except TypeError:
            raise _NonStringKey from None
        for key, item in items:
            if not isinstance(key, str):
                raise _NonStringKey
            if isinstance(item, str):
                parts.append(separator + _STRING(key) + ": " + _STRING(item))
            else:
                parts.append(separator + _STRING(key) + ": ")
                _encode(item, parts, inner)
            separator = "," + inner
        parts.append(indent + "}")
    else:
        raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


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
    # read as JSON, but not a format-2 certificate (reason names the field); otherwise
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
    values = content.count(",") + content.count("{") + content.count("[") + 1
    if values > MAX_JSON_VALUES:
        raise _Unreadable(f"holds more than {MAX_JSON_VALUES:,} JSON values ({values:,} "
                          "commas, objects and arrays; a certificate needs far fewer)")
    try:
        doc = json.loads(content, parse_constant=_reject_constant,
                         object_pairs_hook=_reject_duplicates)
    except MemoryError:
        raise _Unreadable("too large to parse in the memory allowed") from None
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
    """Why a parsed document is not a format-2 certificate (``record.Certificate.from_json``
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
