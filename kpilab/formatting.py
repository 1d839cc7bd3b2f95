"""How numbers, durations, periods and indicator names are shown to people.

One module so the report, the per-agent scorecards, figure labels and the
notebooks agree: a share is "83 %", a duration is "4.5 min" or "66 h", a
month is "Jan 2025", a count is "12,400", a statistic has 2-3 significant
digits, and a missing value says why instead of printing ``nan``.

Every function takes plain Python or numpy scalars and returns ``str``; the
vectorised helpers (:func:`format_column`, :func:`display_table`) apply them to
pandas objects for tables that are printed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MISSING",
    "is_missing",
    "format_number",
    "format_count",
    "format_share",
    "format_duration",
    "format_value",
    "format_period",
    "format_date",
    "format_weight",
    "indicator_name",
    "unit_of",
    "format_column",
    "display_table",
    "duration_scale",
]

#: What a missing value shows when the caller gives no reason.
MISSING = "–"

_DURATION_UNITS = (("s", 1.0), ("min", 60.0), ("h", 3600.0), ("d", 86400.0))


def is_missing(x: Any) -> bool:
    """True for None, NaN, NaT and pandas NA."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):  # arrays and lists are not "missing"
        return False


def _sig(x: float, digits: int) -> str:
    """``x`` with ``digits`` significant digits, thousands separators, no exponent."""
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    decimals = max(digits - 1 - magnitude, 0)
    return f"{x:,.{decimals}f}"


def format_number(x: Any, digits: int = 3, *, missing: str = MISSING) -> str:
    """A statistic with ``digits`` significant digits (``0.4567 -> "0.457"``, ``12345.6 -> "12,346"``)."""
    if is_missing(x):
        return missing
    x = float(x)
    if not math.isfinite(x):
        return "∞" if x > 0 else "−∞"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    return _sig(x, digits)


def format_count(x: Any, *, missing: str = MISSING) -> str:
    """A whole count with thousands separators (``720.0 -> "720"``, ``12400 -> "12,400"``)."""
    if is_missing(x):
        return missing
    return f"{round(float(x)):,d}"


def format_share(x: Any, digits: int = 0, *, missing: str = MISSING, signed: bool = False) -> str:
    """A proportion as a percentage (``0.063889 -> "6 %"``, with ``digits=1`` ``"6.4 %"``).

    Shares under 1 % keep one significant digit so that a small but real rate
    does not print as "0 %".
    """
    if is_missing(x):
        return missing
    pct = float(x) * 100
    if digits == 0 and 0 < abs(pct) < 1:
        text = _sig(pct, 1)
    else:
        text = f"{pct:,.{digits}f}"
    if signed and pct > 0:
        text = "+" + text
    return f"{text} %"


def duration_scale(seconds: Iterable[float] | float) -> tuple[str, float]:
    """The unit (``s``, ``min``, ``h``, ``d``) and divisor that suit durations of this size.

    Chosen from the median absolute value so that an axis or a column shares one
    unit: below 2 min in seconds, below 2 h in minutes, below a week in hours.
    """
    arr = np.abs(np.asarray(list(seconds) if not np.isscalar(seconds) else [seconds], dtype=float))
    arr = arr[np.isfinite(arr)]
    typical = float(np.median(arr)) if arr.size else 0.0
    if typical < 120:
        return _DURATION_UNITS[0]
    if typical < 7200:
        return _DURATION_UNITS[1]
    if typical < 7 * 86400:
        return _DURATION_UNITS[2]
    return _DURATION_UNITS[3]


def format_duration(seconds: Any, *, unit: str | None = None, digits: int = 2, missing: str = MISSING) -> str:
    """A duration in the unit that suits it (``330 -> "5.5 min"``, ``239000 -> "66 h"``).

    ``unit`` forces one of ``s``, ``min``, ``h``, ``d`` (e.g. to match a column).
    """
    if is_missing(seconds):
        return missing
    s = float(seconds)
    if unit is None:
        unit, div = duration_scale(s)
    else:
        div = dict(_DURATION_UNITS)[unit]
    v = s / div
    text = f"{v:,.0f}" if abs(v) >= 10 ** digits else _sig(v, digits)
    return f"{text} {unit}"


def unit_of(code: str, framework: Any = None) -> str:
    """The unit of an indicator (``share``, ``seconds``, ...): framework first, then the catalogue."""
    if framework is not None:
        try:
            ind = framework.indicator(code)
            if getattr(ind, "unit", ""):
                return ind.unit
        except Exception:  # noqa: BLE001 - not in the framework: fall back to the catalogue
            pass
    from kpilab.indicators.catalogue import CATALOGUE

    d = CATALOGUE.get(code)
    return d.unit if d is not None else ""


def indicator_name(code: str, framework: Any = None) -> str:
    """The indicator's name for people (``aht -> "Average handle time"``); the code when unknown."""
    if framework is not None:
        try:
            name = framework.indicator(code).name
            if name:
                return name
        except Exception:  # noqa: BLE001 - not in the framework: fall back to the catalogue
            pass
    from kpilab.indicators.catalogue import CATALOGUE

    d = CATALOGUE.get(code)
    return d.name if d is not None else str(code)


