"""Show a table in a notebook the way people read it (formatted cells, "showing N of M" when cut)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from kpilab.formatting import display_table

__all__ = ["show_table"]


def show_table(
    df: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    *,
    names: Mapping[str, str] | None = None,
    max_rows: int | None = None,
) -> None:
    """Display ``df`` through :func:`kpilab.formatting.display_table` (no ``nan``, ``NaT``, ``True``,
    raw seconds), without the index, followed by "Showing N of M rows." when ``max_rows`` cut it."""
    from IPython.display import Markdown, display

    table, note = display_table(df, formats, names=names, max_rows=max_rows)
    display(table.style.hide(axis="index"))
    if note:
        display(Markdown(f"*{note} The full table is in the run folder's tables/.*"))
