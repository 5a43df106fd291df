"""prover: machine-checked answers to inequalities about heritability and nonlinearity.

    >>> import prover
    >>> r = prover.bounds("twins", given={"rMZ": "0.62", "rDZ": "0.25"}, targets=["h2"])
    >>> r.bounds[0].lower.value, r.bounds[0].upper.approx
    (Fraction(19, 50), 0.49905511811023623)

Public names: ``bounds`` (exact ranges implied by observed statistics), ``check``
(check conjecture files, as ``prover check``), ``CheckReport``, ``CheckResult``,
``__version__``. The heavy machinery (solvers, sympy, numpy) is imported only when a
function runs.
"""

import importlib as _importlib
import sys as _sys
import types as _types

from ._version import __version__

__all__ = ["__version__", "bounds", "check", "CheckReport", "CheckResult"]
_API = ("bounds", "check", "CheckReport", "CheckResult")


def __getattr__(name):
    # The API is loaded on first use (by name, through importlib), so `import prover`
    # reads no module but _version, and tools that follow this package's imports (the
    # site's plot cache key) do not see the whole command line behind prover.check.
    if name not in _API:
        raise AttributeError(f"module 'prover' has no attribute {name!r}")
    api = _importlib.import_module(".api", __name__)
    value = _FunctionAndModule(api.check, __name__ + ".check") if name == "check" \
        else getattr(api, name)
    _types.ModuleType.__setattr__(_sys.modules[__name__], name, value)
    return value


def __dir__():
    return sorted(set(globals()) | set(_API))


class _FunctionAndModule:
    """``prover.check`` is the API function, while the submodule ``prover/check.py``
    (the single-conjecture pipeline) has the same name: calling the object calls the
    function; attribute access, assignment and deletion (``prover.check.solvers``,
    monkeypatching) go to the module, so ``from prover import check as check_module``
    keeps working."""

    def __init__(self, function, module: str):
        object.__setattr__(self, "_function", function)
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "__doc__", function.__doc__)
        object.__setattr__(self, "__wrapped__", function)

    def __call__(self, *args, **kwargs):
        return self._function(*args, **kwargs)

    def _target(self):
        return _importlib.import_module(self._module)

    def __getattr__(self, name):
        return getattr(self._target(), name)

    def __setattr__(self, name, value):
        setattr(self._target(), name, value)

    def __delattr__(self, name):
        delattr(self._target(), name)

    def __repr__(self) -> str:
        return "<function prover.check (also the module prover.check's attributes)>"


class _Package(_types.ModuleType):
    # Importing the submodule prover.check would rebind the package attribute 'check'
    # to the module; keep the public function (the module stays in sys.modules).
    def __setattr__(self, name, value):
        if name == "check" and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
