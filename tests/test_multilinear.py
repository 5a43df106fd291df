"""The `multilinear` model: verdicts through the whole pipeline, and an exact realizer.

The realizer may not use the formula r2 = sum 2^-k W_k / V; these tests may, because
they check the enumeration against it.
"""

from __future__ import annotations

from fractions import Fraction as Fr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.check import check
from prover.conjecture import load
from prover.errors import InputError
from prover.models.multilinear import tail_blocks
from prover.realizers.multilinear_exact import block_stats, realize_blocks

from helpers import model_instance, write_conjecture


def write(tmp_path, claim, **kwargs):
    return write_conjecture(tmp_path, "multilinear", claim, **kwargs)


def instance(**params):
    return model_instance("multilinear", **params)


# --- verdicts -----------------------------------------------------------------------------

VALID = [
    ("s2/2 <= r2", {}, ()),
    ("r2 <= (1 + s2)/4", {}, ()),
    ("r2 <= 1/2", {"max_degree": 5}, ()),
    ("r2 >= s2/2 + 2^-3*(1 - s2)", {"max_degree": 3}, ()),
    ("r2 > s2/2", {}, ("s2 < 1",)),
]

REFUTED = [
    ("r2 >= s2", {}, ()),
    ("r2 >= s2/2 + 0.13*(1 - s2)", {"max_degree": 3}, ()),
    ("r2 >= s2/2 + (1 - s2)/64", {}, ()),
    ("r > 1/2", {}, ()),
]


@pytest.mark.parametrize("claim,params,assume", VALID)
def test_valid_claims(tmp_path, claim, params, assume):
    outcome = check(load(write(tmp_path, claim, params=params, assume=assume)))
    assert outcome.verdict == "valid", outcome.certificate.get("reason")
    assert outcome.trust in ("certificate", "solvers", "solver", "kernel")
    assert not outcome.certificate["vacuous"]


@pytest.mark.parametrize("claim,params,assume", REFUTED)
def test_refuted_claims_are_confirmed_by_the_realizer(tmp_path, claim, params, assume):
    outcome = check(load(write(tmp_path, claim, params=params, assume=assume,
                               expect="refuted")))
    assert outcome.verdict == "refuted", outcome.certificate.get("reason")
    cx = outcome.certificate["counterexample"]
    assert cx["numeric_check"]["confirmed"] is True
    assert cx["numeric_check"]["note"].startswith("exact computation")
    # the realized statistics agree with the model's exact ones
    for name in ("s2", "r2"):
        assert cx["numeric_check"]["estimates"][name] == cx["statistics"][name]
    assert "F" in cx["realization"] and cx["realization"]["blocks"]


def test_r_is_evaluated_from_r2_when_the_realizer_leaves_it_out(tmp_path):
    outcome = check(load(write(tmp_path, "r > 1/2", expect="refuted")))
    cx = outcome.certificate["counterexample"]
    assert "r" not in cx["numeric_check"]["estimates"]
    assert outcome.verdict == "refuted"


def test_finite_degree_lower_bound_is_strict_below_s2_one(tmp_path):
    outcome = check(load(write(tmp_path, "r2 > s2/2", assume=("s2 < 1",),
                               params={"max_degree": 2})))
    assert outcome.verdict == "valid"


# --- the realizer -------------------------------------------------------------------------

def test_linear_plus_degree_two_is_exactly_three_eighths():
    evidence = instance(max_degree=2).realize({"W1": Fr(1, 2), "W2": Fr(1, 2)}, seed=0)
    assert evidence.exact["r2"] == Fr(3, 8)
    assert evidence.exact["s2"] == Fr(1, 2)
    assert evidence.exact["W1"] == evidence.exact["W2"] == Fr(1, 2)
    assert evidence.realization["F"] == "sqrt(1/2)*x1 + sqrt(1/2)*x2*x3"


def test_block_moments_are_enumerated_not_assumed():
    # chi_S on k coordinates: Var chi(X) = 1, Cov(chi(X), chi(Z)) = Var chi(Z) = 2^-k
    for k in range(1, 14):                      # 9..13 go through sub-blocks
        st_k = block_stats(k)
        assert st_k.var_x == 1
        assert st_k.cov_xz == st_k.var_z == Fr(1, 2 ** k)
        assert st_k.explained == (1 if k == 1 else 0)
        assert st_k.degree_weights == {k: 1}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.fractions(min_value=0, max_value=3, max_denominator=50),
                min_size=1, max_size=6))
