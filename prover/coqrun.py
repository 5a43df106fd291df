"""Running ``coqc`` on many Coq files, cached: the batches, the cache and the prelude the
files of ``prover.coq`` share.

``compile_many`` compiles many files in one coqc run (each file's body in its own
``Module``), isolates a failing proof (it is taken out and the rest recompiled), and keeps
a cache of accepted files keyed by sha256 of the text and the coqc version, in
``$PROVER_CACHE_DIR`` or ``$XDG_CACHE_HOME/prover/coq`` or ``~/.cache/prover/coq``. A
cache entry is written only after coqc accepted exactly that text with that coqc, so a
hit is the same record a fresh compile would give. ``prover verify --kernel`` never uses
the cache: it always recompiles.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .coqtext import (ALLOWED_AXIOMS, CoqUnavailable, _axioms_listed, _NOT_ALLOWED,
                      _strip_comments)

PRELUDE = """Require Import Reals Psatz Lra.
Open Scope R_scope.

(* prover's link lemmas: a comparison and its cleared atom, given (R - L) * d = p, d > 0 *)
Lemma prover_le : forall x y d p, 0 < d -> (y - x) * d = p -> (x <= y <-> 0 <= p).
Proof. intros x y d p Hd He; subst p; split; intro; nra. Qed.
Lemma prover_lt : forall x y d p, 0 < d -> (y - x) * d = p -> (x < y <-> 0 < p).
Proof. intros x y d p Hd He; subst p; split; intro; nra. Qed.
Lemma prover_ge : forall x y d p, 0 < d -> (x - y) * d = p -> (x >= y <-> 0 <= p).
Proof. intros x y d p Hd He; subst p; split; intro; nra. Qed.
Lemma prover_gt : forall x y d p, 0 < d -> (x - y) * d = p -> (x > y <-> 0 < p).
Proof. intros x y d p Hd He; subst p; split; intro; nra. Qed.
Lemma prover_eq : forall x y d p, 0 < d -> (x - y) * d = p -> (x = y <-> p = 0).
Proof.
  intros x y d p Hd He; subst p; split; intro H.
  - subst; ring.
  - destruct (Rmult_integral _ _ H) as [H0|H0]; lra.
Qed.
Lemma prover_nle : forall x y d p q, 0 < d -> (y - x) * d = p -> - p = q ->
  (~ x <= y <-> 0 < q).
Proof. intros x y d p q Hd He Hq; subst p q; split; intro H; [apply Rnot_le_lt in H | intro]; nra. Qed.
Lemma prover_nlt : forall x y d p q, 0 < d -> (y - x) * d = p -> - p = q ->
  (~ x < y <-> 0 <= q).
Proof. intros x y d p q Hd He Hq; subst p q; split; intro H; [apply Rnot_lt_le in H | intro]; nra. Qed.
Lemma prover_nge : forall x y d p q, 0 < d -> (x - y) * d = p -> - p = q ->
  (~ x >= y <-> 0 < q).
Proof. intros x y d p q Hd He Hq; subst p q; split; intro H; [apply Rnot_ge_lt in H | intro]; nra. Qed.
Lemma prover_ngt : forall x y d p q, 0 < d -> (x - y) * d = p -> - p = q ->
  (~ x > y <-> 0 <= q).
Proof. intros x y d p q Hd He Hq; subst p q; split; intro H; [apply Rnot_gt_le in H | intro]; nra. Qed.
Lemma prover_neq : forall x y d p q, 0 < d -> (x - y) * d = p -> - p = q ->
  (~ x = y <-> 0 < p \\/ 0 < q).
Proof.
  intros x y d p q Hd Hp Hq; subst p q; split; intro H.
  - destruct (Rtotal_order x y) as [H0|[H0|H0]]; [right | contradiction | left]; nra.
  - intro; subst; lra.
Qed.
Lemma prover_min_cases : forall x y, Rmin x y = x \\/ Rmin x y = y.
Proof. intros x y; unfold Rmin; destruct (Rle_dec x y); auto. Qed.
Lemma prover_max_cases : forall x y, Rmax x y = x \\/ Rmax x y = y.
Proof. intros x y; unfold Rmax; destruct (Rle_dec x y); auto. Qed.
(* a comparison of one statistic n / d with a constant, cleared by e = d: no field *)
Lemma prover_clear_sub : forall n d e c, d <> 0 -> e = d -> (n / d - c) * e = n - c * d.
Proof. intros n d e c H He; subst e; field; exact H. Qed.
Lemma prover_clear_rsub : forall n d e c, d <> 0 -> e = d -> (c - n / d) * e = c * d - n.
Proof. intros n d e c H He; subst e; field; exact H. Qed.
Ltac prover_pos := first [ assumption | lra | apply Rmult_lt_0_compat; prover_pos ].
Ltac prover_nz := repeat split; intro; first [ lra | nra ].
Ltac prover_pick := first [ left; lra | right; prover_pick | lra ].
"""


# --- coqc: batches and a cache -----------------------------------------------------------------

_VERSION_CACHE: dict[str, str] = {}


def coqc_version() -> str:
    coqc = shutil.which("coqc")
    if coqc is None:
        return ""
    if coqc not in _VERSION_CACHE:
        try:
            out = subprocess.run([coqc, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        _VERSION_CACHE[coqc] = out.splitlines()[0] if out else ""
    return _VERSION_CACHE[coqc]


def cache_dir() -> Path:
    if os.environ.get("PROVER_CACHE_DIR"):
        return Path(os.environ["PROVER_CACHE_DIR"]) / "coq"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "prover" / "coq"


def _cache_key(text: str, version: str) -> str:
    return hashlib.sha256((version + "\0" + text).encode()).hexdigest()


def _cache_get(text: str, version: str) -> dict | None:
    path = cache_dir() / (_cache_key(text, version) + ".json")
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if entry.get("ok") is True and entry.get("coqc") == version and \
            entry.get("file_sha256") == hashlib.sha256(text.encode()).hexdigest():
        return entry
    return None


def _cache_put(text: str, version: str, seconds: float) -> None:
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        entry = {"ok": True, "coqc": version, "seconds": round(seconds, 3),
                 "file_sha256": hashlib.sha256(text.encode()).hexdigest()}
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(entry, fh)
        os.replace(tmp, folder / (_cache_key(text, version) + ".json"))
    except OSError:
        pass        # a cache that cannot be written only costs time


_PRINT = re.compile(r"\nPrint Assumptions ([A-Za-z_][\w']*)\.\n\Z")
_UNSAFE_IN_BATCH = re.compile(r"\b(Module|End|Section|Redirect|Require|Import|Export|Declare|"
                              r"Set|Unset|Local|Global|Load|Drop|Reset|Back)\b")


def _batch_body(text: str) -> tuple[str, str] | None:
    """(body, theorem name) when ``text`` is PRELUDE + body + Print Assumptions: such texts
    can share one coqc run."""
    if text.count(PRELUDE) != 1:
        return None
    rest = text.split(PRELUDE, 1)[1]
    m = _PRINT.search(rest)
    if not m:
        return None
    body = rest[:m.start()] + "\n"
    if _UNSAFE_IN_BATCH.search(_strip_comments(body)):
        return None
    return body, m.group(1)


def _run_coqc(coqc: str, folder: str, name: str, text: str, timeout: float):
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    start = time.perf_counter()
    try:
        proc = subprocess.run([coqc, "-q", name], cwd=folder, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"coqc timed out after {timeout:g} s", time.perf_counter() - start
    return proc, (proc.stdout + proc.stderr).strip(), time.perf_counter() - start


def _axioms_ok(output: str) -> str:
    extra = [a for a in _axioms_listed(output) if a not in ALLOWED_AXIOMS]
    return (f"the proof uses axioms beyond the standard real numbers: {', '.join(extra)}"
            if extra else "")


def _compile_one(coqc: str, text: str, timeout: float) -> tuple[bool, str, float]:
    with tempfile.TemporaryDirectory(prefix="prover-coq-") as tmp:
        proc, output, seconds = _run_coqc(coqc, tmp, "Claim.v", text, timeout)
    if proc is None:
        return False, output, seconds
    if proc.returncode != 0:
        return False, output or f"coqc exited with code {proc.returncode}", seconds
    bad = _axioms_ok(output)
    if bad:
        return False, bad + "\n" + output, seconds
    return True, (output + "\n" if output else "") + f"coqc: ok in {seconds:.2f} s", seconds


def _compile_batch(coqc: str, items: list[tuple[int, str, str]], timeout: float,
                   results: dict, alone: list[int]) -> None:
    """Compile ``items`` [(index, body, theorem)] in one file; a proof that fails is taken
    out (into ``alone``, to be compiled by itself) and the rest compiled again."""
    items = list(items)
    while items:
        lines = [PRELUDE]
        spans = []
        for k, (idx, body, thm) in enumerate(items):
            first = sum(part.count("\n") for part in lines) + 1
            lines.append(f"Module P_{k}.\n{body}End P_{k}.\n")
            spans.append((first, sum(part.count("\n") for part in lines)))
        # one Print Assumptions for the whole batch (it costs about 0.6 s each): the axioms
        # of a tuple of every proof are the union of theirs
        pair = f"P_{len(items) - 1}.{items[-1][2]}"
        for k in range(len(items) - 2, -1, -1):
            pair = f"(P_{k}.{items[k][2]}, {pair})"
        lines.append(f"Definition prover_batch := {pair}.\n"
                     "Redirect \"assumptions\" Print Assumptions prover_batch.\n")
        text = "".join(lines)
        with tempfile.TemporaryDirectory(prefix="prover-coq-") as tmp:
            proc, output, seconds = _run_coqc(coqc, tmp, "Batch.v", text,
                                              timeout * max(1, len(items)))
            printed = None
            if proc is not None and proc.returncode == 0:
                try:
                    printed = Path(tmp, "assumptions.out").read_text()
                except OSError:
                    printed = None
        if proc is None:                       # timed out: each proof by itself
            alone += [idx for idx, _, _ in items]
            return
        if proc.returncode == 0:
            if printed is None or _axioms_ok(printed):
                # some proof uses another axiom (or none was printed): each by itself, so
                # that only the guilty ones fail
                alone += [idx for idx, _, _ in items]
                return
            share = seconds / len(items)
            for idx, _, _ in items:
                results[idx] = (True, printed.strip() + f"\ncoqc: ok in a batch of "
                                f"{len(items)} ({seconds:.2f} s)", share)
            return
        m = re.search(r'line (\d+)', output)
        line = int(m.group(1)) if m else -1
        bad = [k for k, (a, b) in enumerate(spans) if a <= line <= b]
        if not bad:                            # not attributable: each proof by itself
            alone += [idx for idx, _, _ in items]
            return
        alone.append(items[bad[0]][0])
        items = items[:bad[0]] + items[bad[0] + 1:]


def _cost(text: str) -> float:
    """A proof's expected coqc time, up to a factor: the sum over its lines of length to
    the 1.25 (each tactic's normalization grows a little faster than the polynomial it
    reads), twelve times that for a line that calls ``field`` (it normalizes rational
    functions: a twins link over 66 variables takes 1.9 s). Fitted to the time of each
    of the 35 bundled proofs' own sentences (coqc -time): largest error 0.7 s (1.45 s
    without the field weight, which left the two batches 16.7 s and 13.9 s; now 15.4 s
    and 15.2 s); the file's length put the degree-3 and degree-8 gaussian bounds (the
    same length, 5.4 s and 9.8 s) on a par. Plus a fixed part per proof (about 0.35 s in
    a batch: its lemmas, Qeds and module), which dominates the small ones."""
    return 40_000 + sum(len(line) ** 1.25 * (12 if "field" in line else 1)
                        for line in _strip_comments(text).splitlines())


def compile_many(texts: list[str], timeout: float = 120, *, cache: bool = True,
                 jobs: int = 1) -> list[tuple[bool, str]]:
    """Compile each Coq file; returns [(ok, output)] in order. ok as in
    ``prover.coqtext.compile_coq``. Files sharing ``PRELUDE`` are compiled together in one
    coqc run (``jobs`` runs in parallel); a failing one is isolated and compiled alone, so
    it never costs the others their result. With ``cache``, a file accepted before (same
    text, same coqc version) is not compiled again."""
    coqc = shutil.which("coqc")
    if coqc is None:
        raise CoqUnavailable("coqc not installed: apt-get install coq")
    version = coqc_version()
    results: dict[int, tuple[bool, str, float]] = {}
    batchable, alone = [], []
    for i, text in enumerate(texts):
        bad = _NOT_ALLOWED.search(_strip_comments(text))
        if bad:
            results[i] = (False, f"refused: the file uses '{bad.group(1)}' (a proof must be "
                                 "complete)", 0.0)
            continue
        hit = _cache_get(text, version) if cache else None
        if hit is not None:
            results[i] = (True, f"coqc: ok (cached: {version} accepted this text, sha256 "
                                f"{hit['file_sha256'][:12]}, in {hit.get('seconds')} s)", 0.0)
            continue
        parts = _batch_body(text)
        if parts is None:
            alone.append(i)
        else:
            batchable.append((i, *parts))
    if len(batchable) == 1:
        alone.append(batchable.pop()[0])
    if batchable:
        jobs = max(1, min(jobs, len(batchable)))
        # costliest first onto the lightest chunk, so that no coqc run finishes alone
        chunks: list[list] = [[] for _ in range(jobs)]
        load = [0.0] * jobs
        costs = {it[0]: _cost(texts[it[0]]) for it in batchable}
        for item in sorted(batchable, key=lambda it: (-costs[it[0]], it[0])):
            k = load.index(min(load))
            chunks[k].append(item)
            load[k] += costs[item[0]]
        for chunk in chunks:
            chunk.sort()                            # the files' order within a run
        lonely: list[list[int]] = [[] for _ in chunks]
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(lambda k: _compile_batch(coqc, chunks[k], timeout, results,
                                                   lonely[k]), range(jobs)))
        alone += [i for part in lonely for i in part]
    if alone:
        jobs = max(1, min(jobs, len(alone)))
        with ThreadPoolExecutor(jobs) as pool:
            for i, res in zip(alone, pool.map(lambda i: _compile_one(coqc, texts[i], timeout),
                                              alone)):
                results[i] = res
    out = []
    for i, text in enumerate(texts):
        ok, output, seconds = results[i]
        if ok and cache and not output.startswith("coqc: ok (cached"):
            _cache_put(text, version, seconds)
        out.append((ok, output))
    return out
