"""The trusted checker: certificates found by search are checked exactly, and any altered
number, atom index or claim makes the check fail."""

import copy
import subprocess
import sys
from fractions import Fraction

import pytest

from prover.certify import find_certificate
from prover.checker import CertificateError, cases_of, check_proof
from prover.conjecture import load
from prover.encode import encode


def _problem(tmp_path, claim, params="", assume=None, name="c"):
    text = f'model = "twins"\nclaim = "{claim}"\n'
    if assume:
        text += "assume = [" + ", ".join(f'"{a}"' for a in assume) + "]\n"
    if params:
        text += "[params]\n" + params + "\n"
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    conj = load(path)
    return encode(conj.instance(), conj.claim, conj.assume)


def test_farkas_certificate_for_linear_twins_claim(tmp_path):
    problem = _problem(tmp_path, "h2 <= 2*rDZ")
    proof = find_certificate(problem, timeout=30)
    assert proof["kind"] == "farkas"
    assert check_proof(problem, proof).startswith("farkas certificate: 1 case(s)")


def test_conjunction_gives_one_case_per_link(tmp_path):
    problem = _problem(tmp_path, "2*(rMZ - 2*rDZ) <= phantom <= 3*(rMZ - 2*rDZ)")
    proof = find_certificate(problem, timeout=30)
    assert len(cases_of(problem)) == 2
    assert len(proof["cases"]) == 2
    check_proof(problem, proof)


def test_false_claim_gets_no_certificate(tmp_path):
    problem = _problem(tmp_path, "falconer <= h2")
    assert find_certificate(problem, timeout=30) is None


def test_every_altered_multiplier_is_rejected(tmp_path):
    problem = _problem(tmp_path, "s2 >= 4*rDZ/rMZ - 1")
    proof = find_certificate(problem, timeout=30)
    products = proof["cases"][0]["products"]
    assert products
    for n in range(len(products)):
        bad = copy.deepcopy(proof)
        old = Fraction(bad["cases"][0]["products"][n]["multiplier"])
        bad["cases"][0]["products"][n]["multiplier"] = str(old + Fraction(1, 7))
        with pytest.raises(CertificateError, match="identity does not hold"):
            check_proof(problem, bad)


def test_negative_multiplier_and_bad_index_rejected(tmp_path):
    problem = _problem(tmp_path, "h2 <= 2*rDZ")
    proof = find_certificate(problem, timeout=30)
    bad = copy.deepcopy(proof)
    bad["cases"][0]["products"][0]["multiplier"] = "-1"
    with pytest.raises(CertificateError, match="nonnegative"):
        check_proof(problem, bad)
    bad = copy.deepcopy(proof)
    bad["cases"][0]["products"][0]["atoms"] = [999]
    with pytest.raises(CertificateError, match="indices of inequality atoms"):
        check_proof(problem, bad)
    bad = copy.deepcopy(proof)
    bad["cases"][0]["products"][0]["multiplier"] = 0.5
    with pytest.raises(CertificateError, match="strings"):
        check_proof(problem, bad)


def test_certificate_does_not_prove_a_stronger_claim(tmp_path):
    problem = _problem(tmp_path, "h2 <= 2*rDZ", name="a")
    proof = find_certificate(problem, timeout=30)
    stronger = _problem(tmp_path, "h2 <= 1.9*rDZ", name="b")
    with pytest.raises(CertificateError):
        check_proof(stronger, proof)


def test_identity_without_strictness_proves_nothing(tmp_path):
    problem = _problem(tmp_path, "h2 <= 2*rDZ")
    # 0 = 0 with no strict product and constant 0 must not pass
    with pytest.raises(CertificateError, match="proves nothing"):
        check_proof(problem, {"kind": "farkas", "cases": [{"products": [], "constant": "0"}]})


