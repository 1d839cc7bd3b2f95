"""Sections on the results: scores and grades, robustness, operations."""

from __future__ import annotations

import pandas as pd

from kpilab.formatting import MISSING, format_count, format_number, format_period, format_share
from kpilab.report.collect import RunData
from kpilab.report.findings import SETTLED_P, describe_input, robustness_facts, score_facts
from kpilab.report.model import Section, make_table
from kpilab.report.review_sections import add_figure
from kpilab.report.text import ind, join, plural, set_name

__all__ = ["scores_section", "robustness_section", "operations_section", "grade_table"]


def grade_table(data: RunData) -> pd.DataFrame | None:
    """Agents per grade in the latest period: grade, agents, share, not settled."""
    sf = score_facts(data)
    if sf is None or "grade" not in sf.latest:
        return None
    latest = sf.latest
    settled = (latest["grade_settled"].astype(str).str.lower().isin(["true", "1", "1.0"])
               if "grade_settled" in latest else latest.get("p_grade", pd.Series(1.0, index=latest.index)) >= SETTLED_P)
    g = latest.assign(unsettled=~settled).groupby("grade")
    df = pd.DataFrame({"agents": g.size(), "unsettled": g["unsettled"].sum().astype(int)}).reset_index()
    df["share"] = df["agents"] / df["agents"].sum()
    return df[["grade", "agents", "share", "unsettled"]]


def scores_section(data: RunData) -> Section:
    """Scores and grades of the latest review period, per grade and per team, with how sure each grade is."""
    s = Section("scores", "Scores and grades")
    sf = score_facts(data)
    if sf is None:
        return s.notice(data.absent("04", "scores table"))
    kind = data.period_kind
    per = format_period(sf.period, kind)
    idx = sf.latest["index"].astype(float)
    # what notebook 04 actually scored with (recorded by it), else the parameter it was given
    weights = (data.recommendation or {}).get("scores_weights") or data.param("weights", "roles")
    if weights == "recommended" and data.recommendation is None:
        weights = "roles"  # notebook 04 falls back to the role templates when 03 recommended nothing
    s.para(f"In {per}, {plural(sf.n, 'agent')} received a score from 0 to 100 points (median "
           f"{format_number(idx.median(), 3)}, middle half {format_number(idx.quantile(0.25), 3)} to "
           f"{format_number(idx.quantile(0.75), 3)}) weighted with {set_name(weights, data.framework)}, and a "
           f"grade from the framework's bands (A is the best). A grade is settled when the agent's own measurement "
           f"noise leaves it unchanged with at least {format_share(SETTLED_P)} probability: "
           f"{plural(sf.unsettled, 'grade')} of {sf.n:,d} are not settled and should not on their own carry a "
           "bonus or an improvement plan.")
    gt = grade_table(data)
    if gt is not None:
        s.add(make_table(gt, f"Grade distribution, {per}", formats={"agents": "count", "share": "share",
                                                                    "unsettled": "count", "grade": "text"},
                         names={"unsettled": "Not settled"}, max_rows=None, csv="scores.csv"))
    gbt = data.table("grades_by_team")
    if gbt is not None and {"team", "grade", "agents"} <= set(gbt.columns):
        last = gbt[gbt["period"].astype(str) == sf.period]
        if len(last):
            pv = last.pivot_table(index="team", columns="grade", values="agents", aggfunc="sum", fill_value=0)
            pv = pv.astype(int).reset_index()
            grades = [c for c in pv.columns if c != "team"][:6]
            pv = pv[["team"] + grades]
            s.add(make_table(pv, f"Agents per grade and team, {per}", formats={"team": "text"} |
                             {g: "count" for g in grades}, max_rows=15, csv="grades_by_team.csv"))
    add_figure(s, data, "score_distribution", f"Distribution of agents' scores, {per}; the shaded bands are the "
               "grades.")
    # 25: plot_grade_mix's max_teams (the figure names what it leaves out)
    n_teams = gbt["team"].nunique() if gbt is not None and "team" in gbt.columns else 0
    add_figure(s, data, "grade_mix", "Grade mix per team." if n_teams <= 25 else
               f"Grade mix of the whole centre and of the 25 of {n_teams} teams with the largest share in the "
               "lowest grade (every team is in grades_by_team.csv).")
    latest = sf.latest.sort_values("index", ascending=False)
    df = pd.DataFrame({
        "agent": latest["unit_id"].astype(str),
        "team": latest.get("team", pd.Series("", index=latest.index)).fillna("no team").astype(str),
        "score": latest["index"],
        "range": [f"{format_number(a, 3)} to {format_number(b, 3)}" if pd.notna(a) and pd.notna(b)
                  else "no interval (too few observations)"
                  for a, b in zip(latest.get("score_low", pd.Series(index=latest.index)),
                                  latest.get("score_high", pd.Series(index=latest.index)), strict=False)],
        "grade": latest.get("grade", pd.Series("", index=latest.index)).fillna("not graded"),
        "p": latest.get("p_grade", pd.Series(index=latest.index)),
        "tier": latest.get("tier", pd.Series("", index=latest.index)).fillna("no tier").astype(str)
        .str.replace("_", " "),
    })
    s.add(make_table(df, f"Agents by score, {per} (5-95 % range of the score over measurement noise)",
                     formats={"score": "number", "p": "share", "agent": "text", "team": "text", "range": "text",
                              "grade": "text", "tier": "text"},
                     names={"range": "Score range", "p": "Probability of grade"}, max_rows=15, csv="scores.csv",
                     small=True))
    add_figure(s, data, "scorecard", "One agent's scorecard: points lost per indicator (weight × (100 − points)).")
    return s


