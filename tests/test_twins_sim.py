"""The twins realizer reproduces classical quantitative genetics from simulated families.

The realizer may not use the Cockerham/Kempthorne table; these tests may, because they
check the simulation against it.
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction as F

import numpy as np
import pytest

from prover.realizers.twins_sim import SimulationResult, build_architecture, simulate_twins

# statistic -> (2θ, Δ, reared together)
TABLE = {
    "rMZ": (F(1), F(1), True),
    "rDZ": (F(1, 2), F(1, 4), True),
    "rPO": (F(1, 2), F(0), False),
    "rHS": (F(1, 4), F(0), False),
    "rFC": (F(1, 8), F(0), False),
}

STATISTICS = {"rMZ", "rDZ", "rPO", "rHS", "rFC", "h2", "H2", "s2", "c2", "e2",
              "falconer", "phantom", "V_G", "V_P"}


def genetic(values):
    return {k: v for k, v in values.items() if k not in ("VC", "VE")}


def theory(values) -> dict[str, F]:
    """Expected statistics from the coefficient table (allowed here, not in the module)."""
    v_g = sum(genetic(values).values())
    v_c, v_e = values.get("VC", F(0)), values.get("VE", F(0))
    v_p = v_g + v_c + v_e
    out = {}
    for stat, (two_theta, delta, together) in TABLE.items():
        cov = sum(two_theta ** name.count("A") * delta ** name.count("D") * v
                  for name, v in genetic(values).items())
        out[stat] = (cov + (v_c if together else 0)) / v_p
    v_a = values.get("VA", F(0))
    out.update(h2=v_a / v_p, H2=v_g / v_p, s2=v_a / v_g, c2=v_c / v_p, e2=v_e / v_p,
               V_G=v_g, V_P=v_p)
    out["falconer"] = 2 * (out["rMZ"] - out["rDZ"])
    out["phantom"] = out["falconer"] - out["h2"]
    return out


def assert_matches(result: SimulationResult, expected: dict, keys=None, k: float = 4.0):
    """Each estimate lies within k batch-means standard errors of its expected value."""
    for key in keys or expected:
        estimate = result.estimates[key]
        batch = np.array([b[key] for b in result.batch_estimates])
        se = batch.std(ddof=1) / math.sqrt(len(batch))
        assert abs(estimate - float(expected[key])) <= k * se + 1e-9, (
            f"{key}: estimate {estimate:.5f}, expected {float(expected[key]):.5f}, "
            f"se {se:.5f}")


def test_additive_only_gives_textbook_correlations():
    values = {"VA": F(1)}
    result = simulate_twins(values, seed=11, families=100_000)
    expected = dict(rMZ=1, rDZ=F(1, 2), rPO=F(1, 2), rHS=F(1, 4), rFC=F(1, 8),
                    h2=1, H2=1, s2=1, c2=0, e2=0)
    assert_matches(result, expected)
    assert result.estimates["rMZ"] == pytest.approx(1, abs=1e-12)
    assert result.estimates["h2"] == pytest.approx(1, abs=1e-9)


def test_dominance_only_resembles_sibs_but_not_parents():
    result = simulate_twins({"VD": F(1)}, seed=12, families=100_000)
    expected = dict(rMZ=1, rDZ=F(1, 4), rPO=0, rHS=0, rFC=0, h2=0, s2=0, H2=1)
    assert_matches(result, expected)


def test_additive_by_additive_epistasis():
    result = simulate_twins({"VAA": F(2)}, seed=13, families=100_000)
    expected = dict(rMZ=1, rDZ=F(1, 4), rPO=F(1, 4), rHS=F(1, 16), rFC=F(1, 64), h2=0)
    assert_matches(result, expected)
    assert_matches(result, {"VAA": 2, "V_G": 2})


def test_shared_environment_raises_twin_but_not_parent_correlations():
    values = {"VA": F(1, 2), "VC": F(1, 4), "VE": F(1, 4)}
    result = simulate_twins(values, seed=14, families=100_000)
    expected = dict(rMZ=F(3, 4), rDZ=F(1, 2), rPO=F(1, 4), rHS=F(1, 8), rFC=F(1, 16),
                    c2=F(1, 4), e2=F(1, 4), VC=F(1, 4), VE=F(1, 4))
    assert_matches(result, expected)
    without_c = simulate_twins({"VA": F(1, 2), "VE": F(1, 2)}, seed=14, families=100_000)
    for stat in ("rMZ", "rDZ"):
        assert result.estimates[stat] - without_c.estimates[stat] == pytest.approx(
            0.25, abs=0.02)
    assert result.estimates["rPO"] == pytest.approx(without_c.estimates["rPO"], abs=0.02)


def test_mixed_architecture_matches_coefficient_table():
    values = {"VA": F(3, 10), "VD": F(1, 5), "VAA": F(1, 10), "VAD": F(1, 20),
              "VDD": F(1, 20), "VAAD": F(1, 20), "VADD": F(1, 40), "VC": F(1, 10),
              "VE": F(1, 8)}
    result = simulate_twins(values, seed=15, families=100_000)
    expected = theory(values)
    assert_matches(result, expected)
    assert_matches(result, {name: v for name, v in values.items()})


def test_regression_s2_is_additive_share_of_genetic_variance():
    values = {"VA": F(1, 2), "VD": F(1, 4), "VAA": F(1, 4), "VE": F(1)}
    result = simulate_twins(values, seed=16, families=100_000)
    assert_matches(result, {"s2": F(1, 2), "h2": F(1, 4)})
    # The regression, not the term's own variance, defines s2.
    assert result.estimates["s2"] != result.estimates["VA"] / result.estimates["V_G"]


def test_every_batch_reports_every_statistic():
    values = {"VA": F(1), "VD": F(0), "VE": F(1, 3)}
    result = simulate_twins(values, seed=17, families=10_001, batches=7)
    assert len(result.batch_estimates) == 7
    assert result.families == 10_001 and result.seed == 17
    keys = STATISTICS | {"VA", "VD", "VE"}
    assert set(result.estimates) == keys
    assert all(set(batch) == keys for batch in result.batch_estimates)
    assert result.estimates["VD"] == 0.0
    assert "VC" not in result.estimates
    assert all(math.isfinite(x) for x in result.estimates.values())


def test_same_seed_gives_identical_results():
    values = {"VA": F(1, 2), "VAD": F(1, 4), "VC": F(1, 8), "VE": F(1, 8)}
    first = simulate_twins(values, seed=5, families=20_000, batches=4)
    again = simulate_twins(values, seed=5, families=20_000, batches=4)
    other = simulate_twins(values, seed=6, families=20_000, batches=4)
    assert first.estimates == again.estimates
    assert first.batch_estimates == again.batch_estimates
    assert first.estimates != other.estimates


def test_architecture_is_json_with_disjoint_loci():
    values = {"VDD": F(1, 20), "VA": F(3, 10), "VAD": F(3, 10), "VAAA": F(0),
              "VD": F(1), "VC": F(1, 10)}
    realization = build_architecture(values)
    assert json.loads(json.dumps(realization)) == realization
    terms = realization["terms"]
    assert [t["component"] for t in terms] == ["VA", "VD", "VAD", "VDD"]  # no zero term
    loci = [locus for t in terms for locus in t["loci"]]
    assert sorted(loci) == list(range(realization["n_loci"])) == list(range(6))
    vad = terms[2]
    assert vad == {"component": "VAD", "variance": "3/10", "loci": [2, 3],
                   "contrasts": ["additive", "dominance"],
                   "effect": "sqrt(3/10) * a(g2) * d(g3)"}
    assert terms[1]["variance"] == "1"
    assert realization["shared_environment_variance"] == "1/10"
    assert realization["unique_environment_variance"] == "0"
    assert realization["allele_frequency"] == "1/2" and realization["ploidy"] == 2


def test_simulation_carries_its_architecture():
    values = {"VA": F(1), "VE": F(1)}
    result = simulate_twins(values, seed=1, families=2_000, batches=2)
    assert result.realization == build_architecture(values)


@pytest.mark.parametrize("values, message", [
    ({"VA": F(1), "VDA": F(1)}, "unknown variance component 'VDA'"),
    ({"VA": F(1), "VX": F(1)}, "unknown variance component 'VX'"),
    ({"V": F(1)}, "unknown variance component 'V'"),
    ({"VA": F(-1, 2)}, "VA must be nonnegative"),
    ({"VA": F(1), "VE": F(-1)}, "VE must be nonnegative"),
    ({"VA": 0.5}, "exact Fraction"),
    ({"VE": F(1), "VC": F(1)}, "V_G must be > 0"),
    ({"VA": F(0), "VD": F(0)}, "V_G must be > 0"),
])
def test_bad_components_are_rejected(values, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build_architecture(values)
    with pytest.raises(ValueError, match=re.escape(message)):
        simulate_twins(values, seed=0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(families=10, batches=20), "at least 2 families per batch"),
    (dict(families=1000, batches=0), "batches must be >= 1"),
    (dict(families=1000.0), "families must be an integer"),
])
def test_bad_simulation_sizes_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        simulate_twins({"VA": F(1)}, seed=0, **kwargs)
