"""Coq text for a checked certificate: the rendering of polynomials, atoms and formulas,
the cleared lemma and its proof replaying the checker's Positivstellensatz identities, and
``coqc`` itself (``compile_coq``: no ``Admitted``, no axioms beyond Coq's reals).

Used by ``prover.export`` (``--to coq`` of the cleared problem) and ``prover.coq`` (the
claim as written, proved through the cleared lemma). It imports neither of them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from fractions import Fraction

from .coqterms import emit_identity
from .errors import InputError, ProverError
from .formula import And, Atom, Formula, Or, negate
from .poly import Poly

COQ_THEOREM = "claim_holds"
# The axioms Coq's standard real numbers rest on (Print Assumptions of any lemma about R).
ALLOWED_AXIOMS = frozenset({
    "ClassicalDedekindReals.sig_forall_dec",
    "ClassicalDedekindReals.sig_not_dec",
    "FunctionalExtensionality.functional_extensionality_dep",
})


class CoqUnavailable(ProverError, OSError):
    """``coqc`` is not installed (``apt-get install coq``)."""


# --- Coq rendering ---------------------------------------------------------------------------

COQ_KEYWORDS = frozenset("""
    _ as at cofix else end exists exists2 fix for forall fun if IF in let match mod open
    Prop return Set then Type using where with Theorem Lemma Proof Qed Definition
    True False R Rle Rlt Rge Rgt Rplus Rminus Rmult Rdiv Rinv Ropp IZR INR Q Z N nat O S
    eq and or not ex pow sqrt Rsqr Rabs PI exp ln sin cos tan Rmax Rmin
    Rmult_le_pos Rmult_lt_0_compat Rle_lt_dec Rlt_le_dec Rtotal_order Rlt_le
    lra nra psatz ring field lia nia intros intro apply exact split left right destruct
    clear assert exfalso by
    """.split())
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z", re.ASCII)
_GENERATED = re.compile(r"(H|N|P|E|S|Hyp|Hm|Hd|Ha|F|K|Kn|Dc|Dp|L|Q|B|C)_\d+\Z")


def _coq_names(variables: list[str]) -> dict[str, str]:
    """Safe, distinct Coq identifiers for the problem's variables (mostly unchanged)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for v in variables:
        name = v
        if not _IDENT.match(name) or name in COQ_KEYWORDS or _GENERATED.match(name) \
                or name.startswith("v_"):
            name = "v_" + re.sub(r"[^A-Za-z0-9_]", "_", v)
        base, n = name, 1
        while name in used or name in COQ_KEYWORDS:
            n += 1
            name = f"{base}_{n}"
        out[v] = name
        used.add(name)
    return out


def _coq_number(c: Fraction) -> str:
    c = abs(Fraction(c))
    return str(c.numerator) if c.denominator == 1 else f"({c.numerator}/{c.denominator})"


def coq_poly(p: Poly, names: dict[str, str] | None = None) -> str:
    """A polynomial as a Coq real expression: ``VA - (1/2) * VD * VD + 3``."""
    if p.is_zero():
        return "0"
    parts = []
    for m, c in p.sorted_terms():
        factors = []
        for var, e in m:
            factors += [(names or {}).get(var, var)] * e
        if not factors:
            text = _coq_number(c)
        elif abs(c) == 1:
            text = " * ".join(factors)
        else:
            text = " * ".join([_coq_number(c)] + factors)
        parts.append(("- " if c < 0 else "+ ", text))
    first_sign, first = parts[0]
    out = ("- " if first_sign == "- " else "") + first
    for sign, text in parts[1:]:
        out += f" {sign}{text}"
    return out


def coq_atom(a: Atom, names: dict[str, str] | None = None) -> str:
    p = coq_poly(a.poly, names)
    return {">=": f"0 <= {p}", ">": f"0 < {p}", "==": f"{p} = 0"}[a.rel]


