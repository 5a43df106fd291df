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
