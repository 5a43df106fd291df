"""Checking one conjecture: encode, solve, then prove or refute with evidence.

unsat -> ``valid``, with the strongest evidence we can produce (an exact certificate
checked by ``prover.checker``; otherwise the agreement of Z3 and cvc5).
sat -> a candidate counterexample: made exact (rational), re-checked on the claim's own
expression tree, then realized as a concrete object whose statistics are recomputed from
their definitions; only a confirmed violation is ``refuted``.
Anything else -> ``unknown`` with the reason.

This module runs the phases under the conjecture's budget and builds the outcome; the
counterexample search is in ``counterexample`` and ``maximize``, its confirmation from
definitions in ``confirm``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ._version import __version__
from . import expr as E
from . import models, solvers
from .confirm import confirm, counterexample_record
from .conjecture import Conjecture
from .counterexample import find_counterexample, hypotheses_witness
from .encode import Problem, encode
from .errors import ProverError
from .maximize import maximize_violation
from .record import (Certificate, CoqRecord, Counterexample, Draft, Kind, ModelRef, Proof,
                     SolverCall, SolverResult, Trust, Verdict, freeze)

DEFAULT_TIMEOUT = 60.0


@dataclass
class Outcome:
    """One conjecture's result: its certificate record and how the run went."""
    conjecture: Conjecture
    record: Certificate
    warnings: list[str] = field(default_factory=list)
    solver_seconds: float = 0.0
    confirm_seconds: float = 0.0
    certify_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def verdict(self) -> Verdict:
        return self.record.verdict

    @property
    def trust(self) -> Trust | None:
        return self.record.trust

    @property
    def certificate(self) -> dict:
        """The record as its JSON document (what the store writes)."""
        return self.record.to_json()


def _solver_entry(r: solvers.SolverResult, role: str) -> SolverCall:
    return SolverCall(r.solver, r.version, SolverResult(r.result), round(r.seconds, 3), role,
                      r.reason or None)


def new_draft(conj: Conjecture, problem: Problem) -> Draft:
    """The certificate of a conjecture before any evidence: ``unknown``."""
    return Draft(
        id=conj.id, title=conj.title, source=conj.source,
        conjecture_sha256=conj.sha256(), encoding_sha256=problem.sha256(),
        model=ModelRef(conj.model, freeze(conj.params)), claim=E.to_text(conj.claim),
        assume=tuple(E.to_text(a) for a in conj.assume),
        expect=None if conj.expect is None else Verdict(conj.expect),
        prover_version=__version__,
        created=datetime.now(timezone.utc).replace(microsecond=0).isoformat())


PHASE_HOOK = None     # set by a pipeline worker: called with each phase's index in PHASES
PHASES = ("start", "encoding", "the solvers", "the certificate search",
          "the certificate search on the concrete family", "the Coq kernel check",
          "the counterexample search", "the confirmation of the counterexample")


def _phase(name: str) -> None:
    if PHASE_HOOK is not None:
        PHASE_HOOK(PHASES.index(name))


def _left(deadline: float) -> float:
    """What is left of the conjecture's budget (at least a moment, so that a phase that
    is reached still runs and says why it stopped)."""
    return max(0.5, deadline - time.perf_counter())


SECOND_OPINION_DELAY = 0.1   # seconds before the other solvers join the primary


def preload(model_names) -> None:
    """Import what checking (or verifying) for the models ``model_names`` will import
    lazily (each model's realizers), so that worker processes forked afterwards share it
    instead of importing it again (imports are a third of a first conjecture's time in a
    fresh worker)."""
    import importlib
    for module in ("prover.certify", "prover.checker", "prover.numsearch"):
        importlib.import_module(module)
    for name in sorted(set(model_names)):
        for module in models.get(name).lazy_modules:
            importlib.import_module(module)


def budget(conj: Conjecture, timeout: float | None = None) -> float:
    """A conjecture's whole budget in seconds: ``timeout`` (--timeout), else its file's,
    else DEFAULT_TIMEOUT. The one place it is resolved (the pipeline asks here too)."""
    return float(timeout or conj.timeout or DEFAULT_TIMEOUT)


def check(conj: Conjecture, *, timeout: float | None = None, seed: int = 20261127,
          use_solvers: tuple[str, ...] = ("z3", "cvc5"), certify: bool = True,
          kernel: bool = False) -> Outcome:
    """Check one conjecture. ``kernel``: also have Coq's kernel check an exported proof
    of every certificate found (trust ``kernel``; needs ``coqc``). The Z3 calls made in
    this process share one context for the conjecture (``solvers.shared_context``)."""
    with solvers.shared_context():
        return _check_one(conj, timeout=timeout, seed=seed, use_solvers=use_solvers,
                          certify=certify, kernel=kernel)