def coq_formula(f: Formula, names: dict[str, str] | None = None) -> str:
    if isinstance(f, Atom):
        return coq_atom(f, names)
    if not f.args:
        return "True" if isinstance(f, And) else "False"
    if len(f.args) == 1:
        return coq_formula(f.args[0], names)
    op = " /\\ " if isinstance(f, And) else " \\/ "
    return "(" + op.join(coq_formula(a, names) for a in f.args) + ")"


def _coq_comment(text: str) -> str:
    # Coq lexes strings and nested comments inside comments: keep them inert.
    return " ".join(str(text).split()).replace('"', "''").replace("(*", "( *") \
        .replace("*)", "* )")


def _atoms_of(f: Formula) -> list[Atom]:
    if isinstance(f, Atom):
        return [f]
    out = []
    for a in f.args:
        for x in _atoms_of(a):
            if x not in out:
                out.append(x)
    return out


def _truth(f: Formula, value: dict[Atom, bool]) -> bool:
    if isinstance(f, Atom):
        return value[f]
    if isinstance(f, And):
        return all(_truth(a, value) for a in f.args)
    return any(_truth(a, value) for a in f.args)


def _simplify(f: Formula) -> Formula:
    """Unwrap one-argument And/Or (the rendering does the same)."""
    while not isinstance(f, Atom) and len(f.args) == 1:
        f = f.args[0]
    return f


