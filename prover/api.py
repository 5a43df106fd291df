"""The Python API for notebooks and scripts: ``prover.bounds`` and ``prover.check``.

Both are thin wrappers over what the command line runs (library first, CLI thin): the
heavy modules (solvers, sympy, numpy) are imported only when a function is called, so
``import prover`` stays cheap.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

__all__ = ["bounds", "check", "CheckResult", "CheckReport"]


def bounds(model: str, given: Mapping[str, Any] | None = None,
           targets: Iterable[str] | str = ("h2",), params: Mapping[str, Any] | None = None,
           **options):
    """The exact range of each target over every member of ``model``'s family (with
    ``params``) whose statistics take the ``given`` values.

    ``given`` maps statistics to SPECs: "0.62", "31/50", "0.55..0.65", "0.62±0.03",
    Fractions, ints, floats (read as their decimal) or (lo, hi) pairs. Returns a result
    with ``.feasible`` (and ``.reason`` when False) and ``.bounds``: one per target, each
    with ``.target``, ``.lower`` and ``.upper``, whose ``.value`` is an exact Fraction
    (None when unbounded), ``.approx`` a float, ``.attained`` a bool and ``.witness`` the
    components of a member attaining it. Options: ``store`` (a directory keeping each
    end's certificate), ``prove=False`` (no certificates), ``realize=False`` (no
    simulation of witnesses), ``timeout``, ``seed``. ``.to_json()`` gives the document
    ``prover bounds --json`` prints.

    >>> import prover
    >>> r = prover.bounds("twins", given={"rMZ": "0.62", "rDZ": "0.25"},
    ...                   targets=["h2"], params={"max_order": 1})
    >>> h2 = r.bounds[0]
    >>> r.feasible, h2.lower.value, h2.upper.value, h2.upper.attained
    (True, Fraction(19, 50), Fraction(19, 50), True)
    >>> h2.lower.witness
    {'VA': Fraction(19, 50), 'VD': Fraction(6, 25), 'VE': Fraction(19, 50)}
    >>> prover.bounds("twins", given={"rMZ": 0.6, "rDZ": 0.4}).feasible
    False
    """
    from .ranges import bounds as _bounds

    return _bounds(model, given=given, targets=targets, params=params, **options)


@dataclass(frozen=True)
class CheckResult:
    """One conjecture's result, as ``prover check --json`` reports it."""

    id: str
    source: str
    verdict: str                 # valid | refuted | unknown
    trust: str | None            # kernel | certificate | solvers | solver | None
    expect: str
    matches_expect: bool
    vacuous: bool = False
    reason: str | None = None
    seconds: float = 0.0
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass
class CheckReport:
    """What ``prover check`` printed: ``.results`` (CheckResult), ``.errors`` (input
    errors, one line each), ``.exit_code`` (0, 1 or 2 as on the command line) and
    ``.log`` (its progress and warning lines)."""

    results: list[CheckResult]
    errors: list[str]
    exit_code: int
    log: str = ""

    @property
    def ok(self) -> bool:
        """Every verdict equals its expect and no input error."""
        return self.exit_code == 0

    def __iter__(self):
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, key):
        if isinstance(key, str):
            for r in self.results:
                if r.id == key:
                    return r
            raise KeyError(key)
        return self.results[key]


def check(paths: Iterable[str] | str | None = None, *, store: str = "certificates",
          force: bool = False, kernel: bool = False, timeout: float | None = None,
          jobs: int = 1) -> CheckReport:
    """Check conjecture files and directories (default ``conjectures/``) exactly as
    ``prover check`` does — certificates are written to ``store`` — and return the
    results it prints.

    Each conjecture is checked in a worker process forked from this one (the command
    line forks its workers from a process started for that, before it loads anything:
    this function cannot). A fork copies only the calling thread, so a lock that another
    thread of this process holds at that moment stays held in the worker: from a
    program with threads of its own (a web server, a GUI), run ``prover check --json``
    as a subprocess instead, or call this before starting them.

    >>> import pathlib, tempfile, prover
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "h2.toml").write_text('model = "twins"\\nclaim = "h2 <= 2*rDZ"\\n')
    >>> report = prover.check([str(d / "h2.toml")], store=str(d / "certificates"))
    >>> [(r.id, r.verdict, r.trust) for r in report], report.exit_code
    ([('h2', 'valid', 'certificate')], 0)
    """
    from .cli import build_parser

    if isinstance(paths, str):
        paths = [paths]
    argv = ["check", *(paths or []), "--json", "--store", str(store), "--jobs", str(jobs)]
    if force:
        argv.append("--force")
    if kernel:
        argv.append("--kernel")
    if timeout is not None:
        argv += ["--timeout", str(timeout)]
    args = build_parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = args.func(args)
    doc = json.loads(out.getvalue() or '{"results": [], "errors": []}')
    results = [CheckResult(id=r["id"], source=r.get("source", ""), verdict=r["verdict"],
                           trust=r.get("trust"), expect=r.get("expect", "valid"),
                           matches_expect=bool(r.get("matches_expect")),
                           vacuous=bool(r.get("vacuous")), reason=r.get("reason"),
                           seconds=float(r.get("seconds", 0.0)), raw=r)
               for r in doc.get("results", [])]
    return CheckReport(results, list(doc.get("errors", [])), code, err.getvalue())
