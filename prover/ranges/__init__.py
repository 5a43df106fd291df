"""What observed statistics imply: exact ranges of targets over a family (``prover bounds``).

Given observed statistics (each an exact value or an interval) and target expressions,
``bounds`` computes for each target its exact range over every member of the family
whose statistics take the given values. It works for models whose statistics are ratios
of linear forms in nonnegative components with one strict constraint (``twins``;
``multilinear`` with a finite ``max_degree``): each given is then a pair of homogeneous
linear inequalities, each end of a linear-fractional target is a linear program after
the Charnes–Cooper substitution (y = v / den(v)), and that program is solved exactly in
rationals (``prover.ranges.lp``), its answer re-checked exactly.

Each end is reported exact (or unbounded), attained or only approached. The closure of
the members with the given values is the cone {v >= 0 : given rows}, so the LP optimum
is the supremum; it is attained when some optimal point has V_G > 0 (a second LP
maximises V_G on the optimal face). An attained end comes with a witness architecture,
checked exactly against the givens and realized by the model's realizer, whose
independently computed statistics must agree. Every finite end is also certified
through prover's ordinary pipeline: the conjecture ``givens implies TARGET <= U`` (or
``< U`` when U is only approached; ``>=``/``>`` for the lower end) goes through
``prover.check.check`` and gets its exact Farkas certificate; with a store it is kept
there (its source under ``conjectures/bounds/`` beside the store) for ``prover verify``.

When no member has the given values, the reason is an exact separating statement: a
combination L of the given statistics with ``L >= c`` on every member while the given
values make L smaller (read from the LP's Farkas vector), and a hint when other
parameters (``shared_environment = true``, a higher ``max_order``) would allow them.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import statistics as pystats
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Mapping

from .. import expr as E
from ..errors import ExprError, InputError, ProverError
from ..poly import Poly, fraction_text
from .lp import LPError, maximize

__all__ = ["Given", "End", "TargetBounds", "BoundsResult", "bounds", "parse_spec",
           "parse_given", "SUPPORTED"]

SUPPORTED = "twins, and multilinear with a finite max_degree"
DEFAULT_SEED = 20261127
DEFAULT_TIMEOUT = 30.0
# two-sided 99.9% Student t quantile, 19 degrees of freedom (20 batch means): a witness
# is checked on several statistics at once, so each interval is wide
T_QUANTILE_999_DF19 = 3.883
EFFORTS = (1, 4)
MAX_SPEC_LENGTH = 200
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?"
_NUMBER_RE = re.compile(rf"\s*({_NUMBER})\s*(?:/\s*(\d+)\s*)?")
_SPEC_HELP = ("write an exact decimal or fraction (0.62, 31/50), an interval LO..HI "
              "(0.55..0.65) or V±W (0.62±0.03, also 0.62+-0.03)")


# --- input: SPECs and givens --------------------------------------------------------------

def _number(text: str, whole: str) -> Fraction:
    m = _NUMBER_RE.fullmatch(text)
    if not m:
        raise InputError(f"'{whole}' is not a SPEC: {_SPEC_HELP}")
    value = Fraction(m.group(1))
    if m.group(2) is not None:
        if int(m.group(2)) == 0:
            raise InputError(f"'{whole}': division by zero; {_SPEC_HELP}")
        value /= int(m.group(2))
    return value


def parse_spec(text) -> tuple[Fraction, Fraction]:
    """A SPEC as an exact closed interval [lo, hi].

    >>> parse_spec("0.62")
    (Fraction(31, 50), Fraction(31, 50))
    >>> parse_spec("0.62±0.03")
    (Fraction(59, 100), Fraction(13, 20))
    >>> parse_spec("1/4..3/10")
    (Fraction(1, 4), Fraction(3, 10))

    Also accepted: ints and Fractions, a (lo, hi) pair, and floats (read as their
    shortest decimal, 0.62 -> 31/50)."""
    if isinstance(text, bool):
        raise InputError(f"{text!r} is not a SPEC: {_SPEC_HELP}")
    if isinstance(text, (int, Fraction)):
        return Fraction(text), Fraction(text)
    if isinstance(text, float):
        if not math.isfinite(text):
            raise InputError(f"{text!r} is not a SPEC: {_SPEC_HELP}")
        v = Fraction(repr(text))
        return v, v
    if isinstance(text, (tuple, list)) and len(text) == 2:
        lo, hi = (parse_spec(x)[0] for x in text)
        return _ordered(lo, hi, f"{text!r}")
    if not isinstance(text, str):
        raise InputError(f"{text!r} is not a SPEC: {_SPEC_HELP}")
    whole = text.strip()
    if not whole:
        raise InputError(f"empty SPEC: {_SPEC_HELP}")
    if len(whole) > MAX_SPEC_LENGTH:
        raise InputError(f"SPEC of {len(whole)} characters; at most {MAX_SPEC_LENGTH}")
    for sep in ("±", "+-", "+/-"):
        if sep in whole:
            centre, _, width = whole.partition(sep)
            v, w = _number(centre, whole), _number(width, whole)
            if w < 0:
                raise InputError(f"'{whole}': the half-width after {sep} must be >= 0")
            return v - w, v + w
    if ".." in whole:
        lo, _, hi = whole.partition("..")
        return _ordered(_number(lo, whole), _number(hi, whole), whole)
    v = _number(whole, whole)
    return v, v


def _ordered(lo: Fraction, hi: Fraction, whole: str) -> tuple[Fraction, Fraction]:
    if lo > hi:
        raise InputError(f"'{whole}': the interval is empty (LO > HI); write LO..HI with "
                         "LO <= HI")
    return lo, hi


def parse_given(item: str) -> tuple[str, str]:
    """``"rMZ=0.62"`` -> ``("rMZ", "0.62")`` (split at the last '=')."""
    key, sep, spec = item.rpartition("=")
    if not sep or not key.strip() or not spec.strip():
        raise InputError(f"--given {item!r}: write STAT=SPEC, e.g. --given rMZ=0.62 or "
                         "--given rDZ=0.25±0.02")
    return key.strip(), spec.strip()


# --- results ------------------------------------------------------------------------------

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


# --- linear-fractional forms --------------------------------------------------------------

@dataclass
class _Problem:
    inst: Any
    comps: list[str]
    strict: list[Fraction]          # the strict constraint's coefficients (V_G > 0)
    givens: list[tuple[Given, E.Expr, list[Fraction], list[Fraction]]]
    ub: list[list[Fraction]]
    eq: list[list[Fraction]]
    labels_ub: list[tuple[int, str]]
    labels_eq: list[tuple[int, str]]


def _supported(inst) -> list[Fraction]:
    """The strict constraint's coefficient vector, or InputError when the model is not a
    linear-fractional family over its components."""
    why = None
    comps = list(inst.components)
    if inst.concrete is not None:
        why = "its proof side is a relaxation"
    elif list(inst.variables) != comps:
        why = "it has internal variables besides the components"
    strict = None
    for atom in inst.constraints if why is None else ():
        p = atom.poly
        linear = p.degree() == 1 and p.constant_value() == 0 and \
            all(c > 0 for c in p.terms.values())
        if linear and atom.rel == ">=" and len(p.terms) == 1:
            continue
        if linear and atom.rel == ">" and strict is None:
            strict = p
            continue
        why = f"its constraint {atom} is not a nonnegativity or one positive sum"
        break
    if why is None and strict is None:
        why = "it has no strict constraint"
    if why:
        raise InputError(f"bounds supports {SUPPORTED}; model '{inst.model.name}' with "
                         f"these parameters is not supported ({why})")
    return [strict.terms.get(((k, 1),), Fraction(0)) for k in comps]


def _vector(p: Poly, comps: list[str]) -> list[Fraction] | None:
    """Coefficients of a linear homogeneous polynomial, None if it is not one."""
    out = dict.fromkeys(comps, Fraction(0))
    for mono, coef in p.terms.items():
        if len(mono) != 1 or mono[0][1] != 1 or mono[0][0] not in out:
            return None
        out[mono[0][0]] = coef
    return [out[k] for k in comps]


def _parse_expr(inst, text: str, what: str) -> E.Expr:
    return inst.parse_expression(text, what, examples=4)


def _linear_fractional(inst, e: E.Expr, text: str, what: str, comps, strict):
    """(numerator, denominator) coefficient vectors of ``e``, whose denominator is
    positive on every member; InputError when ``e`` is not such a ratio."""
    from ..encode import Encoder

    enc = Encoder(inst)
    try:
        t = enc.term(e)
        num, dfac = enc.materialize(t)
        den = enc.den_poly(tuple(dfac.items()))
    except ExprError as exc:
        raise InputError(f"{what} {text!r}: {exc.message}") from None
    nv, dv = _vector(num, comps), _vector(den, comps)
    if len(enc.variables) > len(inst.variables) or nv is None or dv is None \
            or all(c == 0 for c in dv):
        raise InputError(f"{what} {text!r} is not a ratio of linear forms in the "
                         "components (bounds needs statistics such as h2, rDZ/rMZ, "
                         "2*(rMZ - rDZ); no components alone, products of statistics, "
                         "sqrt, abs, min or max)")
    # positive on every member: nonnegative coefficients covering the strict sum
    if any(c < 0 for c in dv) or any(s > 0 and d == 0 for s, d in zip(strict, dv)):
        raise InputError(f"{what} {text!r}: its denominator can be 0 on members of the "
                         "family; use statistics whose denominators are positive "
                         "(V_P, V_G, rMZ, ...)")
    return nv, dv


def _problem(inst, givens: list[Given]) -> _Problem:
    comps = list(inst.components)
    strict = _supported(inst)
    out = _Problem(inst, comps, strict, [], [], [], [], [])
    for gi, g in enumerate(givens):
        e = _parse_expr(inst, g.name, "given")
        num, den = _linear_fractional(inst, e, g.name, "given", comps, strict)
        out.givens.append((g, e, num, den))
        if g.lo == g.hi:
            out.eq.append([a - g.lo * b for a, b in zip(num, den)])
            out.labels_eq.append((gi, "eq"))
        else:
            out.ub.append([g.lo * b - a for a, b in zip(num, den)])
            out.labels_ub.append((gi, "lo"))
            out.ub.append([a - g.hi * b for a, b in zip(num, den)])
            out.labels_ub.append((gi, "hi"))
    return out


def _solve(pr: _Problem, objective, extra_eq=(), extra_rhs=()):
    """max objective·y over the given rows (right-hand sides 0) and extra equalities."""
    return maximize(objective, pr.ub, [Fraction(0)] * len(pr.ub),
                    pr.eq + [list(r) for r in extra_eq],
                    [Fraction(0)] * len(pr.eq) + list(extra_rhs))


# --- the entry point ----------------------------------------------------------------------

def bounds(model: str, given: Mapping[str, Any] | None = None,
           targets: Iterable[str] = ("h2",), params: Mapping[str, Any] | None = None, *,
           store=None, prove: bool = True, realize: bool = True,
           timeout: float | None = None, seed: int = DEFAULT_SEED) -> BoundsResult:
    """The exact range of each target over every member of ``model``'s family (with
    ``params``) whose statistics take the ``given`` values.

    ``given`` maps statistics (or expressions in them) to SPECs: exact strings
    ("0.62", "31/50", "0.55..0.65", "0.62±0.03"), Fractions, ints, floats (as their
    decimal) or (lo, hi) pairs. ``store`` (a directory) keeps each end's certificate and
    its conjecture; ``prove=False`` skips certification, ``realize=False`` the
    simulation of witnesses.

    >>> r = bounds("twins", given={"rMZ": "0.62", "rDZ": "0.25"}, targets=["h2"],
    ...            params={"max_order": 1}, prove=False, realize=False)
    >>> r.feasible, r.bounds[0].lower.value, r.bounds[0].upper.attained
    (True, Fraction(19, 50), True)
    """
    from .. import models

    m = models.get(model)
    params = m.validate_params(dict(params or {}))
    inst = m.build(params)
    if isinstance(targets, str):
        targets = [targets]
    targets = list(targets)
    if not targets:
        raise InputError("name at least one target, e.g. h2 or s2")
    givens, seen = [], set()
    for key, spec in (given or {}).items():
        if not isinstance(key, str):
            raise InputError(f"given {key!r}: keys are statistic names such as rMZ")
        try:
            lo, hi = parse_spec(spec)
        except InputError as exc:
            raise InputError(f"given {key}: {exc.message}") from None
        name = key.strip()
        if name in seen:
            raise InputError(f"given {name} twice; give each statistic once")
        seen.add(name)
        givens.append(Given(name, lo, hi))
    pr = _problem(inst, givens)
    texts = [t.strip() if isinstance(t, str) else t for t in targets]
    target_forms = []
    for t in texts:
        e = _parse_expr(inst, t, "target")
        target_forms.append((t, e, *_linear_fractional(inst, e, t, "target", pr.comps,
                                                       pr.strict)))
    result = BoundsResult(m.name, params, givens, True, [])

    feas = _solve(pr, [Fraction(0)] * len(pr.comps), [pr.strict], [Fraction(1)])
    if feas.status == "infeasible":
        result.feasible = False
        result.reason = _infeasibility_reason(m, params, pr, feas.farkas)
        return result

    if prove:
        from .. import solvers
        solvers.preload()
    for text, e, num, den in target_forms:
        ends = []
        for side in ("lower", "upper"):
            end = _end(pr, num, den, side)
            if end.attained:
                _check_witness(pr, end, e, text)
                if realize:
                    end.realization = _realize(pr, end.witness, e, text, seed)
                    if not end.realization["confirmed"]:
                        end.notes.append("the realized witness did not confirm its "
                                         "statistics: " + end.realization["note"])
            if prove and end.value is not None:
                _certify(m, params, givens, text, side, end, store, timeout)
            ends.append(end)
        result.bounds.append(TargetBounds(text, ends[0], ends[1]))
    return result


def _end(pr: _Problem, num, den, side: str) -> End:
    sign = 1 if side == "upper" else -1
    obj = [sign * c for c in num]
    res = _solve(pr, obj, [den], [Fraction(1)])
    if res.status == "unbounded":
        return End(None)
    if res.status != "optimal":
        raise LPError("internal error: a feasible problem became infeasible with a target")
    value = sign * res.value
    point = res.x
    if sum(s * x for s, x in zip(pr.strict, point)) <= 0:
        # the optimum found lies on V_G = 0: look for an optimal point with V_G > 0
        res2 = _solve(pr, pr.strict, [den, num], [Fraction(1), value])
        if res2.status == "optimal" and res2.value > 0:
            point = res2.x
        elif res2.status == "unbounded":
            raise LPError("internal error: V_G unbounded on the optimal face")
        else:
            return End(value, attained=False)
    total = sum(point)
    witness = {k: x / total for k, x in zip(pr.comps, point)}
    return End(value, attained=True, witness=witness)


def _check_witness(pr: _Problem, end: End, target: E.Expr, text: str) -> None:
    """The witness, evaluated exactly on the model's own statistics (not the LP rows),
    satisfies the model, every given and reaches the end's value."""
    from ..evaluate import ExactEvaluator

    inst, w = pr.inst, end.witness
    ev = ExactEvaluator(inst, w)
    ok = all(a.holds(w) for a in inst.constraints)
    for g, e, _, _ in pr.givens:
        v = ev.term(e)
        ok = ok and isinstance(v, Fraction) and g.lo <= v <= g.hi
    ok = ok and ev.term(target) == end.value
    if not ok:
        raise LPError(f"internal error: the witness of {text} fails the exact re-check")