class _ProofWriter:
    """Generates the tactic script; see the module docstring."""

    def __init__(self, cases: list[list[Atom]], certs: list[dict], names: dict[str, str]):
        self.cases = cases
        self.certs = certs
        self.names = names
        self.lines: list[str] = []
        self.counter = 0
        self.leaves = 0
        self.used_cases: set[int] = set()

    # helpers --------------------------------------------------------------------------
    def fresh(self, prefix: str = "H") -> str:
        self.counter += 1
        return f"{prefix}_{self.counter}"

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("  " * depth + text)

    def poly(self, p: Poly) -> str:
        return coq_poly(p, self.names)

    # hypotheses -----------------------------------------------------------------------
    def hyps(self, depth: int, pending: list[tuple[str, Formula]], facts: dict, goal) -> None:
        """Destruct pending hypotheses into atoms, then prove the goal in every branch.

        ``facts`` maps an Atom known in the context to (hypothesis name, truth): truth True
        means the hypothesis states the atom itself."""
        pending = list(pending)
        while pending:
            name, f = pending.pop(0)
            f = _simplify(f)
            if isinstance(f, Atom):
                facts.setdefault(f, name)
                continue
            if not f.args:
                if isinstance(f, Or):      # False among the hypotheses
                    self.emit(depth, f"destruct {name}.")
                    return
                continue                  # True: nothing to use
            subs = [(self.fresh(), a) for a in f.args]
            if isinstance(f, And):
                self.emit(depth, f"destruct {name} as {_and_pattern([n for n, _ in subs])}.")
                pending = subs + pending
                continue
            self.emit(depth, f"destruct {name} as {_or_pattern([n for n, _ in subs])}.")
            for sub in subs:
                self.emit(depth, "{")
                self.hyps(depth + 1, [sub] + pending, dict(facts), goal)
                self.emit(depth, "}")
            return
        self.prove(depth, goal, facts)

    # goal -----------------------------------------------------------------------------
    def decide(self, depth: int, atom: Atom) -> list[tuple[Atom, str, bool]]:
        """Emit a case split on ``atom``; per branch (atom stated, its name, truth)."""
        p = self.poly(atom.poly)
        if atom.rel == ">=":
            yes, no = self.fresh("N"), self.fresh("N")
            self.emit(depth, f"destruct (Rle_lt_dec 0 ({p})) as [{yes}|{no}].")
            return [(atom, yes, True), (negate(atom), no, False)]
        if atom.rel == ">":
            yes, no = self.fresh("N"), self.fresh("N")
            self.emit(depth, f"destruct (Rlt_le_dec 0 ({p})) as [{yes}|{no}].")
            return [(atom, yes, True), (negate(atom), no, False)]
        below, yes, above = self.fresh("N"), self.fresh("N"), self.fresh("N")
        self.emit(depth, f"destruct (Rtotal_order ({p}) 0) as [{below}|[{yes}|{above}]].")
        return [(Atom(-atom.poly, ">"), below, False), (atom, yes, True),
                (Atom(atom.poly, ">"), above, False)]

    def prove(self, depth: int, goal: Formula, facts: dict) -> None:
        goal = _simplify(goal)
        if isinstance(goal, Atom):
            if goal in facts:
                self.emit(depth, f"exact {facts[goal]}.")
                return
            for stated, name, truth in self.decide(depth, goal):
                self.emit(depth, "{")
                if truth:
                    self.emit(depth + 1, f"exact {name}.")
                else:
                    self.emit(depth + 1, "exfalso.")
                    self.leaf(depth + 1, {**facts, stated: name})
                self.emit(depth, "}")
            return
        if not goal.args:
            if isinstance(goal, And):
                self.emit(depth, "exact I.")
            else:
                self.emit(depth, "exfalso.")
                self.leaf(depth, facts)
            return
        first, rest = goal.args[0], _rest(goal)
        if isinstance(goal, And):
            self.emit(depth, "split.")
            self.emit(depth, "{")
            self.prove(depth + 1, first, dict(facts))
            self.emit(depth, "}")
            self.emit(depth, "{")
            self.prove(depth + 1, rest, dict(facts))
            self.emit(depth, "}")
            return
        # Or: decide the first disjunct through its atoms, then go left or right
        self.split_on(depth, _atoms_of(first), dict(facts), first, rest)

    def split_on(self, depth: int, todo: list[Atom], facts: dict, first: Formula,
                 rest: Formula) -> None:
        value = {}
        for a in _atoms_of(first):
            if a in facts:
                value[a] = True
            elif _negation_known(a, facts):
                value[a] = False
        todo = [a for a in todo if a not in value]
        if not todo:
            if _truth(first, value):
                self.emit(depth, "left.")
                self.prove_true(depth, first, facts)
            else:
                self.emit(depth, "right.")
                self.prove(depth, rest, facts)
            return
        atom, more = todo[0], todo[1:]
        for stated, name, _truth_value in self.decide(depth, atom):
            self.emit(depth, "{")
            self.split_on(depth + 1, more, {**facts, stated: name}, first, rest)
            self.emit(depth, "}")

    def prove_true(self, depth: int, f: Formula, facts: dict) -> None:
        """Prove ``f``, which is true given the decided atoms in ``facts``."""
        f = _simplify(f)
        if isinstance(f, Atom):
            self.emit(depth, f"exact {facts[f]}.")
            return
        if not f.args:
            self.emit(depth, "exact I.")
            return
        if isinstance(f, And):
            self.emit(depth, "split.")
            for part in (f.args[0], _rest(f)):
                self.emit(depth, "{")
                self.prove_true(depth + 1, part, facts)
                self.emit(depth, "}")
            return
        value = {a: (a in facts) for a in _atoms_of(f)}
        args = list(f.args)
        i = next(k for k, a in enumerate(args) if _truth(a, value))
        for _ in range(i):
            self.emit(depth, "right.")
        if i < len(args) - 1:
            self.emit(depth, "left.")
        self.prove_true(depth, args[i], facts)

    # a contradiction from one of the checker's cases ----------------------------------------
    def leaf(self, depth: int, facts: dict) -> None:
        self.leaves += 1
        for n, atoms in enumerate(self.cases):
            if all(a in facts for a in atoms):
                break
        else:
            raise InputError("internal error: a branch of the Coq proof matches none of the "
                             "certificate's cases")
        self.used_cases.add(n)
        self.identity(depth, list(self.cases[n]), self.certs[n], facts)

    def identity(self, depth: int, atoms: list[Atom], cert: dict, facts: dict) -> None:
        """The contradiction of one case certificate; a split (checker.split_of) becomes
        a case analysis 0 <= p \\/ p < 0, each branch with its atom as a new fact."""
        from .checker import split_of

        sp = split_of(cert)
        if sp is not None:
            p, pos, neg = sp
            self.splits = getattr(self, "splits", 0) + 1
            h = f"Split_{self.splits}"
            self.emit(depth, f"destruct (Rle_or_lt 0 ({self.poly(p)})) as [{h}|{h}].")
            for branch, poly in ((pos, p), (neg, -p)):
                atom = Atom(poly, ">=")
                self.emit(depth, "{")
                self.identity(depth + 1, atoms + [atom], branch, {**facts, atom: h})
                self.emit(depth, "}")
            return
        emit_identity(self, depth, atoms, cert, facts)


