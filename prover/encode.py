"""Turn a conjecture into exact polynomial constraints with no division.

Every numeric subexpression becomes a ``Term``: a numerator polynomial over a product of
*positive factors* — polynomials the encoding itself proves positive from the model's
constraints (a positive constant, or a polynomial with nonnegative coefficients over
nonnegative variables that dominates a multiple of a strictly positive constraint). A
comparison ``a REL b`` is then ``Na*(L/Da) - Nb*(L/Db) REL 0`` with ``L`` the least
common multiple of the two factor products: multiplying by a positive quantity keeps the
relation, and no division ever reaches a solver.

Where a divisor's sign is not provable, the quotient becomes a fresh variable ``q`` with
``q*den == num`` and the divisor ``!= 0`` joins the claim's domain. ``sqrt``, ``abs``,
``min`` and ``max`` likewise become fresh variables with defining constraints. Domain
conditions (divisors nonzero, square-root arguments nonnegative) are hypotheses: a claim
is about the points where every expression in it is defined.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from fractions import Fraction

from . import expr as E
from .errors import ExprError
from .limits import MAX_DEGREE, MAX_EXPANSION, MAX_EXPONENT, number_problem
from .formula import (TRUE, And, Atom, Formula, Or, atoms, conj, disj, negate, strengthen,
                      to_smtlib)
from .models.base import ModelInstance
from .poly import Poly

# MAX_DEGREE, MAX_EXPONENT, MAX_EXPANSION (prover/limits.py): expanding powers and
# products of sums can explode: (rMZ - rDZ)^8 over the fifteen default twins components
# has ~320,000 terms. Counting coefficient products keeps a ten-character claim from
# hanging the loader (about a second of work at the cap). Every coefficient of every
# subexpression is also kept within MAX_NUMBER_DIGITS, so ((2^32)^32)^32 stops at its
# first oversized power instead of building ever larger numbers.


@dataclass(frozen=True)
class Term:
    num: Poly
    den: tuple[tuple[int, int], ...] = ()   # ((factor index, exponent), ...); see Encoder


@dataclass
class Problem:
    """The negated conjecture as exact constraints; unsat means the claim holds."""

    variables: list[str]
    model_constraints: list[Atom]
    definitions: list[Formula]       # auxiliary variables' defining constraints
    domain: list[Formula]            # where the claim's expressions are defined
    assumptions: list[Formula]
    claim: Formula                   # the claim itself (negation normal form)
    search_constraints: list[Atom] = field(default_factory=list)
    factors: list[Poly] = field(default_factory=list)

    @property
    def negated_claim(self) -> Formula:
        return negate(self.claim)

    def hypotheses(self) -> list[Formula]:
        return list(self.model_constraints) + self.definitions + self.domain + self.assumptions

    def is_linear(self) -> bool:
        return all(a.poly.degree() <= 1 for f in self.hypotheses() + [self.claim]
                   for a in atoms(f))

    def smtlib(self, *, negated: bool = True, search: bool = False,
               margin: Fraction | None = None, extra: list[Atom] = ()) -> str:
        """SMT-LIB 2 text of the problem (with the claim negated unless ``negated=False``,
        which gives the vacuity check: are the hypotheses satisfiable?).

        ``search`` adds the search-only constraints; ``margin`` asks every inequality of
        the negated claim and of the assumptions to hold by that much (search only)."""
        logic = "QF_LRA" if self.is_linear() else "QF_NRA"
        lines = [f"(set-logic {logic})", "(set-option :produce-models true)"]
        lines += [f"(declare-fun {v} () Real)" for v in self.variables]
        body: list[Formula] = list(self.model_constraints) + self.definitions + self.domain
        assumptions = self.assumptions
        goal = self.negated_claim if negated else TRUE
        if margin is not None:
            assumptions = [strengthen(a, margin) for a in assumptions]
            goal = strengthen(goal, margin)
        body += assumptions
        if search:
            body += self.search_constraints + list(extra)
        if negated:
            body.append(goal)
        lines += [f"(assert {to_smtlib(f)})" for f in body if f != TRUE]
        lines.append("(check-sat)")
        return "\n".join(lines) + "\n"

    def sha256(self) -> str:
        return hashlib.sha256(self.smtlib().encode()).hexdigest()


class Encoder:
    """Encodes expressions over one model instance; fresh variables are shared by
    structurally equal subexpressions."""

    def __init__(self, instance: ModelInstance):
        self.inst = instance
        self.nonneg = {a.poly.variables().pop() for a in instance.constraints
                       if a.rel in (">=", ">") and a.poly.degree() == 1
                       and len(a.poly.terms) == 1 and a.poly.constant_value() == 0
                       and next(iter(a.poly.terms.values())) > 0}
        self.strict = [a.poly for a in instance.constraints if a.rel == ">"]
        self.strict_set = frozenset(self.strict)
        self.factors: list[Poly] = []
        self.factor_index: dict[Poly, int] = {}
        self.variables: list[str] = list(instance.variables)
        self.definitions: list[Formula] = []
        self.domain: list[Formula] = []
        self.memo: dict[E.Expr, Term] = {}
        self.stat_terms: dict[str, Term] = {}
        self._expanding: set[str] = set()
        self._aux = 0
        self._work = 0                  # coefficient products so far (MAX_EXPANSION)
        self._where: list[int] = [0]    # offset of the node being encoded, for errors

    # positivity -----------------------------------------------------------------------
    def provably_positive(self, p: Poly) -> bool:
        """True when ``p > 0`` is one of the model's strict constraints, or follows from
    them by the dominance argument."""
        if p.is_constant():
            return p.constant_value() > 0
        if p in self.strict_set:        # a strict constraint of the model: p > 0 itself
            return True
        if any(c < 0 for c in p.terms.values()) or not p.variables() <= self.nonneg:
            return False
        if p.constant_value() > 0:
            return True
        for s in self.strict:
            if s.variables() <= self.nonneg and all(c > 0 for c in s.terms.values()) \
                    and all(m in p.terms for m in s.terms):
                return True
        return False

    def factor(self, p: Poly) -> int:
        if p not in self.factor_index:
            self.factor_index[p] = len(self.factors)
            self.factors.append(p)
        return self.factor_index[p]

    # bounded arithmetic -------------------------------------------------------------
    def mul(self, a: Poly, b: Poly) -> Poly:
        """a * b, refusing (as an input error) once the encoding's expansion work passes
        MAX_EXPANSION coefficient products."""
        self._work += len(a.terms) * len(b.terms)
        if self._work > MAX_EXPANSION:
            raise ExprError(f"expression too large: expanding it needs more than "
                            f"{MAX_EXPANSION} products of terms; use lower powers or "
                            "simpler products", self._where[-1])
        return a * b

    def pow(self, p: Poly, n: int) -> Poly:
        if n < 0:
            raise ValueError("polynomial powers must be nonnegative integers")
        result, base = Poly.const(1), p
        while n:
            if n & 1:
                result = self.mul(result, base)
            n >>= 1
            if n:
                base = self.mul(base, base)
        return result

    # terms ----------------------------------------------------------------------------
    # A Term is num * prod(factor_k ^ e_k): positive exponents are denominators, negative
    # ones multiply the numerator. Keeping both lets rDZ/rMZ cancel V_P exactly, so
    # ratios of linear-fractional statistics stay linear after clearing.
    def den_poly(self, den) -> Poly:
        out = Poly.const(1)
        for idx, e in den:
            out = self.mul(out, self.pow(self.factors[idx], e))
        return out

    @staticmethod
    def _combine(*dens) -> tuple:
        acc: dict[int, int] = {}
        for den in dens:
            for k, e in den:
                acc[k] = acc.get(k, 0) + e
        return tuple(sorted((k, e) for k, e in acc.items() if e))

    def materialize(self, t: Term) -> tuple[Poly, dict[int, int]]:
        """(numerator polynomial, {factor: positive exponent}) of a term."""
        num = self.mul(t.num, self.den_poly(tuple((k, -e) for k, e in t.den if e < 0)))
        return num, {k: e for k, e in t.den if e > 0}

    def fresh(self, kind: str) -> Poly:
        self._aux += 1
        name = f"aux_{kind}{self._aux}"
        self.variables.append(name)
        return Poly.var(name)

    def ratio_term(self, num: Poly, den: Poly, pos: int = 0) -> Term:
        """num/den as a Term: den factored in if provably positive (or negative)."""
        if den.is_constant():
            c = den.constant_value()
            if c == 0:
                raise ExprError("division by zero", pos)
            return Term(num.scale(1 / c))
        if self.provably_positive(den):
            return Term(num, ((self.factor(den), 1),))
        if self.provably_positive(-den):
            return Term(-num, ((self.factor(-den), 1),))
        q = self.fresh("quot")
        self.definitions.append(Atom(q * den - num, "=="))
        self.domain.append(Or((Atom(den, ">"), Atom(-den, ">"))))
        return Term(q)

    def statistic(self, name: str, pos: int) -> Term:
        if name in self.stat_terms:
            return self.stat_terms[name]
        stat = self.inst.statistics[name]
        if stat.ratio is not None:
            term = self.ratio_term(stat.ratio.num, stat.ratio.den)
        else:
            if name in self._expanding:
                raise ExprError(f"statistic '{name}' is defined in terms of itself", pos)
            self._expanding.add(name)
            term = self.term(E.parse_term(stat.expression))
            self._expanding.discard(name)
        self.stat_terms[name] = term
        return term

    def term(self, e: E.Expr) -> Term:
        if e in self.memo:
            return self.memo[e]
        self._where.append(e.pos)
        try:
            t = self._term(e)
        finally:
            self._where.pop()
        if t.num.degree() > MAX_DEGREE:
            raise ExprError(f"expression has polynomial degree above {MAX_DEGREE}", e.pos)
        for c in t.num.terms.values():
            problem = number_problem(c)
            if problem:
                raise ExprError(problem, e.pos)
        self.memo[e] = t
        return t

    def _term(self, e: E.Expr) -> Term:
        if isinstance(e, E.Num):
            return Term(Poly.const(e.value))
        if isinstance(e, E.Name):
            if e.name in self.inst.statistics:
                return self.statistic(e.name, e.pos)
            if e.name in self.inst.components:
                return Term(Poly.var(e.name))
            raise ExprError(f"unknown name '{e.name}'", e.pos)
        if isinstance(e, E.Neg):
            t = self.term(e.operand)
            return Term(-t.num, t.den)
        if isinstance(e, E.BinOp):
            return self._binop(e)
        if isinstance(e, E.Call):
            return self._call(e)
        raise ExprError("expected a number expression", e.pos)

    def _align(self, a: Term, b: Term) -> tuple[Poly, Poly, tuple]:
        """Numerators of a and b over their common denominator (lcm of factor products)."""
        na, da = self.materialize(a)
        nb, db = self.materialize(b)
        lcm = {k: max(da.get(k, 0), db.get(k, 0)) for k in set(da) | set(db)}
        na = self.mul(na, self.den_poly(tuple((k, lcm[k] - da.get(k, 0)) for k in lcm)))
        nb = self.mul(nb, self.den_poly(tuple((k, lcm[k] - db.get(k, 0)) for k in lcm)))
        return na, nb, tuple(sorted((k, v) for k, v in lcm.items() if v))

    def _binop(self, e: E.BinOp) -> Term:
        a = self.term(e.left)
        if e.op == "^":
            n = self._integer_constant(e.right)
            if n < 0:
                a, n = self._reciprocal(a, e.right.pos), -n
            return Term(self.pow(a.num, n), tuple((k, v * n) for k, v in a.den))
        b = self.term(e.right)
        if e.op in "+-":
            na, nb, den = self._align(a, b)
            return Term(na + nb if e.op == "+" else na - nb, den)
        if e.op == "/":
            b = self._reciprocal(b, e.right.pos)
        return Term(self.mul(a.num, b.num), self._combine(a.den, b.den))

    def _reciprocal(self, b: Term, pos: int) -> Term:
        """1/b; b's factors change sign, and its numerator becomes a factor when its sign
        is provable (else a quotient variable with a domain condition)."""
        if b.num.is_zero():
            raise ExprError("division by zero", pos)
        flipped = tuple((k, -e) for k, e in b.den)
        if b.num.is_constant():
            return Term(Poly.const(1 / b.num.constant_value()), flipped)
        if self.provably_positive(b.num):
            return Term(Poly.const(1), self._combine(((self.factor(b.num), 1),), flipped))
        if self.provably_positive(-b.num):
            return Term(Poly.const(-1), self._combine(((self.factor(-b.num), 1),), flipped))
        inv = self.ratio_term(Poly.const(1), b.num, pos)
        return Term(inv.num, self._combine(inv.den, flipped))

    def _integer_constant(self, e: E.Expr) -> int:
        t = self.term(e)
        if t.den or not t.num.is_constant() or t.num.constant_value().denominator != 1:
            raise ExprError("an exponent must be an integer constant (use sqrt for square "
                            "roots)", e.pos)
        n = int(t.num.constant_value())
        if abs(n) > MAX_EXPONENT:
            raise ExprError(f"exponent {n} is too large (at most {MAX_EXPONENT})", e.pos)
        return n

    def _call(self, e: E.Call) -> Term:
        args = [self.term(a) for a in e.args]
        args = [self.materialize(a) for a in args]
        if e.func == "sqrt":
            (num, den), = args
            if num.is_constant() and num.constant_value() < 0:
                raise ExprError("square root of a negative constant", e.pos)
            s = self.fresh("sqrt")
            square = self.mul(s * s, self.den_poly(tuple(den.items())))
            self.definitions.append(And((Atom(s, ">="), Atom(square - num, "=="))))
            return Term(s)
        if e.func == "abs":
            (num, den), = args
            v = self.fresh("abs")
            d = self.den_poly(tuple(den.items()))
            vd = self.mul(v, d)
            self.definitions.append(And((Atom(v, ">="), Or((Atom(vd - num, "=="),
                                                            Atom(vd + num, "=="))))))
            return Term(v)
        # min / max of several terms: m <= each (>= each), and equal to one of them
        m = self.fresh(e.func)
        bound, equal = [], []
        for num, den in args:
            d = self.den_poly(tuple(den.items()))
            diff = num - self.mul(m, d)  # sign of (a - m), scaled by d > 0
            bound.append(Atom(diff if e.func == "min" else -diff, ">="))
            equal.append(Atom(diff, "=="))
        self.definitions.append(And((conj(bound), disj(equal))))
        return Term(m)

    # formulas -------------------------------------------------------------------------
    def formula(self, e: E.Expr) -> Formula:
        if isinstance(e, E.Compare):
            self._where.append(e.pos)
            try:
                return conj(self._comparison(e))
            finally:
                self._where.pop()
        if isinstance(e, E.BoolOp):
            parts = [self.formula(a) for a in e.operands]
            return conj(parts) if e.op == "and" else disj(parts)
        if isinstance(e, E.Not):
            return negate(self.formula(e.operand))
        if isinstance(e, E.Implies):
            return disj([negate(self.formula(e.left)), self.formula(e.right)])
        raise ExprError("expected a boolean claim", e.pos)

    def _comparison(self, e: E.Compare) -> list[Atom]:
        links = []
        for op, left, right in zip(e.ops, e.operands, e.operands[1:]):
            na, nb, _ = self._align(self.term(left), self.term(right))
            diff = na - nb         # sign of left - right (times a positive factor)
            links.append({"<": Atom(-diff, ">"), "<=": Atom(-diff, ">="),
                          ">": Atom(diff, ">"), ">=": Atom(diff, ">="),
                          "==": Atom(diff, "==")}[op])
        return links


def encode(instance: ModelInstance, claim: E.Expr, assumptions: list[E.Expr]) -> Problem:
    enc = Encoder(instance)
    assumed = [enc.formula(a) for a in assumptions]
    claim_f = enc.formula(claim)
    return Problem(variables=enc.variables, model_constraints=list(instance.constraints),
                   definitions=enc.definitions, domain=enc.domain, assumptions=assumed,
                   claim=claim_f, search_constraints=list(instance.search_constraints),
                   factors=enc.factors)
