"""Exporting a stored result: the SMT-LIB problem, or a Coq proof that ``coqc`` checks.

Both exports rebuild the problem from the conjecture's source file (``conjecture.load``
then ``encode``), exactly as ``prover verify`` does; nothing about the problem is read from
the certificate, and a source that changed since the certificate was made is refused.

SMT-LIB (``--to smtlib``): the negated conjecture as ``Problem.smtlib()`` writes it (the
text the solvers answered), after a header of comments (id, claim, assumptions, model,
parameters, the expected answer) and ``(set-info :status ...)``: ``unsat`` for a valid
claim, ``sat`` for a refuted one. It runs unchanged in z3 and cvc5.

Coq (``--to coq``): a self-contained file (standard library only) stating

    Theorem claim_holds : forall (VA VD ... : R), hyp_1 -> ... -> hyp_n -> claim.

The hypotheses are the encoding's model constraints, auxiliary definitions, domain
conditions and assumptions, the conclusion is the encoded claim (not negated), each atom
``p REL 0`` rendered as ``0 <= p`` / ``0 < p`` / ``p = 0`` with exact rational
coefficients ``(p/q)``, And/Or as ``/\\`` / ``\\/``. The statement is the one the
checker's certificate is about: statistics are ratios whose positive denominators the
encoding cleared (the header lists them).

The proof mirrors ``prover.checker``. It decides the claim's atoms (``Rle_lt_dec``,
``Rlt_le_dec``, ``Rtotal_order``: constructive in Coq's reals) and destructs the
hypotheses' conjunctions and disjunctions, so that every branch either proves the claim
directly or ends with ``False`` to show from a context that contains one of the checker's
cases (hypothesis atoms plus negated-claim atoms). There the stored Positivstellensatz
identity for that case is replayed: each product of two inequality atoms becomes an
asserted fact ``0 <= g_i * g_j`` (``Rmult_le_pos`` / ``Rmult_lt_0_compat``), each
polynomial multiple of an equality atom an asserted ``q * h = 0`` (by rewriting and
``ring``), every hypothesis the identity does not use is cleared, and ``lra`` finds the
linear combination (the identity is linear in those facts, monomials treated as atoms).
No ``Admitted``, no axioms beyond those of Coq's real numbers (the file ends with
``Print Assumptions claim_holds``, and ``compile_coq`` refuses any other axiom).
"""

from __future__ import annotations

import json

from .coqtext import (ALLOWED_AXIOMS, COQ_THEOREM, CoqUnavailable, coq_formula, coq_poly,
                      coq_text, compile_coq, coqc_available)
from .errors import InputError
from .store import source_candidates

__all__ = ["export", "smtlib_text", "coq_text", "compile_coq", "coqc_available",
           "CoqUnavailable", "coq_poly", "coq_formula", "COQ_THEOREM", "ALLOWED_AXIOMS"]

FORMATS = ("coq", "smtlib")
# --- entry point ---------------------------------------------------------------------------

