"""The lexer and recursive-descent parser of the expression language (trusted, standard
library only): text to the trees of ``prover.expr_tree``, with the types of operands
checked while parsing and every size bounded (``prover/limits.py``). The grammar is in
``prover.expr``'s docstring; ``prover.expr`` re-exports the public names.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from fractions import Fraction

from .errors import ExprError
from .expr_tree import (_BOOLEAN, BinOp, BoolOp, Call, Compare, Expr, Implies, Name, Neg,
                        Not, Num, _children)
from .limits import (MAX_EXPRESSION_LENGTH as MAX_LENGTH, MAX_LITERAL_DIGITS as MAX_DIGITS,
                     MAX_NESTING, MAX_NODES, MAX_TOKENS, MAX_TREE_DEPTH, number_problem)

# The limits live in prover/limits.py. Long operator chains (a + b + c + ...) build deep
# trees without any textual nesting: capping the tree depth keeps every recursive walk
# over a parsed tree -- to_text in expr_tree, the encoders elsewhere -- far from Python's
# recursion limit.

KEYWORDS = frozenset({"and", "or", "not", "implies"})
# Function name -> (fewest, most) arguments; None means no upper bound.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "sqrt": (1, 1), "abs": (1, 1), "min": (2, None), "max": (2, None),
}
_FUNCTION_LIST = "sqrt, abs, min, max"

COMPARISONS = ("<", "<=", ">", ">=", "==")
_SUM_OPS = ("+", "-")
_PRODUCT_OPS = ("*", "/")


# --------------------------------------------------------------------------- lexer

@dataclass(frozen=True, slots=True)
class _Token:
    kind: str        # 'number', 'name', 'end', or the operator / keyword itself
    text: str        # as written, for messages ('**' has kind '^')
    offset: int
    value: Fraction | None = None


# Only ASCII layout characters count as space; anything else invisible is reported.
_WHITESPACE = " \t\n\r\f\v"
_DIGITS = frozenset(string.digits)
_NAME_START = frozenset(string.ascii_letters + "_")
_NAME_CHARS = _NAME_START | _DIGITS
_OPERATORS_2 = {"**": "^", "<=": "<=", ">=": ">=", "==": "=="}
_OPERATORS_1 = frozenset("+-*/^(),<>")
# Characters people paste from papers or other languages, with what to write instead.
_CHAR_HINTS = {
    "≤": "use '<='", "≥": "use '>='", "≠": "'!=' is not supported",
    "−": "use '-'", "–": "use '-'", "×": "use '*'", "·": "use '*'", "÷": "use '/'",
    "²": "use '^2'", "&": "use 'and'", "|": "use 'or'", "!": "use 'not'",
    "[": "use '(' and ')'", "]": "use '(' and ')'", "{": "use '(' and ')'",
    "}": "use '(' and ')'", "\u00a0": "use a plain space",
}


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _WHITESPACE:
            i += 1
            continue
        if len(tokens) == MAX_TOKENS:
            raise ExprError(f"expression too long: more than {MAX_TOKENS} tokens", i)
        if c in _DIGITS or c == ".":
            token = _number(text, i)
        elif c in _NAME_START:
            j = i + 1
            while j < n and text[j] in _NAME_CHARS:
                j += 1
            word = text[i:j]
            token = _Token(word if word in KEYWORDS else "name", word, i)
        elif text[i:i + 2] in _OPERATORS_2:
            token = _Token(_OPERATORS_2[text[i:i + 2]], text[i:i + 2], i)
        elif text[i:i + 2] == "!=":
            raise ExprError("'!=' is not supported", i)
        elif c == "=":
            if text[i:i + 2] in ("=<", "=>"):
                raise ExprError(f"{text[i:i + 2]!r} is not a comparison; "
                                f"use '{text[i + 1]}='", i)
            raise ExprError("'=' is not a comparison; use '=='", i)
        elif c in _OPERATORS_1:
            token = _Token(c, c, i)
        else:
            hint = _CHAR_HINTS.get(c)
            raise ExprError(f"unexpected character {c!r}" + (f"; {hint}" if hint else ""), i)
        tokens.append(token)
        i = token.offset + len(token.text)
    tokens.append(_Token("end", "", n))
    return tokens


def _number(text: str, start: int) -> _Token:
    """Read the literal at ``start``: digits with at most one '.', then maybe an exponent."""
    n = len(text)
    i = start
    while i < n and (text[i] in _DIGITS or text[i] == "."):
        i += 1
    mantissa = text[start:i]
    exponent = ""
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j] in _DIGITS:
            while j < n and text[j] in _DIGITS:
                j += 1
            exponent, i = text[i + 1:j], j
    if i < n and (text[i] in _NAME_CHARS or text[i] == "."):
        # Glued to letters or more dots: '2x', '1.2.3', '0x1F', '1_000', '1e'.
        j = i
        while j < n and (text[j] in _NAME_CHARS or text[j] == "."):
            j += 1
        message = f"malformed number {text[start:j]!r}"
        if (not exponent and text[i] in string.ascii_letters and text[i] not in "eE"
                and mantissa.count(".") <= 1 and mantissa != "."):
            message += f"; write '{mantissa}*{text[i:j]}' for a product"
        raise ExprError(message, start)
    if mantissa.count(".") > 1 or mantissa == ".":
        raise ExprError(f"malformed number {text[start:i]!r}", start)
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    # Bound the sizes before int() runs: int() refuses over 4300 digits, and 10**huge
    # would take forever.
    if len(digits) > MAX_DIGITS or len(exponent.lstrip("+-").lstrip("0")) > 5:
        raise ExprError(f"number literal too long: more than {MAX_DIGITS} digits", start)
    significant = digits.lstrip("0").rstrip("0")
    value = Fraction(0)
    if significant:
        # value = significant * 10**scale, counted without building the number first.
        scale = (len(digits.lstrip("0")) - len(significant)) - len(fraction) \
            + int(exponent or "0")
        written = len(significant) + scale if scale >= 0 \
            else max(1, len(significant) + scale) - scale
        if written > MAX_DIGITS:
            raise ExprError(f"number literal too long: more than {MAX_DIGITS} digits "
                            "when written out", start)
        value = Fraction(int(significant)) * Fraction(10) ** scale
        problem = number_problem(value)
        if problem:
            raise ExprError(f"{problem} ({text[start:i]!r})", start)
    return _Token("number", text[start:i], start, value)


# --------------------------------------------------------------------------- parser

def _describe(token: _Token) -> str:
    text = token.text if len(token.text) <= 20 else token.text[:17] + "..."
    return f"'{text}'"


class _Parser:
    """One parse of one text.  Every recursive step that the text can repeat at will
    (parentheses, prefix operators, exponents) goes through :meth:`_enter`, so the
    Python stack stays a small multiple of :data:`MAX_NESTING` deep."""

    def __init__(self, text: str):
        self._tokens = _tokenize(text)
        self._index = 0
        self._depth = 0

    # -- token helpers

    @property
    def _tok(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _enter(self, offset: int) -> None:
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise ExprError(f"expression nested too deeply (more than {MAX_NESTING} levels)",
                            offset)

    def _expected(self, what: str) -> ExprError:
        if self._tok.kind == "end":
            return ExprError(f"unexpected end of expression: expected {what}", self._tok.offset)
        return ExprError(f"expected {what} but found {_describe(self._tok)}", self._tok.offset)

    # -- type checks (offset = where the offending operand starts)

    @staticmethod
    def _need_number(expr: Expr, offset: int, who: str) -> None:
        if isinstance(expr, _BOOLEAN):
            raise ExprError(f"{who} but found a boolean claim", offset)

    @staticmethod
    def _need_claim(expr: Expr, offset: int, who: str) -> None:
        if not isinstance(expr, _BOOLEAN):
            raise ExprError(f"{who} but found a number expression", offset)

    # -- grammar, loosest first

    def parse(self) -> Expr:
        expr = self._formula()
        if self._tok.kind == ")":
            raise ExprError("unmatched ')'", self._tok.offset)
        if self._tok.kind != "end":
            raise ExprError(f"expected an operator or the end of the expression but found "
                            f"{_describe(self._tok)}", self._tok.offset)
        return expr

    def _formula(self) -> Expr:
        # A loop rather than right recursion: chains of 'implies' are not nesting.
        starts = [self._tok.offset]
        operands = [self._bool_chain("or")]
        keywords: list[int] = []
        while self._tok.kind == "implies":
            keywords.append(self._advance().offset)
            starts.append(self._tok.offset)
            operands.append(self._bool_chain("or"))
        if len(operands) == 1:
            return operands[0]
        for operand, start in zip(operands, starts):
            self._need_claim(operand, start, "'implies' needs a boolean claim on each side")
        result = operands[-1]
        for operand, start, keyword in zip(operands[-2::-1], starts[-2::-1], keywords[::-1]):
            result = Implies(operand, result, pos=start, op_pos=keyword)
        return result

    def _bool_chain(self, op: str) -> Expr:
        """An 'or' chain of 'and' chains, or an 'and' chain of negations."""
        start = self._tok.offset
        first = self._bool_chain("and") if op == "or" else self._negation()
        if self._tok.kind != op:
            return first
        who = f"'{op}' needs a boolean claim on each side"
        self._need_claim(first, start, who)
        operands, keywords = [first], []
        while self._tok.kind == op:
            keywords.append(self._advance().offset)
            offset = self._tok.offset
            operand = self._bool_chain("and") if op == "or" else self._negation()
            self._need_claim(operand, offset, who)
            operands.append(operand)
        return BoolOp(op, tuple(operands), pos=start, op_pos=tuple(keywords))

    def _negation(self) -> Expr:
        nots = []
        while self._tok.kind == "not":
            self._enter(self._tok.offset)
            nots.append(self._advance())
        start = self._tok.offset
        expr = self._comparison()
        if nots:
            self._need_claim(expr, start, "'not' needs a boolean claim")
        for token in reversed(nots):
            expr = Not(expr, pos=token.offset)
        self._depth -= len(nots)
        return expr

    def _comparison(self) -> Expr:
        start = self._tok.offset
        first = self._arithmetic(_SUM_OPS)
        if self._tok.kind not in COMPARISONS:
            return first
        who = "a comparison needs number expressions on both sides"
        self._need_number(first, start, who)
        operands, ops, op_pos = [first], [], []
        while self._tok.kind in COMPARISONS:
            token = self._advance()
            ops.append(token.kind)
            op_pos.append(token.offset)
            offset = self._tok.offset
            operand = self._arithmetic(_SUM_OPS)
            self._need_number(operand, offset, who)
            operands.append(operand)
        return Compare(tuple(ops), tuple(operands), pos=start, op_pos=tuple(op_pos))

    def _arithmetic(self, ops: tuple[str, str]) -> Expr:
        """A left-associative chain of sums (of products) or of products (of unaries)."""
        start = self._tok.offset
        left = self._arithmetic(_PRODUCT_OPS) if ops is _SUM_OPS else self._unary()
        while self._tok.kind in ops:
            token = self._advance()
            who = f"'{token.text}' needs a number expression on each side"
            self._need_number(left, start, who)
            offset = self._tok.offset
            right = self._arithmetic(_PRODUCT_OPS) if ops is _SUM_OPS else self._unary()
            self._need_number(right, offset, who)
            left = BinOp(token.kind, left, right, pos=start, op_pos=token.offset)
        return left

    def _unary(self) -> Expr:
        """Signs, an atom, then maybe '^' and an exponent, which is itself a unary."""
        signs = []
        while self._tok.kind in ("-", "+"):
            self._enter(self._tok.offset)
            signs.append(self._advance())
        start = self._tok.offset
        expr = self._atom()
        if self._tok.kind == "^":
            token = self._advance()
            who = f"'{token.text}' needs a number expression on each side"
            self._need_number(expr, start, who)
            self._enter(token.offset)
            offset = self._tok.offset
            exponent = self._unary()
            self._need_number(exponent, offset, who)
            self._depth -= 1
            expr = BinOp("^", expr, exponent, pos=start, op_pos=token.offset)
        if signs:
            self._need_number(expr, start, f"'{signs[-1].text}' needs a number expression")
        for token in reversed(signs):
            if token.kind == "-":  # unary plus changes nothing, so it leaves no node
                expr = Neg(expr, pos=token.offset)
        self._depth -= len(signs)
        return expr

    def _atom(self) -> Expr:
        token = self._tok
        if token.kind == "number":
            self._advance()
            return Num(token.value, pos=token.offset)
        if token.kind == "name":
            self._advance()
            if self._tok.kind == "(":
                return self._call(token)
            if token.text in FUNCTIONS:
                raise ExprError(f"'{token.text}' is a function; write {token.text}(...)",
                                token.offset)
            return Name(token.text, pos=token.offset)
        if token.kind == "(":
            self._enter(token.offset)
            self._advance()
            expr = self._formula()
            if self._tok.kind != ")":
                raise self._expected(f"')' to close the '(' at offset {token.offset}")
            self._advance()
            self._depth -= 1
            return expr
        if token.kind == "end":
            raise ExprError("unexpected end of expression: " + self._missing_operand(),
                            token.offset)
        raise self._expected("a number, a name or '('")

    def _missing_operand(self) -> str:
        previous = self._tokens[self._index - 1]  # never empty: blank text is refused first
        if previous.kind in COMPARISONS:
            return "a comparison needs a right-hand side"
        if previous.kind == "(":
            return "expected a number, a name or '(' after '('"
        if previous.kind == ",":
            return "expected another argument after ','"
        return f"'{previous.text}' needs an operand after it"

    def _call(self, name: _Token) -> Call:
        func = name.text
        if func not in FUNCTIONS:
            raise ExprError(f"unknown function '{func}'; functions are {_FUNCTION_LIST}",
                            name.offset)
        self._enter(self._tok.offset)
        self._advance()  # '('
        args: list[Expr] = []
        if self._tok.kind != ")":
            while True:
                offset = self._tok.offset
                arg = self._formula()
                self._need_number(arg, offset,
                                  f"'{func}' needs number expressions as arguments")
                args.append(arg)
                if self._tok.kind != ",":
                    break
                self._advance()
            if self._tok.kind != ")":
                raise self._expected(f"',' or ')' in the arguments of '{func}'")
        self._advance()  # ')'
        self._depth -= 1
        fewest, most = FUNCTIONS[func]
        if most == fewest and len(args) != fewest:
            raise ExprError(f"'{func}' takes exactly {fewest} argument"
                            f"{'' if fewest == 1 else 's'}, got {len(args)}", name.offset)
        if len(args) < fewest:
            raise ExprError(f"'{func}' takes at least {fewest} arguments, got {len(args)}",
                            name.offset)
        return Call(func, tuple(args), pos=name.offset)


def _check_tree_depth(expr: Expr) -> None:
    stack = [(expr, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ExprError(f"expression too complex: more than {MAX_NODES} operations "
                            "and operands", node.pos)
        if depth > MAX_TREE_DEPTH:
            raise ExprError(f"expression too complex: operations nested more than "
                            f"{MAX_TREE_DEPTH} levels deep", node.pos)
        stack.extend((child, depth + 1) for child in _children(node))


def _parse(text: str) -> Expr:
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression too long: {len(text)} characters "
                        f"(at most {MAX_LENGTH})", MAX_LENGTH)
    if not text.strip(_WHITESPACE):
        raise ExprError("empty expression", 0)
    expr = _Parser(text).parse()
    _check_tree_depth(expr)
    return expr


def _first_offset(text: str) -> int:
    return len(text) - len(text.lstrip(_WHITESPACE))


def parse_formula(text: str) -> Expr:
    """Parse a boolean claim such as ``"4*rDZ - rMZ <= h2 <= 2*rDZ"``.

    Raises ExprError (with the offending offset) on any syntax, type or size problem,
    including text that is a number expression rather than a claim.
    """
    expr = _parse(text)
    if not isinstance(expr, _BOOLEAN):
        raise ExprError("expected a boolean claim (a comparison, 'and', 'or', 'not', "
                        "'implies') but found a number expression", _first_offset(text))
    return expr


def parse_term(text: str) -> Expr:
    """Parse a number expression such as ``"2*rDZ - rMZ"``; a claim is an ExprError."""
    expr = _parse(text)
    if isinstance(expr, _BOOLEAN):
        raise ExprError("expected a number expression but found a boolean claim",
                        _first_offset(text))
    return expr
