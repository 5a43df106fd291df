"""Checking one conjecture: encode, solve, then prove or refute with evidence.

unsat -> ``valid``, with the strongest evidence we can produce (an exact certificate
checked by ``prover.checker``; otherwise the agreement of Z3 and cvc5).
sat -> a candidate counterexample: made exact (rational), re-checked on the claim's own
expression tree, then realized as a concrete object whose statistics are recomputed from
their definitions; only a confirmed violation is ``refuted``.
Anything else -> ``unknown`` with the reason.
"""

from __future__ import annotations

import math
import statistics as pystats
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fractions import Fraction

from ._version import __version__
from . import expr as E
from . import solvers
from .conjecture import Conjecture
from .encode import Problem, encode
from .evaluate import (Undecided, Undefined, exact_truth, float_term, margin, ExactEvaluator,
                       realized_violation)
from .errors import ProverError
from .formula import holds
from .poly import fraction_text
from .record import (Certificate, CoqRecord, Counterexample, Draft, Kind, ModelRef, Proof,
                     SolverCall, SolverResult, Trust, Verdict, freeze)

DEFAULT_TIMEOUT = 60.0
MARGINS = tuple(Fraction(1, 2 ** k) for k in (0, 1, 2, 4, 6, 8, 10))
# two-sided 99% Student t quantile with 19 degrees of freedom (20 batches)
T_QUANTILE_99_DF19 = 2.861
EFFORTS = (1, 4, 16)     # simulation sizes tried in turn (x 100,000 families)


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


PHASE_HOOK = None     # set by a pipeline worker: called with each phase's name


def _phase(name: str) -> None:
    if PHASE_HOOK is not None:
        PHASE_HOOK(name)


def _left(deadline: float) -> float:
    """What is left of the conjecture's budget (at least a moment, so that a phase that
    is reached still runs and says why it stopped)."""
    return max(0.5, deadline - time.perf_counter())


def check(conj: Conjecture, *, timeout: float | None = None, seed: int = 20261127,
          use_solvers: tuple[str, ...] = ("z3", "cvc5"), certify: bool = True,
          kernel: bool = False) -> Outcome:
    """Check one conjecture. ``kernel``: also have Coq's kernel check an exported proof
    of every certificate found (trust ``kernel``; needs ``coqc``)."""
    start = time.perf_counter()
    timeout = timeout or conj.timeout or DEFAULT_TIMEOUT
    deadline = start + timeout          # the whole conjecture's budget, shared by phases
    _phase("encoding")
    instance = conj.instance()
    problem = encode(instance, conj.claim, conj.assume)
    cert = new_draft(conj, problem)
    out = Outcome(conj, None)           # its record is the draft, frozen at the end
    primary = use_solvers[0]
    _phase("the solvers")

    # all at once (one child each): the vacuity check (are the model's constraints plus
    # the assumptions satisfiable at all?) and every solver on the negated claim. The
    # first answer is acted on at once (a certificate searched for an unsat, a
    # counterexample for a sat); once it is backed by evidence that needs no solver's
    # word, the solvers still running cannot change the verdict and are cancelled.
    negated = problem.smtlib()
    calls = [(primary, problem.smtlib(negated=False))] + [(n, negated) for n in use_solvers]
    portfolio = solvers.Portfolio(calls, timeout)
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
            _refute(conj, instance, problem, cert, out, _left(deadline), seed, primary, r)
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
    cert.witness = hypotheses_witness(conj, instance, vac)
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


# --- counterexamples ----------------------------------------------------------------------

def rationalize(values: dict, variables: list[str]) -> list[dict[str, Fraction]]:
    """Candidate exact points from a solver model: exact values as they are, algebraic
    ones approximated by rationals of growing precision."""
    exact, approx = {}, {}
    for v in variables:
        entry = values.get(v, {"exact": "0"})
        if "exact" in entry:
            exact[v] = Fraction(entry["exact"])
        else:
            approx[v] = Fraction(entry["approx"])
    if not approx:
        return [exact]
    return [{**exact, **{k: x.limit_denominator(10 ** d) for k, x in approx.items()}}
            for d in (2, 3, 4, 6, 9, 12, 18)]


