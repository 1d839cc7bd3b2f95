"""First honest numbers about a data set, before any indicator engineering.

Used by the first notebook of the review pipeline: what the data holds (rows,
date range, channels), and a few per-agent and per-channel figures that
always carry their sample size and a 95 % confidence interval, with
``small_n`` flags where the sample is too small to compare.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kpilab.errors import DataError
from kpilab.indicators.stats import t_interval, wilson_interval

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

__all__ = ["agent_overview", "channel_overview", "data_inventory", "ticket_overview", "validation_summary"]

_TIME_COLUMNS = {
    "contacts": "arrived_at",
    "surveys": "responded_at",
    "qa_reviews": "reviewed_at",
    "tickets": "created_at",
    "exemptions": "start",
}


def data_inventory(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per table: ``table, rows, columns, first, last``."""
    rows = []
    for name, df in tables.items():
        col = _TIME_COLUMNS.get(name)
        first = last = None
        if col and col in df.columns and df[col].notna().any():
            first, last = df[col].min(), df[col].max()
        rows.append({"table": name, "rows": len(df), "columns": df.shape[1], "first": first, "last": last})
    return pd.DataFrame(rows, columns=["table", "rows", "columns", "first", "last"])


def agent_overview(tables: dict[str, pd.DataFrame], *, min_n: int = 30) -> pd.DataFrame:
    """Per agent: contacts handled, mean CSAT and agent-flagged resolution, with n and CI.

    Columns: ``agent_id, team, contacts, csat_n, csat_mean, csat_ci_low,
    csat_ci_high, resolved_n, resolved_rate, resolved_ci_low, resolved_ci_high,
    flag``. CSAT uses a t interval (mean of 1-5 scores), resolution a Wilson
    interval. ``flag`` is ``small_n`` when fewer than ``min_n`` surveys back
    the CSAT mean: such agents should not be ranked on CSAT.
    """
    if "contacts" not in tables:
        raise DataError("agent_overview needs the 'contacts' table.")
    contacts = tables["contacts"]
    answered = contacts[~contacts["abandoned"].astype(bool) & contacts["agent_id"].notna()]
    if answered.empty:
        raise DataError("Table 'contacts' has no answered contact with an agent: nothing to summarise per agent.")
    out = answered.groupby("agent_id").size().rename("contacts").to_frame()
    if "resolved" in answered.columns:
        res = answered.dropna(subset=["resolved"]).groupby("agent_id")["resolved"].agg(["sum", "size"])
        out["resolved_n"] = res["size"]
        out["resolved_rate"] = res["sum"] / res["size"]
        lo, hi = wilson_interval(res["sum"].reindex(out.index).fillna(0), out["resolved_n"].fillna(0))
        out["resolved_ci_low"], out["resolved_ci_high"] = lo, hi
    if "surveys" in tables and "csat" in tables["surveys"].columns:
        s = tables["surveys"].merge(answered[["contact_id", "agent_id"]], on="contact_id", how="inner")
        s = s.dropna(subset=["csat"]).assign(csat_sq=lambda d: d["csat"] ** 2)
        g = s.groupby("agent_id").agg(n=("csat", "size"), total=("csat", "sum"), sumsq=("csat_sq", "sum"))
        g = g.reindex(out.index)
        out["csat_n"] = g["n"].fillna(0).astype(int)
        out["csat_mean"] = g["total"] / g["n"]
        out["csat_ci_low"], out["csat_ci_high"] = t_interval(g["total"], g["sumsq"], g["n"].fillna(0))
    out["flag"] = np.where(out.get("csat_n", pd.Series(0, index=out.index)) < min_n, "small_n", "")
    if "agents" in tables and "team" in tables["agents"].columns:
        out = out.join(tables["agents"].set_index("agent_id")[["team"]], how="left")
    out = out.reset_index()
    order = ["agent_id", "team", "contacts", "csat_n", "csat_mean", "csat_ci_low", "csat_ci_high",
             "resolved_n", "resolved_rate", "resolved_ci_low", "resolved_ci_high", "flag"]
    return out[[c for c in order if c in out.columns]].sort_values("agent_id").reset_index(drop=True)


