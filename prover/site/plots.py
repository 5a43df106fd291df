"""The site's frontier plots: made once per model by ``prover.frontier.pictures``
(substitutable through ``sys.modules``, so tests can stand in for it), kept under
plots/<model>/ and reused while their key is unchanged."""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import json
import os
import posixpath
import shutil
from pathlib import Path
from typing import Callable

from .._version import __version__
from ..store import Store
from .markup import _esc, _href, _model_name
from .report import SiteReport

_IMAGE_SUFFIXES = {".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp"}


def _plot_inputs(docs: list, model: str) -> list:
    """What a model's plots may show from the store: its certificates' counterexample
    points and proved claims (not their timestamps or solver timings)."""
    out = []
    for d in docs:
        if _model_name(d) != model:
            continue
        stats = None if d.counterexample is None else dict(d.counterexample.statistics)
        out.append([d.id, d.verdict.value, None if d.trust is None else d.trust.value,
                    d.vacuous, dict(d.model.params), d.claim, list(d.assume), stats])
    return out


# The module that makes a model's standard pictures; found through sys.modules (by its
# full name), so that tests can substitute it.
PICTURES = importlib.util.resolve_name("..frontier.pictures", __package__)
_ROOT = Path(__file__).resolve().parent.parent      # the prover package's directory


def _module_file(name: str) -> Path | None:
    """The source of prover module ``name`` ('' is the package, 'frontier.region' ...)."""
    rel = Path(*name.split(".")) if name else Path()
    for path in (_ROOT / rel.with_suffix(".py") if name else None, _ROOT / rel / "__init__.py"):
        if path is not None and path.is_file():
            return path
    return None


def _source_closure(start: list[str]) -> list[Path]:
    """The source files of the prover modules ``start`` and every prover module they import
    (relative imports, at module level or in functions, read from the source), with their
    packages' ``__init__``."""
    seen: dict[str, Path] = {}
    todo = list(start)
    while todo:
        name = todo.pop()
        path = None if name in seen else _module_file(name)
        if path is None:
            continue
        seen[name] = path
        parts = name.split(".") if name else []
        todo += [".".join(parts[:i]) for i in range(len(parts))]     # its packages
        package = parts if path.name == "__init__.py" else parts[:-1]
        try:
            imports = _relative_imports(path.read_bytes())
        except OSError:
            continue
        for level, module, names in imports:
            base = package[:len(package) - level + 1]
            if module:
                todo.append(".".join(base + module.split(".")))
            else:     # from . import expr: a module, or a name of the package itself
                todo += [".".join(base + [a]) if _module_file(".".join(base + [a]))
                         else ".".join(base) for a in names]
    return sorted(set(seen.values()))


_IMPORTS: dict[bytes, tuple] = {}      # sha256 of a source -> its relative imports


