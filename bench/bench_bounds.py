"""Timing of `prover bounds`: one query (with certificates and realized witnesses) and a
table of random twin-correlation rows (exact LPs only, then with certificates).

    python bench/bench_bounds.py
"""

from __future__ import annotations

import random
import sys
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prover.ranges import bounds  # noqa: E402


def main() -> None:
    given = {"rMZ": "0.62", "rDZ": "0.25"}
    targets = ["h2", "s2", "phantom"]
    for label, opts in (("exact LPs only", dict(prove=False, realize=False)),
                        ("+ realized witnesses", dict(prove=False)),
                        ("+ certificates", dict())):
        for K in (1, 4, 8):
            t0 = time.perf_counter()
            bounds("twins", given=given, targets=targets, params={"max_order": K}, **opts)
            print(f"one query, 3 targets, max_order {K}, {label}: "
                  f"{time.perf_counter() - t0:.2f} s")
    rng = random.Random(1)
    rows = []
    for _ in range(100):
        mz = Fraction(rng.randint(30, 90), 100)
        rows.append({"rMZ": f"{mz}±0.02", "rDZ": f"{mz * Fraction(rng.randint(30, 50), 100)}"})
    for n, opts in ((100, dict(prove=False, realize=False)), (10, dict(realize=False))):
        t0 = time.perf_counter()
        for row in rows[:n]:
            bounds("twins", given=row, targets=["h2", "s2"], **opts)
        dt = time.perf_counter() - t0
        print(f"table of {n} rows, 2 targets, {'certified' if 'prove' not in opts else 'exact LPs only'}: "
              f"{dt:.2f} s ({dt / n * 1000:.0f} ms per row)")


if __name__ == "__main__":
    main()
