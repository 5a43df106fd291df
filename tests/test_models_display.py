"""What the views show of a model lives with the model (models/display.py): its standard
pictures, and how its realizations read."""

from __future__ import annotations

from prover import expr as E
from prover import models, show
from prover.models.display import Picture, approx_text, plotted_axes


def test_every_model_declares_pictures_over_its_own_statistics():
    for name in models.names():
        model = models.get(name)
        assert model.pictures, name
        for picture in model.pictures:
            for params in (picture.params, *picture.compare):
                inst = model.build(model.validate_params(dict(params)))
                for axis in (picture.x, picture.y):
                    E.check_names(E.parse_term(axis), inst.names())   # raises if unknown


def test_the_pictures_are_the_ones_the_readme_shows():
    stems = {name: [p.stem for p in models.get(name).pictures] for name in models.names()}
    assert stems == {"gaussian": ["frontier-gaussian"], "general": ["frontier-general"],
                     "multilinear": ["frontier-multilinear"],
                     "twins": ["frontier-twins", "frontier-twins-h2-falconer"]}
    twins = models.get("twins").pictures[0]
    assert (twins.x, twins.y, dict(twins.params), twins.compare) == \
        ("rDZ/rMZ", "s2", {}, ({"max_order": 2},))


def test_plotted_axes_put_statistics_before_expressions():
    pictures = (Picture("a", "rDZ/rMZ", "s2"), Picture("b", "h2", "falconer"),
                Picture("c", "s2", "h2"))
    assert plotted_axes(pictures) == ["s2", "h2", "falconer", "rDZ/rMZ"]
    assert plotted_axes(()) == []


def test_twins_realization_reads_as_show_prints_it():
    real = {"allele_frequency": "1/2", "n_loci": 2,
            "terms": [{"component": "VA", "contrasts": ["additive"], "loci": [0],
                       "effect": "sqrt(1/8) * a(g0)", "variance": "1/8"},
                      {"component": "VAD", "contrasts": ["additive", "dominance"],
                       "loci": [0, 1], "effect": "e", "variance": "7/8"}],
            "unique_environment_variance": "1/3", "phenotype": "P = G + E"}
    lines = models.get("twins").realization_lines(real)
    assert lines == show._architecture("twins", real)      # show reads the model's lines
    assert show._architecture("nosuchmodel", {"x": "1/2"}) == ["  x: 1/2"]
    assert lines[1] == ("  VA = 1/8 (≈0.125): sqrt(1/8) * a(g0) (1 additive contrast(s) "
                        "on loci [0])")
    assert models.get("twins").realization_lines({"x": 1}) is None
    assert models.get("multilinear").realization_lines(real) is None


def test_approx_text():
    assert approx_text("3/8") == "3/8 (≈0.375)"
    assert approx_text("2") == "2" and approx_text(5) == "5" and approx_text("1/0") == "1/0"
