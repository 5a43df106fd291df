"""The Python API: `import prover` is cheap, `prover.bounds` and `prover.check` work and
their docstring examples run."""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import prover
import prover.api

REPO = Path(__file__).resolve().parents[1]


def test_public_names():
    assert prover.__all__ == ["__version__", "bounds", "check", "CheckReport", "CheckResult"]
    for name in prover.__all__:
        assert getattr(prover, name) is not None
    from prover._version import __version__
    assert prover.__version__ == __version__
    for name in ("bounds", "check"):
        assert getattr(prover.api, name).__doc__ and ">>>" in getattr(prover.api, name).__doc__


def test_docstring_examples_run():
    for module in (prover.api, prover):
        failed, attempted = doctest.testmod(module)
        assert attempted >= 3 and failed == 0, module.__name__


def test_import_prover_is_cheap():
    script = "import prover, sys; print('z3' in sys.modules, 'sympy' in sys.modules, " \
             "'numpy' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False False False"


def test_no_module_imports_the_package_itself():
    # DESIGN.md: `from . import __version__` in a submodule makes an import cycle
    for path in (REPO / "prover").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from . import __version__" not in text and "from prover import __version__" \
            not in text, path


def test_bounds_result_object():
    r = prover.bounds("twins", given={"rMZ": "0.62", "rDZ": F(1, 4)}, targets=["h2", "s2"],
                      params={"max_order": 1}, prove=False, realize=False)
    assert r.feasible and r.reason is None
    assert [b.target for b in r.bounds] == ["h2", "s2"]
    s2 = r.bounds[1]
    assert s2.lower.value == s2.upper.value == F(19, 31)     # (4 rDZ - rMZ) / rMZ
    assert s2.upper.approx == float(F(19, 31)) and s2.upper.attained
    assert r.to_json()["bounds"][1]["lower"]["value"] == "19/31"
    bad = prover.bounds("twins", given={"rMZ": 0.6, "rDZ": 0.4}, prove=False)
    assert not bad.feasible and bad.bounds == [] and "needs shared_environment = true" in bad.reason


def test_check_returns_what_check_prints(tmp_path):
    (tmp_path / "good.toml").write_text('model = "twins"\nclaim = "h2 <= 2*rDZ"\n')
    (tmp_path / "wrong.toml").write_text('model = "twins"\nclaim = "h2 <= rDZ"\n')
    report = prover.check([str(tmp_path)], store=str(tmp_path / "certificates"))
    assert report.exit_code == 1 and not report.ok and report.errors == []
    assert [(r.id, r.verdict, r.matches_expect) for r in report] == [
        ("good", "valid", True), ("wrong", "refuted", False)]
    assert report["good"].trust == "certificate"
    assert (tmp_path / "certificates" / "good.json").is_file()
    bad = prover.check([str(tmp_path / "missing.toml")], store=str(tmp_path / "c2"))
    assert bad.exit_code == 2 and bad.results == [] and "no such file" in bad.errors[0]


def test_check_is_also_the_pipeline_module():
    # prover/check.py (the one-conjecture pipeline) shares the name; its attributes stay
    # reachable through prover.check, and importing it does not replace the function
    import prover.check as pipeline
    from prover.check import check as check_one
    assert callable(prover.check) and prover.check.check is check_one
    assert pipeline.DEFAULT_TIMEOUT == sys.modules["prover.check"].DEFAULT_TIMEOUT
    assert prover.check.__wrapped__ is prover.api.check
