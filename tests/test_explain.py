"""`prover show` states an exact certificate in the model's own variables: the claim's
slack as a sum of named nonnegative terms, no internal constraint names, no '-0'."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from prover.cli import main
from prover.poly import Poly

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _show(capsys, cid, *extra):
    assert main(["show", cid, *extra]) == 0
    return capsys.readouterr().out


def test_general_r2_bound_reads_as_cauchy_schwarz(in_root, capsys):
    out = _show(capsys, "puzzle/general/r2-at-most-half")
    a, b, u, v, vz = (Poly.var(x) for x in ("a", "b", "u", "v", "vz"))
    c = u * a + v * b                                # Cov(F(X), F(Z)), by hand
    slack = ((a + b) * vz).scale(Fraction(1, 2)) - c * c
    assert f"    slack   P = {slack}\n" in out          # (a+b) vz / 2 - c^2 >= 0: r2 <= 1/2
    line = next(l for l in out.splitlines() if l.startswith("    and     P = "))
    assert "a·b·[(u - v)²]" in line and "1/2·rho·(a + b)" in line
    assert "      rho >= 0  (model)" in out and "      a >= 0  (model)" in out


def test_twins_bound_names_the_variance_components(in_root, capsys):
    out = _show(capsys, "twins/h2-at-most-2rDZ")
    line = next(l for l in out.splitlines() if l.startswith("    and     P = "))
    assert line.startswith("    and     P = 1/2·VD + 1/2·VAA + 1/4·VAD")
    assert "g16" not in line and "      VDDDD >= 0  (model)" in out
    assert "= -0" not in out and "  case 1: " in out and out.count(" = 0\n") >= 1


def test_without_its_source_show_says_why_the_terms_are_unnamed(tmp_path, capsys,
                                                                 monkeypatch):
    store = tmp_path / "certs"
    shutil.copytree(ROOT / "certificates" / "twins", store / "twins")
    monkeypatch.chdir(tmp_path)
    out = _show(capsys, "twins/h2-at-most-2rDZ", "--store", str(store))
    assert "slack   P =" not in out
    assert ("(g<i> is constraint i of the encoding; its source "
            "conjectures/twins/h2-at-most-2rDZ.toml is not here, so it is not written out "
            "in the model's variables)") in out
