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

from . import __version__
from . import expr as E
from . import solvers
from .conjecture import Conjecture
from .encode import Problem, encode
from .evaluate import (Undecided, Undefined, exact_truth, float_term, margin, ExactEvaluator,
                       realized_violation)
from .errors import ProverError
from .formula import holds
from .poly import fraction_text

DEFAULT_TIMEOUT = 60.0
MARGINS = tuple(Fraction(1, 2 ** k) for k in (0, 1, 2, 4, 6, 8, 10))
# two-sided 99% Student t quantile with 19 degrees of freedom (20 batches)
T_QUANTILE_99_DF19 = 2.861
EFFORTS = (1, 4, 16)     # simulation sizes tried in turn (x 100,000 families)


@dataclass
class Outcome:
    conjecture: Conjecture
    certificate: dict
    warnings: list[str] = field(default_factory=list)
    solver_seconds: float = 0.0
    confirm_seconds: float = 0.0
    certify_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        return self.certificate["verdict"]

    @property
    def trust(self) -> str | None:
        return self.certificate.get("trust")


def _solver_entry(r: solvers.SolverResult, role: str) -> dict:
    entry = {"name": r.solver, "version": r.version, "result": r.result,
             "seconds": round(r.seconds, 3), "role": role}
    if r.reason:
        entry["reason"] = r.reason
    return entry


def base_certificate(conj: Conjecture, problem: Problem) -> dict:
    return {
        "format": 1,
        "id": conj.id,
        "title": conj.title,
        "source": conj.source,
        "conjecture_sha256": conj.sha256(),
        "encoding_sha256": problem.sha256(),
        "model": {"name": conj.model, "params": conj.params},
        "claim": E.to_text(conj.claim),
        "assume": [E.to_text(a) for a in conj.assume],
        "expect": conj.expect,
        "prover_version": __version__,
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "solvers": [],
    }


def check(conj: Conjecture, *, timeout: float | None = None, seed: int = 20261127,
          use_solvers: tuple[str, ...] = ("z3", "cvc5"), certify: bool = True,
          kernel: bool = False) -> Outcome:
    """Check one conjecture. ``kernel``: also have Coq's kernel check an exported proof
    of every certificate found (trust ``kernel``; needs ``coqc``)."""
    start = time.perf_counter()
    timeout = timeout or conj.timeout or DEFAULT_TIMEOUT
    instance = conj.instance()
    problem = encode(instance, conj.claim, conj.assume)
    cert = base_certificate(conj, problem)
    out = Outcome(conj, cert)
    primary = use_solvers[0]

    # all at once (one child each): the vacuity check (are the model's constraints plus
    # the assumptions satisfiable at all?) and every solver on the negated claim
    negated = problem.smtlib()
    calls = [(primary, problem.smtlib(negated=False))] + [(n, negated) for n in use_solvers]
    vac, *results = solvers.solve_many(calls, timeout)
    out.solver_seconds += max(r.seconds for r in [vac, *results])
    cert["solvers"].append(_solver_entry(vac, "vacuity check: hypotheses satisfiable?"))
    cert["vacuous"] = vac.result == "unsat"
    if cert["vacuous"]:
        out.warnings.append("the model constraints and assumptions are contradictory: "
                            "the claim holds vacuously")
    for r in results:
        cert["solvers"].append(_solver_entry(r, "negated claim"))

    answers = {r.result for r in results} - {"unknown"}
    if answers == {"unsat", "sat"}:
        _unknown(cert, "the solvers disagree: " + ", ".join(f"{r.solver} says {r.result}"
                                                            for r in results))
        out.warnings.append("SOLVERS DISAGREE — verdict withheld")
    elif "unsat" in answers:
        agreeing = [r for r in results if r.result == "unsat"]
        cert["verdict"] = "valid"
        cert["trust"] = "solvers" if len(agreeing) >= 2 else "solver"
        cert["proof"] = {"kind": "smt", "unsat": [r.solver for r in agreeing]}
        if certify:
            failure = _certify(problem, cert, out, timeout, kernel)
            if failure:
                cert["proof"]["certificate_search"] = "no exact certificate: " + failure
    elif "sat" in answers:
        sat_result = next(r for r in results if r.result == "sat")
        _refute(conj, instance, problem, cert, out, timeout, seed, primary, sat_result)
    else:
        # the solvers gave up; a certificate needs no solver's word, so look for one
        if not certify or _certify(problem, cert, out, timeout, kernel):
            _unknown(cert, "; ".join(f"{r.solver}: {r.reason or r.result}" for r in results))
    out.seconds = time.perf_counter() - start
    return out


def _certify(problem, cert: dict, out: Outcome, timeout: float, kernel: bool) -> str:
    """Search an exact certificate; when found it becomes the proof (trust 'certificate',
    or 'kernel' once Coq accepts it). Returns '' on success, else what was tried."""
    from .certify import search_certificate

    t0 = time.perf_counter()
    proof, failure = search_certificate(problem, timeout=timeout)
    out.certify_seconds = time.perf_counter() - t0
    if proof is None:
        return failure
    cert.update(verdict="valid", trust="certificate", proof=proof)
    if kernel:
        _kernel_check(problem, cert, out)
    return ""


