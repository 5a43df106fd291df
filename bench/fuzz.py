"""A longer fuzz campaign than tests/test_fuzz.py: random and mutated input for the
expression parser, the conjecture loader, the certificate loader and what reads a loaded
certificate (show, the shape check, verify). Prints, per target, examples per second and
the failures found: any exception that is not prover's own error, or an example slower
than the bound. Failures are printed with a reproducer (repr of the input), at most three
per target.

    python bench/fuzz.py              # 20 s per target
    python bench/fuzz.py 120 --seed 7

Exit 1 when a failure was found.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from prover import expr as E                                        # noqa: E402
from prover.conjecture import load                                  # noqa: E402
from prover.errors import MalformedCertificate, ProverError         # noqa: E402
from prover.show import render                                      # noqa: E402
from prover.store import DirectoryStore, certificate_problem        # noqa: E402

SLOW = 3.0      # seconds: an example slower than this is a failure
CLAIMS = [
    "h2 <= 2*rDZ", "4*rDZ - rMZ <= h2 <= 2*rDZ", "rDZ >= 0.45*rMZ implies s2 >= 0.9",
    "sqrt(VA) + abs(rDZ - 1/2) < max(h2, 2^-3, 1e-5)", "not (r2 > s2/2 or s2 == 1)",
    "((2^32)^32)^32 >= h2", "(VA + VD)^8 >= 0", "min(h2, rDZ, 1/3)^-2 > 0",
]
TOML = ('id = "fuzz/one"\ntitle = "t"\nmodel = "twins"\nclaim = "h2 <= 2*rDZ"\n'
        'assume = ["rMZ >= 1/2", "rDZ <= 0.3"]\nexpect = "valid"\ntimeout = 5\n'
        '[params]\nmax_order = 2\n')
CERT_ID = "twins/h2-at-most-2rDZ"
CERTIFICATE = (REPO / "certificates" / f"{CERT_ID}.json").read_text("utf-8")
PIECES = ["(", ")", "^", "**", "*", "/", "+", "-", "<=", "==", ",", ".", "e", "9" * 50,
          "1e299", "1e-299", " and ", " or ", " not ", " implies ", "sqrt(", "min(", "h2",
          "rDZ", "\u202e", "\x00", "\x1b[2J", "≤", '"', "'", "\n", "[", "]", "{", "}", "=",
          "#", "\\", "nan", "inf", "1e400", "[[params]]", "\xff", "^32", "(" * 70]


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 8)):
        n = len(text)
        i = rng.randint(0, n)
        j = rng.randint(i, min(n, i + 30))
        op = rng.randrange(5)
        if op == 0:
            text = text[:i] + text[j:]
        elif op == 1:
            text = text[:i] + rng.choice(PIECES) + text[i:]
        elif op == 2:
            text = text[:i] + text[i:j] * rng.randint(2, 60) + text[j:]
        elif op == 3:
            text = text[:i] + rng.choice(PIECES) + text[j:]
        else:
            text = text[:i] + chr(rng.randrange(0, 0x3000)) + text[j:]
    return text


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES + list("abcxyz0123456789 "))
                   for _ in range(rng.randint(0, 80)))


def json_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 5, 10 ** 40, 1.5, float("1e308")])
    if kind in (3, 4):
        return rng.choice(["", "valid", "1/0", "-3/4", "9" * 5000, "kernel", "x", "farkas"])
    if kind in (5, 6):
        return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["kind", "cases", "products", "atoms", "multiplier", "values",
                        "name", "params"]): json_value(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


def reshape(rng: random.Random) -> dict:
    doc = json.loads(CERTIFICATE)
    for _ in range(rng.randint(1, 3)):
        paths, stack = [], [((), doc)]
        while stack:
            path, value = stack.pop()
            if path:
                paths.append(path)
            if isinstance(value, dict):
                stack += [(path + (k,), v) for k, v in value.items()]
            elif isinstance(value, list):
                stack += [(path + (i,), v) for i, v in enumerate(value)]
        path = rng.choice(paths)
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = json_value(rng)
    doc["id"] = CERT_ID
    return doc


def reader_copes(doc: dict, store) -> None:
    from prover.verify import verify_one

    if certificate_problem(doc) is None:
        try:
            render(doc)
        except MalformedCertificate:
            pass
    with mock.patch("prover.solvers.solve", side_effect=ProverError("no solver in fuzz")):
        verify_one(doc, store=store)


def targets(rng: random.Random, tmp: Path):
    conj_path = tmp / "c.toml"
    store = DirectoryStore(tmp / "store")
    cert_path = store.path_for(CERT_ID)
    cert_path.parent.mkdir(parents=True)
    bundled = DirectoryStore(REPO / "certificates")

    def parser():
        text = mutate(rng, rng.choice(CLAIMS)) if rng.random() < 0.7 else random_text(rng)
        for parse in (E.parse_formula, E.parse_term):
            try:
                parse(text)
            except ProverError:
                pass
        return text

    def loader():
        seed = TOML.replace("h2 <= 2*rDZ", rng.choice(CLAIMS))
        text = mutate(rng, seed) if rng.random() < 0.8 else random_text(rng)
        conj_path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            load(conj_path)
        except ProverError:
            pass
        return text

    def certificate():
        text = mutate(rng, CERTIFICATE)
        cert_path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            doc = store.fetch(CERT_ID)
        except ProverError:
            return text
        reader_copes(doc, bundled)
        return text

    def reshaped():
        doc = reshape(rng)
        reader_copes(doc, bundled)
        return doc

    return {"expression parser": parser, "conjecture loader": loader,
            "certificate loader": certificate, "reshaped certificate": reshaped}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("seconds", nargs="?", type=float, default=20.0,
                    help="seconds per target (default 20)")
    ap.add_argument("--seed", type=int, default=20261203)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    os.chdir(REPO)              # certificates name their sources relative to the project
    failures_total = 0
    print(f"fuzz campaign: {args.seconds:g} s per target, seed {args.seed}, "
          f"slow bound {SLOW:g} s")
    print(f"{'target':24} {'examples':>9} {'per s':>8} {'slowest s':>10} {'failures':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, run in targets(rng, Path(tmp)).items():
            count, failures, slowest = 0, [], 0.0
            end = time.perf_counter() + args.seconds
            while time.perf_counter() < end:
                start = time.perf_counter()
                sample = None
                try:
                    sample = run()
                except Exception:       # not prover's own error: a bug
                    failures.append(traceback.format_exc(limit=3))
                took = time.perf_counter() - start
                slowest = max(slowest, took)
                if took > SLOW:
                    failures.append(f"slow example ({took:.1f} s): {sample!r:.300}")
                count += 1
            elapsed = args.seconds
            print(f"{name:24} {count:9d} {count / elapsed:8.0f} {slowest:10.3f} "
                  f"{len(failures):9d}")
            for failure in failures[:3]:
                print("    " + failure.replace("\n", "\n    "))
            failures_total += len(failures)
    print(f"failures found: {failures_total}")
    return 1 if failures_total else 0


if __name__ == "__main__":
    sys.exit(main())
