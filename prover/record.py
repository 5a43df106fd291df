"""The certificate record: one typed, frozen value per stored result.

This module (with ``recordjson.py``, its field reader and frozen JSON) is the only one
that reads a certificate's JSON object by key or builds one:
``Certificate.from_json`` turns a parsed document into a ``Certificate`` (or raises
``MalformedCertificate`` naming the field and saying what would be valid), and
``Certificate.to_json`` gives back the document, key for key (``store.dumps`` writes it as
canonical text, so a record read and written again is byte-identical).

The vocabularies are enums: ``Verdict``, ``Trust`` (ordered: ``Trust.rank``) and ``Kind``
(of a proof). They are ``str`` enums, so ``Verdict.VALID == "valid"`` and they serialise as
their value.

What is typed here is what the views display and ``verify`` compares: the statement
(claim, assumptions, model, parameters, digests), verdict, trust, vacuity and witness, the
solver calls, the proof's kind and Coq record, the counterexample's values, violation,
statistics and sides. The evidence payloads that only a specialist reads — a proof's
``cases`` (read by ``prover.checker``), a counterexample's ``realization``,
``numeric_check``, ``maximized`` and ``family`` — are kept as frozen JSON (``Json``:
read-only mappings and tuples), checked for shape here and for meaning by ``verify``.

Format 1 is the published schema ``docs/certificate.schema.json`` (a test validates every
committed certificate against it and reads each one with this module, byte for byte).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Union

from .recordjson import (_EXACT, _ID, _SHA256, FORMAT, FrozenDict, Json,  # noqa: F401
                         MalformedCertificate, _put, _Reader, _what, freeze, thaw)

__all__ = ["FORMAT", "Verdict", "Trust", "Kind", "SolverResult", "MalformedCertificate",
           "ModelRef", "SolverCall", "CoqRecord", "Proof", "Side", "Counterexample",
           "Certificate", "Draft", "FrozenDict", "freeze", "thaw", "Json"]



class Verdict(str, Enum):
    VALID = "valid"
    REFUTED = "refuted"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


class Trust(str, Enum):
    """How a valid verdict is backed, strongest first (docs/trust.md)."""
    KERNEL = "kernel"            # Coq's kernel checked a proof of the claim as written
    CERTIFICATE = "certificate"  # prover's exact checker checked a certificate
    SOLVERS = "solvers"          # two independent solvers answered unsat
    SOLVER = "solver"            # one solver answered unsat

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        """Higher is stronger: kernel 4 ... solver 1."""
        return len(_TRUST_ORDER) - _TRUST_ORDER.index(self)

    @staticmethod
    def rank_of(trust: "Trust | str | None") -> int:
        """The rank of a trust level, 0 for none (refuted, unknown) or an unknown word."""
        try:
            return Trust(trust).rank
        except ValueError:
            return 0


_FAMILY = re.compile(r"concrete\Z")     # Proof.family: the only family besides the proof side
_TRUST_ORDER = (Trust.KERNEL, Trust.CERTIFICATE, Trust.SOLVERS, Trust.SOLVER)


class Kind(str, Enum):
    """What a valid verdict's proof is."""
    FARKAS = "farkas"  # linear combination of hypotheses (checked exactly)
    POLYA = "polya"    # products of hypotheses (Positivstellensatz, checked exactly)
    SOS = "sos"        # with sums of squares (exact Gram matrices, PSD checked exactly)
    SMT = "smt"        # solvers' unsat answers only: nothing a checker can replay

    def __str__(self) -> str:
        return self.value

    @property
    def exact(self) -> bool:
        """Whether the exact checker replays it."""
        return self is not Kind.SMT


def checker_description(kind: str) -> str:
    """What checks a certificate of ``kind`` ('farkas', 'polya', 'sos'): the record's
    ``proof.checker``, written by the search and re-derived by ``prover verify``."""
    if kind == "sos":
        return "prover.checker (exact rational arithmetic, exact LDL^T PSD check, no solver)"
    return "prover.checker (exact rational arithmetic, no solver)"