def _realize(pr: _Problem, witness: dict, target: E.Expr, text: str, seed: int) -> dict:
    """Rebuild the witness as a concrete object (the model's realizer) and compare its
    independently computed statistics with the exact ones: exactly when the realizer
    computes exactly (twins: enumeration of genotypes and transmissions), else each
    within its 99.9% batch-means interval (simulation)."""
    from ..evaluate import ExactEvaluator, float_term

    inst = pr.inst
    exact_ev = ExactEvaluator(inst, witness)
    exprs = [(g.name, e) for g, e, _, _ in pr.givens] + [(text, target)]
    record: dict = {}
    for effort in EFFORTS:
        ev = inst.realize(witness, seed=seed, effort=effort)
        record = {"method": ev.method, "seed": ev.seed, "samples": ev.samples}
        estimates, bad = {}, []
        for name, e in exprs:
            want = exact_ev.term(e)
            if ev.exact is not None:
                got = float_term(e, ev.exact, inst, exact=True)
                estimates[name] = {"exact": fraction_text(want),
                                   "realized": fraction_text(got)
                                   if isinstance(got, Fraction) else got}
                if got != want:
                    bad.append(name)
                continue
            est = float_term(e, ev.estimates, inst)
            per = [float_term(e, b, inst) for b in ev.batch_estimates]
            half = T_QUANTILE_999_DF19 * pystats.stdev(per) / math.sqrt(len(per))
            estimates[name] = {"exact": fraction_text(want), "estimate": round(est, 6),
                               "interval": [round(est - half, 6), round(est + half, 6)]}
            if not (abs(est - float(want)) <= half + 1e-12) or math.isnan(est):
                bad.append(name)
        record["estimates"] = estimates
        record["confirmed"] = not bad
        record["note"] = ("the realized object's statistics agree with the exact values"
                          if not bad else
                          f"{', '.join(bad)} outside the 99.9% interval with "
                          f"{ev.samples} samples")
        if not bad:
            break
    return record