def hypotheses_hold(conj: Conjecture, instance, values: dict[str, Fraction]) -> bool:
    """Exactly: the model's constraints and every assumption hold at ``values``."""
    if set(values) != set(instance.variables):
        return False
    try:
        return all(holds(a, values) for a in instance.constraints) and \
            all(exact_truth(instance, values, a) for a in conj.assume)
    except (Undefined, Undecided, ZeroDivisionError):
        return False


def hypotheses_witness(conj: Conjecture, instance, result) -> dict | None:
    """An exact point where the hypotheses hold, from the vacuity check's model: the
    evidence that the claim is not vacuous, which `verify` re-checks without a solver."""
    if result.result != "sat":
        return None
    for cand in rationalize(result.values, list(instance.variables)):
        if hypotheses_hold(conj, instance, cand):
            return {k: fraction_text(cand[k]) for k in sorted(cand)}
    return None


def is_counterexample(conj: Conjecture, instance, values: dict[str, Fraction]) -> bool:
    """Exactly: a member of the family where every assumption holds and the claim fails."""
    if not all(holds(a, values) for a in instance.constraints):
        return False
    try:
        if not all(exact_truth(instance, values, a) for a in conj.assume):
            return False
        return not exact_truth(instance, values, conj.claim)
    except (Undefined, Undecided, ZeroDivisionError):
        return False


def _env(instance, values: dict[str, Fraction], exact: bool = False) -> dict:
    ev = ExactEvaluator(instance, values, 128)
    env = {}
    for name in instance.statistics:
        try:
            v = ev.statistic(name)
        except (Undefined, Undecided):
            continue
        if not isinstance(v, Fraction):      # irrational: this one value as a float
            env[name] = float((v.lo + v.hi) / 2)
            continue
        env[name] = v if exact else float(v)
    for name in instance.components:
        env[name] = values[name] if exact else float(values[name])
    return env


def violation_margin(conj: Conjecture, env: dict, instance, exact: bool = False):
    """> 0 when every assumption holds and the claim fails, by that much (at least)."""
    parts = [-margin(conj.claim, env, instance, exact=exact)]
    parts += [margin(a, env, instance, skip_equalities=True, exact=exact) for a in conj.assume]
    return min(parts)


def _simplify(conj, instance, values):
    """Prefer short rationals when they still violate the claim by a similar margin."""
    base = violation_margin(conj, _env(instance, values), instance)
    for d in (10, 100, 1000, 10000):
        nice = {k: v.limit_denominator(d) for k, v in values.items()}
        if nice != values and is_counterexample(conj, instance, nice) and \
                violation_margin(conj, _env(instance, nice), instance) >= base / 2:
            return nice
    return values


def find_counterexample(conj, instance, problem, first, timeout, primary):
    """Search for an exact counterexample: simplest restrictions of the family first
    (``search_tiers``) with clear margins, then the whole family with margins from large
    to small, then none.

    ``first`` is the sat answer on the proof side; when the model's points are concrete
    it is a candidate too (a relaxation's point is not, so the caller passes None)."""
    from . import numsearch

    model_vars = list(instance.variables)
    budget = max(2.0, min(10.0, timeout / 4))

    def numeric():
        # a seeded float search that ends in exact points: equalities re-imposed exactly
        found = numsearch.search(conj, instance,
                                 lambda v: is_counterexample(conj, instance, v),
                                 seed=0, budget=budget)
        return (_simplify(conj, instance, found[0]), tried, []) if found else None

    tried = []
    # an equality hypothesis (s2 == 1/2) often has no rational point where the solver
    # looks: the numeric search, which solves it exactly, goes first
    if instance.realize is not None and numsearch.has_equalities(conj):
        if (hit := numeric()) is not None:
            return hit
    ladders = [(tier, list(MARGINS)) for tier in instance.search_tiers]
    ladders.append(([], list(MARGINS) + [None]))
    for tier, margins in ladders:
        texts = [problem.smtlib(search=True, margin=m, extra=tier) for m in margins]
        results = solvers.solve_until_sat(primary, texts, budget)
        tried += results
        if results[-1].result != "sat":
            continue
        for cand in rationalize(results[-1].values, model_vars):
            if is_counterexample(conj, instance, cand):
                return _simplify(conj, instance, cand), tried, tier
    if first is not None:
        for cand in rationalize(first.values, model_vars):
            if is_counterexample(conj, instance, cand):
                return _simplify(conj, instance, cand), tried, []
    if instance.realize is not None and not numsearch.has_equalities(conj):
        if (hit := numeric()) is not None:
            return hit
    return None, tried, []


