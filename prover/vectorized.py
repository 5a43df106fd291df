"""Expressions of the language evaluated on numpy arrays: a whole batch of candidate
points at once, for the float searches (frontier sampling, the numeric counterexample
search). Nothing decides here: an undefined entry (a division by zero, the square root
of a negative number) becomes nan, and every point kept is re-evaluated exactly."""

from __future__ import annotations

from . import expr as E

_PARSED: dict[str, E.Expr] = {}


def parsed(text: str) -> E.Expr:
    if text not in _PARSED:
        _PARSED[text] = E.parse_term(text)
    return _PARSED[text]


def vec_term(e: E.Expr, env: dict, inst):
    """An expression on a batch (numpy arrays); undefined entries become nan."""
    import numpy as np
    if isinstance(e, E.Num):
        return float(e.value)
    if isinstance(e, E.Name):
        if e.name not in env:
            stat = inst.statistics[e.name]
            env[e.name] = vec_term(parsed(stat.expression), env, inst)
        return env[e.name]
    if isinstance(e, E.Neg):
        return -vec_term(e.operand, env, inst)
    if isinstance(e, E.BinOp):
        a, b = vec_term(e.left, env, inst), vec_term(e.right, env, inst)
        with np.errstate(all="ignore"):
            if e.op == "+":
                return a + b
            if e.op == "-":
                return a - b
            if e.op == "*":
                return a * b
            if e.op == "/":
                return np.where(b != 0, a / np.where(b != 0, b, 1.0), np.nan)
            return np.power(a, b)
    if isinstance(e, E.Call):
        args = [vec_term(a, env, inst) for a in e.args]
        with np.errstate(all="ignore"):
            if e.func == "sqrt":
                return np.where(args[0] >= 0, np.sqrt(np.abs(args[0])), np.nan)
            if e.func == "abs":
                return np.abs(args[0])
            return (np.minimum if e.func == "min" else np.maximum).reduce(
                np.broadcast_arrays(*args))
    raise TypeError("not a number expression")
