"""An exact frontier from a model's region theorem: the region is a closed rectangle,
its outer side proved by certificates replayed now by the trusted checker, its inner side
by a parametric family of real members whose identities are checked exactly now.

A model states the theorem (``Model.region``: the rectangle, the family, its exact
checks, and a way to name the member that lands on a given point); nothing of it is
taken on trust here:

* OUTER SIDE. Each of the rectangle's four sides, as a claim (``s2 >= 0``, ...), is
  encoded over the model's proof side, a certificate is searched, and the certificate is
  replayed by ``prover.checker.check_proof``; its trust is ``certificate`` (no solver is
  believed). A side without a checked certificate means no exact frontier (the caller
  falls back to the approximate one, saying why).
* INNER SIDE. The family's identities are checked exactly (``RegionTheorem.certify``);
  the theorem's argument (continuity and monotonicity of two explicit functions) then
  gives every point. Every vertex and one point inside every edge and the centre get a
  witness — the concrete instance's values of a member landing exactly there — and each
  witness is re-evaluated twice: by the concrete instance's own polynomials and by the
  model's independent realizer (``realize``), which must give the same exact point.
"""

from __future__ import annotations

from fractions import Fraction

from .. import expr as E
from ..errors import ExprError
from .exact import witness_point
from .results import Bound, BoundaryPoint, Edge, Facet, Frontier, Pt
from .text import inequality_text


class NotProved(Exception):
    """The theorem's outer side or inner side did not check; the message says which."""


def _sides(thm) -> list[tuple[int, int, Fraction]]:
    """(a, b, h) with a*X + b*Y <= h: bottom, right, top, left (counter-clockwise)."""
    x0, x1, y0, y1 = thm.box
    return [(0, -1, -y0), (1, 0, x1), (0, 1, y1), (-1, 0, -x0)]


def _prove_side(inst, claim: str, timeout: float) -> str:
    """The source of the certificate proving ``claim``, replayed by the checker here."""
    from ..certify import search_certificate
    from ..checker import CertificateError, check_proof, evidence_kind
    from ..encode import encode
    try:
        problem = encode(inst, E.parse_formula(claim), [])
    except ExprError as exc:
        raise NotProved(f"the side {claim} does not encode: {exc}") from None
    proof, why = search_certificate(problem, timeout=timeout)
    if proof is None:
        raise NotProved(f"no certificate for the side {claim}: {why}")
    try:
        check_proof(problem, proof)
    except CertificateError as exc:
        raise NotProved(f"the certificate for {claim} does not check: {exc}") from None
    return f"{evidence_kind(proof)} certificate, replayed by the checker"


def theorem_frontier(inst, thm, x: str, y: str, timeout: float = 10.0) -> Frontier:
    """The exact frontier the theorem ``thm`` describes, every piece re-checked here;
    NotProved when a piece does not check."""
    from .. import models

    x0, x1, y0, y1 = thm.box
    concrete = models.get(inst.model.name).build(thm.witness_params).concrete
    try:
        checks = thm.certify(concrete)
    except AssertionError as exc:
        raise NotProved(f"the family does not check: {exc}") from None
    cx = concrete.parse_expression(thm.x, "X")
    cy = concrete.parse_expression(thm.y, "Y")

    def witness(p: Pt) -> dict:
        values = thm.witness(*p)
        if values is None:
            raise NotProved(f"the family names no rational member at {p}")
        got = witness_point(concrete, values, cx, cy)
        if got is None:
            raise NotProved(f"the witness of {p} is not a member of the concrete family")
        if got != p:
            raise NotProved(f"the witness of {p} lands on {got}")
        exact = concrete.realize(values).exact
        if (exact[thm.x], exact[thm.y]) != p:
            raise NotProved(f"the realizer measures the witness of {p} at "
                            f"{(exact[thm.x], exact[thm.y])}")
        return values

    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    vertices = [BoundaryPoint(p[0], p[1], True, "vertex", witness(p)) for p in corners]
    fr = Frontier(model=inst.model.name, params=inst.params, x=x, y=y, exact=True,
                  shape="polygon", vertices=vertices)
    for k, (a, b, h) in enumerate(_sides(thm)):
        formula = inequality_text(a, b, h, x, y)
        source = _prove_side(inst, inequality_text(a, b, h, thm.x, thm.y), timeout)
        fr.bounds.append(Bound(Fraction(a), Fraction(b), h, formula, source, "certificate"))
        fr.facets.append(Facet(a, b, h, formula, False, "all"))
        start, end = vertices[k], vertices[(k + 1) % 4]
        at = _edge_point(thm, start.point, end.point)
        fr.edges.append(Edge(start, end, k, True, witness=witness(at), witness_at=at))
    if dict(thm.witness_params) != dict(inst.params):
        fr.notes.append("the witnesses are members of the concrete family "
                        + ", ".join(f"{k} = {v}" for k, v in thm.witness_params.items())
                        + " (the region is the family's, whatever the parameters: they only "
                          "choose the counterexample side)")
    centre = _edge_point(thm, (x0, y0), (x1, y1))
    fr.inner = list(corners)
    fr.outer = list(corners)
    fr.gap = 0.0
    fr.theorem = {"statement": thm.statement, "family": thm.family,
                  "argument": thm.argument,
                  "family_params": dict(thm.witness_params),
                  "checked": checks,
                  "interior_witness": {"at": [str(centre[0]), str(centre[1])],
                                       "values": {k: str(v) for k, v in
                                                  witness(centre).items()}}}
    return fr


def _edge_point(thm, p: Pt, q: Pt) -> Pt:
    """A point strictly inside the segment p-q (or the box, for a diagonal) with a
    rational member: the midpoint, else the theorem's named coordinates."""
    def inside(a: Fraction, b: Fraction, nice) -> list[Fraction]:
        if a == b:
            return [a]
        lo, hi = min(a, b), max(a, b)
        return [(a + b) / 2] + [c for c in nice if lo < c < hi]

    for u in inside(p[0], q[0], thm.nice[0]):
        for v in inside(p[1], q[1], thm.nice[1]):
            if thm.witness(u, v) is not None:
                return (u, v)
    raise NotProved(f"the family names no rational member between {p} and {q}")