# --- the largest violation -----------------------------------------------------------------

def shifted_claim(e: E.Expr, m: Fraction) -> E.Expr:
    """The claim loosened by ``m`` in the units of ``margin``: it fails exactly where the
    original claim's margin is below -m, i.e. where the claim is violated by more than
    m (an equality ``a == b`` fails by |a - b|; ``not`` and the premise of ``implies``
    are shifted the other way, matching how ``margin`` combines them)."""
    if isinstance(e, E.Compare):
        links = []
        for op, left, right in zip(e.ops, e.operands, e.operands[1:]):
            if op in ("<", "<="):
                links.append(E.Compare(ops=(op,), operands=(left, _plus(right, m))))
            elif op in (">", ">="):
                links.append(E.Compare(ops=(op,), operands=(_plus(left, m), right)))
            else:   # a == b fails by more than m where |a - b| > m
                links.append(E.Compare(ops=("<=", "<="),
                                       operands=(_plus(right, -m), left, _plus(right, m))))
        return links[0] if len(links) == 1 else E.BoolOp(op="and", operands=tuple(links))
    if isinstance(e, E.BoolOp):
        return E.BoolOp(op=e.op, operands=tuple(shifted_claim(x, m) for x in e.operands))
    if isinstance(e, E.Not):
        return E.Not(operand=shifted_claim(e.operand, -m))
    if isinstance(e, E.Implies):
        return E.Implies(left=shifted_claim(e.left, -m), right=shifted_claim(e.right, m))
    raise TypeError("not a boolean expression")


def _plus(x: E.Expr, m: Fraction) -> E.Expr:
    return E.BinOp(op="+", left=x, right=E.Num(value=Fraction(m)))


def claim_violation(conj, instance, values) -> Fraction | None:
    """The exact amount by which the claim fails at ``values`` (DESIGN.md: the claim's
    shortfall; assumptions must hold), as a Fraction (an irrational one rounded down to
    a 2^-40 grid), or None when it cannot be evaluated."""
    try:
        v = -margin(conj.claim, _env(instance, values, exact=True), instance, exact=True)
    except (ZeroDivisionError, KeyError, Undefined, Undecided):
        return None
    if isinstance(v, Fraction):
        return v
    if isinstance(v, float) and math.isfinite(v):
        return Fraction(math.floor(v * 2 ** 40), 2 ** 40)
    return None


MAX_DOUBLINGS = 6
BISECTIONS = 8
CLOSE_ENOUGH = Fraction(1, 20)    # stop when no counterexample is known to do 5% better


READABLE_WITHIN = Fraction(1, 10)   # keep a simpler tier's point unless 10% beaten


def maximize_violation(conj, instance, values, budget: float, primary: str, tier=()):
    """Push a counterexample's violation up: ask the solver for a counterexample
    violating the claim by more than m (``shifted_claim``), m doubling from the first
    violation, then bisection between the largest m answered sat and the smallest that
    was not; the best exact counterexample found is kept. The search stays in the
    simpler restriction ``tier`` the first counterexample came from unless the whole
    family violates by 10% more; short rationals within 5% of the best are preferred.
    Returns (values, record of how it was maximized)."""
    deadline = time.perf_counter() + budget
    first_v = claim_violation(conj, instance, values)
    record = {"method": "solver asked for a violation above m: m doubled from the first "
                        "counterexample, then bisected", "queries": 0,
              "first_violation": _num(first_v) if first_v is not None else None}
    if first_v is None or first_v <= 0:
        record["note"] = "the first counterexample's violation could not be measured"
        return values, record
    best, best_v, hi, note = _climb(conj, instance, values, first_v, list(tier), deadline,
                                    primary, record)
    if tier:
        # is the whole family much worse for the claim than the simple restriction?
        target = best_v * (1 + READABLE_WITHIN)
        found, _, _ = _ask(conj, instance, [target], [], deadline, primary, record)
        if found is not None and found[1] > best_v:
            best, best_v, hi, note = _climb(conj, instance, found[0], found[1], [],
                                            deadline, primary, record)
            record["family"] = "whole family (the simpler restriction violates less)"
        else:
            if found is None and not record.get("gave_up"):
                record["whole_family_not_above"] = _num(target)
            record["family"] = ("restricted to simpler components: "
                                + ("no point of the whole family violates by 10% more"
                                   if found is None and not record.get("gave_up")
                                   else "the whole family was not searched further"))
            hi = None     # the restriction's limit is not the family's
    nice = _simplest_close(conj, instance, best, max((1 - CLOSE_ENOUGH) * best_v, first_v))
    if nice is not None:
        best, best_v = nice
    record["violation"] = _num(best_v)
    if hi is not None:
        record["no_violation_above"] = _num(hi)
        record["bound_from"] = f"{primary} found no counterexample violating by more than this"
    elif note:
        record["note"] = note
    record.pop("gave_up", None)
    return best, record


