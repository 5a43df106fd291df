"""Certificate ids: which strings are ids (safe as relative paths on every platform: no
'..', no hidden or temporary names, no Windows device names), the file suffix an id
gets, and the ids that would be one file on a case-insensitive file system."""

from __future__ import annotations

import re

from .errors import InputError
from .limits import MAX_ID_LENGTH, RESERVED_NAMES

# A segment starts with a letter or digit, so '.', '..', hidden files and our own
# '.…tmp' temporary files can never be ids. re.ASCII keeps \w-style surprises
# (non-ASCII digits and letters) out of file names.
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]*"
ID_PATTERN = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*", re.ASCII)

_SUFFIX = ".json"
_ID_HELP = "ids are segments of letters, digits, '.', '_' or '-' joined by '/'"


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
