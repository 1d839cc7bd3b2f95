"""The report's building blocks: sections holding paragraphs, lists, figures, tables and notices.

Everything here is already text for people: section builders format every
number (through :mod:`kpilab.formatting`) before it reaches a block, so the
template only lays the blocks out and numbers the figures and tables.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kpilab.formatting import display_table

__all__ = ["Paragraph", "Subhead", "Bullets", "Markup", "Figure", "Table", "Notice", "Section", "make_table", "make_figure",
           "markdown", "MAX_COLUMNS"]

#: Columns a printed A4 table can hold legibly at the print font size.
MAX_COLUMNS = 8


@dataclass
class Paragraph:
    """Plain text; ``links`` maps a phrase to an anchor (rendered as a link)."""

    text: str
    kind: str = "paragraph"


@dataclass
class Subhead:
    """A heading inside a section; ``anchor`` lets other sections link to it."""

    text: str
    anchor: str = ""
    kind: str = "subhead"


@dataclass
class Bullets:
    """A list of items; each item is ``(text, anchor or "")``."""

    items: list[tuple[str, str]]
    ordered: bool = False
    kind: str = "bullets"


@dataclass
class Markup:
    """Markdown from a section file, rendered with raw HTML escaped (no scripts can come in this way)."""

    html: str
    kind: str = "markup"


@dataclass
class Notice:
    """A boxed statement: a step not run, a table not written, a limitation."""

    text: str
    kind: str = "notice"


@dataclass
class Figure:
    """An embedded PNG with its caption; ``number`` is set when the report is laid out."""

    data_uri: str
    caption: str
    source: str
    wide: bool = False
    number: int = 0
    kind: str = "figure"


@dataclass
class Table:
    """A formatted table: every cell is a string, ``classes`` optional CSS classes per cell.

    ``numeric`` names the columns aligned right; ``note`` says what was cut and
    where the full table is.
    """

    caption: str
    columns: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)
    classes: list[list[str]] | None = None
    note: str = ""
    widths: list[str] | None = None
    small: bool = False
    number: int = 0
    kind: str = "table"


@dataclass
class Section:
    """One numbered section of the report (``anchor`` is its id in the HTML)."""

    anchor: str
    title: str
    blocks: list[Any] = field(default_factory=list)
    appendix: bool = False
    number: str = ""

    def add(self, *blocks: Any) -> Section:
        """Append blocks (``None`` entries are skipped); returns self for chaining."""
        self.blocks.extend(b for b in blocks if b is not None)
        return self

    def para(self, text: str) -> Section:
        """Append a paragraph."""
        return self.add(Paragraph(text))

    def notice(self, text: str) -> Section:
        """Append a notice."""
        return self.add(Notice(text))


def make_table(
    df: pd.DataFrame,
    caption: str,
    *,
    formats: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
    max_rows: int | None = 20,
    csv: str | None = None,
    missing: str = "–",
    classes: Sequence[Sequence[str]] | None = None,
    widths: Sequence[str] | None = None,
    small: bool = False,
) -> Table:
    """A :class:`Table` from a DataFrame, every cell formatted by :func:`kpilab.formatting.display_table`.

    Rows beyond ``max_rows`` are cut and the note says "Showing N of M rows"
    and, when ``csv`` is given, where the full table is (``tables/<csv>``, or
    the run-folder path when ``csv`` holds a ``/``). More
    than :data:`MAX_COLUMNS` columns is a programming error: the caller must
    choose the columns a reader needs (a wide table does not fit A4).
    """
    if df.shape[1] > MAX_COLUMNS:
        raise ValueError(f"table {caption!r} has {df.shape[1]} columns; at most {MAX_COLUMNS} fit a printed page")
    formats = dict(formats or {})
    shown, note = display_table(df, formats, names=names, missing=missing, max_rows=max_rows)
    where = (csv if "/" in csv else f"tables/{csv}") if csv else ""
    if note and where:
        note = f"{note[:-1]}; the full table is {where}."
    elif where:
        note = f"Also in {where}."
    numeric = {
        k for k, col in enumerate(df.columns)
        if formats.get(col, "") not in ("text", "period", "date", "")
        or (col not in formats and pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]))
    }
    cls = [list(r) for r in classes][: len(shown)] if classes is not None else None
    return Table(caption, [str(c) for c in shown.columns], shown.astype(str).values.tolist(), numeric, cls, note,
                 list(widths) if widths else None, small)


def markdown(text: str) -> Markup:
    """Render Markdown to HTML with any raw HTML in it escaped (mistune, shipped with nbconvert)."""
    import mistune

    return Markup(mistune.create_markdown(escape=True)(text or ""))


def make_figure(path: Path, caption: str, *, wide: bool = False) -> Figure:
    """A :class:`Figure` embedding the PNG at ``path`` as a base64 data URI (the report stays one file)."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return Figure(f"data:image/png;base64,{data}", caption, f"figures/{Path(path).name}", wide)
