"""Benchmark: `prover check` on the bundled twins corpus beside raw Z3 on the same SMT-LIB.

Prints, for each conjecture, prover's total time split into solver calls, certificate
search and numeric confirmation, and raw Z3 (the `z3` binary, else z3's Python API in a
subprocess) on the very SMT-LIB text whose hash is the certificate's encoding_sha256.
Then `prover --help` / `prover list` start-up times, and max_order scaling.

    python bench/bench_twins.py [CORPUS_DIR]
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover import solvers  # noqa: E402
from prover.check import check  # noqa: E402
from prover.conjecture import load  # noqa: E402
from prover.encode import encode  # noqa: E402


def raw_z3(text: str, timeout: float = 60) -> tuple[float, str]:
    """Plain Z3 on SMT-LIB text: the binary if present, else z3's Python API."""
    with tempfile.NamedTemporaryFile("w", suffix=".smt2", delete=False) as fh:
        fh.write(text)
    start = time.perf_counter()
    if shutil.which("z3"):
        cmd = ["z3", f"-T:{int(timeout)}", fh.name]
    else:
        cmd = [sys.executable, "-c", "import z3,sys; s=z3.Solver(); "
               "s.from_file(sys.argv[1]); print(s.check())", fh.name]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 5).stdout
        answer = out.strip().splitlines()[0] if out.strip() else "?"
    except subprocess.TimeoutExpired:
        answer = "timeout"
    Path(fh.name).unlink()
    return time.perf_counter() - start, answer


def command_time(args: list[str], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "prover", *args], capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "conjectures" / "twins"
    files = sorted(corpus.rglob("*.toml"))
    solvers.preload()
    rows = []
    t_all = time.perf_counter()
    for f in files:
        conj = load(f)
        out = check(conj)
        problem = encode(conj.instance(), conj.claim, conj.assume)
        raw_s, raw_answer = raw_z3(problem.smtlib())
        rows.append((conj.id, out.verdict, out.trust or "-", out.seconds, out.solver_seconds,
                     out.certify_seconds, out.confirm_seconds, raw_s, raw_answer))
    wall = time.perf_counter() - t_all
    print(f"{'id':48} {'verdict':8} {'trust':11} {'total':>6} {'solver':>6} {'cert':>6} "
          f"{'confirm':>7} {'rawZ3':>6} raw")
    for r in rows:
        print(f"{r[0]:48} {r[1]:8} {r[2]:11} {r[3]:6.2f} {r[4]:6.2f} {r[5]:6.2f} {r[6]:7.2f} "
              f"{r[7]:6.2f} {r[8]}")
    totals = [r[3] for r in rows]
    print(f"\ncorpus: {len(rows)} conjectures, wall {wall:.2f} s (prover total "
          f"{sum(totals):.2f} s), median {statistics.median(totals):.3f} s per conjecture")
    print(f"  solver {sum(r[4] for r in rows):.2f} s, certificate search "
          f"{sum(r[5] for r in rows):.2f} s, numeric confirmation {sum(r[6] for r in rows):.2f} s")
    print(f"  raw Z3 on the same SMT-LIB: {sum(r[7] for r in rows):.2f} s total, median "
          f"{statistics.median(r[7] for r in rows):.3f} s")

    with tempfile.TemporaryDirectory() as empty:
        print(f"\nprover --help: {command_time(['--help']):.3f} s (median of 5)")
        print(f"prover list (empty store): {command_time(['list', '--store', empty]):.3f} s")
        print(f"prover list (bundled store): {command_time(['list']):.3f} s")

    print("\nmax_order scaling, claims s2 >= 4*rDZ/rMZ - 1 (valid at every K) and "
          "rDZ >= 0.45*rMZ implies s2 >= 0.9 (refuted at every K):")
    print(f"{'K':>3} {'components':>10} {'valid s':>8} {'refuted s':>9} {'rawZ3 valid s':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        for k in (1, 2, 4, 6, 8, 10):
            times = []
            for claim, name in (("s2 >= 4*rDZ/rMZ - 1", "a"),
                                ("rDZ >= 0.45*rMZ implies s2 >= 0.9", "b")):
                path = Path(tmp) / f"k{k}{name}.toml"
                path.write_text(f'model = "twins"\nclaim = "{claim}"\n[params]\nmax_order = {k}\n')
                conj = load(path)
                t0 = time.perf_counter()
                check(conj)
                times.append(time.perf_counter() - t0)
            conj = load(Path(tmp) / f"k{k}a.toml")
            raw_s, _ = raw_z3(encode(conj.instance(), conj.claim, conj.assume).smtlib())
            n = len(conj.instance().components)
            print(f"{k:>3} {n:>10} {times[0]:8.2f} {times[1]:9.2f} {raw_s:13.2f}")


if __name__ == "__main__":
    main()
