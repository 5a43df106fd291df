"""The division-free encoding: what reaches a solver, and what it means.

Most tests only encode (no solver). The last ones run ``prover.check.check`` on small
claims about sqrt, abs, min and max and assert the verdicts.
"""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover import expr as E
from prover import models
from prover.encode import MAX_EXPANSION, encode
from prover.errors import ExprError
from prover.evaluate import exact_truth
from prover.formula import Or, holds

TWINS = models.get("twins")


def instance(**params):
    return TWINS.build(TWINS.validate_params(params))


def problem(claim: str, assume: tuple[str, ...] = (), **params):
    inst = instance(**params)
    return encode(inst, E.parse_formula(claim), [E.parse_formula(a) for a in assume])


# --- no division reaches the solver -------------------------------------------------------

def sexpr(text: str) -> list:
    """Parse SMT-LIB text into nested lists of atoms (no strings or quoted symbols here)."""
    tokens = re.findall(r"\(|\)|[^\s()]+", text)
    stack: list[list] = [[]]
    for token in tokens:
        if token == "(":
            stack.append([])
        elif token == ")":
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token)
    assert len(stack) == 1, "unbalanced parentheses"
    return stack[0]


NUMERAL = re.compile(r"[0-9]+(\.[0-9]+)?")


def divisions(tree) -> list[list]:
    found = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            if node and node[0] == "/":
                found.append(node)
            todo.extend(node)
    return found


CLAIMS = [
    "rDZ/rMZ <= 1/2",
    "s2 >= 4*rDZ/rMZ - 1",
    "s2 <= (16*rDZ/rMZ - 1)/7",
    "h2/VD >= 0",
    "h2 / (rMZ - 2*rDZ) >= 0",
    "sqrt(h2)/rMZ <= 2",
    "abs(rDZ - rMZ/2) / H2 <= 1",
    "min(h2, rDZ) / max(h2, rMZ) <= 1",
    "h2^-2 >= 1",
    "rDZ <= rMZ/4 implies s2 <= 0.1",
    "2*(rMZ - 2*rDZ) <= phantom <= 3*(rMZ - 2*rDZ)",
]


@pytest.mark.parametrize("claim", CLAIMS)
def test_every_division_in_the_smtlib_text_is_of_two_numerals(claim):
    p = problem(claim, ("rMZ >= 1/2",))
    for text in (p.smtlib(), p.smtlib(negated=False),
                 p.smtlib(search=True, margin=Fraction(1, 64))):
        for node in divisions(sexpr(text)):
            assert len(node) == 3 and all(isinstance(x, str) and NUMERAL.fullmatch(x)
                                          for x in node[1:]), (claim, node)


def test_the_sexpr_check_would_catch_a_symbolic_division():
    bad = sexpr("(assert (>= (/ VA (+ VA VD)) 0.0))")
    (node,) = divisions(bad)
    assert not all(NUMERAL.fullmatch(x) for x in node[1:] if isinstance(x, str))


# --- linear stays linear ------------------------------------------------------------------

@pytest.mark.parametrize("claim", ["rDZ/rMZ <= 1/2", "s2 >= 4*rDZ/rMZ - 1", "h2 <= 2*rDZ",
                                   "rDZ >= 0.45*rMZ implies s2 >= 0.8"])
def test_ratios_of_twins_statistics_stay_linear(claim):
    p = problem(claim)
    assert p.is_linear()
    assert p.smtlib().startswith("(set-logic QF_LRA)")
    assert p.variables == instance().variables        # no auxiliary variable


def test_ratio_over_a_positive_denominator_needs_no_domain_condition():
    p = problem("h2 / rMZ <= 1")          # rMZ = V_G/V_P > 0: cleared, not a quotient
    assert p.domain == [] and p.definitions == []
    assert p.is_linear()


# --- division by something that can be zero ----------------------------------------------

def test_division_by_a_component_that_can_be_zero_introduces_a_quotient():
    p = problem("h2/VD >= 0")
    (q,) = [v for v in p.variables if v not in instance().variables]
    assert q.startswith("aux_quot")
    (definition,) = p.definitions
    assert str(definition.poly) in (f"-1 + VD*{q}", f"1 - VD*{q}") and definition.rel == "=="
    (domain,) = p.domain
    assert isinstance(domain, Or)
    assert {(str(a.poly), a.rel) for a in domain.args} == {("VD", ">"), ("-VD", ">")}
    assert not p.is_linear()


