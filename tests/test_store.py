"""Certificate store: canonical text, atomic writes, bad entries reported, twin parity."""

from __future__ import annotations

import json
import os
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover import store_directory
from prover.errors import InputError, StoreError
from prover.store import (BadEntry, DirectoryStore, MemoryStore, Store, dumps,
                          fraction_to_str, str_to_fraction, validate_id)


def certificate(cert_id: str, **fields) -> dict:
    doc = {"format": 2, "id": cert_id, "verdict": "valid",
           "proof": {"kind": "farkas", "multipliers": ["1/2", "-3"]}}
    doc.update(fields)
    return doc


@pytest.fixture(params=["directory", "memory"])
def store(request, tmp_path) -> Store:
    if request.param == "directory":
        return DirectoryStore(tmp_path / "certificates")
    return MemoryStore()


def temp_files(root) -> list[str]:
    return [name for _dir, _dirs, files in os.walk(root) for name in files
            if name.endswith(".tmp")]


# --- round trip ---------------------------------------------------------------------

def test_round_trip_returns_equal_document(store):
    doc = certificate("twins/h2-at-most-2rDZ", note="héritabilité ≤ 2")
    store.save(doc)
    assert store.fetch("twins/h2-at-most-2rDZ") == doc


def test_fetch_returns_fresh_copy(store):
    store.save(certificate("a"))
    first = store.fetch("a")
    first["proof"]["kind"] = "tampered"
    assert store.fetch("a")["proof"]["kind"] == "farkas"


def test_save_does_not_keep_reference_to_callers_dict(store):
    doc = certificate("a")
    store.save(doc)
    doc["verdict"] = "refuted"
    assert store.fetch("a")["verdict"] == "valid"


def test_fetch_absent_is_none(store):
    assert store.fetch("nothing/here") is None


def test_save_replaces_previous_version(store):
    store.save(certificate("a", verdict="unknown"))
    store.save(certificate("a", verdict="valid"))
    assert store.fetch("a")["verdict"] == "valid"
    assert store.ids() == ["a"]


def test_nested_ids_make_directories(tmp_path):
    root = tmp_path / "certificates"
    directory_store = DirectoryStore(root)
    assert not root.exists()  # created lazily
    directory_store.save(certificate("twins/deep/h2-at-most-2rDZ"))
    assert (root / "twins" / "deep" / "h2-at-most-2rDZ.json").is_file()
    assert directory_store.fetch("twins/deep/h2-at-most-2rDZ")["id"] == \
        "twins/deep/h2-at-most-2rDZ"


def test_ids_are_sorted_and_include_nested(store):
    for cert_id in ["b", "a/z", "a/b/c", "a-1", "A"]:
        store.save(certificate(cert_id))
    assert store.ids() == sorted(["b", "a/z", "a/b/c", "a-1", "A"])


def test_delete_reports_whether_it_existed(store):
    store.save(certificate("x/y"))
    assert store.delete("x/y") is True
    assert store.delete("x/y") is False
    assert store.fetch("x/y") is None
    assert store.ids() == []


def test_empty_store(store):
    assert store.ids() == []
    assert list(store.entries()) == []


# --- canonical text -----------------------------------------------------------------

def test_file_text_is_sorted_indented_with_trailing_newline(tmp_path):
    directory_store = DirectoryStore(tmp_path)
    directory_store.save({"id": "t", "zeta": [1, "½"], "alpha": {"b": None, "a": True}})
    text = (tmp_path / "t.json").read_text(encoding="utf-8")
    assert text == (
        "{\n"
        '  "alpha": {\n'
        '    "a": true,\n'
        '    "b": null\n'
        "  },\n"
        '  "id": "t",\n'
        '  "zeta": [\n'
        "    1,\n"
        '    "½"\n'
        "  ]\n"
        "}\n"
    )
    assert (tmp_path / "t.json").read_bytes() == text.encode("utf-8")  # no \r\n


# JSON documents of every kind dumps writes: strings with escapes, controls and
# non-ASCII, big and negative ints, floats (not NaN/inf), nested lists, tuples and dicts
_JSON_LEAVES = (st.none() | st.booleans() | st.integers(min_value=-10**30, max_value=10**30)
                | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12))
_JSON_VALUES = st.recursive(
    _JSON_LEAVES,
    lambda inner: (st.lists(inner, max_size=5) | st.lists(inner, max_size=3).map(tuple)
                   | st.dictionaries(st.text(max_size=6), inner, max_size=5)),
    max_leaves=40)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _JSON_VALUES, max_size=6))
