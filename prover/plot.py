"""Pictures of frontiers (matplotlib, PNG or SVG).

``plot_frontier`` draws one frontier: the region, each boundary edge labelled with its
formula (solid where attained, dashed where only approached), the vertices (filled where
attained, hollow where only approached) and the counterexamples of a certificate store
whose model and parameters match, as labelled points. An approximate frontier shows the
realized points, the best realized values of Y above and below each X, and the proved
bounds. A view: it reads frontier records (``frontier.results``) and computes no
frontier; ``frontier.pictures`` makes each model's standard pictures with it.

matplotlib is imported lazily, with the Agg backend, so that nothing else pays for it.
"""

from __future__ import annotations

import math
from pathlib import Path

from .frontier.results import Frontier, _open_store
from .frontier.text import _pt_text
from .store import BadEntry

ATTAINED = "#1f5fa8"
APPROACHED = "#c0392b"
FILL = "#9ec5ea"
COUNTER = "#7b2d8e"
BOUND = "#2e8b57"
OUTLINE = "#666666"
# no dates in the files: regenerating unchanged pictures leaves them unchanged
_METADATA = {".png": {"Software": None}, ".svg": {"Date": None}}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def counterexamples(fr: Frontier, store) -> list[tuple[float, float, str]]:
    """(X, Y, id) of the refuted certificates in ``store`` (a Store or a directory) whose
    model and parameters are the frontier's and whose counterexample statistics give X
    and Y."""
    from . import expr as E
    from . import models
    from .evaluate import float_term
    from .store import read_number

    store = _open_store(store)
    if store is None:
        return []
    model = models.get(fr.model)
    inst = model.build(fr.params)
    ex, ey = E.parse_term(fr.x), E.parse_term(fr.y)
    out = []
    for cid, rec in store.records():
        if isinstance(rec, BadEntry) or rec.verdict != "refuted":
            continue
        if rec.model.name != fr.model or dict(rec.model.params) != fr.params:
            continue
        stats = rec.counterexample.statistics
        env = {}
        for k, v in stats.items():
            try:        # exact 'p/q', or a decimal for an irrational value (bounded)
                env[k] = read_number(v)
            except (ValueError, TypeError):
                continue
        try:
            px = float(float_term(ex, env, inst, exact=True))
            py = float(float_term(ey, env, inst, exact=True))
        except (KeyError, ValueError, TypeError, ZeroDivisionError):
            continue
        if math.isfinite(px) and math.isfinite(py):
            out.append((px, py, cid))
    return out


def _label_angle(ax, p, q) -> float:
    """The screen angle (degrees) of the segment p -> q, kept upright."""
    a = ax.transData.transform((float(p[0]), float(p[1])))
    b = ax.transData.transform((float(q[0]), float(q[1])))
    angle = math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))
    if angle > 90:
        angle -= 180
    elif angle <= -90:
        angle += 180
    return angle


def _outward_offset(ax, p, q, normal, points: float = 6) -> tuple[float, float]:
    """An offset in points, perpendicular to p -> q on screen, on the side of ``normal``."""
    a = ax.transData.transform((float(p[0]), float(p[1])))
    b = ax.transData.transform((float(q[0]), float(q[1])))
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy) or 1.0
    perp = (-dy / length, dx / length)
    # the side of the normal, measured in data coordinates
    tip = ax.transData.transform((float(p[0]) + float(normal[0]) * 1e-3,
                                  float(p[1]) + float(normal[1]) * 1e-3))
    side = (tip[0] - a[0]) * perp[0] + (tip[1] - a[1]) * perp[1]
    sign = 1 if side >= 0 else -1
    return sign * perp[0] * points, sign * perp[1] * points


def _view(fr: Frontier, extra: list[tuple[float, float]]):
    pts = [(float(v.x), float(v.y)) for v in fr.vertices] if fr.exact else \
        [(float(a), float(b)) for a, b in fr.points + (fr.outer or [])]
    pts += extra
    if not pts:
        return (-1, 1), (-1, 1)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    wx, wy = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    if fr.rays:
        x1 += wx * 0.5 * any(r[0] > 0 for r in fr.rays)
        x0 -= wx * 0.5 * any(r[0] < 0 for r in fr.rays)
        y1 += wy * 0.5 * any(r[1] > 0 for r in fr.rays)
        y0 -= wy * 0.5 * any(r[1] < 0 for r in fr.rays)
        wx, wy = x1 - x0, y1 - y0
    return (x0 - 0.16 * wx, x1 + 0.16 * wx), (y0 - 0.12 * wy, y1 + 0.12 * wy)


