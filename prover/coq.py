"""Coq proofs of the claim *as written*, and running ``coqc`` on many of them, cached.

The theorem (``claim_holds``) quantifies over the model's variables, defines every
statistic the claim uses as the model does (``let h2 := VA / (VA + ... + VE) in``: the
model's own ratio of polynomials with Coq's real division, or the model's expression in
other statistics), states the model's constraints, the domain conditions of the language
(``0 <= x`` for each ``sqrt(x)``), the assumptions and the claim as the user wrote them
(division, ``^``, ``sqrt`` as ``sqrt``, ``abs`` as ``Rabs``, ``min``/``max`` as
``Rmin``/``Rmax``, ``and or not implies`` as ``/\\ \\/ ~ ->``, a chain as a conjunction).

The proof goes through the cleared problem inside Coq. A lemma ``prover_cleared`` states
the encoding the certificate is about (``prover.coqtext.cleared_lemma``) and proves it by
replaying the certificate. Then, for the claim as written:
 * each denominator the encoder cleared is shown positive from the model's constraints;
 * each comparison ``L op R`` of the claim and assumptions is shown equivalent to its
   cleared atom (``(R - L) * D = p`` by ``field``, ``D`` the product of the cleared
   denominators, then a link lemma), and so is its negation, and it is decided;
 * each auxiliary variable of the encoding is instantiated by what it stands for
   (``sqrt x``, ``Rabs x``, ``Rmin``/``Rmax``) and its defining constraints are proved;
 * ``prover_cleared`` applied there gives the cleared claim, and ``tauto`` (intuitionistic:
   every atom is decided) turns it into the claim as written.
So a wrong encoder or a wrong clearing makes the proof fail; the kernel does not trust
them. What stays trusted: that the model's definitions (its constraints and ratios) are
the genetics (docs/trust.md), this generator only as far as the statement it prints is
the one displayed, and coqc.

Not yet stated as written (``NotStatedAsWritten``; such a certificate keeps trust
'certificate'): a division whose divisor's sign the model's constraints do not settle (the
encoder introduces a quotient variable and a domain condition), and models whose proof
side is not the model's own variables.

Running coqc: ``compile_many`` compiles many files in one coqc run (each file's body in
its own ``Module``), isolates a failing proof (it is taken out and the rest recompiled),
and keeps a cache of accepted files keyed by sha256 of the text and the coqc version, in
``$PROVER_CACHE_DIR`` or ``$XDG_CACHE_HOME/prover/coq`` or ``~/.cache/prover/coq``. A
cache entry is written only after coqc accepted exactly that text with that coqc, so a
hit is the same record a fresh compile would give. ``prover verify --kernel`` never uses
the cache: it always recompiles.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

from . import expr as E
from .encode import Encoder, Problem
from .errors import InputError
from .coqtext import (ALLOWED_AXIOMS, CoqUnavailable, _axioms_listed, _coq_comment,
                     _coq_names, _NOT_ALLOWED, _strip_comments, cleared_lemma,
                     coq_atom, coq_formula, coq_poly)
from .formula import Atom, negate
from .poly import Poly

__all__ = ["claim_text", "claim_parts", "NotStatedAsWritten", "compile_many", "cache_dir",
           "coqc_version", "PRELUDE", "THEOREM"]

THEOREM = "claim_holds"
CLEARED = "prover_cleared"

PRELUDE = """Require Import Reals Psatz Lra.
Open Scope R_scope.

