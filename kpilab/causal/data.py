"""Inputs of a training-effect analysis: the training table and the agent x period matrix.

:func:`read_training` accepts a ``training`` table (``agent_id, course, trained_at, rating``;
an agent may have several rows) or an ``agents`` table with a ``trained_at`` column (empty:
never trained). :func:`did_panel` turns a long kpilab panel (:mod:`kpilab.panel`) and those
dates into what the estimators need: one row per agent, one column per period, and each agent's
cohort (the index of the period that contains its first training date). Every row read is either
used or counted with a reason in :attr:`DidPanel.accounting`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kpilab.errors import DataError, InsufficientDataError, SchemaError, format_ids
from kpilab.panel import PERIODS, read_panel, validate_panel

__all__ = ["DidPanel", "read_training", "find_training", "did_panel", "infer_period", "PERIOD_LENGTH"]

#: Periods of each kind in a quarter and in two weeks (floor), for the three evaluation stages.
PERIOD_LENGTH = {"day": (91, 14), "week": (13, 2), "month": (3, 0), "quarter": (1, 0)}
_FREQ = {"day": "D", "week": "7D", "month": "MS", "quarter": "QS"}


@dataclass(frozen=True)
class DidPanel:
    """An indicator as an agent x period matrix with each agent's training cohort.

    Attributes
    ----------
    y : ndarray, shape (n_agents, n_periods)
        The indicator's value per agent and period (NaN where the panel has no value).
    units : ndarray of str
        Agent ids, the rows of ``y``.
    periods : list of str
        Period labels (first day, ``YYYY-MM-DD``), the columns of ``y``, consecutive.
    period_kind : {"day", "week", "month", "quarter"}
        Length of a period.
    cohort : ndarray of int
        Index in ``periods`` of the period that contains the agent's first training date;
        -1 for agents never trained.
    trained_at : pandas.Series
        First training date per agent (index ``units``; NaT when never trained).
    indicator : str
        Indicator code.
    ratings : pandas.DataFrame
        Training rows of the panel's agents with ``agent_id, course, trained_at, rating`` (rating
        NaN when the table has none).
    accounting : pandas.DataFrame
        ``table, rows, status, reason``: every input row used or excluded, with the reason.
    """

    y: np.ndarray
    units: np.ndarray
    periods: list[str]
    period_kind: str
    cohort: np.ndarray
    trained_at: pd.Series
    indicator: str
    ratings: pd.DataFrame
    accounting: pd.DataFrame

    @property
    def n_never(self) -> int:
        """Agents never trained."""
        return int((self.cohort < 0).sum())


def read_training(
    source: str | Path | pd.DataFrame, *, course: str | None = None, name: str | None = None
) -> pd.DataFrame:
    """Read a training table (or agents with ``trained_at``) as ``agent_id, course, trained_at, rating``.

    Parameters
    ----------
    source : path or DataFrame
        ``.csv`` or ``.parquet``; a ``training`` table (``agent_id``, ``trained_at``, optional
        ``course`` and ``rating``) or an ``agents`` table whose ``trained_at`` is empty for agents
        never trained (their rows are kept with NaT: they are the controls).
    course : str, optional
        Keep only this course (the table must have a ``course`` column).
    name : str, optional
        Table name used in messages (default: the file name).

    Returns
    -------
    DataFrame
        Columns ``agent_id`` (str), ``course`` (str, "" when absent), ``trained_at`` (datetime64,
        NaT: never trained), ``rating`` (float, NaN when absent).

    Raises
    ------
    SchemaError
        A missing ``agent_id`` or ``trained_at`` column, dates that do not parse, ratings that are
        not numbers, an unknown course.
    """
    if isinstance(source, pd.DataFrame):
        df, label = source.copy(), name or "training"
    else:
        path = Path(source)
        label = name or path.name
        if not path.is_file():
            raise DataError(
                f"Training file {path} does not exist; pass a training table (agent_id, course, "
                "trained_at, rating) or an agents table with a trained_at column."
            )
        if path.suffix.lower() == ".parquet":
            df = pd.read_parquet(path)
        elif path.suffix.lower() == ".csv":
            df = pd.read_csv(path, dtype={"agent_id": str})
        else:
            raise DataError(f"Training file {path} must end in .csv or .parquet.")
    missing = [c for c in ("agent_id", "trained_at") if c not in df.columns]
    if missing:
        raise SchemaError(
            f"Table {label!r} has no column(s) {', '.join(missing)}: a training table needs agent_id and "
            "trained_at (course and rating optional), or pass the agents table with a trained_at column. "
            f"It has {', '.join(map(str, df.columns))}.",
            table=label,
            column=missing[0],
        )
    raw = df["trained_at"]
    if pd.api.types.is_datetime64_any_dtype(raw):
        when = raw.dt.tz_localize(None) if getattr(raw.dt, "tz", None) is not None else raw
    else:
        text = raw.astype("string").str.strip()
        when = pd.to_datetime(text, errors="coerce", format="mixed")
        bad = text.notna() & (text != "") & when.isna()
        if bad.any():
            rows = list(np.flatnonzero(bad.to_numpy()) + 2)  # + header, 1-based file lines
            raise SchemaError(
                f"Table {label!r}, column 'trained_at': {int(bad.sum())} value(s) are not dates (first: "
                f"{format_ids(text[bad].unique())}; file lines {format_ids(rows)}). "
                "Write dates as YYYY-MM-DD "
                "or leave the cell empty for an agent never trained.",
                table=label,
                column="trained_at",
                n_rows=int(bad.sum()),
                example_ids=rows[:5],
            )
    rating = df["rating"] if "rating" in df.columns else pd.Series(np.nan, index=df.index)
    if not pd.api.types.is_numeric_dtype(rating):
        num = pd.to_numeric(rating, errors="coerce")
        bad = rating.notna() & num.isna()
        if bad.any():
            raise SchemaError(
                f"Table {label!r}, column 'rating': {int(bad.sum())} value(s) are not numbers "
                f"(first: {format_ids(rating[bad].astype(str).unique())}).",
                table=label,
                column="rating",
                n_rows=int(bad.sum()),
            )
        rating = num
    out = pd.DataFrame(
        {
            "agent_id": df["agent_id"].astype(str).str.strip(),
            "course": df["course"].fillna("").astype(str) if "course" in df.columns else "",
            "trained_at": pd.to_datetime(when).astype("datetime64[ns]"),
            "rating": rating.astype(float),
        }
    ).reset_index(drop=True)
    if course is not None:
        if "course" not in df.columns:
            raise SchemaError(
                f"Table {label!r} has no 'course' column, so course={course!r} cannot be chosen.",
                table=label,
                column="course",
            )
        courses = sorted(set(out["course"]) - {""})
        if course not in courses:
            raise SchemaError(
                f"Table {label!r}: no rows of course {course!r}; courses are {format_ids(courses, 10)}.",
                table=label,
                column="course",
            )
        out = out[(out["course"] == course) | out["trained_at"].isna()].reset_index(drop=True)
    out.attrs["label"] = label
    return out


def find_training(folder: str | Path) -> tuple[Path, pd.DataFrame] | None:
    """The training dates of a folder: ``training.parquet``/``.csv``, else ``agents`` with ``trained_at``.

    Returns ``(file, table read by read_training)``, or None when the folder has no training table
    and no agents table with at least one ``trained_at`` date (the training step is then skipped).
    """
    folder = Path(folder)
    for stem in ("training", "agents"):
        for suffix in (".parquet", ".csv"):
            path = folder / f"{stem}{suffix}"
            if not path.is_file():
                continue
            if stem == "agents":
                cols = (
                    pd.read_parquet(path, columns=None).columns
                    if suffix == ".parquet"
                    else pd.read_csv(path, nrows=0).columns
                )
                if "trained_at" not in cols:
                    return None
            table = read_training(path)
            if table["trained_at"].notna().any():
                return path, table
    return None


def infer_period(starts: pd.DatetimeIndex) -> str:
    """Period kind from the spacing of the period starts (1 day, 7 days, a month or a quarter)."""
    if len(starts) < 2:
        raise InsufficientDataError(
            f"The panel has {len(starts)} period; a difference in differences needs at "
            "least a period before and one after training."
        )
    step = float(np.median(np.diff(starts.values).astype("timedelta64[D]").astype(float)))
    for kind, lo, hi in (("day", 1, 1), ("week", 7, 7), ("month", 28, 31), ("quarter", 89, 92)):
        if lo <= step <= hi:
            return kind
    raise DataError(
        f"Cannot tell the panel's period from its labels (median gap {step:g} days); pass "
        f"period= one of {', '.join(PERIODS)}."
    )


def _grid(starts: pd.DatetimeIndex, kind: str) -> pd.DatetimeIndex:
    grid = pd.date_range(starts[0], starts[-1], freq=_FREQ[kind])
    off = starts.difference(grid)
    if len(off):
        raise DataError(
            f"Panel periods {format_ids([str(d.date()) for d in off])} are not {kind}s counted from "
            f"{starts[0].date()}; pass the panel's period (period=) or recompute the panel."
        )
    return grid


def _period_end(grid: pd.DatetimeIndex, kind: str) -> pd.Timestamp:
    last = grid[-1]
    return (
        last
        + {
            "day": pd.Timedelta(days=1),
            "week": pd.Timedelta(days=7),
            "month": pd.DateOffset(months=1),
            "quarter": pd.DateOffset(months=3),
        }[kind]
    )


def did_panel(
    panel: pd.DataFrame | str | Path,
    training: pd.DataFrame | str | Path,
    indicator: str,
    *,
    period: str | None = None,
    course: str | None = None,
) -> DidPanel:
    """Agent x period matrix of ``indicator`` with each agent's training cohort.

    Parameters
    ----------
    panel : DataFrame or path
        Long kpilab panel (agent rows are used).
    training : DataFrame or path
        Training table or agents table with ``trained_at`` (:func:`read_training`).
    indicator : str
        Indicator code in the panel.
    period : {"day", "week", "month", "quarter"}, optional
        The panel's period (default: read from the spacing of its labels).
    course : str, optional
        Use only this course's training dates.

    Returns
    -------
    DidPanel

    Raises
    ------
    DataError
        Unknown indicator, no agent rows, a training date outside the panel's periods (names the
        agents and dates), a cohort trained in the panel's first period (no pre-period).
    InsufficientDataError
        No agent of the panel was trained.
    """
    pan = read_panel(panel) if not isinstance(panel, pd.DataFrame) else validate_panel(panel)
    label = Path(panel).name if isinstance(panel, str | Path) else "panel"
    tr = read_training(
        training,
        course=course,
        name=training.attrs.get("label") if isinstance(training, pd.DataFrame) else None,
    )
    t_label = tr.attrs.get("label", "training")
    acct: list[dict] = []
    agent_rows = pan["unit_level"] == "agent"
    if not agent_rows.any():
        raise DataError(
            f"Panel {label!r} has no agent rows (unit levels: {sorted(pan['unit_level'].unique())}); "
            "the training effect is estimated per agent: compute the panel with --unit agent."
        )
    codes = sorted(pan.loc[agent_rows, "indicator"].unique())
    if indicator not in codes:
        raise DataError(
            f"Indicator {indicator!r} is not in panel {label!r} (agent rows); it has "
            f"{format_ids(codes, 40)}. Choose one of these or recompute the panel with it."
        )
    rows = pan[agent_rows & (pan["indicator"] == indicator)]
    acct.append(
        {
            "table": label,
            "rows": int(len(pan) - len(rows)),
            "status": "not used",
            "reason": "other indicators or unit levels",
        }
    )
    missing_value = rows["value"].isna()
    if missing_value.any():
        acct.append(
            {
                "table": label,
                "rows": int(missing_value.sum()),
                "status": "excluded",
                "reason": f"{indicator} value missing",
            }
        )
    rows = rows[~missing_value]
    acct.append({"table": label, "rows": int(len(rows)), "status": "used", "reason": ""})
    try:
        starts = pd.DatetimeIndex(pd.to_datetime(sorted(rows["period"].unique()), format="%Y-%m-%d"))
    except (ValueError, TypeError):
        raise DataError(
            f"Panel {label!r}: period labels must be first days YYYY-MM-DD (got "
            f"{format_ids(sorted(rows['period'].unique()))})."
        ) from None
    kind = period or infer_period(starts)
    if kind not in PERIODS:
        raise DataError(f"period must be one of {', '.join(PERIODS)}; got {kind!r}.")
    grid = _grid(starts, kind)
    labels = [str(d.date()) for d in grid]
    units = np.array(sorted(rows["unit_id"].astype(str).unique()))
    y = (
        rows.pivot(index="unit_id", columns="period", values="value")
        .reindex(index=units, columns=labels)
        .to_numpy(dtype=float)
    )

    # ---- training dates -> cohorts
    never_rows = tr["trained_at"].isna()
    if never_rows.any():
        acct.append(
            {
                "table": t_label,
                "rows": int(never_rows.sum()),
                "status": "used",
                "reason": "never trained (empty trained_at): control",
            }
        )
    dated = tr[~never_rows]
    in_panel = dated["agent_id"].isin(units)
    if (~in_panel).any():
        acct.append(
            {
                "table": t_label,
                "rows": int((~in_panel).sum()),
                "status": "excluded",
                "reason": f"agent not in the panel's {indicator} rows",
            }
        )
    dated = dated[in_panel]
    end = _period_end(grid, kind)
    outside = (dated["trained_at"] < grid[0]) | (dated["trained_at"] >= end)
    if outside.any():
        bad = dated[outside]
        shown = format_ids(
            [f"{a} {d.date()}" for a, d in zip(bad["agent_id"], bad["trained_at"], strict=True)]
        )
        raise DataError(
            f"Table {t_label!r}, column 'trained_at': {int(outside.sum())} training date(s) outside the "
            f"panel's periods {grid[0].date()} .. {(end - pd.Timedelta(days=1)).date()} (first: {shown}). "
            "Compute the panel "
            "over a span that covers them, or drop those rows (an agent trained after the panel ends is a "
            "never-trained control within it: leave its trained_at empty)."
        )
    first = dated.sort_values("trained_at", kind="stable").drop_duplicates("agent_id")
    later = len(dated) - len(first)
    if later:
        acct.append(
            {
                "table": t_label,
                "rows": int(later),
                "status": "used for ratings only",
                "reason": "later training of an agent already trained (the first date sets the cohort)",
            }
        )
    acct.append(
        {"table": t_label, "rows": int(len(first)), "status": "used", "reason": "first training date"}
    )
    trained_at = pd.Series(pd.NaT, index=units, dtype="datetime64[ns]")
    trained_at.loc[first["agent_id"].to_numpy()] = first["trained_at"].to_numpy()
    cohort = np.full(len(units), -1)
    has = trained_at.notna().to_numpy()
    cohort[has] = np.searchsorted(grid.values, trained_at[has].to_numpy(), side="right") - 1
    if not has.any():
        raise InsufficientDataError(
            f"No agent of panel {label!r} ({len(units)} agents with {indicator}) has a "
            f"training date in {t_label!r}; there is no training effect to estimate."
        )
    no_pre = has & (cohort == 0)
    if no_pre.any():
        raise DataError(
            f"Cohort trained in {labels[0]} (the panel's first period; agents "
            f"{format_ids(units[no_pre].tolist())}) has no period before training, so its change cannot be "
            "measured. Compute the panel from an earlier start, or drop those agents' rows from the training "
            "table."
        )
    ratings = tr[tr["agent_id"].isin(units) & tr["trained_at"].notna()].reset_index(drop=True)
    return DidPanel(
        y=y,
        units=units,
        periods=labels,
        period_kind=kind,
        cohort=cohort,
        trained_at=trained_at,
        indicator=indicator,
        ratings=ratings,
        accounting=pd.DataFrame(acct),
    )
