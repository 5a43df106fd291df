"""What the views show of a model, kept with the model: its standard frontier pictures
(``Model.pictures``) and how its realizations read (``Model.realization_lines``).

The views — the pictures of ``prover.frontier.pictures``, the site — read these and hold
no model knowledge of their own; a new model declares its pictures in its own module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Mapping


@dataclass(frozen=True)
class Picture:
    """One standard frontier picture: the region of (x, y) under ``params`` (the model's
    defaults for the rest), with the regions under each of ``compare`` drawn as outlines.
    Written as ``<stem>.png`` and ``<stem>.svg``."""

    stem: str
    x: str
    y: str
    params: Mapping = field(default_factory=dict)
    compare: tuple[Mapping, ...] = ()


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def plotted_axes(pictures) -> list[str]:
    """The axes of a model's pictures, each once: statistics first, then expressions
    (e.g. ``rDZ/rMZ``): the coordinates in which a point can be found on the pictures."""
    axes: list[str] = []
    for p in pictures:
        axes += [a for a in (p.x, p.y) if a not in axes]
    return [a for a in axes if _NAME.fullmatch(a)] + [a for a in axes if not _NAME.fullmatch(a)]


def approx_text(text) -> str:
    """'3/8' -> '3/8 (≈0.375)'; integers and floats as they are."""
    if isinstance(text, str) and "/" in text:
        try:
            return f"{text} (≈{float(Fraction(text)):.4g})"
        except (ValueError, ZeroDivisionError, OverflowError):
            return text
    return str(text)
