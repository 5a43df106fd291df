"""Re-checking stored certificates with no trust in the run that wrote them.

For each certificate: the source file must still hold the same conjecture (else
*stale*); the problem is rebuilt from the source, never read from the certificate; a
farkas/polya proof is re-checked by ``prover.checker`` (no solver needed); a ``valid``
resting on solvers is re-solved; a counterexample is re-evaluated exactly from its stored
values (model constraints, assumptions, the claim, every stored statistic) and re-realized
with its stored seed, and must be confirmed again with the same estimates.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field as _field

from .errors import InputError, MalformedCertificate, ProverError
from .store import BadEntry

ESTIMATE_TOLERANCE = 1e-6


@dataclass
class Report:
    id: str
    status: str        # 'pass' | 'failed' | 'stale' | 'malformed' | 'unchecked'
    detail: str
    # a Coq proof still to be re-compiled (``verify --kernel``): all of a run's go to coqc
    # together (``_compile_pending``), then the status says what coqc answered
    coq_text: str | None = _field(default=None, repr=False, compare=False)

    def to_json(self) -> dict:
        return {"id": self.id, "status": self.status, "detail": self.detail}


def verify_store(store, ids: list[str] | None = None, timeout: float | None = None,
                 kernel: bool = False, jobs: int | None = None,
                 memory: int | None = None, cluster=None) -> list[Report]:
    """Verify the given ids (default: every entry). ``kernel``: also re-compile the Coq
    proofs behind trust 'kernel' — all in one batch (``prover.coq.compile_many``: coqrun.py, never
    from the cache). Each certificate is verified in a pipeline worker (``jobs`` at once,
    default the machine's cores) under the budget ``timeout`` (default the check's), the
    memory cap ``memory`` (default ``pipeline.DEFAULT_MEMORY``) and a process-group kill:
    a store may come from a stranger, and one certificate that hangs or exhausts memory
    fails alone. ``cluster`` (a ``distributed_run.Cluster``): verified there instead,
    each against its source as read here; the Coq proofs are compiled here."""
    reports = _verify_store(store, ids, timeout, kernel, jobs, memory, cluster)
    _compile_pending(reports, jobs)
    return reports


def verify_many(store, docs, timeout: float | None = None, kernel: bool = False,
                jobs: int | None = None, memory: int | None = None) -> list[Report]:
    """``_verify_one`` on each (id, document) of ``docs`` in pipeline workers (see
    ``verify_store``); Reports in input order, their Coq proofs still to be compiled."""
    from functools import partial

    from . import models, pipeline
    from .check import DEFAULT_TIMEOUT
    if not docs:
        return []
    seconds = float(timeout or DEFAULT_TIMEOUT)
    tasks = [pipeline.CallTask(_verify_one, (doc, timeout, kernel, store), seconds,
                               partial(_unfinished, cid, seconds)) for cid, doc in docs]
    known = set(models.names())
    used = sorted({name for _, doc in docs if (name := _model_name(doc)) in known})
    return list(pipeline.run_calls(
        tasks, jobs=jobs or os.cpu_count() or 1, models=tuple(used),
        memory=pipeline.DEFAULT_MEMORY if memory is None else memory))


def _model_name(doc) -> str | None:
    """The model a stored document names (None where it names none readably)."""
    model = getattr(doc, "model", None)
    if model is not None:
        return getattr(model, "name", None)
    if isinstance(doc, dict) and isinstance(doc.get("model"), dict):
        name = doc["model"].get("name")
        return name if isinstance(name, str) else None
    return None


def _unfinished(cid: str, seconds: float, event: str, detail, phase: str,
                elapsed: float) -> Report:
    """The report on a certificate whose verification the worker did not finish."""
    from .pipeline import exit_text
    if event == "error":
        why = f"the verification stopped: {detail}"
    elif event == "died":
        why = f"the verifying worker died ({exit_text(detail)}); try a larger --memory"
    elif event == "budget":
        why = (f"the verification did not finish within {seconds:g} s (--timeout); "
               "try a longer --timeout")
    else:
        why = "no worker process could be started"
    return Report(cid, "failed", why + "; the certificate is not passed")


def _verify_store(store, ids, timeout, kernel, jobs, memory, cluster=None) -> list[Report]:
    reports: list[Report | None] = []
    pending: list[tuple[int, str, object]] = []
    if ids:
        for cid in ids:
            try:
                doc = store.fetch(cid)
            except MalformedCertificate as exc:
                reports.append(Report(cid, "malformed", f"{exc.path}: {exc.reason}"))
                continue
            except ProverError as exc:
                reports.append(Report(cid, "failed", f"unreadable: {exc}"))
                continue
            if doc is None:
                reports.append(Report(cid, "failed", "no such certificate"))
                continue
            pending.append((len(reports), cid, doc))
            reports.append(None)
    else:
        for cid, doc in store.entries():
            if isinstance(doc, BadEntry):
                reports.append(Report(cid, "malformed", f"{doc.path}: {doc.reason}"))
            else:
                pending.append((len(reports), cid, doc))
                reports.append(None)
    docs = [(cid, doc) for _, cid, doc in pending]
    done = verify_many(store, docs, timeout, kernel, jobs, memory) if cluster is None \
        else cluster.verify_many(store, docs, timeout=timeout, kernel=kernel, jobs=jobs,
                                 memory=memory)
    for (k, _, _), report in zip(pending, done):
        reports[k] = report
    return reports


def _compile_pending(reports: list[Report], jobs: int | None = None) -> None:
    """Re-compile the Coq proofs the reports hold, in one batch (a failing one isolated,
    no cache: each is compiled again here), ``jobs`` coqc runs at once (default and at
    most the machine's cores, as --jobs); each report then says what coqc answered."""
    pending = [r for r in reports if r.coq_text is not None and r.status == "pass"]
    for r in reports:
        if r.status != "pass":
            r.coq_text = None
    if not pending:
        return
    from .coq import compile_many
    from .pipeline import worker_count
    results = compile_many([r.coq_text for r in pending], cache=False,
                           jobs=worker_count(jobs or os.cpu_count() or 1, len(pending)))
    for report, (ok, output) in zip(pending, results):
        report.coq_text = None
        if ok:
            report.detail += "; Coq kernel re-checked the proof of the claim as written"
        else:
            lines = output.strip().splitlines() or ["(no output)"]
            report.status = "failed"
            report.detail = "the exported Coq proof no longer compiles: " + lines[-1][:300]


def verify_one(doc: dict, timeout: float | None = None, kernel: bool = False,
               store=None) -> Report:
    """Verify one certificate document (``kernel``: re-compile its Coq proof too)."""
    report = _verify_one(doc, timeout, kernel, store)
    _compile_pending([report])
    return report


def _verify_one(doc, timeout: float | None = None, kernel: bool = False,
                store=None) -> Report:
    """``doc``: a certificate record, or a parsed document, read into one first: a
    document that is not a format-2 certificate is 'malformed', the detail naming the
    file and the field."""
    from .record import Certificate
    from .record import MalformedCertificate as Malformed
    if isinstance(doc, Certificate):
        rec = doc
    else:
        cid = str(doc.get("id", "?")) if isinstance(doc, dict) else "?"
        try:
            rec = Certificate.from_json(doc)
        except Malformed as exc:
            try:
                where = store.path_for(cid) if hasattr(store, "path_for") else cid
            except ProverError:
                where = cid
            return Report(cid, "malformed", f"{where}: {exc}")
    try:
        return _verify(rec, timeout, kernel, store)
    except ProverError as exc:
        return Report(rec.id, "failed", str(exc))
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError,
            IndexError) as exc:
        # the record holds together, but an evidence payload (a proof's cases, a
        # realization) has a shape the checker cannot read
        return Report(rec.id, "malformed", f"{type(exc).__name__}: {exc}")