# --- certificates -------------------------------------------------------------------------

def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
    return (s or "target")[:40]


def _given_text(g: Given) -> str:
    e = E.to_text(E.parse_term(g.name))
    if g.lo == g.hi:
        return f"{e} == {fraction_text(g.lo)}"
    return f"{fraction_text(g.lo)} <= {e} <= {fraction_text(g.hi)}"


def _toml_string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _certify(model, params: dict, givens: list[Given], target: str, side: str, end: End,
             store, timeout: float | None) -> None:
    """Certify that nothing lies beyond this end, through the ordinary check pipeline:
    ``givens implies target <= U`` (``< U`` when U is only approached, which certifies
    the non-attainment too; if that strict claim is not settled, the plain one)."""
    strict = not end.attained
    claims = [strict, False] if strict else [False]
    for is_strict in claims:
        op = ("<" if is_strict else "<=") if side == "upper" else (">" if is_strict else ">=")
        claim = f"{E.to_text(E.parse_term(target))} {op} {fraction_text(end.value)}"
        cid, rec = _check_claim(model, params, givens, target, side, claim, store, timeout)
        if rec.verdict == "valid":
            break
        end.notes.append(f"the certificate check of '{claim}' ended {rec.verdict}"
                         + (f": {rec.reason}" if rec.reason else ""))
    end.certified = rec.trust.value if rec.verdict == "valid" else None
    end.proof = rec.proof.kind.value if end.certified else None
    if end.certified and store is not None:
        end.certificate = cid


