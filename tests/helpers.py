"""Shared test helpers: conjecture files and model instances."""

from prover.models import get


def write_conjecture(tmp_path, model, claim, *, expect=None, assume=(), params=None,
                     name="c.toml"):
    """Write a conjecture file in DESIGN.md's format and return its path."""
    lines = [f'model = "{model}"', f'claim = "{claim}"']
    if assume:
        lines.append("assume = [" + ", ".join(f'"{a}"' for a in assume) + "]")
    if expect:
        lines.append(f'expect = "{expect}"')
    if params:
        lines.append("[params]")
        lines += [f"{k} = {v}" for k, v in params.items()]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def model_instance(model, **params):
    m = get(model)
    return m.build(m.validate_params(params))


def certificate(cert_id, model, params, claim, verdict, *, assume=(), statistics=None,
                trust="certificate"):
    """A well-formed certificate document (format 2) for tests that need a store's
    contents rather than a run of check: a valid one carries a (dummy) farkas proof, a
    refuted one a counterexample with the given statistics. Not meant to verify."""
    doc = {"format": 2, "id": cert_id, "title": "", "source": f"{cert_id}.toml",
           "conjecture_sha256": "ab" * 32, "encoding_sha256": "cd" * 32,
           "model": {"name": model, "params": dict(params)}, "claim": claim,
           "assume": list(assume), "expect": None, "verdict": verdict,
           "trust": trust if verdict == "valid" else None, "vacuous": False,
           "solvers": [], "prover_version": "0.1.0",
           "created": "2026-12-03T00:00:00+00:00"}
    if verdict == "valid":
        doc["proof"] = {"kind": "farkas", "cases": []}
    elif verdict == "refuted":
        doc["counterexample"] = {"values": {}, "violation": "1", "sides": [],
                                 "statistics": dict(statistics or {}), "realization": {},
                                 "numeric_check": {"method": "test", "confirmed": True}}
    else:
        doc["reason"] = "test"
    return doc