def test_dumps_is_byte_for_byte_json_dumps_canonical_form(doc):
    # the store's text is defined as json's canonical form; dumps writes it faster
    assert dumps(doc) == json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False,
                                    allow_nan=False) + "\n"


def test_dumps_refuses_what_json_cannot_represent_naming_it():
    with pytest.raises(InputError, match="key 1 at \\$.a.b\\[1\\] is a int; keys must be "
                       "strings"):
        dumps({"id": "a", "a": {"b": [0, {1: "x"}]}})
    with pytest.raises(InputError, match="key None at \\$ is a NoneType"):
        dumps({"id": "a", None: 1})
    with pytest.raises(InputError, match="Object of type set is not JSON serializable"):
        dumps({"id": "a", "x": [{1, 2}]})
    with pytest.raises(InputError, match="nested too deeply"):
        deep: list = []
        for _ in range(100_000):
            deep = [deep]
        dumps({"id": "a", "x": deep})
    with pytest.raises(InputError, match="cannot be stored as JSON"):
        dumps({"id": "a", "x": "\ud800"})          # a lone surrogate


def test_dumps_matches_file_text(tmp_path):
    doc = certificate("a")
    DirectoryStore(tmp_path).save(doc)
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == dumps(doc)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_dumps_refuses_non_finite_floats(value):
    with pytest.raises(ValueError, match="cannot be stored as JSON"):
        dumps({"id": "a", "x": value})


def test_dumps_refuses_fraction_with_hint():
    with pytest.raises(InputError, match="fraction_to_str"):
        dumps({"id": "a", "x": Fraction(1, 3)})


def test_dumps_refuses_non_string_keys():
    with pytest.raises(InputError, match=r"key 1 at \$\.values is a int"):
        dumps({"id": "a", "values": {1: "a", "1": "b"}})


def test_refused_document_leaves_no_trace(tmp_path):
    directory_store = DirectoryStore(tmp_path / "c")
    directory_store.save(certificate("a", x="old"))
    with pytest.raises(InputError):
        directory_store.save(certificate("a", x=float("nan")))
    assert directory_store.fetch("a")["x"] == "old"
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("doc, message", [
    ({"format": 2}, "needs an 'id' field"),
    (["id", "a"], "must be a dict"),
    ({"id": "../escape"}, "invalid id '../escape'"),
    ({"id": 7}, "invalid id 7"),
])
def test_save_rejects_documents_without_valid_id(store, doc, message):
    with pytest.raises(InputError, match=message):
        store.save(doc)
    assert store.ids() == []


# --- atomicity ----------------------------------------------------------------------

def test_failed_replace_keeps_old_file_and_cleans_temp(tmp_path, monkeypatch):
    root = tmp_path / "c"
    directory_store = DirectoryStore(root)
    directory_store.save(certificate("twins/a", verdict="valid"))
    before = (root / "twins" / "a.json").read_bytes()

    def broken_replace(src, dst, **_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_directory.os, "replace", broken_replace)
    with pytest.raises(StoreError) as caught:
        directory_store.save(certificate("twins/a", verdict="refuted"))
    assert str(root / "twins" / "a.json") in str(caught.value)
    assert "No space left on device" in str(caught.value)
    assert (root / "twins" / "a.json").read_bytes() == before
    assert temp_files(root) == []


def test_failed_fsync_cleans_temp_and_creates_nothing(tmp_path, monkeypatch):
    root = tmp_path / "c"
    directory_store = DirectoryStore(root)

    def broken_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store_directory.os, "fsync", broken_fsync)
    with pytest.raises(StoreError, match="Input/output error"):
        directory_store.save(certificate("new"))
    monkeypatch.undo()
    assert directory_store.fetch("new") is None
    assert temp_files(root) == []


@pytest.mark.skipif(not store_directory._DIR_FD or not os.path.isdir("/proc/self/fd"),
                    reason="needs directory descriptors and /proc")
def test_a_batch_fsyncs_every_file_before_its_rename_and_each_directory_once(
        tmp_path, monkeypatch):
    root = tmp_path / "c"
    directory_store = DirectoryStore(root)
    directory_store.save(certificate("twins/old"))
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd):
        target = os.readlink(f"/proc/self/fd/{fd}")
        synced.append(os.path.relpath(target, root))
        real_fsync(fd)

    monkeypatch.setattr(store_directory.os, "fsync", fsync)
    directory_store.save(certificate("twins/alone"))
    assert len(synced) == 2 and synced[0].startswith("twins/.alone.")  # the file,
    assert synced[1] == "twins"                                         # its directory
    synced.clear()
    with directory_store.batch():
        for name in ("twins/a", "twins/b", "puzzle/c", "d"):
            directory_store.save(certificate(name))
            # whole and in place at once: the rename is not deferred, only its fsync
            assert directory_store.fetch(name)["id"] == name
        files = list(synced)
    assert len(files) == 4 and all(p.endswith(".tmp") for p in files)
    assert sorted(synced[4:]) == [".", "puzzle", "twins"]    # each directory, once
    assert temp_files(root) == []


