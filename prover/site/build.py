"""``build_site``: prepare the output directory, read the store, write every page."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Callable

from ..errors import InputError
from ..store import BadEntry, DirectoryStore, Store, dumps, validate_id
from .index import _index_page
from .markup import _cert_path, _model_name
from .pages import _cert_page, _fallback_page, _model_page
from .plots import _Plots
from .report import SiteReport

# Written into the output directory so a rebuild may clear the pages it made before
# (a deleted certificate must not leave a stale page) and never anybody else's files.
MARKER = ".prover-site"
_OWNED = ("index.html", "cert", "model")   # plots/ is a cache, checked per model


def _prepare(outdir: Path, store: Store) -> None:
    if isinstance(store, DirectoryStore):
        root = store.root.resolve()
        out = outdir.resolve()
        if out == root or out.is_relative_to(root):
            raise InputError(f"the site directory {outdir} is inside the certificate store "
                             f"{store.root}: its JSON copies would become certificates; "
                             "choose another directory")
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"{outdir} exists and is not a directory")
    if outdir.is_dir() and any(outdir.iterdir()):
        if not (outdir / MARKER).exists():
            raise InputError(f"{outdir} is not empty and was not made by `prover site`; "
                             "choose a new or empty directory")
        for name in _OWNED:   # pages of certificates deleted since must not linger
            target = outdir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / MARKER).write_text("made by `prover site`; its pages are rebuilt in place\n",
                                 encoding="utf-8")


def _raw_text(store: Store, cert_id: str, doc) -> bytes:
    """The stored bytes when the store is a directory; else the canonical text."""
    if isinstance(store, DirectoryStore):
        try:
            return store.path_for(cert_id).read_bytes()
        except OSError:
            pass
    # a lone surrogate becomes \udXXX: in JSON text, the same string
    return dumps(doc.to_json()).encode("utf-8", "backslashreplace")


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        # a lone surrogate (from a stranger's JSON or a file name that is not UTF-8) is
        # written as its escape, \udXXX, rather than failing the whole site
        path.write_text(text, encoding="utf-8", errors="backslashreplace")
    else:
        path.write_bytes(text)


def build_site(store: Store, outdir: str | os.PathLike, plots: bool = True,
               log: Callable[[str], None] | None = None) -> SiteReport:
    """Write the static site for every entry of ``store`` into ``outdir``.

    ``outdir`` must be new, empty, or a previous site (which is rebuilt in place).
    With ``plots`` the frontier plots of ``prover.frontier.pictures`` are drawn once per
    model; if that module is missing or fails, pages say so and the build goes on. Plots
    are kept in ``outdir/plots`` and reused by the next build while their inputs are
    unchanged.
    ``log`` receives progress messages (drawing plots can take a minute). Raises
    InputError only for an unusable ``outdir``.
    """
    start = time.perf_counter()
    outdir = Path(os.fspath(outdir))
    _prepare(outdir, store)
    report = SiteReport(outdir=outdir, index=outdir / "index.html")

    from .. import models as registry
    known: dict[str, object] = {}
    for name in registry.names():
        try:
            known[name] = registry.get(name)
        except Exception as exc:   # one broken model module must not cost the site
            report.warnings.append(f"model {name} could not be loaded: {exc}")
    summaries = {name: getattr(m, "summary", "") for name, m in known.items()}

    docs: list = []
    for cert_id, entry in store.records():
        if isinstance(entry, BadEntry):
            report.unreadable.append(entry)
            continue
        try:
            validate_id(cert_id)
        except InputError as exc:
            report.unreadable.append(BadEntry(cert_id, "?", str(exc)))
            continue
        docs.append(entry)

    plot_maker = _Plots(outdir, plots, report, store, docs, log)
    plot_maker.prepare(list(known))
    for name, model in known.items():
        page = f"model/{name}.html"
        certs = [d for d in docs if _model_name(d) == name]
        try:
            text = _model_page(model, page, plot_maker, certs)
        except Exception as exc:
            report.warnings.append(f"model {name}: page failed: {exc}")
            continue
        _write(outdir / page, text)
        report.models.append(name)
        report.pages += 1

    known_names = {m: known[m] for m in report.models}   # pages exist: safe to link
    for doc in docs:
        cert_id = doc.id
        page = _cert_path(cert_id)
        raw = f"cert/{cert_id}.json"
        _write(outdir / raw, _raw_text(store, cert_id, doc))
        try:
            text = _cert_page(doc, page, raw, plot_maker, known_names, summaries)
        except Exception as exc:
            report.warnings.append(f"{cert_id}: rendered as raw JSON: {exc}")
            text = _fallback_page(doc, page, raw, exc)
        _write(outdir / page, text)
        report.certificates.append(cert_id)
        report.pages += 1

    _write(report.index, _index_page(docs, report.unreadable, sorted(report.models), summaries))
    report.pages += 1
    report.seconds = time.perf_counter() - start
    return report
