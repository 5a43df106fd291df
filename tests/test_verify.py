"""`prover verify` passes on a fresh store and fails (exit 1, a specific reason) once a
stored value, a claim or a source is altered, while the untouched certificates pass.

The store is made once per module (three conjectures, one of them refuted); every test
works on its own copy of the whole tree, with paths relative to it as in a repository.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from prover.cli import main

CONJECTURES = {
    # a farkas certificate
    "t/valid": 'model = "twins"\nclaim = "h2 <= 2*rDZ"\n[params]\nmax_order = 1\n',
    # a counterexample confirmed by simulation
    "t/refuted": 'model = "twins"\nclaim = "falconer <= h2"\nexpect = "refuted"\n'
                 '[params]\nmax_order = 1\n',
    # a third, never tampered with: it must keep passing
    "t/bystander": 'model = "twins"\nclaim = "rDZ <= rMZ/2"\n[params]\nmax_order = 1\n',
}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A checked tree: conjectures/ and certificates/, made with relative paths."""
    root = tmp_path_factory.mktemp("verify")
    for cid, text in CONJECTURES.items():
        path = root / "conjectures" / f"{cid}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()) as err:
            code = main(["check", "--store", "certificates"])
    finally:
        os.chdir(cwd)
    assert code == 0, err.getvalue()
    return root


@pytest.fixture
def tree(fresh, tmp_path, monkeypatch) -> Path:
    work = tmp_path / "repo"
    shutil.copytree(fresh, work)
    monkeypatch.chdir(work)
    return work


def cert_path(cid: str) -> Path:
    return Path("certificates") / f"{cid}.json"


def read(cid: str) -> dict:
    return json.loads(cert_path(cid).read_text(encoding="utf-8"))


def write(cid: str, doc: dict) -> None:
    cert_path(cid).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n",
                              encoding="utf-8")


def verify(capsys, *ids: str) -> tuple[int, dict[str, tuple[str, str]], str]:
    """Exit code, {id: (status, detail)} from --json, and stderr."""
    code = main(["verify", "--json", "--store", "certificates", *ids])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["passed"] == (code == 0)
    return code, {r["id"]: (r["status"], r["detail"]) for r in doc["results"]}, err


def assert_only_failure(results, cid: str, status: str, detail: str) -> None:
    assert results[cid][0] == status, results[cid]
    assert detail in results[cid][1], results[cid]
    others = {k: v for k, v in results.items() if k != cid}
    assert others and all(v[0] == "pass" for v in others.values()), others


# --- untouched ----------------------------------------------------------------------------

def test_fresh_store_passes(tree, capsys):
    code, results, _ = verify(capsys)
    assert code == 0
    assert results["t/valid"] == ("pass", "farkas certificate: 1 case(s), identities hold "
                                          "exactly")
    assert results["t/refuted"][0] == "pass"
    assert results["t/refuted"][1].startswith("counterexample re-checked exactly and "
                                              "re-confirmed")
    assert set(results) == set(CONJECTURES)


def test_human_output_and_exit_code(tree, capsys):
    assert main(["verify", "t/valid", "--store", "certificates"]) == 0
    out = capsys.readouterr().out
    assert "t/valid" in out and "1 certificates: 1 pass, 0 failed or stale" in out


def test_reformatting_the_source_is_not_a_change(tree, capsys):
    Path("conjectures/t/valid.toml").write_text(
        '# reformatted\nmodel="twins"\nclaim = "h2<=2 * rDZ"   # same\n[params]\nmax_order=1\n')
    code, results, _ = verify(capsys, "t/valid")
    assert code == 0 and results["t/valid"][0] == "pass"


# --- tampered certificates ----------------------------------------------------------------

def test_changed_farkas_multiplier(tree, capsys):
    doc = read("t/valid")
    assert doc["proof"]["kind"] == "farkas"
    product = doc["proof"]["cases"][0]["products"][0]
    product["multiplier"] = str(Fraction(product["multiplier"]) + 1)
    write("t/valid", doc)
    code, results, _ = verify(capsys)
    assert code == 1
    assert_only_failure(results, "t/valid", "failed",
                        "certificate rejected: case 1: the identity does not hold")


def test_negative_farkas_multiplier(tree, capsys):
    doc = read("t/valid")
    doc["proof"]["cases"][0]["products"][0]["multiplier"] = "-1"
    write("t/valid", doc)
    code, results, _ = verify(capsys, "t/valid")
    assert code == 1
    assert results["t/valid"] == ("failed", "certificate rejected: case 1: product "
                                            "multipliers must be nonnegative")