@pytest.mark.skipif(not store_directory._DIR_FD, reason="needs directory descriptors")
def test_a_batch_lists_each_directory_once_and_still_refuses_case_twins(tmp_path,
                                                                       monkeypatch):
    directory_store = DirectoryStore(tmp_path)
    directory_store.save(certificate("twins/Old"))
    listed = []
    real_listdir = os.listdir

    def listdir(path="."):
        listed.append(path)
        return real_listdir(path)

    monkeypatch.setattr(store_directory.os, "listdir", listdir)
    with directory_store.batch():
        for k in range(20):
            directory_store.save(certificate(f"twins/c{k}"))
        with pytest.raises(StoreError, match="'Old.json' is already in the store and "
                           "differs from 'old.json' only in case"):
            directory_store.save(certificate("twins/old"))         # there before
        with pytest.raises(StoreError, match="'c7.json' is already in the store and "
                           "differs from 'C7.json' only in case"):
            directory_store.save(certificate("twins/C7"))          # saved in the batch
        directory_store.save(certificate("twins/c7"))              # the same name: fine
    assert len(listed) == 1                                         # one listing
    assert sorted(directory_store.ids()) == sorted(
        ["twins/Old"] + [f"twins/c{k}" for k in range(20)])
    with pytest.raises(StoreError, match="differs from 'C7.json' only in case"):
        directory_store.save(certificate("twins/C7"))              # outside, a scan