def _check_one(conj: Conjecture, *, timeout, seed, use_solvers, certify,
               kernel) -> Outcome:
    start = time.perf_counter()
    timeout = budget(conj, timeout)
    deadline = start + timeout          # the whole conjecture's budget, shared by phases
    _phase("encoding")
    instance = conj.instance()
    problem = encode(instance, conj.claim, conj.assume)
    cert = new_draft(conj, problem)
    out = Outcome(conj, None)           # its record is the draft, frozen at the end
    primary = use_solvers[0]
    _phase("the solvers")

    # one child each: the vacuity check (are the model's constraints plus the assumptions
    # satisfiable at all?) and every solver on the negated claim. The first answer is
    # acted on at once (a certificate searched for an unsat, a counterexample for a sat);
    # once it is backed by evidence that needs no solver's word, the solvers still
    # running cannot change the verdict and are cancelled. The primary on the negated
    # claim starts alone: the other solvers join it only if it has not settled the
    # verdict within SECOND_OPINION_DELAY (or answered without settling it), the vacuity
    # check then too, or as soon as the primary answers unsat (a refutation makes it
    # moot: a counterexample satisfies the hypotheses). Most claims are settled in
    # milliseconds, and a batch's other conjectures need the cores
    negated = problem.smtlib()
    calls = [(primary, problem.smtlib(negated=False))] + [(n, negated) for n in use_solvers]
    portfolio = solvers.Portfolio(calls, timeout, deferred={
        k: SECOND_OPINION_DELAY for k in range(len(calls)) if k != 1})
    claim_calls = set(range(1, len(calls)))
    settled = ""              # what settled the verdict: 'certificate' | 'counterexample'
    #                           | 'concrete certificate' (over the concrete family)
    concrete_failure = None   # None: no certificate tried on the concrete family
    certify_failure = None    # None: not tried; '' found; else why not
    refuted_tried = False
    while not settled:
        finished = portfolio.next(claim_calls)
        if finished is None:
            break
        _, r = finished
        if r.result == "unsat":
            portfolio.start(0)          # a valid verdict needs the vacuity check
        if r.result == "unsat" and certify_failure is None and certify:
            certify_failure = _certify(problem, cert, out, _left(deadline))
            if not certify_failure:
                settled = "certificate"
        elif r.result == "sat" and not refuted_tried:
            refuted_tried = True
            if certify and instance.concrete is not None:
                # a sat answer on a relaxation may be no real F: first ask the model for
                # a certificate on its exact concrete family (cheap), then search
                concrete_failure = _certify_concrete(conj, instance, cert, out,
                                                     _left(deadline))
                if not concrete_failure:
                    settled = "concrete certificate"
                    continue
            def found():
                # an exact counterexample is in hand (it satisfies every hypothesis and
                # violates the claim in exact arithmetic): while it is maximized and
                # confirmed, the solvers still running only burn cores (2-3 s each on
                # three bundled refutations); their answers could not make it valid
                for k in sorted(claim_calls & set(portfolio.pending())):
                    portfolio.cancel(k, "not needed: an exact counterexample was found")
                portfolio.cancel(0, "not needed: the counterexample satisfies the hypotheses")
            _refute(conj, instance, problem, cert, out, _left(deadline), seed, primary, r,
                    on_found=found)
            if cert.verdict is Verdict.REFUTED:
                settled = "counterexample"
    if settled:
        why = ("a confirmed counterexample" if settled == "counterexample"
               else "a checked certificate")
        for k in sorted(claim_calls & set(portfolio.pending())):
            portfolio.cancel(k, f"not needed: {why} already settled the verdict")
    if settled == "counterexample":
        # the counterexample satisfies every hypothesis: they are not contradictory
        portfolio.cancel(0, "not needed: the counterexample satisfies the hypotheses")
    vac = portfolio.wait(0)
    results = [portfolio.results[k] for k in sorted(claim_calls)]
    out.solver_seconds += max(x.seconds for x in [vac, *results])
    cert.solvers[:0] = ([_solver_entry(vac, "vacuity check: hypotheses satisfiable?")]
                        + [_solver_entry(x, "negated claim") for x in results])
    cert.vacuous = vac.result == "unsat"
    # a refutation's counterexample is its witness that the hypotheses hold (verify checks
    # it so); a vacuity model beside it would be stored or not by timing alone (the check
    # is cancelled once the counterexample is found, answered or not)
    cert.witness = None if settled == "counterexample" else hypotheses_witness(conj, instance,
                                                                               vac)
    if cert.vacuous:
        out.warnings.append("the model constraints and assumptions are contradictory: "
                            "the claim holds vacuously")

    answers = {x.result for x in results} & {"sat", "unsat"}
    said = ", ".join(f"{x.solver} says {x.result}" for x in results
                     if x.result in ("sat", "unsat"))
    if settled == "concrete certificate":
        # the solvers' sat answers are points of the relaxation, which a proof over the
        # exact family does not contradict
        pass
    elif settled:
        against = "sat" if settled == "certificate" else "unsat"
        if against in answers:
            backing = ("the checked certificate" if against == "sat"
                       else "the exactly confirmed counterexample")
            cert.disagreement = f"the solvers disagree ({said}); the verdict rests on {backing}"
            out.warnings.append("SOLVERS DISAGREE — " + cert.disagreement)
    elif answers == {"unsat", "sat"}:
        _unknown(cert, f"the solvers disagree ({said}) and neither answer is backed by "
                       "evidence: " + _unbacked(certify_failure, cert) +
                       "; try a longer --timeout or report the disagreement")
        out.warnings.append("SOLVERS DISAGREE — verdict withheld")
    elif "unsat" in answers:
        agreeing = [x for x in results if x.result == "unsat"]
        cert.set_valid(Trust.SOLVERS if len(agreeing) >= 2 else Trust.SOLVER,
                       Proof(Kind.SMT, unsat=tuple(x.solver for x in agreeing),
                             certificate_search=("no exact certificate: " + certify_failure
                                                 if certify_failure else None)))
    elif "sat" in answers:
        pass                  # _refute recorded why the candidate did not settle it
    else:
        # the solvers gave up; a certificate needs no solver's word, so look for one
        gave_up = "; ".join(f"{x.solver}: {x.reason or x.result}" for x in results)
        if not certify or _certify(problem, cert, out, _left(deadline)):
            _unknown(cert, f"no solver answered ({gave_up}) and no exact certificate was "
                           f"found; try a longer --timeout, a smaller max_order/degree, "
                           f"or split the claim")
    if (certify and cert.verdict is Verdict.UNKNOWN and cert.counterexample is None
            and not cert.vacuous and instance.concrete is not None):
        # the relaxation did not prove it and no counterexample was found: the model may
        # prove it on its concrete family (exact) instead
        if concrete_failure is None:
            concrete_failure = _certify_concrete(conj, instance, cert, out, _left(deadline))
        if concrete_failure:
            cert.reason = (f"{cert.reason}; no certificate on the concrete family either: "
                           f"{concrete_failure}")
    out.record = cert.freeze()
    if kernel:
        kernel_check_batch([out])
    out.seconds = time.perf_counter() - start
    return out


