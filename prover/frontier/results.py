"""What a frontier is: the region of two statistics under one model instance, as data.

``Frontier`` holds an exact region (vertices, facets, edges marked attained or approached,
with witnesses) or an approximate one (realized points, proved bounds); ``to_json`` is
the document ``prover frontier --json`` prints. Views (``prover.plot``) read these
records and nothing else of the frontier package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..poly import fraction_text
from .text import equation_text

Pt = tuple[Fraction, Fraction]

# how much a tightness variant strengthens a bound; 1/16 is also a margin the
# counterexample search tries, so it finds points on the bound itself, where the violation
# is the whole 1/16 and a simulation confirms it quickly
DEFAULT_EPSILON = Fraction(1, 16)
DEFAULT_SAMPLES = 400
DEFAULT_DIRECTIONS = 24


@dataclass(frozen=True)
class BoundaryPoint:
    """A vertex of the region, or a break on an edge where attainment changes."""

    x: Fraction
    y: Fraction
    attained: bool
    kind: str = "vertex"                       # 'vertex' | 'break'
    witness: dict[str, Fraction] | None = None  # component values realizing it

    @property
    def point(self) -> Pt:
        return (self.x, self.y)


@dataclass(frozen=True)
class Facet:
    """A supporting line of the region: a·X + b·Y <= h on the region, with equality on
    the face (or a·X + b·Y == h everywhere when ``equality``)."""

    a: int
    b: int
    h: Fraction
    formula: str
    equality: bool = False
    attained: str = "all"       # of the face: 'all' | 'part' | 'none'


@dataclass(frozen=True)
class Edge:
    """A piece of the boundary on one facet, attained or approached throughout its
    relative interior; ``end`` is None (and ``direction`` set) for an unbounded piece."""

    start: BoundaryPoint
    end: BoundaryPoint | None
    facet: int
    attained: bool
    direction: Pt | None = None
    witness: dict[str, Fraction] | None = None
    witness_at: Pt | None = None     # where the witness lands (None: the edge's midpoint)


@dataclass(frozen=True)
class Bound:
    """A proved half-plane a·X + b·Y <= h (the outer approximation)."""

    a: Fraction
    b: Fraction
    h: Fraction
    claim: str
    source: str                 # 'z3' or 'store:<certificate id>'
    trust: str | None = None


@dataclass(frozen=True)
class Piece:
    """A certified piece of a curved side: wherever x_from <= X <= x_to, Y >= y_at_least
    (``assume`` implies ``claim``, the texts the certificate proves)."""

    x_from: Fraction
    x_to: Fraction
    y_at_least: Fraction
    claim: str
    assume: tuple[str, ...]
    source: str
    trust: str


@dataclass
class Frontier:
    """The region of (X, Y) under one model instance: exact (vertices, facets, edges
    marked attained or approached) or approximate (realized points, proved bounds)."""

    model: str
    params: dict
    x: str
    y: str
    exact: bool
    shape: str                  # 'point' | 'segment' | 'polygon' | 'unbounded' | 'approximate'
    vertices: list[BoundaryPoint] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    facets: list[Facet] = field(default_factory=list)
    rays: list[Pt] = field(default_factory=list)
    irrelevant: list[str] = field(default_factory=list)   # components X and Y ignore
    generators: dict[str, dict] = field(default_factory=dict)   # exact: each component's
    # point (or swept segment, or direction) in the plane
    inner: list[Pt] = field(default_factory=list)       # approximate: realized hull
    points: list[Pt] = field(default_factory=list)      # approximate: realized points
    bounds: list[Bound] = field(default_factory=list)   # approximate: proved half-planes
    pieces: list[Piece] = field(default_factory=list)   # approximate: certified pieces
    # of a curved side (lo <= X <= hi implies Y >= m), beside the half-planes
    outer: list[Pt] | None = None                       # approximate: outer polygon
    best: dict[str, list[Pt]] = field(default_factory=dict)  # approximate: least and
    # greatest realized Y across X ('lowest', 'highest')
    gap: float | None = None
    theorem: dict | None = None     # exact from a model's region theorem: its statement,
    # family, argument and the identities checked (frontier.theorem)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def breaks(self) -> list[BoundaryPoint]:
        seen, out = set(), []
        for e in self.edges:
            for p in (e.start, e.end):
                if p is not None and p.kind == "break" and p.point not in seen:
                    seen.add(p.point)
                    out.append(p)
        return out

    def to_json(self) -> dict:
        def pt(p):
            return [_num(p[0]), _num(p[1])]

        def bpoint(p: BoundaryPoint):
            d = {"x": _num(p.x), "y": _num(p.y), "attained": p.attained, "kind": p.kind}
            if p.witness is not None:
                d["witness"] = {k: _num(v) for k, v in p.witness.items()}
            return d

        out = {
            "model": self.model, "params": self.params, "x": self.x, "y": self.y,
            "exact": self.exact, "shape": self.shape,
            "vertices": [bpoint(v) for v in self.vertices],
            "breaks": [bpoint(v) for v in self.breaks()],
            "facets": [{"a": f.a, "b": f.b, "h": _num(f.h), "formula": f.formula,
                        "equation": equation_text(f.a, f.b, f.h, self.x, self.y,
                                                  "==" if f.equality else "<="),
                        "equality": f.equality, "attained": f.attained}
                       for f in self.facets],
            "edges": [{"from": pt(e.start.point), "to": pt(e.end.point) if e.end else None,
                       "direction": pt(e.direction) if e.direction else None,
                       "facet": e.facet, "formula": self.facets[e.facet].formula,
                       "attained": e.attained,
                       **({"witness": {k: _num(v) for k, v in e.witness.items()}}
                          if e.witness else {}),
                       **({"witness_at": pt(e.witness_at)} if e.witness_at else {})}
                      for e in self.edges],
            "rays": [pt(r) for r in self.rays],
            "generators": self.generators,
            "irrelevant_components": self.irrelevant,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }
        # DESIGN.md: outer.bounds lists only half-planes that cut the box [0,1]^2 or are
        # its edges, and an exact frontier only bounds of trust certificate or kernel
        bounds = [b for b in self.bounds if _cuts_or_edges_unit_box(b) and (
            not self.exact or b.trust in ("certificate", "kernel"))]
        listed = [{"a": _num(b.a), "b": _num(b.b), "h": _num(b.h), "claim": b.claim,
                   "source": b.source, "trust": b.trust} for b in bounds]
        if self.theorem is not None or not self.exact:
            # a region theorem reports its proved sides and witnessed corners in the shape
            # of an approximate frontier, with gap 0
            out["inner"] = {"hull": [pt(p) for p in self.inner], "points": len(self.points),
                            "best": {k: [pt(p) for p in v] for k, v in self.best.items()}}
            out["outer"] = {"bounds": listed,
                            "polygon": [pt(p) for p in self.outer] if self.outer else None}
        else:
            # exact: the region itself is both sides (its vertices; its facets, each
            # proved by a certificate replayed here unless `--no-prove`), gap 0
            corners = [pt(v.point) for v in self.vertices]
            out["inner"] = {"hull": corners, "points": len(corners), "best": {}}
            out["outer"] = {"bounds": listed, "polygon": None if self.rays else corners}
            out["gap"] = 0
        if self.theorem is not None:
            out["theorem"] = self.theorem
            out["gap"] = 0
        elif not self.exact:
            out["outer"]["pieces"] = [{"claim": c.claim, "assume": list(c.assume),
                                       "x_from": _num(c.x_from), "x_to": _num(c.x_to),
                                       "y_at_least": _num(c.y_at_least),
                                       "trust": c.trust, "source": c.source}
                                      for c in self.pieces]
            out["gap"] = None if self.gap is None or math.isinf(self.gap) else round(self.gap, 6)
        return out


def _cuts_or_edges_unit_box(b: Bound) -> bool:
    """Whether the half-plane a·X + b·Y <= h excludes some point of [0,1]^2, or has an
    edge of that box on its line."""
    values = [b.a * x + b.b * y for x, y in ((0, 0), (1, 0), (0, 1), (1, 1))]
    top = max(values)
    return top > b.h or (top == b.h and values.count(top) >= 2)


def _num(v) -> str | float:
    return fraction_text(v) if isinstance(v, (Fraction, int)) else float(v)


def _open_store(store):
    """A Store, from a Store or a certificate directory (None: none, or no such directory)."""
    if store is None:
        return None
    if isinstance(store, (str, Path)):
        from ..store import DirectoryStore
        if not Path(store).is_dir():
            return None
        return DirectoryStore(store)
    return store