def test_changed_counterexample_value(tree, capsys):
    doc = read("t/refuted")
    values = doc["counterexample"]["values"]
    # more unique environment: still a violation, but every statistic moves
    values["VE"] = str(Fraction(values["VE"]) + 1)
    write("t/refuted", doc)
    code, results, _ = verify(capsys)
    assert code == 1
    assert_only_failure(results, "t/refuted", "failed",
                        "field 'counterexample.statistics.")


def test_counterexample_that_no_longer_violates(tree, capsys):
    doc = read("t/refuted")
    doc["counterexample"]["values"] = {k: "1" if k == "VA" else "0"
                                       for k in doc["counterexample"]["values"]}
    write("t/refuted", doc)
    code, results, _ = verify(capsys, "t/refuted")
    assert code == 1
    assert results["t/refuted"] == ("failed", "the stored values do not violate the claim "
                                              "exactly")


def test_changed_violation(tree, capsys):
    doc = read("t/refuted")
    doc["counterexample"]["violation"] = "1/1000"
    write("t/refuted", doc)
    code, results, _ = verify(capsys, "t/refuted")
    assert code == 1
    assert results["t/refuted"][0] == "failed"
    assert results["t/refuted"][1].startswith("field 'counterexample.violation' differs "
                                              "from the recomputation")


@pytest.mark.parametrize("cid, verdict, status, detail", [
    ("t/valid", "refuted", "malformed", "field 'trust' is 'certificate', but the verdict is "
                                        "'refuted'"),
    ("t/valid", "unknown", "malformed", "field 'trust' is 'certificate', but the verdict is "
                                        "'unknown'"),
    ("t/refuted", "valid", "malformed", "field 'proof' is missing (a valid verdict needs one)"),
    ("t/valid", "proven", "malformed", "field 'verdict' is 'proven'; it must be one of "
                                       "'valid', 'refuted', 'unknown'"),
    ("t/valid", 5, "malformed", "field 'verdict' is the number 5; it must be one of"),
    ("t/refuted", "unknown", "malformed", "field 'reason' is missing (an unknown verdict "
                                          "says why)"),
])
def test_changed_verdict(tree, capsys, cid, verdict, status, detail):
    doc = read(cid)
    doc["verdict"] = verdict
    write(cid, doc)
    code, results, _ = verify(capsys, cid)
    assert code == 1
    assert results[cid][0] == status and detail in results[cid][1]


def test_refuted_relabelled_unknown_with_a_reason(tree, capsys):
    """An unknown verdict may keep an unconfirmed candidate; a confirmed one is re-derived
    and the relabelling caught."""
    doc = read("t/refuted")
    doc.update(verdict="unknown", reason="the solvers gave up")
    write("t/refuted", doc)
    code, results, _ = verify(capsys, "t/refuted")
    assert code == 1
    assert results["t/refuted"] == ("failed", "field 'verdict' is 'unknown', but its "
                                    "counterexample is confirmed (re-evaluated exactly and "
                                    "re-confirmed): the verdict is 'refuted'")


# An unknown verdict that keeps a candidate counterexample: the claim fails by 1e-6, which
# a simulation of 100,000 families cannot resolve once exact enumeration is unavailable
# (the test turns it off, in the check and in verify alike: workers are forked from here).
THIN = ('model = "twins"\nclaim = "h2 <= rMZ - 1/1000000"\nexpect = "unknown"\n'
        '[params]\nmax_order = 1\n')


@pytest.fixture
def thin(tmp_path, monkeypatch):
    from prover import confirm
    from prover.realizers import twins_exact

    def too_large(*args, **kwargs):
        raise twins_exact.ExactTooLarge("enumeration turned off by the test")

    monkeypatch.setattr(twins_exact, "realized_statistics", too_large)
    monkeypatch.setattr(confirm, "EFFORTS", (1,))
    monkeypatch.chdir(tmp_path)
    Path("conjectures/t").mkdir(parents=True)
    Path("conjectures/t/thin.toml").write_text(THIN, encoding="utf-8")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["check", "--store", "certificates"]) == 0
    doc = read("t/thin")
    assert doc["verdict"] == "unknown" and doc["counterexample"]["numeric_check"][
        "confirmed"] is False
    return doc


def test_unknown_candidate_is_recomputed(thin, capsys):
    code, results, _ = verify(capsys, "t/thin")
    assert code == 0
    status, detail = results["t/thin"]
    assert status == "pass"
    assert detail.startswith("verdict unknown: nothing is claimed (its candidate "
                             "counterexample, re-checked exactly and re-run from its seed, "
                             "is not confirmed: with 100000 simulated families")


def test_unknown_reason_is_shown_as_the_runs(thin, capsys):
    assert main(["show", "t/thin", "--store", "certificates"]) == 0
    out = capsys.readouterr().out
    reason = next(line for line in out.splitlines() if line.startswith("Reason:"))
    assert reason.startswith("Reason:  candidate counterexample not confirmed numerically")
    assert reason.endswith("(as recorded by the run; `prover verify` does not re-check it)")
    assert "An unconfirmed candidate:" in out


