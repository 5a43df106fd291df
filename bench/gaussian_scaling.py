"""How deciding r2 <= (1 + s2)/4 in the `gaussian` model scales with the degree of F.

For degree 2..8 in dim 1 and 2..4 in dim 2, prints one row: the full prover pipeline
(`prover.check.check`, relaxation in aggregate variables, both solvers, certificate search)
and raw Z3 on the direct coefficient encoding (variables = F's Hermite coefficients, with
V, W1, C, Q tied to them by exact-moment equalities; r2 and s2 exact ratios: the model's
concrete family, negated claim, no search constraints), each with the same per-run time limit. Raw Z3 runs in its
own subprocess, killed at the limit.

    python bench/gaussian_scaling.py [LIMIT_SECONDS]     (default 60)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prover import expr as E                      # noqa: E402
from prover.check import check                    # noqa: E402
from prover.conjecture import load                # noqa: E402
from prover.encode import encode                  # noqa: E402
from prover.models import gaussian                # noqa: E402

CLAIM = "r2 <= (1 + s2)/4"
CASES = [(d, 1) for d in range(2, 9)] + [(d, 2) for d in range(2, 5)]

RAW_Z3 = r"""
import sys, z3
text = open(sys.argv[1]).read()
s = z3.SolverFor("QF_NRA")
s.from_string(text)
print(s.check())
"""


def prover_run(degree: int, dim: int, limit: float, workdir: Path) -> tuple[float, str]:
    path = workdir / f"gaussian-d{degree}-n{dim}.toml"
    path.write_text(f'model = "gaussian"\nclaim = "{CLAIM}"\n'
                    f"[params]\ndegree = {degree}\ndim = {dim}\n")
    start = time.perf_counter()
    outcome = check(load(path), timeout=limit)
    return time.perf_counter() - start, outcome.verdict


def raw_z3_run(degree: int, dim: int, limit: float, workdir: Path) -> tuple[float, str]:
    # V, W1, C, Q as positive auxiliaries tied by equalities: the stronger of the two
    # direct encodings for Z3 (expanded ratios time out already at degree 4)
    concrete = gaussian.MODEL.build_concrete({"degree": degree, "dim": dim}, expand=False)
    problem = encode(concrete, E.parse_formula(CLAIM), [])
    path = workdir / f"raw-d{degree}-n{dim}.smt2"
    path.write_text(problem.smtlib())
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", RAW_Z3, str(path)], capture_output=True,
                              text=True, timeout=limit)   # kills the child at the limit
        answer = done.stdout.strip() or f"error: {done.stderr.strip()[-200:]}"
    except subprocess.TimeoutExpired:
        answer = "timeout"
    seconds = time.perf_counter() - start
    verdict = {"unsat": "valid", "sat": "refuted?"}.get(answer, answer)
    return seconds, verdict


def main(argv: list[str]) -> int:
    limit = float(argv[1]) if len(argv) > 1 else 60.0
    print(f"claim: {CLAIM}   per-run limit: {limit:g} s")
    header = f"{'degree':>6}  {'dim':>3}  {'prover s':>9}  {'prover':>8}  {'raw z3 s':>9}  {'raw z3':>8}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for degree, dim in CASES:
            p_sec, p_verdict = prover_run(degree, dim, limit, workdir)
            r_sec, r_verdict = raw_z3_run(degree, dim, limit, workdir)
            print(f"{degree:>6}  {dim:>3}  {p_sec:>9.2f}  {p_verdict:>8}  {r_sec:>9.2f}  "
                  f"{r_verdict:>8}", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main(sys.argv))
