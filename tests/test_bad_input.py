"""Bad input through the command line: one clear error line per problem, exit 2, no
traceback, the rest of the batch still checked, the store left intact.

One solver run in all (the single good conjecture of the batch).
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from prover.cli import main

GOOD = 'model = "twins"\nclaim = "h2 <= 2*rDZ"\n[params]\nmax_order = 1\n'

# file name -> (content, expected message substring, expected "path:line:col" suffix or None)
BAD: dict[str, tuple[str | bytes, str, str | None]] = {
    "malformed.toml": ('model = "twins"\nclaim = "h2 <= 2*rDZ\n', "malformed TOML", ":2:"),
    "no-claim.toml": ('model = "twins"\n', "missing required key 'claim'", ":1:1"),
    "unknown-model.toml": ('model = "twin"\nclaim = "h2 <= 1"\n',
                           "unknown model 'twin'; did you mean 'twins'?", ":1:1"),
    "unknown-param.toml": ('model = "twins"\nclaim = "h2 <= 1"\n[params]\nmax_ordr = 2\n',
                           "unknown parameter 'max_ordr' for model 'twins'; "
                           "did you mean 'max_order'?", ":4:1"),
    "unknown-name.toml": ('model = "twins"\nclaim = "h2 <= 2*rDZZ"\n',
                          "unknown name 'rDZZ'; did you mean 'rDZ'?", ":2:18"),
    "unknown-key.toml": ('model = "twins"\nclaim = "h2 <= 1"\nasume = []\n',
                         "unknown key 'asume'; did you mean 'assume'?", ":3:1"),
    "param-type.toml": ('model = "twins"\nclaim = "h2 <= 1"\n[params]\nmax_order = true\n',
                        "parameter 'max_order' must be an integer", ":4:1"),
    "param-range.toml": ('model = "twins"\nclaim = "h2 <= 1"\n[params]\nmax_order = 13\n',
                         "parameter 'max_order' = 13 is out of range", ":4:1"),
    "div-zero.toml": ('model = "twins"\nclaim = "h2 <= 1/0"\n', "division by zero", ":2:18"),
    "empty-claim.toml": ('model = "twins"\nclaim = ""\n', "empty expression", ":2:10"),
    "long.toml": ('model = "twins"\nclaim = "h2 <= ' + "+".join(["h2"] * 4000) + '"\n',
                  "expression too long", ":2:"),
    "nested.toml": ('model = "twins"\nclaim = "h2 <= ' + "(" * 80 + "h2" + ")" * 80 + '"\n',
                    "nested too deeply", ":2:80"),
    "non-utf8.toml": (b'model = "twins"\nclaim = "h2 <= 1 # \xe9"\n', "not UTF-8", ":2:20"),
    "empty.toml": ("", "empty file", ":1:1"),
    "not-boolean.toml": ('model = "twins"\nclaim = "h2 + 1"\n', "expected a boolean claim",
                         ":2:10"),
    "assume-type.toml": ('model = "twins"\nclaim = "h2 <= 1"\nassume = 3\n',
                         "assume must be a list of strings", ":3:1"),
    "maybe.toml": ('model = "twins"\nclaim = "h2 <= 1"\nexpect = "maybe"\n',
                   'expect = "maybe" is not a verdict', ":3:1"),
    "timeout.toml": ('model = "twins"\nclaim = "h2 <= 1"\ntimeout = -1\n',
                     "timeout must be a number of seconds", ":3:1"),
    "dotdot.toml": ('id = "twins/../x"\nmodel = "twins"\nclaim = "h2 <= 1"\n',
                    "invalid id 'twins/../x'", ":1:1"),
    "c2.toml": ('model = "twins"\nclaim = "h2 + c2 <= 1"\n',
                "'c2' is not available here: needs shared_environment = true", ":2:15"),
    "dup-b.toml": ('id = "dup"\nmodel = "twins"\nclaim = "h2 <= 1"\n',
                   "duplicate id 'dup' (also used by ", ":1:1"),
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """A directory of bad files, one good one and one duplicate id, checked once."""
    root = tmp_path_factory.mktemp("bad")
    conj = root / "conjectures"
    conj.mkdir()
    for name, (content, _, _) in BAD.items():
        path = conj / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    (conj / "dup-a.toml").write_text('id = "dup"\nmodel = "twins"\nclaim = "h2 <= 2*rDZ"\n'
                                     '[params]\nmax_order = 1\n', encoding="utf-8")
    (conj / "x.toml").mkdir()                      # a directory named like a conjecture
    (conj / "good.toml").write_text(GOOD, encoding="utf-8")
    (root / "empty-dir").mkdir()
    store = root / "store"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", str(conj), str(conj / "x.toml"), str(root / "empty-dir"),
                     "--store", str(store)])
    return {"root": root, "conj": conj, "store": store, "code": code,
            "out": out.getvalue(), "err": err.getvalue()}


def error_line(batch, name: str) -> str:
    path = str(batch["conj"] / name)
    lines = [l for l in batch["err"].splitlines() if l.startswith(f"error: {path}")]
    assert len(lines) == 1, (name, batch["err"])
    return lines[0]


def test_batch_with_input_errors_exits_2_without_traceback(batch):
    assert batch["code"] == 2
    assert "Traceback" not in batch["err"] and "Traceback" not in batch["out"]
    errors = [l for l in batch["err"].splitlines() if l.startswith("error: ")]
    # every bad file, the directory named x.toml, the empty directory; nothing else
    assert len(errors) == len(BAD) + 2, batch["err"]


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_file_gives_one_located_error_line(batch, name):
    _, message, where = BAD[name]
    line = error_line(batch, name)
    assert message in line
    if where:
        assert line.startswith(f"error: {batch['conj'] / name}{where}"), line


def test_directories_that_are_not_conjectures(batch):
    assert f"error: {batch['conj'] / 'x.toml'}: is a directory, not a conjecture file" \
        in batch["err"]
    assert f"error: {batch['root'] / 'empty-dir'}: no conjecture files (*.toml) in this " \
           "directory" in batch["err"]


def test_the_good_files_of_the_batch_are_still_checked(batch):
    assert (batch["store"] / "good.json").is_file()
    assert (batch["store"] / "dup.json").is_file()      # the first file with the id
    assert "2 checked" in batch["out"] and f"{len(BAD) + 2} input errors" in batch["out"]
    stored = sorted(p.relative_to(batch["store"]).as_posix()
                    for p in batch["store"].rglob("*") if p.is_file())
    assert stored == ["dup.json", "good.json"]


def test_input_errors_leave_the_store_intact(batch, capsys):
    before = {p: p.read_bytes() for p in batch["store"].rglob("*") if p.is_file()}
    # the good file turned bad: its certificate must survive untouched
    bad_good = batch["root"] / "later" / "good.toml"
    bad_good.parent.mkdir()
    bad_good.write_text('id = "good"\nmodel = "twins"\nclaim = "h2 <= 2*rDZZ"\n')
    code, _, err = run(capsys, "check", str(bad_good), str(batch["conj"] / "malformed.toml"),
                       "--store", str(batch["store"]))
    assert code == 2 and err.count("error: ") == 2
    after = {p: p.read_bytes() for p in batch["store"].rglob("*") if p.is_file()}
    assert after == before
    code, out, _ = run(capsys, "verify", "--store", str(batch["store"]))
    assert code == 0, out


def test_json_output_lists_the_errors(batch, capsys):
    code, out, _ = run(capsys, "check", str(batch["conj"] / "maybe.toml"), "--json",
                       "--store", str(batch["store"]))
    assert code == 2
    doc = json.loads(out)
    assert doc["results"] == []
    assert len(doc["errors"]) == 1 and "is not a verdict" in doc["errors"][0]


@pytest.mark.parametrize("argv, message", [
    (["check", "--jobs", "0"], "error: --jobs must be at least 1"),
    (["check", "--timeout", "0"], "error: --timeout must be between 0 and 3600 seconds"),
    (["check", "--timeout", "-5"], "error: --timeout must be between 0 and 3600 seconds"),
    (["check", "--timeout", "nan"], "error: --timeout must be between 0 and 3600 seconds"),
    (["verify", "--jobs", "-1"], "error: --jobs must be at least 1"),
])
def test_bad_options_exit_2_with_a_message(tmp_path, capsys, argv, message):
    code, _, err = run(capsys, *argv, "--store", str(tmp_path / "store"))
    assert code == 2
    assert message in err
    assert not (tmp_path / "store").exists()


def test_unparseable_option_is_a_usage_error(tmp_path, capsys):
    code, _, err = run(capsys, "check", "--jobs", "many", "--store", str(tmp_path))
    assert code == 2 and "invalid int value: 'many'" in err


def test_missing_path(tmp_path, capsys):
    code, _, err = run(capsys, "check", str(tmp_path / "nowhere.toml"),
                       "--store", str(tmp_path / "store"))
    assert code == 2
    assert err.strip() == f"error: {tmp_path / 'nowhere.toml'}: no such file or directory"


def test_a_newline_in_a_file_name_cannot_fake_an_error_line(tmp_path, capsys):
    from prover.cli import main
    bad = tmp_path / "x.toml\nerror: all good.toml"
    bad.write_text('model = "twins"\nclaim = "h2 <=> 1"\n')
    code = main(["check", str(bad), "--store", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "x.toml\\nerror: all good.toml:" in lines[0], err