def test_interrupt_during_write_cleans_temp(tmp_path, monkeypatch):
    root = tmp_path / "c"
    directory_store = DirectoryStore(root)

    def interrupted(src, dst, **_):
        raise KeyboardInterrupt

    monkeypatch.setattr(store_directory.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        directory_store.save(certificate("a"))
    assert temp_files(root) == []


def test_unwritable_location_is_store_error_with_path(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    (root / "twins").write_text("a file where a directory is needed")
    with pytest.raises(StoreError, match="twins"):
        DirectoryStore(root).save(certificate("twins/a"))


def test_store_error_is_an_os_error(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    (root / "x").write_text("")
    with pytest.raises(OSError):
        DirectoryStore(root).save(certificate("x/y"))


def test_temp_and_foreign_files_are_ignored(tmp_path):
    directory_store = DirectoryStore(tmp_path)
    directory_store.save(certificate("a"))
    (tmp_path / ".a.json.abc123.tmp").write_text("partial")
    (tmp_path / ".hidden.json").write_text("{")
    (tmp_path / "README.md").write_text("notes")
    (tmp_path / "b.json.bak").write_text("{")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "c.json").write_text("{")
    assert directory_store.ids() == ["a"]
    assert [cert_id for cert_id, _ in directory_store.entries()] == ["a"]


def test_saved_file_is_world_readable(tmp_path):
    DirectoryStore(tmp_path).save(certificate("a"))
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644


# --- ids ----------------------------------------------------------------------------

@pytest.mark.parametrize("bad_id", [
    "../x", "/abs", "a//b", "", "a/..", "a b", "a/", ".hidden", "a/.b", "..",
    "-dash", "a\\b", "a\nb", "é", "x" * 201, None, 3,
])
def test_invalid_ids_rejected(store, bad_id):
    with pytest.raises(InputError, match="invalid id") as caught:
        store.fetch(bad_id)
    assert "ids are segments of letters, digits, '.', '_' or '-' joined by '/'" in \
        str(caught.value)
    with pytest.raises(InputError):
        store.delete(bad_id)
    with pytest.raises(InputError):
        store.save({"id": bad_id})


def test_invalid_id_message_names_the_id():
    with pytest.raises(InputError, match=r"^invalid id '\.\./x': ids are segments"):
        validate_id("../x")


@pytest.mark.parametrize("good_id", [
    "a", "twins/h2-at-most-2rDZ", "A.b_c-d/9", "v1.2/x..y", "x" * 200,
])
def test_valid_ids_accepted(good_id):
    assert validate_id(good_id) == good_id


def test_too_long_id_message_says_the_limit():
    with pytest.raises(InputError, match=r"joined by '/' \(at most 200 characters\)$"):
        validate_id("x" * 201)


def test_id_trailing_newline_rejected():
    # '$' in a regex would accept it; the id would then name a different file.
    with pytest.raises(InputError):
        validate_id("a\n")


# --- corrupted entries --------------------------------------------------------------

CORRUPTIONS = {
    "garbage": (b"\x00\x01garbage{", "not valid JSON"),
    "empty": (b"", "not valid JSON: Expecting value at line 1 column 1"),
    "truncated": (b'{"id": "bad", "format"', "not valid JSON"),
    "non_utf8": (b'{"id": "bad", "x": "\xff\xfe"}', "not valid UTF-8"),
    "array": (b'["id", "bad"]', "not a JSON object (top level is an array)"),
    "mismatch": (b'{"id": "other"}', "id inside is 'other' but the file is for 'bad'"),
    "no_id": (b'{"format": 2}', "has no 'id' field"),
    "nan": (b'{"id": "bad", "x": NaN}', "not valid JSON: NaN is not allowed"),
    "duplicate": (b'{"id": "bad", "id": "bad"}', "duplicate key 'id'"),
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupted_entry_is_reported_and_others_still_come(tmp_path, kind):
    content, reason = CORRUPTIONS[kind]
    directory_store = DirectoryStore(tmp_path)
    directory_store.save(certificate("a"))
    directory_store.save(certificate("z/z"))
    (tmp_path / "bad.json").write_bytes(content)

    entries = list(directory_store.entries())

    assert [cert_id for cert_id, _ in entries] == ["a", "bad", "z/z"]
    assert entries[0][1] == certificate("a")
    assert entries[2][1] == certificate("z/z")
    bad = entries[1][1]
    assert isinstance(bad, BadEntry)
    assert bad.id == "bad"
    assert bad.path == str(tmp_path / "bad.json")
    assert reason in bad.reason
    assert directory_store.ids() == ["a", "bad", "z/z"]
    with pytest.raises(StoreError, match="cannot read certificate 'bad'") as caught:
        directory_store.fetch("bad")
    assert reason in str(caught.value)
    assert str(tmp_path / "bad.json") in str(caught.value)


def test_empty_file_reason_exactly(tmp_path):
    (tmp_path / "e.json").write_bytes(b"")
    [(_, bad)] = DirectoryStore(tmp_path).entries()
    assert bad.reason == "not valid JSON: Expecting value at line 1 column 1"


def test_misnamed_json_file_is_reported_not_hidden(tmp_path):
    directory_store = DirectoryStore(tmp_path)
    directory_store.save(certificate("a"))
    (tmp_path / "my cert.json").write_text('{"id": "my cert"}')
    entries = dict(directory_store.entries())
    assert entries["a"] == certificate("a")
    assert isinstance(entries["my cert"], BadEntry)
    assert "file name is not a valid id" in entries["my cert"].reason
    assert directory_store.ids() == ["a"]  # ids() lists only fetchable ids


def test_directory_named_like_entry_is_reported(tmp_path):
    directory_store = DirectoryStore(tmp_path)
    (tmp_path / "d.json").mkdir()
    (tmp_path / "d.json" / "inner.json").write_text('{"id": "d.json/inner"}')
    assert directory_store.ids() == ["d.json/inner"]
    with pytest.raises(StoreError):
        directory_store.fetch("d")  # a directory is not absence
    assert directory_store.fetch("d.json/inner") == {"id": "d.json/inner"}


def test_file_in_place_of_directory_means_absent(tmp_path):
    (tmp_path / "a").write_text("")
    assert DirectoryStore(tmp_path).fetch("a/b") is None
    assert DirectoryStore(tmp_path).delete("a/b") is False


def test_hand_written_certificate_is_readable(tmp_path):
    # Formatting is canonical on write, but any valid JSON object with the right id reads.
    (tmp_path / "h.json").write_text('{"verdict":"valid","id":"h"}')
    assert DirectoryStore(tmp_path).fetch("h") == {"verdict": "valid", "id": "h"}


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs POSIX permissions and a non-root user")
def test_unlistable_directory(tmp_path):
    directory_store = DirectoryStore(tmp_path)
    directory_store.save(certificate("a"))
    directory_store.save(certificate("locked/b"))
    (tmp_path / "locked").chmod(0)
    try:
        entries = list(directory_store.entries())
        with pytest.raises(StoreError, match="cannot list"):
            directory_store.ids()
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert entries[0] == ("a", certificate("a"))
    assert isinstance(entries[1][1], BadEntry)
    assert entries[1][0] == "locked"
    assert "cannot list directory" in entries[1][1].reason


def test_memory_store_reports_corruption_like_directory_store():
    memory_store = MemoryStore()
    memory_store.save(certificate("a"))
    memory_store._texts["bad"] = '["id"]'
    [(_, good), (_, bad)] = memory_store.entries()
    assert good == certificate("a")
    assert bad == BadEntry("bad", "<memory>/bad.json",
                           "not a JSON object (top level is an array)")
    with pytest.raises(StoreError, match="not a JSON object"):
        memory_store.fetch("bad")


# --- twin parity --------------------------------------------------------------------

def run_script(store: Store) -> list:
    """The same sequence of operations; the log of outcomes must not depend on the store."""
    log: list = []

    def attempt(operation, *args):
        try:
            log.append(("ok", operation(*args)))
        except Exception as exc:  # noqa: BLE001 - the type and text are what we compare
            log.append((type(exc).__name__, str(exc)))

    attempt(store.save, certificate("twins/h2", verdict="valid"))
    attempt(store.save, certificate("twins/h2", verdict="refuted"))
    attempt(store.save, certificate("a/b/c", values={"x": "1/3"}))
    attempt(store.save, certificate("b", x=float("nan")))
    attempt(store.save, certificate("c", x=Fraction(1, 3)))
    attempt(store.save, {"id": "../up"})
    attempt(store.save, {"no": "id"})
    attempt(store.save, certificate("z", text="ünïcode ✓"))
    attempt(store.fetch, "twins/h2")
    attempt(store.fetch, "missing")
    attempt(store.fetch, "a//b")
    attempt(store.ids)
    attempt(store.delete, "z")
    attempt(store.delete, "z")
    attempt(store.ids)
    attempt(lambda: list(store.entries()))
    return log


def test_memory_and_directory_stores_agree(tmp_path):
    directory_log = run_script(DirectoryStore(tmp_path / "c"))
    memory_log = run_script(MemoryStore())
    assert directory_log == memory_log
    assert directory_log[-2] == ("ok", ["a/b/c", "twins/h2"])
    assert ("InputError", "certificate cannot be stored as JSON: Out of range float "
            "values are not JSON compliant: nan") in directory_log


# --- exact numbers ------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (Fraction(3), "3"), (Fraction(-3, 4), "-3/4"), (Fraction(6, 8), "3/4"),
    (Fraction(0), "0"), (Fraction(10**40 + 1, 7), f"{10**40 + 1}/7"), (5, "5"),
])
def test_fraction_text_round_trip(value, text):
    assert fraction_to_str(value) == text
    assert str_to_fraction(text) == value
    assert isinstance(str_to_fraction(text), Fraction)


@pytest.mark.parametrize("text, value", [
    ("6/8", Fraction(3, 4)), ("-0", Fraction(0)), ("007", Fraction(7)),
    ("0/5", Fraction(0)),
])
def test_str_to_fraction_accepts_unreduced_forms(text, value):
    assert str_to_fraction(text) == value


@pytest.mark.parametrize("text", [
    "1/0", "-4/00", "1.5", "2**3", " 1", "1 ", "", "-", "+1", "1/-2", "1/2/3", "1e3",
    "0x10", "1_000", "٣", "__import__('os')", None, 3,
])
def test_str_to_fraction_rejects(text):
    with pytest.raises(ValueError):
        str_to_fraction(text)


def test_str_to_fraction_message_says_what_is_valid():
    with pytest.raises(ValueError, match=r"invalid exact number '1\.5': expected an "
                                         r"integer like '3' or a fraction like '-3/4'"):
        str_to_fraction("1.5")
    with pytest.raises(ValueError, match="denominator is zero"):
        str_to_fraction("1/0")


@pytest.mark.parametrize("value", [0.5, True, "1/2", None])
def test_fraction_to_str_refuses_inexact_or_non_numbers(value):
    with pytest.raises(TypeError):
        fraction_to_str(value)


def test_fractions_survive_the_store(store):
    values = [Fraction(1, 3), Fraction(-7, 2), Fraction(4)]
    store.save({"id": "n", "values": [fraction_to_str(v) for v in values]})
    assert [str_to_fraction(s) for s in store.fetch("n")["values"]] == values


def test_json_parse_of_dumps_is_identity():
    doc = certificate("a", nested={"list": [1, 2.5, None, True, "s"]})
    assert json.loads(dumps(doc)) == doc