def _verify(rec, timeout: float | None, kernel: bool = False, store=None) -> Report:
    from .conjecture import could_be, load
    from .encode import encode

    cid, source = rec.id, rec.source
    from .store import source_path
    path = source_path(store, source)
    try:
        conj = load(path)
    except InputError as exc:
        if "no such file" in str(exc) or "cannot read" in str(exc):
            return Report(cid, "stale", f"source {source} is gone")
        return Report(cid, "stale", f"source no longer loads: {exc}")
    if conj.sha256() != rec.conjecture_sha256:
        return Report(cid, "stale", f"{source} changed since the certificate was made "
                                    "(field 'conjecture_sha256' differs); run `prover check` "
                                    "on it")
    if not could_be(conj, cid):
        return Report(cid, "stale", f"{source} now has id '{conj.id}'")
    mismatch = _displayed_fields_mismatch(rec, conj)
    if mismatch:
        return Report(cid, "failed", mismatch)
    instance = conj.instance()
    problem = encode(instance, conj.claim, conj.assume)
    if problem.sha256() != rec.encoding_sha256:
        return Report(cid, "stale", "field 'encoding_sha256' differs from the encoding of "
                                    "the source (prover changed, or the field was edited); "
                                    "re-run `prover check`")
    vacuity_failure, vacuity_note = _check_vacuity(rec, conj, instance, problem, timeout)
    if vacuity_failure:
        return Report(cid, "failed", vacuity_failure)
    report = _verify_verdict(cid, rec, conj, instance, problem, timeout, kernel)
    if report.status == "pass" and vacuity_note:
        report.detail += "; " + vacuity_note
    return report