class SolverResult(str, Enum):
    SAT = "sat"
    UNSAT = "unsat"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


# --- the record --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelRef:
    name: str
    params: Mapping[str, Union[bool, int, str]]

    @classmethod
    def from_json(cls, value: Any, where: str = "model") -> "ModelRef":
        r = _Reader(value, where)
        name = r.str("name")
        params = r.raw("params")
        if not isinstance(params, Mapping):
            raise MalformedCertificate(r.path("params"), f"is {_what(params)}, not an object")
        for k, v in params.items():
            if not isinstance(v, (bool, int, str)) or isinstance(v, float):
                raise MalformedCertificate(f"{where}.params.{k}",
                                           f"is {_what(v)}; a parameter is a boolean, an "
                                           "integer or a string")
        r.done()
        return cls(name, FrozenDict(dict(params)))

    def to_json(self) -> dict:
        return {"name": self.name, "params": dict(self.params)}


@dataclass(frozen=True)
class SolverCall:
    name: str
    version: str
    result: SolverResult
    seconds: float
    role: str
    reason: str | None = None

    @classmethod
    def from_json(cls, value: Any, where: str) -> "SolverCall":
        r = _Reader(value, where)
        seconds = r.raw("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise MalformedCertificate(r.path("seconds"), f"is {_what(seconds)}, not a "
                                                          "nonnegative number")
        out = cls(r.str("name"), r.str("version"), r.enum("result", SolverResult), seconds,
                  r.str("role"), r.str("reason", required=False))
        r.done()
        return out

    def to_json(self) -> dict:
        out = {"name": self.name, "version": self.version, "result": self.result.value,
               "seconds": self.seconds, "role": self.role}
        _put(out, "reason", self.reason)
        return out


@dataclass(frozen=True)
class CoqRecord:
    """What happened when the proof of the claim as written went to coqc."""
    compiled: bool
    coqc: str
    file_sha256: str | None = None
    error: str | None = None

    @classmethod
    def from_json(cls, value: Any, where: str = "proof.coq") -> "CoqRecord":
        r = _Reader(value, where)
        out = cls(r.bool("compiled"), r.str("coqc"),
                  r.str("file_sha256", required=False, pattern=_SHA256, hint="a sha256 digest"),
                  r.str("error", required=False))
        r.done()
        return out

    def to_json(self) -> dict:
        out = {"compiled": self.compiled, "coqc": self.coqc}
        _put(out, "file_sha256", self.file_sha256)
        _put(out, "error", self.error)
        return out


@dataclass(frozen=True)
class Proof:
    """A valid verdict's evidence. ``cases``: one Positivstellensatz certificate per case
    of the encoding (frozen JSON; ``prover.checker`` reads and checks it). ``family``:
    None when the cases are over the model's proof-side encoding; "concrete" when they
    are over its concrete family's (exact, so equally sound; see
    ``Conjecture.proof_problem``)."""
    kind: Kind
    cases: tuple | None = None
    checker: str | None = None
    coq: CoqRecord | None = None
    certificate_search: str | None = None
    unsat: tuple[str, ...] | None = None
    family: str | None = None

    @classmethod
    def from_json(cls, value: Any, where: str = "proof") -> "Proof":
        r = _Reader(value, where)
        kind = r.enum("kind", Kind)
        cases = r.json("cases", required=kind.exact)
        if cases is not None and not isinstance(cases, tuple):
            raise MalformedCertificate(r.path("cases"), f"is {_what(cases)}, not a list")
        coq = r.raw("coq", required=False)
        unsat = r.raw("unsat", required=False)
        if unsat is not None and (not isinstance(unsat, list)
                                  or not all(isinstance(s, str) for s in unsat)):
            raise MalformedCertificate(r.path("unsat"), "is not a list of solver names")
        family = r.str("family", required=False, pattern=_FAMILY, hint='"concrete"')
        if family is not None and not kind.exact:
            raise MalformedCertificate(r.path("family"), "is set, but a kind 'smt' proof "
                                       "has no cases over any family")
        out = cls(kind, cases, r.str("checker", required=False),
                  None if coq is None else CoqRecord.from_json(coq, r.path("coq")),
                  r.str("certificate_search", required=False),
                  None if unsat is None else tuple(unsat), family)
        r.done()
        return out

    def to_json(self) -> dict:
        out: dict = {"kind": self.kind.value}
        _put(out, "cases", None if self.cases is None else thaw(self.cases))
        _put(out, "checker", self.checker)
        _put(out, "family", self.family)
        _put(out, "coq", None if self.coq is None else self.coq.to_json())
        _put(out, "certificate_search", self.certificate_search)
        _put(out, "unsat", None if self.unsat is None else list(self.unsat))
        return out

    def replace(self, **changes) -> "Proof":
        return dataclasses.replace(self, **changes)

    def cases_json(self) -> list:
        """The cases as plain JSON, for the checker and the Coq generator."""
        return thaw(self.cases) if self.cases is not None else []

    def payload(self) -> dict:
        """The proof as the checker reads it (plain JSON of kind and cases, and the family
        the cases are over when it is not the proof side)."""
        out = {"kind": self.kind.value, "cases": self.cases_json()}
        _put(out, "family", self.family)
        return out