def format_value(x: Any, unit: str = "", *, missing: str = MISSING, duration_unit: str | None = None) -> str:
    """An indicator value in its unit: shares as %, seconds as durations, counts with separators.

    ``unit`` is an indicator unit string as in the catalogue (``share``,
    ``seconds``, ``contacts``, ``contacts/day``, ``currency``, ``score 1-5``, ...).
    """
    if is_missing(x):
        return missing
    u = (unit or "").lower()
    if u in ("share", "rate", "proportion", "%"):
        return format_share(x, digits=1 if abs(float(x)) < 0.1 else 0)
    if u in ("seconds", "s", "duration"):
        return format_duration(x, unit=duration_unit)
    if u in ("contacts", "tickets", "count", "agents"):
        return format_count(x)
    if u == "currency":
        return f"{float(x):,.2f}"
    return format_number(x)


def format_period(p: Any, period: str | None = None, *, missing: str = MISSING) -> str:
    """A period start as people write it: month ``"Jan 2025"``, quarter ``"2025 Q1"``, week ``"w/c 6 Jan 2025"``.

    ``period`` is the panel's period kind (``day``, ``week``, ``month``,
    ``quarter``); without it a date on the 1st of a month is shown as a month.
    """
    if is_missing(p):
        return missing
    if isinstance(p, str) and (len(p) == 6 and p[4] == "Q" or "Q" in p[-2:]):
        return p  # already a quarter label such as 2025Q4
    ts = pd.Timestamp(p)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    if period == "quarter":
        return f"{ts.year} Q{ts.quarter}"
    if period == "week":
        return f"w/c {ts.day} {ts:%b %Y}"
    if period == "day":
        return f"{ts.day} {ts:%b %Y}"
    if period == "month" or (period is None and ts.day == 1 and ts.hour == 0 and ts.minute == 0):
        return f"{ts:%b %Y}"
    return f"{ts.day} {ts:%b %Y}"


def format_date(x: Any, *, missing: str = MISSING) -> str:
    """A calendar date (``"6 Jan 2025"``); a time of day is kept only when it is not midnight."""
    if is_missing(x):
        return missing
    ts = pd.Timestamp(x)
    if ts.hour or ts.minute:
        return f"{ts.day} {ts:%b %Y %H:%M}"
    return f"{ts.day} {ts:%b %Y}"


def format_weight(w: Any, *, missing: str = MISSING) -> str:
    """A weight as a percentage with one decimal (``0.047 -> "4.7 %"``)."""
    if is_missing(w):
        return missing
    return f"{float(w) * 100:.1f} %"


def format_column(values: pd.Series, kind: str, *, missing: str = MISSING, **kw: Any) -> pd.Series:
    """Format a whole column: ``kind`` is ``number``, ``count``, ``share``, ``duration``, ``weight``,
    ``period``, ``date``, ``text`` or an indicator unit string (see :func:`format_value`).

    Durations share one unit across the column (chosen by :func:`duration_scale`).
    """
    if kind == "duration":
        unit, _ = duration_scale(pd.to_numeric(values, errors="coerce").dropna())
        return values.map(lambda v: format_duration(v, unit=unit, missing=missing))
    if kind in ("seconds", "s"):
        return format_column(values, "duration", missing=missing)
    fn = {
        "number": format_number,
        "count": format_count,
        "share": format_share,
        "weight": format_weight,
        "period": format_period,
        "date": format_date,
    }.get(kind)
    if fn is not None:
        return values.map(lambda v: fn(v, missing=missing, **kw))
    if kind == "text":
        return values.map(lambda v: missing if is_missing(v) else str(v))
    return values.map(lambda v: format_value(v, kind, missing=missing))


def display_table(
    df: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    *,
    names: Mapping[str, str] | None = None,
    missing: str = MISSING,
    max_rows: int | None = None,
) -> tuple[pd.DataFrame, str]:
    """A copy of ``df`` with every cell a formatted string, for printing.

    Parameters
    ----------
    formats : mapping column -> kind
        Kinds as in :func:`format_column`. Columns not named are guessed: integer
        columns are counts, float columns statistics, booleans "yes"/"no",
        datetimes dates; everything else text. Missing values become ``missing``.
    names : mapping column -> header
        Headers for people; columns not named keep their name with ``_`` as spaces,
        first letter capitalised.
    max_rows : int, optional
        Keep the first ``max_rows`` rows.

    Returns
    -------
    (table, note)
        ``note`` is ``"Showing N of M rows."`` when rows were cut, else ``""``.
    """
    formats = dict(formats or {})
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        kind = formats.get(col)
        if kind is None:
            if pd.api.types.is_bool_dtype(s):
                out[col] = s.map(lambda v: missing if is_missing(v) else ("yes" if v else "no"))
                continue
            if pd.api.types.is_integer_dtype(s):
                kind = "count"
            elif pd.api.types.is_float_dtype(s):
                kind = "number"
            elif pd.api.types.is_datetime64_any_dtype(s):
                kind = "date"
            else:
                kind = "text"
        out[col] = format_column(s, kind, missing=missing)
    names = dict(names or {})
    out.columns = [names.get(c, str(c).replace("_", " ").capitalize()) for c in df.columns]
    note = ""
    if max_rows is not None and len(out) > max_rows:
        note = f"Showing {max_rows:,d} of {len(out):,d} rows."
        out = out.iloc[:max_rows]
    return out.reset_index(drop=True), note