def _verify_verdict(cid, rec, conj, instance, problem, timeout, kernel) -> Report:
    """The record already holds together (a valid verdict has a trust and a proof, a
    refuted one a counterexample and neither, an unknown one a reason): check the
    evidence itself."""
    if rec.verdict == "valid":
        return _verify_valid(cid, rec, problem, timeout, kernel, conj)
    if rec.verdict == "refuted":
        return _verify_refuted(cid, rec, conj, instance)
    if rec.counterexample is not None:
        return _verify_candidate(cid, rec, conj, instance)
    return Report(cid, "pass", "verdict unknown: nothing is claimed")


def _verify_candidate(cid, rec, conj, instance) -> Report:
    """An unknown verdict's candidate counterexample: shown by `show` and the site, so
    recomputed like a refutation's — its values must violate the claim exactly, and every
    stored field (statistics, violation, sides, realization, the numeric check) must be
    what re-evaluating them and re-running the confirmation from the stored seed gives —
    except that the confirmation must fail (a confirmed one makes the verdict
    'refuted')."""
    failure, instance, values, fresh_numeric = _reconfirm(rec.counterexample, conj, instance)
    if failure is None:
        return Report(cid, "failed", "field 'verdict' is 'unknown', but its counterexample is "
                                     "confirmed (re-evaluated exactly and re-confirmed): the "
                                     "verdict is 'refuted'")
    if fresh_numeric is None:           # not even an exact violation: nothing to compare
        return Report(cid, "failed", f"the candidate counterexample: {failure}")
    mismatch = _counterexample_mismatch(rec, conj, instance, values, fresh_numeric)
    if mismatch:
        return Report(cid, "failed", mismatch)
    return Report(cid, "pass", "verdict unknown: nothing is claimed (its candidate "
                               "counterexample, re-checked exactly and re-run from its seed, "
                               "is not confirmed: " + fresh_numeric["note"] + ")")


def _reconfirm(ce, conj, instance):
    """A stored counterexample re-evaluated exactly and re-confirmed from its seed:
    (why it fails, or None; the family it lives on; its exact values; the fresh check)."""
    from .confirm import confirm
    from .counterexample import is_counterexample
    from .store import str_to_fraction
    if ce.family == "concrete":
        if instance.concrete is None:
            return "counterexample on a concrete family the model lacks", instance, None, None
        instance = instance.concrete
    if set(ce.values) != set(instance.variables):
        return ("the counterexample does not give exactly the model's variables", instance,
                None, None)
    values = {k: str_to_fraction(v) for k, v in ce.values.items()}
    if not is_counterexample(conj, instance, values):
        return "the stored values do not violate the claim exactly", instance, values, None
    seed = ce.numeric_check.get("seed")
    fresh = confirm(conj, instance, values, seed if seed is not None else 0)
    if not fresh["confirmed"]:
        return "numeric re-confirmation failed: " + fresh["note"], instance, values, fresh
    return None, instance, values, fresh