def test_division_by_a_difference_that_can_be_zero_introduces_a_quotient():
    p = problem("h2 / (rMZ - 2*rDZ) >= 0")
    assert any(v.startswith("aux_quot") for v in p.variables)
    assert len(p.domain) == 1


@pytest.mark.parametrize("claim, at", [
    ("h2 <= 1/0", "0"),
    ("h2 <= rDZ/(rMZ - rMZ)", "rMZ -"),
    ("h2 <= 1/(2 - 2)", "2 -"),
    ("h2 <= 1/(VD - VD)^2", "(VD"),
    ("(VA - VA)^-1 >= 0", "-1"),          # the negative exponent makes it a division
])
def test_constant_division_by_zero_is_an_error_at_the_divisor(claim, at):
    with pytest.raises(ExprError, match="division by zero") as info:
        problem(claim)
    assert info.value.offset == claim.index(at)


def test_expansion_is_bounded():
    with pytest.raises(ExprError, match="expression too large") as info:
        problem("(rMZ - rDZ)^10 <= 1")
    assert info.value.offset == 0
    assert MAX_EXPANSION >= 10_000


def test_encoder_memoises_equal_subexpressions():
    p = problem("sqrt(h2) + sqrt(h2) >= sqrt(h2)")
    assert sum(v.startswith("aux_sqrt") for v in p.variables) == 1


# --- the encoding means the claim ---------------------------------------------------------

EXACT_CLAIMS = ["h2 <= 2*rDZ", "s2 >= 4*rDZ/rMZ - 1", "rDZ/rMZ <= 0.3",
                "phantom <= 2*(rMZ - 2*rDZ)", "rFC <= rHS <= rPO <= rDZ <= rMZ",
                "h2 >= 0.2 implies s2 >= 0.5", "not (h2 < rDZ) or H2 == rMZ",
                "(rMZ - rDZ)^2 >= h2^2 / 4"]

components = st.lists(st.fractions(min_value=0, max_value=3, max_denominator=8),
                      min_size=4, max_size=4)


@settings(max_examples=60, deadline=None)
@given(values=components, va=st.fractions(min_value=Fraction(1, 8), max_value=3,
                                          max_denominator=8))
def test_encoded_claim_holds_exactly_where_the_claim_does(values, va):
    inst = instance(max_order=1)                      # VA, VD, VE
    point = dict(zip(inst.variables, [va, values[0], values[1]]))
    for claim in EXACT_CLAIMS:
        e = E.parse_formula(claim)
        p = encode(inst, e, [])
        assert p.variables == inst.variables
        assert holds(p.claim, point) == exact_truth(inst, point, e), (claim, point)


def test_model_constraints_are_in_every_problem():
    p = problem("h2 <= 1")
    assert p.model_constraints == list(instance().constraints)
    text = p.smtlib()
    assert "(assert (>= VA 0.0))" in text and text.endswith("(check-sat)\n")


# --- sqrt, abs, min, max: verdicts --------------------------------------------------------

@pytest.fixture(scope="module")
def verdict(tmp_path_factory):
    from prover.check import check
    from prover.conjecture import load

    root = tmp_path_factory.mktemp("encode")

    def run(claim: str) -> tuple[str, str | None]:
        path = root / f"c{len(list(root.iterdir()))}.toml"
        path.write_text(f'model = "twins"\nclaim = "{claim}"\n[params]\nmax_order = 1\n')
        outcome = check(load(path), timeout=30)
        return outcome.verdict, outcome.certificate.get("reason")
    return run


@pytest.mark.parametrize("claim, expected", [
    ("sqrt(h2) >= h2", "valid"),
    ("abs(rDZ - rMZ/2) == rMZ/2 - rDZ", "valid"),
    ("min(h2, 2*rDZ) == h2", "valid"),
    ("max(h2, rMZ) == rMZ", "valid"),
    ("sqrt(h2) <= h2", "refuted"),
])
def test_functions_encode_correctly(verdict, claim, expected):
    assert verdict(claim) == (expected, None)
