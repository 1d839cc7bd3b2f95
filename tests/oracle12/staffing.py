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
from kpilab.errors import DataError
from kpilab.operations.erlang import agents_needed, erlang_a, erlang_c
from tests.oracle12._data import load

__all__ = ["STAFFING_COLUMNS", "estimate_patience", "staffing_from_contacts", "staffing_from_panel", "verdicts",
           "weekday_hour_profile"]

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


def _period(ts: pd.Series, period: str) -> pd.Series:
    """Period start of each timestamp as ``YYYY-MM-DD`` (local wall time), formatted once per period."""
    local = ts.dt.tz_localize(None) if getattr(ts.dt, "tz", None) is not None else ts
    day = local.dt.floor("D")
    if period == "day":
        key = day
    elif period == "week":
        key = day - pd.to_timedelta(local.dt.day_of_week, unit="D")
    else:
        key = local.dt.to_period("M" if period == "month" else "Q").dt.start_time
    codes, uniques = pd.factorize(key)
    labels = np.append(np.asarray(pd.DatetimeIndex(uniques).strftime("%Y-%m-%d"), dtype=object), None)
    return pd.Series(labels[codes], index=ts.index)  # code -1 (no timestamp) -> None


def staffing_from_contacts(data: Any, *, target_sl: float = 0.8, threshold_s: float = 20.0,
                           patience: str | float | None = "estimate", max_occupancy: float = 0.8,
                           period: str = "month", channels: tuple[str, ...] = ("phone", "chat")) -> pd.DataFrame:
    """Staffing check per queue, period and hour of the day from the contacts table.

    Parameters
    ----------
    data : folder or dict
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
    c = load(data, ("contacts",), required=("contacts",))["contacts"]
    c = c[c["channel"].isin(list(channels))].copy()
    if c.empty:
        raise DataError(f"No contacts on the live channels {', '.join(channels)}: nothing to staff.")
    if "queue" not in c.columns:
        c["queue"] = c["channel"]
    c["queue"] = c["queue"].fillna(c["channel"])
    c["hour"] = c["arrived_at"].dt.hour
    c["date"] = c["arrived_at"].dt.normalize()
    c["period"] = _period(c["arrived_at"], period)
    ans = ~c["abandoned"].astype(bool)
    # as in the panel's AHT: absent hold/ACW columns count 0, a missing talk time leaves the handle time unknown
    extra = sum(c[col].fillna(0) if col in c.columns else 0.0 for col in ("hold_s", "acw_s"))
    c["handle"] = np.where(ans, c["talk_s"] + extra, np.nan)
    wait = (c["answered_at"] - c["arrived_at"]).dt.total_seconds()
    c["in_sl"] = ans & (wait <= threshold_s)
    a_hour = c["answered_at"].dt.hour
    staffed = (c[ans].assign(hour=a_hour[ans]).groupby(["queue", "period", "date", "hour"])["agent_id"].nunique()
               .groupby(["queue", "period", "hour"]).mean())
    g = c.groupby(["queue", "period", "hour"])
    cells = pd.DataFrame({
        "days": g["date"].nunique(),
        "calls_per_hour": g.size() / g["date"].nunique(),
        "aht_s": g["handle"].mean(),
        "observed_sl": g["in_sl"].mean(),
        "observed_abandon": g["abandoned"].mean(),
    })
    cells["staffed_agents"] = staffed.reindex(cells.index).fillna(0.0)
    cells["load"] = cells["calls_per_hour"] * cells["aht_s"] / 3600
    if patience == "estimate":
        pat = c.groupby("queue")[["answered_at", "ended_at", "arrived_at", "abandoned"]].apply(estimate_patience)
        cells["patience_s"] = cells.index.get_level_values("queue").map(pat).astype(float)
    else:
        cells["patience_s"] = np.nan if patience is None else float(patience)
    cells = cells.reset_index()
    cells = cells[np.isfinite(cells["aht_s"])]
    out = verdicts(cells, target_sl=target_sl, threshold_s=threshold_s, max_occupancy=max_occupancy)
    return out[STAFFING_COLUMNS].reset_index(drop=True)


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

    Returns
    -------
    pandas.DataFrame
        ``weekday, hour, offered_per_day, mean_wait_s, abandon_rate`` over the live channels.
    """
    c = load(data, ("contacts",), required=("contacts",))["contacts"]
    c = c[c["channel"].isin(list(channels))]
    if c.empty:
        raise DataError(f"No contacts on the live channels {', '.join(channels)}.")
    wait = (c["answered_at"].fillna(c["ended_at"]) - c["arrived_at"]).dt.total_seconds()
    f = pd.DataFrame({"weekday": c["arrived_at"].dt.day_of_week, "hour": c["arrived_at"].dt.hour,
                      "date": c["arrived_at"].dt.normalize(), "wait": wait, "ab": c["abandoned"].astype(float)})
    days = f.groupby("weekday")["date"].nunique()
    g = f.groupby(["weekday", "hour"])
    out = pd.DataFrame({"offered": g.size(), "mean_wait_s": g["wait"].mean(), "abandon_rate": g["ab"].mean()})
    out = out.reset_index()
    out["offered_per_day"] = out["offered"] / out["weekday"].map(days)
    return out[["weekday", "hour", "offered_per_day", "mean_wait_s", "abandon_rate"]]
