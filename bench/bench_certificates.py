"""Benchmark: checking stored certificates without solvers, and `prover verify` as a whole.

For every valid certificate with a farkas/polya proof in the store: the time to rebuild
the problem from its source and run the exact checker, beside plain Z3 re-solving the
same problem (the baseline a solver-trusting verify would pay). Then the wall time of
`prover verify` on the whole store (numeric re-confirmation included), and the share of
`prover check` time that the certificate search adds, per model.

    python bench/bench_certificates.py [STORE]      (default: certificates/)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover import solvers  # noqa: E402
from prover.checker import check_proof  # noqa: E402
from prover.conjecture import load  # noqa: E402
from prover.encode import encode  # noqa: E402
from prover.store import BadEntry, DirectoryStore  # noqa: E402


def main() -> None:
    store_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "certificates"
    store = DirectoryStore(store_dir)
    check_times, z3_times = [], []
    trust_counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cid, doc in store.entries():
        if isinstance(doc, BadEntry):
            continue
        model = doc["model"]["name"]
        if doc["verdict"] == "valid":
            trust_counts[model][doc.get("trust") or "none"] += 1
        if doc.get("proof", {}).get("kind") not in ("farkas", "polya"):
            continue
        conj = load(ROOT / doc["source"])
        t0 = time.perf_counter()
        problem = encode(conj.instance(), conj.claim, conj.assume)
        check_proof(problem, doc["proof"])
        check_times.append(time.perf_counter() - t0)
        z3_times.append(solvers.solve("z3", problem.smtlib(), 60).seconds)
    if check_times:
        print(f"exact certificate check (rebuild + check), {len(check_times)} certificates: "
              f"median {1000 * statistics.median(check_times):.1f} ms, "
              f"max {1000 * max(check_times):.1f} ms")
        print(f"plain Z3 re-solving the same problems: median "
              f"{1000 * statistics.median(z3_times):.1f} ms, max {1000 * max(z3_times):.1f} ms")
    print("\nvalid verdicts by trust level:")
    for model, counts in sorted(trust_counts.items()):
        print(f"  {model:12} " + ", ".join(f"{t}: {n}" for t, n in sorted(counts.items())))

    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "prover", "verify", "--store", str(store_dir),
                           "-q"], cwd=ROOT, capture_output=True, text=True)
    print(f"\nprover verify (whole store, numeric re-confirmation included): "
          f"{time.perf_counter() - t0:.1f} s, exit {proc.returncode}")

    blocked = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['z3'] = None; sys.modules['cvc5'] = None;"
         "from prover.cli import main; sys.exit(main(['verify', '--store', sys.argv[1]]))",
         str(store_dir)], cwd=ROOT, capture_output=True, text=True)
    last = blocked.stdout.strip().splitlines()[-1] if blocked.stdout.strip() else ""
    print(f"prover verify with z3 and cvc5 unimportable: exit {blocked.returncode}; {last}")

    print("\ncertificate search's share of `prover check`, per model (conjectures/):")
    from prover.check import check
    per_model = defaultdict(lambda: [0.0, 0.0])
    for path in sorted((ROOT / "conjectures").rglob("*.toml")):
        conj = load(path)
        if conj.model == "gaussian" and conj.params.get("degree", 0) >= 6:
            continue    # minutes each; see bench/gaussian_scaling.py
        with_cert = check(conj)
        without = check(conj, certify=False)
        per_model[conj.model][0] += with_cert.seconds
        per_model[conj.model][1] += without.seconds
    for model, (a, b) in sorted(per_model.items()):
        print(f"  {model:12} with search {a:6.2f} s, without {b:6.2f} s, ratio {a / b:.2f}")


if __name__ == "__main__":
    main()
