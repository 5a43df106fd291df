"""``--shard K/N``: the K-th of N disjoint shares of a run, for CI matrices.

N jobs given the same inputs and K = 1..N together cover every item exactly once. Items
are dealt round-robin over their keys in sorted order (conjecture ids, certificate ids,
or a table's row positions), so the shares do not depend on the order a file system
lists directories in, on the machine, or on hash randomization, and their sizes differ by
at most one.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")

USAGE = "K/N with whole numbers 1 <= K <= N, e.g. 1/4 for the first of four shares"


@dataclass(frozen=True)
class Shard:
    index: int      # K, 1-based
    count: int      # N

    def select(self, items: Iterable[T], key: Callable[[T], object] | None = None) -> list[T]:
        """This share of ``items``, in their given order. With ``key``, items are dealt
        in the sorted order of their keys (which must be distinct); without, in the given
        order (for items whose order is itself stable, such as a table's rows)."""
        items = list(items)
        order = range(len(items)) if key is None else \
            sorted(range(len(items)), key=lambda i: key(items[i]))
        mine = {i for rank, i in enumerate(order) if rank % self.count == self.index - 1}
        return [x for i, x in enumerate(items) if i in mine]

    def summary(self, selected: int, total: int, noun: str) -> str:
        return f"shard {self.index}/{self.count}: {selected} of {total} {noun}"

    def to_json(self, selected: int, total: int) -> dict:
        return {"index": self.index, "count": self.count, "selected": selected,
                "total": total}


def parse_shard(text: str) -> Shard:
    """'2/4' -> Shard(2, 4); ValueError saying what is valid otherwise."""
    match = re.fullmatch(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*", str(text))
    if not match:
        raise ValueError(f"{text!r}: expected {USAGE}")
    index, count = int(match[1]), int(match[2])
    if count < 1:
        raise ValueError(f"{text!r}: N must be at least 1 ({USAGE})")
    if not 1 <= index <= count:
        raise ValueError(f"{text!r}: K must be between 1 and {count} ({USAGE})")
    return Shard(index, count)


def _shard_argument(text: str) -> Shard:
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_scale_options(parser: argparse.ArgumentParser, what: str,
                      scheduler: bool = True) -> None:
    """--shard K/N (and --scheduler ADDRESS) on a command that runs many ``what``."""
    parser.add_argument("--shard", type=_shard_argument, metavar="K/N",
                        help=f"only the K-th of N disjoint shares of the {what}, e.g. 2/4 "
                             "(one job of a CI matrix of N)")
    if scheduler:
        parser.add_argument("--scheduler", metavar="ADDRESS",
                            help="run on the dask.distributed scheduler at ADDRESS, e.g. "
                                 "tcp://scheduler:8786, writing the store here "
                                 "(pip install 'prover[dask]')")
