"""Benchmark: the exact SOS certificate of the `general` model's r2 <= 1/2 (and its dim-2
variant), against raw Z3 and cvc5 on the direct encoding, measured in the same run.

  sos       prover.sos.search_case on the encoding's case (SDP + exact recovery), then
            the exact check by prover.checker: a solver-free certificate
  check     the whole `prover.check.check` of the conjecture (solvers, certificate)
  z3/cvc5   the negated claim's SMT-LIB text (`Problem.smtlib()`), one solver alone:
            an unsat answer, not a certificate (the baseline)

    python bench/bench_sos.py [--timeout S] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover import solvers  # noqa: E402
from prover.check import check  # noqa: E402
from prover.checker import cases_of, check_case  # noqa: E402
from prover.conjecture import load  # noqa: E402
from prover.encode import encode  # noqa: E402
from prover.sos import search_case  # noqa: E402

CONJECTURES = ["conjectures/puzzle/general/r2-at-most-half.toml",
               "conjectures/puzzle/general/r2-at-most-half-dim2.toml"]


def _time(fn, repeat):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{'conjecture':<34} {'method':<6} {'median s':>9}  result")
    for rel in CONJECTURES:
        conj = load(ROOT / rel, ROOT / "conjectures")
        problem = encode(conj.instance(), conj.claim, conj.assume)
        cases = cases_of(problem)

        def sos():
            out = []
            for atoms in cases:
                found = search_case(atoms, timeout=args.timeout)
                if "cert" not in found:
                    return f"no certificate: {found['reason'][:60]}"
                check_case(atoms, found["cert"])
                out.append(found["cert"])
            return f"exact certificate, {len(out)} case(s), checked"

        seconds, result = _time(sos, args.repeat)
        print(f"{conj.id:<34} {'sos':<6} {seconds:>9.2f}  {result}")
        seconds, out = _time(lambda: check(conj, timeout=args.timeout), args.repeat)
        print(f"{conj.id:<34} {'check':<6} {seconds:>9.2f}  {out.verdict}, trust {out.trust}, "
              f"kind {out.record.kind}")
        for name in ("z3", "cvc5"):
            if not solvers.available(name):
                continue
            seconds, r = _time(lambda: solvers.solve(name, problem.smtlib(), args.timeout),
                               args.repeat)
            print(f"{conj.id:<34} {name:<6} {seconds:>9.2f}  {r.result} "
                  f"{'(' + r.reason + ')' if r.reason else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
