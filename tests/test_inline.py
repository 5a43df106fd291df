"""In-process solver calls (prover/solvers/__init__.py, INLINE): a pipeline worker runs Z3
on linear problems, the first slice of a race's Z3 call on a nonlinear one, and the
linear certificate LP itself, every other call in a pooled child; a slow in-process call
moves to the pool, a check that overruns its timeout is interrupted, and the answers are
the ones the pool gives."""

from __future__ import annotations

import os
import signal
import threading
from fractions import Fraction
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
NONLINEAR_SAT = ("(set-logic QF_NRA)\n(declare-fun x () Real)\n(declare-fun y () Real)\n"
                 "(assert (= (* x y) 6.0))\n(assert (> x 1.0))\n(assert (> y x))\n"
                 "(assert (= (* x x) 2.0))\n(check-sat)\n")
# Z3 5.4 does not settle this within seconds (it answers unknown at its timeout)
NONLINEAR_HARD = ("(set-logic QF_NRA)\n" + "".join(f"(declare-fun {v} () Real)\n" for v in "abcd")
                  + "(assert (= (+ (* a a b) (* b b c) (* c c d) (* d d a)) 7.0))\n"
                  "(assert (= (* a b c d) 3.0))\n(assert (> (+ a b c d) 0.0))\n"
                  "(assert (= (+ (* a a a) (* b b b) (* c c c) (* d d d)) 5.0))\n(check-sat)\n")


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
    assert not solvers.inline_ok("z3", NONLINEAR_UNSAT)          # its whole timeout: pooled
    assert solvers.inline_ok("z3", NONLINEAR_UNSAT, sliced=True)  # a race's first slice
    assert not solvers.inline_ok("cvc5", LINEAR_UNSAT)
    assert not solvers.inline_ok("cvc5", NONLINEAR_UNSAT, sliced=True)
    assert not solvers.inline_ok("z3", "(declare-fun x () Real)\n(check-sat)\n", sliced=True)


def test_an_in_process_call_answers_as_the_pooled_one(monkeypatch, pooled):
    texts = [LINEAR_UNSAT, LINEAR_UNSAT.replace("(assert (< x 0))\n", "")]
    pooled_answers = [r.result for r in solvers.solve_many([("z3", t) for t in texts], 10)]
    assert pooled_answers == ["unsat", "sat"] and len(pooled) == 2
    monkeypatch.setattr(solvers, "INLINE", True)
    inline = solvers.solve_many([("z3", t) for t in texts], 10)
    assert [r.result for r in inline] == ["unsat", "sat"]
    assert inline[1].values == {"x": {"exact": "2"}}
    assert len(pooled) == 2                      # nothing more was sent to the pool
    assert len(solvers.solve_many([("z3", NONLINEAR_UNSAT)], 10)) == 1
    assert len(pooled) == 3 and pooled[-1][1][1] == NONLINEAR_UNSAT   # whole timeout: pooled
    p = solvers.Portfolio([("z3", NONLINEAR_UNSAT), ("z3", LINEAR_UNSAT)], 10)
    assert len(pooled) == 3                      # a race's slices are answered in-process
    assert [p.next()[1].result for _ in range(2)] == ["unsat", "unsat"]


def test_a_nonlinear_slice_answers_and_models_as_the_pooled_call(monkeypatch, pooled):
    """In-process, inside a conjecture's shared context that earlier linear calls used, a
    nonlinear race call gets a fresh context as a pooled child does: the same answer and
    the same model (the stored counterexample must not depend on where it ran)."""
    [from_pool] = solvers.solve_many([("z3", NONLINEAR_SAT)], 10)
    assert from_pool.result == "sat" and len(pooled) == 1
    assert from_pool.values["x"]["approx"].startswith("1.414213562373095048801688724209")
    monkeypatch.setattr(solvers, "INLINE", True)
    with solvers.shared_context():
        solvers.solve_many([("z3", LINEAR_UNSAT), ("z3", LINEAR_UNSAT.replace(
            "(assert (< x 0))\n", ""))], 10)
        p = solvers.Portfolio([("z3", NONLINEAR_SAT)], 10)
        assert p.next()[1] is p.results[0]
    assert len(pooled) == 1                      # nothing more was sent to the pool
    inline = p.results[0]
    assert (inline.result, inline.values) == (from_pool.result, from_pool.values)