def _rest(f: Formula) -> Formula:
    rest = f.args[1:]
    return rest[0] if len(rest) == 1 else type(f)(tuple(rest))


def _negation_known(a: Atom, facts: dict) -> bool:
    if a.rel == "==":
        return Atom(a.poly, ">") in facts or Atom(-a.poly, ">") in facts
    return negate(a) in facts


def _and_pattern(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"[{names[0]} {_and_pattern(names[1:])}]"


def _or_pattern(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"[{names[0]}|{_or_pattern(names[1:])}]"


def cleared_lemma(problem, proof: dict, name: str = COQ_THEOREM,
                  keyword: str = "Lemma") -> tuple[list[str], list[str]]:
    """(notes, lines) of a lemma ``name`` stating the cleared problem and proving it from
    the (checked) certificate; ``notes`` are comment lines describing it."""
    from .checker import cases_of

    cases = cases_of(problem)
    certs = proof["cases"]
    if len(certs) != len(cases):
        raise InputError(f"the certificate covers {len(certs)} case(s), the problem has "
                         f"{len(cases)}")
    names = _coq_names(problem.variables)
    groups = [("model constraint", problem.model_constraints),
              ("definition of an auxiliary variable", problem.definitions),
              ("domain condition", problem.domain),
              ("assumption", problem.assumptions)]
    hyp_lines, hyp_names, pending = [], [], []
    for label, formulas in groups:
        for f in formulas:
            hname = f"Hyp_{len(hyp_names) + 1}"
            hyp_names.append(hname)
            pending.append((hname, f))
            hyp_lines.append(f"    {coq_formula(f, names)} ->  (* {hname}: {label} *)")
    writer = _ProofWriter(cases, certs, names)
    writer.hyps(1, pending, {}, problem.claim)
    unused = set(range(len(cases))) - writer.used_cases

    notes = [f"proof: {proof.get('kind')} certificate, {len(cases)} case(s) of the negated "
             "claim, replayed below"]
    if problem.factors:
        notes.append("denominators cleared (each > 0 under the model constraints, so "
                     "clearing keeps every inequality's direction): "
                     + "; ".join(coq_poly(p, names) for p in problem.factors))
    renamed = {v: n for v, n in names.items() if v != n}
    if renamed:
        notes.append("variables renamed for Coq: "
                     + ", ".join(f"{v} as {n}" for v, n in renamed.items()))
    if unused:
        notes.append(f"certificate cases no branch needed: {sorted(k + 1 for k in unused)}")
    out = [f"{keyword} {name} :"]
    if problem.variables:
        out.append(f"  forall {' '.join(names[v] for v in problem.variables)} : R,")
    out += hyp_lines
    out.append(f"    {coq_formula(problem.claim, names)}.")
    out.append("Proof.")
    introduced = [names[v] for v in problem.variables] + hyp_names
    if introduced:
        out.append(f"  intros {' '.join(introduced)}.")
    out += writer.lines
    out.append("Qed.")
    return notes, out


def coq_text(problem, proof: dict, header: list[tuple[str, str]] | None = None) -> str:
    """A Coq file stating only the *cleared* problem (the encoding the certificate is
    about) as ``claim_holds``. This is not the claim as written: trust 'kernel' rests on
    ``prover.coq.claim_text``, which states the claim over the model's statistics and
    proves it through this lemma."""
    notes, lemma = cleared_lemma(problem, proof, COQ_THEOREM, "Theorem")
    out = ["(* Generated by `prover export --to coq`: a machine-checkable proof. *)"]
    out += [f"(* {k}: {_coq_comment(v)} *)" for k, v in (header or [])]
    out += [f"(* {_coq_comment(n)} *)" for n in notes]
    out.append("(* The statement is the cleared encoding, not the claim as written. "
               "Check with: coqc FILE.v *)")
    out += ["", "Require Import Reals Psatz Lra.", "Open Scope R_scope.", ""]
    out += lemma
    out.append("")
    out.append(f"Print Assumptions {COQ_THEOREM}.")
    return "\n".join(out) + "\n"


# --- running coqc ------------------------------------------------------------------------------

def coqc_available() -> bool:
    return shutil.which("coqc") is not None


def coqc_version() -> str:
    """The first line of ``coqc --version`` (or '' when coqc is missing)."""
    coqc = shutil.which("coqc")
    if coqc is None:
        return ""
    try:
        out = subprocess.run([coqc, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""


_NOT_ALLOWED = re.compile(r"\b(Admitted|admit|Axiom|Axioms|Parameter|Parameters|Conjecture|"
                          r"Hypothesis|Hypotheses|Variable|Variables)\b")


def _strip_comments(text: str) -> str:
    out, depth, i = [], 0, 0
    while i < len(text):
        if text.startswith("(*", i):
            depth += 1
            i += 2
        elif depth and text.startswith("*)", i):
            depth -= 1
            i += 2
        else:
            if not depth:
                out.append(text[i])
            i += 1
    return "".join(out)


def _axioms_listed(output: str) -> list[str]:
    """Axiom names in ``Print Assumptions`` output (lines ``Name`` followed by ``  : type``)."""
    if "Axioms:" not in output:
        return []
    section = output.split("Axioms:", 1)[1]
    return re.findall(r"^([A-Za-z_][\w.']*)\s*$", section, re.M) + \
        re.findall(r"^([A-Za-z_][\w.']*) :", section, re.M)


def compile_coq(text: str, timeout: float = 120) -> tuple[bool, str]:
    """Compile a Coq file with ``coqc`` in a temporary directory.

    Returns (ok, output): ok when coqc accepts the file, the file has no ``Admitted`` /
    ``admit`` / axiom declarations, and any ``Print Assumptions`` output lists only the
    axioms of Coq's real numbers (``ALLOWED_AXIOMS``). Raises ``CoqUnavailable`` when
    ``coqc`` is not installed."""
    coqc = shutil.which("coqc")
    if coqc is None:
        raise CoqUnavailable("coqc not installed: apt-get install coq")
    bad = _NOT_ALLOWED.search(_strip_comments(text))
    if bad:
        return False, f"refused: the file uses '{bad.group(1)}' (a proof must be complete)"
    with tempfile.TemporaryDirectory(prefix="prover-coq-") as tmp:
        path = os.path.join(tmp, "Claim.v")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        start = time.perf_counter()
        try:
            proc = subprocess.run([coqc, "-q", "Claim.v"], cwd=tmp, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f"coqc timed out after {timeout:g} s"
        seconds = time.perf_counter() - start
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        return False, output or f"coqc exited with code {proc.returncode}"
    extra = [a for a in _axioms_listed(output) if a not in ALLOWED_AXIOMS]
    if extra:
        return False, (f"the proof uses axioms beyond the standard real numbers: "
                       f"{', '.join(extra)}\n{output}")
    return True, (output + "\n" if output else "") + f"coqc: ok in {seconds:.2f} s"
