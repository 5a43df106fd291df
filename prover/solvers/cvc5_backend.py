"""cvc5 backend: parses SMT-LIB text, solves, returns plain data (no cvc5 object escapes)."""

from __future__ import annotations

import functools
import re
from fractions import Fraction


def load():
    import cvc5
    return cvc5


@functools.cache
def version() -> str:
    """The installed version, read once without importing cvc5 (its import is 15-20 ms
    of every run's start-up, and most runs never start it): the wheel's
    ``cvc5-<version>.dist-info`` beside the package; else the package's own
    ``__version__``; else the distribution's metadata. ImportError when cvc5 is not
    installed."""
    import importlib.util
    spec = importlib.util.find_spec("cvc5")
    if spec is None:
        raise ImportError("No module named 'cvc5'")
    if spec.origin:
        from pathlib import Path
        found = sorted(Path(spec.origin).parent.parent.glob("cvc5-*.dist-info"))
        if len(found) == 1:
            return found[0].name[len("cvc5-"):-len(".dist-info")]
    cvc5 = load()
    if isinstance(getattr(cvc5, "__version__", None), str):
        return cvc5.__version__
    try:
        from importlib.metadata import version as dist_version
        return dist_version("cvc5")
    except Exception:
        return "unknown"


_ALGEBRAIC = re.compile(r"\(([-\d/]+),\s*([-\d/]+)\)")


def run(text: str, timeout: float) -> dict:
    cvc5 = load()
    tm = cvc5.TermManager()
    solver = cvc5.Solver(tm)
    solver.setOption("tlimit-per", str(max(1, int(timeout * 1000))))
    symbols = cvc5.SymbolManager(tm)
    parser = cvc5.InputParser(solver, symbols)
    parser.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, text, "problem")
    answer = ""
    while True:
        cmd = parser.nextCommand()
        if cmd.isNull():
            break
        out = cmd.invoke(solver, symbols).strip()
        if out:
            answer = out
    if answer == "unsat":
        return {"result": "unsat"}
    if answer != "sat":
        return {"result": "unknown", "reason": answer or "no answer"}
    values = {}
    for term in symbols.getDeclaredTerms():
        v = solver.getValue(term)
        if v.isRealValue():
            values[str(term)] = {"exact": str(Fraction(v.getRealValue()))}
        else:
            # real algebraic numbers print as <polynomial, (lo, hi)>: keep the midpoint
            m = _ALGEBRAIC.search(str(v))
            if m:
                lo, hi = Fraction(m.group(1)), Fraction(m.group(2))
                values[str(term)] = {"approx": str(float((lo + hi) / 2))}
    return {"result": "sat", "values": values}
