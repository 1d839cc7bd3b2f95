r"""Staffing feasibility: can the staffing seen in the data meet the service-level target?

Per queue, period and hour of the day, :func:`staffing_from_contacts` measures the offered load
(contacts per hour x AHT), the agents staffed (distinct agents answering that queue in the hour,
averaged over the days: idle agents leave no trace, and agents shared between queues count in each,
so give a roster when one exists) and the
observed service level, then asks Erlang A (or C) how many agents the framework's target needs.
:func:`staffing_from_panel` does the same from a queue-level panel for an average open hour.

The verdict is ``feasible`` when the staffed agents reach the requirement, ``not feasible`` otherwise;
``burnout`` is added when the agents that just meet the SL target would run above the occupancy
bound (80 % in the course article): the target is then reachable only by overworking agents, and the
requirement is raised to :math:`\lceil A/0.8\rceil`.

References
----------
.. [1] Gans, N., Koole, G. and Mandelbaum, A. (2003). Telephone call centers: tutorial, review, and
   research prospects. *M&SOM* 5(2), 79-141.
.. [2] Garnett, O., Mandelbaum, A. and Reiman, M. (2002). *M&SOM* 4(3), 208-227 (Erlang A).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from kpilab._validation import Interval, check_params
from kpilab.errors import DataError, ParameterError
from kpilab.operations._data import SourceTables, open_tables
from kpilab.operations.erlang import agents_needed, erlang_a, erlang_c

__all__ = ["STAFFING_COLUMNS", "estimate_patience", "staffing_from_contacts", "staffing_from_panel", "verdicts",
           "weekday_hour_profile"]

#: first day of the period of a local time ``{t}`` (weeks start on Monday): the grouping key, formatted
#: ``YYYY-MM-DD`` once per cell (not once per row)
_PERIOD_TRUNC = {"day": "CAST({t} AS DATE)", "week": "CAST(date_trunc('week', {t}) AS DATE)",
                 "month": "CAST(date_trunc('month', {t}) AS DATE)",
                 "quarter": "CAST(date_trunc('quarter', {t}) AS DATE)"}
STAFFING_COLUMNS = ["queue", "period", "hour", "days", "calls_per_hour", "aht_s", "load", "staffed_agents",
                    "observed_sl", "observed_abandon", "patience_s", "model", "required_agents",
                    "required_for_sl", "occupancy_at_required", "predicted_sl", "predicted_abandon", "verdict"]


def estimate_patience(contacts: pd.DataFrame) -> float:
    """Mean patience (s): total queue time of all callers (answered and abandoned) / number of abandons.

    The standard Erlang A estimator for exponential patience (Brown et al. 2005, section 6). NaN
    without abandons.
    """
    wait = (contacts["answered_at"].fillna(contacts["ended_at"]) - contacts["arrived_at"]).dt.total_seconds()
    ab = int(contacts["abandoned"].sum())
    return float(wait.clip(lower=0).sum() / ab) if ab else float("nan")


def verdicts(cells: pd.DataFrame, *, target_sl: float, threshold_s: float, max_occupancy: float) -> pd.DataFrame:
    """Add the Erlang columns and the verdict to cells with ``calls_per_hour``, ``aht_s``, ``staffed_agents``,
    ``patience_s`` (NaN: Erlang C)."""
    out = cells.copy()
    req, req_sl, occ, psl, pab, model, verdict = [], [], [], [], [], [], []
    for r in out.itertuples():
        pat = None if not np.isfinite(r.patience_s) else float(r.patience_s)
        if not (r.calls_per_hour > 0 and r.aht_s > 0):
            req.append(np.nan), req_sl.append(np.nan), occ.append(np.nan), psl.append(np.nan), pab.append(np.nan)
            model.append(""), verdict.append("no load")
            continue
        n_sl = agents_needed(r.calls_per_hour, r.aht_s, target_sl, threshold_s, patience_s=pat)
        load_ = r.calls_per_hour * r.aht_s / 3600
        # agents_needed with the occupancy cap is max(n_sl, ceil(A / max_occupancy)): no second search
        n = max(n_sl, math.ceil(load_ / max_occupancy - 1e-12))
        burnout = load_ / n_sl > max_occupancy
        staffed = int(math.floor(r.staffed_agents + 1e-9)) if np.isfinite(r.staffed_agents) else 0
        pred_sl = pred_ab = np.nan
        if staffed >= 1:
            if pat is not None:
                q = erlang_a(r.calls_per_hour, r.aht_s, staffed, threshold_s, pat)
                pred_sl, pred_ab = q.service_level, q.abandon_rate
            elif load_ < staffed:
                pred_sl, pred_ab = erlang_c(r.calls_per_hour, r.aht_s, staffed, threshold_s).service_level, 0.0
            else:
                pred_sl = 0.0
        if not np.isfinite(r.staffed_agents):
            v = "no staffing given"
        else:
            v = "feasible" if staffed >= n else "not feasible at this staffing"
        req.append(n), req_sl.append(n_sl), occ.append(load_ / n_sl), psl.append(pred_sl), pab.append(pred_ab)
        model.append("erlang_a" if pat is not None else "erlang_c")
        verdict.append(v + ("; burnout: the SL target needs occupancy above the bound" if burnout else ""))
    out["model"], out["required_agents"], out["required_for_sl"] = model, req, req_sl
    out["occupancy_at_required"], out["predicted_sl"], out["predicted_abandon"] = occ, psl, pab
    out["verdict"] = verdict
    return out


def staffing_from_contacts(data: Any, *, target_sl: float = 0.8, threshold_s: float = 20.0,
                           patience: str | float | None = "estimate", max_occupancy: float = 0.8,
                           period: str = "month", channels: tuple[str, ...] = ("phone", "chat")) -> pd.DataFrame:
    """Staffing check per queue, period and hour of the day from the contacts table.

    Parameters
    ----------
    data : folder, dict of DataFrames or SourceTables (:func:`kpilab.operations.open_tables`)
        Canonical tables (``contacts``).
    target_sl, threshold_s :
        The service-level target (share answered within ``threshold_s`` seconds).
    patience : "estimate", float or None
        Mean patience (s) for Erlang A: estimated per queue from the data (default), a number, or
        None for Erlang C.
    max_occupancy : float, default 0.8
        Occupancy bound (burn-out above it).
    period : {"day", "week", "month", "quarter"}
        Period of the rows.
    channels : tuple of str
        Live channels (queued in real time); others are left out.

    Returns
    -------
    pandas.DataFrame
        :data:`STAFFING_COLUMNS`: per queue, period and ``hour`` (0-23): ``days`` with contacts in that
        hour, mean ``calls_per_hour``, ``aht_s`` (talk + hold + ACW of answered contacts), ``load``
        (Erlangs), ``staffed_agents`` (mean distinct agents answering that queue in the hour),
        ``observed_sl`` (answered within the threshold / offered), ``observed_abandon``, ``patience_s``,
        ``model``, ``required_agents`` (for the SL target and the occupancy bound), ``required_for_sl``
        (SL target alone), ``occupancy_at_required`` (at ``required_for_sl``), ``predicted_sl`` and
        ``predicted_abandon`` at the staffed agents, ``verdict``.

    Notes
    -----
    Chat agents serve several chats at once; the check treats a chat agent as one server, which
    overstates the requirement of chat queues.
    """
    check_params({"target_sl": target_sl, "threshold_s": threshold_s, "max_occupancy": max_occupancy},
                 {"target_sl": Interval(0, 1, closed="neither"), "threshold_s": Interval(0, None),
                  "max_occupancy": Interval(0, 1, closed="right")}, caller="staffing_from_contacts")
    if period not in _PERIOD_TRUNC:
        raise ParameterError(f"The 'period' parameter of staffing_from_contacts must be one of "
                             f"{', '.join(_PERIOD_TRUNC)}. Got {period!r}.")
    t = open_tables(data, names=("contacts",))
    t.require(["contacts"])
    live = _live(t, channels)
    arrived, answered = t.local("contacts", "arrived_at"), t.local("contacts", "answered_at")
    queue = "COALESCE(queue, channel)" if t.has("contacts", "queue") else "channel"
    # as in the panel's AHT: absent hold/ACW columns count 0, a missing talk time leaves the handle time unknown
    extra = " + ".join(f"COALESCE({col}, 0)" for col in ("hold_s", "acw_s") if t.has("contacts", col)) or "0.0"
    wait = "(epoch_us(answered_at) - epoch_us(arrived_at)) / 1000000.0"
    queued = "(epoch_us(COALESCE(answered_at, ended_at)) - epoch_us(arrived_at)) / 1000000.0"
    base = (f"(SELECT {queue} AS queue, {_PERIOD_TRUNC[period].format(t=arrived)} AS period, "
            f"CAST(hour({arrived}) AS INTEGER) AS hour, CAST({arrived} AS DATE) AS date, abandoned, agent_id, "
            f"CAST(hour({answered}) AS INTEGER) AS a_hour FROM {live})")
    # sums per queue, period, day and hour of arrival: the cells, and the queue's patience
    by_arrival = t.sql(f"""SELECT queue, strftime(period, '%Y-%m-%d') AS period, date, hour, n, n_h, s_h, n_sl,
        n_ab, s_wait FROM (
        SELECT queue, period, date, hour, count(*) AS n, count(handle) AS n_h, sum(handle) AS s_h,
            count(*) FILTER (WHERE in_sl) AS n_sl, count(*) FILTER (WHERE abandoned) AS n_ab,
            sum(greatest(queued, 0)) AS s_wait
        FROM (SELECT {queue} AS queue, {_PERIOD_TRUNC[period].format(t=arrived)} AS period,
                CAST(hour({arrived}) AS INTEGER) AS hour, CAST({arrived} AS DATE) AS date, abandoned,
                {queued} AS queued, CASE WHEN NOT abandoned THEN talk_s + ({extra}) END AS handle,
                (NOT abandoned) AND COALESCE({wait} <= {float(threshold_s)!r}, FALSE) AS in_sl FROM {live})
        GROUP BY queue, period, date, hour)""")
    # distinct agents answering per queue, period, day and hour of answer: the staffing seen
    by_answer = t.sql(f"""SELECT queue, strftime(period, '%Y-%m-%d') AS period, a_hour, count(*) AS agents FROM (
        SELECT DISTINCT queue, period, date, a_hour, agent_id FROM {base} WHERE NOT abandoned)
        GROUP BY queue, period, date, a_hour""")
    if by_arrival.empty:
        raise DataError(f"No contacts on the live channels {', '.join(channels)}: nothing to staff.")
    g = by_arrival.groupby(["queue", "period", "hour"])
    cells = pd.DataFrame({"days": g.size(), "n": g["n"].sum(), "n_h": g["n_h"].sum(), "s_h": g["s_h"].sum(),
                          "n_sl": g["n_sl"].sum(), "n_ab": g["n_ab"].sum()})
    cells["calls_per_hour"] = cells["n"] / cells["days"]
    cells["aht_s"] = (cells["s_h"] / cells["n_h"]).where(cells["n_h"] > 0)
    cells["observed_sl"] = cells["n_sl"] / cells["n"]
    cells["observed_abandon"] = cells["n_ab"] / cells["n"]
    if t.nullable("contacts", "abandoned"):  # pandas' mean of a nullable boolean column is Float64
        cells["observed_abandon"] = cells["observed_abandon"].astype("Float64")
    cells = cells[["days", "calls_per_hour", "aht_s", "observed_sl", "observed_abandon"]]
    by_answer = by_answer[by_answer["a_hour"].notna()].astype({"a_hour": "int32"})
    staffed = by_answer.groupby(["queue", "period", "a_hour"])["agents"].mean().rename_axis(["queue", "period", "hour"])
    cells["staffed_agents"] = staffed.reindex(cells.index).fillna(0.0)
    cells["load"] = cells["calls_per_hour"] * cells["aht_s"] / 3600
    if patience == "estimate":
        # estimate_patience per queue: total queue time (answered or abandoned, clipped at 0) / abandons
        q = by_arrival.groupby("queue")[["s_wait", "n_ab"]].sum()
        pat = (q["s_wait"] / q["n_ab"]).where(q["n_ab"] > 0)
        cells["patience_s"] = cells.index.get_level_values("queue").map(pat).astype(float)
    else:
        cells["patience_s"] = np.nan if patience is None else float(patience)
    cells = cells.reset_index()
    cells = cells[np.isfinite(cells["aht_s"])]
    out = verdicts(cells, target_sl=target_sl, threshold_s=threshold_s, max_occupancy=max_occupancy)
    return out[STAFFING_COLUMNS].reset_index(drop=True)


def _live(t: SourceTables, channels: tuple[str, ...]) -> str:
    """SQL of the valid contacts on the live channels."""
    chans = ", ".join("'" + str(c).replace("'", "''") + "'" for c in channels) or "NULL"
    return f"(SELECT * FROM {t.valid('contacts')} WHERE channel IN ({chans}))"


def staffing_from_panel(panel: pd.DataFrame, *, target_sl: float = 0.8, threshold_s: float = 20.0,
                        open_hours: float = 14.0, patience_s: float | None = None, max_occupancy: float = 0.8,
                        roster: pd.DataFrame | None = None) -> pd.DataFrame:
    """Staffing check for an average open hour per queue and period from a queue-level panel.

    Uses ``offered_contacts`` and ``aht`` of the ``queue`` rows: calls per hour = offered / (days in the
    period x ``open_hours``). Peaks within the day need more agents than the average hour, so this is a
    floor of the requirement; :func:`staffing_from_contacts` checks each hour. Staffed agents come from
    ``roster`` (columns ``queue, period, agents``); without one the verdict is ``no staffing given``.

    Returns
    -------
    pandas.DataFrame
        :data:`STAFFING_COLUMNS` with ``hour`` = -1 (the average open hour).
    """
    q = panel[(panel["unit_level"] == "queue") & panel["indicator"].isin(["offered_contacts", "aht"])]
    if q.empty:
        raise DataError("The panel has no queue-level offered_contacts/aht rows: compute it with "
                        "kpilab panel --unit queue (or use --data to check staffing from the contacts).")
    w = q.pivot_table(index=["unit_id", "period"], columns="indicator", values="value").reset_index()
    if not {"offered_contacts", "aht"} <= set(w.columns):
        raise DataError("The panel needs both offered_contacts and aht at the queue level: compute it with "
                        "kpilab panel --unit queue --indicators offered_contacts,aht (aht is an agent-level "
                        "indicator in the default framework), or use --data.")
    start = pd.to_datetime(w["period"])
    periods = sorted(w["period"].unique())
    step = (pd.to_datetime(periods[1]) - pd.to_datetime(periods[0])).days if len(periods) > 1 else 30
    kind = "day" if step == 1 else "week" if step == 7 else "month" if step < 40 else "quarter"
    days = {"day": 1, "week": 7}.get(kind)
    n_days = (np.full(len(w), days) if days else
              (start + (pd.DateOffset(months=1) if kind == "month" else pd.DateOffset(months=3)) - start).dt.days)
    cells = pd.DataFrame({"queue": w["unit_id"], "period": w["period"], "hour": -1, "days": n_days,
                          "calls_per_hour": w["offered_contacts"] / (n_days * open_hours), "aht_s": w["aht"],
                          "observed_sl": np.nan, "observed_abandon": np.nan})
    cells["load"] = cells["calls_per_hour"] * cells["aht_s"] / 3600
    if roster is not None:
        r = roster.rename(columns={"agents": "staffed_agents"})
        cells = cells.merge(r[["queue", "period", "staffed_agents"]], on=["queue", "period"], how="left")
    else:
        cells["staffed_agents"] = np.nan
    cells["patience_s"] = np.nan if patience_s is None else float(patience_s)
    out = verdicts(cells, target_sl=target_sl, threshold_s=threshold_s, max_occupancy=max_occupancy)
    return out[STAFFING_COLUMNS]


def weekday_hour_profile(data: Any, *, channels: tuple[str, ...] = ("phone", "chat")) -> pd.DataFrame:
    """Mean queue wait (s), abandonment and contacts per day by weekday (0 = Monday) and hour of arrival.

    Parameters
    ----------
    data : folder, dict of DataFrames or SourceTables (:func:`kpilab.operations.open_tables`)
        Canonical tables (``contacts``); rows breaking a row rule are left out, sums taken in SQL.
    channels : tuple of str
        Live channels (queued in real time); others are left out.

    Returns
    -------
    pandas.DataFrame
        ``weekday, hour, offered_per_day, mean_wait_s, abandon_rate`` over the live channels.
    """
    t = open_tables(data, names=("contacts",))
    t.require(["contacts"])
    live = _live(t, channels)
    arrived = t.local("contacts", "arrived_at")
    wait = "(epoch_us(COALESCE(answered_at, ended_at)) - epoch_us(arrived_at)) / 1000000.0"
    # one scan: sums per weekday, hour and day; the means and the days per weekday from those
    f = t.sql(f"SELECT CAST(isodow({arrived}) - 1 AS INTEGER) AS weekday, CAST(hour({arrived}) AS INTEGER) AS hour, "
              f"CAST({arrived} AS DATE) AS date, count(*) AS n, count({wait}) AS n_wait, sum({wait}) AS s_wait, "
              f"count(*) FILTER (WHERE abandoned) AS n_ab FROM {live} GROUP BY ALL")
    if f.empty:
        raise DataError(f"No contacts on the live channels {', '.join(channels)}.")
    g = f.groupby(["weekday", "hour"])
    out = pd.DataFrame({"offered": g["n"].sum(), "n_wait": g["n_wait"].sum(), "s_wait": g["s_wait"].sum(),
                        "n_ab": g["n_ab"].sum()}).reset_index()
    out["mean_wait_s"] = (out["s_wait"] / out["n_wait"]).where(out["n_wait"] > 0)
    out["abandon_rate"] = out["n_ab"] / out["offered"]
    days = f.groupby("weekday")["date"].nunique()
    out["offered_per_day"] = out["offered"] / out["weekday"].map(days)
    return out[["weekday", "hour", "offered_per_day", "mean_wait_s", "abandon_rate"]]
