"""The Coq text's arithmetic is stated for speed without changing what is proved: case
identities with integer coefficients (prover/coqterms.py), a statistic compared with a
number cleared by a prelude lemma instead of ``field``, comparisons decided without
arithmetic (prover/coq.py). That the texts compile is checked for every bundled proof
(tests/test_bundled.py, slow set) and here for two small ones."""

from __future__ import annotations

import math
import random
import re
import shutil
from fractions import Fraction

import pytest

from prover import coq as C
from prover.check import check
from prover.conjecture import load
from prover.coqterms import primitive
from prover.poly import Poly

from helpers import write_conjecture

HAVE_COQC = shutil.which("coqc") is not None


def test_primitive_is_an_exact_positive_factorization():
    rng = random.Random(3)
    for _ in range(200):
        terms = {}
        for _ in range(rng.randint(1, 6)):
            chosen = rng.sample("xyz", rng.randint(0, 2))
            mono = tuple(sorted({(v, rng.randint(1, 3)) for v in chosen}))
            terms[mono] = Fraction(rng.randint(-40, 40), rng.randint(1, 30))
        p = Poly({m: c for m, c in terms.items() if c})
        if p.is_zero():
            continue
        s, q = primitive(p)
        assert s > 0
        coeffs = list(q.terms.values())
        assert all(c.denominator == 1 for c in coeffs)
        assert math.gcd(*(int(c) for c in coeffs)) == 1
        # s * q == p, coefficient by coefficient
        assert set(q.terms) == set(p.terms)
        assert all(s * q.terms[m] == p.terms[m] for m in p.terms)
    assert primitive(Poly({(("x", 1),): Fraction(-3, 4), (): Fraction(3, 2)})) == \
        (Fraction(3, 4), Poly({(("x", 1),): Fraction(-1), (): Fraction(2)}))


def _text(tmp_path, model, claim, assume=()):
    conj = load(write_conjecture(tmp_path, model, claim, assume=list(assume)))
    out = check(conj, kernel=False)
    assert out.record.verdict.value == "valid", out.record.reason
    return C.claim_text(conj, out.record.proof.payload())


def _proof_of_cleared(text: str) -> str:
    return text.split("Lemma prover_cleared", 1)[1].split("Theorem claim_holds", 1)[0]


@pytest.mark.parametrize("model, claim", [("multilinear", "r2 <= 1/2"),
                                          ("twins", "h2 <= 2*rDZ")])
def test_the_identity_facts_have_integer_coefficients(tmp_path, model, claim):
    text = _text(tmp_path, model, claim)
    facts = [line for line in _proof_of_cleared(text).splitlines()
             if re.match(r"\s*assert \((T_\d+|Sum|P_\d+|E_\d+|Z_\d+) :", line)]
    assert any("Sum" in f for f in facts)
    for fact in facts:
        statement = fact.split(") by", 1)[0]
        assert "/" not in statement, fact


def test_a_statistic_against_a_number_is_cleared_by_the_lemma(tmp_path):
    text = _text(tmp_path, "multilinear", "r2 <= 1/2")
    link = next(line for line in text.splitlines() if "assert (L_1 :" in line)
    assert "rewrite prover_clear_rsub" in link and "field" not in link, link
    # r2 <= 1/2 is x <= y with x = r2: (y - x) * D = p, the constant first
    assert link.lstrip().startswith("assert (L_1 : ((1 / 2) - r2) *"), link
    # a comparison of two statistics still goes through field
    text = _text(tmp_path, "multilinear", "s2 <= 2*r2")
    link = next(line for line in text.splitlines() if "assert (L_1 :" in line)
    assert "field; prover_nz" in link and "prover_clear" not in link, link


def test_comparisons_are_decided_without_arithmetic(tmp_path):
    text = _text(tmp_path, "multilinear", "r2 <= 1/2")
    dc = next(line for line in text.splitlines() if "assert (Dc_1 :" in line)
    assert "destruct (Rle_dec r2 (1 / 2))" in dc and "lra" not in dc, dc


def test_constants_written_with_operations_are_evaluated_exactly():
    from prover import expr as E
    assert C._constant(E.parse_term("1/2")) == Fraction(1, 2)
    assert C._constant(E.parse_term("-(3 - 1/4)*2")) == Fraction(-11, 2)
    assert C._constant(E.parse_term("1/(2-2)")) is None
    assert C._constant(E.parse_term("r2/2")) is None


@pytest.mark.skipif(not HAVE_COQC, reason="coqc not installed: apt-get install coq")
@pytest.mark.parametrize("model, claim", [("multilinear", "r2 <= 1/2"),
                                          ("twins", "h2 <= 2*rDZ")])
def test_the_texts_compile(tmp_path, model, claim):
    ((ok, output),) = C.compile_many([_text(tmp_path, model, claim)], cache=False)
    assert ok, output
