"""Benchmark: where a batch's serial time goes — what bounds `--jobs 2` against `--jobs 1`.

On a generated corpus of N simple twins conjectures (bench_throughput's), for --jobs 1
and --jobs 2, with the bare interpreter's start-up (``python -c pass``) measured in the
same run as the baseline:

* the start-up: from the interpreter's first line to the first worker's fork (imports,
  loading the files, the store, importing what the workers share);
* per worker, the first-use cost: how much longer its first refuted and first quadratic
  (nonlinear) conjecture took than the median of the later ones of the same kind (a
  fresh process faults in its first Z3 context and heap, and starts its pooled solver
  child) — paid once per worker, so twice with --jobs 2;
* the main process's CPU while the workers run (its loop and the store's writes);
* how much longer the same checks take when two workers run at once.

    python bench/bench_startup.py [--n N]

Each of these is serial work or per-worker work that no job count divides; with the
checks' own time they give the speed-up's ceiling (bench_throughput prints the measured
speed-up).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_throughput  # noqa: E402

# Runs prover's main in this interpreter with the fork and every check timed; writes one
# JSON line per process (the main process, each worker) to the file named by argv[1].
PROBE = r"""
import json, os, resource, sys, time
T0 = time.time()
out, marks = sys.argv[1], {"t0": T0}
def _cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
def _log(doc):
    with open(out, "a") as f:
        f.write(json.dumps(dict(doc, pid=os.getpid())) + "\n")
import prover.worker as worker                   # light: os, pickle, threading
_serve = worker.serve
def serve(*args):                                 # in each worker, forked by the zygote
    _log({"worker_start": time.time()})
    import prover.check as ch
    _check = ch.check
    def check(conj, **k):
        t = time.perf_counter()
        o = _check(conj, **k)
        _log({"check": (conj.id, o.verdict, "s2" in str(conj.claim), time.perf_counter() - t)})
        return o
    ch.check = check
    return _serve(*args)
worker.serve = serve
MAIN = os.getpid()
_exit = os._exit
def ex(code):
    if os.getpid() == MAIN:
        _log({"main": dict(marks, cpu=_cpu(), wall=time.time() - T0)})
    _exit(code)
os._exit = ex
import prover.zygote as zygote
_spawn = zygote.Zygote.spawn
def spawn(self, memory):                           # the command asks for its first worker
    marks.setdefault("first_request", time.time() - T0)
    marks.setdefault("cpu_at_request", _cpu())
    return _spawn(self, memory)
zygote.Zygote.spawn = spawn
import prover.__main__
sys.argv = ["prover"] + sys.argv[2:]
prover.__main__.main()
"""


def interpreter_start(repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def probe(corpus: Path, jobs: int, tmp: Path) -> dict:
    runs = len(list(tmp.glob("probe-*.jsonl")))
    log = tmp / f"probe-{runs}.jsonl"
    store = tmp / f"store-{runs}"              # a fresh store: nothing is reused
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", PROBE, str(log), "check", "-q", "--jobs", str(jobs),
                    "--store", str(store), str(corpus)], cwd=ROOT, capture_output=True,
                   check=False, env=bench_throughput._environment(None))
    wall = time.perf_counter() - t
    main, workers, starts = {}, {}, []
    for line in log.read_text().splitlines():
        doc = json.loads(line)
        if "main" in doc:
            main = doc["main"]
        elif "worker_start" in doc:
            starts.append(doc["worker_start"])
        else:
            workers.setdefault(doc["pid"], []).append(doc["check"])
    if starts and "t0" in main:
        main["first_worker"] = min(starts) - main["t0"]
    return {"wall": wall, "main": main, "workers": workers}


def first_use(checks: list) -> list[tuple[str, float]]:
    """(kind, excess seconds) of a worker's first refuted and first quadratic valid check
    over the median of that kind's later checks in the same run."""
    out = []
    for kind, pick in (("refuted", lambda c: c[1] == "refuted"),
                       ("quadratic valid", lambda c: c[1] == "valid" and c[2])):
        same = [c[3] for c in checks if pick(c)]
        if len(same) >= 3:
            out.append((kind, same[0] - statistics.median(same[1:])))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores")
    base = interpreter_start()
    print(f"bare interpreter start-up (python -c pass): {base:.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "c").mkdir()
        bench_throughput.corpus(tmp / "c", args.n)
        probe(tmp / "c", 1, tmp)            # caches bytecode
        busy_by_jobs = {}
        for jobs in (1, 2):
            r = probe(tmp / "c", jobs, tmp)
            m = r["main"]
            busy = sum(c[3] for w in r["workers"].values() for c in w)
            busy_by_jobs[jobs] = busy
            print(f"\n--jobs {jobs}: {r['wall']:.2f} s wall, {len(r['workers'])} worker(s), "
                  f"the checks {busy:.2f} s in all")
            if "first_worker" in m:
                print(f"  start-up to the first worker: {m['first_worker']:.3f} s after the "
                      f"interpreter's first line (plus the interpreter's own start-up); "
                      f"the command asked for it at {m['first_request']:.3f} s (the zygote "
                      "was still importing until the worker started)")
                print(f"  main process CPU after asking for its first worker: "
                      f"{m['cpu'] - m['cpu_at_request']:.3f} s")
            for pid, checks in sorted(r["workers"].items()):
                costs = ", ".join(f"first {kind} +{extra * 1000:.0f} ms"
                                  for kind, extra in first_use(checks))
                print(f"  worker: {len(checks)} checks; first-use: {costs or '-'}")
        if busy_by_jobs.get(1):
            print(f"\nthe same checks took {busy_by_jobs[2] / busy_by_jobs[1] - 1:+.0%} longer "
                  "with two workers at once (on this machine pure-Python arithmetic runs "
                  "as fast on both cores at once; memory-bound numpy work, like the twins "
                  "simulation, does not)")


if __name__ == "__main__":
    main()
