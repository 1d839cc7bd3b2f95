"""The report as a person sees it: report.html and one per-agent scorecard opened in headless Chromium.

The run folder is built once for the module (``kpilab simulate`` then ``kpilab
run review`` on a 20-agent, 3-month centre; set ``KPILAB_BROWSER_RUN`` to an
existing run folder to check that one instead). Each page is checked for:
console errors, network requests outside the file itself, images that did not
load, table-of-contents links that lead nowhere, code cells, visible text that
is a traceback, a warning, ``nan``/``NaT``/``None``, an object repr or an
absolute path, and tables wider than the printed page (A4 with 15 mm margins at
96 dpi: 718 px). The report is printed to PDF and its pages are counted.

The browser is the system one (Debian ``chromium`` and ``chromium-driver``),
driven by selenium with the driver path given, so Selenium Manager never
downloads a browser (``KPILAB_CHROMIUM`` / ``KPILAB_CHROMEDRIVER`` name other
binaries). Without them the tests are skipped with the reason.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: A4 is 210 mm wide; CSS has 96 px per inch.
A4_WIDTH_MM = 210.0
#: Side margins assumed when the page declares no ``@page`` margin (15 mm each).
DEFAULT_MARGIN_MM = 15.0
PRINT_WIDTH_PX = round((A4_WIDTH_MM - 2 * DEFAULT_MARGIN_MM) / 25.4 * 96)  # 680 px
#: Generous bound on the whole printed report (the issue's budget is < 20 pages before the appendix).
MAX_TOTAL_PAGES = 60


def _find(env: str, *names: str) -> str | None:
    """The executable named by ``$env`` (when set, and only it), else the first of ``names`` found."""
    if os.environ.get(env):
        return os.environ[env] if Path(os.environ[env]).is_file() else None
    for n in names:
        p = shutil.which(n) or (f"/usr/bin/{n}" if Path(f"/usr/bin/{n}").is_file() else None)
        if p:
            return p
    return None


CHROMIUM = _find("KPILAB_CHROMIUM", "chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER = _find("KPILAB_CHROMEDRIVER", "chromedriver")
try:
    import selenium  # noqa: F401

    HAVE_SELENIUM = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_SELENIUM = False

_missing = [what for what, ok in (("chromium (apt-get install chromium)", CHROMIUM),
                                  ("chromedriver (apt-get install chromium-driver)", CHROMEDRIVER),
                                  ("selenium (pip install -e '.[dev]')", HAVE_SELENIUM)) if not ok]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),  # one worker builds the run folder once (make test: --dist loadgroup)
]
needs_browser = pytest.mark.skipif(bool(_missing), reason="browser check skipped: missing " + ", ".join(_missing)
                                   + " (.ci/run installs the system chromium and its driver)")

#: Visible text that must never reach a client. Each pattern says what it catches.
BAD_TEXT = {
    "traceback": re.compile(r"Traceback \(most recent call last\)|^\s*File \"[^\"]+\", line \d+", re.M),
    "exception": re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception): "),
    "warning": re.compile(r"\b[A-Z][A-Za-z]*Warning\b|^\s*warnings\.warn|\bWARNING\b", re.M),
    "nan": re.compile(r"(?<![\w-])(nan|NaN|<NA>)(?![\w-])"),
    "NaT": re.compile(r"(?<![\w-])NaT(?![\w-])"),
    # "None" as a printed Python value, not the English word starting a sentence ("None of the agents")
    "None": re.compile(r"(?<![\w-])None(?![\w-])(?!\s+(of|was|were|is|are|in|had|has|have)\b)"),
    "object repr": re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>|\b0x[0-9a-f]{8,}\b"),
    "absolute path": re.compile(r"(?<![\w.:/])(/(home|tmp|work|usr|opt|root|var|mnt|Users|private)/[\w./-]+"
                                r"|[A-Z]:\\\\[\w\\. -]+)"),
    "python literal": re.compile(r"\{'[\w ]+': |\bdtype: |\bdtype=|Name: \w+, dtype"),
}


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A finished review run folder (built once per module; ``KPILAB_BROWSER_RUN`` reuses one)."""
    given = os.environ.get("KPILAB_BROWSER_RUN")
    if given:
        return Path(given).resolve()
    base = tmp_path_factory.mktemp("browser")
    kpilab = [sys.executable, "-m", "kpilab.cli"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    subprocess.run(kpilab + ["simulate", "--agents", "20", "--months", "3", "--seed", "1", "--out",
                             str(base / "data")], check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    proc = subprocess.run(kpilab + ["run", "review", "-p", "data_dir", str(base / "data"), "--name", "browser",
                                    "--output-root", str(base / "runs")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=1800)
    runs = sorted((base / "runs").glob("*-browser")) if (base / "runs").is_dir() else []
    assert proc.returncode == 0 and runs, (f"kpilab run review failed (exit {proc.returncode}):\n"
                                           f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return runs[-1]


@pytest.fixture(scope="module")
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--allow-file-access-from-files",
                # nothing may load from the network: refuse every host name (attempts still show in the log)
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # an explicit driver path: Selenium Manager is not asked to find (or download) anything
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(120)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def scorecard(run_dir) -> Path:
    folder = run_dir / "scorecards"
    pages = sorted(p for p in folder.glob("*.html") if p.name != "index.html") if folder.is_dir() else []
    assert pages, f"no per-agent scorecard: {folder} holds no <agent>.html"
    return pages[0]


# ----------------------------------------------------------------- page checks
class Page:
    """One page loaded in the browser, with the console and network logs of that load."""

    def __init__(self, driver, path: Path) -> None:
        assert path.is_file(), f"{path} is missing"
        driver.get_log("browser")  # drain what earlier pages left
        driver.get_log("performance")
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        self.driver, self.path, self.url = driver, path, path.resolve().as_uri()
        driver.get(self.url)
        driver.execute_script("return document.readyState")
        self.console = driver.get_log("browser")
        self.requests = []
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                self.requests.append(msg["params"]["request"]["url"])
        self.requests += driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)")

    def js(self, script: str):
        return self.driver.execute_script(script)

    # -- individual checks; each returns a list of problems (empty = fine)
    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.console if e.get("level") == "SEVERE"]

    def outside_requests(self) -> list[str]:
        allowed = ("data:", "blob:", "about:", "chrome-error:")
        return sorted({u for u in self.requests if u.split("#")[0] != self.url and not u.startswith(allowed)})

    def broken_images(self) -> list[str]:
        return self.js("""
            return Array.from(document.images)
              .filter(i => !(i.complete && i.naturalWidth > 0))
              .map(i => (i.getAttribute('alt') || '') + ' ' + (i.getAttribute('src') || '').slice(0, 80));""")

    def unresolved_links(self) -> list[str]:
        return self.js("""
            return Array.from(document.querySelectorAll('a[href^="#"]'))
              .map(a => decodeURIComponent(a.getAttribute('href').slice(1)))
              .filter(id => id && !document.getElementById(id) && !document.getElementsByName(id).length);""")

    def missing_files(self) -> list[str]:
        """Links to local files (a scorecard's index, the report) whose target does not exist."""
        hrefs = self.js("""
            return Array.from(document.querySelectorAll('a[href]'))
              .map(a => a.href).filter(h => h.startsWith('file:'));""")
        out = []
        for h in hrefs:
            target = Path(unquote(urlparse(h).path))
            if target != self.path.resolve() and not target.exists():
                out.append(str(target.relative_to(self.path.parent.resolve().parent))
                           if target.is_relative_to(self.path.parent.resolve().parent) else target.name)
        return sorted(set(out))

    def internal_links(self) -> int:
        return self.js("return document.querySelectorAll('a[href^=\"#\"]').length")

    def code_cells(self) -> list[str]:
        return self.js("""
            const sel = '.jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt, .input_area, ' +
                        '.input_prompt, div.highlight pre, pre code';
            return Array.from(document.querySelectorAll(sel))
              .filter(e => e.offsetParent !== null && e.innerText.trim())
              .map(e => e.innerText.trim().slice(0, 80));""")

    def bad_text(self) -> dict[str, list[str]]:
        text = self.js("return document.body.innerText")
        found: dict[str, list[str]] = {}
        for what, pattern in BAD_TEXT.items():
            hits = []
            for m in pattern.finditer(text):
                a, b = max(m.start() - 40, 0), min(m.end() + 40, len(text))
                hits.append(text[a:b].replace("\n", " | "))
            if hits:
                found[what] = hits[:5]
        return found

    def print_width(self) -> int:
        """Printable width in CSS px: A4 less the side margins of the page's ``@page`` rule (else 15 mm each)."""
        margins = self.js("""
            for (const sheet of Array.from(document.styleSheets)) {
              let rules; try { rules = sheet.cssRules; } catch (e) { continue; }
              for (const r of Array.from(rules || []))
                if (r.type === 6 && (r.style.marginLeft || r.style.marginRight))
                  return [r.style.marginLeft, r.style.marginRight];
            }
            return null;""")
        per = {"mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0, "px": 1.0, "pt": 96 / 72}

        def px(text: str | None) -> float:
            m = re.fullmatch(r"\s*([\d.]+)\s*(mm|cm|in|px|pt)\s*", text or "")
            return float(m.group(1)) * per[m.group(2)] if m else DEFAULT_MARGIN_MM * per["mm"]

        left, right = margins or (None, None)
        return round(A4_WIDTH_MM * per["mm"] - px(left) - px(right))

    def wide_tables(self, width: int | None = None) -> list[str]:
        """Tables wider than the printed page, measured with print media at the printable width."""
        width = width or self.print_width()
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": 1100, "deviceScaleFactor": 1, "mobile": False})
        try:
            return self.js(f"""
                return Array.from(document.querySelectorAll('table'))
                  .filter(t => t.offsetParent !== null)
                  .map(t => [Math.max(t.scrollWidth, t.getBoundingClientRect().width), t])
                  .filter(([w, t]) => w > {width} + 2)
                  .map(([w, t]) => Math.round(w) + ' px: ' +
                       ((t.caption && t.caption.innerText) || (t.querySelector('th') || t).innerText)
                       .slice(0, 60).replace(/\\n/g, ' '));""")
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})

    def pdf_pages(self) -> int:
        """Pages of the page printed to A4 with 15 mm margins (Chromium's own print, as a reader would)."""
        margin = 15 / 25.4
        pdf = self.driver.execute_cdp_cmd("Page.printToPDF", {
            "paperWidth": 210 / 25.4, "paperHeight": 297 / 25.4, "marginTop": margin, "marginBottom": margin,
            "marginLeft": margin, "marginRight": margin, "printBackground": True, "preferCSSPageSize": True})
        return count_pdf_pages(base64.b64decode(pdf["data"]))


def count_pdf_pages(data: bytes) -> int:
    """Number of page objects in a PDF (Chromium writes each page as ``/Type /Page``, not in object streams)."""
    assert data.startswith(b"%PDF"), "not a PDF"
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def test_count_pdf_pages_on_a_hand_written_pdf():
    two = b"%PDF-1.4\n1 0 obj<</Type /Pages /Kids[2 0 R 3 0 R]/Count 2>>endobj\n" \
          b"2 0 obj<</Type /Page>>endobj\n3 0 obj<</Type/Page /Parent 1 0 R>>endobj\n%%EOF"
    assert count_pdf_pages(two) == 2


# ----------------------------------------------------------------- the tests
def _check_page(page: Page, *, toc: bool) -> list[str]:
    problems = []
    if errs := page.console_errors():
        problems.append(f"console errors: {errs[:5]}")
    if reqs := page.outside_requests():
        problems.append(f"requests outside the file: {reqs[:8]}")
    if imgs := page.broken_images():
        problems.append(f"images not loaded: {imgs[:5]}")
    if toc and page.internal_links() == 0:
        problems.append("no table of contents (no link to a section of the page)")
    if links := page.unresolved_links():
        problems.append(f"links to no element id: {links[:8]}")
    if files := page.missing_files():
        problems.append(f"links to files that do not exist: {files[:8]}")
    if cells := page.code_cells():
        problems.append(f"code cells shown: {cells[:3]}")
    for what, hits in page.bad_text().items():
        problems.append(f"visible {what}: {hits}")
    if wide := page.wide_tables():
        problems.append(f"tables wider than the printed page ({page.print_width()} px): {wide[:8]}")
    return problems


@needs_browser
def test_report_reads_like_a_document(driver, run_dir):
    page = Page(driver, run_dir / "report.html")
    problems = _check_page(page, toc=True)
    assert not problems, f"{page.path.name}:\n  " + "\n  ".join(problems)


@needs_browser
def test_scorecard_reads_like_a_document(driver, scorecard):
    page = Page(driver, scorecard)
    problems = _check_page(page, toc=False)
    assert not problems, f"scorecards/{page.path.name}:\n  " + "\n  ".join(problems)


@needs_browser
def test_report_prints_to_a_bounded_pdf(driver, run_dir, record_property):
    page = Page(driver, run_dir / "report.html")
    total = page.pdf_pages()
    # pages before the appendix: print again with the appendix and everything after it removed
    cut = page.js("""
        const a = document.querySelector('[id^="appendix"], [id*="-appendix"], section.appendix, .appendix');
        if (!a) return false;
        let node = a.closest('section') || a;
        while (node.parentElement && node.parentElement !== document.body && !node.nextElementSibling)
          node = node.parentElement;
        let next = node; const gone = [];
        while (next) { gone.push(next); next = next.nextElementSibling; }
        gone.forEach(n => n.remove());
        return true;""")
    before = page.pdf_pages() if cut else None
    record_property("pdf_pages", total)
    record_property("pdf_pages_before_appendix", before)
    print(f"\nreport.html prints to {total} A4 pages"
          + (f", {before} before the appendix" if before is not None else " (no appendix element found)"))
    assert 1 <= total <= MAX_TOTAL_PAGES, f"report.html prints to {total} pages (bound {MAX_TOTAL_PAGES})"
