"""Benchmark: the Coq time of `prover check --kernel` on a store, before and after batching.

For every certificate of trust 'kernel' (or any exact farkas/polya/sos certificate with
--all) in the store, the Coq file is generated from its source, then compiled:

  old      the cleared-problem file (`prover.export.coq_text`), one coqc per proof — what
           `check --kernel` did before the claim was stated as written
  single   the claim-as-written file (`prover.coq.claim_text`), one coqc per proof
  batch    the claim-as-written files in one coqc run (`compile_many`, no cache)
  warm     the same through the cache, after one cold run filled it

    python bench/bench_coq.py [STORE] [--jobs N] [--skip-single] [--skip-old]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover import coq  # noqa: E402
from prover import coqtext as X  # noqa: E402
from prover.conjecture import load  # noqa: E402
from prover.encode import encode  # noqa: E402
from prover.store import BadEntry, DirectoryStore  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("store", nargs="?", default=str(ROOT / "certificates"))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--all", action="store_true", help="every exact certificate, not only "
                                                       "those of trust kernel")
    ap.add_argument("--skip-single", action="store_true")
    ap.add_argument("--skip-old", action="store_true")
    args = ap.parse_args()
    if not X.coqc_available():
        print("coqc not installed")
        return 1
    store = DirectoryStore(args.store)
    old, new = [], []
    for cid, doc in store.entries():
        if isinstance(doc, BadEntry) or doc.get("verdict") != "valid":
            continue
        if (doc.get("proof") or {}).get("kind") not in ("farkas", "polya", "sos"):
            continue
        if not args.all and doc.get("trust") != "kernel":
            continue
        conj = load(ROOT / doc["source"])
        problem = encode(conj.instance(), conj.claim, conj.assume)
        old.append(X.coq_text(problem, doc["proof"]))
        new.append(coq.claim_text(conj, doc["proof"]))
    print(f"{len(new)} proofs, coqc {coq.coqc_version()}, jobs {args.jobs}")

    def timed(label, fn):
        t0 = time.perf_counter()
        results = fn()
        seconds = time.perf_counter() - t0
        ok = sum(r[0] for r in results)
        print(f"{label:8s} {seconds:7.2f} s  ({seconds / len(results):.2f} s/proof, "
              f"{ok}/{len(results)} accepted)")

    if not args.skip_old:
        timed("old", lambda: [X.compile_coq(t) for t in old])
    if not args.skip_single:
        timed("single", lambda: [X.compile_coq(t) for t in new])
    with tempfile.TemporaryDirectory() as cache:
        os.environ["PROVER_CACHE_DIR"] = cache
        timed("batch", lambda: coq.compile_many(new, jobs=args.jobs))
        timed("warm", lambda: coq.compile_many(new, jobs=args.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
