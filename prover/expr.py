"""The expression language of conjecture files: parse it, check it, print it back.

A conjecture's ``claim`` and ``assume`` strings (DESIGN.md, "Conjecture files") are read
here by a hand-written lexer and recursive-descent parser into small immutable trees.
Text is never evaluated as Python: literals become exact :class:`~fractions.Fraction`
values (``0.45`` is ``9/20``), names stay names, and every node records the 0-based offset
where it starts so that an error can point at the offending character.

Grammar, loosest binding first::

    formula  := disjunct ('implies' disjunct)*         right-associative
    disjunct := conjunct ('or' conjunct)*              one flat BoolOp per chain
    conjunct := negation ('and' negation)*             one flat BoolOp per chain
    negation := 'not'* comparison
    comparison := sum (('<' | '<=' | '>' | '>=' | '==') sum)*      chained: a <= b < c
    sum      := product (('+' | '-') product)*         left-associative
    product  := unary (('*' | '/') unary)*             left-associative
    unary    := ('-' | '+')* atom (('^' | '**') unary)?
                so '^' is right-associative, -x^2 is -(x^2) and 2^-1 is allowed
    atom     := number | name | function '(' formula (',' formula)* ')' | '(' formula ')'

Types are checked while parsing: arithmetic, comparisons and function arguments take
number expressions; ``and``, ``or``, ``not`` and ``implies`` take boolean claims.  The
tree is kept as written (no constant folding; division by zero is the encoder's
business) except that ``**`` becomes ``^`` and ``and``/``or`` chains are flattened.

:func:`to_text` prints a tree in one canonical form, used to hash normalized
conjectures; ``parse_formula(to_text(e)) == e`` holds for every parsed formula (short of
the size limits: canonical spacing can lengthen text that was written without spaces).

The language lives in two modules, re-exported here: ``prover.expr_tree`` (the nodes,
walking, names, the printer) and ``prover.expr_parse`` (the lexer and the parser).

Hostile input is refused with :class:`~prover.errors.ExprError`, never RecursionError:
text, token count, literal size and value, nesting, node count and tree depth are all
bounded (see ``prover/limits.py``), and the bounds keep the parser's own recursion
shallow.
"""

from __future__ import annotations

from .expr_parse import (COMPARISONS, FUNCTIONS, KEYWORDS, MAX_DIGITS, MAX_LENGTH,
                         MAX_NESTING, MAX_NODES, MAX_TOKENS, MAX_TREE_DEPTH, parse_formula,
                         parse_term)
from .expr_tree import (BinOp, BoolOp, Call, Compare, Expr, Implies, Name, Neg, Not, Num,
                        check_names, name_positions, names, to_text)

__all__ = [
    "Expr", "Num", "Name", "Neg", "BinOp", "Call", "Compare", "BoolOp", "Not", "Implies",
    "parse_formula", "parse_term", "names", "name_positions", "check_names", "to_text",
    "FUNCTIONS", "KEYWORDS", "COMPARISONS",
    "MAX_LENGTH", "MAX_TOKENS", "MAX_NESTING", "MAX_DIGITS", "MAX_TREE_DEPTH", "MAX_NODES",
]