def _certify(problem, cert: Draft, out: Outcome, timeout: float) -> str:
    """Search an exact certificate; when found it becomes the proof (trust 'certificate';
    'kernel' once Coq accepts it: ``kernel_check_batch``). Returns '' on success, else
    what was tried."""
    from .certify import search_certificate

    _phase("the certificate search")
    t0 = time.perf_counter()
    proof, failure = search_certificate(problem, timeout=timeout)
    out.certify_seconds = time.perf_counter() - t0
    if proof is None:
        return failure
    cert.set_valid(Trust.CERTIFICATE, Proof.from_json(proof))
    return ""


def _concrete_search(model: str, params: dict, problem) -> dict:
    from . import models
    proof, why = models.get(model).concrete_certificate(params, problem)
    return {"proof": proof} if proof is not None else {"reason": why}


def _certify_concrete(conj, instance, cert: Draft, out: Outcome, timeout: float) -> str:
    """The model's certificate search on its concrete family (in a child, within the
    budget); a proof it returns is re-checked here before it counts. '' on success."""
    from .checker import CertificateError, check_proof
    from .solvers import run_isolated

    if timeout < 1:
        return "not started, the budget is spent"
    _phase("the certificate search on the concrete family")
    t0 = time.perf_counter()
    problem = conj.proof_problem("concrete")
    status, result = run_isolated(_concrete_search, (conj.model, dict(instance.params),
                                                     problem), timeout)
    out.certify_seconds += time.perf_counter() - t0
    if status != "ok":
        return f"did not finish ({result})"
    if "proof" not in result:
        return result["reason"]
    try:
        check_proof(problem, result["proof"])
    except CertificateError as exc:
        return f"the certificate found does not check ({exc})"
    cert.set_valid(Trust.CERTIFICATE, Proof.from_json(result["proof"]))
    return ""


