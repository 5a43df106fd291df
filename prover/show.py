"""Rendering a stored certificate for a person: statement, family, verdict, evidence.

A counterexample reads as a sentence a geneticist can follow: the architecture, the
statistics, and by how much the claim fails. Only the stored document is used (no
solver, no model import), so ``prover show`` is instant.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import MalformedCertificate
from .models.display import approx_text
from .record import Certificate, Counterexample, Proof, Verdict, thaw

TRUST_TEXT = {
    "kernel": "a proof assistant's kernel (Coq) checked the proof",
    "certificate": "an exact certificate was checked by prover's own small checker, no solver trusted",
    "solvers": "Z3 and cvc5 both found the negated claim unsatisfiable",
    "solver": "one SMT solver found the negated claim unsatisfiable",
}

# beside a field `prover verify` cannot re-derive (what the run said, not evidence)
RECORDED = "(as recorded by the run; `prover verify` does not re-check it)"


def _num(text) -> str:
    """'3/8' -> '3/8 (≈0.375)'; integers and floats as they are."""
    return approx_text(text)


def _architecture(model_name: str, real: Mapping) -> list[str]:
    """How the counterexample was realized, in the model's own words when the model says
    (``Model.realization_lines``), else field by field."""
    from . import models
    real = thaw(real) if isinstance(real, Mapping) else {}
    try:
        lines = models.get(model_name).realization_lines(real)
    except Exception:          # an unknown model, or a realization of another shape
        lines = None
    if lines is not None:
        return lines
    return [f"  {key}: {value}" for key, value in real.items()]


def render(cert: Certificate, problem=None, why_not: str = "") -> str:
    """The certificate record as ``prover show`` prints it. The record's evidence payloads
    (a proof's cases, a realization, a numeric check) are JSON of any shape in a
    stranger's store: one of the wrong shape raises MalformedCertificate naming what was
    being shown -- never KeyError or TypeError."""
    try:
        return _render(cert, problem, why_not)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError,
            ArithmeticError, RecursionError) as exc:
        what = {KeyError: "a field is missing"}.get(type(exc), "a field has the wrong type")
        raise MalformedCertificate(f"cannot be shown: {what} ({type(exc).__name__}: {exc})",
                                   reason=f"cannot be shown: {what} "
                                          f"({type(exc).__name__}: {exc})") from None


def _render(cert: Certificate, problem=None, why_not: str = "") -> str:
    out = []
    out.append(cert.id + (f" — {cert.title}" if cert.title else ""))
    out.append("")
    params = ", ".join(f"{k} = {v}" for k, v in sorted(cert.model.params.items()))
    out.append(f"Claim:   {cert.claim}")
    for a in cert.assume:
        out.append(f"Assume:  {a}")
    out.append(f"Family:  model '{cert.model.name}'" + (f" ({params})" if params else "")
               + f" — `prover models {cert.model.name}` describes it")
    out.append(f"Source:  {cert.source}   created {cert.created}, "
               f"prover {cert.prover_version} {RECORDED}")
    out.append("")
    if cert.verdict is Verdict.VALID:
        out.append("Verdict: VALID" + (" — VACUOUSLY: the hypotheses are contradictory, so the "
                                       "claim says nothing" if cert.vacuous else ""))
        out.append(f"Trust:   {cert.trust} — {TRUST_TEXT.get(cert.trust, '?')}")
        out += _proof_lines(cert.proof)
        if cert.proof.kind.exact and problem is not None:
            from .explain import proof_explanation
            out += proof_explanation(cert.proof.cases_json(), problem)
        elif cert.proof.kind.exact and why_not:
            out.append(f"  (g<i> is constraint i of the encoding; {why_not}, so it is not "
                       "written out in the model's variables)")
    elif cert.verdict is Verdict.REFUTED:
        out.append("Verdict: REFUTED")
        out += _counterexample_lines(cert, cert.counterexample)
    else:
        out.append("Verdict: UNKNOWN")
        out.append(f"Reason:  {cert.reason} {RECORDED}")
        if cert.counterexample is not None:
            out.append("An unconfirmed candidate:")
            out += _counterexample_lines(cert, cert.counterexample)
    if cert.disagreement:
        out.append(f"Note:    {cert.disagreement} {RECORDED}")
    out.append("")
    out.append("Solver calls (as recorded by the run that made this certificate; the "
               "verdict does not rest on them unless trust is solvers/solver, and "
               "`prover verify` re-solves those):")
    for s in cert.solvers:
        out.append(f"  {s.name} {s.version}: {s.result} in {s.seconds} s — {s.role}"
                   + (f" ({s.reason})" if s.reason else ""))
    return "\n".join(out)


def _proof_lines(proof: Proof) -> list[str]:
    kind = proof.kind.value
    if proof.kind.exact:
        cases = proof.cases_json()
        squares = " and sums of squares (Gram matrices checked PSD exactly)" \
            if kind == "sos" else ""
        lines = [f"Proof:   {kind} certificate over {len(cases)} case(s): a nonnegative "
                 f"combination of the hypotheses and the negated claim{squares} that is "
                 "identically negative — checked exactly by `prover verify`."]
        if proof.family == "concrete":
            lines.append("         Its cases are over the model's concrete family (the exact "
                         "objects, e.g. a polynomial's coefficients), not its relaxation: "
                         "the claim holds for every member.")
        from .checker import CertificateError, case_leaves
        for n, whole in enumerate(cases, 1):
            try:
                leaves = [leaf for _, leaf in case_leaves(whole)]
            except CertificateError as exc:
                lines.append(f"  case {n}: unreadable split ({exc})")
                continue
            if len(leaves) > 1:
                lines.append(f"  case {n}: split by the signs of {len(leaves) - 1} "
                             f"polynomial(s) into {len(leaves)} branches, each its own "
                             "identity (a branch's conditions are its last constraints g):")
            for j, case in enumerate(leaves, 1):
                lines.append(_identity_line(case, f"case {n}" if len(leaves) == 1
                                            else f"  branch {j}"))
        return lines
    lines = [f"Proof:   unsat answers from {', '.join(proof.unsat or ())} (`prover verify` "
             "re-solves the negated claim)"]
    if proof.certificate_search:
        lines.append(f"         {proof.certificate_search} {RECORDED}")
    return lines


def _identity_line(case: dict, label: str) -> str:
    """One identity of a certificate, its terms named by constraint index."""
    terms = [f"{p['multiplier']}·" + "·".join(f"g{i}" for i in p["atoms"])
             for p in case.get("products", [])]
    terms += [f"q{e['atom']}·h{e['atom']}" for e in case.get("equalities", [])]
    terms += ["·".join([f"g{i}" for i in sq.get("atoms", [])] +
                       [f"(m^T G m, {len(sq.get('gram', {}).get('basis', []))} monomials)"])
              for sq in case.get("squares", [])]
    constant = str(case.get("constant", "0"))
    rhs = "0" if constant in ("0", "-0") else f"-{constant}"
    return f"  {label}: {' + '.join(terms)} = {rhs}"


def _counterexample_lines(cert: Certificate, ce: Counterexample) -> list[str]:
    lines = []
    nonzero = {k: v for k, v in ce.values.items() if v != "0"}
    lines.append("Counterexample: " + ", ".join(f"{k} = {v}" for k, v in nonzero.items())
                 + (" (all other components 0)" if len(nonzero) < len(ce.values) else ""))
    violation = ce.violation
    if ce.sides:
        parts = [f"{s.left} = {_num(s.left_value)} and {s.right} = {_num(s.right_value)}"
                 for s in ce.sides]
        how = (" — on the boundary: equality where the claim asks for a strict inequality."
               if violation in ("0", 0) else f" by {_num(violation)}." if violation is not None
               else ".")
        lines.append("  Here " + "; ".join(parts) + f", so `{cert.claim}` fails" + how)
    elif violation is not None:
        lines.append(f"  The claim fails by {_num(violation)}.")
    stats = ce.statistics
    if stats:
        lines.append("  Exact statistics: " + ", ".join(f"{k} = {v}" for k, v in stats.items()))
    lines.append("Realized as:")
    lines += _architecture(cert.model.name, ce.realization)
    nc = thaw(ce.numeric_check)
    if nc:
        size = f"{nc['samples']} samples, seed {nc.get('seed')}" if nc.get("samples") else \
            "exact, no sampling"
        lines.append(f"Independent check: {nc.get('method')} — {size}:")
        intervals = nc.get("intervals") or {}
        estimates = nc.get("estimates") or {}
        for name in [s for s in stats if s in estimates]:
            iv = intervals.get(name)
            lines.append(f"  {name} ≈ {estimates[name]}"
                         + (f"  99% CI [{iv[0]}, {iv[1]}]" if iv else ""))
        lines.append(f"  violation margin interval {nc.get('interval')}: "
                     + ("CONFIRMED" if ce.confirmed else "NOT confirmed")
                     + f" — {nc.get('note', '')}")
    return lines
