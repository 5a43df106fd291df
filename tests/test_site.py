"""The static site: pages for every entry, escaping, relative links, plots, a real browser."""

from __future__ import annotations

import shutil
import subprocess
import sys
import types
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from prover.errors import InputError
from prover.site import build_site
from prover.store import DirectoryStore, MemoryStore, dumps

HOSTILE = "<script>alert(1)</script>"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CHROMIUM = "/usr/bin/chromium"

BASE = {"format": 2, "prover_version": "0.1.0", "created": "2026-11-27T09:55:58+00:00",
        "conjecture_sha256": "ab" * 32, "encoding_sha256": "cd" * 32, "vacuous": False,
        "expect": None}


def valid_farkas() -> dict:
    return {**BASE, "id": "twins/h2-at-most-2rDZ", "title": HOSTILE + " & more",
            "source": "conjectures/twins/h2-at-most-2rDZ.toml",
            "model": {"name": "twins", "params": {"max_order": 2}},
            "claim": "h2 <= 2 * rDZ", "assume": ["rMZ > 0 & rDZ < 1"],
            "verdict": "valid", "trust": "certificate",
            "proof": {"kind": "farkas", "checker": "prover.checker", "cases": [
                {"constant": "1", "equalities": [{"atom": 3}],
                 "products": [{"atoms": [1], "multiplier": "1/2"},
                              {"atoms": [2, 4], "multiplier": "7/8"}]}]},
            "solvers": [{"name": "z3", "version": "5.4.1", "result": "unsat",
                         "seconds": 0.1, "role": "negated claim"}]}


def refuted() -> dict:
    return {**BASE, "id": "twins/heritable-twins-pgs", "title": "A perfect PGS explains 30%",
            "source": "conjectures/twins/heritable-twins-pgs.toml",
            "model": {"name": "twins", "params": {"max_order": 4}},
            "claim": "s2 * H2 >= 0.3", "assume": ["rMZ >= 1 / 2"],
            "verdict": "refuted", "trust": None,
            "counterexample": {
                "values": {"VA": "1/8", "VD": "7/8", "VAA": "0"},
                "sides": [{"left": "s2 * H2", "left_value": "1/8", "op": ">=",
                           "right": "0.3", "right_value": "3/10"}],
                "violation": "7/40",
                "statistics": {"s2": "1/8", "H2": "1", "rMZ": "1", "rDZ": "9/32"},
                "realization": {"allele_frequency": "1/2", "n_loci": 2, "terms": [
                    {"component": "VA", "contrasts": ["additive"], "loci": [0],
                     "effect": "sqrt(1/8) * a(g0)", "variance": "1/8"},
                    {"component": "VD", "contrasts": ["dominance"], "loci": [1],
                     "effect": "sqrt(7/8) * d(g1)", "variance": "7/8"}]},
                "numeric_check": {"method": "simulation of families", "samples": 100000,
                                  "seed": 20261127, "confirmed": True,
                                  "estimates": {"s2": 0.124593, "VE": 0.0},
                                  "intervals": {"s2": [0.122015, 0.127308]},
                                  "interval": [0.06705, 0.082066],
                                  "note": "the 99% interval of the violation margin lies above 0"}},
            "solvers": [{"name": "z3", "version": "5.4.1", "result": "sat", "seconds": 1.5,
                         "role": "negated claim"}]}


def unknown() -> dict:
    return {**BASE, "id": "puzzle/multilinear/r2-below-half", "title": "r2 < 1/2 & <b>bold</b>",
            "source": "conjectures/x.toml", "model": {"name": "multilinear", "params": {}},
            "claim": "r2 < 1 / 2", "assume": [], "verdict": "unknown", "trust": None,
            "reason": f"timeout {HOSTILE}", "solvers": []}


def vacuous_smt() -> dict:
    """A valid result on a model the registry does not know, nested three levels deep."""
    return {**BASE, "id": "deep/a/b/c", "title": "vacuous", "source": "c.toml",
            "model": {"name": f"nosuchmodel{HOSTILE}", "params": {}},
            "claim": "x >= 0", "assume": ["x < 0", "x > 0"], "verdict": "valid",
            "trust": "solvers", "vacuous": True,
            "proof": {"kind": "smt", "unsat": ["z3", "cvc5"],
                      "certificate_search": "no exact certificate found"},
            "solvers": []}


