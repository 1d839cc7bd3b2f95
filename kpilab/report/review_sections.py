"""Sections on what was measured and how it was reviewed: data, indicator panel, health review, weights."""

from __future__ import annotations

import pandas as pd

from kpilab.formatting import format_count, format_date, format_number, format_value, format_weight
from kpilab.report.collect import RunData
from kpilab.report.findings import health_facts, recommended_weights
from kpilab.report.model import Section, make_figure, make_table
from kpilab.report.text import ind, join, names_in_text, pillar_name, plural, set_name

__all__ = ["data_section", "panel_section", "health_section", "weights_section", "add_figure"]

_TABLE_NAMES = {"contacts": "Contacts", "surveys": "Surveys", "qa_reviews": "QA reviews", "tickets": "Tickets",
                "agents": "Agents", "exemptions": "Exemption windows"}


def add_figure(section: Section, data: RunData, name: str, caption: str, *, wide: bool = False) -> None:
    """Embed ``figures/<name>.png`` when the run wrote it (nothing otherwise: the text says what is shown)."""
    path = data.figure(name)
    if path is not None:
        section.add(make_figure(path, caption, wide=wide))


_REASON_WORDS = {
    "exempted (relax_target): kept, share in exempted_share": "inside an exemption window with relaxed targets",
    "window not observed": "follow-up window runs past the end of the data",
}


def _reason_words(reason: object, framework: object = None) -> str:
    """An accounting reason in words (the engine's short forms name columns and options)."""
    if not isinstance(reason, str) or not reason:
        return "no reason recorded"
    return _REASON_WORDS.get(reason, names_in_text(reason, framework))


def _tname(t: object) -> str:
    return _TABLE_NAMES.get(str(t), str(t).replace("_", " ").capitalize())


def data_section(data: RunData) -> Section:
    """Data and coverage: what each table holds, and where every row went (read = used + excluded)."""
    s = Section("data", "Data and coverage")
    inv = data.table("data_inventory")
    acc = data.table("panel_accounting")
    if inv is None and acc is None:
        return s.notice(data.absent("00", "data inventory"))
    if inv is not None and len(inv):
        total = int(inv["rows"].sum())
        s.para(f"The review read {plural(len(inv), 'table')} with {format_count(total)} rows in all. "
               "Every row is either used or excluded with one stated reason; nothing is dropped silently.")
        df = pd.DataFrame({
            "table": inv["table"].map(_tname),
            "rows": inv["rows"],
            "columns": inv["columns"],
            "first": [format_date(v, missing="no timestamps") for v in inv.get("first", pd.Series(index=inv.index))],
            "last": [format_date(v, missing="no timestamps") for v in inv.get("last", pd.Series(index=inv.index))],
        })
        s.add(make_table(df, "What the data holds", formats={"rows": "count", "columns": "count", "first": "text",
                                                              "last": "text"},
                         names={"first": "First record", "last": "Last record"}, csv="data_inventory.csv"))
    if acc is not None and len(acc):
        per = acc.groupby("table", sort=False)[["rows_read", "rows_used", "rows_excluded"]].first().reset_index()
        per["table"] = per["table"].map(_tname)
        s.add(make_table(per, "Rows read, used and excluded per table (read = used + excluded)",
                         formats={"rows_read": "count", "rows_used": "count", "rows_excluded": "count"},
                         names={"rows_read": "Rows read", "rows_used": "Used", "rows_excluded": "Excluded"},
                         csv="panel_accounting.csv"))
        reasons = acc[acc["kind"].isin(["excluded", "flagged", "indicator_excluded"])].copy()
        if len(reasons):
            what = {"excluded": "excluded from every indicator", "flagged": "kept, flagged",
                    "indicator_excluded": "left out of one indicator"}
            reasons["effect"] = [
                what[k] + (f" ({ind(i, data.framework)})" if k == "indicator_excluded" and isinstance(i, str) else "")
                for k, i in zip(reasons["kind"], reasons["indicator"], strict=False)]
            reasons["table"] = reasons["table"].map(_tname)
            reasons["reason"] = [_reason_words(r, data.framework) for r in reasons["reason"]]
            df = reasons[["table", "reason", "effect", "rows"]]
            s.add(make_table(df, "Rows excluded or flagged, per reason", formats={"rows": "count", "reason": "text",
                                                                              "effect": "text"},
                             names={"effect": "Effect"}, csv="panel_accounting.csv", max_rows=15))
        else:
            s.para("No row was excluded: every row of every table entered the indicators.")
    else:
        s.notice(data.absent("01", "row accounting"))
    problems = data.table("data_problems")
    if problems is not None and "rows" in problems and problems["rows"].sum() > 0:
        p = problems[problems["rows"] > 0]
        s.para(f"Data problems found in the source tables: {format_count(p['rows'].sum())} rows "
               f"({join(f'{_tname(t)}: {r}' for t, r in zip(p['table'], p['reason'], strict=False))}).")
    return s


