"""The expression language: trees, exact literals, errors with offsets, limits, printing."""

from __future__ import annotations

import sys
import time
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from prover.errors import ExprError, InputError
from prover.expr import (
    COMPARISONS, MAX_DIGITS, MAX_LENGTH, MAX_NESTING, MAX_TOKENS, MAX_TREE_DEPTH,
    BinOp, BoolOp, Call, Compare, Expr, Implies, Name, Neg, Not, Num,
    check_names, name_positions, names, parse_formula, parse_term, to_text,
)


def n(value) -> Num:
    return Num(Fraction(value))


def v(name: str) -> Name:
    return Name(name)


def lt(left: Expr, right: Expr) -> Compare:
    return Compare(("<",), (left, right))


def errors_of(parse, text: str) -> ExprError:
    with pytest.raises(ExprError) as caught:
        parse(text)
    return caught.value


# --------------------------------------------------------------------------- trees

@pytest.mark.parametrize("text, tree", [
    ("a + b * c", BinOp("+", v("a"), BinOp("*", v("b"), v("c")))),
    ("a - b - c", BinOp("-", BinOp("-", v("a"), v("b")), v("c"))),
    ("a / b * c", BinOp("*", BinOp("/", v("a"), v("b")), v("c"))),
    ("a - (b - c)", BinOp("-", v("a"), BinOp("-", v("b"), v("c")))),
    ("-x^2", Neg(BinOp("^", v("x"), n(2)))),
    ("(-x)^2", BinOp("^", Neg(v("x")), n(2))),
    ("2^-1", BinOp("^", n(2), Neg(n(1)))),
    ("2^-x^2", BinOp("^", n(2), Neg(BinOp("^", v("x"), n(2))))),
    ("a^b^c", BinOp("^", v("a"), BinOp("^", v("b"), v("c")))),
    ("a ** b ** c", BinOp("^", v("a"), BinOp("^", v("b"), v("c")))),
    ("-a * b", BinOp("*", Neg(v("a")), v("b"))),
    ("a - -b", BinOp("-", v("a"), Neg(v("b")))),
    ("+x", v("x")),
    ("-+-x", Neg(Neg(v("x")))),
    ("2*(x + 1)", BinOp("*", n(2), BinOp("+", v("x"), n(1)))),
    ("min(a, b, 0.5) + sqrt(abs(x))",
     BinOp("+", Call("min", (v("a"), v("b"), n("0.5"))),
           Call("sqrt", (Call("abs", (v("x"),)),)))),
    ("AND + Min", BinOp("+", v("AND"), v("Min"))),
    ("x / 0", BinOp("/", v("x"), n(0))),
    ("x/(1-1)", BinOp("/", v("x"), BinOp("-", n(1), n(1)))),
])
def test_term_parses_to_exact_tree(text, tree):
    assert parse_term(text) == tree


@pytest.mark.parametrize("text, tree", [
    ("h2 <= 2*rDZ", Compare(("<=",), (v("h2"), BinOp("*", n(2), v("rDZ"))))),
    ("4*rDZ - rMZ <= h2 <= 2*rDZ",
     Compare(("<=", "<="), (BinOp("-", BinOp("*", n(4), v("rDZ")), v("rMZ")), v("h2"),
                            BinOp("*", n(2), v("rDZ"))))),
    ("a < b >= c == d", Compare(("<", ">=", "=="), (v("a"), v("b"), v("c"), v("d")))),
    ("a < 1 and b < 1 and c < 1",
     BoolOp("and", (lt(v("a"), n(1)), lt(v("b"), n(1)), lt(v("c"), n(1))))),
    ("(a < 1 and b < 1) and c < 1",
     BoolOp("and", (BoolOp("and", (lt(v("a"), n(1)), lt(v("b"), n(1)))), lt(v("c"), n(1))))),
    ("a < 1 or b < 1 and c < 1",
     BoolOp("or", (lt(v("a"), n(1)), BoolOp("and", (lt(v("b"), n(1)), lt(v("c"), n(1))))))),
    ("not a < b and c < d", BoolOp("and", (Not(lt(v("a"), v("b"))), lt(v("c"), v("d"))))),
    ("not not a < b", Not(Not(lt(v("a"), v("b"))))),
    ("not (a < b)", Not(lt(v("a"), v("b")))),
    ("(a < b) and (c < d)", BoolOp("and", (lt(v("a"), v("b")), lt(v("c"), v("d"))))),
    ("a < b implies c < d implies e < f",
     Implies(lt(v("a"), v("b")), Implies(lt(v("c"), v("d")), lt(v("e"), v("f"))))),
    ("(a < b implies c < d) implies e < f",
     Implies(Implies(lt(v("a"), v("b")), lt(v("c"), v("d"))), lt(v("e"), v("f")))),
    ("a < b or c < d implies not e < f",
     Implies(BoolOp("or", (lt(v("a"), v("b")), lt(v("c"), v("d")))), Not(lt(v("e"), v("f"))))),
])
def test_formula_parses_to_exact_tree(text, tree):
    assert parse_formula(text) == tree


