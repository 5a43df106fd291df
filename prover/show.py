"""Rendering a stored certificate for a person: statement, family, verdict, evidence.

A counterexample reads as a sentence a geneticist can follow: the architecture, the
statistics, and by how much the claim fails. Only the stored document is used (no
solver, no model import), so ``prover show`` is instant.
"""

from __future__ import annotations

from fractions import Fraction

from .errors import MalformedCertificate

TRUST_TEXT = {
    "kernel": "a proof assistant's kernel (Coq) checked the proof",
    "certificate": "an exact certificate was checked by prover's own small checker, no solver trusted",
    "solvers": "Z3 and cvc5 both found the negated claim unsatisfiable",
    "solver": "one SMT solver found the negated claim unsatisfiable",
}


def _num(text) -> str:
    """'3/8' -> '3/8 (0.375)'; integers and floats as they are."""
    if isinstance(text, str) and "/" in text:
        try:
            return f"{text} (≈{float(Fraction(text)):.4g})"
        except (ValueError, ZeroDivisionError, OverflowError):
            return text
    return str(text)


def _architecture(real: dict) -> list[str]:
    lines = []
    if "terms" in real:        # twins realizer
        freq = real.get("allele_frequency", "1/2")
        lines.append(f"  Biallelic loci at allele frequency {freq}, Hardy–Weinberg, unlinked.")
        for t in real["terms"]:
            kinds = t.get("contrasts", [])
            adds, doms = kinds.count("additive"), kinds.count("dominance")
            what = " × ".join(filter(None, [f"{adds} additive" if adds else "",
                                            f"{doms} dominance" if doms else ""]))
            lines.append(f"  {t['component']} = {_num(t['variance'])}: {t.get('effect', '')} "
                         f"({what} contrast(s) on loci {t.get('loci')})")
        for key, name in (("shared_environment_variance", "shared environment C"),
                          ("unique_environment_variance", "unique environment E")):
            if real.get(key) not in (None, "0"):
                lines.append(f"  {name}: variance {_num(real[key])}")
        if real.get("phenotype"):
            lines.append(f"  {real['phenotype']}")
        return lines
    for key, value in real.items():
        lines.append(f"  {key}: {value}")
    return lines


def render(doc: dict) -> str:
    """The readable text of a certificate. A document whose parts have the wrong shape
    (a list where an object belongs, a missing key) raises MalformedCertificate naming
    what was being shown -- never KeyError or TypeError."""
    try:
        return _render(doc)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError,
            ArithmeticError, RecursionError) as exc:
        what = {KeyError: "a field is missing"}.get(type(exc), "a field has the wrong type")
        raise MalformedCertificate(f"cannot be shown: {what} ({type(exc).__name__}: {exc})",
                                   reason=f"cannot be shown: {what} "
                                          f"({type(exc).__name__}: {exc})") from None


def _render(doc: dict) -> str:
    out = []
    out.append(f"{doc.get('id')}" + (f" — {doc['title']}" if doc.get("title") else ""))
    out.append("")
    model = doc.get("model", {})
    params = ", ".join(f"{k} = {v}" for k, v in sorted(model.get("params", {}).items()))
    out.append(f"Claim:   {doc.get('claim')}")
    for a in doc.get("assume", []):
        out.append(f"Assume:  {a}")
    out.append(f"Family:  model '{model.get('name')}'" + (f" ({params})" if params else "")
               + " — `prover models " + str(model.get("name")) + "` describes it")
    out.append(f"Source:  {doc.get('source')}   created {doc.get('created')}, "
               f"prover {doc.get('prover_version')}")
    out.append("")
    verdict = doc.get("verdict")
    if verdict == "valid":
        out.append("Verdict: VALID" + (" — VACUOUSLY: the hypotheses are contradictory, so the "
                                       "claim says nothing" if doc.get("vacuous") else ""))
        trust = doc.get("trust")
        out.append(f"Trust:   {trust} — {TRUST_TEXT.get(trust, '?')}")
        out += _proof_lines(doc.get("proof") or {})
    elif verdict == "refuted":
        out.append("Verdict: REFUTED")
        out += _counterexample_lines(doc)
    else:
        out.append("Verdict: UNKNOWN")
        out.append(f"Reason:  {doc.get('reason', '?')}")
        if doc.get("counterexample"):
            out.append("An unconfirmed candidate:")
            out += _counterexample_lines(doc)
    out.append("")
    out.append("Solver calls:")
    for s in doc.get("solvers", []):
        out.append(f"  {s.get('name')} {s.get('version')}: {s.get('result')} in "
                   f"{s.get('seconds')} s — {s.get('role', '')}"
                   + (f" ({s['reason']})" if s.get("reason") else ""))
    return "\n".join(out)