def _kernel_check(problem, cert: dict, out: Outcome) -> None:
    """Export the certificate as a Coq proof of the claim as written (``prover.coq``) and
    compile it; trust 'kernel' if coqc accepts it. A text coqc accepted before (same
    sha256, same coqc version) is not compiled again (``prover.coq.cache_dir``)."""
    kernel_check_batch([out])


def kernel_check_batch(outcomes: list, jobs: int = 1) -> None:
    """Kernel-check every outcome whose verdict rests on an exact certificate (trust
    'certificate'): its Coq proof of the claim as written is compiled, all of them in one
    coqc run (``jobs`` runs in parallel) with a failing proof isolated, and cached; an
    accepted one gets trust 'kernel' and a ``proof.coq`` record. Outcomes of ``check(...,
    kernel=False)`` can be passed here afterwards to batch the Coq work of a whole run."""
    import hashlib
    from .coq import NotStatedAsWritten, claim_text, coqc_version, compile_many
    from .export import coqc_available

    todo = [o for o in outcomes if o.certificate.get("verdict") == "valid"
            and o.certificate.get("trust") == "certificate"
            and (o.certificate.get("proof") or {}).get("kind") in ("farkas", "polya", "sos")]
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
            texts.append(claim_text(o.conjecture, o.certificate["proof"]))
            ready.append(o)
        except NotStatedAsWritten as exc:
            o.certificate["proof"]["coq"] = {"compiled": False, "coqc": version,
                                             "error": f"not stated as written: {exc}"}
            o.warnings.append(f"no Coq proof of the claim as written ({exc}); trust stays "
                              "'certificate'")
        o.certify_seconds += time.perf_counter() - t0
    if not ready:
        return
    t0 = time.perf_counter()
    results = compile_many(texts, jobs=jobs)
    share = (time.perf_counter() - t0) / len(ready)
    for o, text, (ok, output) in zip(ready, texts, results):
        o.certify_seconds += share
        cert = o.certificate
        record = {"compiled": ok, "coqc": version,
                  "file_sha256": hashlib.sha256(text.encode()).hexdigest()}
        if ok:
            cert["trust"] = "kernel"
        else:
            record["error"] = output[-2000:]
            o.warnings.append("the exported Coq proof did not compile; trust stays "
                              "'certificate'")
        cert["proof"]["coq"] = record


def _unknown(cert: dict, reason: str) -> None:
    cert["verdict"] = "unknown"
    cert["trust"] = None
    cert["reason"] = reason


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
    model_vars = list(instance.variables)
    budget = max(2.0, min(10.0, timeout / 4))
    ladders = [(tier, list(MARGINS)) for tier in instance.search_tiers]
    ladders.append(([], list(MARGINS) + [None]))
    tried = []
    for tier, margins in ladders:
        texts = [problem.smtlib(search=True, margin=m, extra=tier) for m in margins]
        results = solvers.solve_until_sat(primary, texts, budget)
        tried += results
        if results[-1].result != "sat":
            continue
        for cand in rationalize(results[-1].values, model_vars):
            if is_counterexample(conj, instance, cand):
                return _simplify(conj, instance, cand), tried
    if first is not None:
        for cand in rationalize(first.values, model_vars):
            if is_counterexample(conj, instance, cand):
                return _simplify(conj, instance, cand), tried
    return None, tried


def _refute(conj, instance, problem, cert, out, timeout, seed, primary, sat_result):
    relaxed = instance.concrete is not None
    if relaxed:
        # the proof side is a relaxation: search the concrete family instead
        instance = instance.concrete
        problem = encode(instance, conj.claim, conj.assume)
        sat_result = None
    values, tried = find_counterexample(conj, instance, problem, sat_result, timeout, primary)
    search_seconds = sum(r.seconds for r in tried)
    out.solver_seconds += search_seconds
    cert["solvers"].append({"name": primary, "version": tried[0].version if tried else "",
                            "result": "sat" if values else "unknown",
                            "seconds": round(search_seconds, 3),
                            "role": f"counterexample search ({len(tried)} calls)"})
    if values is None:
        if relaxed:
            _unknown(cert, "the relaxation admits a violation, but no concrete object "
                           "violating the claim was found by the counterexample search")
        else:
            _unknown(cert, "the solver found a candidate, but no exact rational point "
                           "violating the claim could be extracted from it")
        return
    t0 = time.perf_counter()
    numeric = confirm(conj, instance, values, seed)
    out.confirm_seconds = time.perf_counter() - t0
    cert["counterexample"] = counterexample_record(conj, instance, values, numeric)
    if relaxed:
        cert["counterexample"]["family"] = "concrete"
    if numeric["confirmed"]:
        cert["verdict"] = "refuted"
        cert["trust"] = None
    else:
        _unknown(cert, "candidate counterexample not confirmed numerically: " + numeric["note"])


