"""`prover bounds`: exact ranges implied by observed statistics.

The reference is an independent LP written here from MODELS.md (components A^iD^j with
covariance coefficient (2θ)^i Δ^j, plus VC for pairs reared together), solved in floats
by scipy on the Charnes–Cooper program — not prover's encoder or its exact simplex.
"""

from __future__ import annotations

import json
import random
import sys
from fractions import Fraction as F

import numpy as np
import pytest
from scipy.optimize import linprog

from prover.cli import main
from prover.errors import InputError
from prover.ranges import bounds, parse_spec
from prover.ranges.lp import maximize

KIN = {"rMZ": (1, 1, True), "rDZ": (0.5, 0.25, True), "rPO": (0.5, 0, False),
       "rHS": (0.25, 0, False), "rFC": (0.125, 0, False)}


def family(K: int, shared: bool = False):
    """Components and each statistic's (numerator, denominator) coefficient vectors."""
    genetic = [(i, o - i) for o in range(1, K + 1) for i in range(o, -1, -1)]
    comps = ["V" + "A" * i + "D" * j for i, j in genetic] + (["VC"] if shared else []) + ["VE"]
    n = len(comps)
    vp = np.ones(n)
    vg = np.array([1.0] * len(genetic) + [0.0] * (n - len(genetic)))
    stats = {}
    for name, (t, d, home) in KIN.items():
        num = [t ** i * d ** j for i, j in genetic] + ([1.0 if home else 0.0] if shared else []) + [0.0]
        stats[name] = (np.array(num), vp)
    va = np.zeros(n)
    va[0] = 1
    stats["h2"] = (va, vp)
    stats["H2"] = (vg, vp)
    stats["s2"] = (va, vg)
    stats["falconer"] = (2 * (stats["rMZ"][0] - stats["rDZ"][0]), vp)
    stats["phantom"] = (stats["falconer"][0] - va, vp)
    return comps, stats


def reference(K, given, target, shared=False):
    """(lower, upper) of target by scipy; None when infeasible; inf when unbounded."""
    comps, stats = family(K, shared)
    n = len(comps)
    a_ub, a_eq = [], []
    for name, (lo, hi) in given.items():
        num, den = stats[name]
        if lo == hi:
            a_eq.append(num - float(lo) * den)
        else:
            a_ub.append(float(lo) * den - num)
            a_ub.append(num - float(hi) * den)
    num, den = stats[target]
    out = []
    for sign in (1, -1):
        res = linprog(-sign * num, A_ub=np.array(a_ub) if a_ub else None,
                      b_ub=np.zeros(len(a_ub)) if a_ub else None,
                      A_eq=np.array(a_eq + [den]), b_eq=np.array([0.0] * len(a_eq) + [1.0]),
                      bounds=[(0, None)] * n, method="highs")
        if res.status == 2:
            return None
        out.append(sign * np.inf if res.status == 3 else -sign * res.fun)
    upper, lower = out[0], out[1]
    return lower, upper


def fast(model="twins", **kw):
    return bounds(model, prove=False, realize=False, **kw)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- the known facts ----------------------------------------------------------------------

def test_ade_model_determines_h2_from_the_two_twin_correlations():
    # with VA, VD, VE only: rMZ = a + d, rDZ = a/2 + d/4  =>  a = 4 rDZ - rMZ, d = rMZ - a
    r = bounds("twins", given={"rMZ": "0.62", "rDZ": "0.25"}, targets=["h2"],
               params={"max_order": 1})
    assert r.feasible
    (h2,) = r.bounds
    a = 4 * F(1, 4) - F(31, 50)
    assert h2.lower.value == h2.upper.value == a == F(19, 50)
    assert h2.lower.attained and h2.upper.attained
    assert h2.lower.witness == {"VA": a, "VD": F(31, 50) - a, "VE": 1 - F(31, 50)}
    assert h2.lower.certified == "certificate" and h2.lower.proof == "farkas"
    assert h2.upper.realization["confirmed"] is True
    assert h2.lower.approx == 0.38


def test_higher_orders_widen_the_range_exactly_as_an_independent_lp_says():
    given = {"rMZ": (F(3, 5),) * 2, "rDZ": (F(1, 4),) * 2}
    r = fast(given={"rMZ": "0.6", "rDZ": "0.25"}, targets=["h2", "s2", "phantom", "falconer"])
    for b in r.bounds:
        lo, hi = reference(4, given, b.target)
        assert abs(float(b.lower.value) - lo) < 1e-9 and abs(float(b.upper.value) - hi) < 1e-9
    h2 = r["h2"]
    assert h2.lower.value == F(2, 5)                 # h2 >= 4 rDZ - rMZ, attained
    assert h2.upper.value > F(2, 5) and str(float(h2.upper.value)).startswith("0.4992")
    k1 = fast(given={"rMZ": "0.6", "rDZ": "0.25"}, targets=["h2"], params={"max_order": 1})
    assert k1["h2"].lower.value == k1["h2"].upper.value == F(2, 5)


