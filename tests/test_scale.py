"""Scale-out: ``--shard K/N`` (disjoint, covering, deterministic shares) and
``--scheduler ADDRESS`` (conjectures and bounds rows on a real dask.distributed cluster,
with the verdicts and certificates of a local run, the store written by the client, and
the budget and memory cap holding on the workers)."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest

from prover.cli import main
from prover.shard import Shard, parse_shard

ROOT = Path(__file__).resolve().parent.parent
VALID = 'model = "twins"\nclaim = "h2 <= 2*rDZ"\n[params]\nmax_order = 1\n'
REFUTED = 'model = "twins"\nclaim = "falconer <= h2"\nexpect = "refuted"\n[params]\nmax_order = 1\n'
# fast bundled conjectures: two valid with exact certificates, two refuted
BUNDLED = ["twins/h2-at-most-2rDZ", "twins/phantom-bounds", "twins/falconer-lower-bounds-h2",
           "twins/shared-env-rDZ-can-exceed-half-rMZ"]


def _bundled():
    from prover.conjecture import discover, load
    found, errors = discover([str(ROOT / "conjectures")])
    assert not errors
    return [load(path, root) for path, root in found]


# --- --shard --------------------------------------------------------------------------

def test_shards_partition_the_bundled_conjectures_whatever_their_order():
    conjectures = _bundled()
    ids = {c.id for c in conjectures}
    assert len(ids) == len(conjectures) > 40
    shuffled = conjectures[:]
    random.Random(13).shuffle(shuffled)
    for n in (1, 2, 3, 4, 7, len(ids) + 3):
        shares = [{c.id for c in Shard(k, n).select(conjectures, key=lambda c: c.id)}
                  for k in range(1, n + 1)]
        assert set().union(*shares) == ids                                  # covering
        assert sum(len(s) for s in shares) == len(ids)                      # disjoint
        assert max(map(len, shares)) - min(map(len, shares)) <= 1           # balanced
        for order in (shuffled, conjectures[::-1]):                          # deterministic
            assert [{c.id for c in Shard(k, n).select(order, key=lambda c: c.id)}
                    for k in range(1, n + 1)] == shares


def test_a_share_keeps_the_given_order_of_its_items():
    assert Shard(2, 3).select(["c", "a", "e", "b", "d"], key=str) == ["e", "b"]
    assert Shard(1, 2).select(["r1", "r2", "r3"]) == ["r1", "r3"]


@pytest.mark.parametrize("spec, why", [("0/3", "K must be between 1 and 3"),
                                       ("4/3", "K must be between 1 and 3"),
                                       ("x", "expected K/N"), ("3", "expected K/N"),
                                       ("1/0", "N must be at least 1"), ("-1/2", "expected K/N")])
@pytest.mark.parametrize("command", [["check"], ["verify"],
                                     ["bounds", "twins", "h2", "--input", "t.csv"]])
def test_bad_shard_is_an_input_error(tmp_path, monkeypatch, capsys, command, spec, why):
    monkeypatch.chdir(tmp_path)
    assert main(command + [f"--shard={spec}"]) == 2
    err = capsys.readouterr().err
    assert why in err and "1 <= K <= N" in err and "Traceback" not in err
    with pytest.raises(ValueError, match="K/N"):
        parse_shard(spec)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    (tmp_path / "conjectures").mkdir()
    for name in "abcde":
        (tmp_path / "conjectures" / f"{name}.toml").write_text(REFUTED if name == "c" else VALID)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_shards_cover_every_conjecture_once(tree, capsys):
    seen = []
    for k in (1, 2, 3):
        assert main(["check", "--json", "--shard", f"{k}/3"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["shard"] == {"index": k, "count": 3, "selected": len(doc["results"]),
                                "total": 5}
        seen += [r["id"] for r in doc["results"]]
    assert sorted(seen) == list("abcde")
    # paths given in another order: the same share
    assert main(["check", "--json", "--shard", "2/3", "conjectures/e.toml", "conjectures/d.toml",
                 "conjectures/c.toml", "conjectures/b.toml", "conjectures/a.toml"]) == 0
    assert sorted(r["id"] for r in json.loads(capsys.readouterr().out)["results"]) == ["b", "e"]
    assert main(["check", "--shard", "2/3"]) == 0
    assert "shard 2/3: 2 of 5 conjectures\n2 checked in" in capsys.readouterr().out
    assert main(["check", "--shard", "6/6"]) == 0          # an empty share is no error
    assert capsys.readouterr().out.strip() == "shard 6/6: 0 of 5 conjectures"


def test_verify_shards_cover_the_store(tree, capsys):
    assert main(["check", "-q"]) == 0
    seen = []
    for k in (1, 2):
        assert main(["verify", "--json", "--shard", f"{k}/2"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["passed"] and doc["shard"]["total"] == 5
        seen += [r["id"] for r in doc["results"]]
    assert sorted(seen) == list("abcde")
    assert main(["verify", "--shard", "2/2"]) == 0
    assert "shard 2/2: 2 of 5 certificates\n2 certificates: 2 pass" in capsys.readouterr().out
    assert main(["verify", "--shard", "9/9", "--junit", "v.xml"]) == 0
    assert "shard 9/9: 0 of 5 certificates" in capsys.readouterr().out
    assert "<error" not in Path("v.xml").read_text()
    shutil.rmtree("certificates")
    assert main(["verify", "--shard", "1/2"]) == 1          # an empty store still fails


def test_bounds_shards_split_a_tables_rows(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("t.csv").write_text("rMZ,rDZ\n0.62,0.25\n0.5,0.2\n0.6,0.31\n0.7,0.3\n0.4,0.15\n")
    rows = []
    for k in (1, 2):
        code = main(["bounds", "twins", "h2", "--input", "t.csv", "--no-prove", "--no-realize",
                     "--shard", f"{k}/2"])
        out, err = capsys.readouterr()
        assert code == (1 if k == 1 else 0)        # row 3 (rDZ > rMZ/2) is infeasible
        assert f"shard {k}/2: {3 if k == 1 else 2} of 5 rows" in err
        lines = out.splitlines()
        assert lines[0] == "rMZ,rDZ,h2_lower,h2_upper,feasible"
        rows += lines[1:]
    assert sorted(r.split(",")[0] for r in rows) == ["0.4", "0.5", "0.6", "0.62", "0.7"]
    assert main(["bounds", "twins", "h2", "--given", "rMZ=0.6", "--shard", "1/2"]) == 2
    assert "--shard splits a table's rows" in capsys.readouterr().err


# --- --scheduler without a cluster ----------------------------------------------------

def test_scheduler_without_distributed_says_how_to_install(tree, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)      # import fails
    for command in (["check"], ["verify"], ["bounds", "twins", "h2", "--given", "rMZ=0.6"]):
        assert main(command + ["--scheduler", "tcp://127.0.0.1:8786"]) == 2
        err = capsys.readouterr().err
        assert "pip install 'prover[dask]'" in err and "Traceback" not in err


def test_unreachable_scheduler_is_a_clear_error_within_the_connect_timeout(tree, monkeypatch,
                                                                           capsys):
    pytest.importorskip("distributed")
    import prover.distributed_run as distributed_run

    monkeypatch.setattr(distributed_run, "CONNECT_TIMEOUT", 1.0)
    with socket.socket() as s:                  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    assert main(["check", "--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    assert time.monotonic() - started < 8
    err = capsys.readouterr().err
    assert f"--scheduler tcp://127.0.0.1:{port}: cannot connect within 1 s" in err
    assert "Traceback" not in err
    assert not Path("certificates").exists()
    assert main(["check", "--scheduler", "nonsense"]) == 2
    assert "not a scheduler address" in capsys.readouterr().err


# --- --scheduler on a real local cluster ----------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    """A real scheduler and two worker processes on this machine, importing this prover."""
    distributed = pytest.importorskip("distributed")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # the patches below
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=":0", scheduler_port=0) as lc, \
                distributed.Client(lc) as client:
            yield lc.scheduler_address, client


def _stable(doc: dict) -> dict:
    """A certificate without what differs between two runs of one machine: when it was
    made, solver timings, and which of the racing solvers answered before the other was
    cancelled (the store's reuse check compares neither)."""
    doc = dict(doc)
    doc.pop("created")
    doc["solvers"] = [(s["name"], s["version"], s["role"]) for s in doc["solvers"]]
    return doc


def _certificates(store: Path) -> dict:
    return {p.relative_to(store).as_posix(): p.read_text() for p in sorted(store.rglob("*.json"))}


def test_check_on_a_cluster_gives_the_local_verdicts_and_certificates(cluster, tmp_path,
                                                                      monkeypatch, capsys):
    address, _ = cluster
    monkeypatch.chdir(tmp_path)
    for cid in BUNDLED:
        (tmp_path / "conjectures" / cid).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "conjectures" / f"{cid}.toml", tmp_path / "conjectures" / f"{cid}.toml")
    runs = {}
    for name, extra in (("local", []), ("dask", ["--scheduler", address])):
        assert main(["check", "--json", "--store", name] + extra) == 0
        runs[name] = {r["id"]: (r["verdict"], r["trust"], r["reason"])
                      for r in json.loads(capsys.readouterr().out)["results"]}
    assert runs["dask"] == runs["local"]
    verdicts = sorted(v for v, _, _ in runs["dask"].values())
    assert verdicts == ["refuted", "refuted", "valid", "valid"]
    local, remote = _certificates(tmp_path / "local"), _certificates(tmp_path / "dask")
    assert sorted(remote) == sorted(local) == sorted(f"{c}.json" for c in BUNDLED)
    for rel in local:
        assert _stable(json.loads(remote[rel])) == _stable(json.loads(local[rel])), rel
    # unchanged inputs: reused as stored, byte for byte, also through the cluster
    assert main(["check", "-q", "--store", "dask", "--scheduler", address]) == 0
    assert _certificates(tmp_path / "dask") == remote
    assert main(["verify", "-q", "--store", "dask"]) == 0