def _ask(conj, instance, ms, tier, deadline, primary, record):
    """Solve for a counterexample violating by more than each of ``ms`` in turn (one
    child), stopping at the first sat. Returns ((values, violation) of an exact
    counterexample or None, the margins answered unsat, the margin answered sat)."""
    left = deadline - time.perf_counter()
    if left <= 0.2:
        record["gave_up"] = True
        return None, [], None
    texts = []
    for m in ms:
        try:
            texts.append(encode(instance, shifted_claim(conj.claim, m),
                                conj.assume).smtlib(search=True, extra=tier))
        except ProverError:
            record["gave_up"] = True
            return None, [], None
    results = solvers.solve_until_sat(primary, texts, max(0.2, left / len(texts)))
    record["queries"] += len(results)
    refused = [m for m, r in zip(ms, results) if r.result == "unsat"]
    if any(r.result not in ("sat", "unsat") for r in results):
        record["gave_up"] = True
    last = results[-1]
    if last.result == "sat":
        for cand in rationalize(last.values, list(instance.variables)):
            if is_counterexample(conj, instance, cand):
                v = claim_violation(conj, instance, cand)
                if v is not None:
                    return (cand, v), refused, ms[len(results) - 1]
    return None, refused, None


def _climb(conj, instance, best, best_v, tier, deadline, primary, record):
    """Doubling, then bisection, from ``best``; returns (best, violation, the smallest
    margin answered unsat or None, a note when no upper limit was found)."""
    lo, hi = best_v, None
    # doubling in one child: largest first, so the first sat is the largest that is
    ladder = [best_v * 2 ** k for k in range(MAX_DOUBLINGS, 0, -1)]
    found, refused, sat_m = _ask(conj, instance, ladder, tier, deadline, primary, record)
    if found is not None and found[1] > best_v:
        best, best_v = found
    if sat_m is not None:
        lo = max(lo, sat_m)
    if refused:
        hi = min(refused)
    for _ in range(BISECTIONS):
        lo = max(lo, best_v)
        if hi is None or hi - lo <= CLOSE_ENOUGH * lo or time.perf_counter() >= deadline:
            break
        mid = _short_between(lo, hi)
        found, refused, sat_m = _ask(conj, instance, [mid], tier, deadline, primary, record)
        if found is not None:
            if found[1] > best_v:
                best, best_v = found
            lo = max(mid, best_v)
        elif refused:
            hi = mid
        else:
            break
    note = ""
    if hi is None:
        note = ("the solver gave up before an upper limit was found" if record.get("gave_up")
                else f"violations above {float(lo):.4g} exist: {MAX_DOUBLINGS} doublings "
                     "did not reach the largest")
    return best, best_v, hi, note


def _short_between(lo: Fraction, hi: Fraction) -> Fraction:
    """A rational with a small denominator strictly between lo and hi (near the middle)."""
    mid = (lo + hi) / 2
    for d in (10, 100, 1000, 10 ** 4, 10 ** 6, 10 ** 9):
        x = mid.limit_denominator(d)
        if lo < x < hi:
            return x
    return mid