def test_more_relatives_narrow_the_range():
    wide = fast(given={"rMZ": "0.6", "rDZ": "0.25"}, targets=["h2"])["h2"]
    narrow = fast(given={"rMZ": "0.6", "rDZ": "0.25", "rPO": "0.21"}, targets=["h2"])["h2"]
    assert wide.lower.value <= narrow.lower.value <= narrow.upper.value <= wide.upper.value
    assert (narrow.lower.value, narrow.upper.value) != (wide.lower.value, wide.upper.value)
    lo, hi = reference(4, {"rMZ": (0.6, 0.6), "rDZ": (0.25, 0.25), "rPO": (0.21, 0.21)}, "h2")
    assert abs(float(narrow.lower.value) - lo) < 1e-9
    assert abs(float(narrow.upper.value) - hi) < 1e-9


def test_shared_environment_allows_rdz_above_half_rmz():
    r = fast(given={"rMZ": "0.62", "rDZ": "0.35"}, targets=["h2"],
             params={"shared_environment": True})
    h2 = r["h2"]
    assert (h2.lower.value, h2.upper.value) == (F(0), F(27, 50))
    assert h2.lower.attained and h2.upper.attained
    assert h2.upper.witness["VC"] == F(2, 25) and h2.upper.witness["VA"] == F(27, 50)