def test_a_hard_nonlinear_slice_gives_the_worker_back_and_moves_to_the_pool(monkeypatch,
                                                                          pooled):
    """Real Z3 on a problem it does not settle: the in-process slice ends at about
    INLINE_SLICE (Z3's own timeout), and the call goes on in the pool with the rest of
    its timeout, where it can be cancelled."""
    monkeypatch.setattr(solvers, "INLINE", True)
    start = time.perf_counter()
    p = solvers.Portfolio([("z3", NONLINEAR_HARD)], 30)
    held = time.perf_counter() - start
    assert held < solvers.INLINE_SLICE + z3_backend.WATCH_GRACE + 2 * z3_backend.WATCH_PERIOD
    assert [(args[0], args[1]) for _, args, _ in pooled] == [("z3", NONLINEAR_HARD)]
    assert 28 < pooled[0][2] < 30
    p.cancel_all("not needed")
    assert p.results[0].result == "cancelled"


def test_an_in_process_call_cancelled_after_it_answered_keeps_its_answer(monkeypatch):
    monkeypatch.setattr(solvers, "INLINE", True)
    p = solvers.Portfolio([("z3", LINEAR_UNSAT)], 10)
    p.cancel(0, "not needed")
    assert p.results[0].result == "unsat" and p.pending() == []


@pytest.mark.parametrize("text", [LINEAR_UNSAT, NONLINEAR_UNSAT])
def test_a_race_call_not_answered_within_its_slice_moves_to_the_pool(monkeypatch, pooled,
                                                                     text):
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
    p = solvers.Portfolio([("z3", text)], 10)
    assert asked == [solvers.INLINE_SLICE]
    assert [(name, args[2]) for name, args, _ in pooled] == [("run", pooled[0][1][2])]
    assert 9.5 < pooled[0][2] < 10 - solvers.INLINE_SLICE + 0.01
    assert p.next()[1].result == "unsat"         # answered by the pooled call


def test_a_nonlinear_slice_that_fails_is_asked_again_in_the_pool(monkeypatch, pooled):
    """An error in a nonlinear slice (Z3 out of the worker's memory, say) is not the
    call's answer: the pool, under its own cap, is asked. A linear call's error is final,
    as it always was (it is the text's: the pool would give the same)."""
    monkeypatch.setattr(solvers, "INLINE", True)
    here, real = os.getpid(), solvers._run_backend

    def run(name, text, timeout):
        if os.getpid() == here:                   # in-process only; a pooled child solves
            raise MemoryError
        return real(name, text, timeout)

    monkeypatch.setattr(solvers, "_run_backend", run)
    p = solvers.Portfolio([("z3", NONLINEAR_UNSAT)], 10)
    assert len(pooled) == 1 and pooled[0][1][1] == NONLINEAR_UNSAT
    assert p.next()[1].result == "unsat"
    q = solvers.Portfolio([("z3", LINEAR_UNSAT)], 10)
    assert len(pooled) == 1
    assert q.next()[1].result == "unknown" and q.results[0].reason == "out of memory"


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
    """A record without its clock readings (how long, and when: ``created``) and without
    what the clock decides: whether a deferred racing call had started when the verdict
    settled (its cancellation then ends '(it was not started)'; on a loaded machine the
    pooled first call can outlast the deferral)."""
    if isinstance(x, dict):
        out = {k: _without_times(v) for k, v in x.items() if k not in ("seconds", "created")}
        if out.get("result") == "cancelled" and isinstance(out.get("reason"), str):
            out["reason"] = out["reason"].removesuffix(" (it was not started)")
        return out
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


# ------------------------------------------------------------- one Z3 context per conjecture