@pytest.mark.parametrize("text, value", [
    ("0.45", Fraction(9, 20)),
    (".5", Fraction(1, 2)),
    ("1.", Fraction(1)),
    ("007", Fraction(7)),
    ("12.340", Fraction(1234, 100)),
    ("1e-3", Fraction(1, 1000)),
    ("2.5E+1", Fraction(25)),
    ("0e99999", Fraction(0)),
    ("0.1", Fraction(1, 10)),
    ("1e299", Fraction(10) ** 299),
    ("1e-299", Fraction(1, 10 ** 299)),
])
def test_decimal_literals_are_exact_rationals(text, value):
    assert parse_term(text) == Num(value)


def test_positions_point_at_the_text_but_do_not_affect_equality():
    text = " (a + b) * -c <= max(a, 2)"
    claim = parse_formula(text)
    product = claim.operands[0]
    assert (claim.pos, claim.op_pos) == (1, (14,))
    assert (product.pos, product.op_pos) == (1, 9)
    assert (product.left.pos, product.left.op_pos) == (2, 4)
    assert product.right.pos == 11
    assert claim.operands[1].pos == 17
    assert claim == parse_formula("(a+b)*-c<=max(a,2)")
    assert hash(claim) == hash(parse_formula("(a+b)*-c<=max(a,2)"))
    assert {claim, parse_formula("(a+b)*-c<=max(a,2)")} == {claim}


