"""The executive summary, generated from the run's results.

Scope (client, period, data), headline findings with numbers, the traffic-light
table per indicator, the recommended scorecard, the grade distribution with how
many grades are not settled, the robustness headline, what changed since the
previous review, and three to five recommended actions each linking to the
section that supports it.
"""

from __future__ import annotations

import pandas as pd

from kpilab.formatting import format_count, format_number, format_period, format_value, format_weight
from kpilab.report.collect import RunData
from kpilab.report.findings import (
    ScoreFacts,
    describe_input,
    health_facts,
    indicator_status,
    recommended_weights,
    robustness_facts,
    score_facts,
)
from kpilab.report.model import Bullets, Section, Subhead, make_table
from kpilab.report.result_sections import grade_table
from kpilab.report.review_sections import format_target, format_weight_or
from kpilab.report.text import ind, join, period_range, pillar_name, plural, safe_value, set_name
from kpilab.report.traffic import STATUS_TEXT

__all__ = ["summary_section", "scope_text", "recommended_actions", "traffic_table"]

_MAX_ACTIONS = 5
_ROWS = {"contacts": "contacts", "surveys": "survey answers", "qa_reviews": "QA reviews", "tickets": "tickets"}


def scope_text(data: RunData) -> str:
    """One sentence: who, which period, on what data."""
    periods = data.review_periods()
    start, end = data.review_window()
    kind = data.period_kind
    if start or end:
        when = period_range(start or (periods[0] if periods else None), end or (periods[-1] if periods else None),
                            kind)
    elif periods:
        when = period_range(periods[0], periods[-1], kind)
    else:
        when = "the whole period of the data"
    inv = data.table("data_inventory")
    data_text = ""
    if inv is not None and len(inv):
        parts = [f"{format_count(r)} {_ROWS.get(str(t), str(t).replace('_', ' '))}"
                 for t, r in zip(inv["table"], inv["rows"], strict=True) if str(t) not in ("exemptions", "agents")]
        data_text = f", on {join(parts)}" if parts else ""
    agents = ""
    sf = score_facts(data)
    if sf is not None:
        agents = f", {plural(sf.n, 'agent')}" + (f" in {plural(sf.teams, 'team')}" if sf.teams else "")
    src = safe_value("data_dir", data.param("data_dir")) if data.param("data_dir") else ""
    source = f" from the data folder {src}" if src else ""
    return f"KPI review for {data.client}, {when}{agents}{data_text}{source}."


def traffic_table(data: RunData, status: pd.DataFrame):  # noqa: ANN201 - returns a model.Table
    """The traffic-light table: indicator, pillar, target, actual, status, decision, recommended weight."""
    fw = data.framework
    order = {"red": 0, "amber": 1, "green": 2, "no_value": 3, "no_target": 4}
    st = status.assign(_o=status["status"].map(order)).sort_values(["_o", "pillar"], kind="stable")
    has_weights = st["weight"].notna().any()
    df = pd.DataFrame({
        "indicator": [ind(c, fw) for c in st["code"]],
        "pillar": [pillar_name(p, fw) for p in st["pillar"]],
        "target": [format_target(t, u, d, b) for t, u, d, b in zip(st["target"], st["unit"], st["direction"],
                                                                      st["band"], strict=False)],
        "actual": [format_value(v, u, missing="not measured") for v, u in zip(st["actual"], st["unit"], strict=False)],
        "status": [STATUS_TEXT[x] for x in st["status"]],
        "decision": [d if isinstance(d, str) else "not reviewed" for d in st["decision"]],
        "weight": [format_weight_or(w, d if isinstance(d, str) else "", lvl)
                   for w, d, lvl in zip(st["weight"], st["decision"], st["level"], strict=True)],
    })
    if not has_weights:
        df = df.drop(columns="weight")
    cls = [["", "", "", "", f"rag rag-{x}", f"dec-{d}" if isinstance(d, str) else "", ""][: df.shape[1]]
           for x, d in zip(st["status"], st["decision"], strict=False)]
    table = make_table(df, "Each indicator against its target over the review period (status: green on target, "
                           "amber within 5 % of it, red further off)",
                       formats={c: "text" for c in df.columns},
                       names={"actual": "Actual", "decision": "Health review", "weight": "Recommended weight"},
                       classes=cls, max_rows=None, small=True)
    table.numeric = {2, 3}  # target and actual: right-aligned, never wrapped inside a value
    return table


#: kpilab.health.matrix.MIN_UNITS, the units a correlation needs by default (a test keeps the two equal; not
#: imported, as the health package costs the report most of a second of imports)
MIN_UNITS = 10
#: a grade holding at least this share of the agents is explained (grades are fixed bands, not ranks)
CROWDED_GRADE_SHARE = 0.75


