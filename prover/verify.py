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
from dataclasses import dataclass

from .errors import InputError, MalformedCertificate, ProverError
from .store import BadEntry, certificate_problem

ESTIMATE_TOLERANCE = 1e-6
TRUST_LEVELS = ("kernel", "certificate", "solvers", "solver")


@dataclass
class Report:
    id: str
    status: str        # 'pass' | 'failed' | 'stale' | 'malformed' | 'unchecked'
    detail: str

    def to_json(self) -> dict:
        return {"id": self.id, "status": self.status, "detail": self.detail}


def verify_store(store, ids: list[str] | None = None, timeout: float | None = None,
                 kernel: bool = False) -> list[Report]:
    """Verify the given ids (default: every entry). ``kernel``: also re-compile the Coq
    proofs behind trust 'kernel' (slow: about 1.5 s each)."""
    reports = []
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
            reports.append(verify_one(doc, timeout, kernel, store))
        return reports
    for cid, doc in store.entries():
        if isinstance(doc, BadEntry):
            reports.append(Report(cid, "malformed", f"{doc.path}: {doc.reason}"))
        else:
            reports.append(verify_one(doc, timeout, kernel, store))
    return reports


def verify_one(doc: dict, timeout: float | None = None, kernel: bool = False,
               store=None) -> Report:
    cid = str(doc.get("id", "?"))
    problem = certificate_problem(doc)
    if problem:
        try:
            where = store.path_for(cid) if hasattr(store, "path_for") else cid
        except ProverError:
            where = cid
        return Report(cid, "malformed", f"{where}: {problem}")
    try:
        return _verify(doc, timeout, kernel, store)
    except ProverError as exc:
        return Report(cid, "failed", str(exc))
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError,
            IndexError) as exc:
        return Report(cid, "malformed", f"{type(exc).__name__}: {exc}")


def _verify(doc: dict, timeout: float | None, kernel: bool = False, store=None) -> Report:
    from .conjecture import could_be, load
    from .encode import encode

    cid = doc["id"]
    source = doc.get("source")
    if not isinstance(source, str):
        return Report(cid, "failed", "certificate has no source path")
    from .store import source_candidates
    candidates = source_candidates(store, source) if store is not None else [source]
    path = next((p for p in candidates if os.path.isfile(p)), candidates[0])
    try:
        conj = load(path)
    except InputError as exc:
        if "no such file" in str(exc) or "cannot read" in str(exc):
            return Report(cid, "stale", f"source {source} is gone")
        return Report(cid, "stale", f"source no longer loads: {exc}")
    if conj.sha256() != doc.get("conjecture_sha256"):
        return Report(cid, "stale", f"{source} changed since the certificate was made; "
                                    "run `prover check` on it")
    if not could_be(conj, cid):
        return Report(cid, "stale", f"{source} now has id '{conj.id}'")
    mismatch = _displayed_fields_mismatch(doc, conj)
    if mismatch:
        return Report(cid, "failed", mismatch)
    instance = conj.instance()
    problem = encode(instance, conj.claim, conj.assume)
    if problem.sha256() != doc.get("encoding_sha256"):
        return Report(cid, "stale", "the encoding differs from the stored one (prover "
                                    "changed); re-run `prover check`")
    verdict = doc.get("verdict")
    trust = doc.get("trust")
    if verdict == "valid":
        if trust not in TRUST_LEVELS:
            return Report(cid, "failed", f"verdict 'valid' with trust {trust!r}; trust must "
                                         f"be one of {', '.join(TRUST_LEVELS)}")
        return _verify_valid(cid, doc, problem, timeout, kernel)
    # only a valid verdict rests on trust or a proof; anything else is an inconsistent
    # (edited) document
    if trust is not None or doc.get("proof") is not None:
        return Report(cid, "failed", f"verdict {verdict!r} but the certificate carries "
                                     + ("a proof" if doc.get("proof") is not None
                                        else f"trust {trust!r}")
                                     + ": only a valid verdict has them")
    if verdict == "refuted":
        if not isinstance(doc.get("counterexample"), dict):
            return Report(cid, "failed", "verdict 'refuted' but the certificate has no "
                                         "counterexample")
        return _verify_refuted(cid, doc, conj, instance)
    if verdict == "unknown":
        if not doc.get("reason"):
            return Report(cid, "failed", "verdict 'unknown' without a reason")
        return Report(cid, "pass", "verdict unknown: nothing is claimed")
    return Report(cid, "failed", f"unrecognised verdict {verdict!r}")


