"""The frontier of two statistics under a model: the set of values (X, Y) it allows.

``prover check`` answers "is this inequality true?"; a frontier answers "what is the best
inequality?": the region that (X, Y) — two statistics, or expressions in them such as
``rDZ/rMZ`` or ``1 - s2`` — can occupy over the whole family, which parts of its boundary
are attained, and conjecture files that pin every part of it down (``emit``).

One module per job, data flowing one way (each imports only those above it):

    results      Frontier, BoundaryPoint, Facet, Edge, Bound: the records views read
    text         formulas (inequality_text, ...) and describe()
    geometry     exact convex hulls and faces
    linear       the linear-fractional structure of the axes (when the region is exact)
    exact        the exact frontier: attainment, witnesses checked exactly
    theorem      an exact frontier from a model's region theorem, every piece re-checked
    sampler      realizing points of a model instance (numpy to search, exact to keep)
    approximate  inner and outer approximations, proved bounds
    region       frontier(): a model's re-checked theorem, else exact when it can be, else
                 approximate
    emit         conjectures that pin a frontier down, as conjecture files
    command      `prover frontier` (run_command, parse_params); draws through prover.plot
    pictures     each model's standard pictures (plot_model_frontiers; the site's plots)

EXACT CASE. When X and Y are linear-fractional in the model's nonnegative components with
one common denominator — X = a·v / b·v and Y = c·v / b·v, as ``rDZ/rMZ`` = covDZ/V_G and
``s2`` = VA/V_G are in ``twins``, or ``s2``, ``r2`` in ``multilinear`` — the closure of
the region is a convex hull of per-component points plus a cone (``linear``); vertices
and edges are exact and marked attained or only approached (``exact``).

THEOREM CASE. A model may state the region of two statistics as a theorem
(``Model.region``: a rectangle, its sides as claims, a parametric family of real members
reaching every point); ``theorem`` replays a certificate for every side with the
trusted checker, checks the family's identities exactly and re-measures every witness,
and reports the region exact only if all of it checks (``general``'s (s2, r2)).

APPROXIMATE CASE. Otherwise: an inner approximation from realized points and an outer one
from proved half-planes, with the distance between the two (``approximate``).

``command`` and ``pictures`` are imported on use (``from prover.frontier import
run_command`` works), so that importing the computation never imports the plotting
module, which imports ``results``.
"""

from __future__ import annotations

from .approximate import halfplanes
from .emit import EmittedConjecture, conjectures, emit, frontier_id
from .exact import _exact_frontier  # noqa: F401  (private names tests and views use)
from .geometry import convex_hull, primitive_normal
from .linear import _linear_fractional  # noqa: F401
from .region import frontier
from .results import (DEFAULT_DIRECTIONS, DEFAULT_EPSILON, DEFAULT_SAMPLES, Bound,
                      BoundaryPoint, Edge, Facet, Frontier, Pt, _open_store)  # noqa: F401
from .text import (_pt_text, describe, equation_text, inequality_text,  # noqa: F401
                   linear_text)

__all__ = ["Bound", "BoundaryPoint", "DEFAULT_DIRECTIONS", "DEFAULT_EPSILON",
           "DEFAULT_SAMPLES", "Edge", "EmittedConjecture", "Facet", "Frontier", "Pt",
           "conjectures", "convex_hull", "describe", "emit", "equation_text", "frontier",
           "frontier_id", "halfplanes", "inequality_text", "linear_text", "parse_params",
           "plot_model_frontiers", "primitive_normal", "run_command"]

# name -> module: the names of the command layer, imported on first use
_LAZY = {"run_command": "command", "parse_params": "command",
         "plot_model_frontiers": "pictures"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