def crowded_grade_text(data: RunData, grades: pd.DataFrame, sf: ScoreFacts) -> str:
    """A sentence when one grade holds most agents (e.g. all eight in E): the bands are fixed points on the
    0-100 score, so a crowded grade measures the distance to the framework's targets, not the agents
    against each other. Empty otherwise."""
    total = int(grades["agents"].sum())
    if total < 5 or not len(grades):
        return ""
    top = grades.sort_values("agents", ascending=False).iloc[0]
    if top["agents"] / total < CROWDED_GRADE_SHARE:
        return ""
    bands = [f"{b.grade} from {format_number(b.min, 0)}" for b in data.framework.grades if b.min > 0]
    median = sf.latest["index"].median()  # score_facts keeps only scores with an index
    who = "All" if int(top["agents"]) == total else f"{format_count(int(top['agents']))} of {format_count(total)}"
    where = f" (median score {format_number(median, 3)} points)" if pd.notna(median) else ""
    return (f" {who} agents are in grade {top['grade']}{where}: the grades are fixed bands of the 0-100 score "
            f"({join(bands)}), so a grade that holds nearly everyone says how far the centre is from the "
            "framework's targets, not how its agents compare (section 6 lists them by score).")


def recommended_actions(data: RunData, status: pd.DataFrame) -> list[tuple[str, str]]:
    """Three to five actions, most consequential first, each with the anchor of the section behind it."""
    fw = data.framework
    acts: list[tuple[str, str]] = []
    hf = health_facts(data)
    if hf is not None:
        dec = hf.decisions
        is_prune = dec["decision"] == "prune"
        # pruned as a near-copy of a cluster's representative vs pruned for a weak outcome link:
        # the two need different advice, and a near-copy's own link may well be strong
        copy_of = (dec["redundant_with"] if "redundant_with" in dec.columns
                   else pd.Series(pd.NA, index=dec.index, dtype=object))
        is_copy = is_prune & copy_of.notna() & (copy_of.astype(str).str.strip() != "")
        # a weak link has a correlation; an indicator pruned without one has no usable values (the same for
        # every unit, too few units with a value): the advice quotes the review's own reason
        measured = dec["r"].notna() if "r" in dec.columns else pd.Series(True, index=dec.index)
        weak = dec.loc[is_prune & ~is_copy & measured, "indicator"].tolist()
        unusable = dec.loc[is_prune & ~is_copy & ~measured, ["indicator", "reason"]]
        copies = list(zip(dec.loc[is_copy, "indicator"], copy_of[is_copy], strict=True))
        if weak:
            acts.append((f"Remove {join(ind(c, fw) for c in weak[:4])}"
                         + (f" and {len(weak) - 4} more" if len(weak) > 4 else "")
                         + f" from the scorecard: {'its' if len(weak) == 1 else 'their'} link with "
                           f"{ind(hf.outcome, fw)} is clearly below {format_number(hf.threshold, 2)}.", "health"))
        if len(unusable) == 1:
            code, why = unusable.iloc[0]
            why = str(why).strip()
            acts.append((f"Remove {ind(code, fw)} from the scorecard: {why[:1].lower() + why[1:]}", "health"))
        elif len(unusable):
            codes = unusable["indicator"].tolist()
            acts.append((f"Remove {join(ind(c, fw) for c in codes[:4])}"
                         + (f" and {len(codes) - 4} more" if len(codes) > 4 else "")
                         + " from the scorecard: their values cannot score agents here (the same value for every "
                           "unit, or too few units with a value; the reason for each is in the health review).",
                         "health"))
        if copies:
            pairs = [f"{ind(c, fw)} (kept: {ind(str(r), fw)})" for c, r in copies[:4]]
            acts.append((f"Drop {join(pairs)}" + (f" and {len(copies) - 4} more" if len(copies) > 4 else "")
                         + ": each measures the same behaviour as the indicator kept in its group, so it would "
                           "be counted twice.", "health"))
        elif hf.clusters is not None and len(hf.clusters):
            sizes = hf.clusters.groupby("cluster")["indicator"].size()
            n = int((sizes > 1).sum())
            if n:
                acts.append((f"Keep one representative of each of the {plural(n, 'group')} of indicators that "
                             "measure the same behaviour, so it is not counted twice.", "health"))
        elif hf.pairs is not None and len(hf.pairs):
            acts.append((f"Merge the {plural(len(hf.pairs), 'pair')} of indicators that move together "
                         "(|r| above the redundancy threshold) so no behaviour is counted twice.", "health"))
    # off target and still on the scorecard: acting on an indicator the review prunes is wasted effort
    red = status[(status["status"] == "red") & (status["decision"].astype(str) != "prune")]
    if len(red):
        acts.append((f"Act on {join(ind(c, fw) for c in red['code'][:4])}"
                     + (f" and {len(red) - 4} more" if len(red) > 4 else "")
                     + ": clearly off target over the review period.", "summary-traffic"))
    rw = recommended_weights(data)
    if rw is not None:
        method = (data.recommendation or {}).get("weights_method") or (
            str(rw["method"].iloc[0]) if "method" in rw and len(rw) else "the recommended set")
        acts.append((f"Adopt the recommended weights ({set_name(method, fw)}) in the next quarter's "
                     "framework (recommended_framework.yaml).", "weights"))
    sf = score_facts(data)
    if sf is not None and sf.n and sf.unsettled / sf.n >= 0.2:
        acts.append((f"Do not base bonuses or improvement plans on grade alone for the {plural(sf.unsettled, 'agent')} "
                     "whose grade is not settled; look at their score range.", "scores"))
    if hf is not None and hf.counts["review"]:
        # the link is a correlation across units: too few units with a value (no r) needs more units, not more
        # periods; an r whose interval straddles the threshold (or points the wrong way) needs a judgement
        dec = hf.decisions
        review = dec["decision"] == "review"
        no_r = review & (dec["r"].isna() if "r" in dec.columns else False)
        units = pd.to_numeric(dec["n_units"], errors="coerce") if "n_units" in dec.columns else None
        # without the units column (an older run), a missing r is taken to be for want of agents
        few = no_r & (units < MIN_UNITS if units is not None else True)
        if few.any():
            most = units[few].max() if units is not None else None
            have = f" (this review had {format_number(most, 0)})" if most is not None and pd.notna(most) else ""
            acts.append((f"Decide with the client on the {plural(int(few.sum()), 'indicator')} whose link with the "
                         f"outcome could not be measured, or run the review over more agents{have}: the link is a "
                         f"correlation across agents and needs {MIN_UNITS} or more by default.", "health"))
        if (no_r & ~few).any():
            acts.append((f"Decide with the client on the {plural(int((no_r & ~few).sum()), 'indicator')} whose link "
                         "with the outcome could not be computed (the health review gives each reason).", "health"))
        if (review & ~no_r).any():
            acts.append((f"Decide with the client on the {plural(int((review & ~no_r).sum()), 'indicator')} left for "
                         "review: the data do not settle whether their link with the outcome reaches the threshold "
                         "(or it points the wrong way).", "health"))
    rf = robustness_facts(data)
    if rf is not None and rf.top_inputs is not None and len(rf.top_inputs):
        acts.append((f"Agree {describe_input(str(rf.top_inputs['input'].iloc[0]), fw)} with the client first: it "
                     "moves agents' ranks more than any other design choice.", "robustness"))
    if len(acts) < 3:
        acts.append(("Run the next quarter's review with this run as its previous run, so changes are tracked.",
                     "changes"))
    if len(acts) < 3:
        acts.append(("Complete the missing steps of the review (see Limitations).", "limitations"))
    return acts[:_MAX_ACTIONS]


