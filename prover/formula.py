"""Boolean combinations of polynomial atoms: the solver-independent problem language.

Encodings produce these; backends translate them (to SMT-LIB text, which every solver
reads), and the certificate checker works on them directly. Formulas are in negation
normal form: And / Or over ``Atom`` (``poly >= 0``, ``poly > 0``, ``poly == 0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator, Mapping, Union

from .poly import Atom


@dataclass(frozen=True)
class And:
    args: tuple


@dataclass(frozen=True)
class Or:
    args: tuple


Formula = Union[Atom, And, Or]
TRUE = And(())
FALSE = Or(())


def conj(parts) -> Formula:
    flat = []
    for p in parts:
        if isinstance(p, And):
            flat.extend(p.args)
        else:
            flat.append(p)
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def disj(parts) -> Formula:
    flat = []
    for p in parts:
        if isinstance(p, Or):
            flat.extend(p.args)
        else:
            flat.append(p)
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def negate(f: Formula) -> Formula:
    """Negation pushed to the atoms (exact: no atom is weakened or strengthened)."""
    if isinstance(f, Atom):
        if f.rel == ">=":
            return Atom(-f.poly, ">")
        if f.rel == ">":
            return Atom(-f.poly, ">=")
        return Or((Atom(f.poly, ">"), Atom(-f.poly, ">")))
    if isinstance(f, And):
        return disj(negate(a) for a in f.args)
    return conj(negate(a) for a in f.args)


def holds(f: Formula, values: Mapping[str, Fraction]) -> bool:
    if isinstance(f, Atom):
        return f.holds(values)
    if isinstance(f, And):
        return all(holds(a, values) for a in f.args)
    return any(holds(a, values) for a in f.args)


def atoms(f: Formula) -> Iterator[Atom]:
    if isinstance(f, Atom):
        yield f
    else:
        for a in f.args:
            yield from atoms(a)


def dnf(f: Formula, limit: int = 256) -> list[list[Atom]] | None:
    """Disjunctive normal form as a list of conjunctions; None if more than ``limit`` cases."""
    if isinstance(f, Atom):
        return [[f]]
    if isinstance(f, Or):
        out = []
        for a in f.args:
            sub = dnf(a, limit)
            if sub is None:
                return None
            out.extend(sub)
            if len(out) > limit:
                return None
        return out
    cases: list[list[Atom]] = [[]]
    for a in f.args:
        sub = dnf(a, limit)
        if sub is None:
            return None
        cases = [c + s for c in cases for s in sub]
        if len(cases) > limit:
            return None
    return cases


def to_smtlib(f: Formula) -> str:
    if isinstance(f, Atom):
        op = {">=": ">=", ">": ">", "==": "="}[f.rel]
        return f"({op} {f.poly.to_smtlib()} 0.0)"
    if not f.args:
        return "true" if isinstance(f, And) else "false"
    if len(f.args) == 1:
        return to_smtlib(f.args[0])
    word = "and" if isinstance(f, And) else "or"
    return f"({word} " + " ".join(to_smtlib(a) for a in f.args) + ")"


def strengthen(f: Formula, margin: Fraction) -> Formula:
    """Every inequality atom asked to hold by at least ``margin`` (search side only)."""
    if isinstance(f, Atom):
        return f if f.rel == "==" else Atom(f.poly - margin, ">=")
    parts = tuple(strengthen(a, margin) for a in f.args)
    return And(parts) if isinstance(f, And) else Or(parts)


__all__ = ["And", "Or", "Atom", "Formula", "TRUE", "FALSE", "conj", "disj", "negate", "holds",
           "atoms", "dnf", "to_smtlib", "strengthen"]
