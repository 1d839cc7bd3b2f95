"""Adapters: real exports -> canonical tables.

* :func:`pwc_call_log` - the PwC "Call Centre Trends" Excel log (one row per
  call: agent, date, time, topic, answered, resolved, speed of answer, talk
  time, 1-5 rating) -> ``contacts``, ``surveys``, ``agents``.
* :func:`helpdesk_event_log` - a ticket event log (one row per event: case,
  activity, resource, timestamp; the Helpdesk process-mining log) ->
  ``tickets`` (one row per ticket) and ``agents``.

Each returns ``{table name: DataFrame}``, ready for
:func:`kpilab.indicators.compute_panel` or for writing to a data folder with
:func:`write_tables`. Other exports can be mapped without code by a
column-mapping file (:mod:`kpilab.ingest`).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np
import pandas as pd

from kpilab.errors import DataError, SchemaError
from kpilab.schema import coerce_table

__all__ = ["pwc_call_log", "helpdesk_event_log", "write_tables", "detect_timezone"]

_PWC_COLUMNS = ["Call Id", "Agent", "Date", "Time", "Topic", "Answered (Y/N)", "Resolved",
                "Speed of answer in seconds", "AvgTalkDuration", "Satisfaction rating"]
_HELPDESK_COLUMNS = {"case": "case:concept:name", "activity": "Activity", "resource": "Resource",
                     "timestamp": "time:timestamp"}
_ZONES = ("UTC", "Europe/London", "Europe/Rome", "Europe/Athens", "Europe/Helsinki", "Europe/Moscow",
          "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Shanghai", "Asia/Kolkata")


def _seconds(v: object) -> float:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return np.nan
    if isinstance(v, _dt.time):
        return v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6
    if isinstance(v, _dt.timedelta):
        return v.total_seconds()
    if isinstance(v, int | float):
        return float(v) * 86400 if 0 <= float(v) < 1 else float(v)  # Excel day fractions
    parts = str(v).strip().split(":")
    total = 0.0
    for p in parts:
        total = total * 60 + float(p)
    return total


def _yes(s: pd.Series, table: str, column: str) -> pd.Series:
    m = s.astype("string").str.strip().str.upper().map({"Y": True, "YES": True, "N": False, "NO": False})
    bad = m.isna() & s.notna()
    if bad.any():
        raise SchemaError(f"Export column {column!r} must hold Y/N, found {s[bad].unique()[:3].tolist()!r}.",
                          table=table, column=column, n_rows=int(bad.sum()))
    return m


def pwc_call_log(source: str | Path | pd.DataFrame, *, channel: str = "phone",
                 team: str = "call centre") -> dict[str, pd.DataFrame]:
    """Canonical tables from the PwC call-centre log.

    Mapping: ``arrived_at`` = Date + Time; unanswered calls become abandoned
    contacts with no agent (the log names an agent for them; it is kept in an
    extra ``routed_agent`` column) and, since the log gives no wait for them,
    an unknown ``ended_at`` (NaT): their wait is unknown, so they are never
    short abandons and count in the abandonment rate (946 / 5,000 = 18.92 %)
    and in the service-level denominator, but not in the average wait time
    (excluded there as ``unknown wait``); ``answered_at = arrived_at + speed of answer``;
    ``talk_s`` = AvgTalkDuration; ``resolved`` = Resolved; the rating becomes a
    survey (``csat``) of the call. Topic becomes both ``topic`` and ``queue``.

    Parameters
    ----------
    source : path or DataFrame
        The Excel file (or its first sheet already read).
    channel, team : str
        Constant channel of every call and team of every agent.

    Returns
    -------
    dict
        ``contacts``, ``surveys``, ``agents``.
    """
    if isinstance(source, pd.DataFrame):
        raw = source.copy()
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(f"PwC call log {path} does not exist.")
        raw = pd.read_excel(path)
    missing = [c for c in _PWC_COLUMNS if c not in raw.columns]
    if missing:
        raise SchemaError(f"PwC call log is missing column(s) {', '.join(map(repr, missing))}.", table="contacts",
                          column=missing[0])
    date = pd.to_datetime(raw["Date"].astype(str).str[:10], format="%Y-%m-%d", errors="coerce")
    tod = pd.to_timedelta(raw["Time"].map(_seconds), unit="s")
    arrived = date + tod
    answered = _yes(raw["Answered (Y/N)"], "contacts", "Answered (Y/N)")
    resolved = _yes(raw["Resolved"], "contacts", "Resolved")
    speed = pd.to_numeric(raw["Speed of answer in seconds"], errors="coerce")
    talk = raw["AvgTalkDuration"].map(_seconds).astype(float)
    answered_at = (arrived + pd.to_timedelta(speed, unit="s")).where(answered)
    # the moment an unanswered call was given up is not in the log: unknown, never 0 s
    ended_at = (answered_at + pd.to_timedelta(talk, unit="s")).where(answered)
    agent = raw["Agent"].astype("string")
    contacts = pd.DataFrame({
        "contact_id": raw["Call Id"].astype(str),
        "channel": channel,
        "queue": raw["Topic"].astype(str),
        "customer_id": None,
        "agent_id": agent.where(answered, None).astype(object),
        "arrived_at": arrived,
        "answered_at": answered_at,
        "ended_at": ended_at,
        "talk_s": talk.where(answered),
        "abandoned": ~answered.astype(bool),
        "resolved": resolved.astype("boolean"),
        "topic": raw["Topic"].astype(str),
        "routed_agent": agent.astype(object),
    })
    rating = pd.to_numeric(raw["Satisfaction rating"], errors="coerce")
    has = rating.notna()
    surveys = pd.DataFrame({
        "contact_id": contacts.loc[has, "contact_id"].to_numpy(),
        "csat": rating[has].astype(float).to_numpy(),
        "responded_at": contacts.loc[has, "ended_at"].to_numpy(),
    })
    agents = pd.DataFrame({"agent_id": sorted(agent.dropna().unique()), "team": team})
    return {
        "contacts": coerce_table(contacts, "contacts"),
        "surveys": coerce_table(surveys, "surveys"),
        "agents": coerce_table(agents, "agents"),
    }


def detect_timezone(text: pd.Series, candidates: tuple[str, ...] = _ZONES) -> str | None:
    """The first zone in ``candidates`` whose UTC offsets reproduce every ISO timestamp in ``text``.

    Returns None when no candidate fits (the caller then keeps UTC).
    """
    s = text.dropna().astype(str)
    ts = pd.to_datetime(s, utc=True, format="ISO8601")
    offsets = s.str.extract(r"([+-]\d\d):?(\d\d)$")
    if offsets.isna().any().any():
        return None
    sign = np.where(s.str[-6:].str[0] == "-", -1, 1)
    want = sign * (offsets[0].astype(int) * 60 + offsets[1].astype(int))
    for tz in candidates:
        local = ts.dt.tz_convert(tz)
        got = (local.dt.tz_localize(None) - ts.dt.tz_localize(None)).dt.total_seconds() / 60
        if np.array_equal(got.to_numpy(dtype=float), want.to_numpy(dtype=float)):
            return tz
    return None


def helpdesk_event_log(
    source: str | Path | pd.DataFrame,
    *,
    resolution: str = "first",
    resolve_activity: str = "Resolve ticket",
    reply_activity: str = "Take in charge ticket",
    closed_activity: str = "Closed",
    tz: str | None = "auto",
    columns: dict[str, str] | None = None,
) -> dict[str, pd.DataFrame]:
    """One canonical ticket per case of a ticket event log.

    * ``created_at`` = the case's first event;
    * ``first_reply_at`` = its first ``reply_activity`` ("Take in charge ticket");
    * ``solved_at`` = its first (``resolution="first"``, Zendesk *first
      resolution*) or last (``"last"``, *full resolution*) ``resolve_activity``
      - never the automatic ``closed_activity``, which follows about 30 days
      later (kept in an extra ``closed_at`` column);
    * ``reopens`` = number of resolve events - 1 (a second "Resolve ticket" is a reopen);
    * ``agent_id`` = resource of the first resolve event (else of the first reply).

    Timestamps keep their UTC offsets: with ``tz="auto"`` the zone whose
    offsets reproduce every timestamp of the file is used (Helpdesk:
    +02:00/+03:00, Europe/Athens), else UTC.

    Parameters
    ----------
    columns : dict, optional
        Source column names for ``case``, ``activity``, ``resource``, ``timestamp``.

    Returns
    -------
    dict
        ``tickets`` and ``agents``.
    """
    if resolution not in ("first", "last"):
        raise DataError(f"resolution must be 'first' or 'last', got {resolution!r}.")
    cols = {**_HELPDESK_COLUMNS, **(columns or {})}
    if isinstance(source, pd.DataFrame):
        raw = source
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(f"Event log {path} does not exist.")
        raw = pd.read_csv(path, dtype=str)
    missing = [v for v in cols.values() if v not in raw.columns]
    if missing:
        raise SchemaError(f"Event log is missing column(s) {', '.join(map(repr, missing))}; pass columns= to "
                          "name the case, activity, resource and timestamp columns.", table="tickets",
                          column=missing[0])
    text = raw[cols["timestamp"]].astype(str)
    try:
        ts = pd.to_datetime(text, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise SchemaError(f"Event log column {cols['timestamp']!r}: timestamps do not parse as ISO 8601 ({exc}).",
                          table="tickets", column=cols["timestamp"]) from None
    zone = detect_timezone(text) if tz == "auto" else tz
    if zone:
        ts = ts.dt.tz_convert(zone)
    ev = pd.DataFrame({"case": raw[cols["case"]].astype(str), "activity": raw[cols["activity"]].astype(str),
                       "resource": raw[cols["resource"]].astype(str), "ts": ts})
    ev = ev.sort_values(["case", "ts"], kind="mergesort")
    g = ev.groupby("case", sort=True)
    created = g["ts"].min()
    res = ev[ev["activity"] == resolve_activity].groupby("case")
    rep = ev[ev["activity"] == reply_activity].groupby("case")
    closed = ev[ev["activity"] == closed_activity].groupby("case")["ts"].max()
    solved = res["ts"].min() if resolution == "first" else res["ts"].max()
    tickets = pd.DataFrame({"ticket_id": created.index, "created_at": created.to_numpy()})
    tickets = tickets.set_index("ticket_id")
    tickets["first_reply_at"] = rep["ts"].min()
    tickets["solved_at"] = solved
    tickets["reopens"] = (res.size() - 1).clip(lower=0)
    tickets.loc[tickets["solved_at"].notna() & tickets["reopens"].isna(), "reopens"] = 0
    tickets["agent_id"] = res["resource"].first().combine_first(rep["resource"].first())
    tickets["closed_at"] = closed
    tickets["events"] = g.size()
    tickets = tickets.reset_index()
    tickets["reopens"] = tickets["reopens"].astype("Int64")
    tickets["replies"] = pd.array([pd.NA] * len(tickets), dtype="Int64")
    tickets["agent_id"] = tickets["agent_id"].astype(object).where(tickets["agent_id"].notna(), None)
    order = ["ticket_id", "agent_id", "created_at", "first_reply_at", "solved_at", "reopens", "replies",
             "closed_at", "events"]
    tickets = tickets[order]
    agents = pd.DataFrame({"agent_id": sorted(ev["resource"].unique()), "team": "helpdesk"})
    return {"tickets": coerce_table(tickets, "tickets"), "agents": coerce_table(agents, "agents")}


def write_tables(tables: dict[str, pd.DataFrame], folder: str | Path, fmt: str = "parquet") -> list[Path]:
    """Write canonical tables as ``<folder>/<name>.parquet`` (or .csv) and return the paths."""
    if fmt not in ("parquet", "csv"):
        raise DataError(f"fmt must be 'parquet' or 'csv', got {fmt!r}.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in tables.items():
        p = folder / f"{name}.{fmt}"
        if fmt == "parquet":
            df.to_parquet(p, index=False)
        else:
            df.to_csv(p, index=False)
        paths.append(p)
    return paths