LINEAR_SAT = ("(set-logic QF_LRA)\n(declare-fun x () Real)\n(declare-fun y () Real)\n"
              "(assert (> (+ x y) 1))\n(assert (< x 3))\n(assert (> y (- x 2)))\n(check-sat)\n")


def test_calls_in_one_scope_share_a_context_and_outside_get_fresh_ones():
    import z3
    assert z3_backend._context(z3) is not z3_backend._context(z3)
    with solvers.shared_context():
        first = z3_backend._context(z3)
        assert z3_backend.run(LINEAR_UNSAT, 5)["result"] == "unsat"
        with solvers.shared_context():          # nested: still the same one
            assert z3_backend._context(z3) is first
        assert z3_backend._context(z3) is first
    assert z3_backend._SHARED.ctx is None       # dropped when the scope ends
    with solvers.shared_context():
        assert z3_backend._context(z3) is not first


def test_a_scope_answers_as_if_alone_whatever_ran_in_an_earlier_scope():
    """Each conjecture opens its own scope: its answers (here a model) depend only on its
    own calls, not on what the worker checked before."""
    def sequence():
        return [z3_backend.run(LINEAR_UNSAT, 5), z3_backend.run(LINEAR_SAT, 5)]

    with solvers.shared_context():
        alone = sequence()
    with solvers.shared_context():                # another conjecture, many calls
        for k in range(20):
            z3_backend.run(LINEAR_SAT.replace("1))", f"{k + 2}))"), 5)
    with solvers.shared_context():
        after = sequence()
    assert alone == after
    assert alone[1]["result"] == "sat"
    x, y = (Fraction(alone[1]["values"][v]["exact"]) for v in "xy")
    assert x + y > 1 and x < 3 and y > x - 2       # the model satisfies the problem


def test_a_context_left_unknown_or_interrupted_is_not_reused(monkeypatch):
    import z3
    with solvers.shared_context():
        ctx = z3_backend._context(z3)

        class Solver:
            def check(self):
                return z3.unknown

        z3_backend._check(Solver(), ctx, 1)
        assert z3_backend._context(z3) is not ctx     # a fresh one replaced it
        ctx = z3_backend._context(z3)
        monkeypatch.setattr(z3_backend._WATCHDOG, "unwatch", lambda token: True)

        class Finished:
            def check(self):
                return z3.sat

        z3_backend._check(Finished(), ctx, 1)         # the watchdog had interrupted it
        assert z3_backend._context(z3) is not ctx


def test_a_process_forked_inside_a_scope_does_not_share_it(monkeypatch):
    import z3
    with solvers.shared_context():
        mine = z3_backend._context(z3)
        monkeypatch.setattr(z3_backend.os, "getpid", lambda: -1)   # as in a forked child
        assert z3_backend._context(z3) is not mine
        assert z3_backend._context(z3) is not z3_backend._context(z3)
        monkeypatch.undo()
        assert z3_backend._context(z3) is mine


def test_a_conjecture_checked_after_others_gets_the_record_it_gets_alone(tmp_path,
                                                                        monkeypatch):
    """In a pipeline worker (INLINE) one worker checks conjecture after conjecture; the
    refuted one's counterexample and the valid one's certificate are those of a fresh
    process, so the store does not depend on the batch."""
    monkeypatch.setattr(solvers, "INLINE", True)
    refuted, valid = _conj(tmp_path, "h2 >= 2*rDZ"), _conj(tmp_path, "h2 <= 2*rDZ")
    others = [_conj(tmp_path, c, 2) for c in ("rDZ <= 1/2*rMZ", "h2 >= 3*(rMZ - rDZ)",
                                              "s2 >= 2*rDZ - rMZ")]

    def essentials(outcome):
        rec = outcome.record
        return (rec.verdict, rec.trust, repr(rec.proof), repr(rec.counterexample))

    alone = [essentials(check(c)) for c in (refuted, valid)]
    for c in others:
        check(c)
    assert [essentials(check(c)) for c in (refuted, valid)] == alone
    assert [a[0].value for a in alone] == ["refuted", "valid"]


