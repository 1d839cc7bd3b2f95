"""Where notebooks put what they produce: ``<run_dir>/tables`` and ``<run_dir>/figures``.

Notebooks receive ``run_dir`` as a papermill parameter (the runner sets it to
``outputs/<run_id>/``). Run standalone with ``run_dir = ""`` they write to a
fresh temporary folder, so nothing is ever overwritten by accident.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from kpilab.errors import ParameterError

__all__ = ["resolve_run_dir", "save_table", "save_figure", "PROJ_ROOT"]

PROJ_ROOT = Path(__file__).resolve().parents[1]


def resolve_run_dir(run_dir: str | Path | None) -> Path:
    """The run folder to write into: ``run_dir``, or a new temporary folder when empty."""
    if not run_dir:
        return Path(tempfile.mkdtemp(prefix="kpilab-"))
    path = Path(run_dir)
    if not path.is_absolute():
        path = PROJ_ROOT / path
    path.mkdir(parents=True, exist_ok=True)
    return path


def _name(name: str, suffix: str) -> str:
    if not name or "/" in name or "\\" in name:
        raise ParameterError(f"Output name must be a plain file name, got {name!r}.")
    return name if name.endswith(suffix) else name + suffix


def save_table(run_dir: str | Path, name: str, df: pd.DataFrame, *, index: bool = False) -> Path:
    """Write ``df`` as ``<run_dir>/tables/<name>.csv`` and return the path."""
    path = Path(run_dir) / "tables" / _name(name, ".csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=index)
    return path


def save_figure(run_dir: str | Path, name: str, fig: plt.Figure) -> Path:
    """Write ``fig`` as ``<run_dir>/figures/<name>.png`` and return the path."""
    path = Path(run_dir) / "figures" / _name(name, ".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path
