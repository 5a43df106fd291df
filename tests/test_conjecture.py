"""The conjecture loader: valid files become records, bad ones one located InputError.

No solver runs here: ``load`` parses, validates and encodes, nothing more.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from prover import expr as E
from prover.conjecture import Conjecture, could_be, default_id, discover, load
from prover.errors import InputError


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load_error(directory: Path, text: str | bytes, name: str = "c.toml") -> InputError:
    path = write(directory, name, text)
    with pytest.raises(InputError) as info:
        load(path)
    assert info.value.path == str(path)
    return info.value


def column_of(line: str, needle: str) -> int:
    """1-based column of ``needle`` in ``line``."""
    return line.index(needle) + 1


# --- what a good file gives ---------------------------------------------------------------

def test_full_file_loads_with_every_field(tmp_path):
    path = write(tmp_path, "conjectures/twins/pgs.toml", '''
id      = "twins/pgs"
title   = "A title"
model   = "twins"
claim   = "rDZ >= 0.45*rMZ implies s2 >= 0.8"
assume  = ["rMZ >= 1/2"]
expect  = "refuted"
timeout = 30
[params]
max_order = 2
''')
    conj = load(path)
    assert isinstance(conj, Conjecture)
    assert (conj.id, conj.title, conj.model, conj.expect, conj.timeout) == \
        ("twins/pgs", "A title", "twins", "refuted", 30.0)
    assert conj.params == {"max_order": 2, "shared_environment": False,
                           "unique_environment": True}
    assert E.to_text(conj.claim) == "rDZ >= 0.45 * rMZ implies s2 >= 0.8"
    assert [E.to_text(a) for a in conj.assume] == ["rMZ >= 1 / 2"]
    assert conj.explicit_id and conj.id_line == 2


def test_defaults_id_from_path_under_conjectures(tmp_path):
    path = write(tmp_path, "conjectures/twins/h2.toml", 'model = "twins"\nclaim = "h2 <= 2*rDZ"\n')
    conj = load(path)
    assert conj.id == "twins/h2"
    assert conj.expect == "valid" and conj.timeout is None and conj.assume == []
    assert not conj.explicit_id


def test_default_id_is_relative_to_the_root_given(tmp_path):
    path = write(tmp_path, "mine/sub/a.toml", "")
    assert default_id(path, tmp_path / "mine") == "sub/a"
    assert default_id(path, None) == "a"


def test_reformatting_keeps_the_conjecture_hash(tmp_path):
    a = load(write(tmp_path, "a.toml", 'model = "twins"\nclaim = "h2<=2*rDZ"\n'))
    b = load(write(tmp_path, "b.toml",
                   '# a comment\nclaim  =  "h2 <= 2 * rDZ"   # same claim\nmodel = "twins"\n'
                   '[params]\nmax_order = 4\n'))
    assert a.sha256() == b.sha256()
    c = load(write(tmp_path, "c.toml", 'model = "twins"\nclaim = "h2 <= 3*rDZ"\n'))
    assert c.sha256() != a.sha256()


def test_a_single_assume_string_is_a_list_of_one(tmp_path):
    conj = load(write(tmp_path, "c.toml",
                      'model = "twins"\nclaim = "h2 <= 2*rDZ"\nassume = "rMZ >= 1/2"\n'))
    assert len(conj.assume) == 1


def test_a_byte_order_mark_is_accepted(tmp_path):
    conj = load(write(tmp_path, "c.toml", b'\xef\xbb\xbfmodel = "twins"\nclaim = "h2 <= 1"\n'))
    assert conj.model == "twins"


def test_a_division_whose_divisor_can_be_zero_is_not_an_input_error(tmp_path):
    load(write(tmp_path, "c.toml", 'model = "twins"\nclaim = "h2/VD >= 0"\n'))


# --- the file itself ----------------------------------------------------------------------

def test_malformed_toml_gives_line_and_column(tmp_path):
    err = load_error(tmp_path, 'model = "twins"\nclaim = "h2 <= 2*rDZ\n')
    assert "malformed TOML" in err.message
    assert err.line == 2 and err.column is not None


def test_deeply_nested_toml_is_an_input_error_not_a_recursion_error(tmp_path):
    err = load_error(tmp_path, 'model = "twins"\nclaim = "h2 <= 1"\nx = '
                     + "[" * 5000 + "1" + "]" * 5000 + "\n")
    assert "nested too deeply" in err.message
    # located: the 100th bracket of line 3 (after 'x = ')
    assert (err.line, err.column) == (3, len("x = ") + 100)
    err = load_error(tmp_path, 'model = "twins"\nclaim = "h2 [ 1"\nassume = ["[" , '
                     + "{a = " * 3000 + "1" + "}" * 3000 + "]\n")
    assert "nested too deeply" in err.message and err.line == 3    # brackets in strings skipped


def test_non_utf8_file_points_at_the_bad_byte(tmp_path):
    err = load_error(tmp_path, b'model = "twins"\nclaim = "h2 <= 1 \xff"\n')
    assert "not UTF-8" in err.message and "0xff" in err.message
    assert (err.line, err.column) == (2, 18)


def test_empty_file(tmp_path):
    err = load_error(tmp_path, "  \n\n")
    assert err.message.startswith("empty file")
    assert (err.line, err.column) == (1, 1)


def test_directory_named_like_a_conjecture_file(tmp_path):
    (tmp_path / "x.toml").mkdir()
    with pytest.raises(InputError, match="is a directory, not a conjecture file"):
        load(tmp_path / "x.toml")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read file"):
        load(tmp_path / "absent.toml")


def test_too_large_file(tmp_path):
    err = load_error(tmp_path, 'model = "twins"\nclaim = "h2 <= 1"\n# ' + "x" * (1 << 20))
    assert "the limit is 1048576 (conjecture files are at most 1 MiB)" in err.message


# --- keys and their values ----------------------------------------------------------------

def test_missing_claim(tmp_path):
    err = load_error(tmp_path, 'model = "twins"\n')
    assert "missing required key 'claim'" in err.message


def test_missing_model_lists_the_models(tmp_path):
    err = load_error(tmp_path, 'claim = "h2 <= 1"\n')
    assert "missing required key 'model'" in err.message and "twins" in err.message


def test_unknown_model_suggests_the_nearest(tmp_path):
    err = load_error(tmp_path, 'claim = "h2 <= 1"\nmodel = "twin"\n')
    assert "unknown model 'twin'; did you mean 'twins'?" in err.message
    assert (err.line, err.column) == (2, 1)


def test_unknown_key_suggests_the_nearest(tmp_path):
    err = load_error(tmp_path, 'model = "twins"\nclaim = "h2 <= 1"\ntitel = "x"\n')
    assert "unknown key 'titel'; did you mean 'title'?" in err.message
    assert (err.line, err.column) == (3, 1)


def test_unknown_table_is_located_at_its_header(tmp_path):
    err = load_error(tmp_path, 'model = "twins"\nclaim = "h2 <= 1"\n\n[param]\nmax_order = 2\n')
    assert "unknown key 'param'; did you mean 'params'?" in err.message
    assert (err.line, err.column) == (4, 2)


@pytest.mark.parametrize("text, message", [
    ('claim = 3', "'claim' must be a string, got an integer 3"),
    ('claim = "h2 <= 1"\nexpect = "maybe"',
     'expect = "maybe" is not a verdict; use one of: valid, refuted, unknown'),
    ('claim = "h2 <= 1"\nexpect = true', "'expect' must be a string, got a boolean true"),
    ('claim = "h2 <= 1"\ntimeout = -1', "timeout must be a number of seconds greater than 0"),
    ('claim = "h2 <= 1"\ntimeout = 0', "got 0"),
    ('claim = "h2 <= 1"\ntimeout = "10"', 'got "10"'),
    ('claim = "h2 <= 1"\ntimeout = true', "got true"),
    ('claim = "h2 <= 1"\ntimeout = 7200', "at most 3600"),
    ('claim = "h2 <= 1"\nassume = 3', "assume must be a list of strings"),
    ('claim = "h2 <= 1"\nassume = ["h2 >= 0", 3]', "got an array holding an integer"),
    ('claim = "h2 <= 1"\nid = "a/../b"', "invalid id 'a/../b'"),
    ('claim = "h2 <= 1"\nid = ""', "invalid id ''"),
    ('claim = "h2 <= 1"\nid = "/abs"', "invalid id '/abs'"),
    ('claim = "h2 <= 1"\nparams = 3', "'params' must be a table"),
])
def test_bad_value_is_reported_at_its_key(tmp_path, text, message):
    err = load_error(tmp_path, 'model = "twins"\n' + text + "\n")
    assert message in err.message
    assert (err.line, err.column) == (len(text.splitlines()) + 1, 1)   # the key's line


def test_an_id_from_a_bad_file_name_says_how_to_fix_it(tmp_path):
    err = load_error(tmp_path, 'model = "twins"\nclaim = "h2 <= 1"\n', name="my file.toml")
    assert "invalid id 'my file'" in err.message and "rename the file" in err.message


# --- parameters ---------------------------------------------------------------------------

@pytest.mark.parametrize("param, message", [
    ("max_ordr = 2", "unknown parameter 'max_ordr' for model 'twins'; did you mean 'max_order'?"),
    ('max_order = "2"', "parameter 'max_order' must be an integer from 1 to 12"),
    ("max_order = 2.5", "parameter 'max_order' must be an integer"),
    ("max_order = 13", "parameter 'max_order' = 13 is out of range: allowed from 1 to 12"),
    ("max_order = 0", "is out of range"),
    ("shared_environment = 1", "parameter 'shared_environment' must be true or false"),
])
def test_bad_parameter_is_reported_at_its_line_under_params(tmp_path, param, message):
    err = load_error(tmp_path, f'model = "twins"\nclaim = "h2 <= 1"\n\n[params]\n'
                               f'unique_environment = true\n{param}\n')
    assert message in err.message
    assert (err.line, err.column) == (6, 1)


def test_bad_parameter_in_an_inline_table_points_into_that_line(tmp_path):
    line = 'params = { shared_environment = true, max_order = 99 }'
    err = load_error(tmp_path, f'model = "twins"\nclaim = "h2 <= 1"\n{line}\n')
    assert "out of range" in err.message
    assert (err.line, err.column) == (3, column_of(line, "max_order"))


# --- expressions --------------------------------------------------------------------------

CLAIM_LINE = 'claim = "{}"'


def claim_error(tmp_path, claim: str, extra: str = "") -> tuple[InputError, str]:
    line = CLAIM_LINE.format(claim)
    return load_error(tmp_path, f'model = "twins"\n{line}\n{extra}'), line


def test_unknown_name_suggests_the_nearest_and_points_at_it(tmp_path):
    err, line = claim_error(tmp_path, "h2 <= 2*rDZZ")
    assert err.message == "in claim: unknown name 'rDZZ'; did you mean 'rDZ'?"
    assert (err.line, err.column) == (2, column_of(line, "rDZZ"))


def test_unknown_name_in_the_second_assumption_points_at_it(tmp_path):
    text = ('model = "twins"\nclaim = "h2 <= 1"\nassume = [\n  "rMZ >= 0",\n'
            '  "rMZ >= rDZZ",\n]\n')
    err = load_error(tmp_path, text)
    assert "in assume: unknown name 'rDZZ'" in err.message
    assert (err.line, err.column) == (5, column_of('  "rMZ >= rDZZ",', "rDZZ"))


def test_error_in_a_multiline_claim_points_at_its_line(tmp_path):
    err = load_error(tmp_path, 'model = "twins"\nclaim = """\nh2 <=\n   2*rDZZ"""\n')
    assert "unknown name 'rDZZ'" in err.message
    assert (err.line, err.column) == (4, 6)


def test_c2_without_shared_environment_says_what_it_needs(tmp_path):
    err, line = claim_error(tmp_path, "h2 + c2 <= 1")
    assert "'c2' is not available here: needs shared_environment = true" in err.message
    assert (err.line, err.column) == (2, column_of(line, "c2"))


def test_c2_with_shared_environment_loads(tmp_path):
    path = write(tmp_path, "c.toml", 'model = "twins"\nclaim = "h2 + c2 <= 1"\n'
                                     '[params]\nshared_environment = true\n')
    assert load(path).params["shared_environment"] is True


def test_component_above_max_order_says_what_it_needs(tmp_path):
    err, _ = claim_error(tmp_path, "VAAD >= 0", "[params]\nmax_order = 2\n")
    assert "'VAAD' is not available here: needs max_order >= 3" in err.message


@pytest.mark.parametrize("claim, message, at", [
    ("h2 <= 1/0", "division by zero", "0"),
    ("h2 <= rDZ/(rMZ - rMZ)", "division by zero", "rMZ - rMZ"),
    ("h2^h2 <= 1", "an exponent must be an integer constant", "h2 <="),
    ("h2^40 <= 1", "exponent 40 is too large", "40"),
    ("(rMZ - rDZ)^8 <= 1", "expression too large", "(rMZ"),
])
def test_semantic_errors_are_located_in_the_claim(tmp_path, claim, message, at):
    err, line = claim_error(tmp_path, claim)
    assert message in err.message
    assert err.line == 2 and err.column == column_of(line, at)


def test_division_by_zero_in_an_assumption(tmp_path):
    line = 'assume = ["rMZ >= 1/(VD - VD)"]'
    err = load_error(tmp_path, f'model = "twins"\nclaim = "h2 <= 1"\n{line}\n')
    assert err.message == "in assume: division by zero"
    assert (err.line, err.column) == (3, column_of(line, "VD - VD"))


@pytest.mark.parametrize("claim, message", [
    ("", "empty expression"),
    ("   ", "empty expression"),
    ("h2 + 1", "expected a boolean claim"),
    ("h2 <=", "a comparison needs a right-hand side"),
    ("h2 = 1", "'=' is not a comparison; use '=='"),
    ("h2 ≤ 1", "use '<='"),
    ("foo(h2) <= 1", "unknown function 'foo'"),
])
def test_malformed_claims(tmp_path, claim, message):
    err, _ = claim_error(tmp_path, claim)
    assert message in err.message
    assert err.line == 2


def test_absurdly_long_claim(tmp_path):
    err, _ = claim_error(tmp_path, "h2 <= " + " + ".join(["h2"] * 6000))
    assert "expression too long" in err.message and err.line == 2


def test_deeply_nested_claim_points_at_the_first_paren_too_deep(tmp_path):
    err, line = claim_error(tmp_path, "h2 <= " + "(" * 100 + "h2" + ")" * 100)
    assert "nested too deeply" in err.message
    assert (err.line, err.column) == (2, column_of(line, "(") + 64)


# --- discovery ----------------------------------------------------------------------------

def test_discover_reports_empty_directories_and_missing_paths(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "x.toml").mkdir()
    found, errors = discover([str(tmp_path / "empty"), str(tmp_path / "x.toml"),
                              str(tmp_path / "absent")])
    assert found == []
    assert [e.message for e in errors] == ["no conjecture files (*.toml) in this directory",
                                           "is a directory, not a conjecture file",
                                           "no such file or directory"]


def test_discover_lists_a_file_once(tmp_path):
    path = write(tmp_path, "d/a.toml", "")
    write(tmp_path, "d/sub/b.toml", "")
    found, errors = discover([str(tmp_path / "d"), str(path), str(path)])
    assert errors == []
    assert [(f.relative_to(tmp_path).as_posix(), r) for f, r in found] == \
        [("d/a.toml", tmp_path / "d"), ("d/sub/b.toml", tmp_path / "d")]


def test_could_be_accepts_a_path_derived_id_from_any_root(tmp_path):
    path = write(tmp_path, "src/sub/a.toml", 'model = "twins"\nclaim = "h2 <= 1"\n')
    conj = load(path)                       # loaded on its own: id 'a'
    assert could_be(conj, "sub/a") and could_be(conj, "a")
    assert not could_be(conj, "other/a")
    explicit = load(write(tmp_path, "src/sub/b.toml",
                          'id = "x/b"\nmodel = "twins"\nclaim = "h2 <= 1"\n'))
    assert could_be(explicit, "x/b") and not could_be(explicit, "sub/b")


# --- the instance cache ---------------------------------------------------------------------

def test_instances_are_built_once_per_params_and_each_caller_gets_its_own(tmp_path):
    from prover import models
    twins = models.get("twins")
    one = load(write(tmp_path, "a.toml", 'model = "twins"\nclaim = "h2 <= 1"\n'))
    two = load(write(tmp_path, "b.toml", 'model = "twins"\nclaim = "h2 <= rMZ"\n'))
    a, b = one.instance(), two.instance()
    assert a is not b and a.statistics is b.statistics       # one build, two objects
    a.realize = None                                           # a caller's own change
    assert b.realize is not None and one.instance().realize is not None
    other = twins.instance({**one.params, "max_order": one.params["max_order"] + 1})
    assert other.statistics is not a.statistics
    assert set(other.statistics) >= set(a.statistics)
    fresh = twins.build(one.params)
    assert sorted(fresh.statistics) == sorted(a.statistics)
    assert fresh.constraints == a.constraints
