"""Frontiers: the exact region of two statistics, which parts of its boundary are attained,
the conjectures that pin it down (checked for real), and its pictures."""

from __future__ import annotations

import argparse
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction as F

import pytest

from prover import models
from prover.errors import InputError
from prover.frontier import (conjectures, emit, frontier, halfplanes, inequality_text,
                             linear_text, parse_params, run_command)
from prover.store import MemoryStore

from helpers import certificate


def vertices(fr):
    return {(v.x, v.y): v.attained for v in fr.vertices}


def edges(fr):
    """{formula: [(from, to, attained), ...]} in boundary order."""
    out = {}
    for e in fr.edges:
        out.setdefault(fr.facets[e.facet].formula, []).append(
            (e.start.point, e.end.point if e.end else None, e.attained))
    return out


# --- twins: (rDZ/rMZ, s2) -------------------------------------------------------------------

def test_twins_order_1_is_the_segment_s2_equals_4rho_minus_1():
    fr = frontier("twins", "rDZ/rMZ", "s2", {"max_order": 1})
    assert fr.exact and fr.shape == "segment"
    assert vertices(fr) == {(F(1, 4), F(0)): True, (F(1, 2), F(1)): True}
    assert edges(fr) == {"s2 == 4*(rDZ/rMZ) - 1": [((F(1, 4), F(0)), (F(1, 2), F(1)), True)]}
    assert [f.formula for f in fr.facets] == ["s2 == 4*(rDZ/rMZ) - 1", "rDZ/rMZ >= 1/4",
                                              "rDZ/rMZ <= 1/2"]
    assert fr.irrelevant == ["VE"]


def test_twins_order_2_triangle_all_attained():
    fr = frontier("twins", "rDZ/rMZ", "s2", {"max_order": 2})
    assert fr.shape == "polygon"
    assert vertices(fr) == {(F(1, 16), F(0)): True, (F(1, 4), F(0)): True,
                            (F(1, 2), F(1)): True}
    assert edges(fr) == {
        "s2 >= 0": [((F(1, 16), F(0)), (F(1, 4), F(0)), True)],
        "s2 >= 4*(rDZ/rMZ) - 1": [((F(1, 4), F(0)), (F(1, 2), F(1)), True)],
        "s2 <= (16*(rDZ/rMZ) - 1)/7": [((F(1, 2), F(1)), (F(1, 16), F(0)), True)],
    }
    assert [(f.a, f.b, f.h) for f in fr.facets] == [(0, -1, 0), (4, -1, 1), (-16, 7, -1)]
    # the witnesses are single-component architectures at the vertices
    wit = {(v.x, v.y): {k: x for k, x in v.witness.items() if x} for v in fr.vertices}
    assert wit == {(F(1, 16), F(0)): {"VDD": 1}, (F(1, 4), F(0)): {"VD": 1},
                   (F(1, 2), F(1)): {"VA": 1}}


@pytest.mark.parametrize("order", [1, 2, 3, 4, 6, 12])
def test_twins_upper_edge_runs_from_4_to_minus_K_towards_2rho(order):
    fr = frontier("twins", "rDZ/rMZ", "s2", {"max_order": order})
    corner = (F(1, 4 ** order), F(0))
    assert vertices(fr)[(F(1, 2), F(1))] is True
    assert vertices(fr)[corner] is True
    # the lower edge s2 = 4 rho - 1 is attained for every K
    lower = [f for f in fr.facets if (f.a, f.b, f.h) == (4, -1, 1)]
    assert lower and lower[0].attained == "all"
    if order > 1:
        # upper edge through (4^-K, 0) and (1/2, 1): s2 <= (rho - 4^-K)/(1/2 - 4^-K)
        upper = [f for f in fr.facets if f.b > 0][0]
        assert upper.a * corner[0] + upper.b * corner[1] == upper.h
        assert upper.a * F(1, 2) + upper.b == upper.h
        assert upper.attained == "all"
    assert all(e.attained for e in fr.edges)