def _polygon(fr: Frontier, xlim, ylim) -> list[tuple[float, float]]:
    """The region's boundary as floats; an unbounded region is cut far outside the view
    (its first and last edges are the rays)."""
    ring = [(float(v.x), float(v.y)) for v in fr.vertices]
    if fr.shape != "unbounded":
        return ring
    far = 10 * max(xlim[1] - xlim[0], ylim[1] - ylim[0])

    def away(e):
        n = math.hypot(float(e.direction[0]), float(e.direction[1]))
        return (float(e.start.x) + far * float(e.direction[0]) / n,
                float(e.start.y) + far * float(e.direction[1]) / n)

    rays = [e for e in fr.edges if e.end is None]
    return [away(rays[0])] + ring + [away(rays[-1])]


def plot_frontier(fr: Frontier, path, store=None, *, compare: tuple = (),
                  title: str | None = None) -> Path:
    """Draw ``fr`` to ``path`` (.png or .svg). ``compare``: other frontiers of the same
    axes drawn as labelled outlines (e.g. other max_order); ``store``: a Store or a
    certificate directory whose matching counterexamples are drawn as labelled points."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        from .errors import InputError
        raise InputError(f"--plot {path}: the file must end in .png or .svg")
    plt = _pyplot()
    # SVG text stays text (searchable, smaller, styleable by the site)
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "prover-frontier"}):
        return _plot(plt, fr, path, store, compare, title)


def _plot(plt, fr: Frontier, path: Path, store, compare, title) -> Path:
    cex = counterexamples(fr, store)
    fig, ax = plt.subplots(figsize=(8.2, 7.0), dpi=150)
    # fixed margins: labels are rotated and offset in screen space, so the axes must not
    # move after they are placed (as tight_layout would); the legend goes below
    fig.subplots_adjust(left=0.09, right=0.97, bottom=0.21, top=0.94)
    xlim, ylim = _view(fr, [(p[0], p[1]) for p in cex])
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.grid(True, color="#dddddd", linewidth=0.6, zorder=0)
    ax.set_xlabel(fr.x, fontsize=12)
    ax.set_ylabel(fr.y, fontsize=12)
    params = ", ".join(f"{k} = {v}" for k, v in fr.params.items()
                       if k not in ("shared_environment", "unique_environment")
                       or v != {"shared_environment": False,
                                "unique_environment": True}[k])
    ax.set_title(title or f"{fr.model} ({params}): the region of ({fr.x}, {fr.y})"
                 + ("" if fr.exact else " — approximate"), fontsize=12)
    handles = []
    if fr.exact:
        handles += _draw_exact(ax, fr, xlim, ylim)
    else:
        handles += _draw_approximate(ax, fr, xlim, ylim)
    for other in compare:
        _draw_outline(ax, other, fr)
    if compare:
        names = sorted({k for o in compare for k in o.params
                        if o.params[k] != fr.params.get(k)})
        handles.append(plt.Line2D([], [], color=OUTLINE, linewidth=1.1, linestyle=(0, (1, 2)),
                                  label=(f"the region for other {', '.join(names)}"
                                         if all(o.exact for o in compare) else
                                         f"least realized {fr.y}, other {', '.join(names)}")))
    if cex:
        _draw_counterexamples(ax, cex, xlim)
        handles.append(plt.Line2D([], [], marker="X", linestyle="", color=COUNTER,
                                  markersize=8, label="counterexample (stored certificate)"))
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False,
               bbox_to_anchor=(0.53, 0.0))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=path.suffix[1:].lower(), metadata=_METADATA[path.suffix.lower()])
    plt.close(fig)
    return path


def _draw_exact(ax, fr: Frontier, xlim, ylim) -> list:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    handles = []
    if fr.shape in ("polygon", "unbounded"):
        ax.add_patch(Polygon(_polygon(fr, xlim, ylim), closed=True, facecolor=FILL,
                             edgecolor="none", alpha=0.55, zorder=1))
        handles.append(Polygon([(0, 0)], facecolor=FILL, alpha=0.55,
                               label="the region (exact)"))
    far = 10 * max(xlim[1] - xlim[0], ylim[1] - ylim[0])
    for e in fr.edges:
        p = (float(e.start.x), float(e.start.y))
        if e.end is not None:
            q = (float(e.end.x), float(e.end.y))
        else:
            n = math.hypot(float(e.direction[0]), float(e.direction[1]))
            q = (p[0] + far * float(e.direction[0]) / n, p[1] + far * float(e.direction[1]) / n)
        ax.plot([p[0], q[0]], [p[1], q[1]], color=ATTAINED if e.attained else APPROACHED,
                linestyle="-" if e.attained else (0, (5, 3)), linewidth=2.4, zorder=3,
                solid_capstyle="round")
    handles.append(plt.Line2D([], [], color=ATTAINED, linewidth=2.4, label="edge attained"))
    if any(not e.attained for e in fr.edges):
        handles.append(plt.Line2D([], [], color=APPROACHED, linewidth=2.4,
                                  linestyle=(0, (5, 3)), label="edge only approached"))
    # one formula per facet, at the middle of its drawn part
    cx = sum(float(v.x) for v in fr.vertices) / len(fr.vertices)
    cy = sum(float(v.y) for v in fr.vertices) / len(fr.vertices)
    for index, facet in enumerate(fr.facets):
        pieces = [e for e in fr.edges if e.facet == index]
        if not pieces:
            continue
        p = pieces[0].start.point
        last = pieces[-1]
        if last.end is not None:
            q = last.end.point
        else:
            span = max(xlim[1] - xlim[0], ylim[1] - ylim[0]) * 0.4
            d = last.direction
            n = math.hypot(float(d[0]), float(d[1]))
            q = (float(p[0]) + span * float(d[0]) / n, float(p[1]) + span * float(d[1]) / n)
        mid = ((float(p[0]) + float(q[0])) / 2, (float(p[1]) + float(q[1])) / 2)
        normal = (facet.a, facet.b) if not facet.equality else (-(float(q[1]) - float(p[1])),
                                                                 float(q[0]) - float(p[0]))
        offset = _outward_offset(ax, p, q, normal, 11)
        ax.annotate(facet.formula, mid, xytext=offset, textcoords="offset points",
                    rotation=_label_angle(ax, p, q), rotation_mode="anchor",
                    ha="center", va="center", fontsize=9.5, zorder=8,
                    color=ATTAINED if all(e.attained for e in pieces) else APPROACHED,
                    bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none",
                              alpha=0.8))
    for v in fr.vertices + fr.breaks():
        ax.plot([float(v.x)], [float(v.y)], marker="o", markersize=8, zorder=5,
                color=ATTAINED if v.attained else APPROACHED,
                markerfacecolor=ATTAINED if v.attained else "white", markeredgewidth=2)
        dx, dy = float(v.x) - cx, float(v.y) - cy
        n = math.hypot(dx, dy) or 1.0
        ax.annotate(_pt_text(v.point), (float(v.x), float(v.y)),
                    xytext=(14 * dx / n, 14 * dy / n), textcoords="offset points",
                    ha="left" if dx > 0.05 * n else "right" if dx < -0.05 * n else "center",
                    va="bottom" if dy > 0 else "top", fontsize=9, zorder=8)
    handles.append(plt.Line2D([], [], marker="o", linestyle="", color=ATTAINED,
                              markersize=7, label="vertex attained"))
    if any(not v.attained for v in fr.vertices + fr.breaks()):
        handles.append(plt.Line2D([], [], marker="o", linestyle="", color=APPROACHED,
                                  markerfacecolor="white", markeredgewidth=2, markersize=7,
                                  label="vertex only approached"))
    return handles


def _draw_outline(ax, other: Frontier, main: Frontier) -> None:
    """Another frontier of the same axes as a dotted outline, labelled along an edge of
    its own (one the main region does not share)."""
    label = ", ".join(f"{k} = {v}" for k, v in other.params.items()
                      if k in ("max_order", "max_degree", "degree"))
    if not other.exact:
        # an approximate region: its least realized Y across X, dotted and labelled
        low = [(float(a), float(b)) for a, b in other.best.get("lowest", [])]
        if len(low) >= 2:
            ax.plot([p[0] for p in low], [p[1] for p in low], color=OUTLINE,
                    linewidth=1.1, linestyle=(0, (1, 2)), zorder=2)
            p, q = low[len(low) // 2], low[len(low) // 2 + 1]
            ax.annotate(label, p, xytext=(0, -9), textcoords="offset points",
                        rotation=_label_angle(ax, p, q), rotation_mode="anchor",
                        ha="center", va="center", fontsize=7.5, color=OUTLINE, zorder=7)
        return
    ring = [(float(v.x), float(v.y)) for v in other.vertices]
    if other.shape in ("polygon", "unbounded"):
        ring.append(ring[0])
    ax.plot([p[0] for p in ring], [p[1] for p in ring], color=OUTLINE, linewidth=1.1,
            linestyle=(0, (1, 2)), zorder=2)
    shared = {(f.a, f.b, f.h) for f in main.facets}
    for e in other.edges:
        f = other.facets[e.facet]
        if (f.a, f.b, f.h) in shared or e.end is None:
            continue
        p, q = e.start.point, e.end.point
        at = (float(p[0]) + 0.3 * float(q[0] - p[0]), float(p[1]) + 0.3 * float(q[1] - p[1]))
        inward = (-f.a, -f.b)
        ax.annotate(label, at, xytext=_outward_offset(ax, p, q, inward, 7),
                    textcoords="offset points", rotation=_label_angle(ax, p, q),
                    rotation_mode="anchor", ha="center", va="center", fontsize=7.5,
                    color=OUTLINE, zorder=7)
        break


def _draw_counterexamples(ax, cex, xlim) -> None:
    """Points with their certificate ids; ids at the same point share one label."""
    ax.scatter([p[0] for p in cex], [p[1] for p in cex], marker="X", s=60,
               color=COUNTER, edgecolor="white", linewidth=0.6, zorder=6)
    at: dict[tuple[float, float], list[str]] = {}
    for px, py, cid in cex:
        at.setdefault((round(px, 9), round(py, 9)), []).append(cid.split("/")[-1])
    middle = (xlim[0] + xlim[1]) / 2
    for (px, py), ids in list(at.items())[:20]:
        right = px > middle
        ax.annotate("\n".join(ids), (px, py), xytext=(-6 if right else 6, 0),
                    textcoords="offset points", ha="right" if right else "left",
                    va="center", fontsize=7, color=COUNTER, zorder=7,
                    bbox=dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none",
                              alpha=0.7))


def _draw_approximate(ax, fr: Frontier, xlim, ylim) -> list:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    handles = []
    if fr.outer:
        ring = [(float(a), float(b)) for a, b in fr.outer]
        ax.add_patch(Polygon(ring, closed=True, facecolor="#e8f4ea", edgecolor=BOUND,
                             linewidth=1.4, linestyle=(0, (4, 2)), zorder=1))
        handles.append(Polygon([(0, 0)], facecolor="#e8f4ea", edgecolor=BOUND,
                               linestyle=(0, (4, 2)), label="outer: proved bounds"))
        for i, p in enumerate(fr.outer):
            q = fr.outer[(i + 1) % len(fr.outer)]
            bound = next((b for b in fr.bounds if b.a * p[0] + b.b * p[1] == b.h
                          and b.a * q[0] + b.b * q[1] == b.h), None)
            if bound is None or p == q:
                continue
            mid = ((float(p[0]) + float(q[0])) / 2, (float(p[1]) + float(q[1])) / 2)
            ax.annotate(bound.claim, mid,
                        xytext=_outward_offset(ax, p, q, (float(bound.a), float(bound.b)), 9),
                        textcoords="offset points", rotation=_label_angle(ax, p, q),
                        rotation_mode="anchor", ha="center", va="center", fontsize=8.5,
                        color=BOUND, zorder=8,
                        bbox=dict(boxstyle="round,pad=0.1", facecolor="white",
                                  edgecolor="none", alpha=0.8))
    pts = [(float(a), float(b)) for a, b in fr.points]
    if pts:
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=6, color=ATTAINED,
                   alpha=0.45, zorder=3)
        handles.append(plt.Line2D([], [], marker="o", linestyle="", color=ATTAINED,
                                  markersize=3, label="realized points (exact)"))
        for env in fr.best.values():
            ax.plot([float(p[0]) for p in env], [float(p[1]) for p in env], color=ATTAINED,
                    linewidth=1.6, zorder=4)
        handles.append(plt.Line2D([], [], color=ATTAINED, linewidth=1.6,
                                  label=f"least and greatest realized {fr.y}"))
    if fr.pieces:
        for c in fr.pieces:
            ax.plot([float(c.x_from), float(c.x_to)], [float(c.y_at_least)] * 2,
                    color=BOUND, linewidth=2.2, solid_capstyle="butt", zorder=5)
        handles.append(plt.Line2D([], [], color=BOUND, linewidth=2.2,
                                  label=f"certified: {fr.y} >= m on each band of {fr.x}"))
    gap = "unbounded" if fr.gap is None or math.isinf(fr.gap) else f"{fr.gap:.3f}"
    ax.text(0.99, 0.01, f"distance between inner and outer: {gap}", transform=ax.transAxes,
            ha="right", fontsize=8, color="#444444")
    return handles


if __name__ == "__main__":
    # `python -m prover.plot`: this file runs as __main__, a module apart from prover.plot
    from .frontier.pictures import main
    raise SystemExit(main())