def test_a_refutation_stores_no_vacuity_witness_however_early_the_vacuity_check_ends(
        tmp_path, monkeypatch):
    """A refuted record's counterexample is its witness that the hypotheses hold; a
    vacuity model beside it would be stored or not by timing alone (the check is deferred,
    then cancelled once the counterexample is found). Here the vacuity check starts at
    once and answers in-process before the counterexample: still no witness. A valid
    claim keeps its witness."""
    import prover.check as check_module
    monkeypatch.setattr(solvers, "INLINE", True)
    monkeypatch.setattr(check_module, "SECOND_OPINION_DELAY", 0.0)
    refuted = check(_conj(tmp_path, "h2 >= 2*(rMZ - rDZ)", max_order=2)).record
    vacuity = refuted.solvers[0]
    assert refuted.verdict.value == "refuted" and vacuity.role.startswith("vacuity")
    assert vacuity.result == "sat"                # it did answer, in time to be stored
    assert refuted.witness is None and refuted.vacuous is False
    valid = check(_conj(tmp_path, "h2 <= 2*rDZ")).record
    assert valid.verdict.value == "valid" and valid.witness is not None


def test_a_nonlinear_call_never_uses_the_scopes_shared_context(monkeypatch):
    """Within a conjecture's scope, a nonlinear call gets a fresh context, as in a pooled
    child: the model it stores must not depend on the conjecture's earlier linear calls
    (the test of the same answer and model above has only one model to find)."""
    import z3
    used = []
    real = z3.SolverFor

    def solver_for(logic, ctx=None):
        used.append((logic, ctx))
        return real(logic, ctx=ctx)

    monkeypatch.setattr(z3, "SolverFor", solver_for)
    with solvers.shared_context():
        assert z3_backend.run(LINEAR_UNSAT, 5)["result"] == "unsat"
        shared = z3_backend._SHARED.ctx
        assert z3_backend.run(NONLINEAR_SAT, 5)["result"] == "sat"
        assert z3_backend.run(LINEAR_UNSAT, 5)["result"] == "unsat"
    assert [logic for logic, _ in used] == ["QF_LRA", "QF_NRA", "QF_LRA"]
    assert used[0][1] is shared and used[2][1] is shared      # the linear ones share it
    assert used[1][1] is not shared


@pytest.mark.parametrize("stuck", ["hangs", "crashes"])
def test_a_slice_that_overruns_its_alarm_is_checked_again_with_every_call_pooled(
        tmp_path, monkeypatch, stuck):
    """In a pipeline worker a nonlinear slice arms SIGALRM for INLINE_SLICE + SLICE_GRACE:
    if Z3 is still in it then (as Z3 5.4 on a power 32 in a twins assumption, for
    seconds), the worker ends, and the pipeline checks the conjecture once more in a fresh
    worker with every nonlinear call in the pool. The record is the one a normal run
    gives (the pooled calls answer what the slices would). A crash in a slice (Z3's, say)
    is retried the same way: it costs a second check, not the answer."""
    from prover.pipeline import run_many
    conj = _conj(tmp_path, "s2 >= 4/3*rDZ - rMZ", max_order=2)
    [normal] = run_many([conj], jobs=1)
    log = tmp_path / "stuck"
    real = solvers._run_backend

    def run(name, text, timeout):
        if solvers.SLICES_NONLINEAR and "QF_NRA" in text:
            with open(log, "a") as fh:
                fh.write(f"{os.getpid()}\n")
            if stuck == "crashes":
                os.kill(os.getpid(), signal.SIGSEGV)
            time.sleep(60)                        # ignores its timeout
        return real(name, text, timeout)

    monkeypatch.setattr(solvers, "_run_backend", run)
    start = time.perf_counter()
    [again] = run_many([conj], jobs=1)
    assert time.perf_counter() - start < 20
    assert len(log.read_text().split()) == 1     # one slice stuck, then none in-process
    assert again.verdict.value == normal.verdict.value == "valid"
    assert again.record.trust == normal.record.trust
    assert again.record.proof == normal.record.proof
    assert [s.role for s in again.record.solvers] == [s.role for s in normal.record.solvers]