def export(store, cert_id: str, to: str) -> str:
    """The text of a stored result in format ``to`` ('coq' or 'smtlib')."""
    if to not in FORMATS:
        raise InputError(f"unknown export format {to!r}: choose one of {', '.join(FORMATS)}")
    doc = store.record(cert_id)
    if doc is None:
        known = store.ids()
        import difflib
        close = difflib.get_close_matches(cert_id, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else \
            f" (the store has {len(known)} certificate(s); `prover list` shows them)"
        raise InputError(f"no certificate with id '{cert_id}'{hint}")
    if to == "coq":
        _require_coq_exportable(cert_id, doc)
    conj, problem = _rebuild(store, cert_id, doc)
    if to == "smtlib":
        return smtlib_text(doc, problem)
    from .checker import CertificateError, check_proof
    if doc.proof.family is not None:
        problem = conj.proof_problem(doc.proof.family)
    try:
        check_proof(problem, doc.proof.payload())
    except CertificateError as exc:
        raise InputError(f"'{cert_id}': the stored certificate does not check against the "
                         f"rebuilt problem ({exc}); run `prover verify {cert_id}`") from None
    from .coq import NotStatedAsWritten, claim_text
    try:
        return claim_text(conj, doc.proof.payload(), _header_fields(doc))
    except NotStatedAsWritten as exc:
        raise InputError(f"cannot export '{cert_id}' as a Coq proof of the claim as written: "
                         f"{exc}. (Its certificate keeps trust 'certificate'; `--to smtlib` "
                         "exports the cleared problem.)") from None


def _require_coq_exportable(cert_id: str, doc) -> None:
    verdict = doc.verdict.value
    if verdict != "valid":
        what = {"refuted": "it is refuted: its evidence is a counterexample, which `prover "
                           "show` prints and `--to smtlib` exports as a satisfiable problem",
                "unknown": "its verdict is unknown: there is nothing to prove"}.get(
            verdict, f"its verdict is {verdict!r}")
        raise InputError(f"cannot export '{cert_id}' as a Coq proof: {what}. A Coq proof "
                         "needs a valid verdict with a farkas or polya certificate")
    kind = doc.proof.kind.value
    if not doc.proof.kind.exact:
        raise InputError(
            f"cannot export '{cert_id}' as a Coq proof: its proof is of kind {kind!r} "
            f"(trust '{doc.trust}'), not an exact farkas/polya certificate. A Coq "
            "proof is generated from the Positivstellensatz multipliers of such a "
            "certificate; this claim would need one (re-run `prover check` with a longer "
            "--timeout so the certificate search can finish, or a certificate kind with "
            "higher-degree products or sums of squares, which export does not render yet)")


def _rebuild(store, cert_id: str, doc):
    from .conjecture import load
    from .encode import encode

    source = doc.source
    path = next((p for p in source_candidates(store, source) if p.is_file()), None)
    if path is None:
        where = " or ".join(str(c) for c in source_candidates(store, source))
        raise InputError(f"'{cert_id}': its source {source} is not found (looked for {where}); "
                         "run export from the directory `prover check` ran in")
    conj = load(path)
    if conj.sha256() != doc.conjecture_sha256:
        raise InputError(f"'{cert_id}' is stale: {source} changed since the certificate was "
                         "made (conjecture_sha256 differs); run `prover check` on it first")
    problem = encode(conj.instance(), conj.claim, conj.assume)
    if doc.encoding_sha256 != problem.sha256():
        raise InputError(f"'{cert_id}' is stale: the encoding differs from the stored one "
                         "(prover changed); run `prover check` on it first")
    return conj, problem


def _header_fields(doc) -> list[tuple[str, str]]:
    fields = [("id", doc.id),
              ("title", doc.title),
              ("source", doc.source),
              ("claim", doc.claim),
              ("assume", "; ".join(doc.assume) or "(none)"),
              ("model", doc.model.name),
              ("params", ", ".join(f"{k} = {_param_text(v)}" for k, v in
                                   sorted(doc.model.params.items())) or "(none)"),
              ("verdict", doc.verdict.value + (f" (trust {doc.trust})" if doc.trust else "")),
              ("conjecture_sha256", doc.conjecture_sha256)]
    return [(k, v) for k, v in fields if v]


def _param_text(v) -> str:
    return json.dumps(v) if isinstance(v, bool) else str(v)


# --- SMT-LIB -------------------------------------------------------------------------------

def _smt_comment(text: str) -> str:
    return " ".join(str(text).split())


def smtlib_text(doc, problem) -> str:
    verdict = doc.verdict.value
    status = {"valid": "unsat", "refuted": "sat"}.get(verdict, "unknown")
    meaning = {"unsat": "the negated claim has no solution: the claim holds (valid)",
               "sat": "the negated claim has a solution: a counterexample (refuted)",
               "unknown": f"not known (verdict {verdict})"}[status]
    lines = ["; prover export: the negated conjecture as exact constraints"]
    lines += [f"; {k}: {_smt_comment(v)}" for k, v in _header_fields(doc)]
    lines.append(f"; expected answer: {status} ({meaning})")
    lines.append("; statistics are ratios; their provably positive denominators are cleared")
    body = problem.smtlib().splitlines()
    # set-info is legal anywhere; after set-logic keeps the logic the first command
    body.insert(1, f"(set-info :status {status})")
    return "\n".join(lines + body) + "\n"


