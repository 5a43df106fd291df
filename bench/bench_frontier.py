"""Benchmark: `prover frontier` — exact frontiers across max_order / max_degree, the
approximate ones, checking the emitted conjectures, and drawing.

Times are wall-clock medians of a few runs (CPU seconds beside them: on a shared machine
the wall clock also measures the neighbours). The target: a two-statistic frontier on
`twins` with max_order 6 in under 10 s.

    python bench/bench_frontier.py [--quick]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover.frontier import emit, frontier  # noqa: E402


def timed(func, repeat: int = 3):
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = func()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), result


def row(label: str, wall: float, cpu: float, note: str = "") -> None:
    print(f"  {label:44} {wall:8.3f} s wall {cpu:8.3f} s cpu  {note}")


def shape(fr) -> str:
    if not fr.exact:
        gap = "unbounded" if fr.gap is None or fr.gap == float("inf") else f"{fr.gap:.3f}"
        return f"approximate: {len(fr.points)} points, {len(fr.bounds)} bounds, gap {gap}"
    att = sum(v.attained for v in fr.vertices)
    return (f"{fr.shape}: {len(fr.vertices)} vertices ({att} attained), "
            f"{len(fr.edges)} edges ({sum(e.attained for e in fr.edges)} attained)")


def main() -> None:
    quick = "--quick" in sys.argv
    print("Exact frontiers")
    for order in (1, 2, 4, 6, 8, 12):
        for x, y in (("rDZ/rMZ", "s2"), ("h2", "falconer")):
            wall, cpu, fr = timed(lambda: frontier("twins", x, y, {"max_order": order}))
            row(f"twins max_order={order} ({x}, {y})", wall, cpu, shape(fr))
    for degree in (1, 2, 3, 6, 12, "inf"):
        wall, cpu, fr = timed(lambda: frontier("multilinear", "s2", "r2",
                                               {"max_degree": degree}))
        row(f"multilinear max_degree={degree} (s2, r2)", wall, cpu, shape(fr))

    print("\nApproximate frontiers (sampling, local search, exact points; proofs by z3)")
    cases = [("multilinear", "s2", "r", {"max_degree": 3}, False),
             ("gaussian", "s2", "r2", {}, False),
             ("gaussian", "s2", "r2", {}, True)]
    if not quick:
        cases += [("multilinear", "s2", "r", {"max_degree": 3}, True),
                  ("general", "s2", "r2", {}, False)]
    for model, x, y, params, prove in cases:
        wall, cpu, fr = timed(lambda: frontier(model, x, y, params, prove=prove), repeat=1)
        row(f"{model} {params or ''} ({x}, {y}) prove={prove}", wall, cpu, shape(fr))

    print("\nEmitted conjectures, checked (prover.check.check)")
    from prover.check import check
    from prover.conjecture import load
    for model, x, y, params in (("twins", "rDZ/rMZ", "s2", {"max_order": 2}),
                                ("multilinear", "s2", "r2", {"max_degree": 3}),
                                ("multilinear", "s2", "r2", {})):
        with tempfile.TemporaryDirectory() as tmp:
            paths = emit(frontier(model, x, y, params), tmp)
            w, c = time.perf_counter(), time.process_time()
            results = [check(load(p)) for p in paths]
            wall, cpu = time.perf_counter() - w, time.process_time() - c
            ok = sum(r.verdict == r.conjecture.expect for r in results)
            row(f"{model} {params or ''} ({x}, {y}): {len(paths)} files", wall, cpu,
                f"{ok}/{len(paths)} as expected")

    print("\nPictures")
    from prover.plot import plot_frontier
    fr = frontier("twins", "rDZ/rMZ", "s2")
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".png", ".svg"):
            wall, cpu, _ = timed(lambda: plot_frontier(fr, Path(tmp) / f"f{suffix}"))
            row(f"plot_frontier twins (rDZ/rMZ, s2) {suffix}", wall, cpu)


if __name__ == "__main__":
    main()
