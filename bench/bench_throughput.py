"""Benchmark: throughput of `prover check` beside raw Z3, measured in the same run.

1. A generated corpus of N simple twins conjectures (default 50; ``--n 500`` for the
   large one): `prover check` with --jobs 1 and --jobs 2 (fresh stores), amortized
   seconds per conjecture, against the raw `z3` binary run once per conjecture on the
   very SMT-LIB text prover encodes (the vacuity check and the negated claim, as prover
   asks), sequentially.
2. The main job, `prover check --kernel` on the bundled corpus (a copy of the store):
   cold (--force, an empty Coq cache), --force again (Coq cache filled), and warm
   (unchanged inputs); each conjecture's time and its certificate search's against its
   budget (from the second run's `check --json`: how many went over, the largest
   shares); then `prover verify` of that store with --jobs 1 and the default.

    python bench/bench_throughput.py [--n N] [--repeat R] [--skip-main]

Part 1 runs R times (default 3, alternating --jobs 1 and --jobs 2 so that a slow spell
of the machine touches both) and prints the median and the range of each figure: one
run varies by about 5 % from the next.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import statistics
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover.conjecture import load  # noqa: E402
from prover.encode import encode  # noqa: E402

CLAIMS = ["h2 <= {c}*rDZ", "h2 >= {c}*rDZ", "rDZ <= {c}*rMZ", "s2 >= {c}*rDZ - rMZ",
          "rMZ - rDZ <= {c}", "h2 >= {c}*(rMZ - rDZ)"]


def corpus(directory: Path, n: int) -> list[Path]:
    files = []
    for k in range(n):
        c = Fraction(k % 9 + 1, 3) if k % 2 else Fraction(k % 7 + 2, 2)
        claim = CLAIMS[k % len(CLAIMS)].format(c=f"{c.numerator}/{c.denominator}")
        path = directory / f"c{k:04d}.toml"
        path.write_text(f'model = "twins"\nclaim = "{claim}"\n[params]\nmax_order = '
                        f'{1 + k % 2}\n')
        files.append(path)
    return files


BUSY: dict[str, list[float]] = {}     # cores busy during each timed run, by label
OUTPUT: list[str] = [""]              # the last run's standard output


def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine (Linux /proc/stat), else None: every
    process prover starts is counted, also the pooled solver workers that the shell's
    ``time`` misses (they are never waited for)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def _environment(extra: dict | None) -> dict:
    """prover's environment as a user's install has it: Python caches compiled modules
    (pip compiles them on install). A PYTHONDONTWRITEBYTECODE set here (sandboxes and CI
    images set it) would make every run compile all of prover again, 0.06 s of start-up
    that no user pays."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def prover(args: list[str], env: dict | None = None, label: str | None = None) -> float:
    before = _cpu_ticks()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "prover", *args], cwd=ROOT,
                          capture_output=True, check=False, env=_environment(env))
    seconds = time.perf_counter() - start
    OUTPUT[:] = [done.stdout.decode("utf-8", "replace")]
    after = _cpu_ticks()
    if label and before and after and after[1] > before[1]:
        cores = (after[0] - before[0]) / (after[1] - before[1]) * (os.cpu_count() or 1)
        BUSY.setdefault(label, []).append(cores)
    return seconds


def _busy(label: str) -> str:
    v = BUSY.get(label)
    return f", {statistics.median(v):.2f} cores busy" if v else ""


def z3_binary() -> str | None:
    """The z3 executable itself (a pyenv shim would add a shell's start-up to each call)."""
    found = shutil.which("z3")
    if found and "shims" in found:
        try:
            found = subprocess.run(["pyenv", "which", "z3"], capture_output=True, text=True,
                                   check=True).stdout.strip() or found
        except (OSError, subprocess.CalledProcessError):
            pass
    return found


