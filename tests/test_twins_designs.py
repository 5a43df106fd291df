"""Named twins designs (AE, ACE, ADE, ACDE, full) and the dominance switch."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from prover import models
from prover.cli import main
from prover.conjecture import load
from prover.errors import InputError
from prover.ranges import bounds

TWINS = models.get("twins")


@pytest.mark.parametrize("design, components", [
    ("AE", ["VA", "VE"]), ("ACE", ["VA", "VC", "VE"]), ("ADE", ["VA", "VD", "VE"]),
    ("ACDE", ["VA", "VD", "VC", "VE"]),
])
def test_design_components(design, components):
    inst = TWINS.build(TWINS.validate_params({"design": design}))
    assert inst.components == components


def test_defaults_and_hashes_are_unchanged():
    # the new parameters enter the normalized parameters only when not at their default,
    # so every certificate made before them keeps its conjecture hash
    base = {"max_order": 4, "shared_environment": False, "unique_environment": True}
    assert TWINS.validate_params({}) == base
    assert TWINS.validate_params({"design": "full", "dominance": True}) == base
    assert TWINS.validate_params({"design": "ADE"}) == {**base, "max_order": 1}
    assert TWINS.validate_params({"design": "ACE"}) == {
        **base, "max_order": 1, "shared_environment": True, "dominance": False}
    assert TWINS.build(TWINS.validate_params({})).components[:3] == ["VA", "VD", "VAA"]


def test_dominance_false_keeps_additive_epistasis():
    inst = TWINS.build(TWINS.validate_params({"max_order": 3, "dominance": False}))
    assert inst.components == ["VA", "VAA", "VAAA", "VE"]
    assert inst.unavailable["VD"] == "needs dominance = true"


@pytest.mark.parametrize("params, message", [
    ({"design": "ACE", "max_order": 2}, "parameter 'max_order' = 2 contradicts design = "
                                        "\"ACE\" (which sets max_order = 1); drop one of them"),
    ({"design": "ace"}, "parameter 'design' must be one of \"AE\", \"ACE\", \"ADE\", \"ACDE\", "
                        "\"full\", got 'ace'"),
])
def test_design_errors(params, message):
    with pytest.raises(InputError) as exc:
        TWINS.validate_params(params)
    assert str(exc.value) == message


def test_design_in_a_conjecture_file(tmp_path):
    path = tmp_path / "ace.toml"
    path.write_text('model = "twins"\nclaim = "h2 == 2*(rMZ - rDZ)"\n[params]\ndesign = "ACE"\n')
    conj = load(path)
    assert conj.params["max_order"] == 1 and conj.params["shared_environment"] is True
    path.write_text('model = "twins"\nclaim = "h2 <= 1"\n[params]\ndesign = "AEC"\n')
    with pytest.raises(InputError) as exc:
        load(path)
    assert "parameter 'design' must be one of" in str(exc.value) and ":4:" in str(exc.value)


def test_ace_determines_h2_and_c2():
    # ACE: rMZ = a + c, rDZ = a/2 + c  =>  a = 2(rMZ - rDZ), c = 2 rDZ - rMZ
    r = bounds("twins", given={"rMZ": "0.6", "rDZ": "0.4"}, targets=["h2", "c2"],
               params={"design": "ACE"}, prove=False, realize=False)
    assert (r["h2"].lower.value, r["h2"].upper.value) == (F(2, 5), F(2, 5))
    assert (r["c2"].lower.value, r["c2"].upper.value) == (F(1, 5), F(1, 5))
    # and rDZ < rMZ/2 is impossible without dominance or higher orders
    r = bounds("twins", given={"rMZ": "0.62", "rDZ": "0.25"}, targets=["h2"],
               params={"design": "ACE"}, prove=False, realize=False)
    assert not r.feasible and r.reason.endswith("rDZ < rMZ/2 needs dominance = true")


def test_models_twins_lists_the_designs(capsys):
    assert main(["models", "twins"]) == 0
    out = capsys.readouterr().out
    assert 'design = "full"  — a named design: AE (VA, VE), ACE (VA, VC, VE)' in out
    assert "max_order = 1 is VA\nand VD (dominance included)" in out