def _check_vacuity(rec, conj, instance, problem, timeout) -> tuple[str | None, str]:
    """Re-derive the 'vacuous' flag: (failure or None, note for the report).

    Not vacuous is shown by the stored witness, a point where the model's constraints and
    every assumption hold exactly (a refutation's counterexample is one too, checked with
    it). Vacuous (hypotheses contradictory) is re-solved when a solver is here; without
    one, or without a witness, the report says the flag was not re-checked."""
    from .counterexample import hypotheses_hold
    from .store import str_to_fraction

    vacuous = rec.vacuous
    witness = rec.witness
    if witness is not None:
        try:
            point = {k: str_to_fraction(v) for k, v in witness.items()}
        except ValueError as exc:
            return f"field 'witness': {exc}", ""
        if not hypotheses_hold(conj, instance, point):
            return ("field 'witness' is not a point of the family where every assumption "
                    "holds (checked exactly)"), ""
        if vacuous:
            return ("field 'vacuous' is true, but the hypotheses hold at the stored witness "
                    "(checked exactly)"), ""
        return None, ""
    if rec.verdict == "refuted":
        if vacuous:
            return "field 'vacuous' is true, but a refuted claim's counterexample satisfies " \
                   "the hypotheses", ""
        return None, ""
    from . import solvers
    if not solvers.available("z3"):
        return None, "vacuity as recorded (no witness, and no solver here to re-check it)"
    r = solvers.solve("z3", problem.smtlib(negated=False), timeout or 60.0)
    if r.result == "unknown":
        return None, f"vacuity as recorded (re-solving gave no answer: {r.reason})"
    if vacuous != (r.result == "unsat"):
        return (f"field 'vacuous' is {str(vacuous).lower()}, but re-solving finds the "
                f"hypotheses {'un' if r.result == 'unsat' else ''}satisfiable"), ""
    return None, f"vacuity re-solved by z3 ({r.result})"


def _displayed_fields_mismatch(rec, conj) -> str | None:
    """The fields that `show`, `list` and the site display must be exactly those of the
    re-parsed source conjecture: the evidence is checked against the source, so a claim,
    assumption, model or parameter edited in the certificate alone would otherwise be
    displayed as proved. Returns a message naming the first field that differs."""
    from . import expr as E

    expected = {
        "claim": E.to_text(conj.claim),
        "assume": [E.to_text(a) for a in conj.assume],
        "model": {"name": conj.model, "params": conj.params},
        "expect": conj.expect,
    }
    stored = {"claim": rec.claim, "assume": list(rec.assume), "model": rec.model.to_json(),
              "expect": None if rec.expect is None else rec.expect.value}
    for field, value in expected.items():
        if stored[field] != value:
            return (f"field '{field}' is {stored[field]!r} in the certificate but "
                    f"{value!r} in its source {rec.source}: the certificate was "
                    "edited; re-run `prover check`")
    return None


def _proof_fields_mismatch(proof, trust: str) -> str | None:
    """The proof's descriptive fields, re-derived from what it is: ``checker`` names the
    checker of its kind (none for solvers' answers), and the ``unsat`` answers of an
    smt proof are distinct known solvers, two or more exactly when trust is 'solvers'."""
    from .record import checker_description as description
    from .solvers import BACKENDS

    kind = proof.kind.value
    expected = description(kind) if proof.kind.exact else None
    if proof.checker != expected:
        return (f"field 'proof.checker' is {proof.checker!r}, but a {kind} proof is "
                + (f"checked by {expected!r}" if expected else "checked by no checker")
                + ": the certificate was edited")
    if proof.kind.exact:
        if proof.unsat is not None:
            return f"field 'proof.unsat' is set on a {kind} certificate, which no solver backs"
        return None
    unsat = list(proof.unsat or ())
    unknown = [name for name in unsat if name not in BACKENDS]
    if not unsat or unknown or len(set(unsat)) != len(unsat):
        return (f"field 'proof.unsat' is {unsat!r}: it must name the distinct solvers that "
                f"answered unsat, among {', '.join(sorted(BACKENDS))}")
    if (trust == "solvers") != (len(unsat) >= 2):
        return (f"trust '{trust}' does not match {len(unsat)} unsat answer(s) in "
                "'proof.unsat' (trust 'solvers' is two or more, 'solver' one)")
    return None