def kernel_check_batch(outcomes: list, jobs: int = 1) -> None:
    """Kernel-check every outcome whose verdict rests on an exact certificate (trust
    'certificate'): its Coq proof of the claim as written is compiled, all of them in one
    coqc run (``jobs`` runs in parallel) with a failing proof isolated, and cached; an
    accepted one gets trust 'kernel' and a ``proof.coq`` record. Outcomes of ``check(...,
    kernel=False)`` can be passed here afterwards to batch the Coq work of a whole run."""
    import hashlib
    from .coq import NotStatedAsWritten, claim_text, coqc_version, compile_many
    from .coqtext import coqc_available

    todo = [o for o in outcomes if o.record.verdict is Verdict.VALID
            and o.record.trust is Trust.CERTIFICATE and o.record.kind.exact]
    if not todo:
        return
    if not coqc_available():
        for o in todo:
            o.warnings.append("coqc not installed: trust stays 'certificate' (apt-get install coq)")
        return
    version = coqc_version()
    texts, ready = [], []
    for o in todo:
        t0 = time.perf_counter()
        try:
            texts.append(claim_text(o.conjecture, o.record.proof.payload()))
            ready.append(o)
        except NotStatedAsWritten as exc:
            _set_coq(o, CoqRecord(False, version, error=f"not stated as written: {exc}"))
            o.warnings.append(f"no Coq proof of the claim as written ({exc}); trust stays "
                              "'certificate'")
        o.certify_seconds += time.perf_counter() - t0
    if not ready:
        return
    _phase("the Coq kernel check")
    t0 = time.perf_counter()
    results = compile_many(texts, jobs=jobs)
    share = (time.perf_counter() - t0) / len(ready)
    for o, text, (ok, output) in zip(ready, texts, results):
        o.certify_seconds += share
        digest = hashlib.sha256(text.encode()).hexdigest()
        if ok:
            _set_coq(o, CoqRecord(True, version, digest), Trust.KERNEL)
        else:
            _set_coq(o, CoqRecord(False, version, digest, output[-2000:]))
            o.warnings.append("the exported Coq proof did not compile; trust stays "
                              "'certificate'")


def _set_coq(o: Outcome, coq: CoqRecord, trust: Trust | None = None) -> None:
    rec = o.record
    o.record = rec.replace(proof=rec.proof.replace(coq=coq), trust=trust or rec.trust)


def _unbacked(certify_failure, cert: Draft) -> str:
    """Why neither a certificate nor a counterexample settled a disagreement."""
    parts = []
    if certify_failure:
        parts.append("no exact certificate (" + certify_failure + ")")
    if cert.reason:
        parts.append(cert.reason)
    return "; ".join(parts) or "nothing was tried"


def _search_summary(tried) -> str:
    """'z3: 7 calls: 5 unsat, 2 unknown (timeout)' for a list of solver results."""
    if not tried:
        return "no solver call was made"
    counts: dict[str, int] = {}
    reasons = set()
    for r in tried:
        counts[r.result] = counts.get(r.result, 0) + 1
        if r.result == "unknown" and r.reason:
            reasons.add(r.reason)
    parts = [f"{n} {k}" for k, n in sorted(counts.items())]
    text = f"{tried[0].solver}: {len(tried)} calls: " + ", ".join(parts)
    return text + (f" ({'; '.join(sorted(reasons))})" if reasons else "")


def _unknown(cert: Draft, reason: str) -> None:
    cert.set_unknown(reason)


def _version_of(name: str) -> str:
    """The solver's version for the record, also when no call to it was made (a search
    that ended in the numeric step): an empty version would never match on a re-run,
    and the result would be recomputed every time."""
    try:
        return solvers.backend(name).version()
    except Exception:
        return ""