@pytest.mark.parametrize("edit, field", [
    # another point that still violates the claim, its statistics left as stored
    (lambda ce: ce["values"].update(VD="1/64000000", VE="63999999/64000000"),
     "counterexample.statistics.H2"),
    (lambda ce: ce["statistics"].update(rMZ="1/2"), "counterexample.statistics.rMZ"),
    (lambda ce: ce.update(violation="1/10"), "counterexample.violation"),
    (lambda ce: ce["numeric_check"].update(confirmed=True),
     "counterexample.numeric_check.confirmed"),
    (lambda ce: ce["numeric_check"].update(note="exact computation from the realized "
                                                "object"), "counterexample.numeric_check.note"),
    (lambda ce: ce["realization"].update(n_loci=7), "counterexample.realization.n_loci"),
])
def test_unknown_candidate_tampered(thin, capsys, edit, field):
    """What `show` displays of an unknown's candidate (its values, statistics, violation,
    realization, 'CONFIRMED' or not) is recomputed, as for a refutation."""
    doc = thin
    edit(doc["counterexample"])
    write("t/thin", doc)
    code, results, _ = verify(capsys, "t/thin")
    assert code == 1
    assert results["t/thin"][0] == "failed"
    assert results["t/thin"][1].startswith(f"field '{field}' differs from the "
                                           "recomputation"), results["t/thin"]


def test_unknown_candidate_that_does_not_violate(thin, capsys):
    doc = thin
    doc["counterexample"]["values"] = {"VA": "0", "VD": "1/2", "VE": "1/2"}
    write("t/thin", doc)
    code, results, _ = verify(capsys, "t/thin")
    assert code == 1
    assert results["t/thin"] == ("failed", "the candidate counterexample: the stored values "
                                           "do not violate the claim exactly")


def test_trust_kernel_on_a_farkas_certificate(tree, capsys):
    doc = read("t/valid")
    doc["trust"] = "kernel"
    write("t/valid", doc)
    code, results, _ = verify(capsys, "t/valid")
    assert code == 1
    assert results["t/valid"] == ("failed", "trust 'kernel' claimed but no compiled Coq proof "
                                            "recorded")


@pytest.mark.parametrize("trust", ["solver", "solvers", None])
def test_trust_weaker_than_the_farkas_certificate(tree, capsys, trust):
    doc = read("t/valid")
    doc["trust"] = trust
    write("t/valid", doc)
    code, results, _ = verify(capsys, "t/valid")
    assert code == 1
    assert results["t/valid"][0] == ("failed" if trust else "malformed")
    assert (f"trust '{trust}' does not match a farkas certificate" if trust else
            "field 'trust' is null (a valid verdict has a trust)") in results["t/valid"][1]


def test_trust_kernel_without_any_proof(tree, capsys):
    doc = read("t/valid")
    doc["trust"] = "kernel"
    del doc["proof"]
    write("t/valid", doc)
    code, results, _ = verify(capsys)
    assert code == 1
    assert_only_failure(results, "t/valid", "malformed",
                        "field 'proof' is missing (a valid verdict needs one)")


def test_trust_on_a_refuted_claim(tree, capsys):
    doc = read("t/refuted")
    doc["trust"] = "certificate"
    write("t/refuted", doc)
    code, results, _ = verify(capsys, "t/refuted")
    assert code == 1
    assert results["t/refuted"][0] == "malformed"
    assert results["t/refuted"][1].endswith("t/refuted.json: field 'trust' is 'certificate', "
                                            "but the verdict is 'refuted' (only a valid verdict "
                                            "has a trust)")


def test_corrupt_json_is_reported_and_the_others_still_verified(tree, capsys):
    cert_path("t/valid").write_text(cert_path("t/valid").read_text()[:-20])
    code, results, _ = verify(capsys)
    assert code == 1
    assert_only_failure(results, "t/valid", "malformed", "not valid JSON")


def test_certificate_under_the_wrong_id(tree, capsys):
    doc = read("t/valid")
    doc["id"] = "t/other"
    write("t/valid", doc)
    code, results, _ = verify(capsys, "t/valid")
    assert code == 1
    assert results["t/valid"][0] == "malformed" and "id inside is 't/other'" \
        in results["t/valid"][1]


# --- changed sources ----------------------------------------------------------------------

def test_changed_claim_in_the_source_is_stale(tree, capsys):
    path = Path("conjectures/t/valid.toml")
    path.write_text(path.read_text().replace("2*rDZ", "3*rDZ"))
    code, results, _ = verify(capsys)
    assert code == 1
    assert_only_failure(results, "t/valid", "stale",
                        "conjectures/t/valid.toml changed since the certificate was made")


