"""The trees of the expression language (trusted, standard library only): the immutable
node classes the parser (``prover.expr_parse``) builds, walking them, the names they use
(with a nearest-name suggestion for unknown ones), and :func:`to_text`, the canonical
printer used to hash normalized conjectures. ``prover.expr`` re-exports the public names.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from .errors import ExprError


# --------------------------------------------------------------------------- nodes
#
# Offsets are excluded from equality, hashing and repr: two trees that say the same
# thing are equal however the text was spaced, and a failing test shows the structure.

def _position(default: int | tuple[int, ...] = 0):
    return field(default=default, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Expr:
    """Base of every expression node; ``pos`` is the offset of the node's first character."""

    pos: int = _position()


@dataclass(frozen=True, slots=True)
class Num(Expr):
    """An exact rational literal (the parser only makes non-negative ones)."""

    value: Fraction


@dataclass(frozen=True, slots=True)
class Name(Expr):
    """A model statistic or component, e.g. ``rDZ``."""

    name: str


@dataclass(frozen=True, slots=True)
class Neg(Expr):
    """Unary minus; ``pos`` is the offset of the ``-``."""

    operand: Expr


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    """``left op right`` with ``op`` one of ``+ - * / ^``; ``op_pos`` is the operator's offset."""

    op: str
    left: Expr
    right: Expr
    op_pos: int = _position()


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """``func(args...)`` with ``func`` one of :data:`~prover.expr_parse.FUNCTIONS`."""

    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    """A possibly chained comparison: ``ops[i]`` relates ``operands[i]`` and ``operands[i+1]``.

    ``op_pos[i]`` is the offset of ``ops[i]``.
    """

    ops: tuple[str, ...]
    operands: tuple[Expr, ...]
    op_pos: tuple[int, ...] = _position(())


@dataclass(frozen=True, slots=True)
class BoolOp(Expr):
    """``and`` / ``or`` over two or more claims; ``op_pos`` holds each keyword's offset."""

    op: str
    operands: tuple[Expr, ...]
    op_pos: tuple[int, ...] = _position(())


@dataclass(frozen=True, slots=True)
class Not(Expr):
    """``not claim``; ``pos`` is the offset of ``not``."""

    operand: Expr


@dataclass(frozen=True, slots=True)
class Implies(Expr):
    """``left implies right``; ``op_pos`` is the offset of ``implies``."""

    left: Expr
    right: Expr
    op_pos: int = _position()


_BOOLEAN = (Compare, BoolOp, Not, Implies)


def _children(expr: Expr) -> tuple[Expr, ...]:
    """The direct subexpressions of ``expr``, in text order."""
    match expr:
        case Neg(operand=operand) | Not(operand=operand):
            return (operand,)
        case BinOp(left=left, right=right) | Implies(left=left, right=right):
            return (left, right)
        case Call(args=args):
            return args
        case Compare(operands=operands) | BoolOp(operands=operands):
            return operands
    return ()


def _walk(expr: Expr) -> Iterator[Expr]:
    """Every node of ``expr`` in pre-order (text order), without recursion."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(_children(node)))


# --------------------------------------------------------------------------- names

def names(expr: Expr) -> set[str]:
    """Every name used in ``expr``."""
    return {node.name for node in _walk(expr) if isinstance(node, Name)}


def name_positions(expr: Expr) -> list[tuple[str, int]]:
    """``(name, offset)`` for every occurrence of a name, in text order."""
    return [(node.name, node.pos) for node in _walk(expr) if isinstance(node, Name)]


_KNOWN_SHOWN = 20


def check_names(expr: Expr, known: Iterable[str]) -> None:
    """Raise ExprError at the first name not in ``known``, suggesting the nearest one."""
    known_set = set(known)
    known = sorted(known_set)
    for name, offset in name_positions(expr):
        if name in known_set:
            continue
        # Case slips (rdz for rDZ) first: difflib scores them no better than other typos.
        matches = [k for k in known if k.lower() == name.lower()] \
            or difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if matches:
            raise ExprError(f"unknown name '{name}'; did you mean '{matches[0]}'?", offset)
        if not known:
            raise ExprError(f"unknown name '{name}'; no names are known here", offset)
        listed = ", ".join(known[:_KNOWN_SHOWN])
        if len(known) > _KNOWN_SHOWN:
            listed += f", ... ({len(known) - _KNOWN_SHOWN} more)"
        raise ExprError(f"unknown name '{name}'; known names: {listed}", offset)


# --------------------------------------------------------------------------- printing

# Binding strength as printed; a child binding more loosely than its slot needs
# parentheses.  Atoms (numbers, names, calls) bind tightest.
_IMPLIES, _OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _UNARY, _POWER, _ATOM = range(1, 11)
_BINOP_PRECEDENCE = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT, "^": _POWER}


def _spelled(num: Num) -> Expr:
    """``num`` as the parser would read its text.

    A decimal literal stays a Num; a negative value or one without a finite decimal
    expansion (only built by hand) is written as the negation or division denoting it.
    """
    value = num.value
    if value < 0:
        return Neg(_spelled(Num(-value)))
    if _decimal_places(value) is None:
        return BinOp("/", Num(Fraction(value.numerator)), Num(Fraction(value.denominator)))
    return num


def _decimal_places(value: Fraction) -> int | None:
    """Digits after the point in ``value``'s exact decimal form; None if it has none."""
    denominator, twos, fives = value.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    return max(twos, fives) if denominator == 1 else None


