"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs are reproducible (a failure there can be replayed); local runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

PROJ_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("KPILAB_SHARED_DATA", PROJ_ROOT.parent / "shared" / "data"))

os.environ.setdefault("MPLBACKEND", "Agg")


def parameters_source(notebook: Path) -> str:
    """Source of a notebook's cell tagged ``parameters`` (test_style checks there is exactly one)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    return cell.source


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public real-data folder (../shared/data); tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (set KPILAB_SHARED_DATA to run these tests)")
    return SHARED_DATA
