"""Control characters from files never reach the terminal raw: a title, claim or id from a
stranger cannot recolour, move the cursor or reorder what `show`, `list` and `check` print."""

from __future__ import annotations

import json

import pytest

from prover.cli import main, terminal_safe

# TOML escapes: ESC [2J (clear screen), a C1 CSI, a right-to-left override, BEL
HOSTILE_TITLE = r"pwn \u001b[2J\u009b31m\u202egnp.exe\u0007 done"


def test_terminal_safe_escapes_controls_but_keeps_layout():
    assert terminal_safe("a\x1b[31mb\x9bc\u202ed\x07e\tf\ng") == \
        "a\\x1b[31mb\\x9bc\\u202ed\\x07e\tf\ng"
    assert terminal_safe("h2 <= 2 * rDZ ≈ ½") == "h2 <= 2 * rDZ ≈ ½"


@pytest.fixture
def tree(tmp_path, monkeypatch):
    (tmp_path / "conjectures").mkdir()
    (tmp_path / "conjectures" / "evil.toml").write_text(
        f'title = "{HOSTILE_TITLE}"\nmodel = "twins"\nclaim = "h2 <= 2*rDZ"\n'
        '[params]\nmax_order = 1\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("command", [["show", "evil"], ["list"], ["check", "-v"]])
def test_no_raw_control_character_in_human_output(tree, capsys, command):
    assert main(["check", "-q"]) == 0
    capsys.readouterr()
    assert main(command) == 0
    out, err = capsys.readouterr()
    for text in (out, err):
        assert not any(ch in text for ch in "\x1b\x9b\u202e\x07"), repr(text)
    if command[0] == "show":
        assert "pwn \\x1b[2J\\x9b31m\\u202egnp.exe\\x07 done" in out


def test_json_output_keeps_the_exact_title(tree, capsys):
    assert main(["check", "-q"]) == 0
    capsys.readouterr()
    assert main(["show", "evil", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["title"] == "pwn \x1b[2J\x9b31m\u202egnp.exe\x07 done"
