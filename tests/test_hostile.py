"""A conjecture folder or a certificate store from a stranger: every hostile thing in it
is one clean error line (exit 2 for input, 1 for verify), nothing hangs, nothing is
written outside the store, and the good files around it are still checked.

Commands that could hang if a limit broke (FIFOs, /dev/zero) run in a subprocess with a
timeout, so a regression fails the test instead of stalling the suite. Three solver runs
in all (the good conjectures).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prover.cli import main

GOOD = 'model = "twins"\nclaim = "h2 <= 2*rDZ"\n[params]\nmax_order = 1\n'
REPO = Path(__file__).resolve().parent.parent
POSIX = os.name == "posix"


def claim(text: str, extra: str = "") -> str:
    return f'model = "twins"\nclaim = "{text}"\n{extra}'


# file name -> (content, message, "path:line:col" suffix or None)
HOSTILE_FILES: dict[str, tuple[str, str, str | None]] = {
    "power-tower.toml": (claim("((2^32)^32)^32 >= h2"),
                         "number too large: its value has 309 digits; exact numbers have at "
                         "most 300 digits in numerator and denominator", ":2:11"),
    "big-power.toml": (claim("(1e999)^5 >= h2"), "number too large: its value has 1000 digits",
                       ":2:11"),
    "big-product.toml": (claim("h2*1e400 >= 0"), "number too large: its value has 401 digits",
                         ":2:13"),
    "tiny.toml": (claim("h2 >= 1e-400"), "number too precise: its denominator has 401 digits",
                  ":2:16"),
    "quotient.toml": (claim("h2 <= 1e200/1e-200"), "number too large", ":2:16"),
    "degree.toml": (claim("VA^32*VA^32*VA >= 0"), "expression has polynomial degree above 64",
                    ":2:10"),
    "assumptions.toml": (claim("h2 <= 1", "assume = [" + ", ".join(['"h2 >= 0"'] * 101)
                               + "]\n"), "at most 100 assumptions", ":3:1"),
    "timeout-inf.toml": (claim("h2 <= 1", "timeout = inf\n"),
                         "timeout must be a number of seconds greater than 0 and at most 3600, "
                         "got inf", ":3:1"),
    "timeout-nan.toml": (claim("h2 <= 1", "timeout = nan\n"),
                         "timeout must be a number of seconds", ":3:1"),
    "CON.toml": (claim("h2 <= 1"), "'CON' is a device name reserved on Windows", None),
    "aux-id.toml": ('id = "x/Aux.v1"\n' + claim("h2 <= 1"),
                    "'Aux.v1' is a device name reserved on Windows", ":1:1"),
    "a.toml": (GOOD, "id 'a' differs from 'A' (used by ", None),
}


def run(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`prover ARGV` in a fresh interpreter, killed after ``timeout`` seconds."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "prover", *argv], capture_output=True,
                          text=True, timeout=timeout, env=env)


def tree_files(root: Path, skip: Path) -> set[str]:
    """Every path under ``root`` except inside ``skip``, without recursion (os.walk
    recurses, and the corpus holds a tree 1000 deep)."""
    out, stack = set(), [str(root)]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.path == str(skip):
                    continue
                out.add(entry.path)
                if entry.is_dir(follow_symlinks=False) and entry.path != str(skip):
                    stack.append(entry.path)
    return out


def remove_nested(top: Path, deepest: Path) -> None:
    """Remove the chain top/d/.../d bottom-up (shutil.rmtree recurses)."""
    for entry in os.scandir(deepest):
        os.unlink(entry.path)
    here = deepest
    while here != top.parent:
        os.rmdir(here)
        here = here.parent


def nested(root: Path, depth: int) -> Path:
    """root/d/d/.../d, ``depth`` levels deep (os.makedirs itself recurses)."""
    here = os.getcwd()
    root.mkdir()
    os.chdir(root)
    try:
        for _ in range(depth):
            os.mkdir("d")
            os.chdir("d")
        return Path(os.getcwd())
    finally:
        os.chdir(here)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A conjecture folder with every hostile kind of file, and two good ones, checked
    once in a subprocess."""
    root = tmp_path_factory.mktemp("hostile")
    conj = root / "conjectures"
    conj.mkdir()
    for name, (content, _, _) in HOSTILE_FILES.items():
        (conj / name).write_text(content, encoding="utf-8")
    (conj / "A.toml").write_text(GOOD, encoding="utf-8")
    (conj / "good.toml").write_text(GOOD, encoding="utf-8")
    specials = []
    if POSIX:
        os.symlink("/dev/zero", conj / "zero.toml")
        os.mkfifo(conj / "fifo.toml")
        os.symlink(root / "nowhere", conj / "dangling.toml")
        specials = ["zero.toml", "fifo.toml", "dangling.toml"]
    with open(conj / "sparse.toml", "wb") as fh:      # 2 GB, almost no disk
        fh.truncate(2 << 30)
    deep = nested(conj / "deep", 1000)
    (deep / "x.toml").write_text(GOOD, encoding="utf-8")
    store = root / "store"
    before = tree_files(root, store)
    start = time.perf_counter()
    proc = run("check", str(conj), "--store", str(store), timeout=300)
    yield {"root": root, "conj": conj, "store": store, "proc": proc, "before": before,
           "seconds": time.perf_counter() - start, "specials": specials,
           "deep": deep / "x.toml"}
    remove_nested(conj / "deep", deep)