def _verify_valid(cid, rec, problem, timeout, kernel=False, conj=None) -> Report:
    proof = rec.proof
    kind = proof.kind.value
    trust = rec.trust.value
    mismatch = _proof_fields_mismatch(proof, trust)
    if proof.kind.exact:
        from .checker import CertificateError, check_proof
        if proof.family is not None:
            if conj is None:
                return Report(cid, "failed", "internal error: the conjecture is needed to "
                                             "encode its concrete family")
            try:
                problem = conj.proof_problem(proof.family)
            except ValueError as exc:
                return Report(cid, "failed", f"field 'proof.family': {exc}")
        try:
            summary = check_proof(problem, proof.payload())
        except CertificateError as exc:
            return Report(cid, "failed", f"certificate rejected: {exc}")
        if mismatch:
            return Report(cid, "failed", mismatch)
        if trust == "kernel":
            return _verify_kernel(cid, problem, proof, summary, kernel, conj)
        if trust != "certificate":
            # weaker trust than the certificate shows means the document was edited
            return Report(cid, "failed", f"trust '{trust}' does not match a {kind} "
                                         "certificate (that is trust 'certificate')")
        if proof.coq is not None and proof.coq.compiled:
            # the run that compiled it gave trust 'kernel' (check.kernel_check_batch)
            return Report(cid, "failed", "trust 'certificate', but a compiled Coq proof is "
                                         "recorded (proof.coq.compiled), which is trust "
                                         "'kernel': the certificate was edited")
        if proof.family is not None:
            summary += f" (over the {proof.family} family's encoding)"
        return Report(cid, "pass", summary)
    if trust == "kernel":
        return Report(cid, "failed", "trust 'kernel' claimed, but the certificate holds no "
                                     "proof-assistant proof that verify could re-check")
    if trust == "certificate":
        return Report(cid, "failed", f"trust 'certificate' claimed without a certificate "
                                     f"(proof kind {kind!r})")
    if mismatch:
        return Report(cid, "failed", mismatch)
    # no solver-free certificate: re-solve
    from . import solvers
    names = [n for n in ("z3", "cvc5") if solvers.available(n)]
    if not names:
        return Report(cid, "unchecked", "valid by solvers only, and neither z3 nor cvc5 is "
                                        "importable here")
    results = [solvers.solve(n, problem.smtlib(), timeout or 60.0) for n in names]
    said = ", ".join(f"{r.solver}: {r.result}" for r in results)
    if any(r.result == "sat" for r in results):
        return Report(cid, "failed", f"re-solving found the negated claim satisfiable ({said})")
    if not any(r.result == "unsat" for r in results):
        return Report(cid, "unchecked", f"re-solving gave no answer ({said})")
    if trust == "solvers" and sum(r.result == "unsat" for r in results) < 2:
        return Report(cid, "unchecked", f"trust 'solvers' needs both to answer unsat ({said})")
    return Report(cid, "pass", f"re-solved: {said}")


def _verify_kernel(cid, problem, proof, summary, recompile: bool, conj=None) -> Report:
    """Trust 'kernel' must rest on a Coq proof that compiled, of the claim as written
    (``prover.coq.claim_text``), regenerated here from the source: its sha256 must be the
    recorded one. With ``recompile`` (and coqc here) it is compiled again — always, never
    from the cache (the exact certificate was already re-checked either way)."""
    import hashlib
    from .coq import NotStatedAsWritten, claim_text
    from .coqtext import coqc_available

    record = proof.coq
    if record is None or not record.compiled:
        return Report(cid, "failed", "trust 'kernel' claimed but no compiled Coq proof recorded")
    if conj is None:
        return Report(cid, "failed", "internal error: the conjecture is needed to restate "
                                     "its claim in Coq")
    try:
        text = claim_text(conj, proof.payload())
    except NotStatedAsWritten as exc:
        return Report(cid, "failed", f"trust 'kernel' claimed, but the claim cannot be "
                                     f"stated as written in Coq: {exc}")
    if hashlib.sha256(text.encode()).hexdigest() != record.file_sha256:
        return Report(cid, "stale", "the Coq proof regenerated from the source differs from "
                                    "the one compiled (proof.coq.file_sha256): re-run "
                                    "`prover check --kernel`")
    if not recompile:
        return Report(cid, "pass", summary + "; Coq proof of the claim as written on record "
                                              "(`verify --kernel` re-compiles it)")
    if not coqc_available():
        return Report(cid, "pass", summary + "; coqc not installed here, so the Coq proof "
                                              "was not re-compiled")
    return Report(cid, "pass", summary, coq_text=text)   # compiled by _compile_pending