def confirm(conj: Conjecture, instance, values: dict[str, Fraction], seed: int) -> dict:
    """Rebuild the counterexample as a concrete object and recompute its statistics from
    their definitions; confirmed only when that independent computation shows the
    violation (exactly, or with a 99% confidence interval entirely on the violated side)."""
    note = ""
    for effort in EFFORTS:
        evidence = instance.realize(values, seed=seed, effort=effort)
        record = {"method": evidence.method, "seed": evidence.seed,
                  "samples": evidence.samples, "realization": evidence.realization}
        if evidence.exact is not None:
            env = dict(evidence.exact)
            exact_env = {k: v for k, v in env.items()}
            try:
                m = violation_margin(conj, exact_env, instance, exact=True)
                # decided exactly, not by the sign of m: a margin of 0 is a violation of
                # a strict claim (r2 = 1/2 against 'r2 < 1/2') and of 'A implies B' with
                # an equality A; assumptions' equalities are checked too
                violated = realized_violation(instance, exact_env, conj.claim, conj.assume)
            except (KeyError, ZeroDivisionError, Undefined, Undecided) as exc:
                record.update(confirmed=False, note=f"cannot evaluate the claim on the "
                              f"realized statistics: {exc}")
                return record
            record.update(estimates={k: fraction_text(v) if isinstance(v, Fraction) else v
                                     for k, v in sorted(env.items())},
                          interval=[_num(m), _num(m)], confirmed=violated,
                          note="exact computation from the realized object" if violated
                          else "the realized object does not violate the claim")
            return record
        # batch-means interval: the spread across 20 independent blocks gives the standard
        # error; it is centred on the whole-sample estimate (ratio estimators such as a
        # least-squares h2 are biased upward on small blocks, less so on the whole sample)
        batches = evidence.batch_estimates
        per_batch = [violation_margin(conj, b, instance) for b in batches]
        half = T_QUANTILE_99_DF19 * pystats.stdev(per_batch) / math.sqrt(len(per_batch))
        overall = violation_margin(conj, evidence.estimates, instance)
        lo, hi = overall - half, overall + half
        intervals = {}
        for name, value in evidence.estimates.items():
            xs = [b[name] for b in batches]
            h = T_QUANTILE_99_DF19 * pystats.stdev(xs) / math.sqrt(len(xs))
            intervals[name] = [round(value - h, 6), round(value + h, 6)]
        record.update(estimates={k: round(v, 6) for k, v in sorted(evidence.estimates.items())},
                      intervals=intervals, batches=len(batches),
                      violation_estimate=round(overall, 6),
                      interval=[round(lo, 6), round(hi, 6)], confidence=0.99)
        if lo > 0 and not math.isnan(overall):
            record.update(confirmed=True, note="the 99% interval of the violation margin "
                          "lies above 0")
            return record
        note = (f"with {evidence.samples} simulated families the 99% interval of the "
                f"violation margin is [{lo:.4g}, {hi:.4g}], not above 0")
        record.update(confirmed=False, note=note)
    return record


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


TRUST_ORDER = ("kernel", "certificate", "solvers", "solver")


def trust_rank(trust) -> int:
    """Higher is stronger; no trust (refuted, unknown) ranks lowest."""
    return len(TRUST_ORDER) - TRUST_ORDER.index(trust) if trust in TRUST_ORDER else 0


def reusable(conj: Conjecture, doc, kernel: bool = False) -> bool:
    """Whether a stored certificate is the result a fresh run would recompute: the same
    conjecture (normalized hash, source, id, title, expect), the same encoding, the same
    prover and solver versions, and a settled verdict. Reusing it leaves the file
    byte-identical (no new ``created`` or timings). With ``kernel``, a valid verdict not
    yet kernel-checked is recomputed so that it can earn trust 'kernel'."""
    if not isinstance(doc, dict) or doc.get("verdict") not in ("valid", "refuted"):
        return False
    same = (doc.get("format") == 1 and doc.get("id") == conj.id
            and doc.get("source") == conj.source and doc.get("title") == conj.title
            and doc.get("expect") == conj.expect
            and doc.get("conjecture_sha256") == conj.sha256()
            and doc.get("prover_version") == __version__)
    if not same:
        return False
    if kernel and doc.get("verdict") == "valid" and doc.get("trust") != "kernel":
        return False
    stored_solvers = doc.get("solvers")
    if not isinstance(stored_solvers, list):
        return False
    for entry in stored_solvers:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not solvers.available(name):
            return False
        try:
            if solvers.backend(name).version() != entry.get("version"):
                return False
        except Exception:
            return False
    try:
        problem = encode(conj.instance(), conj.claim, conj.assume)
    except ProverError:
        return False
    return problem.sha256() == doc.get("encoding_sha256")