def raw_z3(binary: str, texts: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for k, text in enumerate(texts):
            p = Path(tmp) / f"{k}.smt2"
            p.write_text(text)
            paths.append(p)
        start = time.perf_counter()
        for p in paths:
            subprocess.run([binary, "-T:60", str(p)], capture_output=True, check=False)
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3, help="runs of part 1 (median)")
    ap.add_argument("--skip-main", action="store_true")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "c").mkdir()
        files = corpus(tmp / "c", args.n)
        one = tmp / "one"
        one.mkdir()
        shutil.copy(files[0], one / files[0].name)
        prover(["check", "-q", "--store", str(tmp / "warm-up"), str(one)])   # caches bytecode
        single = statistics.median(prover(["check", "-q", "--store", str(tmp / f"one-{r}"),
                                           str(one)]) for r in range(3))
        runs: dict[int, list[float]] = {1: [], 2: []}
        for r in range(max(1, args.repeat)):
            for jobs in (1, 2):
                store = tmp / f"store{jobs}-{r}"          # fresh: nothing reused
                runs[jobs].append(prover(["check", "-q", "--jobs", str(jobs), "--store",
                                          str(store), str(tmp / "c")], label=f"jobs{jobs}"))
        times = {j: statistics.median(v) for j, v in runs.items()}
        spread = {j: f" (median of {len(v)}: {min(v):.2f}-{max(v):.2f} s)" if len(v) > 1
                  else "" for j, v in runs.items()}
        ratios = sorted(a / b for a, b in zip(runs[1], runs[2]))
        texts = []
        for f in files:
            conj = load(f)
            problem = encode(conj.instance(), conj.claim, conj.assume)
            texts += [problem.smtlib(negated=False), problem.smtlib()]
        binary = z3_binary()
        if binary:
            raw = raw_z3(binary, texts)
            raw_line = f"{raw:.2f} s ({raw / args.n:.3f} s per conjecture, 2 calls each)"
        else:
            raw = None
            raw_line = "z3 binary not found (apt-get install z3)"
        n = args.n
        print(f"\n{n} generated twins conjectures (max_order 1-2):")
        print(f"  prover check --jobs 1: {times[1]:.2f} s{spread[1]}  "
              f"({times[1] / n:.3f} s per conjecture{_busy('jobs1')})")
        print(f"  prover check --jobs 2: {times[2]:.2f} s{spread[2]}  ({times[2] / n:.3f} s "
              f"per conjecture{_busy('jobs2')}), speed-up {times[1] / times[2]:.2f}x (run by "
              f"run: {', '.join(f'{x:.2f}x' for x in ratios)})")
        # what no number of jobs shortens: the start-up (interpreter, imports, loading,
        # the workers' first conjecture), about one run on a single conjecture less one
        # conjecture's share; and --jobs 1 already keeps more than one core busy
        startup = max(0.0, single - times[1] / n)
        print(f"  start-up (one conjecture: {single:.2f} s, less one conjecture's share): "
              f"{startup:.2f} s")
        if BUSY.get("jobs1"):
            cores = os.cpu_count() or 1
            busy1 = statistics.median(BUSY["jobs1"])
            ceiling = times[1] / (startup + (times[1] - startup) * busy1 / cores)
            print(f"  rough estimate of the best speed-up on {cores} cores, given that start-up "
                  f"and the cores --jobs 1 already keeps busy ({busy1:.2f}): {ceiling:.2f}x "
                  "(not a bound: the one-conjecture start-up includes first-use costs that "
                  "two workers pay at once, and part of what keeps --jobs 1 above one core "
                  "is the zygote's start-up)")
        print(f"  raw z3 binary, same SMT-LIB, sequential: {raw_line}")
        if raw:
            print(f"  ratio prover (--jobs 2, amortized) / raw z3: {times[2] / raw:.2f}x; "
                  f"(--jobs 1): {times[1] / raw:.2f}x")
        if args.skip_main:
            return
        store = tmp / "main-store"
        shutil.copytree(ROOT / "certificates", store)
        empty = {"PROVER_CACHE_DIR": str(tmp / "coq-cache")}     # no proof compiled yet
        cold = prover(["check", "-q", "--kernel", "--force", "--store", str(store)], empty)
        cached = prover(["check", "--json", "--kernel", "--force", "--store", str(store)],
                        empty)
        budgets = _budgets(OUTPUT[0])
        warm = prover(["check", "-q", "--kernel", "--store", str(store)], empty)
        print("\nmain job, prover check --kernel on the bundled corpus:")
        print(f"  cold (--force, empty Coq cache): {cold:.2f} s")
        print(f"  --force again (every proof's text already compiled): {cached:.2f} s")
        print(f"  warm (unchanged inputs): {warm:.2f} s")
        print(f"  budgets (--force again, check --json): {budgets}")
        verify1 = prover(["verify", "-q", "--jobs", "1", "--store", str(store)], empty)
        verify2 = prover(["verify", "-q", "--store", str(store)], empty)
        print(f"  prover verify of that store: {verify2:.2f} s with --jobs {os.cpu_count()} "
              f"(the default), {verify1:.2f} s with --jobs 1")


def _budgets(text: str) -> str:
    """Each conjecture's time (and its certificate search's) against its budget
    (``prover.check.budget``: its file's timeout, else the default), from `check --json`:
    the largest shares, and how many went over."""
    from prover.check import budget
    try:
        results = json.loads(text)["results"]
    except (ValueError, KeyError):
        return "no JSON from check (see its output)"
    shares, searches = [], []
    for r in results:
        limit = budget(load(ROOT / r["source"]))
        shares.append((r["seconds"] / limit, r["seconds"], limit, r["id"]))
        searches.append((r["certify_seconds"] / limit, r["certify_seconds"], limit, r["id"]))
    top, search = max(shares), max(searches)
    over = sum(share > 1 for share, *_ in shares)
    unknown = sum(r["verdict"] == "unknown" for r in results)
    return (f"{len(results)} conjectures, {over} over their budget, {unknown} unknown; "
            f"the largest share {top[1]:.2f} s of {top[2]:g} s ({top[3]}); the longest "
            f"certificate search {search[1]:.2f} s of {search[2]:g} s ({search[3]})")


if __name__ == "__main__":
    main()
