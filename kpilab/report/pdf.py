"""Print ``report.html`` to ``report.pdf`` with a headless Chromium, when one is installed.

The browser is the system ``chromium`` (or ``chromium-browser`` / ``google-chrome``) found on
``PATH``; kpilab never downloads one. Without a browser, or when printing fails or times out, the
function returns None and a notice saying why; the HTML report is unaffected.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["find_browser", "write_pdf"]

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """Path of a headless-capable Chromium on ``PATH``, or None."""
    for name in _BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def write_pdf(html: Path, pdf: Path | None = None, *, timeout: float = 120.0) -> tuple[Path | None, str]:
    """Print ``html`` to ``pdf`` (default: beside it, ``report.pdf``) on A4 with the report's print CSS.

    Returns
    -------
    (path or None, notice)
        The PDF's path, or None with a one-line notice saying why no PDF was written.
    """
    html = Path(html).resolve()
    pdf = Path(pdf) if pdf is not None else html.with_suffix(".pdf")
    browser = find_browser()
    if browser is None:
        return None, ("No headless Chromium is installed (e.g. apt-get install chromium), so report.pdf was not "
                      "written; print report.html from a browser instead.")
    with tempfile.TemporaryDirectory(prefix="kpilab-chromium-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               f"--user-data-dir={profile}", f"--print-to-pdf={pdf.resolve()}", html.as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, f"Chromium did not finish printing within {timeout:.0f} s; report.pdf was not written."
        except OSError as exc:
            return None, f"Chromium could not be started ({exc.strerror}); report.pdf was not written."
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        return None, f"Chromium failed to print the report (exit code {done.returncode}); report.pdf was not written."
    return pdf, ""