def test_twins_h2_falconer_vertex_at_zero_is_only_approached():
    """VE alone puts (h2, falconer) at (0, 0), but VE alone is no genetic architecture
    (V_G > 0): the corner is approached, the edges through it are attained."""
    fr = frontier("twins", "h2", "falconer", {"max_order": 2})
    assert vertices(fr) == {(F(0), F(0)): False, (F(1), F(1)): True, (F(0), F(15, 8)): True}
    assert edges(fr)["falconer >= h2"] == [((F(0), F(0)), (F(1), F(1)), True)]
    assert all(e.attained for e in fr.edges)
    assert {f.formula: f.attained for f in fr.facets}["falconer >= h2"] == "part"


def test_twins_is_fast_at_order_6():
    fr = frontier("twins", "rDZ/rMZ", "s2", {"max_order": 6})
    assert fr.seconds < 10
    assert vertices(fr)[(F(1, 4096), F(0))]


# --- multilinear: (s2, r2) ------------------------------------------------------------------

@pytest.mark.parametrize("k", [3, 4, 7])
def test_multilinear_finite_degree_lower_edge_is_s2_over_2_plus_2_to_minus_K(k):
    fr = frontier("multilinear", "s2", "r2", {"max_degree": k})
    assert vertices(fr) == {(F(0), F(1, 2 ** k)): True, (F(1), F(1, 2)): True,
                            (F(0), F(1, 4)): True}
    lower = next(f for f in fr.facets if f.b < 0)
    for s2 in (F(0), F(1, 3), F(1)):        # r2 = s2/2 + 2^-K (1 - s2) on the edge
        r2 = s2 / 2 + F(1, 2 ** k) * (1 - s2)
        assert lower.a * s2 + lower.b * r2 == lower.h
    assert all(e.attained for e in fr.edges)
    assert "r2 <= (s2 + 1)/4" in edges(fr)


def test_multilinear_degree_2_is_the_upper_segment():
    fr = frontier("multilinear", "s2", "r2", {"max_degree": 2})
    assert fr.shape == "segment"
    assert edges(fr) == {"r2 == (s2 + 1)/4": [((F(0), F(1, 4)), (F(1), F(1, 2)), True)]}


def test_multilinear_all_degrees_lower_edge_only_approached():
    fr = frontier("multilinear", "s2", "r2")
    assert vertices(fr) == {(F(0), F(0)): False, (F(1), F(1, 2)): True,
                            (F(0), F(1, 4)): True}
    assert edges(fr) == {
        "r2 >= s2/2": [((F(0), F(0)), (F(1), F(1, 2)), False)],
        "r2 <= (s2 + 1)/4": [((F(1), F(1, 2)), (F(0), F(1, 4)), True)],
        "s2 >= 0": [((F(0), F(1, 4)), (F(0), F(0)), True)],
    }
    assert {f.formula: f.attained for f in fr.facets} == {
        "r2 >= s2/2": "part", "r2 <= (s2 + 1)/4": "all", "s2 >= 0": "part"}
    assert fr.generators["Wtail"] == {"from": ["0", "0"], "to": ["0", "1/32"],
                                      "as": "u from 0 (open) to 1/32 (closed)"}


@pytest.mark.parametrize("degree", [3, "inf"])
def test_multilinear_witnesses_are_realized_exactly(degree):
    """Every witness, rebuilt as a function on the cube by the model's realizer (exact
    enumeration, not the 2^-k formula), lands on its point."""
    fr = frontier("multilinear", "s2", "r2", {"max_degree": degree})
    inst = models.get("multilinear").build(fr.params)
    cases = [(v.witness, (v.x, v.y)) for v in fr.vertices if v.attained]
    cases += [(e.witness, ((e.start.x + e.end.x) / 2, (e.start.y + e.end.y) / 2))
              for e in fr.edges if e.attained]
    assert len(cases) >= 4
    for witness, point in cases:
        ev = inst.realize(witness, seed=1)
        assert (ev.exact["s2"], ev.exact["r2"]) == point


