"""The import graph of prover has no cycle: data flows one way (file → conjecture →
encoding → evidence → record → store → views). The graph is read from the source by
`ast`, independently of the import machinery: every relative import, at module level or
inside a function, is an edge.

Two kinds of import are not edges: those under ``if TYPE_CHECKING:`` (never run) and
those under ``if __name__ == "__main__":`` (run only when the file is the program, a
module apart from the one other modules import)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "prover"

# Imports by name at run time (importlib), which `ast` does not see as imports: the model
# registry loads each model module; the site loads the pictures module through
# sys.modules (so that tests can substitute it).
DYNAMIC = {"models": {"models.gaussian", "models.general", "models.multilinear",
                      "models.twins"},
           "site.plots": {"frontier.pictures"}}

# Cycles outside the frontier/plot/site/show part, known and left to their owners
# (name each with the modules in it; an empty set is the goal).
KNOWN_CYCLES: set[frozenset[str]] = {
    # realizers/gaussian_exact imports models.base (for Evidence), which runs the model
    # registry (models/__init__), whose get() loads models.gaussian, which loads that
    # realizer in a function. Harmless at run time (only function-level and dynamic
    # edges close it); it goes when Evidence moves to the record layer.
    frozenset({"models", "models.gaussian", "realizers.gaussian_exact"}),
}


def _modules() -> dict[str, Path]:
    """prover's modules by dotted name relative to the package ('' is the package)."""
    out = {}
    for path in PKG.rglob("*.py"):
        parts = list(path.relative_to(PKG).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        elif parts[-1] == "__main__":
            continue
        out[".".join(parts)] = path
    return out


def _skipped(node: ast.AST) -> bool:
    """An ``if TYPE_CHECKING:`` or ``if __name__ == "__main__":`` block."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
        return True
    if isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING":
        return True
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _imports(tree: ast.AST):
    """Every ImportFrom node outside skipped blocks."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if _skipped(node):
            todo += node.orelse
            continue
        if isinstance(node, ast.ImportFrom):
            yield node
        todo += list(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    """module -> the prover modules it imports (relative imports, module and function
    level, and DYNAMIC); ``from . import name`` is an edge to the module ``name`` when
    there is one, else to the package. Importing ``a.b`` from outside the package ``a``
    also runs ``a/__init__.py``: an edge to ``a`` too."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        parts = name.split(".") if name else []
        package = parts if path.name == "__init__.py" else parts[:-1]
        edges = graph.setdefault(name, set())
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if not node.level:
                continue
            base = package[:len(package) - node.level + 1]
            targets = []
            if node.module:
                targets.append(".".join(base + node.module.split(".")))
            else:
                for alias in node.names:
                    sub = ".".join(base + [alias.name])
                    targets.append(sub if sub in modules else ".".join(base))
            for target in targets:
                assert target in modules, f"{path.relative_to(PKG.parent)}:{node.lineno}: " \
                                          f"no prover module {target!r}"
                edges.add(target)
        edges |= DYNAMIC.get(name, set())
        # the packages of what it imports, except its own (those are running already)
        own = {".".join(parts[:i]) for i in range(len(parts) + 1)}
        for target in list(edges):
            steps = target.split(".")
            edges |= {".".join(steps[:i]) for i in range(1, len(steps))} - own
        edges.discard(name)
    missing = {t for ts in DYNAMIC.values() for t in ts} - set(modules)
    assert not missing, f"DYNAMIC names modules that do not exist: {missing}"
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _views_part(module: str) -> bool:
    head = module.split(".")[0]
    return head in ("frontier", "plot", "site", "show")


def test_no_import_cycle():
    found = [c for c in cycles(import_graph()) if frozenset(c) not in KNOWN_CYCLES]
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_cycle_in_frontier_plot_site_show():
    graph = import_graph()
    part = {m: {t for t in ts if _views_part(t)} for m, ts in graph.items() if _views_part(m)}
    assert not cycles(part), cycles(part)


def test_views_read_frontier_records_only():
    """plot (a view) reads frontier records and formulas; it computes no frontier."""
    graph = import_graph()
    # ("frontier": importing frontier.results runs the package's __init__ first)
    assert {m for m in graph["plot"] if m.startswith("frontier")} <= \
        {"frontier", "frontier.results", "frontier.text"}, graph["plot"]
    computing = {m for m in graph if m.startswith("frontier.")} - {
        "frontier.command", "frontier.pictures"}
    for m in computing:       # the frontier computation never reaches the plotting code
        assert "plot" not in graph[m], m


def test_a_cycle_is_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_every_module_can_be_imported_first():
    """No module finds another half-initialised, whichever is imported first."""
    names = ["prover.plot", "prover.frontier.results", "prover.frontier",
             "prover.frontier.command", "prover.frontier.pictures", "prover.site",
             "prover.site.plots", "prover.models.display"]
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    for m in [m for m in sys.modules if m.split('.')[0] == 'prover']:\n"
            "        del sys.modules[m]\n"
            "    importlib.import_module(name)\n"
            "from prover.frontier import run_command, parse_params, plot_model_frontiers\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=PKG.parent)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# --- what the site's plot cache key covers ---------------------------------------------

def test_site_plot_key_covers_every_module_the_pictures_import():
    from prover.site.plots import _source_closure
    files = {p.relative_to(PKG).as_posix()
             for p in _source_closure(["frontier.pictures", "models.twins"])}
    for needed in ("plot.py", "frontier/__init__.py", "frontier/pictures.py",
                   "frontier/region.py", "frontier/exact.py", "frontier/approximate.py",
                   "frontier/sampler.py", "encode.py", "evaluate.py", "expr.py", "poly.py",
                   "models/__init__.py", "models/base.py", "models/display.py",
                   "models/twins.py", "solvers/__init__.py", "__init__.py"):
        assert needed in files, (needed, sorted(files))
    assert "site/plots.py" not in files and "models/gaussian.py" not in files


def test_site_plot_key_changes_with_any_module_the_pictures_import(tmp_path, monkeypatch):
    import shutil

    from prover.site import plots
    copy = tmp_path / "prover"
    shutil.copytree(PKG, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(plots, "_ROOT", copy)
    before = {m: plots._code_digest(m) for m in ("twins", "gaussian")}
    with open(copy / "frontier" / "exact.py", "a", encoding="utf-8") as fh:
        fh.write("\n# changed\n")
    assert plots._code_digest("twins") != before["twins"]
    assert plots._code_digest("gaussian") != before["gaussian"]
    changed = plots._code_digest("twins")
    with open(copy / "models" / "gaussian.py", "a", encoding="utf-8") as fh:
        fh.write("\n# changed\n")
    assert plots._code_digest("twins") == changed      # not a module twins' plots use
    assert plots._code_digest("gaussian") != before["gaussian"]
