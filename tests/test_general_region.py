"""The `general` model's exact region of (s2, r2): the closed rectangle [0, 1] x [0, 1/2].

The family's statistics are recomputed here from their definitions, by code written in
this file (enumerating every pair (X, Y) of atoms), and compared with closed forms also
written here; the frontier must report the rectangle exactly, every side with a
certificate replayed by the checker, and must refuse to call the region exact when any
piece of the theorem is broken.
"""

from __future__ import annotations

import json
from fractions import Fraction as Fr

import pytest

from prover import frontier
from prover.realizers import general_family as fam

ATOMS = [Fr(0), Fr(1), Fr(3), Fr(7)]


def member(lam: Fr, s: Fr):
    """The family's (P, F), written out independently: F at the atoms and midpoints."""
    lin = [4 * x - 11 for x in ATOMS]
    other = [Fr(12), Fr(-6), Fr(-12), Fr(6)]
    f = {x: (1 - lam) * a + lam * b for x, a, b in zip(ATOMS, lin, other)}
    table = dict(f)
    for i, x in enumerate(ATOMS):
        for y in ATOMS[i + 1:]:
            table[(x + y) / 2] = s * (f[x] + f[y]) / 2
    return table


def statistics(table) -> tuple[Fr, Fr]:
    """(s2, r2) of P uniform on ATOMS and F = table, from the definitions."""
    w = Fr(1, 4)
    ex = sum(w * x for x in ATOMS)
    ef = sum(w * table[x] for x in ATOMS)
    var_x = sum(w * (x - ex) ** 2 for x in ATOMS)
    var_f = sum(w * (table[x] - ef) ** 2 for x in ATOMS)
    cov_xf = sum(w * (x - ex) * (table[x] - ef) for x in ATOMS)
    pairs = [(x, y, w * w) for x in ATOMS for y in ATOMS]
    ez = sum(p * table[(x + y) / 2] for x, y, p in pairs)
    var_z = sum(p * (table[(x + y) / 2] - ez) ** 2 for x, y, p in pairs)
    cov = sum(p * (table[x] - ef) * (table[(x + y) / 2] - ez) for x, y, p in pairs)
    return cov_xf ** 2 / (var_x * var_f), cov ** 2 / (var_f * var_z)


@pytest.mark.parametrize("lam", [Fr(0), Fr(1, 7), Fr(1, 2), Fr(5, 6), Fr(1)])
@pytest.mark.parametrize("s", [Fr(-1), Fr(-2, 3), Fr(0), Fr(3, 10), Fr(1)])
def test_family_statistics_have_the_closed_forms(lam, s):
    s2, r2 = statistics(member(lam, s))
    assert s2 == 115 * (1 - lam) ** 2 / (115 * (1 - lam) ** 2 + 90 * lam ** 2)
    assert r2 == (1 + s) ** 2 / (4 * (1 + s * s))
    assert (fam.g(lam), fam.h(s)) == (s2, r2)


def test_family_values_are_the_same_member():
    values = fam.values(Fr(1, 3), Fr(-1, 5))
    table = member(Fr(1, 3), Fr(-1, 5))
    assert [values[f"F{i}"] for i in range(1, 5)] == [table[x] for x in ATOMS]
    assert values["F24"] == table[Fr(4)] and values["F13"] == table[Fr(3, 2)]


@pytest.mark.parametrize("sigma,rho", [(0, 0), (1, 0), (1, Fr(1, 2)), (0, Fr(1, 2)),
                                       (Fr(23, 41), Fr(1, 4)), (Fr(23, 41), Fr(9, 20))])
def test_exact_preimage_lands_on_the_point(sigma, rho):
    # rho = 9/20: 4 rho - 1 = 4/5 and 1 - (4/5)^2 = (3/5)^2, so s = (1 - 3/5)/(4/5) = 1/2
    lam, s = fam.exact_preimage(Fr(sigma), Fr(rho))
    assert statistics(member(lam, s)) == (sigma, rho)


def test_irrational_preimage_is_reported_not_guessed():
    assert fam.exact_preimage(Fr(1, 2), Fr(1, 4)) is None       # lam = 1/(1 + sqrt(18/23))
    lam, s = fam.preimage(0.5, 0.1)
    s2, r2 = statistics(member(Fr(lam), Fr(s)))
    assert abs(float(s2) - 0.5) < 1e-12 and abs(float(r2) - 0.1) < 1e-12


@pytest.fixture(scope="module")
def rectangle():
    return frontier.frontier("general", "s2", "r2", store=None)