def test_vertex_approached_across_a_face_splits_the_face_at_a_break():
    """A toy model: A at (1, 0), B at (1/2, 0), and T sweeping (u, u) for u in (0, 1].
    (0, 0) is a limit of T's points, which leave the bottom face at once: the bottom face
    is attained only from B's point on, the diagonal (T's own) everywhere but (0, 0)."""
    from prover import expr as E
    from prover.frontier import _exact_frontier, _linear_fractional
    from prover.models.base import Atom, Model, ModelInstance, Ratio, Statistic
    from prover.poly import Poly

    a, b, t, u = (Poly.var(n) for n in "ABTu")
    total = a + b + t

    class Toy(Model):
        name = "toy"

    inst = ModelInstance(
        model=Toy(), params={}, variables=["A", "B", "T", "u"], components=["A", "B", "T"],
        constraints=[Atom(a, ">="), Atom(b, ">="), Atom(t, ">="), Atom(total, ">"),
                     Atom(u, ">"), Atom(1 - u, ">=")],
        statistics={"x": Statistic("x", "", Ratio(a + b.scale(F(1, 2)) + u * t, total)),
                    "y": Statistic("y", "", Ratio(u * t, total))})
    ex, ey = E.parse_term("x"), E.parse_term("y")
    fr = _exact_frontier(inst, _linear_fractional(inst, ex, ey), ex, ey, "x", "y")
    assert vertices(fr) == {(F(0), F(0)): False, (F(1), F(0)): True, (F(1), F(1)): True}
    assert [(b.point, b.attained) for b in fr.breaks()] == [((F(1, 2), F(0)), True)]
    assert edges(fr) == {"y >= 0": [((F(0), F(0)), (F(1, 2), F(0)), False),
                                    ((F(1, 2), F(0)), (F(1), F(0)), True)],
                         "x <= 1": [((F(1), F(0)), (F(1), F(1)), True)],
                         "y <= x": [((F(1), F(1)), (F(0), F(0)), True)]}
    got = {(c.name, c.claim, c.assume, c.expect) for c in conjectures(fr)}
    assert ("edge-1-strict", "y > 0", ("x < 1/2",), "valid") in got
    assert ("vertex-1-strict", "x > 0", (), "valid") in got


# --- unbounded and refused regions ----------------------------------------------------------

def test_component_outside_the_denominator_makes_the_region_unbounded():
    fr = frontier("twins", "e2/H2", "s2", {"max_order": 2})
    assert fr.shape == "unbounded" and fr.rays == [(F(1), F(0))]
    assert edges(fr) == {"s2 <= 1": [((F(0), F(1)), None, True)],
                         "e2/H2 >= 0": [((F(0), F(1)), (F(0), F(0)), True)],
                         "s2 >= 0": [((F(0), F(0)), None, True)]}


def test_region_unbounded_both_ways_is_refused():
    with pytest.raises(InputError, match="opposite directions"):
        frontier("twins", "(e2 - c2)/H2", "s2", {"max_order": 1, "shared_environment": True})


def test_input_errors_name_the_axis_and_suggest():
    with pytest.raises(InputError, match=r"Y = 'r3': unknown name 'r3'; did you mean"):
        frontier("multilinear", "s2", "r3")
    with pytest.raises(InputError, match="'rDZ' is not available here"):
        frontier("multilinear", "s2", "rDZ")
    with pytest.raises(InputError, match="unknown model"):
        frontier("twin", "h2", "s2")
    with pytest.raises(InputError, match="KEY=VALUE"):
        parse_params(["max_order"])
    assert parse_params(["max_order=6", "shared_environment=true", "max_degree=inf"]) == {
        "max_order": 6, "shared_environment": True, "max_degree": "inf"}


# --- formulas -------------------------------------------------------------------------------

def test_formulas_are_exact_and_readable():
    assert linear_text(F(16, 7), F(-1, 7), "rDZ/rMZ") == "(16*(rDZ/rMZ) - 1)/7"
    assert linear_text(F(1, 2), F(0), "s2") == "s2/2"
    assert linear_text(F(-7, 8), F(15, 8), "h2") == "(15 - 7*h2)/8"
    assert inequality_text(4, -1, 1, "rDZ/rMZ", "s2") == "s2 >= 4*(rDZ/rMZ) - 1"
    assert inequality_text(4, -1, 1, "rDZ/rMZ", "s2", shift=F(1, 16)) == \
        "s2 >= 4*(rDZ/rMZ) - 1 + 1/16"
    assert inequality_text(0, -1, 0, "x", "s2", shift=F(1, 16)) == "s2 >= 1/16"
    assert inequality_text(-1, 0, 0, "s2", "r2", "<") == "s2 > 0"