def test_changed_parameter_in_the_source_is_stale(tree, capsys):
    path = Path("conjectures/t/valid.toml")
    path.write_text(path.read_text().replace("max_order = 1", "max_order = 2"))
    code, results, _ = verify(capsys, "t/valid")
    assert code == 1 and results["t/valid"][0] == "stale"


def test_deleted_source_is_stale(tree, capsys):
    Path("conjectures/t/refuted.toml").unlink()
    code, results, _ = verify(capsys)
    assert code == 1
    assert_only_failure(results, "t/refuted", "stale",
                        "source conjectures/t/refuted.toml is gone")


def test_source_that_no_longer_loads_is_stale(tree, capsys):
    Path("conjectures/t/valid.toml").write_text('model = "twins"\nclaim = "h2 <= 2*rDZZ"\n')
    code, results, _ = verify(capsys, "t/valid")
    assert code == 1
    assert results["t/valid"][0] == "stale"
    assert "source no longer loads" in results["t/valid"][1] and "rDZZ" in results["t/valid"][1]


def test_unknown_id_fails(tree, capsys):
    code, results, _ = verify(capsys, "t/nothing")
    assert code == 1
    assert results["t/nothing"] == ("failed", "no such certificate")


def test_path_derived_ids_verify_from_any_checked_directory(tmp_path, capsys, monkeypatch):
    """A directory not named conjectures/: the id is the path under it (not the bare
    file name), and verify must accept it."""
    src = tmp_path / "mine" / "sub"
    src.mkdir(parents=True)
    (src / "a.toml").write_text(CONJECTURES["t/valid"])
    monkeypatch.chdir(tmp_path)
    assert main(["check", "mine", "--store", "store", "-q"]) == 0
    capsys.readouterr()
    assert main(["verify", "--json", "--store", "store"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)["results"]] == ["sub/a"]


# --- displayed fields must be the source's ------------------------------------------------

@pytest.mark.parametrize("cid, field, value", [
    # the headline tamper: a proved claim relabelled as a false one
    ("t/valid", "claim", "h2 <= rDZ"),
    ("t/valid", "assume", ["rMZ >= 1/2"]),
    ("t/valid", "model", {"name": "twins", "params": {"max_order": 2,
                                                      "shared_environment": False,
                                                      "unique_environment": True}}),
    ("t/valid", "model", {"name": "multilinear", "params": {}}),
    ("t/valid", "expect", "refuted"),
    ("t/refuted", "claim", "falconer <= h2 + 1"),
])
def test_edited_displayed_field_fails_naming_it(tree, capsys, cid, field, value):
    doc = read(cid)
    assert doc[field] != value
    doc[field] = value
    write(cid, doc)
    code, results, _ = verify(capsys)
    assert code == 1
    assert_only_failure(results, cid, "failed", f"field '{field}' is {value!r} in the "
                                                "certificate")
    assert "the certificate was edited" in results[cid][1]


def test_title_is_cosmetic(tree, capsys):
    doc = read("t/valid")
    doc["title"] = "Any title at all"
    write("t/valid", doc)
    code, results, _ = verify(capsys)
    assert code == 0 and results["t/valid"][0] == "pass"


def test_nothing_to_verify_fails(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for store in ("missing", "empty"):
        if store == "empty":
            (tmp_path / store).mkdir()
        assert main(["verify", "--store", store]) == 1
        err = capsys.readouterr().err
        assert "nothing to verify" in err and store in err
    assert main(["verify", "--json", "--store", "empty"]) == 1
    assert json.loads(capsys.readouterr().out) == {"results": [], "passed": False}


@pytest.mark.parametrize("jobs, cores, expected", [(1, 2, 1), (8, 2, 2), (None, 2, 2)])
def test_kernel_recompilation_runs_as_many_coqc_at_once_as_jobs_allows(
        monkeypatch, jobs, cores, expected):
    """verify --kernel compiles the proofs --jobs at a time, never more than the cores
    (it compiled with every core whatever --jobs said)."""
    import prover.coq
    from prover import verify

    asked = []

    def compile_many(texts, cache=True, jobs=1):
        asked.append((len(texts), cache, jobs))
        return [(True, "")] * len(texts)

    monkeypatch.setattr(prover.coq, "compile_many", compile_many)
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    reports = [verify.Report(f"p{k}", "pass", "proof re-checked", coq_text="Qed.")
               for k in range(3)]
    verify._compile_pending(reports, jobs)
    assert asked == [(3, False, expected)]
    assert all(r.status == "pass" and "Coq kernel re-checked" in r.detail for r in reports)
