"""``python -m prover`` runs the command line."""

from .cli import run

run()
