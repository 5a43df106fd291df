"""The solver portfolio (prover/solvers/__init__.py, Portfolio): calls read in the order
they finish, deferred calls that join the race only when they are still needed, and
check()'s use of it (the second solver and the vacuity check wait for the primary)."""

from __future__ import annotations

import time

from prover import solvers
from prover.check import check
from prover.conjecture import load
from prover.encode import encode

SAT = "(declare-fun x () Real)\n(assert (> x 1))\n(check-sat)\n"
UNSAT = "(declare-fun x () Real)\n(assert (> x 1))\n(assert (< x 0))\n(check-sat)\n"
SLEEPY = "; sleep\n" + SAT


def _sleepy(monkeypatch, seconds=3.0):
    """A backend call on SLEEPY sleeps first (in the forked workers: fresh ones are
    forked after this patch)."""
    real = solvers._run_backend

    def run(name, text, timeout):
        if text.startswith("; sleep"):
            time.sleep(seconds)
        return real(name, text, timeout)

    monkeypatch.setattr(solvers, "_run_backend", run)


def test_a_deferred_call_cancelled_before_it_is_due_never_runs():
    p = solvers.Portfolio([("z3", UNSAT), ("z3", SAT)], 10, deferred={1: 30.0})
    k, r = p.next({0})
    assert (k, r.result) == (0, "unsat")
    assert p.pending() == [1]
    p.cancel(1, "not needed: settled")
    r = p.results[1]
    assert (r.result, r.seconds) == ("cancelled", 0.0)
    assert r.reason == "not needed: settled (it was not started)"
    assert p.pending() == [] and p.next() is None


def test_a_deferred_call_joins_when_the_first_is_slow(monkeypatch):
    _sleepy(monkeypatch)
    start = time.monotonic()
    p = solvers.Portfolio([("z3", SLEEPY), ("z3", SAT)], 20, deferred={1: 0.3})
    k, r = p.next()
    waited = time.monotonic() - start
    assert (k, r.result) == (1, "sat")          # it joined and answered first
    assert 0.3 <= waited < 2.5, waited           # after its delay, before the sleeper
    p.cancel(0, "not needed")
    assert p.results[0].result == "cancelled"
    assert not p.results[0].reason.endswith("(it was not started)")


def test_a_deferred_call_starts_at_once_when_nothing_it_races_is_left():
    """The primary answered without settling anything (here: the caller asks again):
    the deferred call starts at once instead of waiting out its delay."""
    start = time.monotonic()
    p = solvers.Portfolio([("z3", SAT), ("z3", UNSAT)], 10, deferred={1: 60.0})
    assert p.next({0, 1})[0] == 0
    k, r = p.next({0, 1})
    assert (k, r.result) == (1, "unsat")
    assert time.monotonic() - start < 30


def test_wait_starts_a_deferred_call():
    p = solvers.Portfolio([("z3", SAT)], 10, deferred={0: 60.0})
    assert p.pending() == [0]
    assert p.wait(0).result == "sat"


def _conj(tmp_path, claim, assume=None):
    path = tmp_path / "c.toml"
    lines = ['model = "twins"', f'claim = "{claim}"']
    if assume:
        lines.append(f'assume = ["{assume}"]')
    path.write_text("\n".join(lines + ["[params]", "max_order = 1"]) + "\n")
    return load(path)


def test_without_a_certificate_the_second_solver_still_answers(tmp_path):
    """No certificate is searched: z3's unsat alone settles nothing, so cvc5 is started
    at once (not after its delay) and its unsat earns trust 'solvers'."""
    out = check(_conj(tmp_path, "h2 <= 2*rDZ"), certify=False)
    assert (out.verdict, out.trust) == ("valid", "solvers")
    negated = [e for e in out.certificate["solvers"] if e["role"] == "negated claim"]
    assert sorted((e["name"], e["result"]) for e in negated) == [("cvc5", "unsat"),
                                                                   ("z3", "unsat")]


def test_a_valid_verdict_always_has_its_vacuity_check(tmp_path):
    out = check(_conj(tmp_path, "h2 <= 2*rDZ"))
    vac = out.certificate["solvers"][0]
    assert vac["role"].startswith("vacuity") and vac["result"] == "sat"
    out = check(_conj(tmp_path, "h2 <= 2*rDZ", assume="h2 > 1"))
    assert out.verdict == "valid" and out.certificate["vacuous"] is True
    assert out.certificate["solvers"][0]["result"] == "unsat"


def test_the_second_solver_joins_a_slow_primary(tmp_path, monkeypatch):
    """z3 (made slow) has not answered after the delay: cvc5 joins and decides."""
    conj = _conj(tmp_path, "h2 <= 2*rDZ")
    negated = encode(conj.instance(), conj.claim, conj.assume).smtlib()
    real = solvers._run_backend

    def run(name, text, timeout):
        if name == "z3" and text == negated:
            time.sleep(30)
        return real(name, text, timeout)

    monkeypatch.setattr(solvers, "_run_backend", run)
    start = time.monotonic()
    out = check(conj, timeout=60)
    assert time.monotonic() - start < 20
    assert out.verdict == "valid" and out.trust in ("certificate", "kernel")
    entries = {e["name"]: e for e in out.certificate["solvers"] if e["role"] == "negated claim"}
    assert entries["cvc5"]["result"] == "unsat"
    assert entries["z3"]["result"] == "cancelled"


def test_cvc5_reports_its_distribution_version():
    """Read from the wheel's dist-info (not importlib.metadata, 15 ms of start-up): the
    same string the installed distribution declares, as certificates record it."""
    from importlib.metadata import version

    from prover.solvers import cvc5_backend
    assert cvc5_backend.version() == version("cvc5")


def test_cvc5_version_is_read_without_importing_it():
    """The dist-info beside the package names the release: reading it imports no cvc5
    (15-20 ms of start-up), and it is the very string the package itself reports."""
    import subprocess
    import sys
    code = ("import sys\nfrom prover.solvers import cvc5_backend\n"
            "v = cvc5_backend.version()\nprint(v, 'cvc5' in sys.modules)\n"
            "import cvc5\nprint(cvc5.__version__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [out[2], "False", out[2]] and out[2][0].isdigit()


def test_a_batch_settled_by_z3_never_imports_cvc5(tmp_path):
    """The parent preloads Z3 only: a run whose claims Z3 settles within the second
    opinion's delay (a certificate then decides) leaves cvc5 unimported in the parent."""
    import subprocess
    import sys
    path = tmp_path / "c.toml"
    path.write_text('model = "twins"\nclaim = "h2 <= 2*rDZ"\n[params]\nmax_order = 1\n')
    code = ("import sys\nfrom prover import cli\n"
            f"rc = cli.main(['check', '--json', '--store', {str(tmp_path / 's')!r}, "
            f"{str(path)!r}])\n"
            "print('CVC5', 'cvc5' in sys.modules, rc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "CVC5 False 0", out.stderr[-2000:]