def make_store(root: Path) -> DirectoryStore:
    store = DirectoryStore(root)
    for doc in (valid_farkas(), refuted(), unknown(), vacuous_smt()):
        store.save(doc)
    (root / "broken.json").write_text("{not json", encoding="utf-8")
    return store


def fake_plot_module(log: Path) -> types.ModuleType:
    """A stand-in for prover.frontier.pictures that logs its calls to a file (plots may be drawn in
    worker processes) and writes one tiny PNG and SVG per model."""
    module = types.ModuleType("prover.frontier.pictures")

    def plot_model_frontiers(model_name, outdir, store=None):
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{model_name} {len(store.ids()) if store is not None else '-'}\n")
        png = Path(outdir) / f"{model_name}-frontier.png"
        png.write_bytes(b"\x89PNG\r\n\x1a\n")
        svg = png.with_suffix(".svg")
        svg.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8")
        return [png, svg]

    module.plot_model_frontiers = plot_model_frontiers
    return module


class PlotCalls:
    def __init__(self, log: Path):
        self.log = log

    def lines(self) -> list[str]:
        return sorted(self.log.read_text().splitlines()) if self.log.exists() else []

    def models(self) -> list[str]:
        return [line.split()[0] for line in self.lines()]


@pytest.fixture
def plot_calls(monkeypatch, tmp_path) -> PlotCalls:
    log = tmp_path / "plot-calls.txt"
    monkeypatch.setitem(sys.modules, "prover.frontier.pictures", fake_plot_module(log))
    return PlotCalls(log)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One site for the tests that only read it: (site root, report, its plot calls)."""
    base = tmp_path_factory.mktemp("site")
    log = base / "plot-calls.txt"
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "prover.frontier.pictures", fake_plot_module(log))
        report = build_site(make_store(base / "store"), base / "site")
    return base / "site", report, PlotCalls(log)


@pytest.fixture
def site(built):
    root, report, _ = built
    return root, report


class Links(HTMLParser):
    """Every href/src, every tag, and the text of one page."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        for name in ("href", "src"):
            if attrs.get(name) is not None:
                self.urls.append(attrs[name])


