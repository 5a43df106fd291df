"""The Coq tactic script for one case certificate's Positivstellensatz identity, stated
with integer coefficients.

The checker's identity for a case is  sum_k r_k * T_k + c == 0  with rational
multipliers r_k >= 0 and terms T_k that are products of the case's atoms, equalities
times a polynomial, and sums of squares (c >= 0; c > 0 or a strict term). Coq's ``lra``
checks such a sum in the kernel with rational arithmetic, and rationals are what makes it
slow: on the degree-8 gaussian lower bound the one ``lra`` that normalizes the sum took
15.7 s and its Qed 8.6 s; the same identity with integer coefficients takes 0.6 s. So
every polynomial is written as  s * P  with s > 0 rational and P primitive with integer
coefficients, every rational is pulled into the term's multiplier, and the whole identity
is multiplied by the least common denominator L > 0 of those multipliers:
  sum_k K_k * P_k1 * ... * P_kj + L * c == 0,   K_k = L * r_k * s_k1 * ... * s_kj,
with integer K_k of the same sign as r_k. Each fact 0 <= K_k * (...) follows from the
case's hypotheses on the unscaled atoms by ``lra`` on one atom at a time (linear in the
atom's monomials), and their sum is the polynomial -L*c, so one ``lra`` on one fact
finishes. Nothing here is trusted: Coq re-checks every step.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .formula import Atom
from .poly import Poly


def primitive(p: Poly) -> tuple[Fraction, Poly]:
    """(s, P) with p = s * P, s > 0 and P of integer coefficients with gcd 1 (p != 0)."""
    coeffs = list(p.terms.values())
    if not coeffs:
        return Fraction(1), p
    den = math.lcm(*(c.denominator for c in coeffs))
    g = math.gcd(*(int(c * den) for c in coeffs))
    s = Fraction(g, den)
    return s, p.scale(1 / s)


MAX_DIGITS = 1000     # a longer integer is not written into a Coq proof (coqc would take
#                      minutes: the bundled proofs have at most 151 digits, a quartic
#                      certificate of degree 7 has 3227 and had not compiled after 3 min)


class TooLarge(ValueError):
    """A number of the certificate too long to write into a Coq proof."""


def _integer(c: Fraction) -> str:
    assert c.denominator == 1
    if abs(c.numerator).bit_length() > MAX_DIGITS * 3.32:
        raise TooLarge(f"the cleared identity has an integer of more than {MAX_DIGITS} "
                       "digits, too long for a Coq proof")
    return str(c.numerator) if c >= 0 else f"(- {-c.numerator})"


def emit_identity(w, depth: int, atoms: list[Atom], cert: dict, facts: dict) -> None:
    """Emit, through the proof writer ``w`` (its ``emit`` and ``poly``), the contradiction
    of a case certificate without a split."""
    from .checker import parse_fraction, parse_gram, psd_ldl

    def hyps(idx: list[int]) -> str:
        return " ".join(dict.fromkeys(facts[atoms[i]] for i in idx))

    # first pass: each term as its rational multipliers and the primitive polynomials
    specs: list[tuple] = []
    rationals: list[Fraction] = []      # every multiplier, for their common denominator
    for item in cert.get("products", []):
        lam = parse_fraction(item["multiplier"])
        if lam == 0:
            continue
        idx = item["atoms"]
        parts = [primitive(atoms[i].poly) for i in idx]
        r = lam * math.prod((s for s, _ in parts), start=Fraction(1))
        specs.append(("product", idx, [P for _, P in parts], r))
        rationals.append(r)
    for item in cert.get("equalities", []):
        atom = atoms[item["atom"]]
        q = Poly.from_json(item.get("multiplier", []), parse_fraction)
        if q.is_zero():
            continue
        sa, A = primitive(atom.poly)
        sq, Q = (q.constant_value(), None) if q.is_constant() else primitive(q)
        specs.append(("equality", atom, Q, A, sq * sa))
        rationals.append(sq * sa)
    for item in cert.get("squares", []):
        basis, g = parse_gram(item["gram"])
        idx = item.get("atoms", [])
        parts = [primitive(atoms[i].poly) for i in idx]
        scale = math.prod((s for s, _ in parts), start=Fraction(1))
        summands = []
        for d, row in psd_ldl(g):
            e = Poly.sum(basis[j].scale(row[j]) for j in range(len(basis)) if row[j])
            if e.is_zero():
                continue
            u, E = primitive(e)
            summands.append((scale * d * u * u, E))
        specs.append(("square", idx, [P for _, P in parts], summands))
        rationals += [k for k, _ in summands]
    L = math.lcm(*(r.denominator for r in rationals)) if rationals else 1

    terms: list[tuple[str, bool, str]] = []     # (the fact's name, strict, the term)
    hint = 0

    def term(text: str, strict: bool, tactic: str) -> None:
        name = f"T_{len(terms) + 1}"
        w.emit(depth, f"assert ({name} : 0 {'<' if strict else '<='} {text}) by "
                      f"({tactic}).")
        terms.append((name, strict, text))

    for spec in specs:
        kind = spec[0]
        if kind == "product":
            _, idx, polys, r = spec
            K = _integer(r * L)
            strict = all(atoms[i].rel == ">" for i in idx)
            if len(idx) == 1:
                term(f"{K} * ({w.poly(polys[0])})", strict, f"clear - {hyps(idx)}; lra")
                continue
            hint += 1
            name = f"P_{hint}"
            factors = " * ".join(f"({w.poly(P)})" for P in polys)
            lemma = "Rmult_lt_0_compat" if strict else "Rmult_le_pos"
            # (g1 * g2) * g3 associates to the left: peel one factor per application
            tactic = "lra"
            for _ in idx[1:]:
                tactic = f"apply {lemma}; [{tactic} | lra]" if tactic != "lra" else \
                    f"apply {lemma}; lra"
            w.emit(depth, f"assert ({name} : 0 {'<' if strict else '<='} {factors}) by "
                          f"(clear - {hyps(idx)}; {tactic}).")
            term(f"{K} * ({factors})", strict, f"apply {lemma}; [lra | exact {name}]")
        elif kind == "equality":
            _, atom, Q, A, r = spec
            hyp = facts[atom]
            K = _integer(r * L)
            if Q is None:
                term(f"{K} * ({w.poly(A)})", False, f"clear - {hyp}; lra")
                continue
            hint += 1
            name = f"E_{hint}"
            a_text = w.poly(A)
            w.emit(depth, f"assert (Z_{hint} : {a_text} = 0) by (clear - {hyp}; lra).")
            text = f"({w.poly(Q)}) * ({a_text})"
            w.emit(depth, f"assert ({name} : {text} = 0) by (rewrite Z_{hint}; ring).")
            term(f"{K} * ({text})", False, f"rewrite {name}; lra")
        else:
            _, idx, polys, summands = spec
            body = " + ".join(f"{_integer(k * L)} * (({w.poly(E)}) * ({w.poly(E)}))"
                              for k, E in summands) or "0"
            # each summand separately: K * (e * e) with K > 0
            sos_tactic = ("repeat apply Rplus_le_le_0_compat; (apply Rmult_le_pos; "
                          "[lra | apply Rle_0_sqr])") if summands else "lra"
            if not idx:
                term(f"({body})", False, sos_tactic)
                continue
            factors = " * ".join(f"({w.poly(P)})" for P in polys)
            atom_tactic = "lra" if len(idx) == 1 else "apply Rmult_le_pos; lra"
            term(f"{factors} * ({body})", False,
                 f"clear - {hyps(idx)}; apply Rmult_le_pos; [{atom_tactic} | {sos_tactic}]")
    if not terms:                      # 0 + c == 0 with c > 0: nothing to combine
        w.emit(depth, "exfalso; lra.")
        return
    # a strict term first, so that the sum is strict whenever one term is
    terms.sort(key=lambda t: not t[1])
    proof, strict, total = terms[0][0], terms[0][1], f"({terms[0][2]})"
    for name, lt, text in terms[1:]:
        lemma = "Rplus_lt_le_0_compat" if strict else "Rplus_le_le_0_compat"
        proof = f"({lemma} _ _ {proof} {f'(Rlt_le _ _ {name})' if lt else name})"
        total = f"{total} + ({text})"
    w.emit(depth, f"assert (Sum : 0 {'<' if strict else '<='} {total}) by exact {proof}.")
    # the sum is the polynomial -L*c: lra normalizes one fact and sees 0 < -L*c or 0 <= -L*c
    w.emit(depth, "clear - Sum; exfalso; lra.")