def test_without_shared_environment_the_same_values_are_impossible(capsys):
    code, out, err = run(capsys, "bounds", "twins", "h2", "--given", "rMZ=0.6",
                         "--given", "rDZ=0.4")
    assert code == 1
    assert ("no member of twins (max_order = 4, shared_environment = false, "
            "unique_environment = true) has these values: every member has rDZ <= rMZ/2, "
            "but the given values have rDZ > rMZ/2 (rMZ - 2*rDZ = -1/5); rDZ > rMZ/2 "
            "needs shared_environment = true") in out
    code, out, _ = run(capsys, "bounds", "twins", "h2", "--given", "rMZ=0.6",
                       "--given", "rDZ=0.4", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["feasible"] is False and doc["bounds"] == []
    assert doc["given"] == {"rMZ": ["3/5", "3/5"], "rDZ": ["2/5", "2/5"]}
    assert "rDZ > rMZ/2 needs shared_environment = true" in doc["reason"]
    assert reference(4, {"rMZ": (0.6, 0.6), "rDZ": (0.4, 0.4)}, "h2") is None


def test_a_statistic_out_of_its_own_range_and_a_higher_order_hint():
    r = fast(given={"rMZ": "1.2"}, targets=["h2"])
    assert not r.feasible and r.reason.endswith(
        "every member has rMZ <= 1, but the given value is rMZ = 6/5")
    r = fast(given={"rMZ": "0.6", "rDZ": "0.03"}, targets=["h2"], params={"max_order": 2})
    assert "every member has rDZ >= rMZ/16" in r.reason
    assert r.reason.endswith("rDZ < rMZ/16 needs max_order >= 3")


# --- the JSON contract and the command line ------------------------------------------------

def test_json_contract(capsys):
    code, out, _ = run(capsys, "bounds", "twins", "h2", "e2/H2", "--given", "rMZ=0.62±0.02",
                       "--given", "rDZ=1/4", "--json", "--no-prove")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {"model", "params", "given", "feasible", "bounds"}
    assert doc["model"] == "twins" and doc["feasible"] is True
    assert doc["params"] == {"max_order": 4, "shared_environment": False,
                             "unique_environment": True}
    assert doc["given"] == {"rMZ": ["3/5", "16/25"], "rDZ": ["1/4", "1/4"]}
    assert [b["target"] for b in doc["bounds"]] == ["h2", "e2/H2"]
    for b in doc["bounds"]:
        for side in ("lower", "upper"):
            assert set(b[side]) == {"value", "approx", "attained", "witness", "certificate"}
    h2 = doc["bounds"][0]
    assert h2["lower"]["value"] == "9/25" and h2["lower"]["approx"] == 0.36
    assert h2["lower"]["witness"]["VA"] == "9/25" and h2["lower"]["certificate"] is None
    ratio = doc["bounds"][1]
    assert F(ratio["upper"]["value"]) == (1 - F(3, 5)) / F(3, 5)   # e2/H2 = (1-rMZ)/rMZ here
    assert all(c["confirmed"] for c in doc["witness_checks"])


def test_unbounded_and_only_approached_ends(tmp_path, capsys):
    r = fast(targets=["e2/H2", "H2"])
    ratio, h2 = r["e2/H2"], r["H2"]
    assert ratio.upper.value is None and ratio.upper.approx is None and not ratio.upper.attained
    assert ratio.upper.to_json() == {"value": None, "approx": None, "attained": False,
                                     "witness": None, "certificate": None}
    assert h2.lower.value == 0 and not h2.lower.attained and h2.lower.witness is None
    # the approached end is certified strictly: nothing reaches it
    store = tmp_path / "certificates"
    r = bounds("twins", targets=["H2"], store=str(store), realize=False)
    cid = r["H2"].lower.certificate
    assert cid.startswith("bounds/twins/H2-lower-")
    doc = json.loads((store / (cid + ".json")).read_text())
    assert doc["claim"] == "H2 > 0" and doc["verdict"] == "valid" and doc["trust"] == "certificate"


def test_store_keeps_certificates_that_verify(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "bounds", "twins", "h2", "--given", "rMZ=0.62",
                       "--given", "rDZ=0.25", "--store", "store", "--json", "--no-realize")
    assert code == 0
    doc = json.loads(out)
    ids = [doc["bounds"][0][s]["certificate"] for s in ("lower", "upper")]
    assert all(i and i.startswith("bounds/twins/h2-") for i in ids)
    src = (tmp_path / "conjectures" / "bounds" / "twins" / (ids[1].split("/")[-1] + ".toml"))
    assert 'claim = "h2 <= 3169/6350"' in src.read_text()
    assert 'assume = ["rMZ == 31/50", "rDZ == 1/4"]' in src.read_text()
    before = (tmp_path / "store" / (ids[0] + ".json")).read_bytes()
    code, out, _ = run(capsys, "verify", "--store", "store")
    assert code == 0 and out.count(" pass ") == 2
    # a rerun reuses the certificates byte for byte
    run(capsys, "bounds", "twins", "h2", "--given", "rMZ=0.62", "--given", "rDZ=0.25",
        "--store", "store", "--no-realize")
    assert (tmp_path / "store" / (ids[0] + ".json")).read_bytes() == before


def test_human_output(capsys):
    code, out, _ = run(capsys, "bounds", "twins", "h2", "--given", "rMZ=0.62",
                       "--given", "rDZ=0.25", "--param", "max_order=1")
    assert code == 0
    assert "h2      19/50 ~ 0.38 (attained)  19/50 ~ 0.38 (attained)" in out
    assert "h2 lower = 19/50: attained by VA = 19/50, VD = 6/25, VE = 19/50; realized, " \
           "statistics agree; certified (farkas, trust certificate), not stored" in out


# --- SPECs and input errors -----------------------------------------------------------------

@pytest.mark.parametrize("spec, expected", [
    ("0.62", (F(31, 50), F(31, 50))), ("31/50", (F(31, 50), F(31, 50))),
    ("0.55..0.65", (F(11, 20), F(13, 20))), ("0.62±0.03", (F(59, 100), F(13, 20))),
    ("0.62+-0.03", (F(59, 100), F(13, 20))), (" 1/4 .. 3/10 ", (F(1, 4), F(3, 10))),
    ("-0.1", (F(-1, 10), F(-1, 10))), ("1e-2", (F(1, 100), F(1, 100))),
    (0.62, (F(31, 50), F(31, 50))), ((F(1, 5), "0.3"), (F(1, 5), F(3, 10))),
])
def test_spec(spec, expected):
    assert parse_spec(spec) == expected


@pytest.mark.parametrize("spec, message", [
    ("0.6x", "'0.6x' is not a SPEC: write an exact decimal or fraction"),
    ("0.7..0.6", "'0.7..0.6': the interval is empty (LO > HI)"),
    ("1/0", "'1/0': division by zero"),
    ("", "empty SPEC"),
    ("0.6±-0.1", "the half-width after ± must be >= 0"),
    ("__import__('os')", "is not a SPEC"),
])
def test_bad_spec(spec, message):
    with pytest.raises(InputError) as exc:
        parse_spec(spec)
    assert message in str(exc.value)


@pytest.mark.parametrize("argv, message", [
    (["h2", "--given", "rMZ=0.6x"], "error: --given 'rMZ=0.6x': '0.6x' is not a SPEC"),
    (["h2", "--given", "rMZ"], "error: --given 'rMZ': write STAT=SPEC"),
    (["h2", "--given", "rQZ=0.5"], "error: given 'rQZ': unknown name 'rQZ'; did you mean 'rMZ'?"),
    (["h2*s2"], "error: target 'h2*s2' is not a ratio of linear forms in the components"),
    (["VA"], "error: target 'VA' is not a ratio of linear forms"),
    (["h2", "--given", "c2=0.1"], "error: given 'c2': 'c2' is not available here: needs "
                                  "shared_environment = true"),
    (["h2", "--given", "rMZ=0.6", "--given", "rMZ=0.5"], "error: --given rMZ twice"),
    (["h2", "--param", "max_order=0"], "error: parameter 'max_order' = 0 is out of range"),
])
def test_input_errors_exit_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, "bounds", "twins", *argv)
    assert code == 2 and err.startswith(message) and err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("where", ["target", "given"])