def _displayed_fields_mismatch(doc: dict, conj) -> str | None:
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
    for field, value in expected.items():
        if doc.get(field) != value:
            return (f"field '{field}' is {doc.get(field)!r} in the certificate but "
                    f"{value!r} in its source {doc.get('source')}: the certificate was "
                    "edited; re-run `prover check`")
    return None


def _verify_valid(cid, doc, problem, timeout, kernel=False) -> Report:
    proof = doc.get("proof") or {}
    kind = proof.get("kind")
    trust = doc.get("trust")
    if kind in ("farkas", "polya", "sos"):
        from .checker import CertificateError, check_proof
        try:
            summary = check_proof(problem, proof)
        except CertificateError as exc:
            return Report(cid, "failed", f"certificate rejected: {exc}")
        if trust == "kernel":
            return _verify_kernel(cid, problem, proof, summary, kernel)
        if trust != "certificate":
            # weaker trust than the certificate shows means the document was edited
            return Report(cid, "failed", f"trust '{trust}' does not match a {kind} "
                                         "certificate (that is trust 'certificate')")
        return Report(cid, "pass", summary)
    if trust == "kernel":
        return Report(cid, "failed", "trust 'kernel' claimed, but the certificate holds no "
                                     "proof-assistant proof that verify could re-check")
    if trust == "certificate":
        return Report(cid, "failed", f"trust 'certificate' claimed without a certificate "
                                     f"(proof kind {kind!r})")
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


def _verify_kernel(cid, problem, proof, summary, recompile: bool) -> Report:
    """Trust 'kernel' must rest on a Coq proof that compiled; with ``recompile`` (and coqc
    here) it is compiled again (the exact certificate was already re-checked either way)."""
    from .export import coq_text, coqc_available, compile_coq

    if not (proof.get("coq") or {}).get("compiled"):
        return Report(cid, "failed", "trust 'kernel' claimed but no compiled Coq proof recorded")
    if not recompile:
        return Report(cid, "pass", summary + "; Coq proof on record (`verify --kernel` "
                                              "re-compiles it)")
    if not coqc_available():
        return Report(cid, "pass", summary + "; coqc not installed here, so the Coq proof "
                                              "was not re-compiled")
    ok, output = compile_coq(coq_text(problem, proof))
    if not ok:
        return Report(cid, "failed", "the exported Coq proof no longer compiles: "
                                     + output.strip().splitlines()[-1][:300])
    return Report(cid, "pass", summary + "; Coq kernel re-checked the proof")


def _verify_refuted(cid, doc, conj, instance) -> Report:
    from .check import confirm, counterexample_record, is_counterexample
    from .store import str_to_fraction

    ce = doc.get("counterexample") or {}
    if ce.get("family") == "concrete":
        if instance.concrete is None:
            return Report(cid, "failed", "counterexample on a concrete family the model lacks")
        instance = instance.concrete
    stored_values = ce.get("values") or {}
    if set(stored_values) != set(instance.variables):
        return Report(cid, "failed", "the counterexample does not give exactly the model's "
                                     "variables")
    values = {k: str_to_fraction(v) for k, v in stored_values.items()}
    if not is_counterexample(conj, instance, values):
        return Report(cid, "failed", "the stored values do not violate the claim exactly")
    numeric = ce.get("numeric_check") or {}
    seed = numeric.get("seed")
    fresh_numeric = confirm(conj, instance, values, seed if seed is not None else 0)
    fresh = counterexample_record(conj, instance, values, dict(fresh_numeric))
    for key, verb in (("statistics", "differ"), ("violation", "differs")):
        if fresh[key] != ce.get(key):
            return Report(cid, "failed", f"stored {key} {verb} from the exact recomputation")
    if fresh["realization"] != ce.get("realization"):
        return Report(cid, "failed", "stored realization differs from the rebuilt one")
    if not fresh_numeric["confirmed"]:
        return Report(cid, "failed", "numeric re-confirmation failed: " + fresh_numeric["note"])
    old_est = numeric.get("estimates") or {}
    new_est = fresh["numeric_check"].get("estimates") or {}
    for name, value in old_est.items():
        new = new_est.get(name)
        if isinstance(value, (int, float)) and isinstance(new, (int, float)):
            if not math.isclose(value, new, rel_tol=ESTIMATE_TOLERANCE, abs_tol=1e-6):
                return Report(cid, "failed", f"estimate of {name} not reproduced "
                                             f"({value} stored, {new} now)")
        elif value != new:
            return Report(cid, "failed", f"estimate of {name} not reproduced")
    return Report(cid, "pass", "counterexample re-checked exactly and re-confirmed: "
                               + fresh_numeric["note"])
