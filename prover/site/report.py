"""``SiteReport``: what ``build_site`` wrote, and what it had to leave out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..store import BadEntry


@dataclass
class SiteReport:
    """What ``build_site`` wrote, and what it had to leave out."""

    outdir: Path
    index: Path
    certificates: list[str] = field(default_factory=list)    # ids with a page
    unreadable: list[BadEntry] = field(default_factory=list)
    models: list[str] = field(default_factory=list)          # model pages written
    pages: int = 0                                           # HTML files written
    plots: dict[str, list[Path]] = field(default_factory=dict)
    plot_errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {"outdir": str(self.outdir), "index": str(self.index), "pages": self.pages,
                "certificates": self.certificates, "models": self.models,
                "unreadable": [{"id": b.id, "path": b.path, "reason": b.reason}
                               for b in self.unreadable],
                "plots": {m: [str(p) for p in ps] for m, ps in sorted(self.plots.items())},
                "plot_errors": dict(sorted(self.plot_errors.items())),
                "warnings": self.warnings, "seconds": round(self.seconds, 3)}

    def summary(self) -> str:
        plots = sum(len(v) for v in self.plots.values())
        text = (f"wrote {self.pages} pages to {self.outdir}/ in {self.seconds:.1f} s: "
                f"{len(self.certificates)} certificates, {len(self.unreadable)} unreadable, "
                f"{len(self.models)} models, {plots} plots")
        return text + f"; open {self.index}"