(* prover's link lemmas: a comparison and its cleared atom, given (R - L) * d = p, d > 0 *)
Lemma prover_le : forall x y d p, 0 < d -> (y - x) * d = p -> (x <= y <-> 0 <= p).
Proof. intros x y d p Hd He; subst p; split; intro; nra. Qed.
Lemma prover_lt : forall x y d p, 0 < d -> (y - x) * d = p -> (x < y <-> 0 < p).
Proof. intros x y d p Hd He; subst p; split; intro; nra. Qed.
Lemma prover_ge : forall x y d p, 0 < d -> (x - y) * d = p -> (x >= y <-> 0 <= p).
Proof. intros x y d p Hd He; subst p; split; intro; nra. Qed.
Lemma prover_gt : forall x y d p, 0 < d -> (x - y) * d = p -> (x > y <-> 0 < p).
Proof. intros x y d p Hd He; subst p; split; intro; nra. Qed.
Lemma prover_eq : forall x y d p, 0 < d -> (x - y) * d = p -> (x = y <-> p = 0).
Proof.
  intros x y d p Hd He; subst p; split; intro H.
  - subst; ring.
  - destruct (Rmult_integral _ _ H) as [H0|H0]; lra.
Qed.
Lemma prover_nle : forall x y d p q, 0 < d -> (y - x) * d = p -> - p = q ->
  (~ x <= y <-> 0 < q).
Proof. intros x y d p q Hd He Hq; subst p q; split; intro H; [apply Rnot_le_lt in H | intro]; nra. Qed.
Lemma prover_nlt : forall x y d p q, 0 < d -> (y - x) * d = p -> - p = q ->
  (~ x < y <-> 0 <= q).
Proof. intros x y d p q Hd He Hq; subst p q; split; intro H; [apply Rnot_lt_le in H | intro]; nra. Qed.
Lemma prover_nge : forall x y d p q, 0 < d -> (x - y) * d = p -> - p = q ->
  (~ x >= y <-> 0 < q).
Proof. intros x y d p q Hd He Hq; subst p q; split; intro H; [apply Rnot_ge_lt in H | intro]; nra. Qed.
Lemma prover_ngt : forall x y d p q, 0 < d -> (x - y) * d = p -> - p = q ->
  (~ x > y <-> 0 <= q).
Proof. intros x y d p q Hd He Hq; subst p q; split; intro H; [apply Rnot_gt_le in H | intro]; nra. Qed.
Lemma prover_neq : forall x y d p q, 0 < d -> (x - y) * d = p -> - p = q ->
  (~ x = y <-> 0 < p \\/ 0 < q).
Proof.
  intros x y d p q Hd Hp Hq; subst p q; split; intro H.
  - destruct (Rtotal_order x y) as [H0|[H0|H0]]; [right | contradiction | left]; nra.
  - intro; subst; lra.
Qed.
Lemma prover_min_cases : forall x y, Rmin x y = x \\/ Rmin x y = y.
Proof. intros x y; unfold Rmin; destruct (Rle_dec x y); auto. Qed.
Lemma prover_max_cases : forall x y, Rmax x y = x \\/ Rmax x y = y.
Proof. intros x y; unfold Rmax; destruct (Rle_dec x y); auto. Qed.
Ltac prover_pos := first [ assumption | lra | apply Rmult_lt_0_compat; prover_pos ].
Ltac prover_nz := repeat split; intro; first [ lra | nra ].
Ltac prover_pick := first [ left; lra | right; prover_pick | lra ].
"""

_OPS = {"<=": "<=", "<": "<", ">=": ">=", ">": ">", "==": "="}
_LINK = {"<=": ("prover_le", "yx", "prover_nle", "xy"),
         "<": ("prover_lt", "yx", "prover_nlt", "xy"),
         ">=": ("prover_ge", "xy", "prover_nge", "yx"),
         ">": ("prover_gt", "xy", "prover_ngt", "yx")}


class NotStatedAsWritten(InputError):
    """The claim uses a construct the Coq export cannot yet state as written."""


# --- an encoder that remembers where each part of the cleared problem came from ----------

class _Recorder(Encoder):
    def __init__(self, instance):
        super().__init__(instance)
        self.calls: dict[str, E.Call] = {}          # auxiliary variable -> its sqrt/abs/min/max
        self.quotients: list[str] = []
        self.links: list[tuple[str, E.Expr, E.Expr, Atom, tuple]] = []

    def _call(self, e):
        t = super()._call(e)
        self.calls[self.variables[-1]] = e
        return t

    def ratio_term(self, num, den, pos=0):
        before = len(self.variables)
        t = super().ratio_term(num, den, pos)
        if len(self.variables) > before:
            self.quotients.append(self.variables[-1])
        return t

    def _comparison(self, e):
        links = super()._comparison(e)
        work = self._work
        for op, left, right, atom in zip(e.ops, e.operands, e.operands[1:], links):
            _, _, den = self._align(self.term(left), self.term(right))
            self.links.append((op, left, right, atom, den))
        self._work = work
        return links

    def arg_parts(self, arg: E.Expr) -> tuple[Poly, Poly]:
        """(numerator, positive denominator) of a subexpression, as the encoder used them."""
        work = self._work
        num, den = self.materialize(self.term(arg))
        d = self.den_poly(tuple(den.items()))
        self._work = work
        return num, d


def _rational(c: Fraction) -> str:
    c = Fraction(c)
    text = str(abs(c.numerator)) if c.denominator == 1 else \
        f"({abs(c.numerator)}/{c.denominator})"
    return f"(- {text})" if c < 0 else text


class _Writer:
    """Renders the claim as written and the proof that links it to the cleared lemma."""

    def __init__(self, conj, rec: _Recorder, problem: Problem):
        self.conj, self.rec, self.problem = conj, rec, problem
        inst = rec.inst
        self.inst = inst
        used = set()
        for e in [conj.claim, *conj.assume]:
            used |= E.names(e)
        self.stats = self._stat_order(used)
        stat_names = [s for s in inst.statistics]
        table = _coq_names(list(inst.variables) + stat_names)
        self.vnames = {v: table[v] for v in inst.variables}
        self.snames = {s: table[s] for s in stat_names}
        # auxiliary variables render as what they stand for
        self.poly_names = dict(self.vnames)
        for aux, call in rec.calls.items():
            self.poly_names[aux] = self.expr(call)

    def _stat_order(self, used: set[str]) -> list[str]:
        stats = self.inst.statistics
        order: list[str] = []

        def visit(name):
            if name in order or name not in stats:
                return
            st = stats[name]
            if st.expression is not None:
                for dep in sorted(E.names(E.parse_term(st.expression))):
                    visit(dep)
            order.append(name)

        for name in stats:            # model order, dependencies first
            if name in used:
                visit(name)
        return order

    # expressions and formulas as written --------------------------------------------------
    def poly(self, p: Poly) -> str:
        return coq_poly(p, self.poly_names)

    def expr(self, e: E.Expr) -> str:
        if isinstance(e, E.Num):
            return _rational(e.value)
        if isinstance(e, E.Name):
            if e.name in self.snames:
                return self.snames[e.name]
            return self.vnames[e.name]
        if isinstance(e, E.Neg):
            return f"(- {self.expr(e.operand)})"
        if isinstance(e, E.BinOp):
            if e.op == "^":
                n = self.rec._integer_constant(e.right)
                base = f"({self.expr(e.left)} ^ {abs(n)})"
                return base if n >= 0 else f"(/ {base})"
            return f"({self.expr(e.left)} {e.op} {self.expr(e.right)})"
        if isinstance(e, E.Call):
            args = [self.expr(a) for a in e.args]
            if e.func == "sqrt":
                return f"(sqrt {args[0]})"
            if e.func == "abs":
                return f"(Rabs {args[0]})"
            fn = "Rmin" if e.func == "min" else "Rmax"
            out = args[-1]
            for a in reversed(args[:-1]):
                out = f"({fn} {a} {out})"
            return out
        raise NotStatedAsWritten(f"cannot state {E.to_text(e)!r} in Coq")

    def compare(self, op: str, left: E.Expr, right: E.Expr) -> str:
        return f"{self.expr(left)} {_OPS[op]} {self.expr(right)}"

    def formula(self, e: E.Expr) -> str:
        if isinstance(e, E.Compare):
            links = [self.compare(op, a, b) for op, a, b in
                     zip(e.ops, e.operands, e.operands[1:])]
            return links[0] if len(links) == 1 else "(" + " /\\ ".join(links) + ")"
        if isinstance(e, E.BoolOp):
            op = " /\\ " if e.op == "and" else " \\/ "
            return "(" + op.join(self.formula(a) for a in e.operands) + ")"
        if isinstance(e, E.Not):
            return f"(~ {self.formula(e.operand)})"
        if isinstance(e, E.Implies):
            return f"({self.formula(e.left)} -> {self.formula(e.right)})"
        raise NotStatedAsWritten(f"cannot state {E.to_text(e)!r} in Coq")

    def stat_definition(self, name: str) -> str:
        st = self.inst.statistics[name]
        if st.ratio is not None:
            names = self.vnames
            return f"({coq_poly(st.ratio.num, names)}) / ({coq_poly(st.ratio.den, names)})"
        return self.expr(E.parse_term(st.expression))

    def den_text(self, den: tuple) -> str:
        parts = []
        for k, e in den:
            parts += [f"({self.poly(self.rec.factors[k])})"] * e
        return " * ".join(parts) if parts else "1"

    def unfold(self) -> str:
        if not self.stats:
            return ""
        return "unfold " + ", ".join(self.snames[s] for s in reversed(self.stats)) + "; "

    # the theorem -----------------------------------------------------------------------
    def sqrt_domains(self) -> list[tuple[str, str]]:
        """(aux, '0 <= x') for each sqrt(x): where the expression is defined."""
        return [(aux, f"0 <= {self.expr(call.args[0])}") for aux, call in
                self.rec.calls.items() if call.func == "sqrt"]

    def theorem(self) -> list[str]:
        inst, p = self.inst, self.problem
        out = [f"Theorem {THEOREM} :"]
        if inst.variables:
            out.append(f"  forall {' '.join(self.vnames[v] for v in inst.variables)} : R,")
        for s in self.stats:
            desc = _coq_comment(inst.statistics[s].description)
            out.append(f"  let {self.snames[s]} := {self.stat_definition(s)} in  (* {desc} *)")
        self.hyp = {"model": [], "domain": {}, "assume": []}
        for i, a in enumerate(p.model_constraints):
            name = f"Hm_{i + 1}"
            self.hyp["model"].append(name)
            out.append(f"    {coq_atom(a, self.vnames)} ->  (* {name}: model constraint *)")
        for i, (aux, text) in enumerate(self.sqrt_domains()):
            name = f"Hd_{i + 1}"
            self.hyp["domain"][aux] = name
            out.append(f"    {text} ->  (* {name}: where sqrt is defined *)")
        for i, a in enumerate(self.conj.assume):
            name = f"Ha_{i + 1}"
            self.hyp["assume"].append(name)
            out.append(f"    {self.formula(a)} ->  (* {name}: assumption *)")
        out.append(f"    {self.formula(self.conj.claim)}.")
        return out

    # the proof --------------------------------------------------------------------------
    def proof(self) -> list[str]:
        inst, p, rec = self.inst, self.problem, self.rec
        out = ["Proof."]
        names = [self.vnames[v] for v in inst.variables] + [self.snames[s] for s in self.stats]
        hyps = self.hyp["model"] + list(self.hyp["domain"].values()) + self.hyp["assume"]
        if names + hyps:
            out.append(f"  intros {' '.join(names + hyps)}.")
        for k, f in enumerate(rec.factors):
            out.append(f"  assert (F_{k + 1} : 0 < {self.poly(f)}) by "
                       f"({self.positivity(f)}).")
        keep = []
        for n, (op, left, right, atom, den) in enumerate(rec.links, 1):
            out += self.link(n, op, left, right, atom, den)
            keep += [f"K_{n}", f"Kn_{n}", f"Dc_{n}"]
        meanings = [self.vnames[v] for v in inst.variables] + \
            [f"({self.poly_names[v]})" for v in p.variables[len(inst.variables):]]
        tactics = [f"exact {h}" for h in self.hyp["model"]]
        tactics += [self.definition(aux) for aux in p.variables[len(inst.variables):]]
        tactics += [f"clear - {' '.join(self.hyp['assume'] + keep)}; tauto"] * \
            len(p.assumptions)
        claim = coq_formula(p.claim, self.poly_names)
        apply = f"apply ({CLEARED} {' '.join(meanings)})"
        if tactics:
            apply += "; [ " + " | ".join(tactics) + " ]"
        out.append(f"  assert (C_0 : {claim}) by ({apply}).")
        out.append(f"  clear - {' '.join(['C_0'] + keep)}; tauto.")
        out.append("Qed.")
        return out

    def positivity(self, f: Poly) -> str:
        """0 < f from the model's constraints: f has nonnegative coefficients over
        nonnegative variables and dominates a strict constraint (encode.provably_positive)."""
        steps = []
        for m, _ in f.sorted_terms():
            factors = []
            for var, e in m:
                factors += [self.vnames.get(var, var)] * e
            if len(factors) > 1:
                steps.append(f"assert (0 <= {' * '.join(factors)}) by "
                             "(repeat apply Rmult_le_pos; lra)")
        return "; ".join(steps + ["lra"])

    def link(self, n, op, left, right, atom: Atom, den) -> list[str]:
        """K_n: the comparison as written iff its cleared atom; Kn_n: the same for its
        negation; Dc_n: it is decided. One ``field`` proves (R - L) * D = p (or L - R)."""
        x, y = self.expr(left), self.expr(right)
        d = self.den_text(den)
        written = self.compare(op, left, right)
        pos = coq_atom(atom, self.poly_names)
        neg = coq_formula(negate(atom), self.poly_names)
        if op == "==":
            lemma, order, nlemma = "prover_eq", "xy", "prover_neq"
        else:
            lemma, order, nlemma, _ = _LINK[op]
        diff = f"({y} - {x})" if order == "yx" else f"({x} - {y})"
        return [
            f"  assert (Dp_{n} : 0 < {d}) by prover_pos.",
            f"  assert (L_{n} : {diff} * ({d}) = {self.poly(atom.poly)}) by "
            f"({self.unfold()}field; prover_nz).",
            f"  assert (K_{n} : {written} <-> {pos}) by "
            f"(apply ({lemma} _ _ _ _ Dp_{n} L_{n})).",
            f"  assert (Kn_{n} : ~ {written} <-> {neg}) by "
            f"(apply ({nlemma} _ _ _ _ _ Dp_{n} L_{n}); ring).",
            f"  assert (Dc_{n} : {written} \\/ ~ {written}) by (destruct (Rtotal_order "
            f"({self.poly(atom.poly)}) 0) as [Hc|[Hc|Hc]]; first [left; apply K_{n}; lra | "
            f"right; apply Kn_{n}; first [lra | left; lra | right; lra]]).",
        ]

    def definition(self, aux: str) -> str:
        """A tactic proving the defining constraints of ``aux`` at its meaning."""
        call = self.rec.calls[aux]
        field = f"{self.unfold()}field; prover_nz"
        parts = [self.rec.arg_parts(a) for a in call.args]
        args = [self.expr(a) for a in call.args]
        facts = [f"assert (Q_{i + 1} : {a} * ({self.poly(d)}) = {self.poly(num)}) by ({field})"
                 for i, (a, (num, d)) in enumerate(zip(args, parts))]
        m = self.poly_names[aux]
        if call.func == "sqrt":
            (a,), ((_, d),) = args, parts
            dom = self.hyp["domain"][aux]
            return "; ".join(facts + [
                f"assert (Q_0 : {m} * {m} * ({self.poly(d)}) = {a} * ({self.poly(d)})) by "
                f"(rewrite (sqrt_sqrt {a} {dom}); reflexivity)",
                "split; [apply sqrt_pos | lra]"])
        if call.func == "abs":
            (a,) = args
            return "; ".join(facts + [
                f"split; [apply Rabs_pos | destruct (Rcase_abs {a}) as [Hs|Hs]; "
                f"[rewrite (Rabs_left _ Hs); right; lra | "
                f"rewrite (Rabs_right _ Hs); left; lra]]"])
        # min / max: bounds, then which argument it equals
        fn = "Rmin" if call.func == "min" else "Rmax"
        lemma = "Rmin" if call.func == "min" else "Rmax"
        bound_facts = []
        nested = []            # (outer text, first arg, rest text)
        rest = args[-1]
        for a in reversed(args[:-1]):
            nested.insert(0, (f"({fn} {a} {rest})", a, rest))
            rest = f"({fn} {a} {rest})"
        for whole, a, r in nested:
            bound_facts += [f"pose proof ({lemma}_l {a} {r})", f"pose proof ({lemma}_r {a} {r})"]
        products = []
        for i, ((num, d), a) in enumerate(zip(parts, args)):
            diff = f"({a} - {m})" if call.func == "min" else f"({m} - {a})"
            products.append(f"assert (B_{i + 1} : 0 <= {diff} * ({self.poly(d)})) by "
                            f"(apply Rmult_le_pos; [lra | apply Rlt_le; prover_pos])")
        cases = "prover_pick"
        for whole, a, r in reversed(nested):
            cases = (f"destruct (prover_{call.func}_cases {a} {r}) as [Ec|Ec]; rewrite Ec; "
                     f"[prover_pick | {cases}]")
        return "; ".join(facts + bound_facts + products +
                         [f"split; [repeat split; lra | {cases}]"])


def _encode(conj):
    rec = _Recorder(conj.instance())
    assumed = [rec.formula(a) for a in conj.assume]
    claim = rec.formula(conj.claim)
    problem = Problem(variables=rec.variables, model_constraints=list(rec.inst.constraints),
                      definitions=rec.definitions, domain=rec.domain, assumptions=assumed,
                      claim=claim, search_constraints=list(rec.inst.search_constraints),
                      factors=rec.factors)
    return rec, problem


def claim_parts(conj, proof: dict) -> tuple[list[str], str]:
    """(notes, body) of the Coq proof of ``conj`` as written: the body holds the cleared
    lemma and ``claim_holds``, and is valid after ``PRELUDE`` (alone or in a Module)."""
    rec, problem = _encode(conj)
    if rec.quotients:
        raise NotStatedAsWritten(
            "the claim divides by an expression whose sign the model's constraints do not "
            "settle (the encoder introduced a quotient variable with a domain condition); "
            "the Coq export cannot yet state such a division as written")
    if rec.inst.concrete is not None:
        pass   # the proof side is the model's relaxation; the theorem is over its variables
    notes, lemma = cleared_lemma(problem, proof, CLEARED)
    writer = _Writer(conj, rec, problem)
    theorem = writer.theorem()
    body = lemma + [""] + theorem + writer.proof()
    return notes, "\n".join(body) + "\n"


def claim_text(conj, proof: dict, header: list[tuple[str, str]] | None = None) -> str:
    """The standalone Coq file: PRELUDE, the cleared lemma, ``claim_holds`` stating the
    claim as written, and ``Print Assumptions claim_holds``."""
    notes, body = claim_parts(conj, proof)
    inst = conj.instance()
    out = ["(* Generated by `prover export --to coq`: a machine-checkable proof. *)"]
    out += [f"(* {k}: {_coq_comment(v)} *)" for k, v in (header or [])]
    out.append(f"(* {THEOREM} states the claim as written, over the variables of model "
               f"{_coq_comment(conj.model)} ({_coq_comment(', '.join(inst.variables))}),")
    out.append("   with each statistic defined as the model defines it; "
               f"{CLEARED} is the cleared encoding, proved")
    out.append("   from the certificate, and the proof of the claim goes through it. *)")
    out += [f"(* {_coq_comment(n)} *)" for n in notes]
    out.append("(* Check with: coqc FILE.v *)")
    return "\n".join(out) + "\n\n" + PRELUDE + "\n" + body + \
        f"\nPrint Assumptions {THEOREM}.\n"


# --- coqc: batches and a cache -----------------------------------------------------------------

_VERSION_CACHE: dict[str, str] = {}


def coqc_version() -> str:
    coqc = shutil.which("coqc")
    if coqc is None:
        return ""
    if coqc not in _VERSION_CACHE:
        try:
            out = subprocess.run([coqc, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        _VERSION_CACHE[coqc] = out.splitlines()[0] if out else ""
    return _VERSION_CACHE[coqc]


def cache_dir() -> Path:
    if os.environ.get("PROVER_CACHE_DIR"):
        return Path(os.environ["PROVER_CACHE_DIR"]) / "coq"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "prover" / "coq"


def _cache_key(text: str, version: str) -> str:
    return hashlib.sha256((version + "\0" + text).encode()).hexdigest()


def _cache_get(text: str, version: str) -> dict | None:
    path = cache_dir() / (_cache_key(text, version) + ".json")
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if entry.get("ok") is True and entry.get("coqc") == version and \
            entry.get("file_sha256") == hashlib.sha256(text.encode()).hexdigest():
        return entry
    return None


def _cache_put(text: str, version: str, seconds: float) -> None:
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        entry = {"ok": True, "coqc": version, "seconds": round(seconds, 3),
                 "file_sha256": hashlib.sha256(text.encode()).hexdigest()}
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(entry, fh)
        os.replace(tmp, folder / (_cache_key(text, version) + ".json"))
    except OSError:
        pass        # a cache that cannot be written only costs time


_PRINT = re.compile(r"\nPrint Assumptions ([A-Za-z_][\w']*)\.\n\Z")
_UNSAFE_IN_BATCH = re.compile(r"\b(Module|End|Section|Redirect|Require|Import|Export|Declare|"
                              r"Set|Unset|Local|Global|Load|Drop|Reset|Back)\b")


def _batch_body(text: str) -> tuple[str, str] | None:
    """(body, theorem name) when ``text`` is PRELUDE + body + Print Assumptions: such texts
    can share one coqc run."""
    if text.count(PRELUDE) != 1:
        return None
    rest = text.split(PRELUDE, 1)[1]
    m = _PRINT.search(rest)
    if not m:
        return None
    body = rest[:m.start()] + "\n"
    if _UNSAFE_IN_BATCH.search(_strip_comments(body)):
        return None
    return body, m.group(1)


def _run_coqc(coqc: str, folder: str, name: str, text: str, timeout: float):
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    start = time.perf_counter()
    try:
        proc = subprocess.run([coqc, "-q", name], cwd=folder, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"coqc timed out after {timeout:g} s", time.perf_counter() - start
    return proc, (proc.stdout + proc.stderr).strip(), time.perf_counter() - start


def _axioms_ok(output: str) -> str:
    extra = [a for a in _axioms_listed(output) if a not in ALLOWED_AXIOMS]
    return (f"the proof uses axioms beyond the standard real numbers: {', '.join(extra)}"
            if extra else "")


def _compile_one(coqc: str, text: str, timeout: float) -> tuple[bool, str, float]:
    with tempfile.TemporaryDirectory(prefix="prover-coq-") as tmp:
        proc, output, seconds = _run_coqc(coqc, tmp, "Claim.v", text, timeout)
    if proc is None:
        return False, output, seconds
    if proc.returncode != 0:
        return False, output or f"coqc exited with code {proc.returncode}", seconds
    bad = _axioms_ok(output)
    if bad:
        return False, bad + "\n" + output, seconds
    return True, (output + "\n" if output else "") + f"coqc: ok in {seconds:.2f} s", seconds


def _compile_batch(coqc: str, items: list[tuple[int, str, str]], timeout: float,
                   results: dict, alone: list[int]) -> None:
    """Compile ``items`` [(index, body, theorem)] in one file; a proof that fails is taken
    out (into ``alone``, to be compiled by itself) and the rest compiled again."""
    items = list(items)
    while items:
        lines = [PRELUDE]
        spans = []
        for k, (idx, body, thm) in enumerate(items):
            first = sum(part.count("\n") for part in lines) + 1
            lines.append(f"Module P_{k}.\n{body}End P_{k}.\n")
            spans.append((first, sum(part.count("\n") for part in lines)))
        # one Print Assumptions for the whole batch (it costs about 0.6 s each): the axioms
        # of a tuple of every proof are the union of theirs
        pair = f"P_{len(items) - 1}.{items[-1][2]}"
        for k in range(len(items) - 2, -1, -1):
            pair = f"(P_{k}.{items[k][2]}, {pair})"
        lines.append(f"Definition prover_batch := {pair}.\n"
                     "Redirect \"assumptions\" Print Assumptions prover_batch.\n")
        text = "".join(lines)
        with tempfile.TemporaryDirectory(prefix="prover-coq-") as tmp:
            proc, output, seconds = _run_coqc(coqc, tmp, "Batch.v", text,
                                              timeout * max(1, len(items)))
            printed = None
            if proc is not None and proc.returncode == 0:
                try:
                    printed = Path(tmp, "assumptions.out").read_text()
                except OSError:
                    printed = None
        if proc is None:                       # timed out: each proof by itself
            alone += [idx for idx, _, _ in items]
            return
        if proc.returncode == 0:
            if printed is None or _axioms_ok(printed):
                # some proof uses another axiom (or none was printed): each by itself, so
                # that only the guilty ones fail
                alone += [idx for idx, _, _ in items]
                return
            share = seconds / len(items)
            for idx, _, _ in items:
                results[idx] = (True, printed.strip() + f"\ncoqc: ok in a batch of "
                                f"{len(items)} ({seconds:.2f} s)", share)
            return
        m = re.search(r'line (\d+)', output)
        line = int(m.group(1)) if m else -1
        bad = [k for k, (a, b) in enumerate(spans) if a <= line <= b]
        if not bad:                            # not attributable: each proof by itself
            alone += [idx for idx, _, _ in items]
            return
        alone.append(items[bad[0]][0])
        items = items[:bad[0]] + items[bad[0] + 1:]


def compile_many(texts: list[str], timeout: float = 120, *, cache: bool = True,
                 jobs: int = 1) -> list[tuple[bool, str]]:
    """Compile each Coq file; returns [(ok, output)] in order. ok as in
    ``prover.coqtext.compile_coq``. Files sharing ``PRELUDE`` are compiled together in one
    coqc run (``jobs`` runs in parallel); a failing one is isolated and compiled alone, so
    it never costs the others their result. With ``cache``, a file accepted before (same
    text, same coqc version) is not compiled again."""
    coqc = shutil.which("coqc")
    if coqc is None:
        raise CoqUnavailable("coqc not installed: apt-get install coq")
    version = coqc_version()
    results: dict[int, tuple[bool, str, float]] = {}
    batchable, alone = [], []
    for i, text in enumerate(texts):
        bad = _NOT_ALLOWED.search(_strip_comments(text))
        if bad:
            results[i] = (False, f"refused: the file uses '{bad.group(1)}' (a proof must be "
                                 "complete)", 0.0)
            continue
        hit = _cache_get(text, version) if cache else None
        if hit is not None:
            results[i] = (True, f"coqc: ok (cached: {version} accepted this text, sha256 "
                                f"{hit['file_sha256'][:12]}, in {hit.get('seconds')} s)", 0.0)
            continue
        parts = _batch_body(text)
        if parts is None:
            alone.append(i)
        else:
            batchable.append((i, *parts))
    if len(batchable) == 1:
        alone.append(batchable.pop()[0])
    if batchable:
        jobs = max(1, min(jobs, len(batchable)))
        chunks = [batchable[k::jobs] for k in range(jobs)]
        lonely: list[list[int]] = [[] for _ in chunks]
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(lambda k: _compile_batch(coqc, chunks[k], timeout, results,
                                                   lonely[k]), range(jobs)))
        alone += [i for part in lonely for i in part]
    if alone:
        jobs = max(1, min(jobs, len(alone)))
        with ThreadPoolExecutor(jobs) as pool:
            for i, res in zip(alone, pool.map(lambda i: _compile_one(coqc, texts[i], timeout),
                                              alone)):
                results[i] = res
    out = []
    for i, text in enumerate(texts):
        ok, output, seconds = results[i]
        if ok and cache and not output.startswith("coqc: ok (cached"):
            _cache_put(text, version, seconds)
        out.append((ok, output))
    return out
