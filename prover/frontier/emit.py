"""Conjectures that pin a frontier down, and writing them as conjecture files.

``emit(frontier, directory)`` writes one conjecture file per boundary edge (expect
valid), a variant with the constant strengthened by a small rational for every edge and
every attained vertex (expect refuted: the bound is tight), and strict versions for
every part that is only approached (expect valid: it is not attained). An approximate
frontier emits its proved bounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..poly import fraction_text
from .geometry import primitive_normal
from .results import DEFAULT_EPSILON, BoundaryPoint, Frontier
from .text import _atom_text, _pt_text, inequality_text


def _toml_value(v) -> str:
    import json
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v), ensure_ascii=False)


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
    return s or "x"


def frontier_id(fr: Frontier) -> str:
    chosen = fr.theorem["family_params"] if fr.theorem else fr.params
    params = "-".join(f"{_slug(k)}{_slug(str(v))}" for k, v in sorted(chosen.items())
                      if k in ("max_order", "max_degree", "degree", "dim", "atoms"))
    return f"frontier/{fr.model}-{_slug(fr.x)}-{_slug(fr.y)}" + (f"-{params}" if params else "")


@dataclass(frozen=True)
class EmittedConjecture:
    name: str
    title: str
    claim: str
    expect: str
    assume: tuple[str, ...] = ()


def conjectures(fr: Frontier, epsilon: Fraction = DEFAULT_EPSILON) -> list[EmittedConjecture]:
    """The conjectures that pin the frontier down (see the module docstring)."""
    eps = Fraction(epsilon)
    out: list[EmittedConjecture] = []
    x, y = fr.x, fr.y
    if not fr.exact:
        for i, b in enumerate(fr.bounds, 1):
            out.append(EmittedConjecture(f"bound-{i}", f"Proved bound on ({x}, {y})",
                                         b.claim, "valid"))
        return out
    # components that change neither X nor Y are pinned to 0 in the tightness variants:
    # no witness is lost, and the realizer's estimates get less noisy
    pin = tuple(f"{k} == 0" for k in fr.irrelevant)
    for i, f in enumerate(fr.facets, 1):
        rel = "==" if f.equality else "<="
        where = _face_text(fr, i - 1)
        out.append(EmittedConjecture(f"facet-{i}", f"Frontier {where}: {f.formula}",
                                     f.formula, "valid"))
        if not f.equality:
            tight = inequality_text(f.a, f.b, f.h, x, y, rel, shift=eps)
            out.append(EmittedConjecture(
                f"facet-{i}-tight", f"The bound {f.formula} is tight: it cannot be "
                f"strengthened by {fraction_text(eps)}", tight, "refuted", pin))
    # approached pieces of edges: the strict inequality holds there (an end where the
    # face goes on — a break, or a vertex that is attained — is excluded by assumption)
    for j, e in enumerate(fr.edges, 1):
        if e.attained or (e.end is not None and e.end.point == e.start.point):
            continue
        f = fr.facets[e.facet]
        axis, k = (x, 0) if f.b != 0 else (y, 1)
        if e.end is not None:
            low, high = sorted((e.start, e.end), key=lambda p: p.point[k])
        else:
            low, high = (e.start, None) if e.direction[k] > 0 else (None, e.start)
        assume = []
        for p, rel in ((low, ">"), (high, "<")):
            if p is not None and (p.attained or p.kind == "break"):
                assume.append(f"{_atom_text(axis)} {rel} {fraction_text(p.point[k])}")
        to = _pt_text(e.end.point) if e.end else "infinity"
        out.append(EmittedConjecture(
            f"edge-{j}-strict", f"The bound {f.formula} is only approached between "
            f"{_pt_text(e.start.point)} and {to}",
            inequality_text(f.a, f.b, f.h, x, y, "<"), "valid", tuple(assume)))
    # vertices: a supporting line through the vertex alone (the sum of its facets' normals)
    for j, v in enumerate(fr.vertices, 1):
        normal = _vertex_normal(fr, v)
        if normal is None:
            continue
        h = normal[0] * v.x + normal[1] * v.y
        if v.attained:
            claim = inequality_text(normal[0], normal[1], h, x, y, "<=", shift=eps)
            out.append(EmittedConjecture(
                f"vertex-{j}-tight", f"The vertex {_pt_text(v.point)} is attained: "
                f"{inequality_text(normal[0], normal[1], h, x, y)} cannot be strengthened "
                f"by {fraction_text(eps)}", claim, "refuted", pin))
        else:
            claim = inequality_text(normal[0], normal[1], h, x, y, "<")
            out.append(EmittedConjecture(
                f"vertex-{j}-strict", f"The vertex {_pt_text(v.point)} is only approached",
                claim, "valid"))
    # a segment's ends are facets and vertices at once: say each thing once
    seen, unique = set(), []
    for c in out:
        if (c.claim, c.assume) not in seen:
            seen.add((c.claim, c.assume))
            unique.append(c)
    return unique


def _face_text(fr: Frontier, index: int) -> str:
    edges = [e for e in fr.edges if e.facet == index]
    if not edges:
        touching = [v for v in fr.vertices
                    if fr.facets[index].a * v.x + fr.facets[index].b * v.y == fr.facets[index].h]
        return "at " + ", ".join(_pt_text(v.point) for v in touching)
    first, last = edges[0], edges[-1]
    to = _pt_text(last.end.point) if last.end else "infinity"
    return f"edge from {_pt_text(first.start.point)} to {to}"


def _vertex_normal(fr: Frontier, v: BoundaryPoint) -> tuple[int, int] | None:
    """A normal whose supporting line meets the region at ``v`` only."""
    normals = [(f.a, f.b) for f in fr.facets
               if not f.equality and f.a * v.x + f.b * v.y == f.h]
    if fr.shape == "segment":
        return normals[0] if normals else None
    if len(normals) < 2:
        return None
    s = (sum(n[0] for n in normals), sum(n[1] for n in normals))
    return None if s == (0, 0) else primitive_normal(*s)


def emit(fr: Frontier, directory, epsilon: Fraction = DEFAULT_EPSILON) -> list[Path]:
    """Write the frontier's conjectures as TOML files in ``directory``; returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    base = frontier_id(fr)
    paths = []
    # a region theorem's tightness variants are refuted by its witnesses: check them
    # where those live (the theorem's family parameters), not on a smaller instance
    chosen = fr.theorem["family_params"] if fr.theorem else fr.params
    params = "\n".join(f"{k} = {_toml_value(v)}" for k, v in chosen.items())
    for c in conjectures(fr, epsilon):
        lines = [f"# written by `prover frontier {fr.model} {fr.x!r} {fr.y!r}`: "
                 f"{'exact' if fr.exact else 'approximate'} frontier",
                 f"id = {_toml_value(base + '/' + c.name)}",
                 f"title = {_toml_value(c.title)}",
                 f"model = {_toml_value(fr.model)}",
                 f"claim = {_toml_value(c.claim)}"]
        if c.assume:
            lines.append("assume = [" + ", ".join(_toml_value(a) for a in c.assume) + "]")
        lines.append(f"expect = {_toml_value(c.expect)}")
        if params:
            lines += ["", "[params]", params]
        path = directory / f"{c.name}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