def test_names_and_their_positions_in_text_order():
    text = "b + a*b <= sqrt(c) implies not a < 1"
    claim = parse_formula(text)
    assert names(claim) == {"a", "b", "c"}
    assert name_positions(claim) == [("b", 0), ("a", 4), ("b", 6), ("c", 16), ("a", 31)]
    assert all(text[offset:offset + len(name)] == name
               for name, offset in name_positions(claim))


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("text, offset, message", [
    ("", 0, "empty expression"),
    ("  \n\t ", 0, "empty expression"),
    ("a < )", 4, "expected a number, a name or '(' but found ')'"),
    ("a <", 3, "unexpected end of expression: a comparison needs a right-hand side"),
    ("a < b +", 7, "unexpected end of expression: '+' needs an operand after it"),
    ("(a < b", 6, "unexpected end of expression: expected ')' to close the '(' at offset 0"),
    ("(a < b c", 7, "expected ')' to close the '(' at offset 0 but found 'c'"),
    ("a < b)", 5, "unmatched ')'"),
    ("a < b c", 6, "expected an operator or the end of the expression but found 'c'"),
    ("sqrt(a, b) < 1", 0, "'sqrt' takes exactly 1 argument, got 2"),
    ("1 < abs()", 4, "'abs' takes exactly 1 argument, got 0"),
    ("min(a) < 1", 0, "'min' takes at least 2 arguments, got 1"),
    ("x < log(x)", 4, "unknown function 'log'; functions are sqrt, abs, min, max"),
    ("sqrt < 1", 0, "'sqrt' is a function; write sqrt(...)"),
    ("min(a, b", 8, "unexpected end of expression: expected ',' or ')' in the arguments of 'min'"),
    ("min(a,", 6, "unexpected end of expression: expected another argument after ','"),
    ("min(a, b,) < 1", 9, "expected a number, a name or '(' but found ')'"),
    ("a = b", 2, "'=' is not a comparison; use '=='"),
    ("a =< b", 2, "'=<' is not a comparison; use '<='"),
    ("a != b", 2, "'!=' is not supported"),
    ("a < b $", 6, "unexpected character '$'"),
    ("a < \x00", 4, r"unexpected character '\x00'"),
    ("a ≤ b", 2, "unexpected character '≤'; use '<='"),
    ("a < b && c < d", 6, "unexpected character '&'; use 'and'"),
    ("2x < 1", 0, "malformed number '2x'; write '2*x' for a product"),
    ("1.2.3 < x", 0, "malformed number '1.2.3'"),
    ("x < 0x1F", 4, "malformed number '0x1F'"),
    ("x < 1_000", 4, "malformed number '1_000'"),
    ("x < 1e", 4, "malformed number '1e'"),
    ("x < .", 4, "malformed number '.'"),
    ("x + 1", 0, "expected a boolean claim (a comparison, 'and', 'or', 'not', 'implies') "
                 "but found a number expression"),
    ("  (x)", 2, "expected a boolean claim"),
    ("x and y < 1", 0, "'and' needs a boolean claim on each side but found a number expression"),
    ("x < 1 or y", 9, "'or' needs a boolean claim on each side but found a number expression"),
    ("x < 1 implies y", 14, "'implies' needs a boolean claim on each side"),
    ("not x", 4, "'not' needs a boolean claim but found a number expression"),
    ("(a < b) + 1 < 2", 0, "'+' needs a number expression on each side but found a boolean claim"),
    ("(a < b) < c", 0, "a comparison needs number expressions on both sides but found a boolean"),
    ("-(a < b) < c", 1, "'-' needs a number expression but found a boolean claim"),
    ("2^(a < b) < c", 2, "'^' needs a number expression on each side"),
    ("sqrt(a < b) < c", 5, "'sqrt' needs number expressions as arguments but found a boolean"),
    ("a < not b", 4, "expected a number, a name or '(' but found 'not'"),
    ("and a < b", 0, "expected a number, a name or '(' but found 'and'"),
    ("1e1000 < x", 0, "number literal too long: more than 1000 digits"),
    ("x < 1e-99999999", 4, "number literal too long: more than 1000 digits"),
    ("x < 1" + "0" * 1000, 4, "number literal too long: more than 1000 digits"),
    ("__import__('os') < 1", 11, "unexpected character \"'\""),
])
def test_formula_error_says_what_was_expected_and_where(text, offset, message):
    error = errors_of(parse_formula, text)
    assert message in str(error)
    assert error.offset == offset
    assert isinstance(error, InputError) and isinstance(error, ValueError)


def test_term_refuses_a_claim():
    error = errors_of(parse_term, "a < b")
    assert str(error) == "expected a number expression but found a boolean claim"
    assert error.offset == 0


# --------------------------------------------------------------------------- names

KNOWN = ["h2", "rDZ", "rMZ", "s2"]


def test_unknown_name_suggests_the_nearest_known_one():
    claim = parse_formula("h2 <= 2*rDZZ")
    error = errors_of(lambda _: check_names(claim, KNOWN), "")
    assert str(error) == "unknown name 'rDZZ'; did you mean 'rDZ'?"
    assert error.offset == 8


def test_unknown_name_suggestion_prefers_a_case_slip():
    claim = parse_formula("h2 <= 2*rmz")
    error = errors_of(lambda _: check_names(claim, KNOWN), "")
    assert str(error) == "unknown name 'rmz'; did you mean 'rMZ'?"


def test_unknown_name_without_close_match_lists_the_known_names():
    claim = parse_formula("h2 <= foo + bar")
    error = errors_of(lambda _: check_names(claim, reversed(KNOWN)), "")
    assert str(error) == "unknown name 'foo'; known names: h2, rDZ, rMZ, s2"
    assert error.offset == 6


def test_unknown_name_with_many_known_names_lists_a_few():
    known = [f"q{i:02d}" for i in range(50)]
    error = errors_of(lambda _: check_names(parse_formula("zzz < 1"), known), "")
    assert "known names: q00, q01," in str(error)
    assert str(error).endswith(", q19, ... (30 more)")


def test_unknown_name_with_no_known_names():
    error = errors_of(lambda _: check_names(parse_formula("x < 1"), []), "")
    assert str(error) == "unknown name 'x'; no names are known here"


