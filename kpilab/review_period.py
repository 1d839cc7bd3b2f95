"""What a review notebook reads: the data folder (never a silent default) and the review period.

Every notebook of the review pipeline takes ``data_dir``, ``period_start`` and ``period_end``.
:func:`resolve_data_dir` refuses an empty ``data_dir`` with the way to pass it, so a run never
falls back to the demo data unasked. :func:`review_period` turns the period bounds into a
:class:`ReviewPeriod` that filters the canonical tables (notebook 00), the events the panel is
computed from (notebook 01, with ``history`` earlier periods for trends, stated as such) and the
panel rows every later notebook uses (02-06: the review period only).

Period labels follow :func:`kpilab.indicators.compute_panel`: the first day of the period
(``YYYY-MM-DD``), weeks starting on Monday. A bound inside a period is moved to the start of that
period, so ``period_end = 2025-12-15`` with monthly periods includes December.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kpilab.errors import DataError, ParameterError
from kpilab.formatting import format_period
from kpilab.outputs import PROJ_ROOT

__all__ = ["resolve_data_dir", "ReviewPeriod", "review_period", "TIME_COLUMNS"]

#: The time column each canonical table is filtered on.
TIME_COLUMNS = {"contacts": "arrived_at", "surveys": "responded_at", "qa_reviews": "reviewed_at",
                "tickets": "created_at"}
_FREQ = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q"}
_STEP = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1),
         "quarter": pd.DateOffset(months=3)}


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    """The data folder a notebook reads, relative paths taken from the project root.

    Raises
    ------
    ParameterError
        ``data_dir`` is empty: kpilab does not fall back to the demo data; the message says how to
        pass a folder (and how to ask for the demo explicitly).
    DataError
        The folder does not exist.
    """
    if data_dir is None or not str(data_dir).strip():
        raise ParameterError(
            "No data folder given (parameter data_dir is empty). Pass the folder of canonical tables: "
            "`kpilab run review -p data_dir DIR`, or `papermill NOTEBOOK OUT -p data_dir DIR`; for the demo "
            "data ask for it explicitly with `-p data_dir data/demo` (`make demo` does this)."
        )
    p = Path(data_dir)
    p = p if p.is_absolute() else PROJ_ROOT / p
    if not p.is_dir():
        raise DataError(f"Data folder {data_dir} does not exist (looked in {p}); pass -p data_dir DIR with the folder "
                        "of canonical tables.")
    return p


def _period_start(value: str | None, period: str, name: str) -> pd.Timestamp | None:
    if value is None or not str(value).strip():
        return None
    try:
        ts = pd.Timestamp(str(value))
    except ValueError:
        raise ParameterError(f"The {name!r} parameter must be a 'YYYY-MM-DD' date or ''. Got {value!r}.") from None
    return ts.to_period(_FREQ[period]).start_time


@dataclass(frozen=True)
class ReviewPeriod:
    """Bounds of the review period, as period labels (first days), and the history kept for trends.

    Attributes
    ----------
    start, end : Timestamp or None
        First and last period of the review (None: open).
    period : str
        ``day``, ``week``, ``month`` or ``quarter``.
    history : int
        Periods before ``start`` kept for trends (notebooks 00 and 01 only).
    """

    start: pd.Timestamp | None
    end: pd.Timestamp | None
    period: str = "month"
    history: int = 0

    @property
    def bounded(self) -> bool:
        """True when a start or an end was given."""
        return self.start is not None or self.end is not None

    @property
    def data_start(self) -> pd.Timestamp | None:
        """First day of the data read: ``history`` periods before ``start``."""
        if self.start is None:
            return None
        return self.start - self.history * _STEP[self.period]

    @property
    def data_end(self) -> pd.Timestamp | None:
        """Last day of the last period (inclusive)."""
        if self.end is None:
            return None
        return self.end + _STEP[self.period] - pd.Timedelta(days=1)

    def label(self) -> str:
        """``"Oct 2025 to Dec 2025"``, ``"from Oct 2025"``, or ``"every period in the data"``."""
        fmt = (lambda t: format_period(t.strftime("%Y-%m-%d"), self.period))  # noqa: E731
        if self.start is not None and self.end is not None:
            a, b = fmt(self.start), fmt(self.end)
            return a if a == b else f"{a} to {b}"
        if self.start is not None:
            return f"from {fmt(self.start)}"
        if self.end is not None:
            return f"up to {fmt(self.end)}"
        return "every period in the data"

    def describe(self, with_history: bool = False) -> str:
        """One sentence on what is read: the review period and, when asked, the earlier periods for trends."""
        if not self.bounded:
            return "The review covers every period in the data (no period_start or period_end given)."
        text = f"The review period is {self.label()}."
        if with_history and self.history and self.start is not None:
            first = format_period(self.data_start.strftime("%Y-%m-%d"), self.period)
            text += (f" The {self.history} {self.period}{'s' if self.history != 1 else ''} before it (from {first}) "
                     "are included for trends only; every statistic of the review uses the review period.")
        return text

    def filter_panel(self, panel: pd.DataFrame, *, history: bool = False) -> pd.DataFrame:
        """Panel rows of the review period (plus the history periods when ``history``).

        Raises
        ------
        DataError
            Period labels that are not dates, or no row in the period (naming what the panel covers).
        """
        if not self.bounded:
            return panel
        if "period" not in panel.columns:
            raise DataError("The panel has no 'period' column, so it cannot be limited to the review period.")
        per = panel["period"].astype(str)
        dates = pd.to_datetime(per, errors="coerce", format="%Y-%m-%d")
        if dates.isna().any():
            bad = ", ".join(per[dates.isna()].unique()[:3])
            raise DataError(f"Cannot limit the panel to the review period: period value(s) {bad} are not YYYY-MM-DD.")
        lo = self.data_start if history else self.start
        keep = pd.Series(True, index=panel.index)
        if lo is not None:
            keep &= dates >= lo
        if self.end is not None:
            keep &= dates <= self.end
        out = panel[keep.to_numpy()]
        if out.empty:
            raise DataError(f"No panel rows in the review period ({self.label()}); the panel covers {per.min()} to "
                            f"{per.max()}. Check period_start and period_end.")
        return out

    def filter_tables(self, tables: Mapping[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        """Canonical tables limited to the rows read (history included), and the count per table.

        Returns
        -------
        (tables, counts)
            ``counts``: ``table, rows, in_period, outside_period, time_column`` so every row is accounted
            for; tables without a time column (agents, exemptions) are kept whole.
        """
        out: dict[str, pd.DataFrame] = {}
        rows = []
        lo, hi = self.data_start, self.data_end
        for name, df in tables.items():
            col = TIME_COLUMNS.get(name)
            if not self.bounded or col is None or col not in df.columns:
                out[name] = df
                rows.append([name, len(df), len(df), 0, col or ""])
                continue
            t = pd.to_datetime(df[col])
            keep = pd.Series(True, index=df.index)
            tz = getattr(t.dt, "tz", None)
            if lo is not None:
                keep &= t >= (lo.tz_localize(tz) if tz is not None else lo)
            if hi is not None:
                keep &= t < ((hi + pd.Timedelta(days=1)).tz_localize(tz) if tz is not None else hi + pd.Timedelta(days=1))
            out[name] = df[keep.to_numpy()]
            rows.append([name, len(df), int(keep.sum()), int((~keep).sum()), col])
        return out, pd.DataFrame(rows, columns=["table", "rows", "in_period", "outside_period", "time_column"])


def review_period(period_start: str | None = "", period_end: str | None = "", period: str = "month",
                  history: int = 0) -> ReviewPeriod:
    """Check and normalise the review period parameters.

    Raises
    ------
    ParameterError
        A bound that is not a date, an unknown ``period``, a negative ``history``, or start after end.
    """
    if period not in _FREQ:
        raise ParameterError(f"The 'period' parameter must be one of {', '.join(_FREQ)}. Got {period!r}.")
    if int(history) < 0:
        raise ParameterError(f"The 'history_periods' parameter must be 0 or more. Got {history!r}.")
    start = _period_start(period_start, period, "period_start")
    end = _period_start(period_end, period, "period_end")
    if start is not None and end is not None and start > end:
        raise ParameterError(f"period_start ({period_start}) is after period_end ({period_end}); swap them.")
    return ReviewPeriod(start=start, end=end, period=period, history=int(history))
