"""The model registry: name -> model module. Adding a model is adding one module here."""

from __future__ import annotations

import difflib
import importlib

from ..errors import InputError

# name -> module path; modules are imported only when a model is used (fast start)
_MODULES = {
    "gaussian": "prover.models.gaussian",
    "twins": "prover.models.twins",
    "multilinear": "prover.models.multilinear",
    "general": "prover.models.general",
}


def names() -> list[str]:
    return sorted(_MODULES)


def get(name: str):
    if name not in _MODULES:
        close = difflib.get_close_matches(name, _MODULES, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"models: {', '.join(names())}"
        raise InputError(f"unknown model '{name}'; {hint}")
    return importlib.import_module(_MODULES[name]).MODEL