def panel_section(data: RunData) -> Section:
    """The indicator panel: what was computed at which level and how many cells rest on small samples."""
    s = Section("panel", "Indicator panel")
    cp = data.centre_panel()
    ap = data.agent_panel(["unit_id", "period", "indicator", "n", "flag"])
    if cp is None and ap is None:
        return s.notice(data.absent("01", "indicator panel"))
    fw = data.framework
    periods = data.panel_periods()
    s.para("Every indicator of the framework is computed for every agent, team and the whole centre, period by "
           "period, with the number of observations behind it and a 95 % interval. A cell resting on fewer "
           f"observations than the framework's minimum ({fw.min_n if fw else 30}) is marked as a small sample and "
           "is not used to rank people.")
    if ap is not None and len(ap):
        small = ap["flag"].astype(str).str.contains("small_n", na=False)
        g = ap.assign(small=small).groupby("indicator", sort=False)
        df = pd.DataFrame({
            "indicator": [ind(c, fw) for c in g.size().index],
            "agents": g["unit_id"].nunique().values,
            "cells": g.size().values,
            "median_n": g["n"].median().values,
            "small": g["small"].mean().values,
        })
        df = df.sort_values("small", ascending=False)
        s.add(make_table(df, f"Agent-level cells per indicator over {plural(len(periods), 'period')}",
                         formats={"agents": "count", "cells": "count", "median_n": "count", "small": "share",
                                  "indicator": "text"},
                         names={"median_n": "Median observations per cell", "small": "Small-sample cells"},
                         max_rows=25, csv="panel_overview.csv"))
    add_figure(s, data, "csat_trend", "Centre-level customer satisfaction per period with its 95 % interval and "
               "the framework target.")
    return s