def test_hostile_expression_is_parsed_never_run(capsys, tmp_path, where):
    sentinel = tmp_path / "ran"
    text = f"__import__('os').system('touch {sentinel}')"
    argv = [text] if where == "target" else ["h2", "--given", f"{text}=0.5"]
    code, _, err = run(capsys, "bounds", "twins", *argv)
    assert code == 2 and not sentinel.exists()
    assert err == f'error: {where} "{text}": unexpected character "\'"\n'


def test_unsupported_model_says_which_are(capsys):
    code, _, err = run(capsys, "bounds", "general", "r2", "--given", "s2=0.5")
    assert code == 2
    assert err.startswith("error: bounds supports twins, and multilinear with a finite "
                          "max_degree; model 'general'")


def test_multilinear_finite_degree():
    # V = 1: r2 = W1/2 + W2/4 + W3/8 = 3/10; s2 = W1 extreme at W2 or W3 only
    r = fast("multilinear", given={"r2": "0.3"}, targets=["s2"], params={"max_degree": 3})
    assert (r["s2"].lower.value, r["s2"].upper.value) == (F(1, 5), F(7, 15))


# --- tables ---------------------------------------------------------------------------------

def test_csv_table(tmp_path, capsys):
    table = tmp_path / "twins.csv"
    table.write_text("rMZ,rDZ\n0.62,0.25\n0.6±0.02,0.2..0.3\n\n0.6,0.4\n", encoding="utf-8")
    code, out, _ = run(capsys, "bounds", "twins", "h2", "--input", str(table), "--csv",
                       "--no-prove", "--no-realize")
    assert code == 1                    # one row has no member
    lines = out.splitlines()
    assert lines[0] == "rMZ,rDZ,h2_lower,h2_upper,feasible"
    assert lines[1] == "0.62,0.25,0.38,0.49905511811,true"
    assert lines[3] == "0.6,0.4,,,false"
    lo, hi = reference(4, {"rMZ": (0.58, 0.62), "rDZ": (0.2, 0.3)}, "h2")
    cells = lines[2].split(",")
    assert cells[:2] == ["0.6±0.02", "0.2..0.3"] and cells[-1] == "true"
    assert abs(float(cells[2]) - lo) < 1e-9 and abs(float(cells[3]) - hi) < 1e-9


def test_csv_errors_name_file_row_and_column(tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("rMZ,rDZ\n0.62,0.25\n0.6,abc\n", encoding="utf-8")
    code, _, err = run(capsys, "bounds", "twins", "h2", "--input", str(table))
    assert code == 2 and err.startswith(f"error: {table}:3:2: rDZ: 'abc' is not a SPEC")
    table.write_text("rMZ,rQZ\n0.62,0.25\n", encoding="utf-8")
    code, _, err = run(capsys, "bounds", "twins", "h2", "--input", str(table))
    assert code == 2 and err.startswith(f"error: {table}:1:2: column 'rQZ': unknown name")
    table.write_text("rMZ,rDZ\n0.62\n", encoding="utf-8")
    code, _, err = run(capsys, "bounds", "twins", "h2", "--input", str(table))
    assert code == 2 and err.startswith(f"error: {table}:2: 1 cells but the header has 2")


def test_table_that_is_not_a_regular_file_or_too_wide_is_refused_at_once(tmp_path, capsys,
                                                                          monkeypatch):
    import io
    import os
    import sys
    import time
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)                     # nobody writes to it: reading it would hang
    started = time.monotonic()
    code, _, err = run(capsys, "bounds", "twins", "h2", "--input", str(fifo))
    assert code == 2 and time.monotonic() - started < 5
    assert err.startswith(f"error: {fifo}: is a FIFO (named pipe)")
    assert "'-' to read standard input" in err
    wide = tmp_path / "wide.csv"
    wide.write_text("rMZ," + ",".join(f"x{k}" for k in range(100_000)) + "\n")
    started = time.monotonic()
    code, _, err = run(capsys, "bounds", "twins", "h2", "--input", str(wide))
    assert code == 2 and time.monotonic() - started < 5
    assert err.startswith(f"error: {wide}:1: 100001 columns: a table has at most 256")
    twice = tmp_path / "twice.csv"
    twice.write_text("rMZ,rDZ,rMZ\n0.6,0.3,0.6\n")
    code, _, err = run(capsys, "bounds", "twins", "h2", "--input", str(twice))
    assert code == 2 and err.startswith(f"error: {twice}:1:3: column 'rMZ' appears twice")
    # '-': standard input
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"rMZ,rDZ\n0.62,0.25\n")))
    code, out, _ = run(capsys, "bounds", "twins", "h2", "--input", "-", "--csv", "--no-prove",
                       "--no-realize")
    assert code == 0 and out.splitlines()[1] == "0.62,0.25,0.38,0.49905511811,true"


