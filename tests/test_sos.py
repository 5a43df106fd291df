"""Sum-of-squares certificates: exact PSD check, the checker's square terms, the search."""

import copy
import shutil
from fractions import Fraction as F

import pytest

from prover.checker import CertificateError, check_proof, psd_ldl
from prover.encode import encode

cvxpy = pytest.importorskip("cvxpy")

SQUARE_CLAIM = '''title = "a square"
model = "twins"
claim = "h2^2 + rDZ^2 >= 2*h2*rDZ"
[params]
max_order = 1
'''


def test_psd_ldl_accepts_psd():
    out = psd_ldl([[F(2), F(1)], [F(1), F(2)]])
    assert [d for d, _ in out] == [F(2), F(3, 2)]


def test_psd_ldl_rejects_indefinite():
    with pytest.raises(CertificateError):
        psd_ldl([[F(1), F(2)], [F(2), F(1)]])
    with pytest.raises(CertificateError):
        psd_ldl([[F(-1)]])


def test_psd_ldl_singular():
    # rank one: second pivot is zero and its column is zero -> PSD
    assert len(psd_ldl([[F(1, 4), F(-1, 8)], [F(-1, 8), F(1, 16)]])) == 1
    # zero pivot with a nonzero remaining column -> not PSD
    with pytest.raises(CertificateError):
        psd_ldl([[F(0), F(1)], [F(1), F(5)]])
    with pytest.raises(CertificateError):
        psd_ldl([[F(1), F(1), F(0)], [F(1), F(1), F(1)], [F(0), F(1), F(1)]])


@pytest.fixture(scope="module")
def square_result(tmp_path_factory):
    from prover.check import check
    from prover.conjecture import load

    path = tmp_path_factory.mktemp("sos") / "square.toml"
    path.write_text(SQUARE_CLAIM)
    conj = load(path)
    out = check(conj)
    problem = encode(conj.instance(), conj.claim, conj.assume)
    return out.certificate, problem


def test_square_claim_gets_sos_certificate(square_result):
    cert, problem = square_result
    assert cert["verdict"] == "valid"
    assert cert["trust"] == "certificate"
    assert cert["proof"]["kind"] == "sos"
    assert "certificate" in check_proof(problem, cert["proof"])


def _gram(proof):
    for case in proof["cases"]:
        for sq in case.get("squares", []):
            return sq["gram"]["matrix"]
    raise AssertionError("no square term")


def test_checker_rejects_non_psd_gram(square_result):
    cert, problem = square_result
    proof = copy.deepcopy(cert["proof"])
    m = _gram(proof)
    m[0][0] = "-" + m[0][0] if not m[0][0].startswith("-") else m[0][0][1:]
    with pytest.raises(CertificateError):
        check_proof(problem, proof)


def test_checker_rejects_altered_entries(square_result):
    cert, problem = square_result
    proof = copy.deepcopy(cert["proof"])
    m = _gram(proof)
    m[0][0] = str(F(m[0][0]) * 2)     # still PSD, but the identity breaks
    with pytest.raises(CertificateError):
        check_proof(problem, proof)
    proof = copy.deepcopy(cert["proof"])
    m = _gram(proof)
    if len(m) > 1:
        m[0][1] = str(F(m[0][1]) + 1)  # not symmetric
        with pytest.raises(CertificateError):
            check_proof(problem, proof)


def test_checker_rejects_bad_square_atoms(square_result):
    cert, problem = square_result
    proof = copy.deepcopy(cert["proof"])
    proof["cases"][0]["squares"][0]["atoms"] = [0, 1, 2]
    with pytest.raises(CertificateError):
        check_proof(problem, proof)


@pytest.mark.skipif(shutil.which("coqc") is None, reason="coqc not installed")
def test_sos_certificate_compiles_in_coq(square_result):
    from prover.export import coq_text, compile_coq

    cert, problem = square_result
    ok, output = compile_coq(coq_text(problem, cert["proof"]))
    assert ok, output


def test_sos_certificate_verifies_end_to_end(tmp_path):
    """`prover verify` re-checks a stored SOS certificate; a changed Gram entry fails it."""
    import json

    from prover.cli import main

    conj_dir = tmp_path / "conjectures"
    conj_dir.mkdir()
    (conj_dir / "square.toml").write_text(SQUARE_CLAIM)
    store = tmp_path / "certificates"
    assert main(["check", str(conj_dir), "--store", str(store)]) == 0
    (cert_path,) = store.rglob("*.json")
    doc = json.loads(cert_path.read_text())
    assert doc["proof"]["kind"] == "sos"
    assert main(["verify", "--store", str(store)]) == 0
    m = _gram(doc["proof"])
    m[0][0] = str(F(m[0][0]) + 1)
    cert_path.write_text(json.dumps(doc, indent=2))
    assert main(["verify", "--store", str(store)]) == 1
