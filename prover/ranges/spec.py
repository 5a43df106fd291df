"""SPECs and givens of ``prover bounds``: an exact decimal or fraction (``0.62``,
``31/50``), an interval ``LO..HI`` or ``V±W``, read as an exact closed interval; and
``STAT=SPEC`` as written after ``--given``."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from ..errors import InputError

MAX_SPEC_LENGTH = 200
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?"
_NUMBER_RE = re.compile(rf"\s*({_NUMBER})\s*(?:/\s*(\d+)\s*)?")
_SPEC_HELP = ("write an exact decimal or fraction (0.62, 31/50), an interval LO..HI "
              "(0.55..0.65) or V±W (0.62±0.03, also 0.62+-0.03)")


def _number(text: str, whole: str) -> Fraction:
    m = _NUMBER_RE.fullmatch(text)
    if not m:
        raise InputError(f"'{whole}' is not a SPEC: {_SPEC_HELP}")
    value = Fraction(m.group(1))
    if m.group(2) is not None:
        if int(m.group(2)) == 0:
            raise InputError(f"'{whole}': division by zero; {_SPEC_HELP}")
        value /= int(m.group(2))
    return value


def parse_spec(text) -> tuple[Fraction, Fraction]:
    """A SPEC as an exact closed interval [lo, hi].

    >>> parse_spec("0.62")
    (Fraction(31, 50), Fraction(31, 50))
    >>> parse_spec("0.62±0.03")
    (Fraction(59, 100), Fraction(13, 20))
    >>> parse_spec("1/4..3/10")
    (Fraction(1, 4), Fraction(3, 10))

    Also accepted: ints and Fractions, a (lo, hi) pair, and floats (read as their
    shortest decimal, 0.62 -> 31/50)."""
    if isinstance(text, bool):
        raise InputError(f"{text!r} is not a SPEC: {_SPEC_HELP}")
    if isinstance(text, (int, Fraction)):
        return Fraction(text), Fraction(text)
    if isinstance(text, float):
        if not math.isfinite(text):
            raise InputError(f"{text!r} is not a SPEC: {_SPEC_HELP}")
        v = Fraction(repr(text))
        return v, v
    if isinstance(text, (tuple, list)) and len(text) == 2:
        lo, hi = (parse_spec(x)[0] for x in text)
        return _ordered(lo, hi, f"{text!r}")
    if not isinstance(text, str):
        raise InputError(f"{text!r} is not a SPEC: {_SPEC_HELP}")
    whole = text.strip()
    if not whole:
        raise InputError(f"empty SPEC: {_SPEC_HELP}")
    if len(whole) > MAX_SPEC_LENGTH:
        raise InputError(f"SPEC of {len(whole)} characters; at most {MAX_SPEC_LENGTH}")
    for sep in ("±", "+-", "+/-"):
        if sep in whole:
            centre, _, width = whole.partition(sep)
            v, w = _number(centre, whole), _number(width, whole)
            if w < 0:
                raise InputError(f"'{whole}': the half-width after {sep} must be >= 0")
            return v - w, v + w
    if ".." in whole:
        lo, _, hi = whole.partition("..")
        return _ordered(_number(lo, whole), _number(hi, whole), whole)
    v = _number(whole, whole)
    return v, v


def _ordered(lo: Fraction, hi: Fraction, whole: str) -> tuple[Fraction, Fraction]:
    if lo > hi:
        raise InputError(f"'{whole}': the interval is empty (LO > HI); write LO..HI with "
                         "LO <= HI")
    return lo, hi


def parse_given(item: str) -> tuple[str, str]:
    """``"rMZ=0.62"`` -> ``("rMZ", "0.62")`` (split at the last '=')."""
    key, sep, spec = item.rpartition("=")
    if not sep or not key.strip() or not spec.strip():
        raise InputError(f"--given {item!r}: write STAT=SPEC, e.g. --given rMZ=0.62 or "
                         "--given rDZ=0.25±0.02")
    return key.strip(), spec.strip()
