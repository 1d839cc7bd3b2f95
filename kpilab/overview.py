"""First honest numbers about a data set, before any indicator engineering.

Used by the first notebook of the review pipeline: what the data holds (rows,
date range, channels), and a few per-agent and per-channel figures that
always carry their sample size and a 95 % confidence interval, with
``small_n`` flags where the sample is too small to compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import pandas as pd

from kpilab.errors import DataError
from kpilab.indicators.stats import t_interval, wilson_interval

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

    from kpilab.operations._data import SourceTables

__all__ = ["agent_overview", "channel_overview", "data_inventory", "ticket_overview", "validation_summary"]

_TIME_COLUMNS = {
    "contacts": "arrived_at",
    "surveys": "responded_at",
    "qa_reviews": "reviewed_at",
    "tickets": "created_at",
    "exemptions": "start",
}
#: what the functions take: canonical tables as DataFrames, a data folder, or tables opened by
#: :func:`kpilab.operations.open_tables` (DuckDB views, the review period applied in SQL)
Tables = Union["Mapping[str, pd.DataFrame]", str, Path, "SourceTables"]


def _open(tables: Any, names: tuple[str, ...] | None = None) -> SourceTables:
    from kpilab.operations._data import open_tables

    return open_tables(tables, names=names)


def _wait_s(a: str, b: str) -> str:
    """Seconds from ``a`` to ``b`` (pandas' ``Timedelta.total_seconds`` of microsecond timestamps)."""
    return f"(epoch_us({b}) - epoch_us({a})) / 1000000.0"


def data_inventory(tables: Tables) -> pd.DataFrame:
    """One row per table: ``table, rows, columns, first, last``.

    ``tables``: DataFrames, a data folder or :func:`kpilab.operations.open_tables` tables (counted
    in SQL); ``first`` and ``last`` are the earliest and latest time of the table's event column.
    """
    t = _open(tables)
    order = list(tables) if isinstance(tables, Mapping) else t.names
    rows = []
    for name in order:
        if name not in t:  # not a canonical table (DataFrames only): counted as it is
            df = tables[name]
            rows.append({"table": name, "rows": len(df), "columns": df.shape[1], "first": None, "last": None})
            continue
        col = _TIME_COLUMNS.get(name)
        first = last = None
        n = t.n_rows(name)
        if col and t.has(name, col):
            lo, hi = t.con.execute(f"SELECT min({col}), max({col}) FROM {t.view(name)}").fetchall()[0]
            if lo is not None:
                first, last = t.to_time(lo, name), t.to_time(hi, name)
        rows.append({"table": name, "rows": n, "columns": len(t.columns(name)), "first": first, "last": last})
    return pd.DataFrame(rows, columns=["table", "rows", "columns", "first", "last"])


def agent_overview(tables: Tables, *, min_n: int = 30) -> pd.DataFrame:
    """Per agent: contacts handled, mean CSAT and agent-flagged resolution, with n and CI.

    Columns: ``agent_id, team, contacts, csat_n, csat_mean, csat_ci_low,
    csat_ci_high, resolved_n, resolved_rate, resolved_ci_low, resolved_ci_high,
    flag``. CSAT uses a t interval (mean of 1-5 scores), resolution a Wilson
    interval. ``flag`` is ``small_n`` when fewer than ``min_n`` surveys back
    the CSAT mean: such agents should not be ranked on CSAT. Counts and sums are
    taken in SQL over every row read (rows with problems included, as in the
    table the notebook shows), intervals on the per-agent sums.
    """
    t = _open(tables)
    if "contacts" not in t:
        raise DataError("agent_overview needs the 'contacts' table.")
    c = t.view("contacts")
    answered = f"(SELECT * FROM {c} WHERE NOT COALESCE(abandoned, FALSE) AND agent_id IS NOT NULL)"
    out = t.sql(f"SELECT agent_id, count(*) AS contacts FROM {answered} GROUP BY agent_id ORDER BY agent_id")
    if out.empty:
        raise DataError("Table 'contacts' has no answered contact with an agent: nothing to summarise per agent.")
    out = out.set_index("agent_id")
    if t.has("contacts", "resolved"):
        res = t.sql(f"SELECT agent_id, count(*) FILTER (WHERE resolved) AS sum, count(*) AS size FROM {answered} "
                    "WHERE resolved IS NOT NULL GROUP BY agent_id ORDER BY agent_id").set_index("agent_id")
        if t.nullable("contacts", "resolved"):  # pandas' sums of a nullable boolean column are Int64
            res = res.astype("Int64")
        out["resolved_n"] = res["size"]
        out["resolved_rate"] = res["sum"] / res["size"]
        lo, hi = wilson_interval(res["sum"].reindex(out.index).fillna(0), out["resolved_n"].fillna(0))
        out["resolved_ci_low"], out["resolved_ci_high"] = lo, hi
    if t.has("surveys", "csat"):
        g = t.sql(f"SELECT a.agent_id, count(*) AS n, sum(s.csat) AS total, sum(s.csat * s.csat) AS sumsq "
                  f"FROM {t.view('surveys')} s JOIN {answered} a ON s.contact_id = a.contact_id "
                  "WHERE s.csat IS NOT NULL GROUP BY a.agent_id ORDER BY a.agent_id").set_index("agent_id")
        g = g.reindex(out.index)
        out["csat_n"] = g["n"].fillna(0).astype(int)
        out["csat_mean"] = g["total"] / g["n"]
        out["csat_ci_low"], out["csat_ci_high"] = t_interval(g["total"], g["sumsq"], g["n"].fillna(0))
    out["flag"] = np.where(out.get("csat_n", pd.Series(0, index=out.index)) < min_n, "small_n", "")
    if t.has("agents", "team"):
        agents = t.sql(f"SELECT agent_id, team FROM {t.view('agents')} ORDER BY _row")
        out = out.join(agents.set_index("agent_id")[["team"]], how="left")
    out = out.reset_index()
    order = ["agent_id", "team", "contacts", "csat_n", "csat_mean", "csat_ci_low", "csat_ci_high",
             "resolved_n", "resolved_rate", "resolved_ci_low", "resolved_ci_high", "flag"]
    return out[[c for c in order if c in out.columns]].sort_values("agent_id").reset_index(drop=True)


def channel_overview(contacts: pd.DataFrame | Tables) -> pd.DataFrame:
    """Per channel: offered, answered, answer rate (Wilson CI) and mean wait of answered contacts (s).

    ``contacts``: the contacts DataFrame, or tables (a folder, :func:`kpilab.operations.open_tables`),
    aggregated in SQL.
    """
    t = _open({"contacts": contacts} if isinstance(contacts, pd.DataFrame) else contacts, ("contacts",))
    t.require(["contacts"])
    ans = "NOT COALESCE(abandoned, FALSE)"
    g = t.sql(f"SELECT channel, count(*) AS offered, count(*) FILTER (WHERE {ans}) AS answered, "
              f"avg(CASE WHEN {ans} THEN {_wait_s('arrived_at', 'answered_at')} END) AS mean_wait_s "
              f"FROM {t.view('contacts')} WHERE channel IS NOT NULL GROUP BY channel ORDER BY channel")
    g = g.set_index("channel")
    g["answer_rate"] = g["answered"] / g["offered"]
    g["ci_low"], g["ci_high"] = wilson_interval(g["answered"], g["offered"])
    return g.reset_index()[["channel", "offered", "answered", "answer_rate", "ci_low", "ci_high", "mean_wait_s"]]


def validation_summary(tables: Tables) -> pd.DataFrame:
    """Row-level problems per table and reason (lenient validation): ``table, reason, rows, first_ids``.

    The rules are :func:`kpilab.schema.validate_table`'s, evaluated in SQL (one reason per row, the
    first rule it breaks); ``first_ids`` are the first three offending ids in row order.
    """
    from kpilab.schema import TABLES

    t = _open(tables)
    order = list(tables) if isinstance(tables, Mapping) else t.names
    rows = []
    for name in order:
        if name not in TABLES or name not in t:
            continue
        issues = t.issues(name)
        if issues.empty:
            rows.append({"table": name, "reason": "(no problems)", "rows": 0, "first_ids": ""})
            continue
        for reason, grp in issues.groupby("reason", sort=True):
            rows.append({"table": name, "reason": reason, "rows": len(grp),
                         "first_ids": ", ".join(map(str, grp["id"].head(3)))})
    return pd.DataFrame(rows, columns=["table", "reason", "rows", "first_ids"])


def plot_agent_csat(overview: pd.DataFrame, target: float | None = None, *, max_labelled: int = 60) -> plt.Figure:
    """Mean CSAT per agent with its 95 % interval; small samples drawn hollow and grey.

    Agents are ordered by the lower bound of their interval, the honest order
    for ranking on noisy means. Up to ``max_labelled`` agents each get a named row;
    a larger centre is drawn as one caterpillar of every agent in a figure of fixed
    height, without names (a row per agent made 5,000 agents a 900-inch image that
    took most of a minute to render; the names are in the agent table).
    """
    import matplotlib.pyplot as plt

    from kpilab.plots import set_theme

    set_theme()
    df = overview.dropna(subset=["csat_mean"]).sort_values("csat_ci_low").reset_index(drop=True)
    many = len(df) > max_labelled
    fig, ax = plt.subplots(figsize=(7, 9 if many else max(3, 0.18 * len(df) + 1)))
    small = df["flag"].eq("small_n").to_numpy()
    y = np.arange(len(df))
    for mask, colour, label in ((~small, "C0", "n >= min_n"), (small, "0.6", "small n (not ranked)")):
        if mask.any():
            style = ({"fmt": "o", "ms": 1.5, "elinewidth": 0.3, "capsize": 0} if many else
                     {"fmt": "o", "capsize": 2})
            ax.errorbar(df.loc[mask, "csat_mean"], y[mask],
                        xerr=[df.loc[mask, "csat_mean"] - df.loc[mask, "csat_ci_low"],
                              df.loc[mask, "csat_ci_high"] - df.loc[mask, "csat_mean"]],
                        color=colour, mfc=colour if colour == "C0" else "white", label=label, **style)
    if target is not None:
        ax.axvline(target, color="C3", ls="--", lw=1, label=f"target {target:g}")
    if many:
        ax.set_yticks([])
        ax.set_ylabel(f"{len(df):,} agents, lowest lower bound at the bottom")
    else:
        ax.set_yticks(y, df["agent_id"], fontsize=7)
    ax.set_xlabel("mean CSAT (1-5) with 95 % t interval")
    ax.set_title("CSAT per agent, ordered by the interval's lower bound")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def describe_overview(inventory: pd.DataFrame, agents: pd.DataFrame, min_n: int) -> str:
    """A few plain sentences for the report."""
    contacts = inventory.set_index("table")["rows"].get("contacts", 0)
    first = inventory.set_index("table")["first"].get("contacts")
    last = inventory.set_index("table")["last"].get("contacts")
    n_small = int((agents["flag"] == "small_n").sum())
    span = f" from {first:%d %b %Y} to {last:%d %b %Y}" if first is not None and pd.notna(first) else ""
    text = (f"The data holds {contacts:,} contacts{span}, handled by {len(agents)} agents. ")
    if "csat_n" in agents:
        med = agents["csat_n"].median()
        text += (f"Agents have a median of {med:.0f} survey answers each; {n_small} of {len(agents)} have fewer "
                 f"than {min_n}, so their CSAT is shown but must not be used to rank them. ")
    if "csat_ci_low" in agents and agents["csat_mean"].notna().any():
        width = (agents["csat_ci_high"] - agents["csat_ci_low"]).median()
        text += (f"A typical agent's CSAT interval is {width:.2f} points wide: differences smaller than that "
                 "between two agents are not evidence of a difference.")
    return text


def ticket_overview(tickets: pd.DataFrame | Tables) -> pd.DataFrame:
    """Per agent: tickets, share solved and share reopened (Wilson CIs), median hours to first reply.

    ``tickets``: the tickets DataFrame, or tables (a folder, :func:`kpilab.operations.open_tables`),
    counted in SQL. Columns: ``agent_id, tickets, solved, solved_rate, solved_ci_low, solved_ci_high,
    reopened_rate, reopened_ci_low, reopened_ci_high, median_first_reply_h``.
    """
    t = _open({"tickets": tickets} if isinstance(tickets, pd.DataFrame) else tickets, ("tickets",))
    t.require(["tickets"])
    src = t.view("tickets")
    reopened = ("(COALESCE(reopens, 0) > 0) AND solved_at IS NOT NULL" if t.has("tickets", "reopens") else "FALSE")
    out = t.sql(f"SELECT agent_id, count(*) AS tickets, count(*) FILTER (WHERE solved_at IS NOT NULL) AS solved, "
                f"count(*) FILTER (WHERE {reopened}) AS reopened FROM {src} WHERE agent_id IS NOT NULL "
                "GROUP BY agent_id ORDER BY agent_id")
    if out.empty:
        raise DataError("Table 'tickets' has no ticket with an agent: nothing to summarise per agent.")
    out = out.set_index("agent_id")
    if t.nullable("tickets", "reopens"):  # pandas' sums of the nullable comparison are Int64
        out["reopened"] = out["reopened"].astype("Int64")
    # the median as pandas takes it (same averaging of the two middle values), on agent codes, not ids
    h = t.sql(f"SELECT dense_rank() OVER (ORDER BY agent_id) - 1 AS code, "
              f"{_wait_s('created_at', 'first_reply_at')} / 3600 AS first_h FROM {src} WHERE agent_id IS NOT NULL")
    med = h.groupby("code")["first_h"].median()
    out["median_first_reply_h"] = med.reindex(np.arange(len(out))).to_numpy()
    out["solved_rate"] = out["solved"] / out["tickets"]
    out["solved_ci_low"], out["solved_ci_high"] = wilson_interval(out["solved"], out["tickets"])
    out["reopened_rate"] = out["reopened"] / out["solved"].where(out["solved"] > 0)
    out["reopened_ci_low"], out["reopened_ci_high"] = wilson_interval(out["reopened"], out["solved"])
    cols = ["tickets", "solved", "solved_rate", "solved_ci_low", "solved_ci_high", "reopened_rate",
            "reopened_ci_low", "reopened_ci_high", "median_first_reply_h"]
    return out[cols].reset_index()