def _check_claim(model, params, givens, target, side, claim, store, timeout):
    """(id, certificate record) of the conjecture ``givens implies claim``, checked by
    ``prover.check.check`` (reused unchanged from the store when possible)."""
    from ..check import check, reusable
    from ..conjecture import Conjecture, load

    assume = [_given_text(g) for g in givens]
    key = json.dumps({"model": model.name, "params": params, "claim": claim,
                      "assume": assume}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    cid = f"bounds/{model.name}/{_slug(target)}-{side}-{digest}"
    title = f"{'Upper' if side == 'upper' else 'Lower'} end of {target}"
    if givens:
        title += " given " + ", ".join(
            f"{g.name} in [{fraction_text(g.lo)}, {fraction_text(g.hi)}]"
            if g.lo != g.hi else f"{g.name} = {fraction_text(g.lo)}" for g in givens)
    if store is None:
        conj = Conjecture(id=cid, source="<prover bounds>", model=model.name, params=params,
                          claim_text=claim, claim=E.parse_formula(claim), assume_texts=assume,
                          assume=[E.parse_formula(a) for a in assume], title=title)
        return cid, check(conj, timeout=timeout or DEFAULT_TIMEOUT).record
    from ..store import DirectoryStore
    st = store if isinstance(store, DirectoryStore) else DirectoryStore(store)
    text = "\n".join([
        "# written by `prover bounds`: nothing lies beyond this end of the range",
        f"id = {_toml_string(cid)}",
        f"title = {_toml_string(title)}",
        f"model = {_toml_string(model.name)}",
        f"claim = {_toml_string(claim)}",
        "assume = [" + ", ".join(_toml_string(a) for a in assume) + "]",
        "expect = \"valid\"",
        "[params]",
        *[f"{k} = {json.dumps(v)}" for k, v in sorted(params.items())], ""])
    # the source lives beside the store, where `prover verify` looks for it
    rel = Path("conjectures") / "bounds" / model.name / (cid.split("/")[-1] + ".toml")
    path = Path(st.root).resolve().parent / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    conj = load(path)
    conj.source = rel.as_posix()        # no absolute paths in the store
    try:
        stored = st.record(cid)
    except ProverError:
        stored = None
    if reusable(conj, stored):
        return cid, stored
    rec = check(conj, timeout=timeout or DEFAULT_TIMEOUT).record
    st.save(rec)
    return cid, rec


# --- why no member has these values -------------------------------------------------------

def _combination_text(coeffs: list[tuple[str, Fraction]]) -> str:
    parts = []
    for name, c in coeffs:
        if c == 0:
            continue
        term = name if re.fullmatch(r"\w+", name) else f"({name})"
        mag = abs(c)
        body = term if mag == 1 else f"{fraction_text(mag)}*{term}"
        parts.append((("-" if c < 0 else "+"), body))
    if not parts:
        return "0"
    first_sign, first = parts[0]
    text = ("-" if first_sign == "-" else "") + first
    for s, body in parts[1:]:
        text += f" {s} {body}"
    return text


def _params_text(model, params: dict) -> str:
    order = [p.name for p in model.params]
    keys = sorted(params, key=lambda k: order.index(k) if k in order else len(order))
    return ", ".join(f"{k} = {json.dumps(params[k])}" for k in keys)


def _infeasibility_reason(model, params: dict, pr: _Problem, y: list[Fraction]) -> str:
    head = f"no member of {model.name} ({_params_text(model, params)}) has these values"
    y_ub, y_eq = y[:len(pr.ub)], y[len(pr.ub):len(pr.ub) + len(pr.eq)]
    # The Farkas vector y combines the given rows into h = sum y_i row_i, > 0 on every
    # member while the givens make it <= 0. With one common denominator D, h/D = L - k
    # where L is a combination of the given statistics: that names the statistics
    # involved. The statement shown is then the violated facet of the region those
    # statistics fill (the deepest cut), or L itself when the facets cannot be listed.
    dens = [den for _, _, _, den in pr.givens]
    ref = next((d for d in dens if any(d)), None)
    j = next(k for k, v in enumerate(ref) if v)
    scale = []
    for d in dens:
        c = d[j] / ref[j]
        scale.append(c if c > 0 and [c * v for v in ref] == d else None)
    mu = [Fraction(0)] * len(pr.givens)
    for (gi, kind), w in list(zip(pr.labels_ub, y_ub)) + list(zip(pr.labels_eq, y_eq)):
        mu[gi] += w if kind in ("eq", "hi") else -w
    used = [i for i, v in enumerate(mu) if v]
    detail, violated = "", None
    if used and all(scale[i] is not None for i in used):
        cut = _facet(pr, used, scale, ref)
        if cut is None:
            mu = [mu[i] * scale[i] for i in used]
            num = [sum((m * pr.givens[i][2][k] / scale[i] for m, i in zip(mu, used)),
                       Fraction(0)) for k in range(len(pr.comps))]
            low = _solve(_free(pr), [-v for v in num], [ref], [Fraction(1)])
            if low.status == "optimal":
                c = -low.value
                attained = sum(s * x for s, x in zip(pr.strict, low.x)) > 0 or \
                    _positive_on_face(_free(pr), num, ref, c)
                cut = (_integral(mu), c * _integral_factor(mu), attained)
        if cut is not None:
            mu, c, attained = cut
            names = [pr.givens[i][0].name for i in used]
            boxes = [(pr.givens[i][0].lo, pr.givens[i][0].hi) for i in used]
            box = sum((m * (hi if m > 0 else lo) for m, (lo, hi) in zip(mu, boxes)),
                      Fraction(0))
            point = all(lo == hi for lo, hi in boxes)
            comb = _combination_text(list(zip(names, mu)))
            holds, violated = _isolated(names, mu, c, attained)
            if len(used) == 1:
                lo, hi = boxes[0]
                given = (f"{names[0]} = {fraction_text(lo)}" if point else
                         f"{names[0]} in [{fraction_text(lo)}, {fraction_text(hi)}]")
                detail = f": every member has {holds}, but the given value is {given}"
            else:
                detail = (f": every member has {holds}, but the given values have "
                          f"{violated} ({comb} {'=' if point else '<='} "
                          f"{fraction_text(box)})")
    if not detail:
        names = [pr.givens[i][0].name for i in used] or [g.name for g, *_ in pr.givens]
        detail = f": {', '.join(names)} cannot take these values together"
    hint = _hint(model, params, pr)
    if hint:
        hint = f"; {violated or 'these values'} {'needs' if violated else 'need'} {hint}"
    return head + detail + hint


def _integral_factor(mu: list[Fraction]) -> Fraction:
    lcm = 1
    for v in mu:
        lcm = lcm * v.denominator // math.gcd(lcm, v.denominator)
    g = 0
    for v in mu:
        g = math.gcd(g, int(v * lcm))
    return Fraction(lcm, g or 1)


def _integral(mu: list[Fraction]) -> list[Fraction]:
    f = _integral_factor(mu)
    return [v * f for v in mu]


def _nullspace_vector(rows: list[list[Fraction]], n: int) -> list[Fraction] | None:
    """The one vector spanning the null space of ``rows`` (n columns), None if the null
    space is not one-dimensional."""
    a = [list(r) for r in rows]
    pivots, r = [], 0
    for col in range(n):
        p = next((i for i in range(r, len(a)) if a[i][col]), None)
        if p is None:
            continue
        a[r], a[p] = a[p], a[r]
        a[r] = [v / a[r][col] for v in a[r]]
        for i in range(len(a)):
            if i != r and a[i][col]:
                f = a[i][col]
                a[i] = [x - f * y for x, y in zip(a[i], a[r])]
        pivots.append(col)
        r += 1
    free = [c for c in range(n) if c not in pivots]
    if len(free) != 1:
        return None
    v = [Fraction(0)] * n
    v[free[0]] = Fraction(1)
    for i, col in enumerate(pivots):
        v[col] = -a[i][free[0]]
    return v


def _facet(pr: _Problem, used: list[int], scale, ref):
    """The facet of the region the used statistics fill that the given box violates
    most (per unit of its coefficients), as (integer coefficients, bound, attained)."""
    from itertools import combinations

    if any(v == 0 for v in ref):
        return None
    d = len(used)
    points = {}
    for k, name in enumerate(pr.comps):
        p = tuple(pr.givens[i][2][k] / (scale[i] * ref[k]) for i in used)
        points[p] = points.get(p, False) or pr.strict[k] > 0
    pts = list(points)
    boxes = [(pr.givens[i][0].lo, pr.givens[i][0].hi) for i in used]
    best, best_score = None, None
    if len(pts) > 24 or d > 4:
        return None
    for subset in combinations(pts, d):
        v = _nullspace_vector([list(p) + [Fraction(-1)] for p in subset], d + 1)
        if v is None:
            continue
        mu, c = v[:d], v[d]
        vals = [sum((m * x for m, x in zip(mu, p)), Fraction(0)) - c for p in pts]
        if all(x <= 0 for x in vals):
            mu, c, vals = [-m for m in mu], -c, [-x for x in vals]
        elif not all(x >= 0 for x in vals):
            continue
        if not any(mu):
            continue
        attained = any(points[p] for p, x in zip(pts, vals) if x == 0)
        box = sum((m * (hi if m > 0 else lo) for m, (lo, hi) in zip(mu, boxes)), Fraction(0))
        gap = c - box
        if gap < 0 or (gap == 0 and attained):
            continue
        score = gap / sum(abs(m) for m in mu)
        if best_score is None or score > best_score:
            f = _integral_factor(mu)
            best, best_score = ([m * f for m in mu], c * f, attained), score
    return best


def _isolated(names: list[str], mu: list[Fraction], c: Fraction, attained: bool):
    """``sum mu_i S_i >= c`` solved for its last statistic, and the violated opposite:
    ('rDZ <= rMZ/2', 'rDZ > rMZ/2')."""
    t = max(i for i, m in enumerate(mu) if m)
    a = mu[t]
    # a*S_t >= c - rest  ->  S_t >= (c - rest)/a  (a > 0)  or  S_t <= (rest - c)/|a|
    coeffs = [(names[i], -mu[i] / a) for i in range(len(mu)) if i != t and mu[i]]
    const = c / a
    rhs = _linear_text(coeffs, const)
    if a > 0:
        ops = (">=", "<") if attained else (">", "<=")
    else:
        ops = ("<=", ">") if attained else ("<", ">=")
    lhs = names[t] if re.fullmatch(r"\w+", names[t]) else f"({names[t]})"
    return f"{lhs} {ops[0]} {rhs}", f"{lhs} {ops[1]} {rhs}"


def _linear_text(coeffs: list[tuple[str, Fraction]], const: Fraction) -> str:
    parts = []
    # positive terms first: '2*rDZ - rMZ/2' rather than '-rMZ/2 + 2*rDZ'
    for name, c in sorted(coeffs, key=lambda nc: nc[1] < 0):
        term = name if re.fullmatch(r"\w+", name) else f"({name})"
        mag = abs(c)
        if mag == 1:
            body = term
        elif mag.numerator == 1:
            body = f"{term}/{mag.denominator}"
        elif mag.denominator == 1:
            body = f"{mag.numerator}*{term}"
        else:
            body = f"{mag.numerator}*{term}/{mag.denominator}"
        parts.append(("-" if c < 0 else "+", body))
    if const or not parts:
        parts.append(("-" if const < 0 else "+", fraction_text(abs(const))))
    text = ("-" if parts[0][0] == "-" else "") + parts[0][1]
    for s, body in parts[1:]:
        text += f" {s} {body}"
    return text


def _free(pr: _Problem) -> _Problem:
    """The same components with no givens (the whole family)."""
    return _Problem(pr.inst, pr.comps, pr.strict, [], [], [], [], [])


def _positive_on_face(pr, num, den, value) -> bool:
    res = _solve(pr, pr.strict, [den, num], [Fraction(1), value])
    return res.status == "unbounded" or (res.status == "optimal" and res.value > 0)


def _hint(model, params: dict, pr: _Problem) -> str:
    """Which other value of one parameter would allow the given values ('' if none):
    a boolean switched on, or the smallest larger integer."""
    givens = [g for g, *_ in pr.givens]
    # switches first (the smaller change), then larger integers
    for p in sorted(model.params, key=lambda p: p.kind != "bool"):
        if p.kind == "bool" and params.get(p.name) is False:
            tries = [True]
        elif p.kind == "int" and p.maximum is not None and isinstance(params.get(p.name), int):
            tries = list(range(params[p.name] + 1, p.maximum + 1))
        else:
            continue
        for value in tries:
            try:
                alt = model.validate_params({**params, p.name: value})
                other = _problem(model.build(alt), givens)
            except InputError:
                break
            res = _solve(other, [Fraction(0)] * len(other.comps), [other.strict],
                         [Fraction(1)])
            if res.status != "infeasible":
                if p.kind == "int" and value != p.maximum:
                    return f"{p.name} >= {value}"
                return f"{p.name} = {json.dumps(value)}"
    return ""