# --- emitted conjectures, checked for real -------------------------------------------------

def _check(path):
    from prover.check import check
    from prover.conjecture import load
    conj = load(path)
    outcome = check(conj, timeout=60)
    return path.name, conj.expect, outcome.verdict, outcome.certificate.get("reason")


def _check_all(paths):
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_check, paths))


def test_emitted_conjectures_say_what_is_attained():
    fr = frontier("multilinear", "s2", "r2")
    got = {(c.name, c.claim, c.assume, c.expect) for c in conjectures(fr)}
    assert ("facet-1", "r2 >= s2/2", (), "valid") in got
    assert ("facet-1-tight", "r2 >= s2/2 + 1/16", (), "refuted") in got
    assert ("edge-1-strict", "r2 > s2/2", ("s2 < 1",), "valid") in got
    assert ("vertex-1-strict", "r2 > 0", (), "valid") in got        # (0, 0) approached
    assert ("vertex-2-tight", "r2 <= 7/16", (), "refuted") in got      # 1/2 - 1/16


def test_emitted_conjectures_check_as_expected(tmp_path):
    """The boundary of twins (rDZ/rMZ, s2) at K = 2, multilinear (s2, r2) at K = 3 and
    for all degrees: every edge valid, every tightness variant refuted (with a confirmed
    counterexample), every strict claim on an approached part valid."""
    paths = []
    for model, x, y, params in (("twins", "rDZ/rMZ", "s2", {"max_order": 2}),
                                ("multilinear", "s2", "r2", {"max_degree": 3}),
                                ("multilinear", "s2", "r2", {})):
        paths += emit(frontier(model, x, y, params), tmp_path / f"{model}-{len(paths)}")
    assert len(paths) == 9 + 9 + 10
    text = (tmp_path / "twins-0" / "facet-2-tight.toml").read_text()
    assert 'claim = "s2 >= 4*(rDZ/rMZ) - 1 + 1/16"' in text
    assert 'assume = ["VE == 0"]' in text and "max_order = 2" in text
    results = _check_all(paths)
    wrong = [r for r in results if r[1] != r[2]]
    assert not wrong, wrong
    assert sum(r[2] == "refuted" for r in results) == 6 + 6 + 5


# --- approximate frontiers ------------------------------------------------------------------

def test_square_root_gives_an_approximate_frontier_of_exact_points():
    fr = frontier("multilinear", "s2", "r", {"max_degree": 3}, prove=False, samples=150,
                  directions=8)
    assert not fr.exact and fr.shape == "approximate"
    assert "auxiliary variable" in fr.notes[0]
    assert len(fr.points) > 50
    for s2, r in fr.points:       # every realized point is inside the exact (s2, r2) region
        assert 0 <= s2 <= 1
        assert s2 / 2 + (1 - s2) / 8 - F(1, 10 ** 9) <= r * r <= (1 + s2) / 4 + F(1, 10 ** 9)


def test_gaussian_realized_points_are_exact_and_break_the_cube_bound():
    fr = frontier("gaussian", "s2", "r2", prove=False)
    assert all(r2 <= (1 + s2) / 4 for s2, r2 in fr.points)       # proved fact, exactly
    assert any(r2 < s2 / 2 for s2, r2 in fr.points)              # F = x - x^3 and friends
    low = fr.best["lowest"]
    assert low == sorted(low) and len(low) > 10


def test_outer_bounds_from_the_store_and_the_gap():
    store = MemoryStore()
    params = models.get("multilinear").validate_params({"max_degree": 3})
    for i, claim in enumerate(["s2 >= 0", "s2 <= 1", "r2 >= s2/2", "r <= 3/4"]):
        store.save(certificate(f"b{i}", "multilinear", params, claim, "valid"))
    store.save(certificate("cond", "multilinear", params, "r <= 0", "valid",
                           assume=["s2 > 2"]))
    fr = frontier("multilinear", "s2", "r", {"max_degree": 3}, store=store, prove=False,
                  samples=100, directions=8)
    assert sorted(b.source for b in fr.bounds) == ["store:b0", "store:b1", "store:b3"]
    assert fr.outer is None and fr.gap == float("inf")     # nothing bounds r from below
    from prover import expr as E
    assert halfplanes(E.parse_formula("r2 <= 0.99*(1 + s2)/4"), E.parse_term("s2"),
                      E.parse_term("r2")) == [(F(-99, 400), F(1), F(99, 400))]


