"""Benchmark (issue 14 item 5): certifying the lower frontier m_d(s2) of r2 for Gaussian P,
against raw Z3 on the direct encoding of the same claim, measured in the same run.

For each degree d, at s2 = S (default 1/2):
  bound     the larger best bound of the two certificate forms, found numerically — the
            S-lemma form (prover/quadratic_ratio.py) and the quartic sum of squares
            (prover/quartic_ratio.py): the certified lower frontier, up to rounding
  form      which of the two gives it (s-lemma | quartic)
  claim     r2 >= 0.99 * bound, assuming s2 == S, as a conjecture over the concrete family
  certify   the model's certificate search plus the exact replay by prover.checker
  z3        the raw z3 binary-equivalent (`z3` Python API via prover.solvers) on the
            negated claim's SMT-LIB text of the concrete family (Problem.smtlib()):
            an unsat answer would be a proof resting on Z3, not a certificate

    python bench/bench_gaussian_lower.py [--s2 1/2] [--degrees 3-10] [--timeout 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover import solvers  # noqa: E402
from prover.checker import check_proof  # noqa: E402
from prover.conjecture import load  # noqa: E402
from prover.models import gaussian as G  # noqa: E402
from prover import quartic_ratio  # noqa: E402
from prover.quadratic_ratio import _Numeric  # noqa: E402


def best_bound(degree: int, s2: Fraction) -> tuple[float, str]:
    forms = G.lower_bound_forms(1, degree)
    mu = _Numeric(forms, s2, s2, True).best()[0]
    s_lemma = 4 * mu * mu if mu > 0 else 0.0
    quartic = quartic_ratio.best_bound(forms, s2, s2, True) or 0.0
    return (quartic, "quartic") if quartic > s_lemma * (1 + 1e-6) else (s_lemma, "s-lemma")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--s2", default="1/2")
    ap.add_argument("--degrees", default="3-10")
    ap.add_argument("--timeout", type=float, default=20.0)
    args = ap.parse_args(argv)
    s2 = Fraction(args.s2)
    lo, hi = (int(x) for x in args.degrees.split("-"))
    print(f"lower frontier of r2 at s2 = {s2} (dim 1): certificate vs raw Z3, same run")
    print(f"{'d':>3} {'bound':>9} {'form':>8} {'claim':>9} {'certify s':>10} {'result':>8} "
          f"{'z3 s':>8} {'z3':>8}")
    quartic_ratio.one_thread()
    with tempfile.TemporaryDirectory() as tmp:
        for d in range(lo, hi + 1):
            bound, form = best_bound(d, s2)
            m = Fraction(round(bound * 0.99, 6)).limit_denominator(10 ** 6)
            path = Path(tmp) / f"d{d}.toml"
            path.write_text(f'model = "gaussian"\nclaim = "r2 >= {m}"\n'
                            f'assume = ["s2 == {s2}"]\n[params]\ndegree = {d}\n')
            conj = load(path)
            inst = conj.instance()
            problem = conj.proof_problem("concrete")
            t0 = time.perf_counter()
            proof, why = inst.model.concrete_certificate(inst.params, problem)
            result = "checked" if proof and check_proof(problem, proof) else "none"
            cert_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            r = solvers.solve("z3", problem.smtlib(), args.timeout)
            z3_s = time.perf_counter() - t0
            print(f"{d:>3} {bound:>9.5f} {form:>8} {float(m):>9.5f} {cert_s:>10.2f} {result:>8} "
                  f"{z3_s:>8.2f} {r.result:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
