"""The answer of ``prover bounds``: the givens, each end of each target's range (exact
value, attained or approached, witness, certificate) and their JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..poly import fraction_text


@dataclass(frozen=True)
class Given:
    """One observed statistic (or expression in statistics) with its exact interval."""

    name: str
    lo: Fraction
    hi: Fraction


@dataclass
class End:
    """One end of a target's range."""

    value: Fraction | None          # exact; None when unbounded
    attained: bool = False          # some member takes exactly this value
    witness: dict[str, Fraction] | None = None   # such a member (components, V_P = 1)
    certificate: str | None = None  # id of the stored certificate of this end
    certified: str | None = None    # how the check pipeline settled it (trust), if run
    proof: str | None = None        # proof kind of that certificate (farkas, ...)
    realization: dict | None = None  # the realizer's check of the witness
    notes: list[str] = field(default_factory=list)

    @property
    def approx(self) -> float | None:
        return None if self.value is None else float(self.value)

    def to_json(self) -> dict:
        return {"value": None if self.value is None else fraction_text(self.value),
                "approx": self.approx, "attained": self.attained,
                "witness": None if self.witness is None else
                {k: fraction_text(v) for k, v in self.witness.items()},
                "certificate": self.certificate}


@dataclass
class TargetBounds:
    target: str
    lower: End
    upper: End

    def to_json(self) -> dict:
        return {"target": self.target, "lower": self.lower.to_json(),
                "upper": self.upper.to_json()}


@dataclass
class BoundsResult:
    """``prover.bounds`` answer: ``.feasible``, ``.bounds`` (one TargetBounds per target),
    ``.reason`` when infeasible."""

    model: str
    params: dict
    given: list[Given]
    feasible: bool
    bounds: list[TargetBounds]
    reason: str | None = None

    def to_json(self) -> dict:
        out = {"model": self.model, "params": self.params,
               "given": {g.name: [fraction_text(g.lo), fraction_text(g.hi)]
                         for g in self.given},
               "feasible": self.feasible, "bounds": [b.to_json() for b in self.bounds]}
        if self.reason is not None:
            out["reason"] = self.reason
        checks = [{"target": b.target, "end": side, **end.realization}
                  for b in self.bounds for side, end in (("lower", b.lower), ("upper", b.upper))
                  if end.realization]
        if checks:
            out["witness_checks"] = checks
        return out

    def __getitem__(self, target: str) -> TargetBounds:
        for b in self.bounds:
            if b.target == target:
                return b
        raise KeyError(target)