def _refute(conj, instance, problem, cert, out, timeout, seed, primary, sat_result,
            maximize: bool = True, on_found=None):
    _phase("the counterexample search")
    entered = time.perf_counter()
    relaxed = instance.concrete is not None
    if relaxed:
        # the proof side is a relaxation: search the concrete family instead
        instance = instance.concrete
        problem = encode(instance, conj.claim, conj.assume)
        sat_result = None
    values, tried, tier = find_counterexample(conj, instance, problem, sat_result, timeout,
                                              primary)
    search_seconds = sum(r.seconds for r in tried)
    out.solver_seconds += search_seconds
    version = tried[0].version if tried else _version_of(primary)
    cert.solvers.append(SolverCall(primary, version, SolverResult.SAT if values
                                   else SolverResult.UNKNOWN, round(search_seconds, 3),
                                   f"counterexample search ({len(tried)} calls)"))
    if values is None:
        ran = _search_summary(tried)
        if relaxed:
            _unknown(cert, "the relaxation admits a violation, but the counterexample "
                           f"search over concrete objects found none ({ran}); try a longer "
                           "--timeout or a larger concrete family (more atoms, dim or "
                           "degree), or look for a certificate with a stronger relaxation")
        else:
            _unknown(cert, "the solver found a candidate, but no exact rational point "
                           f"violating the claim could be extracted from it ({ran}): its "
                           "coordinates are irrational and the violation is too thin for "
                           "the rational approximations tried; try a longer --timeout, or "
                           "a claim loosened by a small constant to see how thin it is")
        return
    if on_found is not None:
        on_found()
    maximized = None
    if maximize:
        t0 = time.perf_counter()
        # a quarter of the budget (2 to 15 s), never more than half of what the search
        # left: the confirmation still has to run within the conjecture's budget
        left = timeout - (time.perf_counter() - entered)
        values, maximized = maximize_violation(
            conj, instance, values, min(max(2.0, min(15.0, timeout / 4)), left / 2),
            primary, tier)
        out.solver_seconds += time.perf_counter() - t0
        cert.solvers.append(SolverCall(primary, version, SolverResult.SAT,
                                       round(time.perf_counter() - t0, 3),
                                       f"violation maximized ({maximized['queries']} calls)"))
    _phase("the confirmation of the counterexample")
    t0 = time.perf_counter()
    numeric = confirm(conj, instance, values, seed)
    out.confirm_seconds = time.perf_counter() - t0
    ce = Counterexample.from_json(counterexample_record(conj, instance, values, numeric))
    if maximized is not None:
        # the record's violation as the counterexample states it (an irrational one as
        # its float), so the two can be compared
        maximized["violation"] = ce.violation
        ce = ce.replace(maximized=freeze(maximized))
    if relaxed:
        ce = ce.replace(family="concrete")
    cert.counterexample = ce
    if ce.confirmed:
        cert.set_refuted()
    else:
        if "exact" in numeric["method"] and "disagree" not in numeric["note"]:
            hint = ("the exact computation from the realized object contradicts the "
                    "model's formulas: this is a bug in the model or its realizer; "
                    "please report it")
        elif "disagree" in numeric["note"]:
            hint = ("two independent computations of the same object disagree: a bug in "
                    "one of them; please report it")
        else:
            hint = ("the margin is too thin for simulation; an exact realizer, a longer "
                    "--timeout (larger samples) or a claim loosened by a constant would "
                    "settle it")
        _unknown(cert, "candidate counterexample not confirmed numerically: "
                 + numeric["note"] + "; " + hint)


def reusable(conj: Conjecture, cert: Certificate | None, kernel: bool = False, *,
             encoding: bool = True) -> bool:
    """Whether a stored certificate is the result a fresh run would recompute: the same
    conjecture (normalized hash, source, id, title, expect), the same encoding, the same
    prover and solver versions, and a settled verdict. Reusing it leaves the file
    byte-identical (no new ``created`` or timings). With ``kernel``, a valid verdict with
    an exact certificate not yet kernel-checked is recomputed so that it can earn trust
    'kernel'. ``encoding=False``: the encoding is not compared here, because the caller
    has the record verified next (``verify`` loads the same source, whose hash is the
    record's, encodes it and compares the stored ``encoding_sha256``): ``prover check``
    then encodes each stored conjecture once, in a verifying worker."""
    if not isinstance(cert, Certificate) or cert.verdict is Verdict.UNKNOWN:
        return False
    same = (cert.id == conj.id and cert.source == conj.source and cert.title == conj.title
            and cert.expect == conj.expect and cert.conjecture_sha256 == conj.sha256()
            and cert.prover_version == __version__)
    if not same:
        return False
    # with kernel, an exact certificate not yet kernel-checked is recomputed so that it
    # can earn trust 'kernel'; a solver-only result has nothing Coq could check
    if kernel and cert.verdict is Verdict.VALID and cert.trust is Trust.CERTIFICATE:
        return False
    for call in cert.solvers:
        try:
            # version() raises ImportError when the backend is not installed, and reads
            # cvc5's without importing it (20 ms that a warm run would otherwise pay)
            if solvers.backend(call.name).version() != call.version:
                return False
        except Exception:
            return False
    if not encoding:
        return True
    try:
        problem = encode(conj.instance(), conj.claim, conj.assume)
    except ProverError:
        return False
    return problem.sha256() == cert.encoding_sha256
