"""In-process solver calls (prover/solvers/__init__.py, INLINE): a pipeline worker runs Z3
on linear problems and the linear certificate LP itself, every other call in a pooled
child; a slow in-process call moves to the pool, a check that overruns its timeout is
interrupted, and the answers are the ones the pool gives."""

from __future__ import annotations

import threading
import time

import pytest

from prover import solvers
from prover.certify import search_certificate
from prover.check import check
from prover.cli import main
from prover.conjecture import load
from prover.encode import encode
from prover.solvers import pool, z3_backend

LINEAR_UNSAT = ("(set-logic QF_LRA)\n(declare-fun x () Real)\n(assert (> x 1))\n"
                "(assert (< x 0))\n(check-sat)\n")
NONLINEAR_UNSAT = ("(set-logic QF_NRA)\n(declare-fun x () Real)\n(assert (< (* x x) 0))\n"
                   "(check-sat)\n")


def _conj(tmp_path, claim: str, max_order: int = 1):
    path = tmp_path / f"c{abs(hash(claim))}.toml"
    path.write_text(f'model = "twins"\nclaim = "{claim}"\n[params]\nmax_order = {max_order}\n')
    return load(path)


@pytest.fixture
def pooled(monkeypatch):
    """Records every call sent to the pool (and still sends it)."""
    sent = []
    real = solvers._Job

    def job(func, args, timeout):
        sent.append((func.__name__, args, timeout))
        return real(func, args, timeout)

    monkeypatch.setattr(solvers, "_Job", job)
    return sent


def test_only_z3_on_a_linear_problem_in_a_pipeline_worker_runs_in_process(monkeypatch):
    assert not solvers.INLINE                     # the default: a library caller's process
    assert not solvers.inline_ok("z3", LINEAR_UNSAT)
    monkeypatch.setattr(solvers, "INLINE", True)
    assert solvers.inline_ok("z3", LINEAR_UNSAT)
    assert not solvers.inline_ok("z3", NONLINEAR_UNSAT)
    assert not solvers.inline_ok("cvc5", LINEAR_UNSAT)
    assert not solvers.inline_ok("z3", "(declare-fun x () Real)\n(check-sat)\n")


def test_an_in_process_call_answers_as_the_pooled_one(monkeypatch, pooled):
    texts = [LINEAR_UNSAT, LINEAR_UNSAT.replace("(assert (< x 0))\n", "")]
    pooled_answers = [r.result for r in solvers.solve_many([("z3", t) for t in texts], 10)]
    assert pooled_answers == ["unsat", "sat"] and len(pooled) == 2
    monkeypatch.setattr(solvers, "INLINE", True)
    inline = solvers.solve_many([("z3", t) for t in texts], 10)
    assert [r.result for r in inline] == ["unsat", "sat"]
    assert inline[1].values == {"x": {"exact": "2"}}
    assert len(pooled) == 2                      # nothing more was sent to the pool
    p = solvers.Portfolio([("z3", NONLINEAR_UNSAT), ("z3", LINEAR_UNSAT)], 10)
    assert len(pooled) == 3 and pooled[-1][1][1] == NONLINEAR_UNSAT
    assert p.next() == (1, p.results[1])         # the in-process answer comes first
    assert p.results[1].result == "unsat"
    assert p.next()[1].result == "unsat"


def test_an_in_process_call_cancelled_after_it_answered_keeps_its_answer(monkeypatch):
    monkeypatch.setattr(solvers, "INLINE", True)
    p = solvers.Portfolio([("z3", LINEAR_UNSAT)], 10)
    p.cancel(0, "not needed")
    assert p.results[0].result == "unsat" and p.pending() == []


def test_a_race_call_not_answered_within_its_slice_moves_to_the_pool(monkeypatch, pooled):
    """The primary of a race runs in-process for INLINE_SLICE seconds at most; unanswered
    by then, it is sent to the pool with what is left of its timeout, so that the
    deferred solvers can join it there."""
    monkeypatch.setattr(solvers, "INLINE", True)
    asked = []

    def run(name, text, timeout):
        asked.append(timeout)
        if len(asked) == 1:                       # the in-process attempt
            time.sleep(timeout)
            return {"result": "unknown", "reason": "timeout", "seconds": timeout}
        return {"result": "unsat", "seconds": 0.0}

    monkeypatch.setattr(solvers, "_run_backend", run)
    p = solvers.Portfolio([("z3", LINEAR_UNSAT)], 10)
    assert asked == [solvers.INLINE_SLICE]
    assert [(name, args[2]) for name, args, _ in pooled] == [("run", pooled[0][1][2])]
    assert 9.5 < pooled[0][2] < 10 - solvers.INLINE_SLICE + 0.01
    assert p.next()[1].result == "unsat"         # answered by the pooled call


def test_a_call_given_its_whole_timeout_in_process_stays_there(monkeypatch, pooled):
    """Outside a race (solve_many) an in-process call has its whole timeout: an unknown
    answer is final, as it would be from the pool."""
    monkeypatch.setattr(solvers, "INLINE", True)
    monkeypatch.setattr(solvers, "_run_backend",
                        lambda name, text, timeout: {"result": "unknown", "reason": "timeout"})
    [r] = solvers.solve_many([("z3", LINEAR_UNSAT)], 0.05)
    assert (r.result, r.reason) == ("unknown", "timeout") and pooled == []