def error_lines(corpus, path: Path) -> list[str]:
    return [l for l in corpus["proc"].stderr.splitlines() if l.startswith(f"error: {path}:")]


def test_hostile_batch_exits_2_without_traceback_in_bounded_time(corpus):
    proc = corpus["proc"]
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert corpus["seconds"] < 120
    errors = [l for l in proc.stderr.splitlines() if l.startswith("error: ")]
    # every hostile file, the specials, the sparse file and the deep one: nothing else
    assert len(errors) == len(HOSTILE_FILES) + len(corpus["specials"]) + 2, proc.stderr


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_each_hostile_file_is_one_located_error(corpus, name):
    _, message, where = HOSTILE_FILES[name]
    (line,) = error_lines(corpus, corpus["conj"] / name)
    assert message in line
    if where:
        assert line.startswith(f"error: {corpus['conj'] / name}{where}: "), line


@pytest.mark.skipif(not POSIX, reason="FIFOs and /dev/zero are POSIX")
@pytest.mark.parametrize("name, message", [
    ("zero.toml", "is a character device, not a regular file; only regular files are read"),
    ("fifo.toml", "is a FIFO (named pipe), not a regular file; only regular files are read"),
    ("dangling.toml", "is a symbolic link to nothing (dangling)"),
])
def test_special_files_are_refused_not_opened(corpus, name, message):
    (line,) = error_lines(corpus, corpus["conj"] / name)
    assert line == f"error: {corpus['conj'] / name}: {message}"


def test_a_sparse_2gb_file_is_refused_by_its_size(corpus):
    (line,) = error_lines(corpus, corpus["conj"] / "sparse.toml")
    assert line.endswith("file is 2147483648 bytes; the limit is 1048576 "
                         "(conjecture files are at most 1 MiB)")


def test_a_tree_1000_deep_is_walked_without_recursion_error(corpus):
    (line,) = error_lines(corpus, corpus["deep"])
    assert "RecursionError" not in corpus["proc"].stderr
    assert "(at most 200 characters)" in line          # its id, from the path, is too long


def test_the_good_files_are_checked_and_nothing_is_written_outside_the_store(corpus):
    store = corpus["store"]
    stored = sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file())
    assert stored == ["A.json", "good.json"]
    assert "2 checked" in corpus["proc"].stdout
    assert tree_files(corpus["root"], store) == corpus["before"]