def channel_overview(contacts: pd.DataFrame) -> pd.DataFrame:
    """Per channel: offered, answered, answer rate (Wilson CI) and mean wait of answered contacts (s)."""
    df = contacts.assign(answered=~contacts["abandoned"].astype(bool))
    wait = (df["answered_at"] - df["arrived_at"]).dt.total_seconds()
    df = df.assign(wait_s=wait.where(df["answered"]))
    g = df.groupby("channel").agg(offered=("contact_id", "size"), answered=("answered", "sum"),
                                  mean_wait_s=("wait_s", "mean"))
    g["answer_rate"] = g["answered"] / g["offered"]
    g["ci_low"], g["ci_high"] = wilson_interval(g["answered"], g["offered"])
    return g.reset_index()[["channel", "offered", "answered", "answer_rate", "ci_low", "ci_high", "mean_wait_s"]]


def validation_summary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Row-level problems per table and reason (lenient validation): ``table, reason, rows, first_ids``."""
    from kpilab.schema import TABLES, validate_table

    rows = []
    for name, df in tables.items():
        if name not in TABLES:
            continue
        report = validate_table(df, name, strict=False)
        if report.issues.empty:
            rows.append({"table": name, "reason": "(no problems)", "rows": 0, "first_ids": ""})
            continue
        for reason, grp in report.issues.groupby("reason", sort=True):
            rows.append({"table": name, "reason": reason, "rows": len(grp),
                         "first_ids": ", ".join(map(str, grp["id"].head(3)))})
    return pd.DataFrame(rows, columns=["table", "reason", "rows", "first_ids"])


def plot_agent_csat(overview: pd.DataFrame, target: float | None = None) -> plt.Figure:
    """Mean CSAT per agent with its 95 % interval; small samples drawn hollow and grey.

    Agents are ordered by the lower bound of their interval, the honest order
    for ranking on noisy means.
    """
    import matplotlib.pyplot as plt

    from kpilab.plots import set_theme

    set_theme()
    df = overview.dropna(subset=["csat_mean"]).sort_values("csat_ci_low").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, max(3, 0.18 * len(df) + 1)))
    small = df["flag"].eq("small_n").to_numpy()
    y = np.arange(len(df))
    for mask, colour, label in ((~small, "C0", "n >= min_n"), (small, "0.6", "small n (not ranked)")):
        if mask.any():
            ax.errorbar(df.loc[mask, "csat_mean"], y[mask],
                        xerr=[df.loc[mask, "csat_mean"] - df.loc[mask, "csat_ci_low"],
                              df.loc[mask, "csat_ci_high"] - df.loc[mask, "csat_mean"]],
                        fmt="o", color=colour, mfc=colour if colour == "C0" else "white", capsize=2, label=label)
    if target is not None:
        ax.axvline(target, color="C3", ls="--", lw=1, label=f"target {target:g}")
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


def ticket_overview(tickets: pd.DataFrame) -> pd.DataFrame:
    """Per agent: tickets, share solved and share reopened (Wilson CIs), median hours to first reply.

    Columns: ``agent_id, tickets, solved, solved_rate, solved_ci_low, solved_ci_high,
    reopened_rate, reopened_ci_low, reopened_ci_high, median_first_reply_h``.
    """
    df = tickets[tickets["agent_id"].notna()]
    if df.empty:
        raise DataError("Table 'tickets' has no ticket with an agent: nothing to summarise per agent.")
    solved = df["solved_at"].notna()
    reopened = (df["reopens"].fillna(0) > 0) & solved if "reopens" in df.columns else pd.Series(False, index=df.index)
    first_h = (df["first_reply_at"] - df["created_at"]).dt.total_seconds() / 3600
    g = pd.DataFrame({"agent_id": df["agent_id"], "solved": solved, "reopened": reopened, "first_h": first_h})
    out = g.groupby("agent_id").agg(tickets=("solved", "size"), solved=("solved", "sum"),
                                    reopened=("reopened", "sum"), median_first_reply_h=("first_h", "median"))
    out["solved_rate"] = out["solved"] / out["tickets"]
    out["solved_ci_low"], out["solved_ci_high"] = wilson_interval(out["solved"], out["tickets"])
    out["reopened_rate"] = out["reopened"] / out["solved"].where(out["solved"] > 0)
    out["reopened_ci_low"], out["reopened_ci_high"] = wilson_interval(out["reopened"], out["solved"])
    cols = ["tickets", "solved", "solved_rate", "solved_ci_low", "solved_ci_high", "reopened_rate",
            "reopened_ci_low", "reopened_ci_high", "median_first_reply_h"]
    return out[cols].reset_index()