def test_proved_bounds_are_valid_and_close_the_gap():
    fr = frontier("multilinear", "s2", "r", {"max_degree": 2}, samples=100, directions=8,
                  timeout=20)
    assert fr.bounds and all(b.source == "z3" for b in fr.bounds)
    # with degree <= 2, r = sqrt((1 + s2)/4): the realized curve is the whole region
    assert fr.gap is not None and fr.gap < 0.05


# --- pictures and the command ---------------------------------------------------------------

def test_plot_png_and_svg_with_formulas_and_counterexamples(tmp_path):
    from prover.plot import plot_frontier

    fr = frontier("twins", "rDZ/rMZ", "s2", {"max_order": 2})
    store = MemoryStore()
    store.save(certificate("mine/pgs", "twins", fr.params, "s2 <= 0", "refuted",
                           statistics={"rDZ": "1/5", "rMZ": "1/2", "s2": "1/2"}))
    store.save(certificate("other-order", "twins", {**fr.params, "max_order": 3}, "s2 <= 0",
                           "refuted", statistics={"rDZ": "1/5", "rMZ": "1/2", "s2": "0"}))
    svg = plot_frontier(fr, tmp_path / "f.svg", store=store).read_text()
    assert "s2 &gt;= 4*(rDZ/rMZ) - 1" in svg and "(1/16, 0)" in svg
    assert "pgs" in svg and "other-order" not in svg
    png = plot_frontier(fr, tmp_path / "f.png", store=store)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match=r"\.png or \.svg"):
        plot_frontier(fr, tmp_path / "f.pdf")