def parse(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def pages(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


# --- files ------------------------------------------------------------------------------

def test_every_certificate_gets_a_page_and_its_json(site):
    root, report = site
    assert sorted(report.certificates) == sorted(
        ["twins/h2-at-most-2rDZ", "twins/heritable-twins-pgs",
         "puzzle/multilinear/r2-below-half", "deep/a/b/c"])
    for cid in report.certificates:
        assert (root / "cert" / f"{cid}.html").is_file()
        raw = (root / "cert" / f"{cid}.json").read_text(encoding="utf-8")
        assert f'"id": "{cid}"' in raw
    assert (root / "index.html").is_file()
    for name in ("gaussian", "general", "multilinear", "twins"):
        assert (root / "model" / f"{name}.html").is_file()
    assert report.models == ["gaussian", "general", "multilinear", "twins"]
    assert report.pages == len(pages(root)) == 4 + 4 + 1


def test_unreadable_entry_is_listed_with_its_reason(site):
    root, report = site
    assert [b.id for b in report.unreadable] == ["broken"]
    index = (root / "index.html").read_text(encoding="utf-8")
    assert "Unreadable entries (1)" in index
    assert "not valid JSON" in index


# --- escaping ---------------------------------------------------------------------------

def test_certificate_text_is_escaped_everywhere(site):
    root, _ = site
    for page in pages(root):
        text = page.read_text(encoding="utf-8")
        assert HOSTILE not in text, page
        assert "<b>bold</b>" not in text, page
        # Our own script is the index's only one; no page has an injected element.
        scripts = [t for t, _ in parse(page).tags if t == "script"]
        assert len(scripts) == (1 if page.name == "index.html" else 0), page
        assert not any(a for t, attrs in parse(page).tags for a in attrs if a.startswith("on"))
    index = (root / "index.html").read_text(encoding="utf-8")
    assert HOSTILE_ESCAPED + " &amp; more" in index
    cert = (root / "cert/twins/h2-at-most-2rDZ.html").read_text(encoding="utf-8")
    assert HOSTILE_ESCAPED in cert
    assert "rMZ &gt; 0 &amp; rDZ &lt; 1" in cert
    unknown_page = (root / "cert/puzzle/multilinear/r2-below-half.html").read_text("utf-8")
    assert f"timeout {HOSTILE_ESCAPED}" in unknown_page


def test_pages_forbid_scripts_and_network_by_policy(site):
    root, _ = site
    for page in pages(root):
        policy = [a["content"] for t, a in parse(page).tags
                  if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
        assert len(policy) == 1 and "default-src 'none'" in policy[0]
        if page.name != "index.html":
            assert "script-src 'none'" in policy[0]


# --- links --------------------------------------------------------------------------------

def test_every_relative_link_and_image_resolves(site):
    root, _ = site
    checked = 0
    for page in pages(root):
        for url in parse(page).urls:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, f"{page}: non-local URL {url}"
            if not parts.path:          # '#…' on the same page
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.exists(), f"{page.relative_to(root)}: {url} -> {target}"
            assert target.is_relative_to(root.resolve())
            checked += 1
    assert checked > 50


def test_nested_certificate_links_climb_the_right_depth(site):
    root, _ = site
    urls = parse(root / "cert/deep/a/b/c.html").urls
    assert "../../../../index.html" in urls
    assert "c.json" in urls
    # Unknown model: named (escaped), not linked.
    assert not any("model/" in u for u in urls)
    text = (root / "cert/deep/a/b/c.html").read_text(encoding="utf-8")
    assert f"nosuchmodel{HOSTILE_ESCAPED}" in text
    assert "VACUOUSLY".lower() in text.lower()


# --- content ------------------------------------------------------------------------------

def test_proof_page_shows_trust_meaning_and_multipliers(site):
    root, _ = site
    text = (root / "cert/twins/h2-at-most-2rDZ.html").read_text(encoding="utf-8")
    assert "exact certificate was checked by prover" in text
    assert "<code>1/2</code>·g1" in text and "<code>7/8</code>·g2·g4" in text
    assert "q3·h3" in text and "<code>-1</code>" in text
    assert 'href="../../model/twins.html"' in text


def test_counterexample_page_reads_like_show(site):
    root, _ = site
    text = (root / "cert/twins/heritable-twins-pgs.html").read_text(encoding="utf-8")
    assert "<code>s2 * H2</code> = 1/8 (≈0.125)" in text
    assert "fails by <strong>7/40 (≈0.175)</strong>" in text
    assert "CONFIRMED" in text and "[0.122015, 0.127308]" in text
    assert "VA = 1/8 (≈0.125): sqrt(1/8) * a(g0)" in text      # the realization, as show says
    assert "All other components are 0: VAA." in text
    assert "rDZ/rMZ</code> = 9/32" in text                      # its point on the plots
    assert 'src="../../plots/twins/twins-frontier.png"' in text
    assert 'href="../../plots/twins/twins-frontier.svg"' in text
    assert "the plots do not mark it" in text                  # max_order only: not defaults


RECORDED_HTML = ("(as recorded by the run; <code>prover verify</code> does not re-check "
                 "it)")


def test_run_records_are_marked_as_not_rechecked(site):
    """What `prover verify` cannot re-derive (the solver log, the prover version) is shown
    as the run's record, never as evidence."""
    root, _ = site
    text = (root / "cert/twins/h2-at-most-2rDZ.html").read_text(encoding="utf-8")
    assert f"2026-11-27T09:55:58+00:00, prover 0.1.0 <span class=muted>{RECORDED_HTML}" in text
    solvers = text[text.index("<h2>Solver calls</h2>"):]
    assert solvers.startswith("<h2>Solver calls</h2><p class=muted>As recorded by the run "
                              "that made this certificate; the verdict does not rest on "
                              "them unless trust is solvers/solver")


def test_model_page_has_doc_parameters_and_plots(site):
    root, _ = site
    text = (root / "model/twins.html").read_text(encoding="utf-8")
    assert "max_order" in text and "shared_environment" in text
    assert "<pre>twins — relatives" in text
    assert 'src="../plots/twins/twins-frontier.png"' in text
    assert "twins/heritable-twins-pgs" in text


def test_plots_are_made_once_per_model_with_the_store(built):
    # Four models, one call each, each handed the store (4 certificates, 1 broken entry).
    _, report, plot_calls = built
    assert plot_calls.lines() == ["gaussian 5", "general 5", "multilinear 5", "twins 5"]
    assert [p.name for p in report.plots["twins"]] == ["twins-frontier.png",
                                                       "twins-frontier.svg"]


def test_rebuild_reuses_plots_until_their_certificates_change(tmp_path, plot_calls):
    store = make_store(tmp_path / "store")
    build_site(store, tmp_path / "site")
    build_site(store, tmp_path / "site")
    assert len(plot_calls.lines()) == 4                 # nothing changed: all reused
    assert (tmp_path / "site/plots/twins/twins-frontier.png").is_file()
    doc = refuted()
    doc["counterexample"]["statistics"]["s2"] = "1/9"   # a twins point moved
    doc["created"] = "2027-01-01T00:00:00+00:00"
    store.save(doc)
    build_site(store, tmp_path / "site")
    assert plot_calls.models().count("twins") == 2
    assert plot_calls.models().count("gaussian") == 1


def test_counterexample_with_default_parameters_is_marked_on_the_plot(tmp_path, plot_calls):
    from prover import models
    store = MemoryStore()
    doc = refuted()
    doc["model"]["params"] = models.get("twins").validate_params({})
    store.save(doc)
    build_site(store, tmp_path / "site")
    text = (tmp_path / "site/cert/twins/heritable-twins-pgs.html").read_text("utf-8")
    assert "The plots mark it with a purple ✕ labelled <code>heritable-twins-pgs</code>" in text


# --- plots that fail -------------------------------------------------------------------

def test_missing_plot_module_omits_plots_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "prover.frontier.pictures", None)   # import raises ImportError
    report = build_site(make_store(tmp_path / "store"), tmp_path / "site")
    assert report.plots == {}
    assert "could not be imported" in report.plot_errors["twins"]
    text = (tmp_path / "site/cert/twins/heritable-twins-pgs.html").read_text("utf-8")
    assert "No plots: prover.frontier.pictures could not be imported" in text
    assert "<img" not in text


def test_failing_plot_function_omits_plots(tmp_path, monkeypatch):
    module = types.ModuleType("prover.frontier.pictures")

    def plot_model_frontiers(model_name, outdir):
        raise RuntimeError("no frontier today")

    module.plot_model_frontiers = plot_model_frontiers
    monkeypatch.setitem(sys.modules, "prover.frontier.pictures", module)
    report = build_site(make_store(tmp_path / "store"), tmp_path / "site")
    assert report.plot_errors["twins"] == "plotting failed: RuntimeError: no frontier today"
    text = (tmp_path / "site/model/twins.html").read_text("utf-8")
    assert "No plots: plotting failed: RuntimeError: no frontier today" in text


def test_plots_made_outside_the_site_are_copied_in(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    module = types.ModuleType("prover.frontier.pictures")

    def plot_model_frontiers(model_name, outdir):
        path = elsewhere / f"{model_name}.svg"
        path.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8")
        return [path]

    module.plot_model_frontiers = plot_model_frontiers
    monkeypatch.setitem(sys.modules, "prover.frontier.pictures", module)
    build_site(make_store(tmp_path / "store"), tmp_path / "site")
    assert (tmp_path / "site/plots/twins/twins.svg").is_file()
    assert 'src="../plots/twins/twins.svg"' in (tmp_path / "site/model/twins.html").read_text()


def test_plots_false_calls_no_plotting(tmp_path, plot_calls):
    report = build_site(make_store(tmp_path / "store"), tmp_path / "site", plots=False)
    assert plot_calls.lines() == [] and report.plots == {}
    assert "plots were not requested" in (tmp_path / "site/model/twins.html").read_text()


# --- stores and output directories -----------------------------------------------------

def test_command_writes_site_here_without_o(tmp_path, monkeypatch, plot_calls, capsys):
    """DESIGN.md: `prover site [-o DIR]`; without -o it writes ./site (git-ignored)."""
    from prover.cli import main
    make_store(tmp_path / "store")
    monkeypatch.chdir(tmp_path)
    assert main(["site", "--store", "store", "--no-plots", "-q"]) == 0
    assert (tmp_path / "site/index.html").is_file()
    assert (tmp_path / "site/cert/twins/h2-at-most-2rDZ.html").is_file()


def test_memory_store_site_copies_canonical_json(tmp_path, plot_calls):
    store = MemoryStore()
    store.save(refuted())
    report = build_site(store, tmp_path / "site")
    assert report.certificates == ["twins/heritable-twins-pgs"]
    raw = (tmp_path / "site/cert/twins/heritable-twins-pgs.json").read_text("utf-8")
    assert raw == dumps(refuted())


def test_rebuild_removes_pages_of_deleted_certificates(tmp_path, plot_calls):
    store = make_store(tmp_path / "store")
    build_site(store, tmp_path / "site")
    store.delete("deep/a/b/c")
    build_site(store, tmp_path / "site")
    assert not (tmp_path / "site/cert/deep").exists()
    assert "deep/a/b/c" not in (tmp_path / "site/index.html").read_text("utf-8")


def test_refuses_a_foreign_non_empty_directory(tmp_path, plot_calls):
    (tmp_path / "site").mkdir()
    (tmp_path / "site/notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="not empty"):
        build_site(MemoryStore(), tmp_path / "site")
    assert (tmp_path / "site/notes.txt").read_text() == "mine"


def test_refuses_a_directory_inside_the_store(tmp_path, plot_calls):
    store = make_store(tmp_path / "store")
    with pytest.raises(InputError, match="inside the certificate store"):
        build_site(store, tmp_path / "store" / "site")


def test_odd_shaped_certificate_is_listed_as_malformed_naming_the_field(tmp_path, plot_calls):
    store = MemoryStore()
    store.save({**refuted(), "id": "odd", "model": 7, "title": HOSTILE})
    store.save(valid_farkas())
    report = build_site(store, tmp_path / "site")
    assert report.certificates == ["twins/h2-at-most-2rDZ"]
    assert [(b.id, b.reason) for b in report.unreadable] == [
        ("odd", "field 'model' is the number 7, not an object")]
    index = (tmp_path / "site/index.html").read_text("utf-8")
    assert "Unreadable entries (1)" in index and "field &#x27;model&#x27;" in index
    assert HOSTILE not in index and not (tmp_path / "site/cert/odd.html").exists()


# --- a real browser -------------------------------------------------------------------

class Rows(HTMLParser):
    """The index table's rows as dumped by the browser: (verdict, hidden)."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[str, bool]] = []
        self.filters_hidden = None
        self.count = ""
        self._in_count = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-verdict" in attrs:
            self.rows.append((attrs["data-verdict"], "hidden" in attrs))
        if attrs.get("id") == "filters":
            self.filters_hidden = "hidden" in attrs
        self._in_count = attrs.get("id") == "count"

    def handle_data(self, data):
        if self._in_count:
            self.count += data
            self._in_count = False


def dump_dom(url: str, tmp_path: Path) -> str:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed: the browser checks of the site are skipped")
    profile = tmp_path / f"chromium-{abs(hash(url))}"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "<html" in result.stdout, result.stderr[-2000:]
    shutil.rmtree(profile, ignore_errors=True)
    return result.stdout


def browser_rows(url: str, tmp_path: Path) -> Rows:
    rows = Rows()
    rows.feed(dump_dom(url, tmp_path))
    return rows


def test_browser_loads_index_with_every_row(site, tmp_path):
    root, _ = site
    rows = browser_rows((root / "index.html").as_uri(), tmp_path)
    assert sorted(v for v, _ in rows.rows) == ["refuted", "unknown", "valid", "valid"]
    assert not any(hidden for _, hidden in rows.rows)
    assert rows.filters_hidden is False          # the script ran and showed the filters
    assert rows.count == "4 of 4 shown"


def test_browser_applies_filter_from_url_hash(site, tmp_path):
    root, _ = site
    rows = browser_rows((root / "index.html").as_uri() + "#verdict=refuted", tmp_path)
    visible = [v for v, hidden in rows.rows if not hidden]
    assert visible == ["refuted"] and len(rows.rows) == 4
    assert rows.count == "1 of 4 shown"


def test_browser_applies_filter_from_query_and_search(site, tmp_path):
    root, _ = site
    url = (root / "index.html").as_uri() + "?verdict=valid&q=vacuous"
    rows = browser_rows(url, tmp_path)
    assert [v for v, hidden in rows.rows if not hidden] == ["valid"]
    assert rows.count == "1 of 4 shown"


def test_browser_runs_no_injected_script(site, tmp_path):
    root, _ = site
    dom = dump_dom((root / "cert/twins/h2-at-most-2rDZ.html").as_uri(), tmp_path)
    assert HOSTILE not in dom and HOSTILE_ESCAPED in dom