def summary_section(data: RunData) -> Section:
    """The one-screen executive summary (see module docstring)."""
    s = Section("summary", "Executive summary")
    fw = data.framework
    s.para(scope_text(data))
    status = indicator_status(data)
    findings: list[tuple[str, str]] = []
    hf = health_facts(data)
    if hf is not None:
        keep = hf.decisions[hf.decisions["decision"] == "keep"]
        text = (f"Of {plural(len(hf.decisions), 'indicator')} checked against {ind(hf.outcome, fw)}, "
                f"{hf.counts['keep']} earn their place, {hf.counts['review']} need review and {hf.counts['prune']} "
                "should be pruned.")
        if len(keep) and "r" in keep:
            top = keep.loc[keep["r"].abs().idxmax()]
            text += (f" The strongest link is {ind(top['indicator'], fw)} (r = {format_number(top['r'], 2)}, "
                     f"95 % interval {format_number(top['ci_low'], 2)} to {format_number(top['ci_high'], 2)}, "
                     f"{plural(int(top['n']), 'agent')}).")
        findings.append((text, "health"))
    else:
        findings.append((data.absent("02", "decisions table"), "health"))
    with_target = status[status["status"].isin(["green", "amber", "red"])]
    if len(with_target):
        n_red, n_amber = int((with_target["status"] == "red").sum()), int((with_target["status"] == "amber").sum())
        findings.append((f"{int((with_target['status'] == 'green').sum())} of {len(with_target)} indicators with a "
                         f"target meet it, {n_amber} {'is' if n_amber == 1 else 'are'} near it and {n_red} "
                         f"{'is' if n_red == 1 else 'are'} clearly off.", "summary-traffic"))
    sf = score_facts(data)
    if sf is not None:
        per = format_period(sf.period, data.period_kind)
        findings.append((f"In {per} the median agent scores {format_number(sf.latest['index'].median(), 3)} "
                         f"points; {plural(sf.unsettled, 'grade')} of {sf.n:,d} are not settled.", "scores"))
    rf = robustness_facts(data)
    if rf is not None:
        text = (f"Ranks are robust for most agents: the median agent's rank range under other design choices is "
                f"{format_number(rf.median_width, 2)} places")
        text += (f", and {plural(rf.wide, 'agent')} have ranges wider than a fifth of the field." if rf.wide
                 else ", and no agent's range exceeds a fifth of the field.")
        if rf.wide > rf.n / 2:
            text = text.replace("Ranks are robust for most agents", "Ranks depend on design choices for many agents")
        findings.append((text, "robustness"))
    s.add(Bullets(findings))
    s.add(Subhead("Recommended actions", "summary-actions"))
    s.add(Bullets(recommended_actions(data, status), ordered=True))

    s.add(Subhead("Recommended scorecard", "summary-scorecard"))
    rw = recommended_weights(data)
    rec = data.recommendation or {}
    if rw is not None:
        top = rw.sort_values("weight", ascending=False)
        method = rec.get("weights_method") or (str(rw["method"].iloc[0]) if "method" in rw and len(rw) else "")
        shown = [f"{ind(c, fw)} {format_weight(w)}" for c, w in zip(top["indicator"], top["weight"], strict=True)]
        items = join(shown[:5] + ([f"{len(shown) - 5} more"] if len(shown) > 5 else []))
        s.para(f"{plural(len(rw), 'indicator')} weighted with {set_name(method, fw)}: {items} (all weights in "
               "section 5). The scorecard is written to recommended_framework.yaml for the next quarter.")
    else:
        s.notice("This review did not produce a recommended scorecard (no tables/recommended_weights.csv); the "
                 "scores below use the framework's own weights.")
    gt = grade_table(data)
    if gt is not None and sf is not None:
        s.add(Subhead("Grades"))
        parts = join(f"{g} {format_count(n)}" for g, n in zip(gt["grade"], gt["agents"], strict=False))
        s.para(f"Grades in {format_period(sf.period, data.period_kind)}: {parts} (A is the best); "
               f"{plural(sf.unsettled, 'grade')} of {sf.n:,d} are not settled." + crowded_grade_text(data, gt, sf))
    s.add(Subhead("Since the previous review"))
    summary = data.json("diff/summary.json")
    if isinstance(summary, dict):
        dec = data.csv("diff/decisions.csv")
        changed = 0 if dec is None else int((dec["decision_before"].astype(str)
                                              != dec["decision_after"].astype(str)).sum())
        facts = [f"{plural(changed, 'health decision')} changed"]
        params = data.csv("diff/parameters.csv")
        if params is not None and len(params):
            shown = params[~params["parameter"].isin(["client", "previous_run", "actions"])]
            for r in shown.head(3).itertuples():
                name = str(r.parameter).replace("_", " ")
                before = "" if pd.isna(r.before) else str(r.before)
                facts.append(f"{name} set to {r.after}" if before == "" else f"{name} went from {before} to {r.after}")
        acts = data.csv("diff/actions.csv")
        if acts is not None and len(acts):
            done = int((acts["status"] == "done").sum())
            facts.append(f"{done} of {plural(len(acts), 'agreed action')} carried out")
        mig = data.csv("diff/grade_migration.csv")
        if mig is not None and len(mig) and {"grade_before", "grade_after", "agents"} <= set(mig.columns):
            known = mig[mig["grade_before"].astype(str).isin(list("ABCDE"))
                        & mig["grade_after"].astype(str).isin(list("ABCDE"))]
            if len(known):
                up = int(known.loc[known["grade_after"] < known["grade_before"], "agents"].sum())
                down = int(known.loc[known["grade_after"] > known["grade_before"], "agents"].sum())
                facts.append(f"{plural(up, 'agent')} moved up a grade or more and {down} down")
        s.para(f"Since the previous review ({safe_value('previous_run', summary.get('previous_run_id', ''))}): "
               + "; ".join(facts) + ("" if summary.get("comparable", True) else "; the comparison is limited")
               + " (see section “Changes since the previous review”).")
    else:
        s.para("No previous review was given, so no changes are reported.")
    s.add(Subhead("Indicators against target", "summary-traffic"))
    if len(status):
        table = traffic_table(data, status)
        s.add(table)
    else:
        s.notice(data.absent("01", "indicator values"))
    return s