@dataclass(frozen=True)
class Side:
    """One comparison of the claim at the counterexample, with its two values (exact
    'p/q', or a decimal where the value is irrational)."""
    left: str
    op: str
    right: str
    left_value: str | float
    right_value: str | float

    @classmethod
    def from_json(cls, value: Any, where: str) -> "Side":
        r = _Reader(value, where)
        out = cls(r.str("left"), r.str("op"), r.str("right"), r.value("left_value"),
                  r.value("right_value"))
        r.done()
        return out

    def to_json(self) -> dict:
        return {"left": self.left, "op": self.op, "right": self.right,
                "left_value": self.left_value, "right_value": self.right_value}


@dataclass(frozen=True)
class Counterexample:
    """A refuted verdict's evidence: the model's variables (exact), the claim's violation,
    the statistics there, each comparison's sides, and how the point was realized as an
    architecture, confirmed, and pushed to a large violation."""
    values: Mapping[str, str]
    violation: str | float | None
    statistics: Mapping[str, str]
    sides: tuple[Side, ...]
    realization: Json
    numeric_check: Json
    maximized: Json = None
    family: Json = None

    @classmethod
    def from_json(cls, value: Any, where: str = "counterexample") -> "Counterexample":
        r = _Reader(value, where)
        sides = r.raw("sides")
        if not isinstance(sides, list):
            raise MalformedCertificate(r.path("sides"), f"is {_what(sides)}, not a list")
        numeric = r.json("numeric_check")
        if not isinstance(numeric, Mapping):
            raise MalformedCertificate(r.path("numeric_check"),
                                       f"is {_what(numeric)}, not an object")
        maximized = r.json("maximized", required=False)
        if maximized is not None and not isinstance(maximized, Mapping):
            raise MalformedCertificate(r.path("maximized"),
                                       f"is {_what(maximized)}, not an object")
        violation = r.raw("violation")
        if violation is not None and (isinstance(violation, bool) or not isinstance(
                violation, (str, float, int))
                or isinstance(violation, str) and not _EXACT.match(violation)):
            raise MalformedCertificate(r.path("violation"), f"is {_what(violation)}, not an "
                                       "exact number 'p/q' (or a float where it is "
                                       "irrational)")
        out = cls(r.exact_map("values"), violation, r.str_map("statistics"),
                  tuple(Side.from_json(s, f"{r.path('sides')}[{i}]")
                        for i, s in enumerate(sides)),
                  r.json("realization"), numeric, maximized, r.json("family", required=False))
        r.done()
        return out

    def to_json(self) -> dict:
        out = {"values": dict(self.values), "violation": self.violation,
               "statistics": dict(self.statistics),
               "sides": [s.to_json() for s in self.sides],
               "realization": thaw(self.realization),
               "numeric_check": thaw(self.numeric_check)}
        _put(out, "maximized", thaw(self.maximized))
        _put(out, "family", thaw(self.family))
        return out

    def replace(self, **changes) -> "Counterexample":
        return dataclasses.replace(self, **changes)

    @property
    def confirmed(self) -> bool | None:
        """The numeric check's own word (verify re-derives it)."""
        value = self.numeric_check.get("confirmed")
        return value if isinstance(value, bool) else None

    @property
    def method(self) -> str:
        value = self.numeric_check.get("method")
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Certificate:
    """One stored result of ``prover check`` (format 2; prover 0.1 wrote format 1)."""
    id: str
    title: str
    source: str
    conjecture_sha256: str
    encoding_sha256: str
    model: ModelRef
    claim: str
    assume: tuple[str, ...]
    expect: Verdict | None
    verdict: Verdict
    trust: Trust | None
    vacuous: bool
    solvers: tuple[SolverCall, ...]
    prover_version: str
    created: str
    witness: Mapping[str, str] | None = None
    reason: str | None = None
    proof: Proof | None = None
    counterexample: Counterexample | None = None
    disagreement: str | None = None
    format: int = FORMAT

    # -- reading and writing --

    @classmethod
    def from_json(cls, doc: Any) -> "Certificate":
        """The record of a parsed certificate document; ``MalformedCertificate`` names the
        first field that is not as format 2 says."""
        r = _Reader(doc, "$")
        fmt = r.raw("format")
        if fmt != FORMAT:
            made = " (written by prover 0.1)" if fmt == 1 and not isinstance(fmt, bool) else ""
            raise MalformedCertificate("format", f"is {_what(fmt)}{made}; this prover reads "
                                                 f"format {FORMAT}: re-run `prover check` to "
                                                 "rebuild it")
        cid = r.str("id", pattern=_ID, hint="a certificate id")
        source = r.str("source")
        if source.startswith("/"):
            raise MalformedCertificate("source", "is an absolute path; a store keeps paths "
                                                 "relative to the directory check ran in")
        assume = r.raw("assume")
        if not isinstance(assume, list) or not all(isinstance(a, str) for a in assume):
            raise MalformedCertificate("assume", "is not a list of strings")
        solvers = r.raw("solvers")
        if not isinstance(solvers, list):
            raise MalformedCertificate("solvers", f"is {_what(solvers)}, not a list")
        verdict = r.enum("verdict", Verdict)
        trust = r.enum("trust", Trust, nullable=True)
        proof = r.raw("proof", required=False)
        ce = r.raw("counterexample", required=False)
        out = cls(
            id=cid, title=r.str("title"), source=source,
            conjecture_sha256=r.str("conjecture_sha256", pattern=_SHA256, hint="a sha256 digest"),
            encoding_sha256=r.str("encoding_sha256", pattern=_SHA256, hint="a sha256 digest"),
            model=ModelRef.from_json(r.raw("model")), claim=r.str("claim"),
            assume=tuple(assume), expect=r.enum("expect", Verdict, nullable=True),
            verdict=verdict, trust=trust, vacuous=r.bool("vacuous"),
            solvers=tuple(SolverCall.from_json(s, f"solvers[{i}]")
                          for i, s in enumerate(solvers)),
            prover_version=r.str("prover_version"), created=r.str("created"),
            witness=r.exact_map("witness", required=False),
            reason=r.str("reason", required=False),
            proof=None if proof is None else Proof.from_json(proof),
            counterexample=None if ce is None else Counterexample.from_json(ce),
            disagreement=r.str("disagreement", required=False))
        r.done()
        out._check_consistent()
        return out

    def _check_consistent(self) -> None:
        if self.verdict is Verdict.VALID:
            if self.proof is None:
                raise MalformedCertificate("proof", "is missing (a valid verdict needs one)")
            if self.trust is None:
                raise MalformedCertificate("trust", "is null (a valid verdict has a trust)")
            if self.counterexample is not None:
                raise MalformedCertificate("counterexample", "is present, but the verdict is "
                                                             "'valid'")
        else:
            if self.trust is not None:
                raise MalformedCertificate("trust", f"is '{self.trust}', but the verdict is "
                                                    f"'{self.verdict}' (only a valid verdict "
                                                    "has a trust)")
            if self.proof is not None:
                raise MalformedCertificate("proof", f"is present, but the verdict is "
                                                    f"'{self.verdict}' (only a valid verdict "
                                                    "has a proof)")
        if self.verdict is Verdict.REFUTED and self.counterexample is None:
            raise MalformedCertificate("counterexample", "is missing (a refuted verdict "
                                                         "needs one)")
        if self.verdict is Verdict.UNKNOWN:
            # an unknown verdict may keep its unconfirmed candidate counterexample
            if self.reason is None:
                raise MalformedCertificate("reason", "is missing (an unknown verdict says "
                                                     "why)")

    def to_json(self) -> dict:
        """The certificate document (``store.dumps`` writes it canonically)."""
        out = {"format": self.format, "id": self.id, "title": self.title,
               "source": self.source, "conjecture_sha256": self.conjecture_sha256,
               "encoding_sha256": self.encoding_sha256, "model": self.model.to_json(),
               "claim": self.claim, "assume": list(self.assume),
               "expect": None if self.expect is None else self.expect.value,
               "verdict": self.verdict.value,
               "trust": None if self.trust is None else self.trust.value,
               "vacuous": self.vacuous, "solvers": [s.to_json() for s in self.solvers],
               "prover_version": self.prover_version, "created": self.created}
        _put(out, "witness", None if self.witness is None else dict(self.witness))
        _put(out, "reason", self.reason)
        _put(out, "proof", None if self.proof is None else self.proof.to_json())
        _put(out, "counterexample",
             None if self.counterexample is None else self.counterexample.to_json())
        _put(out, "disagreement", self.disagreement)
        return out

    def replace(self, **changes) -> "Certificate":
        """A copy with some fields changed (the record is frozen)."""
        return dataclasses.replace(self, **changes)

    # -- what views ask --

    @property
    def kind(self) -> Kind | None:
        return None if self.proof is None else self.proof.kind

    @property
    def trust_rank(self) -> int:
        return Trust.rank_of(self.trust)

    @property
    def model_name(self) -> str:
        return self.model.name

    @property
    def params(self) -> Mapping:
        return self.model.params


