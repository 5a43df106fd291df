"""The command line: exit codes, --json, list filters, show, models, --help, fast start.

Tests call ``prover.cli.main(argv)`` directly. Solvers run twice in this module: one
batch of three conjectures (one of which differs from its expect) and one single file.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from prover.cli import main

REPO = Path(__file__).resolve().parent.parent

CONJECTURES = {
    "c/valid": 'title = "h2 at most 2 rDZ"\nmodel = "twins"\nclaim = "h2 <= 2*rDZ"\n'
               '[params]\nmax_order = 1\n',
    "c/refuted": 'model = "twins"\nclaim = "falconer <= h2"\nexpect = "refuted"\n'
                 '[params]\nmax_order = 1\n',
    # true, but its author expected otherwise
    "c/wrong": 'model = "twins"\nclaim = "rDZ <= rMZ/2"\nexpect = "refuted"\n'
               '[params]\nmax_order = 1\n',
}

RESULT_KEYS = {"id", "source", "verdict", "trust", "expect", "matches_expect", "vacuous",
               "reason", "seconds", "solver_seconds", "confirm_seconds", "certify_seconds"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    for cid, text in CONJECTURES.items():
        path = root / "conjectures" / f"{cid}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    store = root / "certificates"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", str(root / "conjectures"), "--store", str(store)])
    return {"root": root, "store": str(store), "code": code, "out": out.getvalue(),
            "err": err.getvalue()}


# --- check --------------------------------------------------------------------------------

def test_check_exits_1_when_a_verdict_differs_from_expect(checked):
    assert checked["code"] == 1, checked["err"]
    rows = {line.split()[0]: line.split() for line in checked["out"].splitlines()
            if line.startswith("c/")}
    assert rows["c/valid"][1:4] == ["valid", "certificate", "ok"]
    assert rows["c/refuted"][1:4] == ["refuted", "-", "ok"]
    assert rows["c/wrong"][1:5] == ["valid", "certificate", "EXPECTED", "refuted"]
    assert "3 checked" in checked["out"] and "1 differ from expect" in checked["out"]
    assert "Traceback" not in checked["err"]


def test_check_exits_0_and_json_is_one_stable_document(checked, tmp_path, capsys):
    source = checked["root"] / "conjectures" / "c" / "valid.toml"
    code, out, err = run(capsys, "check", str(source), "--json", "--store", str(tmp_path))
    assert code == 0, err
    doc = json.loads(out)                                    # the whole of stdout
    assert set(doc) == {"results", "errors"} and doc["errors"] == []
    (result,) = doc["results"]
    assert set(result) == RESULT_KEYS
    assert (result["id"], result["verdict"], result["trust"], result["matches_expect"]) == \
        ("c/valid", "valid", "certificate", True)
    # no absolute path is stored: the source is relative to the directory check ran in
    assert result["source"] == os.path.relpath(source) and not os.path.isabs(result["source"])
    assert list(doc) == sorted(doc) and list(result) == sorted(result)   # sorted keys
    assert (tmp_path / "c" / "valid.json").is_file()


def test_certificates_hold_the_contract_fields(checked):
    doc = json.loads((Path(checked["store"]) / "c" / "refuted.json").read_text())
    for key in ("format", "id", "source", "conjecture_sha256", "encoding_sha256", "model",
                "claim", "assume", "verdict", "trust", "solvers", "prover_version", "created"):
        assert key in doc, key
    assert doc["format"] == 2 and doc["model"]["name"] == "twins"
    ce = doc["counterexample"]
    for key in ("values", "statistics", "violation", "realization", "numeric_check"):
        assert key in ce, key
    assert ce["numeric_check"]["confirmed"] is True


# --- list ---------------------------------------------------------------------------------

def ids_listed(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines() if line.startswith("c/")]


def test_list_shows_every_certificate(checked, capsys):
    code, out, _ = run(capsys, "list", "--store", checked["store"])
    assert code == 0
    assert out.splitlines()[0].split() == ["id", "model", "verdict", "trust", "age"]
    assert ids_listed(out) == ["c/refuted", "c/valid", "c/wrong"]


@pytest.mark.parametrize("filters, expected", [
    (["--verdict", "refuted"], ["c/refuted"]),
    (["--verdict", "valid"], ["c/valid", "c/wrong"]),
    (["--trust", "certificate"], ["c/valid", "c/wrong"]),
    (["--trust", "none"], ["c/refuted"]),
    (["--verdict", "valid", "--trust", "solver"], []),
    (["--model", "twins", "--verdict", "refuted"], ["c/refuted"]),
])
def test_list_filters(checked, capsys, filters, expected):
    code, out, _ = run(capsys, "list", *filters, "--store", checked["store"])
    assert code == 0
    assert ids_listed(out) == expected
    if not expected:
        assert f"no certificates in {checked['store']}/ match" in out


def test_list_json(checked, capsys):
    code, out, _ = run(capsys, "list", "--json", "--verdict", "refuted",
                       "--store", checked["store"])
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"certificates", "unreadable"}
    (entry,) = doc["certificates"]
    assert set(entry) == {"id", "model", "verdict", "trust", "vacuous", "created"}
    assert (entry["id"], entry["verdict"], entry["trust"]) == ("c/refuted", "refuted", None)


def test_list_of_an_empty_store(tmp_path, capsys):
    code, out, _ = run(capsys, "list", "--store", str(tmp_path / "none"))
    assert code == 0 and "no certificates in" in out


def test_list_reports_an_unreadable_certificate_and_goes_on(checked, tmp_path, capsys):
    store = tmp_path / "store"
    shutil.copytree(checked["store"], store)
    (store / "c" / "broken.json").write_text("{not json")
    code, out, err = run(capsys, "list", "--store", str(store))
    assert code == 0
    assert ids_listed(out) == ["c/broken", "c/refuted", "c/valid", "c/wrong"]
    assert [l.split()[2] for l in out.splitlines() if l.startswith("c/broken")] == ["malformed"]
    assert "warning: unreadable certificate" in err and "broken.json" in err


@pytest.mark.parametrize("created", ["2020-01-01T00:00:00", "9999-12-31T23:59:59-12:00",
                                     "0001-01-01T00:00:00+14:00", "yesterday"])
def test_list_survives_any_created_value(checked, tmp_path, capsys, created):
    """`created` is cosmetic: a value without an offset (or at the ends of time) gives age
    '?' on its row, and every other row is still listed."""
    import shutil
    store = tmp_path / "store"
    shutil.copytree(checked["store"], store)
    path = store / "c" / "valid.json"
    doc = json.loads(path.read_text())
    doc["created"] = created
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    code, out, err = run(capsys, "list", "--store", str(store))
    assert code == 0 and "Traceback" not in err
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert set(rows) == set(CONJECTURES)
    if created in ("2020-01-01T00:00:00", "yesterday"):     # no offset, or no time at all
        assert rows["c/valid"][-1] == "?"
    code, out, _ = run(capsys, "list", "--json", "--store", str(store))
    assert code == 0 and len(json.loads(out)["certificates"]) == 3


# --- show ---------------------------------------------------------------------------------

def test_show_unknown_id_exits_2_and_suggests_the_nearest(checked, capsys):
    code, out, err = run(capsys, "show", "c/vallid", "--store", checked["store"])
    assert code == 2 and out == ""
    assert err.strip() == (f"error: no certificate 'c/vallid' in {checked['store']}/; "
                           "did you mean 'c/valid'?")


def test_show_invalid_id_exits_2(checked, capsys):
    code, _, err = run(capsys, "show", "../etc/passwd", "--store", checked["store"])
    assert code == 2 and "invalid id" in err


def test_show_refuted_prints_the_counterexample_sentence(checked, capsys):
    code, out, _ = run(capsys, "show", "c/refuted", "--store", checked["store"])
    assert code == 0
    assert "Verdict: REFUTED" in out
    assert "Counterexample: " in out
    doc = json.loads((Path(checked["store"]) / "c" / "refuted.json").read_text())
    violation = doc["counterexample"]["violation"]
    sentence = next(line for line in out.splitlines() if line.strip().startswith("Here "))
    assert re.fullmatch(rf"\s*Here falconer = .+ h2 = .+, so `falconer <= h2` fails by "
                        rf"{re.escape(violation)}.*\.", sentence), sentence
    assert "CONFIRMED" in out


def test_show_valid_prints_trust_and_proof(checked, capsys):
    code, out, _ = run(capsys, "show", "c/valid", "--store", checked["store"])
    assert code == 0
    assert out.startswith("c/valid — h2 at most 2 rDZ")
    assert "Claim:   h2 <= 2 * rDZ" in out
    assert "Verdict: VALID" in out and "Trust:   certificate" in out
    assert "Proof:   farkas certificate" in out


def test_show_marks_what_verify_does_not_recheck(checked, capsys):
    from prover import __version__
    code, out, _ = run(capsys, "show", "c/valid", "--store", checked["store"])
    assert code == 0
    assert (f", prover {__version__} (as recorded by the run; `prover verify` does not "
            "re-check it)") in out
    assert "Solver calls (as recorded by the run that made this certificate;" in out


def test_verify_accepts_force_and_rechecks_the_same(checked, capsys):
    """DESIGN.md lists --force among check's and verify's options: a CI script may pass it
    to both; verify reuses nothing, so the reports are the same."""
    runs = []
    for extra in ([], ["--force"]):
        code, out, _ = run(capsys, "verify", "--json", "--store", checked["store"], *extra)
        runs.append((code, json.loads(out)))
    assert runs[0] == runs[1] and runs[0][1]["results"]


def test_show_json_is_the_certificate(checked, capsys):
    code, out, _ = run(capsys, "show", "c/wrong", "--json", "--store", checked["store"])
    assert code == 0
    assert json.loads(out) == json.loads(
        (Path(checked["store"]) / "c" / "wrong.json").read_text())


# --- models -------------------------------------------------------------------------------

def test_models_lists_every_model(capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[2:] if line.strip()][:4] == \
        ["gaussian", "general", "multilinear", "twins"]


def test_models_twins_documents_parameters_statistics_components(capsys):
    code, out, _ = run(capsys, "models", "twins")
    assert code == 0
    params = out[out.index("\nParameters:"):out.index("\nStatistics (with default")]
    assert "max_order = 4" in params and "(range 1..12)" in params
    assert "shared_environment = false" in params and "unique_environment = true" in params
    stats = out[out.index("\nStatistics (with default"):out.index("\nComponents (with")]
    for name in ("rMZ", "rDZ", "rPO", "h2", "H2", "s2", "falconer", "phantom"):
        assert f"  {name} " in stats, name
    components = out[out.index("\nComponents (with"):]
    assert "VA, VD, VAA" in components and "VE" in components


def test_models_twins_json(capsys):
    code, out, _ = run(capsys, "models", "twins", "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"name", "summary", "doc", "params", "statistics", "components"}
    assert [p["name"] for p in doc["params"]] == ["max_order", "shared_environment",
                                                  "unique_environment", "dominance", "design"]
    assert "rDZ" in doc["statistics"] and doc["components"][0] == "VA"


def test_models_unknown_suggests(capsys):
    code, _, err = run(capsys, "models", "twinz")
    assert code == 2 and "unknown model 'twinz'; did you mean 'twins'?" in err


# --- help ---------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, exit_text", [
    ([], "Exit codes: check 0 all verdicts as expected, 1 a verdict differs, 2 input error"),
    (["check"], "Exit: 0 every verdict equals its expect; 1 a verdict differs; 2 input error"),
    (["list"], "Exit: 0"),
    (["show"], "Exit: 0; 2 when the id is unknown"),
    (["verify"], "Exit: 0 all pass; 1 any failed, stale, malformed or unchecked"),
    (["models"], "Exit: 0"),
    (["export"], None),
])
def test_help_exits_0_and_gives_exit_codes(capsys, argv, exit_text):
    code, out, _ = run(capsys, *argv, "--help")
    assert code == 0
    assert out.startswith("usage: prover")
    if exit_text:
        assert exit_text in out


def test_no_command_prints_help(capsys):
    code, out, _ = run(capsys)
    assert code == 0 and "usage: prover" in out


def test_unknown_command_is_a_usage_error(capsys):
    code, _, err = run(capsys, "prove")
    assert code == 2 and "invalid choice" in err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("prover ")


# --- fast start ---------------------------------------------------------------------------

def test_help_and_list_import_no_solver_nor_sympy_nor_numpy(tmp_path):
    script = ("import prover.cli, sys; prover.cli.main(['--help']); "
              f"prover.cli.main(['list', '--store', {str(tmp_path / 'EMPTY')!r}]); "
              "print('z3' in sys.modules, 'sympy' in sys.modules, 'numpy' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "False False False"


# --- the console command's exit ---------------------------------------------------------------

def _command(args, cwd, **kwargs):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "prover", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120, **kwargs)


def test_the_command_exits_with_mains_code_and_all_its_output(tmp_path):
    """``python -m prover`` ends with os._exit once the output is flushed and the exit
    handlers ran: the code is main's, the JSON complete, the store written, and no
    worker is left behind."""
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "f.toml").write_text(
        'model = "twins"\nclaim = "falconer <= h2"\n[params]\nmax_order = 1\n')
    (tmp_path / "c" / "v.toml").write_text(
        'model = "twins"\nclaim = "h2 <= 2*rDZ"\n[params]\nmax_order = 1\n')
    done = _command(["check", "--json", "--store", "s", "c"], tmp_path)
    assert done.returncode == 1, done.stderr        # f is refuted; it expects valid
    verdicts = {r["id"]: r["verdict"] for r in json.loads(done.stdout)["results"]}
    assert verdicts == {"f": "refuted", "v": "valid"}
    assert sorted(p.name for p in (tmp_path / "s").rglob("*.json")) == ["f.json", "v.json"]
    done = _command(["list", "--store", "s"], tmp_path)
    assert done.returncode == 0 and done.stdout.count("twins") == 2
    assert _command(["show", "nothing-here", "--store", "s"], tmp_path).returncode == 2


def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    # 120 kB of Coq (the bundled store, read only), more than a pipe holds: the writer
    # meets the closed end
    proc = subprocess.Popen([sys.executable, "-m", "prover", "export",
                             "puzzle/gaussian/lower-bound-degree-8", "--to", "coq"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.stdout.read(10) == b"(* Generat"
    proc.stdout.close()                             # the reader went away (| head)
    err = proc.stderr.read().decode()
    assert (proc.wait(60), err) == (0, "")


def test_the_batch_saver_stores_in_order_without_holding_up_the_loop():
    """check's records are written by a background thread (cli_check._Saver): save()
    returns while the store is still busy, close() waits for every record, in order, and
    returns the refused ones with their errors (a store's unexpected exception too)."""
    import contextlib
    import threading

    from prover.cli_check import _Saver
    from prover.errors import ProverError

    release = threading.Event()
    written = []

    class Store:
        batch = contextlib.nullcontext         # the store's scope for a run's saves

        def save(self, rec):
            assert release.wait(10)
            if rec.id == "bad":
                raise ProverError("the disk is full")
            if rec.id == "worse":
                raise OSError("unexpected")
            written.append(rec.id)

    class Rec:
        def __init__(self, rec_id):
            self.id = rec_id

    saver = _Saver(Store())
    for rec_id in ("a", "bad", "b", "worse", "c"):
        saver.save(Rec(rec_id))                  # returns at once: the store is blocked
    assert written == []
    release.set()
    refused = saver.close()
    assert written == ["a", "b", "c"]
    assert [(i, str(e)) for i, e in refused] == [("bad", "the disk is full"),
                                                 ("worse", "OSError: unexpected")]
    assert not saver.thread.is_alive()


def test_a_stored_disagreement_is_marked_as_recorded():
    """An unknown's 'solvers disagree' comes from its stored reason, which `prover verify`
    cannot re-derive: `list` and the site say it is as recorded; a fresh check's table
    (`check`) states it plainly. VACUOUS (re-derived by verify) is never so marked."""
    from types import SimpleNamespace

    from prover.cli_output import _verdict_text
    from prover.record import Verdict
    from prover.site.markup import _verdict_badge

    def rec(verdict, reason=None, vacuous=False):
        return SimpleNamespace(verdict=Verdict(verdict), reason=reason, vacuous=vacuous)

    split = rec("unknown", "the solvers disagree (z3: sat, cvc5: unsat) and neither ...")
    assert _verdict_text(split) == "unknown (SOLVERS DISAGREE)"
    assert _verdict_text(split, stored=True) == "unknown (SOLVERS DISAGREE, as recorded)"
    assert "solvers disagree (as recorded)</span>" in _verdict_badge(split)
    assert "does not re-check it" in _verdict_badge(split)
    assert _verdict_text(rec("valid", vacuous=True), stored=True) == "valid (VACUOUS)"
    assert _verdict_text(rec("unknown", "timeout"), stored=True) == "unknown"
