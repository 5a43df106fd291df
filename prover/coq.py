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

Running coqc (batches, the cache, the shared prelude): ``prover.coqrun``, re-exported here.
"""

from __future__ import annotations

from fractions import Fraction

from . import expr as E
from .encode import Encoder, Problem
from .errors import InputError
from .coqterms import TooLarge
from .coqtext import (_coq_comment, _coq_names, cleared_lemma, coq_atom, coq_formula,
                      coq_poly)
from .formula import Atom, negate
from .poly import Poly
from .coqrun import PRELUDE, cache_dir, coqc_version, compile_many  # noqa: F401  (re-exported)

__all__ = ["claim_text", "claim_parts", "NotStatedAsWritten", "compile_many", "cache_dir",
           "coqc_version", "PRELUDE", "THEOREM"]

THEOREM = "claim_holds"
CLEARED = "prover_cleared"


_OPS = {"<=": "<=", "<": "<", ">=": ">=", ">": ">", "==": "="}
_DECIDE = {"<=": "Rle_dec", "<": "Rlt_dec", ">=": "Rge_dec", ">": "Rgt_dec", "==": "Req_EM_T"}
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
        nonnegative variables and dominates a strict constraint, or is one
        (encode.provably_positive): then it is among the hypotheses, and lra finds it."""
        if any(a.rel == ">" and a.poly == f for a in self.inst.constraints):
            return "lra"
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
        first, second = (right, left) if order == "yx" else (left, right)
        return [
            f"  assert (Dp_{n} : 0 < {d}) by prover_pos.",
            f"  assert (L_{n} : {diff} * ({d}) = {self.poly(atom.poly)}) by "
            f"({self.clearing(n, first, second, den, atom)}).",
            f"  assert (K_{n} : {written} <-> {pos}) by "
            f"(apply ({lemma} _ _ _ _ Dp_{n} L_{n})).",
            f"  assert (Kn_{n} : ~ {written} <-> {neg}) by "
            f"(apply ({nlemma} _ _ _ _ _ Dp_{n} L_{n}); lra).",
            # decided on the comparison itself (no arithmetic: an lra on the cleared
            # polynomial here cost 2.6 s on the degree-8 gaussian bound)
            f"  assert (Dc_{n} : {written} \\/ ~ {written}) by (destruct ({_DECIDE[op]} "
            f"{x} {y}) as [Hc|Hc]; [left | right]; exact Hc).",
        ]

    def clearing(self, n: int, first: E.Expr, second: E.Expr, den: tuple, atom: Atom) -> str:
        """A tactic for (first - second) * D = p. When one side is a statistic n/d of the
        model, the other a number, D is d and p is n - c*d (or c*d - n), a lemma clears
        the division and lra checks the polynomial identities; else ``field`` (about 5x
        slower on large rational polynomials)."""
        field = f"{self.unfold()}field; prover_nz"
        stats = self.inst.statistics
        # (first - second) is (stat - c) or (c - stat): p is n - c*d or its negation
        for stat, num, lemma, sign in ((first, second, "prover_clear_sub", 1),
                                       (second, first, "prover_clear_rsub", -1)):
            c = _constant(num)
            if not (isinstance(stat, E.Name) and c is not None
                    and stat.name in stats and stats[stat.name].ratio is not None):
                continue
            ratio = stats[stat.name].ratio
            product = Poly.const(1)
            for k, e in den:
                product = product * self.rec.factors[k] ** e
            want = (ratio.num - ratio.den.scale(c)).scale(sign)
            if product != ratio.den or atom.poly != want:
                continue
            keep = f"clear - Dp_{n}; lra"
            return f"unfold {self.snames[stat.name]}; rewrite {lemma}; [{keep} | {keep} | {keep}]"
        return field

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


def _constant(e: E.Expr) -> Fraction | None:
    """The exact value of a number written with + - * / (``1/2``), else None. Only these
    four operations, on purpose: the clearing lemma's ``lra`` must read the constant's
    value off its text, so sqrt and ^ stay with ``field`` (evaluate.ExactEvaluator would
    evaluate them)."""
    if isinstance(e, E.Num):
        return e.value
    if isinstance(e, E.Neg):
        v = _constant(e.operand)
        return None if v is None else -v
    if isinstance(e, E.BinOp) and e.op in "+-*/":
        a, b = _constant(e.left), _constant(e.right)
        if a is None or b is None or (e.op == "/" and b == 0):
            return None
        return {"+": a + b, "-": a - b, "*": a * b}[e.op] if e.op != "/" else a / b
    return None


def _encode(conj, family: str | None = None):
    try:
        inst = conj.family_instance(family)
    except ValueError as exc:
        raise NotStatedAsWritten(str(exc)) from None
    rec = _Recorder(inst)
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
    try:
        return _claim_parts(conj, proof)
    except TooLarge as exc:
        raise NotStatedAsWritten(str(exc)) from None


def _claim_parts(conj, proof: dict) -> tuple[list[str], str]:
    rec, problem = _encode(conj, proof.get("family"))
    if rec.quotients:
        raise NotStatedAsWritten(
            "the claim divides by an expression whose sign the model's constraints do not "
            "settle (the encoder introduced a quotient variable with a domain condition); "
            "the Coq export cannot yet state such a division as written")
    # the theorem is over the variables of the family the certificate's cases are over:
    # the model's proof side, or (proof family "concrete") its exact concrete family
    notes, lemma = cleared_lemma(problem, proof, CLEARED)
    writer = _Writer(conj, rec, problem)
    theorem = writer.theorem()
    body = lemma + [""] + theorem + writer.proof()
    return notes, "\n".join(body) + "\n"


def claim_text(conj, proof: dict, header: list[tuple[str, str]] | None = None) -> str:
    """The standalone Coq file: PRELUDE, the cleared lemma, ``claim_holds`` stating the
    claim as written, and ``Print Assumptions claim_holds``."""
    notes, body = claim_parts(conj, proof)
    inst = conj.family_instance(proof.get("family"))    # claim_parts checked the family
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