def health_section(data: RunData) -> Section:
    """Health review: keep/review/prune with the correlation behind each, and indicators that move together."""
    s = Section("health", "Health review")
    hf = health_facts(data)
    if hf is None:
        return s.notice(data.absent("02", "decisions table"))
    fw = data.framework
    out = ind(hf.outcome, fw)
    thr = format_number(hf.threshold, 2)
    s.para(f"Each indicator is checked against the customer outcome, {out}: it is kept when its link with the "
           f"outcome (correlation, r) is clearly at least {thr}, pruned when clearly weaker (or when it cannot "
           "score agents: the same value for every unit, too few units with a value, or a near copy of another "
           "indicator), and left for review when the 95 % interval does not settle the question or a person's "
           "judgement is needed. "
           f"Result: {plural(hf.counts['keep'], 'indicator')} kept, {hf.counts['review']} for review, "
           f"{hf.counts['prune']} pruned.")
    d = hf.decisions.copy()
    order = {"keep": 0, "review": 1, "prune": 2}
    d = d.assign(_o=d["decision"].map(order), _a=-d["r"].abs()).sort_values(["_o", "_a"])
    df = pd.DataFrame({
        "indicator": [ind(c, fw) for c in d["indicator"]],
        "r": [f"{format_number(r, 2)} ({format_number(lo, 2)} to {format_number(hi, 2)})"
              if pd.notna(r) else "not computable" for r, lo, hi in zip(d["r"], d["ci_low"], d["ci_high"], strict=False)],
        "n": d["n"],
        "decision": d["decision"],
        "reason": [first_sentence(names_in_text(r, fw)) or "no reason recorded" for r in d["reason"]],
    })
    cls = [["", "", "", f"dec-{x}", ""] for x in d["decision"]]
    s.add(make_table(df, f"Decisions with the correlation behind each (r with {out}, 95 % interval); the first "
                         "sentence of each reason, the full reasons are in the CSV",
                     formats={"r": "text", "n": "count", "decision": "text", "reason": "text", "indicator": "text"},
                     names={"r": "r (95 % interval)", "n": "Agents"}, classes=cls, max_rows=None,
                     csv="decisions.csv", widths=["20%", "15%", "7%", "8%", "50%"], small=True))
    add_figure(s, data, "health_relevance", f"Each indicator's correlation with {out} and its 95 % interval; the "
               f"dashed lines mark the threshold of {thr}.")
    if hf.clusters is not None and len(hf.clusters):
        c = hf.clusters.sort_values(["cluster", "representative"], ascending=[True, False])
        multi = c.groupby("cluster")["indicator"].transform("size") > 1
        c = c[multi]
        if len(c):
            s.para(f"Indicators that move together (|r| above the redundancy threshold) are grouped; each group "
                   f"counts one behaviour and keeps one representative. {plural(c['cluster'].nunique(), 'group')} "
                   "found.")
            df = pd.DataFrame({
                "group": c["cluster"].astype(int),
                "indicator": [ind(x, fw) for x in c["indicator"]],
                "role": ["representative" if str(r).lower() in ("true", "1") else "merge or drop"
                         for r in c["representative"]],
                "max_abs_r": c.get("max_abs_r"),
                "reason": [names_in_text(r, fw) or "no reason recorded"
                           for r in c.get("reason", pd.Series("", index=c.index))],
            })
            s.add(make_table(df, "Groups of indicators that measure the same behaviour",
                             formats={"group": "count", "max_abs_r": "number", "reason": "text", "role": "text",
                                      "indicator": "text"},
                             names={"max_abs_r": "Largest |r| in group", "role": "Recommendation"},
                             max_rows=30, csv="redundancy_clusters.csv", small=True))
        else:
            s.para("No indicators move together closely enough to count the same behaviour twice.")
    elif hf.pairs is not None and len(hf.pairs):
        p = hf.pairs
        s.para("Pairs of indicators that move together closely (they count the same behaviour twice); this run "
               "has no grouping into clusters, so no pair-by-pair advice is given here.")
        df = pd.DataFrame({"a": [ind(x, fw) for x in p["indicator_a"]], "b": [ind(x, fw) for x in p["indicator_b"]],
                           "r": p["r"], "n": p["n"]})
        s.add(make_table(df, "Pairs of indicators that move together", formats={"r": "number", "n": "count",
                                                                              "a": "text", "b": "text"},
                         names={"a": "Indicator", "b": "Moves with", "n": "Agents"}, csv="redundancy.csv"))
    pillars = data.table("pillars")
    if pillars is not None and "cronbach_alpha" in pillars:
        df = pd.DataFrame({"pillar": [pillar_name(p, fw) for p in pillars["pillar"]],
                           "indicators": pillars["n_indicators"], "alpha": pillars["cronbach_alpha"],
                           "pc1": pillars.get("pc1_share")})
        s.add(make_table(df, "Does each pillar hang together? Cronbach's alpha (0.7 or more is the usual bar) and "
                             "the share of variation its main common pattern explains",
                         formats={"indicators": "count", "alpha": "number", "pc1": "share", "pillar": "text"},
                         names={"alpha": "Cronbach's alpha", "pc1": "Main pattern explains"}, csv="pillars.csv"))
    return s