# Beyond this many padding zeros a literal is written as digits 'e' exponent, so that
# 1e-50 stays short and 1e999 does not print a thousand characters.
_MAX_PADDING_ZEROS = 9


def _decimal(value: Fraction) -> str:
    """``value`` (non-negative, with a finite decimal expansion) as an exact literal."""
    places = _decimal_places(value)
    digits = str(value.numerator * 10 ** places // value.denominator)
    significant = digits.rstrip("0")
    if not significant:
        return "0"
    exponent = len(digits) - len(significant) - places  # value = significant * 10**exponent
    padding = exponent if exponent >= 0 else -exponent - len(significant)
    if padding > _MAX_PADDING_ZEROS:
        return f"{significant}e{exponent}"
    if not places:
        return digits
    digits = digits.rjust(places + 1, "0")
    return f"{digits[:-places]}.{digits[-places:]}"


def _precedence(expr: Expr) -> int:
    match expr:
        case Num():
            spelled = _spelled(expr)
            return _ATOM if spelled is expr else _precedence(spelled)
        case Implies():
            return _IMPLIES
        case BoolOp(op=op):
            return _OR if op == "or" else _AND
        case Not():
            return _NOT
        case Compare():
            return _COMPARE
        case BinOp(op=op):
            return _BINOP_PRECEDENCE[op]
        case Neg():
            return _UNARY
    return _ATOM


def to_text(expr: Expr) -> str:
    """Canonical text for ``expr``: single spaces around binary operators, comparisons
    and keywords, only the parentheses the tree needs, exact decimal literals
    (``0.45``, ``1e-50``).  Deterministic, so it can be hashed."""
    def wrapped(child: Expr, needs_parentheses: bool) -> str:
        text = to_text(child)
        return f"({text})" if needs_parentheses else text

    match expr:
        case Num(value=value):
            spelled = _spelled(expr)
            return _decimal(value) if spelled is expr else to_text(spelled)
        case Name(name=name):
            return name
        case Call(func=func, args=args):
            return f"{func}({', '.join(to_text(arg) for arg in args)})"
        case Neg(operand=operand):
            return "-" + wrapped(operand, _precedence(operand) < _UNARY)
        case Not(operand=operand):
            return "not " + wrapped(operand, _precedence(operand) < _NOT)
        case BinOp(op="^", left=left, right=right):
            # Right-associative, and the exponent may itself start with a unary minus.
            return (wrapped(left, _precedence(left) <= _POWER) + " ^ "
                    + wrapped(right, _precedence(right) < _UNARY))
        case BinOp(op=op, left=left, right=right):
            level = _BINOP_PRECEDENCE[op]
            return (wrapped(left, _precedence(left) < level) + f" {op} "
                    + wrapped(right, _precedence(right) <= level))
        case Compare(ops=ops, operands=operands):
            parts = [wrapped(operands[0], _precedence(operands[0]) <= _COMPARE)]
            for op, operand in zip(ops, operands[1:]):
                parts += [op, wrapped(operand, _precedence(operand) <= _COMPARE)]
            return " ".join(parts)
        case BoolOp(op=op, operands=operands):
            level = _precedence(expr)
            return f" {op} ".join(wrapped(operand, _precedence(operand) <= level)
                                  for operand in operands)
        case Implies(left=left, right=right):
            return (wrapped(left, _precedence(left) <= _IMPLIES) + " implies "
                    + wrapped(right, _precedence(right) < _IMPLIES))
    raise TypeError(f"not an expression node: {expr!r}")
