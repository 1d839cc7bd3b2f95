"""First honest numbers about a data set, before any indicator engineering.

Used by the first notebook of the review pipeline: what the data holds (rows,
date range, channels), and a few per-agent and per-channel figures that
always carry their sample size and a 95 % confidence interval, with
``small_n`` flags where the sample is too small to compare.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from kpilab.errors import DataError

__all__ = ["data_inventory", "agent_overview", "channel_overview"]

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


def _wilson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    low, high = np.full(k.shape, np.nan), np.full(k.shape, np.nan)
    ok = n > 0
    if ok.any():
        low[ok], high[ok] = proportion_confint(k[ok], n[ok], alpha=0.05, method="wilson")
    return low, high


def _t_interval(mean: np.ndarray, sd: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
    return mean - half, mean + half


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
        lo, hi = _wilson(res["sum"].reindex(out.index).fillna(0), out["resolved_n"].fillna(0))
        out["resolved_ci_low"], out["resolved_ci_high"] = lo, hi
    if "surveys" in tables and "csat" in tables["surveys"].columns:
        s = tables["surveys"].merge(answered[["contact_id", "agent_id"]], on="contact_id", how="inner")
        g = s.dropna(subset=["csat"]).groupby("agent_id")["csat"].agg(["size", "mean", "std"])
        g = g.reindex(out.index)
        out["csat_n"] = g["size"].fillna(0).astype(int)
        out["csat_mean"] = g["mean"]
        out["csat_ci_low"], out["csat_ci_high"] = _t_interval(g["mean"], g["std"], out["csat_n"])
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
    g["ci_low"], g["ci_high"] = _wilson(g["answered"], g["offered"])
    return g.reset_index()[["channel", "offered", "answered", "answer_rate", "ci_low", "ci_high", "mean_wait_s"]]
