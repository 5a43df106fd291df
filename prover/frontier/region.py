"""``frontier(model, X, Y)``: the region two statistics can occupy, exact when it can be,
else an inner and an outer approximation."""

from __future__ import annotations

import time

from .. import expr as E
from .. import models
from .approximate import _approximate_frontier
from .exact import _exact_frontier
from .linear import _degenerate_with_rays, _linear_fractional, _LinearFractional
from .results import DEFAULT_DIRECTIONS, DEFAULT_SAMPLES, Frontier


def frontier(model_name: str, x: str, y: str, params: dict | None = None, *,
             store=None, prove: bool = True, samples: int = DEFAULT_SAMPLES,
             directions: int = DEFAULT_DIRECTIONS, timeout: float | None = None,
             seed: int = 20261127) -> Frontier:
    """The region of (X, Y) under ``model_name`` with ``params``: exact when X and Y are
    linear-fractional with a common denominator over an exact proof side, else an inner
    and an outer approximation (``prove`` runs the solver for the outer one; ``store`` —
    a Store or a directory — adds its valid certificates)."""
    start = time.perf_counter()
    model = models.get(model_name)
    params = model.validate_params(params or {})
    inst = model.build(params)
    ex, ey = _parse_axis(inst, x, "X"), _parse_axis(inst, y, "Y")
    x, y = x.strip(), y.strip()
    fr, why_not = _from_theorem(model, inst, x, y, timeout or 10.0)
    if fr is not None:
        fr.seconds = time.perf_counter() - start
        return fr
    lf = _linear_fractional(inst, ex, ey)
    if isinstance(lf, _LinearFractional) and (lf.rays and _degenerate_with_rays(lf)):
        lf = "the region is a half-line or line (degenerate and unbounded)"
    if isinstance(lf, _LinearFractional):
        fr = _exact_frontier(inst, lf, ex, ey, x, y)
        if prove:
            _certify_facets(inst, fr, timeout or 10.0)
    else:
        fr = _approximate_frontier(inst, ex, ey, x, y, reason=lf, store=store, prove=prove,
                                   samples=samples, directions=directions,
                                   timeout=timeout or 10.0, seed=seed)
    if why_not:
        fr.notes.insert(0, why_not)
    fr.seconds = time.perf_counter() - start
    return fr


def _certify_facets(inst, fr: Frontier, timeout: float) -> None:
    """Each facet of an exact frontier as a proved half-plane (``fr.bounds``, the JSON's
    ``outer.bounds``): its claim's certificate found and replayed by the checker here (an
    equality facet gives both sides). A facet with no certificate is left out, with a
    note; the exact facets themselves are listed either way."""
    from fractions import Fraction

    from .results import Bound
    from .text import inequality_text
    from .theorem import NotProved, _prove_side

    for f in fr.facets:
        sides = [(f.a, f.b, f.h)] + ([(-f.a, -f.b, -f.h)] if f.equality else [])
        for a, b, h in sides:
            formula = inequality_text(a, b, h, fr.x, fr.y)
            try:
                source = _prove_side(inst, formula, timeout)
            except NotProved as exc:
                fr.notes.append(f"the facet {formula} is exact but has no certificate here "
                                f"({exc}): left out of the proved bounds")
                continue
            fr.bounds.append(Bound(Fraction(a), Fraction(b), Fraction(h), formula, source,
                                   "certificate"))


def _from_theorem(model, inst, x: str, y: str, timeout: float):
    """(the exact frontier of the model's region theorem for (x, y), re-checked here by
    ``theorem``, or None; why not, or ''). A theorem that does not check is never
    reported: the region is computed instead, with a note saying what failed."""
    thm = model.region(x, y)
    if thm is None:
        return None, ""
    from .theorem import NotProved, theorem_frontier
    try:
        return theorem_frontier(inst, thm, x, y, timeout=timeout), ""
    except NotProved as exc:
        return None, f"the model's region theorem did not check ({exc}); computed instead"


def _parse_axis(inst, text: str, which: str) -> E.Expr:
    return inst.parse_expression(text, which, sep=" = ")
