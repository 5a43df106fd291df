"""``python -m prover`` runs the command line; so does the ``prover`` command
(``main``). For ``check`` and ``verify`` the zygote is forked first, before the command
line's own modules are imported, so that its imports overlap all of theirs
(prover/zygote.py)."""

import sys


def main() -> None:
    from . import zygote
    if zygote.wanted(sys.argv[1:]):
        zygote.start()
    from .cli import run
    run()


if __name__ == "__main__":
    main()
