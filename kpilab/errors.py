"""The kpilab error hierarchy.

Every error kpilab raises on bad input is a :class:`KpilabError`. Messages are
one line that says *where* (table, column, key path, rows), *what* is wrong and
*what to do*, so the command line can print ``str(err)`` and exit non-zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "KpilabError",
    "FrameworkError",
    "SchemaError",
    "DataError",
    "ParameterError",
    "InsufficientDataError",
    "RunError",
    "InputFileError",
    "OutputError",
    "format_ids",
]


def format_ids(ids: Iterable[Any], limit: int = 5) -> str:
    """Render the first few offending ids, e.g. ``'c1', 'c7', 'c9' (+12 more)``."""
    ids = list(ids)
    shown = ", ".join(repr(i) for i in ids[:limit])
    rest = len(ids) - limit
    return shown + (f" (+{rest} more)" if rest > 0 else "")


class KpilabError(Exception):
    """Base class of every error kpilab raises on bad input or bad parameters."""


class FrameworkError(KpilabError):
    """A framework file is missing, unreadable or invalid (names the key path)."""


class SchemaError(KpilabError):
    """A canonical table breaks its contract (names table, column, rows, remedy).

    Attributes
    ----------
    table, column : str or None
        Where the problem is.
    n_rows : int
        How many rows are affected.
    example_ids : list
        The first few offending ids (or row numbers when the table has no id).
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        column: str | None = None,
        n_rows: int = 0,
        example_ids: Iterable[Any] = (),
    ) -> None:
        super().__init__(message)
        self.table = table
        self.column = column
        self.n_rows = n_rows
        self.example_ids = list(example_ids)


class DataError(KpilabError):
    """Data that satisfies the schema but cannot support the requested analysis."""


class InsufficientDataError(DataError):
    """Too few units, periods or observations for a statistic (says how many are needed)."""


class ParameterError(KpilabError, ValueError):
    """A parameter is outside what the function accepts (names it, the accepted values, the value)."""


class RunError(KpilabError):
    """A notebook run could not be started or did not finish."""


class InputFileError(DataError):
    """An input file cannot be read as a table: encoding, CSV syntax, format or sheet (names file, line, remedy)."""


class OutputError(KpilabError):
    """An output location is refused (an input, a foreign non-empty folder, an unwritable place): names it."""
