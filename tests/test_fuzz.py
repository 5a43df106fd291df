"""Fuzzing that stays: random and mutated text thrown at the expression parser, the
conjecture loader and the certificate loader (and what reads a loaded certificate:
show, the list's shape check, verify). Only prover's own errors may escape, and each
example must finish within a time bound.

The examples are few (about 10 s in all); `python bench/fuzz.py` runs a long campaign
with the same mutations.
"""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prover import expr as E
from prover.conjecture import load
from prover.errors import InputError, MalformedCertificate, ProverError
from prover.show import render
from prover.store import DirectoryStore, MemoryStore, certificate_problem

REPO = Path(__file__).resolve().parent.parent
CLAIMS = [
    "h2 <= 2*rDZ", "4*rDZ - rMZ <= h2 <= 2*rDZ", "rDZ >= 0.45*rMZ implies s2 >= 0.9",
    "sqrt(VA) + abs(rDZ - 1/2) < max(h2, 2^-3, 1e-5)", "not (r2 > s2/2 or s2 == 1)",
    "((2^32)^32)^32 >= h2", "x^32 ** 2 < 1e299 / 7",
]
TOML = ('id = "fuzz/one"\ntitle = "t"\nmodel = "twins"\nclaim = "h2 <= 2*rDZ"\n'
        'assume = ["rMZ >= 1/2", "rDZ <= 0.3"]\nexpect = "valid"\ntimeout = 5\n'
        '[params]\nmax_order = 2\n')
CERTIFICATE = (REPO / "certificates" / "twins" / "h2-at-most-2rDZ.json").read_text("utf-8")
# bytes that matter to the grammars, and a few that should never appear
PIECES = ["(", ")", "^", "**", "*", "/", "+", "-", "<=", "==", ",", ".", "e", "E", "9" * 50,
          "1e299", "1e-299", " and ", " or ", " not ", " implies ", "sqrt(", "min(", "h2",
          "rDZ", "\u202e", "\x00", "\x1b[2J", "≤", '"', "'", "\n", "[", "]", "{", "}", "=",
          "#", "\\", "nan", "inf", "1e400", "[[params]]", "\xff"]
# bounds per example: generous for a shared, loaded machine, tiny beside a hang
PER_EXAMPLE = timedelta(seconds=3)


@st.composite
def mutated(draw, seeds: list[str]) -> str:
    """A seed text with a few random deletions, insertions, duplications and swaps."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 6))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 20)))
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "replace"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            piece = draw(st.one_of(st.sampled_from(PIECES), st.text(max_size=5)))
            text = text[:i] + piece + text[i:]
        elif op == "duplicate":
            text = text[:i] + text[i:j] * draw(st.integers(2, 40)) + text[j:]
        else:
            text = text[:i] + draw(st.sampled_from(PIECES)) + text[j:]
    return text


RANDOM_TEXT = st.lists(st.sampled_from(PIECES + list("abcxyz0123456789 ")),
                       max_size=60).map("".join)
FUZZ = settings(deadline=PER_EXAMPLE, max_examples=150, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.one_of(mutated(CLAIMS), RANDOM_TEXT, st.text(max_size=100)))
def test_parser_raises_only_expression_errors(text):
    for parse in (E.parse_formula, E.parse_term):
        try:
            tree = parse(text)
        except InputError as exc:
            assert isinstance(exc.offset, int) and 0 <= exc.offset <= len(text)
            continue
        # what parses prints canonically and parses back to itself
        assert parse(E.to_text(tree)) == tree


@settings(FUZZ, max_examples=100)
@given(st.one_of(mutated([TOML] + [TOML.replace("h2 <= 2*rDZ", c) for c in CLAIMS]),
                 st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_conjecture_loader_raises_only_input_errors(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        conj = load(path)
    except InputError as exc:
        assert exc.path == str(path)
        assert "Traceback" not in str(exc)
        return
    assert conj.sha256()            # what loads is a complete conjecture


@settings(FUZZ, max_examples=150)
@given(st.one_of(mutated([CERTIFICATE]), st.binary(max_size=300).map(
    lambda b: b.decode("latin-1"))))
def test_certificate_loader_raises_only_store_errors(tmp_path, text):
    store = DirectoryStore(tmp_path / "store")
    path = store.path_for("twins/h2-at-most-2rDZ")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        doc = store.fetch("twins/h2-at-most-2rDZ")
    except MalformedCertificate as exc:
        assert exc.reason and exc.path == str(path)
        return
    _reader_copes(doc)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10, 10 ** 30), st.floats(),
              st.sampled_from(["", "valid", "1/0", "-3/4", "9" * 5000, "kernel", "x"])),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.sampled_from(
                                   ["kind", "cases", "products", "atoms", "multiplier",
                                    "values", "name", "params", "x"]), children, max_size=3)),
    max_leaves=8)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


@st.composite
def reshaped(draw) -> dict:
    """The bundled certificate with a few of its parts replaced by random JSON values."""
    doc = json.loads(CERTIFICATE)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = draw(JSON_VALUES)
    doc["id"] = "twins/h2-at-most-2rDZ"
    return doc


def _reader_copes(doc: dict) -> None:
    """show, the listing's shape check and verify on ``doc``: answers, never crashes."""
    from prover.verify import verify_one

    problem = certificate_problem(doc)
    if problem is None:
        try:
            assert isinstance(render(doc), str)
        except MalformedCertificate as exc:
            assert exc.reason.startswith("cannot be shown")
    store = DirectoryStore(REPO / "certificates")
    with mock.patch("prover.solvers.solve", side_effect=AssertionError("no solver here")):
        try:
            report = verify_one(doc, store=store)
        except AssertionError:
            return              # would re-solve: out of scope for a quick fuzz
    assert report.status in ("pass", "failed", "stale", "malformed", "unchecked")
    if problem:
        assert report.status == "malformed"


@settings(FUZZ, max_examples=60)
@given(reshaped())
def test_reshaped_certificates_are_judged_not_crashed(doc):
    cwd = os.getcwd()
    os.chdir(REPO)          # the certificate's source is relative to the project
    try:
        start = time.perf_counter()
        _reader_copes(doc)
        assert time.perf_counter() - start < PER_EXAMPLE.total_seconds()
    finally:
        os.chdir(cwd)


def test_memory_and_directory_stores_judge_alike():
    # the same bytes through the in-memory twin: the same verdict on them
    store = MemoryStore()
    store._texts["x"] = '["not", "an", "object"]'
    try:
        store.fetch("x")
    except ProverError as exc:
        assert "not a JSON object (top level is an array)" in str(exc)
    else:
        raise AssertionError("a JSON list was accepted as a certificate")