def _relative_imports(source: bytes) -> tuple:
    """The relative ``from ... import`` statements of a module's source, as (level,
    module, names); parsed once per distinct text (keyed by its digest, so an edited file
    is parsed again)."""
    key = hashlib.sha256(source).digest()
    if key not in _IMPORTS:
        try:
            tree = ast.parse(source.decode("utf-8"))
        except (SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        _IMPORTS[key] = tuple((node.level, node.module, tuple(a.name for a in node.names))
                              for node in ast.walk(tree)
                              if isinstance(node, ast.ImportFrom) and node.level)
    return _IMPORTS[key]


def _code_digest(model: str) -> str:
    """Digest of the code that decides what a model's plots show: the source of the
    pictures module and of every prover module it imports (the frontier computation, the
    plotting module, the solvers, ...), and of the model's module and what it imports. A
    plot made by other code is not reused."""
    h = hashlib.sha256(__version__.encode())
    start = [PICTURES.partition(".")[2], f"models.{model}"]
    for path in _source_closure(start):
        h.update(path.relative_to(_ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _plot_worker(model: str, target: str, store) -> list[str]:
    """Make one model's plots (in a worker process, or in this one)."""
    import inspect

    module = importlib.import_module(PICTURES)
    function = module.plot_model_frontiers
    try:
        takes_store = "store" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        takes_store = False
    made = function(model, Path(target), store=store) if takes_store else function(model,
                                                                                   Path(target))
    return [str(p) for p in (made or [])]


class _Plots:
    """Frontier plots per model: made once per build (in parallel, one process per
    model), kept under plots/<model>/ with a key of their inputs, and reused by the next
    build while the key — the plotting and frontier code, the model's module, the
    store's certificates of that model — is unchanged. Drawing frontiers runs solvers
    and takes a minute; a rebuild should not."""

    KEY_FILE = ".key.json"

    def __init__(self, outdir: Path, enabled: bool, report: SiteReport, store: Store,
                 docs: list[dict], log: Callable[[str], None] | None = None):
        self.log = log or (lambda message: None)
        self.outdir = outdir
        self.enabled = enabled
        self.report = report
        self.store = store
        self.docs = docs
        self._cache: dict[str, list[str]] = {}
        self._import_error: str | None = None
        if enabled:
            try:
                module = importlib.import_module(PICTURES)   # through sys.modules
                if not callable(getattr(module, "plot_model_frontiers", None)):
                    self._import_error = f"{PICTURES} has no plot_model_frontiers()"
            except Exception as exc:   # a broken plotting module must not stop the site
                self._import_error = f"{PICTURES} could not be imported: {exc}"

    def unavailable(self, model: str) -> str | None:
        """Why ``model`` has no plots (None when it has them)."""
        if not self.enabled:
            return "plots were not requested for this build"
        if self._import_error:
            return self._import_error
        return self.report.plot_errors.get(model)

    def images(self, model: str) -> list[str]:
        """Site-relative paths of the model's plot images ([] when unavailable)."""
        if model not in self._cache:
            self.prepare([model])
        return self._cache.get(model, [])

    def prepare(self, models: list[str], parallel: bool = True) -> None:
        """Make (or reuse) the plots of ``models``."""
        todo = [m for m in models if m not in self._cache]
        if not self.enabled or not todo:
            return
        if self._import_error:
            for m in todo:
                self._cache[m] = []
                self.report.plot_errors[m] = self._import_error
            return
        fresh = []
        for m in todo:
            key = hashlib.sha256(json.dumps([_code_digest(m), m, _plot_inputs(self.docs, m)],
                                            sort_keys=True, default=str).encode()).hexdigest()
            reused = self._reuse(m, key)
            if reused is not None:
                self._accept(m, reused)
            else:
                fresh.append((m, key))
        if fresh:
            self.log(f"drawing frontier plots for {', '.join(m for m, _ in fresh)} "
                     "(kept for the next build)")
        results = self._run([m for m, _ in fresh], parallel)
        for m, key in fresh:
            outcome = results[m]
            if isinstance(outcome, str):
                self.report.plot_errors[m] = outcome
                self._cache[m] = []
            else:
                self._accept(m, self._adopt(m, outcome))
                (self._dir(m) / self.KEY_FILE).write_text(
                    json.dumps({"key": key, "images": self._cache[m]}), encoding="utf-8")

    def _dir(self, model: str) -> Path:
        return self.outdir / "plots" / model

    def _reuse(self, model: str, key: str) -> list[str] | None:
        try:
            saved = json.loads((self._dir(model) / self.KEY_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict):
            return None
        images = saved.get("images")
        if saved.get("key") != key or not isinstance(images, list) or not all(
                isinstance(i, str) and (self.outdir / i).is_file() for i in images):
            return None
        return images

    def _run(self, models: list[str], parallel: bool) -> dict[str, list[str] | str]:
        """model -> image paths, or the reason there are none."""
        for m in models:   # stale images of changed inputs go; nothing else is in there
            shutil.rmtree(self._dir(m), ignore_errors=True)
            self._dir(m).mkdir(parents=True, exist_ok=True)
        results: dict[str, list[str] | str] = {}

        def failed(exc: BaseException) -> str:
            return f"plotting failed: {type(exc).__name__}: {exc}"

        if parallel and len(models) > 1 and (os.cpu_count() or 1) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            try:
                context = multiprocessing.get_context("fork")
                with ProcessPoolExecutor(min(len(models), os.cpu_count() or 1),
                                         mp_context=context) as pool:
                    futures = {m: pool.submit(_plot_worker, m, str(self._dir(m)), self.store)
                               for m in models}
                    for m, future in futures.items():
                        try:
                            results[m] = future.result()
                        except Exception as exc:
                            results[m] = failed(exc)
                return results
            except (ValueError, OSError, RuntimeError):
                results.clear()   # no fork here, or no processes: draw them one by one
        for m in models:
            try:
                results[m] = _plot_worker(m, str(self._dir(m)), self.store)
            except Exception as exc:
                results[m] = failed(exc)
        return results

    def _adopt(self, model: str, made: list[str]) -> list[str]:
        """Site-relative image paths; images made outside the site are copied in."""
        found: list[str] = []
        root = self.outdir.resolve()
        for name in made:
            path = Path(name)
            if path.suffix.lower() not in _IMAGE_SUFFIXES or not path.is_file():
                continue
            resolved = path.resolve()
            if not resolved.is_relative_to(root):
                copy = self._dir(model) / path.name
                shutil.copyfile(resolved, copy)
                resolved = copy.resolve()
            found.append(resolved.relative_to(root).as_posix())
        if not found:
            self.report.plot_errors[model] = "the plotting module made no image for this model"
        return found

    def _accept(self, model: str, images: list[str]) -> None:
        self._cache[model] = images
        if images:
            self.report.plots[model] = [self.outdir / i for i in images]


def _figures(images: list[str]) -> list[tuple[str, list[str]]]:
    """Images grouped by name without suffix: one figure per picture, in every format."""
    groups: dict[str, list[str]] = {}
    for img in images:
        groups.setdefault(posixpath.splitext(img)[0], []).append(img)
    return list(groups.items())


def _plots_html(page: str, model: str, plots: _Plots, point: str = "") -> str:
    images = plots.images(model)
    if not images:
        why = plots.unavailable(model) or "no plots"
        return f'<p class="muted">No plots: {_esc(why)}.</p>'
    figures = []
    for stem, files in _figures(images):
        # A raster shown inline (light, renders everywhere); every format linked.
        shown = next((f for f in files if not f.lower().endswith(".svg")), files[0])
        links = " · ".join(f'<a href="{_href(page, f)}">{_esc(posixpath.splitext(f)[1][1:])}</a>'
                           for f in files)
        figures.append(f'<figure><a href="{_href(page, shown)}"><img src="{_href(page, shown)}" '
                       f'alt="{_esc(posixpath.basename(stem))}"></a>'
                       f"<figcaption>{_esc(posixpath.basename(stem))} — {links}</figcaption>"
                       "</figure>")
    return point + f'<div class="plots">{"".join(figures)}</div>'
