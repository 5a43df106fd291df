"""Each model's standard frontier pictures (what the README and the site show): the
frontiers of the axes its module declares (``Model.pictures``, see models/display.py),
computed here and drawn by ``prover.plot``.

    python -m prover.plot [--store DIR] [OUTDIR] [MODEL ...]   regenerates them (docs/)
"""

from __future__ import annotations

from pathlib import Path

from .. import models
from ..errors import InputError
from ..plot import plot_frontier
from .region import frontier as compute_frontier
from .results import DEFAULT_SAMPLES


def _pictures(model_name: str) -> tuple:
    return tuple(models.get(model_name).pictures)


def models_with_pictures() -> list[str]:
    return [name for name in models.names() if _pictures(name)]


def plot_model_frontiers(model_name: str, outdir, store="certificates") -> list[Path]:
    """The standard frontier pictures of a model, as PNG and SVG in ``outdir``:
    twins (rDZ/rMZ, s2) and (h2, falconer); multilinear (s2, r2); gaussian and general
    (s2, r2), approximate. Counterexamples come from ``store`` when it matches."""
    pictures = _pictures(model_name) if model_name in models.names() else ()
    if not pictures:
        raise InputError(f"no standard frontier pictures for model '{model_name}'; "
                         f"models with pictures: {', '.join(sorted(models_with_pictures()))}")
    outdir = Path(outdir)
    paths = []
    for picture in pictures:
        x, y = picture.x, picture.y
        fr = compute_frontier(model_name, x, y, dict(picture.params), store=store)
        # other parameters drawn as outlines: realized only (no proofs), with more
        # samples, since their families are larger
        others = [compute_frontier(model_name, x, y, dict(p), prove=False,
                                   samples=4 * DEFAULT_SAMPLES) for p in picture.compare]
        for suffix in (".png", ".svg"):
            paths.append(plot_frontier(fr, outdir / f"{picture.stem}{suffix}", store=store,
                                       compare=others))
    return paths


def main(argv: list[str] | None = None) -> int:
    """Regenerate the standard frontier pictures:

        python -m prover.plot [--store DIR] [OUTDIR] [MODEL ...]

    OUTDIR defaults to docs/, the models to all that have pictures; counterexamples come
    from the certificate store (default certificates/, as `prover check` writes it)."""
    import argparse
    import sys

    from ..errors import ProverError

    parser = argparse.ArgumentParser(prog="python -m prover.plot", description=main.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default="certificates", metavar="DIR")
    parser.add_argument("outdir", nargs="?", default="docs")
    parser.add_argument("models", nargs="*", metavar="MODEL")
    args = parser.parse_args(argv)
    try:
        for model in args.models or sorted(models_with_pictures()):
            for path in plot_model_frontiers(model, args.outdir, store=args.store):
                print(f"wrote {path}")
    except ProverError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
