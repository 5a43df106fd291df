"""JUnit XML reports of ``prover check`` and ``prover verify`` for CI (``--junit FILE``).

One testcase per conjecture (check) or certificate (verify): a ``failure`` when the
verdict differs from ``expect`` or verify reports failed/stale/malformed, an ``error``
for an input error, ``skipped`` for a certificate verify could not check. The document
is what GitHub Actions, GitLab and Jenkins test-report viewers read.
"""

from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from .errors import InputError

# characters XML 1.0 cannot carry (C0 controls other than tab, newline, carriage return)
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text) -> str:
    return _INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _suite(name: str, cases: list[dict], seconds: float) -> ET.Element:
    failures = sum(1 for c in cases if c.get("failure"))
    errors = sum(1 for c in cases if c.get("error"))
    skipped = sum(1 for c in cases if c.get("skipped"))
    root = ET.Element("testsuites", name=name, tests=str(len(cases)), failures=str(failures),
                      errors=str(errors), skipped=str(skipped), time=f"{seconds:.3f}")
    suite = ET.SubElement(root, "testsuite", name=name, tests=str(len(cases)),
                          failures=str(failures), errors=str(errors), skipped=str(skipped),
                          time=f"{seconds:.3f}")
    for c in cases:
        attrs = {"classname": _clean(c["classname"]), "name": _clean(c["name"]),
                 "time": f"{c.get('seconds', 0.0):.3f}"}
        if c.get("file"):
            attrs["file"] = _clean(c["file"])
        case = ET.SubElement(suite, "testcase", **attrs)
        for kind in ("failure", "error", "skipped"):
            if c.get(kind):
                message, detail = c[kind]
                el = ET.SubElement(case, kind, message=_clean(message), type=kind)
                if detail:
                    el.text = _clean(detail)
        if c.get("out"):
            ET.SubElement(case, "system-out").text = _clean(c["out"])
    return root


def _write(root: ET.Element, path: str) -> None:
    """Write the report to ``path``: a regular file (or a new one) is replaced atomically
    (a temporary file beside it, renamed over it); a symlink is written through, to the
    file it names; anything else that is there — a terminal, a pipe, /dev/stdout — is
    written to as it is, never replaced (replacing /dev/stdout as root would destroy it)."""
    import stat

    ET.indent(root)
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
    target = Path(os.path.realpath(path))      # through symlinks, to what they name
    try:
        try:
            mode = os.stat(target).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "is a directory")
        if mode is not None and not stat.S_ISREG(mode):
            with open(target, "wb") as fh:      # a device, FIFO or socket: write, never replace
                fh.write(data)
            return
        if target.parent and not target.parent.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=".junit-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        raise InputError(f"--junit {path}: cannot write: {exc.strerror or exc}") from None


def write_check(path: str, outcomes, errors) -> None:
    """``outcomes``: check.Outcome records; ``errors``: input errors (strings or
    exceptions), each one errored testcase."""
    cases = []
    for o in outcomes:
        rec = o.record
        case = {"classname": f"prover.check.{rec.model.name}", "name": rec.id,
                "file": rec.source, "seconds": o.seconds,
                "out": f"verdict {rec.verdict}, trust {rec.trust or 'none'}"
                       + (f": {rec.reason}" if rec.reason else "")}
        if o.verdict != o.conjecture.expect:
            case["failure"] = (f"verdict {o.verdict}, expected {o.conjecture.expect}",
                               f"claim: {rec.claim}\n" + (
                                   f"reason: {rec.reason}" if rec.reason else ""))
        cases.append(case)
    for exc in errors:
        where = getattr(exc, "path", None) or "input"
        cases.append({"classname": "prover.check.input", "name": str(where),
                      "file": getattr(exc, "path", None), "error": ("input error", str(exc))})
    _write(_suite("prover check", cases, sum(o.seconds for o in outcomes)), path)


def write_verify(path: str, reports, store_root: str | None = None,
                 empty_ok: bool = False) -> None:
    """``reports``: verify.Report records (id, status, detail); an empty list is one
    errored testcase (nothing to verify is a CI failure, as the exit code says) unless
    ``empty_ok`` (an empty --shard of a store that has certificates)."""
    cases = []
    for r in reports:
        case = {"classname": "prover.verify", "name": r.id, "out": f"{r.status}: {r.detail}"}
        if r.status in ("failed", "stale", "malformed", "unchecked"):
            # unchecked: its trust could not be re-established here, so it did not pass
            case["failure"] = (f"{r.status}: {r.detail}", None)
        cases.append(case)
    if not reports and not empty_ok:
        cases.append({"classname": "prover.verify", "name": "store",
                      "error": ("nothing to verify", f"the store {store_root} holds no "
                                                     "certificates")})
    _write(_suite("prover verify", cases, 0.0), path)