def test_known_names_pass():
    check_names(parse_formula("4*rDZ - rMZ <= h2 <= 2*rDZ"), KNOWN)


# --------------------------------------------------------------------------- limits

@pytest.mark.parametrize("build", [
    lambda k: "(" * k + "x" + ")" * k + " < 1",
    lambda k: "-" * k + "x < 1",
    lambda k: "x" + "^x" * k + " < 1",
    lambda k: "not " * k + "x < 1",
    lambda k: "sqrt(" * k + "x" + ")" * k + " < 1",
    lambda k: "-(" * (k // 2) + "x" + ")" * (k // 2) + " < 1",
], ids=["parentheses", "minus", "power", "not", "calls", "mixed"])
def test_nesting_is_allowed_up_to_the_limit_and_refused_beyond(build):
    parse_formula(build(MAX_NESTING))
    error = errors_of(parse_formula, build(MAX_NESTING + 2))
    assert str(error) == "expression nested too deeply (more than 64 levels)"


def test_the_deepest_accepted_input_stays_far_from_the_recursion_limit():
    frames, frame = 0, sys._getframe()
    while frame is not None:
        frames, frame = frames + 1, frame.f_back
    previous = sys.getrecursionlimit()
    # 64 nested calls is the costliest accepted nesting; it must fit in 700 frames so a
    # caller with the default limit of 1000 keeps a comfortable margin.
    sys.setrecursionlimit(frames + 700)
    try:
        parse_formula("sqrt(" * MAX_NESTING + "x" + ")" * MAX_NESTING + " < 1")
    finally:
        sys.setrecursionlimit(previous)


@pytest.mark.parametrize("text, message", [
    ("(" * 100_000, "expression too long: 100000 characters (at most 10000)"),
    ("-" * 100_000 + "x", "expression too long"),
    ("x^" * 50_000 + "x", "expression too long"),
    ("(" * 4_000 + "x", "nested too deeply"),
    ("-" * 4_000 + "x < 1", "nested too deeply"),
    ("x^" * 2_000 + "x < 1", "nested too deeply"),
    ("not " * 2_000 + "x < 1", "nested too deeply"),
    ("x" + "+x" * 3_000 + " < 1", f"more than {MAX_TOKENS} tokens"),
    ("+".join(["x"] * 2_400) + " < 1", f"more than {MAX_TREE_DEPTH} levels deep"),
    (" implies ".join(["a < b"] * 600), f"more than {MAX_TREE_DEPTH} levels deep"),
    ("9" * 9_000, f"more than {MAX_DIGITS} digits"),
], ids=["long-parentheses", "long-minus", "long-power", "parentheses", "minus", "power", "not",
        "tokens", "long-sum", "long-implies", "huge-literal"])
def test_hostile_input_is_refused_quickly(text, message):
    started = time.perf_counter()
    error = errors_of(parse_formula, text)
    assert message in str(error)
    assert 0 <= error.offset <= len(text)
    assert time.perf_counter() - started < 1.0


def test_length_limit_is_exact():
    padded = "x < 1" + " " * (MAX_LENGTH - 5)
    assert parse_formula(padded) == lt(v("x"), n(1))
    assert errors_of(parse_formula, padded + " ").offset == MAX_LENGTH


def test_long_sums_within_the_tree_limit_parse():
    terms = MAX_TREE_DEPTH - 2
    assert len(names(parse_formula(" + ".join(f"x{i}" for i in range(terms)) + " < 1"))) == terms


# --------------------------------------------------------------------------- printing

@pytest.mark.parametrize("text, canonical", [
    ("h2<=2*rDZ", "h2 <= 2 * rDZ"),
    ("0.45*x < 1e-3", "0.45 * x < 0.001"),
    ("1e3 > 1.50", "1000 > 1.5"),
    ("(a-b)-(c-d) == a/(b*c)", "a - b - (c - d) == a / (b * c)"),
    ("-x**2 < (-x)^2", "-x ^ 2 < (-x) ^ 2"),
    ("(x^y)^z < x^(y^z)", "(x ^ y) ^ z < x ^ y ^ z"),
    ("2^(-1) < 2^(1+x)", "2 ^ -1 < 2 ^ (1 + x)"),
    ("1e-50 < x < 2.5e40 + 0.000001", "1e-50 < x < 25e39 + 0.000001"),
    ("x < 1e299", "x < 1e299"),
    ("(a<b) and (c<d or e<f)", "a < b and (c < d or e < f)"),
    ("(a<1 and b<1) and c<1", "(a < 1 and b < 1) and c < 1"),
    ("not (a<b and c<d)", "not (a < b and c < d)"),
    ("(a<b implies c<d) implies (e<f implies g<h)",
     "(a < b implies c < d) implies e < f implies g < h"),
    ("min( a,b ,+c)>=sqrt(x)", "min(a, b, c) >= sqrt(x)"),
])
def test_to_text_is_canonical(text, canonical):
    assert to_text(parse_formula(text)) == canonical
    assert parse_formula(canonical) == parse_formula(text)


def test_to_text_spells_hand_built_values_without_a_literal():
    assert to_text(BinOp("*", Num(Fraction(1, 3)), v("x"))) == "1 / 3 * x"
    assert to_text(BinOp("*", v("x"), Num(Fraction(1, 3)))) == "x * (1 / 3)"
    assert to_text(BinOp("^", v("x"), Num(Fraction(-1, 2)))) == "x ^ -0.5"
    assert to_text(Neg(Num(Fraction(-2, 3)))) == "--(2 / 3)"


NAMES = st.sampled_from(["x", "y", "rDZ", "h2", "s_2", "AND", "Min", "implies_"])
DECIMALS = st.builds(lambda digits, places: Fraction(digits, 10 ** places),
                     st.integers(0, 10 ** 8), st.integers(0, 6))
TERM_LEAVES = st.one_of(st.builds(Num, DECIMALS), st.builds(Name, NAMES))


def _term_nodes(children):
    return st.one_of(
        st.builds(Neg, children),
        st.builds(BinOp, st.sampled_from(["+", "-", "*", "/", "^"]), children, children),
        st.builds(Call, st.sampled_from(["sqrt", "abs"]), st.tuples(children)),
        st.builds(Call, st.sampled_from(["min", "max"]),
                  st.lists(children, min_size=2, max_size=3).map(tuple)),
    )


TERMS = st.recursive(TERM_LEAVES, _term_nodes, max_leaves=10)
# Formulas use smaller terms: generating big ones inside big formulas is slow and
# exercises nothing that TERMS alone does not.
SMALL_TERMS = st.recursive(TERM_LEAVES, _term_nodes, max_leaves=3)
COMPARES = st.builds(
    lambda first, rest: Compare(tuple(op for op, _ in rest),
                                (first, *(operand for _, operand in rest))),
    SMALL_TERMS,
    st.lists(st.tuples(st.sampled_from(COMPARISONS), SMALL_TERMS), min_size=1, max_size=3))


def _formula_nodes(children):
    return st.one_of(
        st.builds(Not, children),
        st.builds(BoolOp, st.sampled_from(["and", "or"]),
                  st.lists(children, min_size=2, max_size=3).map(tuple)),
        st.builds(Implies, children, children),
    )


FORMULAS = st.recursive(COMPARES, _formula_nodes, max_leaves=5)


@settings(max_examples=200)
@given(FORMULAS)
def test_formula_round_trips_through_text(formula):
    text = to_text(formula)
    assert parse_formula(text) == formula
    assert to_text(parse_formula(text)) == text


@settings(max_examples=200)
@given(TERMS)
def test_term_round_trips_through_text(term):
    assert parse_term(to_text(term)) == term


FRAGMENTS = st.sampled_from([
    "x", "y2", "0", "1.5", ".5", "1e3", "+", "-", "*", "/", "^", "**", "(", ")", ",",
    "<", "<=", ">", ">=", "==", "=", "!=", "and", "or", "not", "implies",
    "sqrt", "abs", "min", "max", "log", " ", "$", "\n",
])


@settings(max_examples=500)
@given(st.one_of(st.lists(FRAGMENTS, max_size=25).map(" ".join),
                 st.lists(FRAGMENTS, max_size=25).map("".join),
                 st.text(max_size=30)))
def test_any_text_parses_or_fails_with_an_offset_inside_it(text):
    try:
        claim = parse_formula(text)
    except ExprError as error:
        assert 0 <= error.offset <= len(text)
        assert str(error)
    else:
        assert parse_formula(to_text(claim)) == claim
