"""The certificate of each finite end of ``prover bounds``: the conjecture ``givens
implies TARGET <= U`` (or ``< U``, ``>=``, ``>``) checked by the ordinary pipeline
(``prover.check.check``), and with a store kept there, its source under
``conjectures/bounds/`` beside the store, for ``prover verify``."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from .. import expr as E
from ..errors import ProverError
from ..poly import fraction_text
from .results import End, Given

DEFAULT_TIMEOUT = 30.0


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