@dataclass
class Draft:
    """A certificate under construction (``prover.check`` fills it in as the run goes);
    ``freeze`` gives the record, checked as ``Certificate.from_json`` checks a stored one.
    It starts ``unknown`` with no evidence."""
    id: str
    title: str
    source: str
    conjecture_sha256: str
    encoding_sha256: str
    model: ModelRef
    claim: str
    assume: tuple[str, ...]
    expect: Verdict | None
    prover_version: str
    created: str
    solvers: list[SolverCall] = field(default_factory=list)
    verdict: Verdict = Verdict.UNKNOWN
    trust: Trust | None = None
    vacuous: bool = False
    witness: Mapping[str, str] | None = None
    reason: str | None = None
    proof: Proof | None = None
    counterexample: Counterexample | None = None
    disagreement: str | None = None

    def set_valid(self, trust: Trust, proof: Proof) -> None:
        self.verdict, self.trust, self.proof, self.reason = Verdict.VALID, trust, proof, None
        self.counterexample = None      # an earlier unconfirmed candidate no longer matters

    def set_refuted(self) -> None:
        self.verdict, self.trust, self.proof, self.reason = Verdict.REFUTED, None, None, None

    def set_unknown(self, reason: str) -> None:
        self.verdict, self.trust, self.proof, self.reason = Verdict.UNKNOWN, None, None, reason

    def freeze(self) -> Certificate:
        # every field of the draft is a field of the record; the mutable ones frozen
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields.update(assume=tuple(self.assume), solvers=tuple(self.solvers),
                      witness=None if self.witness is None else FrozenDict(self.witness))
        out = Certificate(**fields)
        out._check_consistent()
        return out
