"""Benchmark and evidence (issue 14 item 2): Gaussian P over all of L²(γ), dimension 1 —
the threshold s1 below which Cov(F(X), F(Z)) = 0 (so r2 = 0) is attainable, certified
from both sides, and floors on r2 above it. Reprints every number of docs/frontiers.md,
"The limit".

For each row it times the float search (numpy; untrusted) against the exact check
(rational LDL^T and tail bounds, prover.gaussian_l2) in the same run: the baseline is the
unchecked float answer; the certificate costs what the exact check costs on top of it.

    python bench/bench_gaussian_l2.py [--head 80] [--witness-degree 61]
"""

from __future__ import annotations

import argparse
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover import gaussian_l2 as L2  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--head", type=int, default=80, help="head degree of the certificates")
    ap.add_argument("--witness-degree", type=int, default=61)
    ap.add_argument("--dim2-head", type=int, default=21,
                    help="head degree of the dimension-2 certificate (0: skip)")
    ap.add_argument("--dim3-head", type=int, default=0,
                    help="head degree of a dimension-3 certificate at s2 >= 9/10 (0: skip; "
                         "12 takes about 80 s)")
    args = ap.parse_args()

    print("threshold of each degree (float, S-lemma bisection):")
    for d in (3, 5, 7, 9, 11, 15, 21, 41, args.witness_degree):
        t = time.perf_counter()
        s = L2.threshold(d)
        print(f"  d = {d:3}: s1(d) = {s:.7f}   ({time.perf_counter() - t:.2f} s)")

    t = time.perf_counter()
    beta, beta_t = L2.tail_bounds(args.head)
    print(f"\ntail bounds, head degree {args.head}: beta = {float(beta):.3g}, "
          f"beta_T = {float(beta_t):.3g} ({time.perf_counter() - t:.2f} s)")

    t = time.perf_counter()
    upper = L2.threshold(args.head, certified=True)
    sigma = Fraction(int(upper * 10 ** 7) + 1, 10 ** 7)
    rows = [sigma] + [Fraction(x) for x in ("1/8", "1/4", "1/2", "3/4", "9/10", "99/100")]
    print(f"  (certifiable from s2 = {upper:.7f} on; {time.perf_counter() - t:.2f} s)")
    print("\ncertificates: every F in L2(gamma) with s2 >= sigma has Cov >= kappa Var F(X)")
    print(f"  {'sigma':>14} {'kappa':>10} {'r2 >=':>10} {'search s':>9} {'check s':>8}")
    for s in rows:
        t0 = time.perf_counter()
        cert = L2.search_bound(s, args.head)
        t1 = time.perf_counter()
        L2.check_bound(cert)
        t2 = time.perf_counter()
        kappa = Fraction(cert["kappa"])
        floor = L2.r2_floor(s, kappa) if kappa else 0.0
        print(f"  {str(s):>14} {float(kappa):10.4g} {floor:10.3g} {t1 - t0:9.2f} "
              f"{t2 - t1:8.2f}")

    d = args.witness_degree
    target = L2.threshold(d) - 1e-7
    t0 = time.perf_counter()
    a = L2.search_zero_witness(target, d)
    t1 = time.perf_counter()
    s2 = L2.check_zero_witness(a)
    t2 = time.perf_counter()
    print(f"\nwitness of degree {d}: C/V = {float(L2.covariance(a) / L2.variance(a)):.3g} "
          f"at s2 = {float(s2):.7f} (search {t1 - t0:.2f} s, exact check {t2 - t1:.2f} s)")
    print(f"so s1 lies in [{float(s2):.7f}, {float(sigma):.7f}]")

    if args.dim2_head:
        d2 = args.dim2_head
        print(f"\ndimension 2, head degree {d2}:")
        t0 = time.perf_counter()
        th = L2.threshold_nd(2, d2)
        a = L2.search_zero_witness_nd(th - 1e-6, 2, d2)
        s2, below = L2.check_zero_witness_nd(a)
        print(f"  witness: Cov < 0 at s2 = {float(s2):.6f} (degree {d2}; "
              f"{time.perf_counter() - t0:.1f} s)")
        for s in (Fraction(3, 10), Fraction(1, 2)):
            t0 = time.perf_counter()
            cert = L2.search_bound_nd(s, 2, d2)
            t1 = time.perf_counter()
            L2.check_bound_nd(cert)
            print(f"  certificate: Cov >= {float(Fraction(cert['kappa'])):.4g} Var F(X) for "
                  f"every F with s2 >= {s} (search {t1 - t0:.1f} s, exact check "
                  f"{time.perf_counter() - t1:.1f} s)")
        print(f"  so s1(2) lies in [{float(s2):.5f}, 0.3]")

    if args.dim3_head:
        t0 = time.perf_counter()
        cert = L2.search_bound_nd(Fraction(9, 10), 3, args.dim3_head)
        t1 = time.perf_counter()
        L2.check_bound_nd(cert)
        print(f"\ndimension 3, head degree {args.dim3_head}: Cov >= "
              f"{float(Fraction(cert['kappa'])):.4g} Var F(X) for every F with s2 >= 9/10 "
              f"(search {t1 - t0:.1f} s, exact check {time.perf_counter() - t1:.1f} s)")

    print("\nany dimension (product_family, degree 3): least dimension with Cov <= 0 at s2")
    for s in ("1/2", "3/4", "9/10", "99/100"):
        print(f"  s2 = {s:>6}: dimension {L2.dimension_for_zero(Fraction(s))}")


if __name__ == "__main__":
    main()