def test_enumeration_agrees_with_the_fourier_formula(ws):
    if sum(ws) == 0:
        ws = ws[:-1] + [Fr(1)]
    values = {f"W{k}": w for k, w in enumerate(ws, 1)}
    evidence = instance(max_degree=len(ws)).realize(values, seed=0)
    v = sum(ws)
    assert evidence.exact["s2"] == ws[0] / v
    assert evidence.exact["r2"] == sum(w / 2 ** k for k, w in enumerate(ws, 1)) / v
    for name, w in values.items():
        assert evidence.exact[name] == w


@pytest.mark.parametrize("u", [Fr(1, 32), Fr(1, 33), Fr(1, 100), Fr(1, 256), Fr(3, 2 ** 20)])
def test_the_tail_realizes_its_share_exactly(u):
    values = {"W1": Fr(1, 3), "W2": Fr(0), "W3": Fr(1, 6), "W4": Fr(0), "Wtail": Fr(1, 2),
              "u": u}
    evidence = instance().realize(values, seed=0)
    expected = Fr(1, 6) + Fr(1, 48) + u * Fr(1, 2)
    assert evidence.exact["r2"] == expected
    assert evidence.exact["Wtail"] == Fr(1, 2)
    assert evidence.exact["W1"] == Fr(1, 3)
    blocks = tail_blocks(Fr(1, 2), u)
    assert sum(w for _, w in blocks) == Fr(1, 2)
    assert sum(w / 2 ** d for d, w in blocks) == u / 2


def test_realizer_is_fast_at_the_largest_degree():
    import time
    values = {f"W{k}": Fr(1, k) for k in range(1, 13)}
    start = time.perf_counter()
    instance(max_degree=12).realize(values, seed=0)
    assert time.perf_counter() - start < 1.0


def test_realize_blocks_rejects_a_zero_function():
    with pytest.raises(InputError, match="positive variance"):
        realize_blocks([(1, Fr(0))])


# --- the encoding -------------------------------------------------------------------------

def test_components_and_the_internal_tail_variable():
    inf = instance()
    assert inf.components == ["W1", "W2", "W3", "W4", "Wtail"]
    assert "u" in inf.variables and "u" not in inf.components
    assert instance(max_degree=3).components == ["W1", "W2", "W3"]
    # the tail share is u*Wtail with 0 < u <= 1/32, encoded without disjunction
    text = [str(a) for a in inf.constraints]
    assert "u > 0" in text and "1 - 32*u >= 0" in text


def test_denominators_are_provably_positive():
    from prover.encode import Encoder
    for params in ({}, {"max_degree": 1}, {"max_degree": 12}):
        inst = instance(**params)
        enc = Encoder(inst)
        for stat in inst.statistics.values():
            if stat.ratio is not None:
                assert enc.provably_positive(stat.ratio.den)


# --- input errors -------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "13", '"infinite"', "2.5", "true"])
def test_bad_max_degree_says_what_is_valid(tmp_path, value):
    path = write(tmp_path, "r2 <= 1/2", params={"max_degree": value})
    with pytest.raises(InputError) as info:
        load(path)
    message = str(info.value)
    assert "max_degree" in message and "1 to 12" in message and '"inf"' in message
    assert info.value.line == 4


def test_twin_statistics_are_not_names_here(tmp_path):
    with pytest.raises(InputError) as info:
        load(write(tmp_path, "rDZ <= 1/2"))
    message = str(info.value)
    assert "did you mean" not in message
    assert "'rDZ'" in message and "twins" in message


def test_degrees_above_the_parameter_are_explained(tmp_path):
    with pytest.raises(InputError, match="needs max_degree >= 5"):
        load(write(tmp_path, "W5 <= 1/2", params={"max_degree": 3}))
    with pytest.raises(InputError, match="pooled in Wtail"):
        load(write(tmp_path, "W5 <= 1/2"))