def _simplest_close(conj, instance, values, floor):
    """The point with the shortest rationals (rounded from ``values``) whose violation
    is at least ``floor``, or None."""
    for d in (4, 10, 20, 100, 1000, 10000):
        nice = {k: v.limit_denominator(d) for k, v in values.items()}
        if nice == values:
            return None
        if is_counterexample(conj, instance, nice):
            v = claim_violation(conj, instance, nice)
            if v is not None and v >= floor:
                return nice, v
    return None


def _refute(conj, instance, problem, cert, out, timeout, seed, primary, sat_result,
            maximize: bool = True):
    _phase("the counterexample search")
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
    version = tried[0].version if tried else ""
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
    maximized = None
    if maximize:
        t0 = time.perf_counter()
        values, maximized = maximize_violation(conj, instance, values,
                                               max(2.0, min(15.0, timeout / 4)), primary,
                                               tier)
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


# an exact confirmation is cross-checked by the realizer's simulation when it has one: a
# statistic further than this many 99% half-widths from its exact value means the two
# computations disagree (a bug in one of them), and the verdict is withheld
CROSS_CHECK_WIDTHS = 4


def confirm(conj: Conjecture, instance, values: dict[str, Fraction], seed: int) -> dict:
    """Rebuild the counterexample as a concrete object and recompute its statistics from
    their definitions; confirmed only when that independent computation shows the
    violation (exactly, or with a 99% confidence interval entirely on the violated side).

    An exact computation decides; a simulation beside it must agree with it (within
    ``CROSS_CHECK_WIDTHS`` of its intervals) and is recorded under ``simulation``."""
    note = ""
    for effort in EFFORTS:
        evidence = instance.realize(values, seed=seed, effort=effort)
        record = {"method": evidence.method, "seed": evidence.seed,
                  "samples": evidence.samples, "realization": evidence.realization}
        if evidence.exact is not None:
            return _confirm_exact(conj, instance, evidence, record)
        sim = _simulation_record(conj, instance, evidence)
        record.update(sim)
        if sim["interval"][0] > 0 and not math.isnan(sim["violation_estimate"]):
            record.update(confirmed=True, note="the 99% interval of the violation margin "
                          "lies above 0")
            return record
        lo, hi = sim["interval"]
        note = (f"with {evidence.samples} simulated families the 99% interval of the "
                f"violation margin is [{lo:.4g}, {hi:.4g}], not above 0; an exact "
                f"realizer (enumeration) would decide it")
        record.update(confirmed=False, note=note)
    return record


def _confirm_exact(conj, instance, evidence, record: dict) -> dict:
    env = dict(evidence.exact)
    try:
        # the claim's shortfall on the realized statistics (DESIGN.md's violation; the
        # assumptions must hold, which realized_violation checks, equalities included)
        m = -margin(conj.claim, env, instance, exact=True)
        # decided exactly, not by the sign of m: a margin of 0 is a violation of a strict
        # claim (r2 = 1/2 against 'r2 < 1/2') and of 'A implies B' with an equality A;
        # assumptions' equalities are checked too
        violated = realized_violation(instance, env, conj.claim, conj.assume)
    except (KeyError, ZeroDivisionError, Undefined, Undecided) as exc:
        record.update(confirmed=False, note=f"cannot evaluate the claim on the realized "
                                            f"statistics: {exc}")
        return record
    record.update(estimates={k: fraction_text(v) if isinstance(v, Fraction) else v
                             for k, v in sorted(env.items())},
                  interval=[_num(m), _num(m)], confirmed=violated,
                  note="exact computation from the realized object" if violated
                  else "the realized object does not violate the claim")
    if evidence.estimates is None:
        return record
    sim = _simulation_record(conj, instance, evidence)
    record["samples"] = None       # nothing was sampled for the exact answer; the
    off = []                       # simulation's samples and seed are its own
    for name, (lo, hi) in sim["intervals"].items():
        if name not in env or not isinstance(env[name], Fraction):
            continue
        half = (hi - lo) / 2
        if abs(sim["estimates"][name] - float(env[name])) > max(CROSS_CHECK_WIDTHS * half,
                                                                 1e-5):
            off.append(f"{name} exact {float(env[name]):.6g}, simulated "
                       f"{sim['estimates'][name]:.6g} (99% interval [{lo:.6g}, {hi:.6g}])")
    sim["agrees"] = not off
    record["simulation"] = sim
    if off:
        record.update(confirmed=False, note="the exact enumeration and the simulation of "
                      "the same object disagree: " + "; ".join(off))
    elif violated:
        record["note"] += (f"; a seeded simulation ({evidence.samples} samples) agrees "
                           f"with every exact statistic")
    return record