def test_an_in_process_error_is_reported_like_a_pooled_one(monkeypatch):
    monkeypatch.setattr(solvers, "INLINE", True)
    [r] = solvers.solve_many([("z3", "(set-logic QF_LRA)\n(assert (> y 1))\n")], 5)
    assert r.result == "unknown" and r.reason.startswith("Z3Exception")


def test_the_watchdog_interrupts_a_check_that_overruns_its_timeout():
    interrupted = threading.Event()

    class Context:
        def interrupt(self):
            interrupted.set()

    class Solver:
        def check(self):                          # ignores its timeout until interrupted
            assert interrupted.wait(10)
            return "unknown"

    start = time.monotonic()
    assert z3_backend._check(Solver(), Context(), 0.05) == "unknown"
    assert interrupted.is_set() and time.monotonic() - start < 5


def test_a_check_that_ends_in_time_is_not_interrupted():
    class Context:
        def interrupt(self):
            raise AssertionError("interrupted after it ended")

    class Solver:
        def check(self):
            return "sat"

    assert z3_backend._check(Solver(), Context(), 0.01) == "sat"
    time.sleep(z3_backend.WATCH_GRACE + 2 * z3_backend.WATCH_PERIOD)
    assert z3_backend._WATCHDOG.watched == {}


def test_the_linear_certificate_lp_runs_in_process(tmp_path, monkeypatch):
    conj = _conj(tmp_path, "h2 <= 2*rDZ")
    problem = encode(conj.instance(), conj.claim, conj.assume)
    assert problem.is_linear()
    pooled = search_certificate(problem, 10)[0]
    monkeypatch.setattr(solvers, "INLINE", True)

    def refuse(*args):
        raise AssertionError("sent to the pool")

    monkeypatch.setattr(solvers, "run_isolated", refuse)
    assert search_certificate(problem, 10)[0] == pooled
    assert pooled["kind"] == "farkas"


def test_a_nonlinear_problem_s_lps_run_in_process_and_its_sos_step_in_the_pool(
        tmp_path, monkeypatch):
    conj = _conj(tmp_path, "s2 >= 1/3*rDZ - rMZ", max_order=2)
    problem = encode(conj.instance(), conj.claim, conj.assume)
    assert not problem.is_linear()
    pooled = search_certificate(problem, 20)[0]
    assert pooled is not None and pooled["kind"] == "polya"   # products of 2 hypotheses
    monkeypatch.setattr(solvers, "INLINE", True)
    sent = []

    def record(func, args, timeout):
        sent.append(func.__name__)
        return "ok", {"reason": "the SDP found nothing"}

    monkeypatch.setattr(solvers, "run_isolated", record)
    assert search_certificate(problem, 20)[0] == pooled and sent == []
    from prover.certify import _sos_step
    assert _sos_step([], time.monotonic() + 20, 20) == "the SDP found nothing"
    assert sent == ["search_case"]


def _without_times(x):
    """A record without its clock readings (how long, and when: ``created``)."""
    if isinstance(x, dict):
        return {k: _without_times(v) for k, v in x.items() if k not in ("seconds", "created")}
    if isinstance(x, list):
        return [_without_times(v) for v in x]
    return x


@pytest.mark.parametrize("claim", ["h2 <= 2*rDZ", "rMZ >= rDZ", "h2 <= rDZ",
                                   "h2 >= 2*(rMZ - rDZ)"])
def test_in_process_and_pooled_checks_give_the_same_record(tmp_path, monkeypatch, claim):
    """Valid and refuted claims: verdict, proof, counterexample and every solver entry
    are the same whether the calls ran in-process or in pooled children."""
    conj = _conj(tmp_path, claim)
    pooled = check(conj)
    monkeypatch.setattr(solvers, "INLINE", True)
    inline = check(conj)
    assert (inline.verdict, inline.trust) == (pooled.verdict, pooled.trust)
    assert _without_times(inline.certificate) == _without_times(pooled.certificate)


def test_a_batch_of_linear_conjectures_forks_no_solver_process(tmp_path, monkeypatch,
                                                              capsys):
    """The pipeline's workers set INLINE: twins conjectures at max_order 1 (linear), valid
    and refuted, are checked without one pooled solver child. An additive model with no
    shared environment has rDZ = h2/2 < h2, and dominance d > 0 puts Falconer's
    2(rMZ - rDZ) = a + 3d/2 above h2 = a + d: those two claims are false."""
    import json

    (tmp_path / "conjectures").mkdir()
    claims = {"a": "h2 <= 2*rDZ", "b": "h2 <= rDZ", "c": "h2 >= 0",
              "d": "h2 >= 2*(rMZ - rDZ)"}
    for name, claim in claims.items():
        (tmp_path / "conjectures" / f"{name}.toml").write_text(
            f'model = "twins"\nclaim = "{claim}"\n[params]\nmax_order = 1\n')
    monkeypatch.chdir(tmp_path)
    marks = tmp_path / "forked"
    real = pool.Worker.__init__

    def marking(self, *args, **kwargs):
        with open(marks, "a") as f:               # written by the pipeline worker
            f.write("pool worker\n")
        real(self, *args, **kwargs)

    monkeypatch.setattr(pool.Worker, "__init__", marking)
    main(["check", "--json", "--jobs", "2"])
    verdicts = {r["id"]: r["verdict"] for r in json.loads(capsys.readouterr().out)["results"]}
    assert verdicts == {"a": "valid", "b": "refuted", "c": "valid", "d": "refuted"}
    assert not marks.exists()