def _verify_refuted(cid, rec, conj, instance) -> Report:
    failure, instance, values, fresh_numeric = _reconfirm(rec.counterexample, conj, instance)
    if failure:
        return Report(cid, "failed", failure)
    mismatch = _counterexample_mismatch(rec, conj, instance, values, fresh_numeric)
    if mismatch:
        return Report(cid, "failed", mismatch)
    return Report(cid, "pass", "counterexample re-checked exactly and re-confirmed: "
                               + fresh_numeric["note"])


def _counterexample_mismatch(rec, conj, instance, values, fresh_numeric) -> str | None:
    """The first stored field of the counterexample that differs from its recomputation
    (values re-evaluated exactly, realization rebuilt, confirmation re-run), or None."""
    from .confirm import counterexample_record

    ce = rec.counterexample.to_json()       # compared field by field with the recomputation
    fresh = counterexample_record(conj, instance, values, dict(fresh_numeric))
    if ce.get("family") == "concrete":
        fresh["family"] = "concrete"
    # every stored field of the counterexample is recomputed: exact ones must be equal,
    # floating estimates (simulation) equal up to ESTIMATE_TOLERANCE
    order = ["values", "statistics", "violation", "sides", "realization", "numeric_check"]
    for key in sorted((set(fresh) | set(ce)) - {"maximized"},
                      key=lambda k: (order.index(k) if k in order else len(order), k)):
        where = _first_difference(ce.get(key), fresh.get(key), f"counterexample.{key}")
        if where:
            return (f"field '{where}' differs from the recomputation (stored values "
                    "re-evaluated exactly, realization rebuilt and re-confirmed from the "
                    "stored seed)")
    # 'maximized' records the search for a larger violation (solver answers), not evidence:
    # only its violation, which must be the counterexample's where that is exact, is checked
    searched = ce.get("maximized")
    if searched is not None and (not isinstance(searched, dict) or (
            "violation" in searched and isinstance(fresh.get("violation"), str)
            and searched["violation"] != fresh["violation"])):
        return ("field 'counterexample.maximized.violation' is not the counterexample's "
                "exact violation")
    return None


def _first_difference(stored, fresh, path: str) -> str | None:
    """The dotted path of the first place where ``stored`` and ``fresh`` differ; floats
    (simulation estimates) compare up to ESTIMATE_TOLERANCE, everything else exactly."""
    if isinstance(stored, dict) and isinstance(fresh, dict):
        for key in sorted(set(stored) | set(fresh), key=str):
            where = _first_difference(stored.get(key), fresh.get(key), f"{path}.{key}")
            if where:
                return where
        return None
    if isinstance(stored, list) and isinstance(fresh, list):
        if len(stored) != len(fresh):
            return path
        for i, (a, b) in enumerate(zip(stored, fresh)):
            where = _first_difference(a, b, f"{path}[{i}]")
            if where:
                return where
        return None
    if isinstance(stored, bool) or isinstance(fresh, bool):
        return None if stored is fresh else path
    if isinstance(stored, float) or isinstance(fresh, float):
        if isinstance(stored, (int, float)) and isinstance(fresh, (int, float)) and \
                (math.isclose(stored, fresh, rel_tol=ESTIMATE_TOLERANCE, abs_tol=2e-6) or
                 (math.isnan(stored) and math.isnan(fresh))):
            return None
        return path
    return None if stored == fresh and type(stored) is type(fresh) else path
