"""The environment prover's processes run in, set before numpy is first imported."""

import os

# One BLAS thread per process unless the user says otherwise: prover's matrices are small,
# and parallelism comes from --jobs (each worker a process) and the solver pool. Threaded
# BLAS in every worker oversubscribed the cores: on 2 cores, 50 twins conjectures took
# 6.5 s (--jobs 1) and 5.1 s (--jobs 2) with it, 5.3 s and 3.5 s without
# (bench/bench_throughput.py). Set before numpy is first imported (it is imported lazily):
# by the command line, and by the zygote, which imports numpy before it.
# RAYON_NUM_THREADS: Clarabel's Rust thread pool, which deadlocks a process forked after
# it started (``quartic_ratio.one_thread``).
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "RAYON_NUM_THREADS")


def one_thread() -> None:
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