def _proof_lines(proof: dict) -> list[str]:
    kind = proof.get("kind")
    if kind in ("farkas", "polya"):
        cases = proof.get("cases", [])
        lines = [f"Proof:   {kind} certificate over {len(cases)} case(s): a nonnegative "
                 "combination of the hypotheses and the negated claim that is identically "
                 "negative — checked exactly by `prover verify`."]
        for n, case in enumerate(cases, 1):
            terms = [f"{p['multiplier']}·" + "·".join(f"g{i}" for i in p["atoms"])
                     for p in case.get("products", [])]
            terms += [f"q{e['atom']}·h{e['atom']}" for e in case.get("equalities", [])]
            lines.append(f"  case {n}: {' + '.join(terms)} = -{case.get('constant', '0')}")
        return lines
    if kind == "smt":
        return [f"Proof:   unsat answers from {', '.join(proof.get('unsat', []))}; "
                f"{proof.get('certificate_search', '')}".rstrip("; ")]
    return [f"Proof:   {kind}"]


def _counterexample_lines(doc: dict) -> list[str]:
    ce = doc["counterexample"]
    lines = []
    nonzero = {k: v for k, v in ce.get("values", {}).items() if v != "0"}
    lines.append("Counterexample: " + ", ".join(f"{k} = {v}" for k, v in nonzero.items())
                 + (" (all other components 0)" if len(nonzero) < len(ce.get("values", {})) else ""))
    sides = ce.get("sides") or []
    if sides:
        parts = [f"{s['left']} = {_num(s['left_value'])} and {s['right']} = "
                 f"{_num(s['right_value'])}" for s in sides]
        violation = ce.get("violation")
        how = (" — on the boundary: equality where the claim asks for a strict inequality."
               if violation in ("0", 0) else f" by {_num(violation)}." if violation is not None
               else ".")
        lines.append("  Here " + "; ".join(parts) + f", so `{doc.get('claim')}` fails" + how)
    elif ce.get("violation") is not None:
        lines.append(f"  The claim fails by {_num(ce['violation'])}.")
    stats = ce.get("statistics", {})
    if stats:
        lines.append("  Exact statistics: " + ", ".join(f"{k} = {v}" for k, v in stats.items()))
    lines.append("Realized as:")
    lines += _architecture(ce.get("realization", {}))
    nc = ce.get("numeric_check", {})
    if nc:
        size = f"{nc['samples']} samples, seed {nc.get('seed')}" if nc.get("samples") else \
            "exact, no sampling"
        lines.append(f"Independent check: {nc.get('method')} — {size}:")
        intervals = nc.get("intervals", {})
        for name in [s for s in stats if s in nc.get("estimates", {})]:
            est = nc["estimates"][name]
            iv = intervals.get(name)
            lines.append(f"  {name} ≈ {est}" + (f"  99% CI [{iv[0]}, {iv[1]}]" if iv else ""))
        lines.append(f"  violation margin interval {nc.get('interval')}: "
                     + ("CONFIRMED" if nc.get("confirmed") else "NOT confirmed")
                     + f" — {nc.get('note', '')}")
    return lines