# --- the exact LP against floats on random problems ----------------------------------------

def test_random_queries_match_the_reference_lp():
    rng = random.Random(7)
    for _ in range(12):
        K = rng.choice([1, 2, 4])
        shared = rng.random() < 0.3
        given = {}
        for name in rng.sample(["rMZ", "rDZ", "rPO", "rHS"], rng.randint(1, 3)):
            lo = F(rng.randint(0, 60), 100)
            hi = lo + F(rng.choice([0, 0, 5, 20]), 100)
            given[name] = (lo, hi)
        target = rng.choice(["h2", "H2", "s2", "phantom"])
        r = fast(given=given, targets=[target], params={"max_order": K,
                                                        "shared_environment": shared})
        ref = reference(K, given, target, shared)
        if ref is None:
            assert not r.feasible, (K, shared, given, target)
            continue
        assert r.feasible, (K, shared, given, target, r.reason)
        b = r[target]
        for end, want in ((b.lower, ref[0]), (b.upper, ref[1])):
            if np.isinf(want):
                assert end.value is None
            else:
                assert abs(float(end.value) - want) < 1e-9, (K, shared, given, target)


def test_exact_simplex_certifies_its_answers():
    # max x + y s.t. x + 2y <= 4, 3x + y <= 6 (optimum 14/5 at (8/5, 6/5))
    r = maximize([1, 1], [[1, 2], [3, 1]], [4, 6])
    assert r.status == "optimal" and r.value == F(14, 5) and r.x == [F(8, 5), F(6, 5)]
    assert r.dual == [F(2, 5), F(1, 5)]
    assert maximize([1], [], [], [[1]], [-1]).status == "infeasible"
    assert maximize([1, 0], [[-1, 1]], [0]).status == "unbounded"


def test_progress_bar_on_a_terminal(tmp_path, capsys, monkeypatch):
    table = tmp_path / "t.csv"
    table.write_text("rMZ,rDZ\n0.62,0.25\n0.6,0.2\n0.5,0.2\n", encoding="utf-8")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run(capsys, "bounds", "twins", "h2", "--input", str(table),
                         "--no-prove", "--no-realize")
    assert code == 0 and len(out.splitlines()) == 4
    assert err.endswith("\r[" + "#" * 30 + "] 3/3 rows\n")
    assert "[" + "#" * 10 + "." * 20 + "] 1/3 rows" in err


def test_json_table(tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("rDZ\n0.25\n0.4\n", encoding="utf-8")
    code, out, _ = run(capsys, "bounds", "twins", "h2", "--input", str(table), "--given",
                       "rMZ=0.6", "--json", "--no-prove", "--no-realize")
    doc = json.loads(out)
    assert code == 1 and [r["feasible"] for r in doc["rows"]] == [True, False]
    assert doc["rows"][0]["given"] == {"rMZ": ["3/5", "3/5"], "rDZ": ["1/4", "1/4"]}
    assert doc["rows"][0]["bounds"][0]["lower"]["value"] == "2/5"


def test_store_default_is_none_for_bounds_only():
    from prover.cli import build_parser
    parser = build_parser()
    assert parser.parse_args(["bounds", "twins", "h2"]).store is None
    assert parser.parse_args(["bounds", "twins", "h2", "--store", "s"]).store == "s"
    for command in (["verify"], ["check"], ["list"]):
        assert parser.parse_args(command).store == "certificates"
