"""The certificate record (prover/record.py): every committed certificate reads into it and
writes back byte for byte; each malformed field is refused with its name; the record is
frozen; the enums order trust as docs/trust.md does."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from prover.record import (Certificate, Kind, MalformedCertificate, Trust, Verdict, freeze,
                           thaw)
from prover.store import dumps

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = sorted((ROOT / "certificates").rglob("*.json"))


def _doc(name: str) -> dict:
    return json.loads((ROOT / "certificates" / name).read_text())


VALID = "twins/h2-at-most-2rDZ.json"
REFUTED = "twins/falconer-lower-bounds-h2.json"


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
def test_committed_certificates_round_trip_byte_for_byte(path):
    text = path.read_text()
    cert = Certificate.from_json(json.loads(text))
    assert dumps(cert.to_json()) == text


def test_the_store_has_certificates_of_each_verdict():
    verdicts = {json.loads(p.read_text())["verdict"] for p in COMMITTED}
    assert verdicts == {"valid", "refuted"}


def test_typed_fields_of_a_valid_certificate():
    doc = _doc(VALID)
    cert = Certificate.from_json(doc)
    assert cert.verdict is Verdict.VALID and cert.verdict == "valid"
    assert cert.trust is Trust(doc["trust"])
    assert cert.kind is Kind(doc["proof"]["kind"])
    assert cert.claim == doc["claim"] and cert.assume == tuple(doc["assume"])
    assert cert.model.name == "twins" and dict(cert.model.params) == doc["model"]["params"]
    assert cert.proof.cases_json() == doc["proof"]["cases"]
    assert cert.counterexample is None
    assert [s.name for s in cert.solvers] == [s["name"] for s in doc["solvers"]]


def test_typed_fields_of_a_refuted_certificate():
    doc = _doc(REFUTED)
    cert = Certificate.from_json(doc)
    ce = cert.counterexample
    assert cert.verdict is Verdict.REFUTED and cert.trust is None and cert.proof is None
    assert dict(ce.values) == doc["counterexample"]["values"]
    assert ce.violation == doc["counterexample"]["violation"]
    assert ce.confirmed is doc["counterexample"]["numeric_check"]["confirmed"]
    assert ce.sides[0].op == doc["counterexample"]["sides"][0]["op"]


def test_the_record_is_frozen_all_the_way_down():
    cert = Certificate.from_json(_doc(VALID))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cert.verdict = Verdict.REFUTED
    with pytest.raises(TypeError):
        cert.model.params["max_order"] = 1
    with pytest.raises(TypeError):
        cert.proof.cases[0]["constant"] = "5"
    changed = cert.replace(title="another title")
    assert changed.title == "another title" and cert.title != "another title"


def test_trust_order_and_rank():
    assert [t.value for t in sorted(Trust, key=lambda t: -t.rank)] == \
        ["kernel", "certificate", "solvers", "solver"]
    assert Trust.rank_of(None) == 0 and Trust.rank_of("bogus") == 0
    assert Trust.rank_of("kernel") > Trust.rank_of(Trust.CERTIFICATE) > 0
    assert Kind.SMT.exact is False and Kind.SOS.exact is True


def _set(doc, path, value):
    *head, last = path
    target = doc
    for key in head:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value


_DELETE = object()


@pytest.mark.parametrize("name,path,value,field,words", [
    (VALID, ["verdict"], "proved", "verdict", "must be one of 'valid', 'refuted', 'unknown'"),
    (VALID, ["trust"], "absolute", "trust", "must be one of 'kernel'"),
    (VALID, ["trust"], None, "trust", "a valid verdict has a trust"),
    (VALID, ["format"], 1, "format", "is the number 1 (written by prover 0.1); this prover "
                                     "reads format 2: re-run `prover check` to rebuild it"),
    (VALID, ["format"], 3, "format", "is the number 3; this prover reads format 2"),
    (VALID, ["format"], True, "format", "this prover reads format 2"),
    (VALID, ["format"], _DELETE, "format", "is missing"),
    (VALID, ["claim"], 3, "claim", "not a string"),
    (VALID, ["assume"], "h2 >= 0", "assume", "not a list of strings"),
    (VALID, ["vacuous"], "no", "vacuous", "not true/false"),
    (VALID, ["encoding_sha256"], "abc", "encoding_sha256", "not a sha256 digest"),
    (VALID, ["source"], "/etc/passwd", "source", "absolute path"),
    (VALID, ["id"], "../x", "id", "not a certificate id"),
    (VALID, ["proof", "kind"], "magic", "proof.kind", "must be one of 'farkas'"),
    (VALID, ["proof", "cases"], _DELETE, "proof.cases", "is missing"),
    (VALID, ["proof", "coq", "compiled"], "yes", "proof.coq.compiled", "not true/false"),
    (VALID, ["proof"], _DELETE, "proof", "a valid verdict needs one"),
    (VALID, ["model", "params", "max_order"], 1.5, "model.params.max_order",
     "a parameter is a boolean, an integer or a string"),
    (VALID, ["solvers", 0, "seconds"], -1, "solvers[0].seconds", "nonnegative number"),
    (VALID, ["solvers", 0, "result"], "maybe", "solvers[0].result", "must be one of"),
    (VALID, ["surprise"], 1, "surprise", "unknown field"),
    (VALID, ["witness", "VA"], "0.5", "witness.VA", "exact number"),
    (REFUTED, ["counterexample", "values", "VA"], 0.5, "counterexample.values.VA",
     "not a string"),
    (REFUTED, ["counterexample", "violation"], "lots", "counterexample.violation",
     "exact number"),
    (REFUTED, ["counterexample", "sides"], {}, "counterexample.sides", "not a list"),
    (REFUTED, ["counterexample"], _DELETE, "counterexample", "a refuted verdict needs one"),
    (REFUTED, ["trust"], "kernel", "trust", "only a valid verdict has a trust"),
])
def test_each_malformed_field_is_named(name, path, value, field, words):
    doc = copy.deepcopy(_doc(name))
    _set(doc, path, value)
    with pytest.raises(MalformedCertificate) as info:
        Certificate.from_json(doc)
    assert info.value.where == field
    assert words in str(info.value)
    assert str(info.value).startswith(f"field '{field}' ")


def test_not_an_object():
    for doc in ([], "x", None, 3):
        with pytest.raises(MalformedCertificate, match="not an object"):
            Certificate.from_json(doc)


def test_freeze_and_thaw_are_inverse():
    value = {"a": [1, {"b": "2/3"}, None, True], "c": {}}
    frozen = freeze(value)
    assert thaw(frozen) == value
    with pytest.raises(MalformedCertificate, match="not a JSON value"):
        freeze({"a": {1, 2}})


# --- readers get records from the store ------------------------------------------------------

def _store_with_a_malformed_entry(tmp_path):
    from prover.store import DirectoryStore
    store = DirectoryStore(tmp_path / "certs")
    store.save(_doc(VALID))
    bad = copy.deepcopy(_doc(REFUTED))
    bad["counterexample"]["violation"] = "lots"
    store.save(bad)
    return store


def test_store_records_marks_a_malformed_entry_with_its_field(tmp_path):
    from prover.store import BadEntry
    store = _store_with_a_malformed_entry(tmp_path)
    entries = dict(store.records())
    assert isinstance(entries["twins/h2-at-most-2rDZ"], Certificate)
    bad = entries["twins/falconer-lower-bounds-h2"]
    assert isinstance(bad, BadEntry) and bad.malformed and bad.reason == (
        "field 'counterexample.violation' is 'lots', not an exact "
        "number 'p/q' (or a float where it is irrational)")
    assert bad.path.endswith("falconer-lower-bounds-h2.json")


def test_show_and_list_explain_a_malformed_entry(tmp_path, capsys):
    from prover.cli import main
    store = _store_with_a_malformed_entry(tmp_path)
    assert main(["show", "twins/falconer-lower-bounds-h2", "--store", str(store.root)]) == 2
    err = capsys.readouterr().err
    assert "is malformed: " in err and "field 'counterexample.violation'" in err
    assert "Traceback" not in err
    assert main(["list", "--store", str(store.root)]) == 0
    out, err = capsys.readouterr()
    rows = {line.split()[0]: line.split()[2] for line in out.splitlines()[2:]}
    assert rows == {"twins/h2-at-most-2rDZ": "valid", "twins/falconer-lower-bounds-h2": "malformed"}
    assert "malformed certificate" in err and "'counterexample.violation'" in err


def test_records_travel_between_processes():
    import pickle
    cert = Certificate.from_json(_doc(REFUTED))
    again = pickle.loads(pickle.dumps(cert))
    assert again == cert and dumps(again.to_json()) == dumps(cert.to_json())