def test_assumptions_are_used_by_the_certificate(tmp_path):
    problem = _problem(tmp_path, "s2 >= 0.8", assume=["rDZ >= 0.45*rMZ"])
    proof = find_certificate(problem, timeout=30)
    check_proof(problem, proof)
    without = _problem(tmp_path, "s2 >= 0.8", name="d")
    with pytest.raises(CertificateError):
        check_proof(without, proof)


def test_checker_imports_no_solver():
    code = ("import sys, prover.checker; "
            "print(any(m in sys.modules for m in ('z3', 'cvc5', 'sympy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"


# --- split certificates ------------------------------------------------------------------

def test_a_split_case_needs_both_branches_and_gives_each_its_atom():
    from prover.checker import CertificateError, check_case
    from prover.poly import Atom, Poly
    x = Poly.var("x")
    # the case {x - 1 >= 0, -x - 1 >= 0} is empty; split on x: in the branch x >= 0 the
    # atoms g0 = x - 1... are enough alone, but the split must still name both branches
    atoms = [Atom(x - Poly.const(1), ">="), Atom(x.scale(-1) - Poly.const(1), ">=")]
    leaf = {"products": [{"atoms": [0], "multiplier": "1"}, {"atoms": [1], "multiplier": "1"}],
            "constant": "2"}
    # a branch may use its new atom (index 2): x >= 0 and -x - 1 >= 0 give -1 >= 0
    uses_new = {"products": [{"atoms": [2], "multiplier": "1"}, {"atoms": [1], "multiplier": "1"}],
                "constant": "1"}
    check_case(atoms, {"split": {"poly": x.to_json(), "nonneg": uses_new, "nonpos": leaf}})
    # the new atom of the other branch is -x >= 0: the same identity fails there
    with pytest.raises(CertificateError, match="split leaf 2 of 2"):
        check_case(atoms, {"split": {"poly": x.to_json(), "nonneg": leaf, "nonpos": uses_new}})
    for bad in ({"split": {"poly": x.to_json(), "nonneg": leaf}},
                {"split": {"poly": Poly.const(3).to_json(), "nonneg": leaf, "nonpos": leaf}},
                {"split": {"poly": x.to_json(), "nonneg": leaf, "nonpos": leaf}, "constant": "1"}):
        with pytest.raises(CertificateError):
            check_case(atoms, bad)


def test_splits_are_bounded():
    from prover.checker import MAX_SPLIT_DEPTH, CertificateError, check_case
    from prover.poly import Atom, Poly
    x = Poly.var("x")
    atoms = [Atom(x - Poly.const(1), ">="), Atom(x.scale(-1) - Poly.const(1), ">=")]
    leaf = {"products": [{"atoms": [0], "multiplier": "1"}, {"atoms": [1], "multiplier": "1"}],
            "constant": "2"}
    node = leaf
    for _ in range(MAX_SPLIT_DEPTH + 1):
        node = {"split": {"poly": x.to_json(), "nonneg": node, "nonpos": leaf}}
    with pytest.raises(CertificateError, match="deeper"):
        check_case(atoms, node)


def test_a_wrong_identity_with_a_huge_multiplier_is_rejected_not_crashed():
    """A multiplier within the 4,300-digit limit makes products past it: the message must
    still be the checker's ('the identity does not hold'), not Python's int-to-text error
    (verify then called the certificate malformed instead of failed)."""
    from prover.checker import CertificateError, check_case
    from prover.poly import Atom, Poly

    x = Poly.var("x")
    atoms = [Atom((x * x).scale(77), ">="), Atom(Poly.const(-1) + x, ">=")]
    cert = {"products": [{"atoms": [0, 1], "multiplier": "9" * 4300}], "constant": "1"}
    with pytest.raises(CertificateError) as info:
        check_case(atoms, cert)
    message = str(info.value)
    assert message.startswith("the identity does not hold: the combination is a polynomial "
                              "of 2 term(s) whose coefficients are too long to print")
    assert len(message) < 400
