"""Benchmark (issue 11): time to a decisive verdict for claims false by 10^-1 ... 10^-4.

For each model a claim at a known-attained boundary, shifted by eps, is checked; the
table gives prover's verdict, total time, the confirmation method, the violation found
(and the largest possible, known by hand), beside raw Z3 on the direct encoding (the
negated claim's SMT-LIB, whose sat only says a candidate exists, with no exact point or
confirmation). Then the portfolio case `sqrt(h2) <= sqrt(rMZ)` (was 63 s: waited for
cvc5's timeout).

    python bench/bench_decisive.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover import solvers  # noqa: E402
from prover.check import check  # noqa: E402
from prover.conjecture import load  # noqa: E402
from prover.encode import encode  # noqa: E402

EPSILONS = ("0.1", "0.01", "0.001", "0.0001")
# (model, claim with {eps}, assumptions, largest violation as a function of eps)
FAMILIES = (
    ("twins", "h2 >= 4*rDZ - rMZ + {eps}", (), lambda e: e),
    ("twins", "s2 >= 4*0.45 - 1 + {eps}", ("rDZ >= 0.45*rMZ",), lambda e: e),
    ("multilinear", "r2 >= s2/2 + {eps}", (), lambda e: e),
    ("general", "r2 <= 1/2 - {eps}", (), lambda e: e),
)


def _write(directory: Path, k: int, model: str, claim: str, assume) -> Path:
    text = f'model = "{model}"\nclaim = "{claim}"\n'
    if assume:
        text += "assume = [" + ", ".join(f'"{a}"' for a in assume) + "]\n"
    path = directory / f"c{k}.toml"
    path.write_text(text)
    return path


def main() -> int:
    solvers.preload()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        k = 0
        for model, template, assume, largest in FAMILIES:
            for eps in EPSILONS:
                k += 1
                claim = template.format(eps=eps)
                conj = load(_write(Path(tmp), k, model, claim, assume))
                problem = encode(conj.instance(), conj.claim, conj.assume)
                t0 = time.perf_counter()
                raw = solvers.solve("z3", problem.smtlib(), 60)
                raw_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                out = check(conj)
                seconds = time.perf_counter() - t0
                ce = out.certificate.get("counterexample") or {}
                method = (ce.get("numeric_check") or {}).get("method", "-")
                violation = ce.get("violation")
                best = largest(Fraction(eps))
                share = (f"{float(Fraction(violation) / best):.0%}"
                         if violation is not None and out.verdict == "refuted" else "-")
                rows.append((model, claim + (f"  [{', '.join(assume)}]" if assume else ""),
                             out.verdict, f"{seconds:.2f}", method.split(" of ")[0],
                             f"{float(Fraction(violation)):.3g}" if violation else "-",
                             share, f"{raw.result} {raw_s:.2f}"))
        conj = load(_write(Path(tmp), 0, "twins", "sqrt(h2) <= sqrt(rMZ)", ()))
        t0 = time.perf_counter()
        out = check(conj)
        seconds = time.perf_counter() - t0
        said = ", ".join(f"{e['name']} {e['result']}" for e in out.certificate["solvers"]
                         if e["role"] == "negated claim")
    header = ("model", "claim", "verdict", "s", "confirmation", "violation",
              "of largest", "raw z3 (s)")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    for r in [header] + rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))
    print(f"\nsqrt(h2) <= sqrt(rMZ): {out.verdict} ({out.trust}) in {seconds:.2f} s; {said}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
