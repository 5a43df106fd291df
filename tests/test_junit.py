"""`check --junit` and `verify --junit`: one testcase per conjecture or certificate."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from prover.cli import main


def _cases(path):
    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    return root, {c.get("name"): c for c in suite.findall("testcase")}


def test_check_junit(tmp_path, capsys):
    d = tmp_path / "conjectures"
    d.mkdir()
    (d / "good.toml").write_text('model = "twins"\nclaim = "h2 <= 2*rDZ"\n')
    (d / "wrong.toml").write_text('model = "twins"\nclaim = "h2 <= rDZ"\n')
    (d / "broken.toml").write_text('model = "twins"\nclaim = "h2 <= \x01"\n')
    report = tmp_path / "out" / "check.xml"
    code = main(["check", str(d), "--store", str(tmp_path / "certs"), "--junit", str(report)])
    capsys.readouterr()
    assert code == 2
    root, cases = _cases(report)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    assert cases["good"].find("failure") is None and cases["good"].get("file").endswith("good.toml")
    assert cases["good"].get("classname") == "prover.check.twins"
    assert cases["wrong"].find("failure").get("message") == "verdict refuted, expected valid"
    (broken,) = [c for name, c in cases.items() if name.endswith("broken.toml")]
    assert broken.find("error").get("message") == "input error"
    assert "\x01" not in report.read_text()        # control characters escaped, XML stays valid


def test_verify_junit(tmp_path, capsys):
    d = tmp_path / "conjectures"
    d.mkdir()
    (d / "a.toml").write_text('model = "twins"\nclaim = "h2 <= 2*rDZ"\n')
    (d / "b.toml").write_text('model = "twins"\nclaim = "rDZ <= rMZ/2"\n')
    store = tmp_path / "certs"
    assert main(["check", str(d), "--store", str(store)]) == 0
    report = tmp_path / "verify.xml"
    assert main(["verify", "--store", str(store), "--junit", str(report)]) == 0
    root, cases = _cases(report)
    assert root.get("tests") == "2" and root.get("failures") == "0" and set(cases) == {"a", "b"}
    (d / "b.toml").write_text('model = "twins"\nclaim = "rDZ <= rMZ"\n')     # now stale
    assert main(["verify", "--store", str(store), "--junit", str(report), "--json"]) == 1
    root, cases = _cases(report)
    assert root.get("failures") == "1" and cases["b"].find("failure").get("message").startswith("stale")
    empty = tmp_path / "empty.xml"
    assert main(["verify", "--store", str(tmp_path / "none"), "--junit", str(empty)]) == 1
    root, cases = _cases(empty)
    assert root.get("errors") == "1" and cases["store"].find("error").get("message") == \
        "nothing to verify"
    capsys.readouterr()


def test_junit_writes_through_links_and_never_replaces_a_device_or_pipe(tmp_path):
    """`--junit /dev/stdout` (or a symlink, or a FIFO) is written to, never renamed over:
    as root, replacing /dev/stdout with a regular file would break the machine."""
    import os
    import stat
    import threading

    from prover.junit import write_check

    real = tmp_path / "real.xml"
    real.write_text("old")
    link = tmp_path / "link.xml"
    link.symlink_to(real)
    write_check(str(link), [], [])
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith("<?xml") and "prover check" in real.read_text()

    null = tmp_path / "null.xml"
    null.symlink_to("/dev/null")
    write_check(str(null), [], [])
    assert null.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)

    fifo = tmp_path / "fifo.xml"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_check(str(fifo), [], [])
    reader.join(10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)             # still the FIFO
    assert got and got[0].startswith(b"<?xml")