def test_kernel_batch_runs_on_the_client_after_the_cluster(cluster, tree, monkeypatch, capsys):
    import prover.check
    import prover.coqtext

    address, _ = cluster
    batches = []
    monkeypatch.setattr(prover.coqtext, "coqc_available", lambda: True)
    monkeypatch.setattr(prover.check, "kernel_check_batch", lambda outcomes, jobs=1: batches.append(
        [(o.conjecture.id, o.verdict, os.getpid()) for o in outcomes]))
    assert main(["check", "-q", "--kernel", "--scheduler", address, "conjectures/a.toml",
                 "conjectures/c.toml"]) == 0
    assert batches == [[("a", "valid", os.getpid()), ("c", "refuted", os.getpid())]]


def test_verify_on_a_cluster_gives_the_local_reports(cluster, tree, capsys, monkeypatch):
    """Each certificate is verified on a worker against its source as read on the client
    (the workers share no file system); a tampered one fails there as it does here, and one
    whose source is gone is verified here, with the local message."""
    import prover.verify
    address, _ = cluster
    here = []
    real = prover.verify.verify_many

    def verify_here(store, docs, *args, **kwargs):
        here.append([cid for cid, _ in docs])
        return real(store, docs, *args, **kwargs)

    monkeypatch.setattr(prover.verify, "verify_many", verify_here)
    assert main(["check", "-q"]) == 0
    here.clear()
    doc = json.loads(Path("certificates/c.json").read_text())
    doc["counterexample"]["statistics"]["h2"] = "1/7"
    Path("certificates/c.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    Path("conjectures/e.toml").unlink()
    runs = {}
    for name, extra in (("local", []), ("dask", ["--scheduler", address])):
        code = main(["verify", "--json"] + extra)
        runs[name] = (code, json.loads(capsys.readouterr().out))
    assert runs["dask"] == runs["local"]
    code, doc = runs["dask"]
    status = {r["id"]: (r["status"], r["detail"]) for r in doc["results"]}
    assert code == 1 and not doc["passed"]
    assert [status[c][0] for c in "abcde"] == ["pass", "pass", "failed", "pass", "stale"]
    assert status["c"][1].startswith("field 'counterexample.statistics.h2' differs")
    assert status["e"][1] == "source conjectures/e.toml is gone"
    assert status["a"][1] == "farkas certificate: 1 case(s), identities hold exactly"
    # locally: all five; on the cluster, only the one whose source is gone stayed here
    assert here == [list("abcde"), ["e"]]


def test_only_a_plain_relative_source_is_shipped_to_a_worker(tree):
    from prover.distributed_run import shippable_source
    from prover.store import DirectoryStore
    store = DirectoryStore(tree / "certificates")
    assert shippable_source(store, "conjectures/a.toml") == (VALID.encode(), "conjectures/a.toml")
    for source in ("../conjectures/a.toml", str(tree / "conjectures/a.toml"),
                   "conjectures/missing.toml", "conjectures", ""):
        assert shippable_source(store, source) is None, source     # verified on the client


def _endless_search(problem, timeout=60.0):
    time.sleep(3600)


def _greedy_search(problem, timeout=60.0):
    return bytearray(8 * 1024 ** 3), ""


def _patch_search(replacement):
    import prover.certify
    if not hasattr(prover.certify, "_real_search"):
        prover.certify._real_search = prover.certify.search_certificate
    prover.certify.search_certificate = replacement or prover.certify._real_search


def test_budget_and_memory_cap_hold_on_the_workers(cluster, tree, capsys):
    address, client = cluster
    try:
        client.run(_patch_search, _endless_search)
        code = main(["check", "--json", "--timeout", "1", "--scheduler", address,
                     "conjectures/a.toml", "conjectures/c.toml"])
        results = {r["id"]: r for r in json.loads(capsys.readouterr().out)["results"]}
        assert code == 1                                # a ends unknown, expected valid
        assert results["a"]["verdict"] == "unknown"
        assert results["a"]["reason"].startswith(
            "the conjecture's budget of 1 s (--timeout) ran out during the certificate search")
        assert results["c"]["verdict"] == "refuted"     # the rest of the batch goes on

        client.run(_patch_search, _greedy_search)
        code = main(["check", "--json", "--force", "--memory", "1G", "--scheduler", address,
                     "conjectures/a.toml", "conjectures/c.toml"])
        results = {r["id"]: r for r in json.loads(capsys.readouterr().out)["results"]}
        assert code == 1
        assert results["a"]["verdict"] == "unknown" and "out of memory" in results["a"]["reason"]
        assert results["c"]["verdict"] == "refuted"
    finally:
        client.run(_patch_search, None)


def test_bounds_rows_on_a_cluster_store_the_local_certificates(cluster, tmp_path, monkeypatch,
                                                               capsys):
    address, _ = cluster
    table = "rMZ,rDZ\n0.62,0.25\n0.6,0.31\n0.5,0.2±0.01\n"
    outputs = {}
    for name, extra in (("local", []), ("dask", ["--scheduler", address])):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        Path("t.csv").write_text(table)
        assert main(["bounds", "twins", "h2", "--input", "t.csv", "--store", "certificates",
                     "--json"] + extra) == 1               # the second row is infeasible
        outputs[name] = json.loads(capsys.readouterr().out)
    assert outputs["dask"] == outputs["local"]
    ends = [b[side] for row in outputs["dask"]["rows"] for b in row["bounds"]
            for side in ("lower", "upper")]
    assert len(ends) == 4 and all(e["certificate"] for e in ends)
    local = _certificates(tmp_path / "local" / "certificates")
    remote = _certificates(tmp_path / "dask" / "certificates")
    assert sorted(remote) == sorted(local) and len(local) == 4
    for rel in local:
        assert _stable(json.loads(remote[rel])) == _stable(json.loads(local[rel])), rel
    sources = sorted(p.name for p in (tmp_path / "dask" / "conjectures").rglob("*.toml"))
    assert sources == sorted(p.name for p in (tmp_path / "local" / "conjectures").rglob("*.toml"))
    # again: every stored certificate is reused, byte for byte
    assert main(["bounds", "twins", "h2", "--input", "t.csv", "--store", "certificates",
                 "--scheduler", address]) == 1
    capsys.readouterr()
    assert _certificates(tmp_path / "dask" / "certificates") == remote
    assert main(["verify", "-q", "--store", "certificates"]) == 0