def test_command_json_emit_and_plot(tmp_path, capsys):
    args = argparse.Namespace(model="multilinear", x="s2", y="r2", param=[], json=True,
                              plot=[str(tmp_path / "m.svg")], emit=str(tmp_path / "c"),
                              epsilon="1/32", no_prove=False, timeout=None)
    assert run_command(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["exact"] is True
    assert {(v["x"], v["y"], v["attained"]) for v in doc["vertices"]} == {
        ("0", "0", False), ("1", "1/2", True), ("0", "1/4", True)}
    assert [(e["formula"], e["attained"]) for e in doc["edges"]] == [
        ("r2 >= s2/2", False), ("r2 <= (s2 + 1)/4", True), ("s2 >= 0", True)]
    assert len(doc["emitted"]) == 10 and doc["plots"] == [str(tmp_path / "m.svg")]
    assert 'claim = "r2 >= s2/2 + 1/32"' in (tmp_path / "c" / "facet-1-tight.toml").read_text()
    args.epsilon = "-1"
    with pytest.raises(InputError, match="positive rational"):
        run_command(args)


def test_exact_frontier_json_has_both_sides_and_gap_zero():
    """DESIGN.md's frontier shape holds for an exact polygon too: gap 0, the region's
    vertices as the inner side, and each facet as a proved outer bound (its certificate
    found and replayed); the bounds are checked here against the vertices."""
    doc = frontier("twins", "rDZ/rMZ", "s2", {"max_order": 2}).to_json()
    assert doc["gap"] == 0
    corners = [(F(x), F(y)) for x, y in doc["inner"]["hull"]]
    assert set(corners) == {(F(1, 16), F(0)), (F(1, 4), F(0)), (F(1, 2), F(1))}
    assert doc["outer"]["polygon"] == doc["inner"]["hull"]
    bounds = doc["outer"]["bounds"]
    assert [b["claim"] for b in bounds] == ["s2 >= 0", "s2 >= 4*(rDZ/rMZ) - 1",
                                            "s2 <= (16*(rDZ/rMZ) - 1)/7"]
    for b in bounds:
        a, bb, h = F(b["a"]), F(b["b"]), F(b["h"])
        values = [a * x + bb * y for x, y in corners]
        assert all(v <= h for v in values) and values.count(h) == 2, b  # a side, exactly
        assert b["trust"] == "certificate" and "replayed by the checker" in b["source"]
    # --no-prove: nothing is certified, so nothing is listed as proved
    unproved = frontier("twins", "rDZ/rMZ", "s2", {"max_order": 2}, prove=False).to_json()
    assert unproved["outer"]["bounds"] == [] and unproved["gap"] == 0


@pytest.mark.parametrize("a, b, h, listed", [
    (1, 0, F(15, 8), False),    # x <= 15/8: the whole box inside, no edge on it
    (8, 7, 15, False),          # only touches the corner (1, 1)
    (1, 0, 1, True),            # x <= 1: an edge of the box
    (0, -1, 0, True),           # y >= 0: an edge
    (1, 1, 1, True),            # cuts the box
    (-1, 0, -2, True),          # x >= 2: excludes all of it
])
def test_outer_bounds_are_those_that_cut_the_unit_box_or_are_its_edges(a, b, h, listed):
    from prover.frontier import Bound
    from prover.frontier.results import Frontier
    bound = Bound(F(a), F(b), F(h), "claim", "z3", "solver")
    fr = Frontier(model="twins", params={}, x="x", y="y", exact=False, shape="approximate",
                  bounds=[bound])
    assert bool(fr.to_json()["outer"]["bounds"]) is listed


def test_frontier_lists_no_bound_the_others_imply():
    """informative() keeps the box and every slanted bound the rest does not imply; an
    independent LP (scipy) decides each implication."""
    from fractions import Fraction as Fr

    from scipy.optimize import linprog

    from prover.frontier.approximate import informative
    from prover.frontier.results import Bound

    def bd(a, b, h, claim):
        return Bound(Fr(a), Fr(b), Fr(h), claim, "z3", "solver")

    box = [bd(1, 0, 1, "s2 <= 1"), bd(-1, 0, 0, "s2 >= 0"), bd(0, 1, Fr(1, 2), "r2 <= 1/2"),
           bd(0, -1, 0, "r2 >= 0")]
    slanted = [bd(2, 2, 3, "r2 <= (3 - 2*s2)/2"), bd(1, -1, 1, "r2 >= s2 - 1"),
               bd(-4, 4, 1, "r2 <= (4*s2 + 1)/4"), bd(-1, 4, 1, "r2 <= (s2 + 1)/4"),
               bd(32, -96, 33, "r2 >= (32*s2 - 33)/96")]
    kept = informative(box + slanted)
    assert [b.claim for b in kept] == [b.claim for b in box] + ["r2 <= (s2 + 1)/4"]

    def implied(b, others):
        res = linprog([-float(b.a), -float(b.b)], A_ub=[[float(o.a), float(o.b)] for o in others],
                      b_ub=[float(o.h) for o in others], bounds=[(None, None)] * 2)
        return res.status == 0 and -res.fun <= float(b.h) + 1e-12
    for b in kept[4:]:
        assert not implied(b, [o for o in kept if o is not b])
    for b in slanted:
        if b not in kept:
            assert implied(b, kept)


def test_frontier_lists_one_bound_per_direction_the_tightest_best_trusted():
    """The same half-plane found by z3 and read from the store (kernel) is listed once, at
    the stronger trust; a scaled copy (2*r2 <= 1) counts as the same direction; a tighter
    bound of lower trust is kept beside a looser better-trusted one."""
    from fractions import Fraction as Fr

    from prover.frontier.approximate import informative
    from prover.frontier.results import Bound

    z3_half = Bound(Fr(0), Fr(1), Fr(1, 2), "r2 <= 1/2", "z3", "solver")
    store_half = Bound(Fr(0), Fr(2), Fr(1), "2*r2 <= 1", "store:a", "kernel")
    z3_tight = Bound(Fr(0), Fr(1), Fr(2, 5), "r2 <= 2/5", "z3", "solver")
    store_loose = Bound(Fr(0), Fr(1), Fr(3, 5), "r2 <= 3/5", "store:b", "certificate")
    floor = Bound(Fr(0), Fr(-1), Fr(0), "r2 >= 0", "z3", "solver")
    kept = informative([z3_half, floor, store_half, z3_tight, store_loose])
    assert [b.claim for b in kept] == ["r2 >= 0", "2*r2 <= 1", "r2 <= 2/5"]
    kept = informative([store_half, z3_half, floor])
    assert [b.claim for b in kept] == ["2*r2 <= 1", "r2 >= 0"]
    # opposite directions never merge
    assert len(informative([floor, Bound(Fr(0), Fr(1), Fr(0), "r2 <= 0", "z3", "solver")])) == 2


def test_the_gap_counts_the_certified_pieces_and_every_uncovered_stretch():
    """The outer side is the polygon cut by each piece's floor on its band; stretches of X
    no band covers keep the whole polygon. Unit square outer, inner hull the top half:
    by hand, floors 1/2 on [0, 1/2] and 1/4 on [1/2, 1] leave the point (1, 1/4) at 1/4
    from the hull; bands [0, 1/4] and [3/4, 1] leave (1/4, 0) uncovered, at 1/2."""
    from fractions import Fraction as Fr

    from prover.frontier.approximate import _hausdorff, _outer_parts
    from prover.frontier.results import Piece

    def piece(lo, hi, m):
        return Piece(Fr(lo), Fr(hi), Fr(m), "c", (), "test", "certificate")

    square = [(Fr(0), Fr(0)), (Fr(1), Fr(0)), (Fr(1), Fr(1)), (Fr(0), Fr(1))]
    top = [(Fr(0), Fr(1, 2)), (Fr(1), Fr(1, 2)), (Fr(1), Fr(1)), (Fr(0), Fr(1))]

    def gap(pieces):
        return max(_hausdorff(part, top) for part in _outer_parts(square, pieces))

    assert gap([]) == 0.5
    assert gap([piece(0, Fr(1, 2), Fr(1, 2)), piece(Fr(1, 2), 1, Fr(1, 4))]) == 0.25
    assert gap([piece(0, 1, Fr(1, 2))]) == 0.0
    assert gap([piece(0, Fr(1, 4), Fr(1, 2)), piece(Fr(3, 4), 1, Fr(1, 2))]) == 0.5
    parts = _outer_parts(square, [piece(0, Fr(1, 4), Fr(1, 2)), piece(Fr(3, 4), 1, Fr(1, 2))])
    assert sorted(min(p[0] for p in part) for part in parts) == [0, Fr(1, 4), Fr(3, 4)]


def test_huge_rational_bounds_are_shown_as_short_decimals():
    from fractions import Fraction as Fr

    from prover.frontier.results import Bound
    from prover.frontier.text import bound_display

    b = Bound(Fr(-123456789, 987654321), Fr(1), Fr(1, 3), "r2 <= huge", "store:x", "kernel")
    assert bound_display(b, "s2", "r2") == "r2 <= 0.125*s2 + 0.333333 (approx.)"
    small = Bound(Fr(-1, 4), Fr(1), Fr(1, 4), "r2 <= (s2 + 1)/4", "z3", "solver")
    assert bound_display(small, "s2", "r2") == "r2 <= (s2 + 1)/4"


def test_boundary_proposals_stop_at_the_frontiers_deadline(monkeypatch):
    """Each gaussian band's proposal is a float optimization: they are made one at a
    time, and none after the deadline (all five were made before it was looked at)."""
    import time

    import prover.quadratic_ratio as qr
    from prover import models
    from prover.frontier import approximate

    made = []
    real = qr.best_form

    def slow_best_form(*args, **kwargs):
        made.append(args[1])
        time.sleep(0.2)
        return real(*args, **kwargs)

    monkeypatch.setattr(qr, "best_form", slow_best_form)
    from prover import expr as E
    inst = models.get("gaussian").instance({"dim": 1, "degree": 3})
    pieces = approximate._certified_pieces(inst, E.parse_term("s2"), E.parse_term("r2"),
                                           "s2", "r2", timeout=0.1)
    assert made == [0]                     # the first band's, then the deadline had passed
    assert len(pieces) <= 1                # only that band could be certified