def robustness_section(data: RunData) -> Section:
    """Robustness: rank ranges and grade probabilities under other design choices, and what matters most."""
    s = Section("robustness", "Robustness")
    rf = robustness_facts(data)
    if rf is None:
        return s.notice(data.absent("05", "rank intervals"))
    fw = data.framework
    per = format_period(rf.period, data.period_kind) if rf.period else "the latest period"
    text = (f"Each agent's rank in {per} was recomputed many times under other reasonable design choices "
            "(weights, normalisation, aggregation, which indicators count, measurement noise). The median agent's "
            f"rank moves within a range of {format_number(rf.median_width, 2)} places (5-95 %); "
            f"{plural(rf.wide, 'agent')} of {rf.n:,d} have a range wider than a fifth of the field, so their order "
            "is set by the design choices rather than by their work.")
    if rf.grade_stable is not None:
        text += (f" {plural(rf.grade_stable, 'agent')} of {rf.n:,d} keep their grade in at least "
                 f"{format_share(SETTLED_P)} of the draws.")
    s.para(text)
    add_figure(s, data, "rank_uncertainty", "Rank of each agent (dot) and its 5-95 % range over the design "
               "choices drawn.")
    if rf.top_inputs is not None and len(rf.top_inputs):
        t = rf.top_inputs
        # two decimals: the estimators' own noise is larger than that; a slightly negative estimate is that
        # noise around zero, shown as 0
        raw = {k: pd.to_numeric(t[k], errors="coerce") for k in ("S1", "ST") if k in t}
        clipped = any(bool((v < 0).any()) for v in raw.values())
        df = pd.DataFrame({"input": [describe_input(i, fw) for i in t["input"]],
                           **{k: [MISSING if pd.isna(x) else f"{x:.2f}" for x in v.clip(lower=0)]
                              for k, v in raw.items()}})
        table = make_table(df, "The design choices that move ranks most (Sobol' indices of the mean rank shift: "
                               "first-order alone, total with interactions"
                               + ("; estimates below zero are sampling noise, shown as 0.00)" if clipped else ")"),
                           formats={"input": "text", "S1": "text", "ST": "text"},
                           names={"input": "Design choice", "S1": "First-order index", "ST": "Total index"},
                           csv="sensitivity.csv")
        table.numeric = set(range(1, len(df.columns)))  # text of numbers: right-aligned like the others
        s.add(table)
    add_figure(s, data, "grade_probabilities", "Probability of each grade per agent over the design choices "
               "drawn.", wide=True)
    return s


def operations_section(data: RunData) -> Section:
    """Operations: threshold alerts, control-chart signals, staffing feasibility, triangulation."""
    s = Section("operations", "Operations")
    alerts = data.table("alerts")
    cc = data.table("control_charts")
    staffing = data.table("staffing")
    tri = data.table("triangulation_agents")
    if all(t is None for t in (alerts, cc, staffing, tri)):
        return s.notice(data.absent("06", "operations tables"))
    fw = data.framework
    if alerts is not None and "status" in alerts and len(alerts):
        g = alerts.groupby(["indicator", "unit_level"])["status"]
        df = pd.DataFrame({
            "confirmed": g.apply(lambda x: int((x == "confirmed").sum())),
            "possible": g.apply(lambda x: int((x == "possible").sum())),
            "exempted": g.apply(lambda x: int((x == "exempted").sum())),
        }).reset_index()
        df["indicator"] = [ind(c, fw) for c in df["indicator"]]
        df = df.sort_values("confirmed", ascending=False)
        s.para(f"Threshold alerts from the framework's alert rules: {format_count((alerts['status'] == 'confirmed').sum())} "
               "confirmed (the 95 % interval lies beyond the threshold), "
               f"{format_count((alerts['status'] == 'possible').sum())} possible (the value does, its interval "
               "does not); cells inside exemption windows are counted apart.")
        s.add(make_table(df, "Alerts per indicator and level", formats={"indicator": "text", "unit_level": "text",
                                                                       "confirmed": "count", "possible": "count",
                                                                       "exempted": "count"},
                         names={"unit_level": "Level"}, max_rows=12, csv="alerts.csv"))
    elif alerts is not None:
        s.para("No alert fired in the period.")
    if cc is not None and "signal" in cc and len(cc):
        sig = cc["signal"].astype(str).str.lower().isin(["true", "1"])
        names = join(sorted({ind(c, fw) for c in cc.loc[sig, "indicator"]}))
        s.para(f"Control charts: {format_count(sig.sum())} of {format_count(len(cc))} points fired a run rule"
               + (f" ({names})." if names else "."))
    add_figure(s, data, "control_service_level", "Centre service level per day with its control limits; red "
               "points fired a run rule.")
    if staffing is not None and "verdict" in staffing and len(staffing):
        bad = staffing["verdict"].astype(str).str.startswith("not feasible")
        queues = sorted(staffing.loc[bad, "queue"].astype(str).str.replace("_", " ").unique()) if "queue" in staffing else []
        s.para(f"Staffing (Erlang A): {format_count(bad.sum())} of {format_count(len(staffing))} queue-hours cannot "
               "meet the service-level target with the agents seen answering"
               + (f" ({join(queues)})." if queues else "."))
    if tri is not None and "flagged" in tri and len(tri):
        flagged = tri["flagged"].astype(str).str.lower().isin(["true", "1"])
        s.para(f"Triangulation: {plural(int(flagged.sum()), 'agent')} of {len(tri):,d} close noticeably more "
               "contacts as resolved than customers and repeat contacts confirm (a known form of gaming; check "
               "before acting).")
    return s