def test_frontier_with_an_oversized_constant_is_an_input_error(capsys):
    code = main(["frontier", "twins", "h2*1e400", "s2", "--no-prove"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip() == ("error: X = 'h2*1e400': number too large: its value has 401 "
                           "digits; exact numbers have at most 300 digits in numerator and "
                           "denominator ('1e400')")


@pytest.mark.parametrize("epsilon, message", [
    ("1e99999999", "error: --epsilon '1e99999999': give a positive rational such as 1/16"),
    ("1e400", "error: --epsilon '1e400': number too large: its value has 401 digits"),
])
def test_frontier_epsilon_is_bounded(epsilon, message):
    proc = run("frontier", "twins", "rDZ", "s2", "--no-prove", "--epsilon", epsilon,
               timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith(message), proc.stderr


# --- the store ------------------------------------------------------------------------

def check(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.skipif(not POSIX, reason="symlinks")
def test_a_store_subdirectory_replaced_by_a_symlink_is_not_written_through(tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    store = tmp_path / "store"
    store.mkdir()
    os.symlink(outside, store / "twins")
    source = tmp_path / "c.toml"
    source.write_text('id = "twins/c"\n' + GOOD)
    code, _, err = check(capsys, "check", str(source), "--store", str(store))
    assert code == 2
    assert (f"error: cannot store twins/c: cannot save certificate 'twins/c': {store / 'twins'}"
            " is a symbolic link, where a directory of the id is expected; the store never "
            "follows links out of itself; remove or replace it") in err
    assert list(outside.iterdir()) == []


def test_store_below_a_file_is_one_line_with_the_fix(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    source = tmp_path / "c.toml"
    source.write_text(GOOD)
    code, _, err = check(capsys, "check", str(source), "--store", str(tmp_path / "file" / "s"))
    assert code == 2 and "Traceback" not in err
    assert f"cannot save certificate 'c' to {tmp_path / 'file' / 's' / 'c.json'}: " \
           "Not a directory; check the path" in err


@pytest.mark.skipif(not POSIX or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_store_is_one_line_with_the_fix(tmp_path, capsys):
    store = tmp_path / "store"
    store.mkdir()
    store.chmod(0o555)
    source = tmp_path / "c.toml"
    source.write_text(GOOD)
    try:
        code, _, err = check(capsys, "check", str(source), "--store", str(store))
    finally:
        store.chmod(0o755)
    assert code == 2
    assert "Permission denied; make the store writable or pass --store DIR" in err


def test_export_into_a_missing_folder_is_one_line_with_the_fix(tmp_path, capsys):
    source = tmp_path / "c.toml"
    source.write_text(GOOD)
    store = str(tmp_path / "store")
    assert check(capsys, "check", str(source), "--store", store)[0] == 0
    target = tmp_path / "missing" / "c.smt2"
    code, out, err = check(capsys, "export", "c", "--to", "smtlib", "-o", str(target),
                           "--store", store)
    assert code == 2 and out == ""
    assert err.strip() == (f"error: cannot write {target}: No such file or directory; the "
                           f"folder {tmp_path / 'missing'} does not exist; create it first")


def test_an_id_from_another_source_is_a_conflict_unless_forced(tmp_path, capsys):
    first, second = tmp_path / "one" / "x.toml", tmp_path / "two" / "y.toml"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text('id = "same"\n' + GOOD)
    store = tmp_path / "store"
    assert check(capsys, "check", str(first), "--store", str(store))[0] == 0
    before = (store / "same.json").read_bytes()
    code, _, err = check(capsys, "check", str(second), "--store", str(store))
    assert code == 2
    # the stored source is relative to the directory check ran in (no absolute paths)
    assert err.strip() == (f"error: {second}:1:1: id 'same' is already in the store for "
                           f"another source file, '{os.path.relpath(first)}'; its "
                           "certificate is left "
                           "untouched; give this file a distinct id = \"...\", or pass "
                           "--force to let it take over the id")
    assert (store / "same.json").read_bytes() == before
    # the same file named another way is the same source: no conflict, reused as is
    relative = os.path.relpath(first)
    assert check(capsys, "check", relative, "--store", str(store))[0] == 0
    code, _, _ = check(capsys, "check", str(second), "--store", str(store), "--force")
    assert code == 0
    assert json.loads((store / "same.json").read_text())["source"] == os.path.relpath(second)


def test_an_id_differing_only_in_case_from_a_stored_one_is_refused(tmp_path, capsys):
    store = tmp_path / "store"
    upper, lower = tmp_path / "Abc.toml", tmp_path / "lower" / "abc.toml"
    lower.parent.mkdir()
    upper.write_text(GOOD)
    lower.write_text(GOOD)
    assert check(capsys, "check", str(upper), "--store", str(store))[0] == 0
    code, _, err = check(capsys, "check", str(lower), "--store", str(store))
    assert code == 2
    assert "'Abc.json' is already in the store and differs from 'abc.json' only in case" \
        in err
    assert sorted(p.name for p in store.iterdir()) == ["Abc.json"]


# --- malformed certificates -------------------------------------------------------------

@pytest.fixture(scope="module")
def bad_store(tmp_path_factory):
    """A store holding one good certificate beside every malformed kind."""
    root = tmp_path_factory.mktemp("badstore")
    (root / "conjectures").mkdir()
    (root / "conjectures" / "good.toml").write_text(GOOD)
    store = root / "certificates"
    proc = run("check", str(root / "conjectures"), "--store", str(store))
    assert proc.returncode == 0, proc.stderr
    good = json.loads((store / "good.json").read_text())

    def put(name: str, content: str | bytes) -> None:
        data = content if isinstance(content, bytes) else content.encode()
        (store / f"{name}.json").write_bytes(data)

    def variant(name: str, **changes) -> None:
        doc = {**good, "id": name, **changes}
        doc = {k: v for k, v in doc.items() if v is not REMOVE}
        put(name, json.dumps(doc))

    put("a-list", "[1, 2, 3]")
    variant("ce-list", verdict="refuted", trust=None, proof=None,
            counterexample={"statistics": [1, 2], "values": "x"})
    variant("ce-bomb", verdict="refuted", trust=None, proof=None,     # Fraction() would hang
            counterexample={"statistics": {"rDZ": "1e999999999", "s2": "1e-999999999"}})
    variant("claim-number", claim=5)
    variant("long-source", source="x" * 5000 + ".toml")     # found by bench/fuzz.py
    variant("missing-key", verdict=REMOVE)
    variant("verdict-5", verdict=5)
    variant("model-list", model=["twins"])
    variant("deep", title="x", proof={"kind": "farkas", "cases": _deep(100)})
    variant("cases-wrong", proof={"kind": "farkas", "cases": [[1], "x"]})
    put("invalid", '{"id": "invalid", ')
    put("not-utf8", b'{"id": "not-utf8", "title": "\xff"}')
    put("nan", '{"id": "nan", "x": NaN}')
    # 2 MB, but a million values: parsed, 60 MB of these took 3 GB
    put("many-values", '{"id": "many-values", "x": [' + "{}," * 1_000_000 + '{}]}')
    with open(store / "huge.json", "wb") as fh:          # 65 MiB, sparse
        fh.truncate(65 << 20)
    if POSIX:
        os.mkfifo(root / "source-fifo.toml")
        # relative, as a store holds them (an absolute source is itself malformed):
        # verify finds them beside the store
        variant("fifo-source", source="source-fifo.toml")
        variant("zero-source", source=os.path.relpath("/dev/zero", root))
        os.mkfifo(store / "fifo.json")
        os.symlink("/dev/zero", store / "zero.json")
        os.symlink("/etc/passwd", store / "outside.json")
    return {"root": root, "store": store}


REMOVE = object()
MALFORMED = {
    "a-list": "not a JSON object (top level is an array)",
    # read into the certificate record (prover/record.py), which names the field
    "missing-key": "field 'verdict' is missing",
    "verdict-5": "field 'verdict' is the number 5; it must be one of 'valid', 'refuted', "
                 "'unknown'",
    "model-list": "field 'model' is a list, not an object",
    "deep": "nested more than 64 levels deep",
    "cases-wrong": None,      # the record holds; its proof payload is judged by verify
    "ce-list": "field 'counterexample.sides' is missing",
    "ce-bomb": "field 'counterexample.sides' is missing",
    "claim-number": "field 'claim' is the number 5, not a string",
    "invalid": "not valid JSON",
    "not-utf8": "not valid UTF-8",
    "nan": "not valid JSON: NaN is not allowed",
    "many-values": "holds more than 1,000,000 JSON values (2,000,005 commas, objects and "
                   "arrays; a certificate needs far fewer)",
    "huge": "file is 68157440 bytes; the limit is 67108864 (certificates are at most 64 MiB)",
}
if POSIX:
    MALFORMED.update({
        "fifo": "is a FIFO (named pipe), not a regular file",
        "zero": "is a symbolic link; the store never follows links",
        "outside": "is a symbolic link; the store never follows links",
    })


def _deep(n: int):
    value: object = "0"
    for _ in range(n):
        value = [value]
    return value


def test_verify_marks_each_malformed_certificate_and_passes_the_good_one(bad_store):
    proc = run("verify", "--store", str(bad_store["store"]), timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()
            and not line.startswith(tuple("0123456789"))}
    assert rows.pop("good").split()[1] == "pass"
    for name, reason in MALFORMED.items():
        line = rows.pop(name)
        if reason is None:      # well-shaped at the top: judged (here stale), not crashed
            assert line.split()[1] in ("failed", "stale", "malformed"), line
            continue
        assert line.split()[1] == "malformed", line
        assert reason in line, line
    assert rows.pop("long-source").split()[1:3] == ["stale", "source"]
    if POSIX:   # a source that is a FIFO or a device: refused, not opened
        assert rows.pop("fifo-source").split()[1:3] == ["stale", "source"]
        assert rows.pop("zero-source").split()[1:3] == ["stale", "source"]
        assert "is a FIFO (named pipe), not a regular file" in proc.stdout
        assert "is a character device, not a regular file" in proc.stdout
    assert rows == {}
    judged = sum(reason is None for reason in MALFORMED.values())
    assert f"{judged + (3 if POSIX else 1)} failed or stale, {len(MALFORMED) - judged} " \
           "malformed" in proc.stdout


def test_list_marks_malformed_rows_also_in_json(bad_store):
    proc = run("list", "--store", str(bad_store["store"]))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    verdicts = {l.split()[0]: l.split()[2] for l in proc.stdout.splitlines()[2:]}
    for name in ("fifo-source", "zero-source", "long-source"):
        assert verdicts.pop(name, "valid") == "valid"
    judged = {n for n, reason in MALFORMED.items() if reason is None}
    assert verdicts == {"good": "valid", "cases-wrong": "valid",
                        **{n: "malformed" for n in MALFORMED if n not in judged}}
    proc = run("list", "--json", "--store", str(bad_store["store"]))
    doc = json.loads(proc.stdout)
    marked = {c["id"]: c.get("problem") for c in doc["certificates"]
              if c["verdict"] == "malformed"}
    assert set(marked) == set(MALFORMED) - judged
    assert marked["verdict-5"] == MALFORMED["verdict-5"]


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_show_explains_a_malformed_certificate(bad_store, name):
    proc = run("show", name, "--store", str(bad_store["store"]), timeout=60)
    assert "Traceback" not in proc.stderr
    if name.startswith("ce-"):          # shown; the odd parts read as they are
        assert proc.returncode in (0, 2) and proc.stdout.startswith(name) or \
            "is malformed: " in proc.stderr
        return
    if MALFORMED[name] is None:
        assert proc.returncode == 2
        assert proc.stderr.startswith(f"error: certificate '{name}' is malformed: ")
        assert "cannot be shown: a field has the wrong type" in proc.stderr
        assert f"(`prover verify {name}` says what is wrong)" in proc.stderr
        return
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"error: certificate '{name}' is malformed: ")
    assert MALFORMED[name] in line
    assert line.endswith("re-run `prover check` on its source, or delete the file")


def test_site_builds_beside_malformed_certificates(bad_store, tmp_path):
    proc = run("site", "-o", str(tmp_path / "site"), "--no-plots",
               "--store", str(bad_store["store"]), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "site" / "cert" / "good.html").is_file()


def test_frontier_plot_beside_malformed_certificates(bad_store, tmp_path):
    proc = run("frontier", "twins", "rDZ", "s2", "--no-prove", "--plot",
               str(tmp_path / "f.svg"), "--store", str(bad_store["store"]), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "f.svg").read_text().startswith("<?xml")


@pytest.mark.parametrize("content", ["[]", '{"id": "c", "verdict": "valid"}'])
def test_check_replaces_a_malformed_certificate_of_its_own_id(tmp_path, capsys, content):
    source = tmp_path / "c.toml"
    source.write_text(GOOD)
    store = tmp_path / "store"
    store.mkdir()
    (store / "c.json").write_text(content)
    assert check(capsys, "check", str(source), "--store", str(store))[0] == 0
    assert json.loads((store / "c.json").read_text())["verdict"] == "valid"


@pytest.mark.parametrize("cert_id, message", [
    ("CON", "'CON' is a device name reserved on Windows"),
    ("x/nul.txt", "'nul.txt' is a device name reserved on Windows"),
    ("Com1", "'Com1' is a device name reserved on Windows"),
    ("lpt9/x", "'lpt9' is a device name reserved on Windows"),
    ("a./b", "segment 'a.' ends with '.', which Windows drops (it would collide with 'a')"),
])
def test_ids_that_windows_cannot_hold_are_refused(cert_id, message):
    from prover.errors import InputError
    from prover.store import validate_id

    with pytest.raises(InputError, match="invalid id") as caught:
        validate_id(cert_id)
    assert message in str(caught.value)
    for fine in ("console", "com10", "auxiliary/x", "prn-1"):
        assert validate_id(fine) == fine


def test_the_memory_store_refuses_case_twins_too():
    from prover.errors import StoreError
    from prover.store import MemoryStore

    store = MemoryStore()
    store.save({"id": "T/abc", "verdict": "valid"})
    store.save({"id": "T/abc", "verdict": "refuted"})          # the same id: replaced
    for twin in ("t/x", "T/ABC"):
        with pytest.raises(StoreError, match="only in case"):
            store.save({"id": twin, "verdict": "valid"})
    assert store.ids() == ["T/abc"]


def test_case_collisions_in_one_batch_name_both_ids():
    from prover.store import case_collisions

    assert case_collisions(["A", "a", "T/x", "t/y", "u/v", "u/w"]) == [("A", "a"),
                                                                          ("T/x", "t/y")]


def test_certificate_numbers_past_the_digit_limit_are_refused_cleanly():
    from prover.store import str_to_fraction

    assert str_to_fraction("-" + "7" * 4300) == -int("7" * 4300)
    with pytest.raises(ValueError, match="more than 4300 digits"):
        str_to_fraction("1/" + "9" * 4301)


def test_lone_surrogates_and_undecodable_names_are_shown_escaped(tmp_path):
    """A certificate whose JSON holds a lone surrogate ("\\ud800", valid JSON) and a store
    file whose name is not UTF-8: show, export and site write them as escapes; nothing
    crashes, and the site is complete."""
    (tmp_path / "conjectures").mkdir()
    (tmp_path / "conjectures/ok.toml").write_text('model = "twins"\nclaim = "h2 <= 2*rDZ"\n')
    store = tmp_path / "certificates"
    proc = run("check", str(tmp_path / "conjectures"), "--store", str(store))
    assert proc.returncode == 0, proc.stderr
    path = store / "ok.json"
    text = path.read_text()
    doc = json.loads(text)
    path.write_text(text.replace(json.dumps(doc["title"]), '"a \\ud800 title"'))
    assert json.loads(path.read_text())["title"] == "a \ud800 title"
    if sys.platform.startswith("linux"):
        os.link(path, os.fsencode(store) + b"/bad\xff.json")
    proc = run("show", "ok", "--store", str(store))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "ok — a \\ud800 title" in proc.stdout
    out = tmp_path / "ok.smt2"
    proc = run("export", "ok", "--to", "smtlib", "-o", str(out), "--store", str(store))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    proc = run("site", "-o", str(tmp_path / "site"), "--no-plots", "--store", str(store))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    page = (tmp_path / "site/cert/ok.html").read_text(encoding="utf-8")
    assert "a \\ud800 title" in page
    assert (tmp_path / "site/index.html").is_file()