def weights_section(data: RunData) -> Section:
    """Weights: the recommended set and how far the alternatives agree on the ranking."""
    s = Section("weights", "Weights")
    fw = data.framework
    rec = data.recommendation or {}
    rw = recommended_weights(data)
    weights = data.table("weights")
    if rw is None and weights is None:
        return s.notice(data.absent("03", "weights table"))
    if rw is not None:
        method = rec.get("weights_method") or (str(rw["method"].iloc[0]) if "method" in rw and len(rw) else "")
        reason = rec.get("weights_reason") or ""
        s.para(f"Recommended weights: {set_name(method, fw) if method else 'as below'}, computed on the "
               f"{plural(len(rw), 'kept indicator')} only. {reason}".strip())
        df = pd.DataFrame({"indicator": [ind(c, fw) for c in rw["indicator"]],
                           "pillar": [pillar_name(p, fw) for p in rw.get("pillar", pd.Series("", index=rw.index))],
                           "weight": rw["weight"]}).sort_values("weight", ascending=False)
        excluded = rec.get("excluded") or {}
        if isinstance(excluded, dict) and excluded:
            s.para(f"Left out of the recommended scorecard: {join(ind(c, fw) for c in excluded)} (pruned by the "
                   "health review, or without agent values in the review period; the decisions table gives each "
                   "reason).")
        s.add(make_table(df, "Recommended weights (sum to 100 %)", formats={"weight": "weight", "indicator": "text",
                                                                          "pillar": "text"},
                         max_rows=None, csv="recommended_weights.csv"))
        agreement = rec.get("agreement") or {}
        if agreement:
            df = pd.DataFrame({"set": [_upper_first(set_name(k, fw)) for k in agreement],
                               "rho": [format_number(v, 2, missing="not computed") for v in agreement.values()]})
            s.add(make_table(df, "How far the alternatives agree with the recommended ranking (Spearman rank "
                                 "correlation; 1 = the same order)",
                             formats={"set": "text", "rho": "text"}, names={"set": "Weight set",
                                                                              "rho": "Rank agreement"}))
    else:
        s.notice("This run did not produce a recommended weight set (tables/recommended_weights.csv); the weight "
                 "sets below are compared side by side and scores use the framework's role templates.")
    if weights is not None:
        sets = [c for c in weights.columns if c not in ("indicator", "pillar")][:6]
        df = weights[["indicator"] + sets].copy()
        df["indicator"] = [ind(c, fw) for c in df["indicator"]]
        s.add(make_table(df, "The weight sets compared (each column sums to 100 %)",
                         formats={c: "weight" for c in sets} | {"indicator": "text"},
                         names={c: _upper_first(set_name(c, fw)) for c in sets}, max_rows=None, csv="weights.csv",
                         small=True, widths=["28%"] + [f"{72 / max(len(sets), 1):.0f}%"] * len(sets)))
    ra = data.table("rank_agreement")
    if ra is not None and "spearman" in ra and len(ra):
        rho = pd.to_numeric(ra["spearman"], errors="coerce")
        if rho.notna().any():
            lo, hi = float(rho.min()), float(rho.max())
            # 0.9 / 0.7: the usual reading of a rank correlation as very strong / strong agreement
            verdict = ("rank agents alike" if lo >= 0.9 else "rank agents much alike" if lo >= 0.7
                       else "do not all rank agents alike")
            n = pd.to_numeric(ra.loc[rho.notna(), "n"], errors="coerce").max() if "n" in ra else None
            over = f" over {plural(int(n), 'agent')}" if n is not None and pd.notna(n) else ""
            s.para(f"The weight sets {verdict}: Spearman rank correlations between pairs of sets range from "
                   f"{format_number(lo, 2)} to {format_number(hi, 2)}{over}.")
        else:
            n = pd.to_numeric(ra["n"], errors="coerce").max() if "n" in ra else None
            few = "flag" in ra and ra["flag"].astype(str).str.contains("too_few_units").any()
            had = f" (this review had {plural(int(n), 'agent')})" if n is not None and pd.notna(n) else ""
            s.para("How alike the weight sets rank agents could not be computed"
                   + (f": a rank correlation needs more agents with a score under each set{had}." if few else "."))
    if weights is None:
        add_figure(s, data, "weights", "Weights of each indicator under each weight set.")
    return s


def first_sentence(text: str) -> str:
    """The first sentence of a notebook's reason (the verdict and its numbers; the advice follows in the CSV)."""
    import re

    parts = re.split(r"(?<=\.)\s+(?=[A-Z])", text.strip(), maxsplit=1)
    return parts[0] if parts else text


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def format_target(target: object, unit: str, direction: str, band: object) -> str:
    """A target as people read it (``>= 90 %``, ``<= 5.0 min``, ``25 to 35``), or "no target set"."""
    if direction == "band" and band:
        lo, hi = band  # type: ignore[misc]
        return f"{format_value(lo, unit)} to {format_value(hi, unit)}"
    if target is None or pd.isna(target):
        return "no target set"
    sign = "≥" if direction == "higher" else "≤"
    return f"{sign} {format_value(target, unit)}"


def format_weight_or(w: float, decision: str, level: str = "agent") -> str:
    """A recommended weight, or why there is none (pruned, left out, or a queue indicator nobody is scored on)."""
    if pd.isna(w):
        return "no recommendation"
    if w == 0:
        if decision == "prune":
            return "0 % (pruned)"
        if decision:
            return "0 % (left out)"
        return "not weighted (queue level)" if level == "queue" else "not weighted"
    return format_weight(w)
