"""Test selection. The README's test command runs ``-m "not slow"``: everything but the
few tests that compile large Coq batches (the bundled store's, the export suite's), start
a dask cluster or a browser, or check a batch through subprocesses. Kernel tests are in
it: Coq compiles the claim-as-written proofs of a Farkas, a Pólya and two
sum-of-squares certificates (about 4 s). ``.ci/run`` runs the rest too (``-m slow``), so
CI covers every test.

A test is slow when it uses one of its file's slow fixtures or is named below; the rule
lives here, in one place, rather than as scattered decorators."""

from __future__ import annotations

import os

# as the command line does (prover/cli.py): one BLAS thread per process, since the
# tests run on ``-n 2`` xdist workers and check in pooled worker processes
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402

SLOW_FIXTURES = {
    "test_export.py": {"checked", "coq", "coqc_runs"},   # a check batch, then coqc on it
    "test_scale.py": {"cluster"},                         # a dask LocalCluster
}
SLOW_TESTS = {
    "test_bundled.py": {"test_committed_kernel_proofs_compile"},      # verify --kernel
    "test_frontier.py": {"test_emitted_conjectures_check_as_expected"},
    "test_site.py": {"test_browser_loads_index_with_every_row",        # chromium
                     "test_browser_applies_filter_from_url_hash",
                     "test_browser_applies_filter_from_query_and_search",
                     "test_browser_runs_no_injected_script"},
}


def pytest_configure(config):
    """With ``-n`` and no ``--dist`` given, xdist's 'load' becomes 'worksteal': an idle
    worker takes queued tests from the busy one, so the slowest tests do not finish alone
    at the end (about 3 s of the README's test command)."""
    if getattr(config.option, "dist", None) == "load" and \
            not any(a.startswith("--dist") or a == "-d" for a in config.invocation_params.args):
        config.option.dist = "worksteal"


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.path.name
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SLOW_FIXTURES.get(name, set()) or \
                item.originalname in SLOW_TESTS.get(name, set()):
            item.add_marker(pytest.mark.slow)


# tests that patch prover (or test the pool itself) get workers forked after their patches
FRESH_POOL_FILES = {"test_pool.py", "test_fuzz.py"}


@pytest.fixture(autouse=True)
def _fresh_solver_workers(request):
    """Pooled solver workers are forked lazily and reused. A test that patches prover
    (it uses ``monkeypatch``, or its file is named in FRESH_POOL_FILES) starts and ends
    with none, so the workers it uses are forked after its own patches and no later test
    inherits them; other tests share the workers, as a batch in production does."""
    from prover.solvers import pool

    fresh = "monkeypatch" in request.fixturenames or \
        request.node.path.name in FRESH_POOL_FILES
    if fresh:
        pool.shutdown()
    yield
    if fresh:
        pool.shutdown()