def test_general_region_is_the_exact_rectangle(rectangle):
    fr = rectangle
    assert fr.exact and fr.shape == "polygon" and fr.gap == 0
    assert [v.point for v in fr.vertices] == [(0, 0), (1, 0), (1, Fr(1, 2)), (0, Fr(1, 2))]
    assert all(v.attained for v in fr.vertices)
    assert [f.formula for f in fr.facets] == ["r2 >= 0", "s2 <= 1", "r2 <= 1/2", "s2 >= 0"]
    assert all(e.attained for e in fr.edges) and len(fr.edges) == 4
    assert [b.trust for b in fr.bounds] == ["certificate"] * 4
    assert "sos certificate" in fr.bounds[2].source
    # every witness, re-measured here, lands where the frontier says
    for v in fr.vertices:
        assert _measure(v.witness) == v.point
    for e in fr.edges:
        assert _measure(e.witness) == e.witness_at
        (ax, ay), (bx, by) = e.start.point, e.end.point
        px, py = e.witness_at
        assert (px - ax) * (by - ay) == (py - ay) * (bx - ax)          # on the edge
        assert e.witness_at not in (e.start.point, e.end.point)        # inside it
    doc = json.loads(json.dumps(fr.to_json()))
    assert doc["exact"] is True and doc["gap"] == 0
    assert [b["claim"] for b in doc["outer"]["bounds"]] == \
        ["r2 >= 0", "s2 <= 1", "r2 <= 1/2", "s2 >= 0"]
    inside = doc["theorem"]["interior_witness"]
    assert inside["at"] == ["23/41", "1/4"]
    assert _measure({k: Fr(v) for k, v in inside["values"].items()}) == (Fr(23, 41), Fr(1, 4))
    assert any("Var F(Z) = (1 + s^2)" in c for c in doc["theorem"]["checked"])


def _measure(values) -> tuple[Fr, Fr]:
    table = {x: values[f"F{i + 1}"] for i, x in enumerate(ATOMS)}
    for i, x in enumerate(ATOMS):
        for j in range(i + 1, 4):
            table[(x + ATOMS[j]) / 2] = values[f"F{i + 1}{j + 1}"]
    assert all(values[f"w{i}"] == Fr(1, 4) for i in range(1, 5))
    return statistics(table)


def test_swapped_axes_give_the_transposed_rectangle():
    fr = frontier.frontier("general", "r2", "s2", store=None)
    assert fr.exact
    assert [v.point for v in fr.vertices] == [(0, 0), (Fr(1, 2), 0), (Fr(1, 2), 1), (0, 1)]
    for v in fr.vertices:
        s2, r2 = _measure(v.witness)
        assert (r2, s2) == v.point


def test_other_axes_are_still_computed():
    fr = frontier.frontier("general", "s2", "slope", store=None, prove=False, samples=40)
    assert not fr.exact and fr.theorem is None


def _broken(monkeypatch, target, name, value):
    monkeypatch.setattr(target, name, value)
    fr = frontier.frontier("general", "s2", "r2", store=None, prove=False, samples=40)
    assert not fr.exact and fr.theorem is None
    return fr.notes[0]


def test_a_family_that_breaks_an_identity_is_not_reported(monkeypatch):
    # N0 no longer uncorrelated with x: the fitted line changes and s2 = g(lam) fails
    note = _broken(monkeypatch, fam, "N0", (Fr(12), Fr(-6), Fr(-12), Fr(7)))
    assert "region theorem did not check" in note and "identity fails" in note


def test_a_witness_off_its_point_is_not_reported(monkeypatch):
    real = fam.exact_preimage

    def off(a, b):                       # s moved by 1 %: r2 no longer the point's
        pre = real(a, b)
        return None if pre is None else (pre[0], pre[1] * Fr(99, 100) + Fr(1, 100))
    monkeypatch.setattr(fam, "exact_preimage", off)
    fr = frontier.frontier("general", "s2", "r2", store=None, prove=False, samples=40)
    assert not fr.exact and "lands on" in fr.notes[0]


def test_a_side_without_a_checked_certificate_is_not_reported(monkeypatch):
    import prover.certify as certify
    monkeypatch.setattr(certify, "search_certificate", lambda problem, timeout: (None, "none"))
    fr = frontier.frontier("general", "s2", "r2", store=None, prove=False, samples=40)
    assert not fr.exact and "no certificate for the side r2 >= 0" in fr.notes[0]


def test_a_certificate_that_does_not_replay_is_not_reported(monkeypatch):
    import prover.checker as checker

    def refuse(problem, proof):
        raise checker.CertificateError("tampered")
    monkeypatch.setattr(checker, "check_proof", refuse)
    fr = frontier.frontier("general", "s2", "r2", store=None, prove=False, samples=40)
    assert not fr.exact and "does not check: tampered" in fr.notes[0]


def test_emitted_conjectures_pin_the_rectangle(rectangle):
    got = {(c.claim, c.expect) for c in frontier.conjectures(rectangle)}
    assert {("r2 >= 0", "valid"), ("s2 <= 1", "valid"), ("r2 <= 1/2", "valid"),
            ("s2 >= 0", "valid"), ("r2 <= 7/16", "refuted"), ("r2 >= 1/16", "refuted"),
            ("s2 <= 15/16", "refuted"), ("s2 >= 1/16", "refuted")} <= got


def test_other_parameters_keep_the_theorem_and_emit_where_its_witnesses_live(tmp_path):
    fr = frontier.frontier("general", "s2", "r2", {"atoms": 2}, store=None)
    assert fr.exact and fr.params["atoms"] == 2
    assert any("members of the concrete family atoms = 4" in n for n in fr.notes)
    paths = frontier.emit(fr, tmp_path)
    text = (tmp_path / "vertex-1-tight.toml").read_text()
    assert "atoms = 4" in text and 'id = "frontier/general-s2-r2-atoms4-dim1/' in text
    assert len(paths) == 12