def _simulation_record(conj, instance, evidence) -> dict:
    """Batch-means 99% intervals of every statistic and of the violation margin: the
    spread across 20 independent blocks gives the standard error; it is centred on the
    whole-sample estimate (ratio estimators such as a least-squares h2 are biased upward
    on small blocks, less so on the whole sample)."""
    batches = evidence.batch_estimates
    per_batch = [violation_margin(conj, b, instance) for b in batches]
    half = T_QUANTILE_99_DF19 * pystats.stdev(per_batch) / math.sqrt(len(per_batch))
    overall = violation_margin(conj, evidence.estimates, instance)
    intervals = {}
    for name, value in evidence.estimates.items():
        xs = [b[name] for b in batches]
        h = T_QUANTILE_99_DF19 * pystats.stdev(xs) / math.sqrt(len(xs))
        intervals[name] = [round(value - h, 6), round(value + h, 6)]
    return {"method": "seeded simulation of the same object, batch means"
            if evidence.exact is not None else evidence.method,
            "seed": evidence.seed, "samples": evidence.samples,
            "estimates": {k: round(v, 6) for k, v in sorted(evidence.estimates.items())},
            "intervals": intervals, "batches": len(batches),
            "violation_estimate": round(overall, 6),
            "interval": [round(overall - half, 6), round(overall + half, 6)],
            "confidence": 0.99}


def _num(x):
    return fraction_text(x) if isinstance(x, Fraction) else x


def _comparisons(e: E.Expr):
    """Every comparison in a formula, left to right."""
    if isinstance(e, E.Compare):
        yield e
    elif isinstance(e, E.BoolOp):
        for x in e.operands:
            yield from _comparisons(x)
    elif isinstance(e, E.Not):
        yield from _comparisons(e.operand)
    elif isinstance(e, E.Implies):
        yield from _comparisons(e.left)
        yield from _comparisons(e.right)


def counterexample_record(conj, instance, values, numeric) -> dict:
    env = _env(instance, values, exact=True)
    stats = {k: fraction_text(v) if isinstance(v, Fraction) else str(v)
             for k, v in env.items() if k in instance.statistics}
    try:
        violation = -margin(conj.claim, env, instance, exact=True)
    except (ZeroDivisionError, KeyError):
        violation = None
    claim_sides = []
    for node in _comparisons(conj.claim):
        for op, left, right in zip(node.ops, node.operands, node.operands[1:]):
            try:
                claim_sides.append({"left": E.to_text(left), "op": op, "right": E.to_text(right),
                                    "left_value": _num(float_term(left, env, instance, exact=True)),
                                    "right_value": _num(float_term(right, env, instance, exact=True))})
            except (ZeroDivisionError, KeyError):
                pass
    return {"values": {k: fraction_text(v) for k, v in values.items()},
            "statistics": stats,
            "violation": _num(violation) if violation is not None else None,
            "sides": claim_sides,
            "realization": numeric.pop("realization"),
            "numeric_check": numeric}


def reusable(conj: Conjecture, cert: Certificate | None, kernel: bool = False) -> bool:
    """Whether a stored certificate is the result a fresh run would recompute: the same
    conjecture (normalized hash, source, id, title, expect), the same encoding, the same
    prover and solver versions, and a settled verdict. Reusing it leaves the file
    byte-identical (no new ``created`` or timings). With ``kernel``, a valid verdict with
    an exact certificate not yet kernel-checked is recomputed so that it can earn trust
    'kernel'."""
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
        if not solvers.available(call.name):
            return False
        try:
            if solvers.backend(call.name).version() != call.version:
                return False
        except Exception:
            return False
    try:
        problem = encode(conj.instance(), conj.claim, conj.assume)
    except ProverError:
        return False
    return problem.sha256() == cert.encoding_sha256
