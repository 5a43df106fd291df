"""What every model provides, and the shared machinery for parameters.

A model module defines a ``Model`` subclass: its parameters (with defaults and ranges),
and ``build(params)`` returning a ``ModelInstance``: variables, the proof-side
constraints (a sound relaxation of the family), the statistics as exact ratios of
polynomials (or as expressions in other statistics), and a realizer that turns exact
values into a concrete object whose statistics are recomputed from their definitions.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping

from ..errors import InputError
from ..poly import Atom, Poly  # noqa: F401  (Atom: re-exported for the models)
from .display import Picture


@dataclass(frozen=True)
class Ratio:
    """A statistic ``num / den`` where ``den`` is provably positive under the constraints."""

    num: Poly
    den: Poly


@dataclass(frozen=True)
class Statistic:
    name: str
    description: str
    ratio: Ratio | None = None        # exact ratio of polynomials in the variables
    expression: str | None = None     # or: an expression in other statistics (trusted model text)


@dataclass(frozen=True)
class RegionTheorem:
    """What a model proves about the region of two statistics over its whole family:
    the closed rectangle ``box`` = (x_lo, x_hi, y_lo, y_hi), each side a claim the
    proof side certifies, every point reached by a parametric family of real members
    (``prover.frontier.theorem`` re-checks all of it before reporting it)."""

    x: str
    y: str
    box: tuple[Fraction, Fraction, Fraction, Fraction]
    statement: str
    family: str
    argument: str
    witness_params: dict                 # the concrete instance the witnesses belong to
    # the exact checks of the family's identities on that instance's polynomials:
    # returns the statements checked, raises AssertionError on one that fails
    certify: Callable[[Any], list[str]]
    # concrete values of a member landing exactly on (X, Y), or None (no rational one)
    witness: Callable[[Fraction, Fraction], "dict | None"]
    # coordinates inside the box where the family has rational members (for edge points)
    nice: tuple[tuple[Fraction, ...], tuple[Fraction, ...]] = ((), ())


@dataclass(frozen=True)
class Param:
    name: str
    kind: str                 # 'int' | 'bool' | 'int_or_inf'
    default: Any
    description: str
    minimum: int | None = None
    maximum: int | None = None

    def validate(self, value) -> Any:
        """Return the validated value or raise InputError saying what would be valid."""
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise InputError(f"parameter '{self.name}' must be true or false, "
                                 f"got {value!r}")
            return value
        if self.kind == "int_or_inf" and value == "inf":
            return "inf"
        if isinstance(value, bool) or not isinstance(value, int):
            allowed = "an integer" + (' or "inf"' if self.kind == "int_or_inf" else "")
            raise InputError(f"parameter '{self.name}' must be {allowed}"
                             f"{self._range_text()}, got {value!r}")
        if (self.minimum is not None and value < self.minimum) or \
           (self.maximum is not None and value > self.maximum):
            raise InputError(f"parameter '{self.name}' = {value} is out of range: "
                             f"allowed{self._range_text()}")
        return value

    def _range_text(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f" from {self.minimum} to {self.maximum}"
        if self.minimum is not None:
            return f" at least {self.minimum}"
        return ""


@dataclass
class Evidence:
    """What a realizer computed from a concrete object, independently of the model formulas.

    Either ``exact`` (statistics recomputed exactly, e.g. by enumeration) or
    ``estimates`` with ``batch_estimates`` (simulation; the caller builds confidence
    intervals by the batch-means method), or both.
    """

    method: str
    realization: dict
    seed: int | None = None
    samples: int | None = None
    exact: dict[str, Fraction] | None = None
    estimates: dict[str, float] | None = None
    batch_estimates: list[dict[str, float]] | None = None


@dataclass
class ModelInstance:
    model: "Model"
    params: dict
    variables: list[str]                 # every solver variable of the model
    components: list[str]                # the variables a user may name in a claim
    constraints: list[Atom]              # proof side: every real member satisfies them
    statistics: dict[str, Statistic]
    search_constraints: list[Atom] = field(default_factory=list)
    # extra constraints used only when searching for counterexamples (normalisation,
    # realizability); they may cut the relaxation down to realizable points but never
    # take part in a proof.
    # optional restrictions tried first when searching, simplest first (e.g. only
    # low-order components), so that counterexamples are as readable as possible
    search_tiers: list[list[Atom]] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)  # name -> why not here
    realize: Callable[..., Evidence] | None = None
    # When the proof side is a relaxation whose points need not be real members (e.g. a
    # Gram-matrix relaxation), ``concrete`` is a second instance over concrete objects
    # (same statistic names) used for the counterexample search and the realizer.
    concrete: "ModelInstance | None" = None
    # (problem, seconds) -> float points of this instance proposed to the numeric
    # counterexample search (e.g. local minima of a statistic on the claim's slice);
    # proposals only: each point found from them is re-imposed and checked exactly
    search_starts: Callable[..., list] | None = None

    def names(self) -> list[str]:
        return list(self.statistics) + list(self.components)

    def parse_expression(self, text, what: str, *, sep: str = " ", examples: int = 3):
        """``text`` parsed as an expression in this instance's statistics and components
        (our own parser; nothing is evaluated), for a command-line axis or target.
        InputError names ``what`` and says what is valid: a name the model has but not
        with these parameters says why; a message reads ``{what}{sep}'text': ...``."""
        import re
        from .. import expr as E
        from ..errors import ExprError
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{what}: give a statistic or an expression in statistics, "
                             f"e.g. {', '.join(list(self.statistics)[:examples])}")
        try:
            e = E.parse_term(text)
            E.check_names(e, self.names())
        except ExprError as exc:
            m = re.match(r"unknown name '([^']+)'", exc.message)
            if m and m.group(1) in self.unavailable:
                raise InputError(f"{what}{sep}{text!r}: '{m.group(1)}' is not available "
                                 f"here: {self.unavailable[m.group(1)]}") from None
            raise InputError(f"{what}{sep}{text!r}: {exc.message}") from None
        return e


class Model:
    """Base class of a model module's model (see MODELS.md, "Adding a model")."""

    name: str = ""
    summary: str = ""
    params: tuple[Param, ...] = ()
    pictures: tuple[Picture, ...] = ()     # standard frontier pictures (models/display.py)
    # modules a check imports only when it needs them (realizers): a batch imports them
    # once before it forks its workers, instead of once in every worker
    lazy_modules: tuple[str, ...] = ()

    def realization_lines(self, realization: dict) -> list[str] | None:
        """A realization as lines a person reads (None: show its fields as they are)."""
        return None

    @property
    def doc(self) -> str:
        import sys
        return (sys.modules[type(self).__module__].__doc__ or "").strip()

    def validate_params(self, raw: Mapping[str, Any]) -> dict:
        known = {p.name: p for p in self.params}
        out = {}
        for key, value in raw.items():
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else (
                    f"; parameters of '{self.name}': {', '.join(known) or 'none'}")
                err = InputError(f"unknown parameter '{key}' for model '{self.name}'{hint}")
                err.param = key
                raise err
            try:
                out[key] = known[key].validate(value)
            except InputError as exc:
                exc.param = key
                raise
        for p in self.params:
            out.setdefault(p.name, p.default)
        self.check_params(out)
        return out

    def check_params(self, params: dict) -> None:
        """Cross-parameter validation; raise InputError."""

    def build(self, params: dict) -> ModelInstance:
        raise NotImplementedError

    def instance(self, params: dict) -> ModelInstance:
        """``build(params)``, built once per process for each distinct ``params`` (a
        batch's conjectures mostly share them, and a file is built when it is loaded and
        again when it is checked): a shallow copy, so what a caller sets on it stays its
        own. The parts are shared and never changed (polynomials are immutable)."""
        import copy
        built = self.__dict__.setdefault("_built", {})
        key = repr(sorted(params.items()))
        if key not in built:
            if len(built) >= 16:
                del built[next(iter(built))]
            built[key] = self.build(params)
        return copy.copy(built[key])

    def region(self, x: str, y: str) -> RegionTheorem | None:
        """A region theorem for the axes (x, y) as typed (None: the frontier is computed)."""
        return None

    def boundary_claims(self, params: dict, x: str, y: str) -> Iterable[tuple[list[str], str]]:
        """Claims (assumptions, claim) along a curved side of the region of (x, y) that the
        model expects to certify (e.g. ``lo <= s2 <= hi implies r2 >= m``); the frontier
        keeps each one whose certificate the checker replays. Untrusted proposals; a
        model whose proposals are costly yields them one at a time (the frontier stops
        asking once its deadline has passed)."""
        return []

    def concrete_certificate(self, params: dict, problem) -> tuple[dict | None, str]:
        """A certificate over the concrete family's encoding ``problem`` (proof field
        ``family: "concrete"``), for claims the relaxation cannot prove: (proof, '') or
        (None, why not). Untrusted search; the checker replays what it returns."""
        return None, "the model has no certificate search on its concrete family"
