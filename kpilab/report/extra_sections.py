"""Optional sections: generic ``sections/*.json``, changes since the previous review (``diff/``), limitations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from kpilab.formatting import format_share, format_value, format_weight, unit_of
from kpilab.report.collect import RunData
from kpilab.report.findings import health_facts, robustness_facts, score_facts
from kpilab.report.model import MAX_COLUMNS, Bullets, Section, make_figure, make_table, markdown
from kpilab.report.text import ind, join, names_in_text, plural, safe_value

__all__ = ["generic_sections", "changes_section", "limitations_section"]


def _inside(run_dir: Path, rel: str) -> Path | None:
    """``run_dir/rel`` when it stays inside the run folder and exists (a section file cannot pull in other files)."""
    if not rel or Path(rel).is_absolute():
        return None
    path = (run_dir / rel).resolve()
    return path if path.is_relative_to(run_dir.resolve()) and path.is_file() else None


def generic_sections(data: RunData) -> list[Section]:
    """One section per ``sections/<NN>_<name>.json`` (title, summary_md, figures, tables), in file-name order."""
    out: list[Section] = []
    folder = data.run_dir / "sections"
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        anchor = "extra-" + re.sub(r"[^a-z0-9-]+", "-", path.stem.lower()).strip("-")
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            spec = None
        if not isinstance(spec, dict):
            out.append(Section(anchor, path.stem.replace("_", " ").capitalize()).notice(
                f"The section file sections/{path.name} is not a JSON object with a title; it was left out."))
            continue
        s = Section(anchor, str(spec.get("title") or path.stem.replace("_", " ").capitalize()))
        if spec.get("summary_md"):
            s.add(markdown(str(spec["summary_md"])))
        for fig in spec.get("figures") or []:
            p = _inside(data.run_dir, str(fig.get("file", ""))) if isinstance(fig, dict) else None
            if p is not None and p.suffix.lower() == ".png":
                s.add(make_figure(p, str(fig.get("caption") or p.stem.replace("_", " "))))
            else:
                s.notice(f"A figure named in sections/{path.name} is not in the run folder.")
        for tab in spec.get("tables") or []:
            p = _inside(data.run_dir, str(tab.get("file", ""))) if isinstance(tab, dict) else None
            if p is None or p.suffix.lower() != ".csv":
                s.notice(f"A table named in sections/{path.name} is not in the run folder.")
                continue
            try:
                df = pd.read_csv(p)
            except (pd.errors.EmptyDataError, pd.errors.ParserError):
                s.notice(f"The table {p.name} named in sections/{path.name} could not be read.")
                continue
            caption = str(tab.get("caption") or p.stem.replace("_", " "))
            if df.shape[1] > MAX_COLUMNS:
                caption += f" (first {MAX_COLUMNS} of {df.shape[1]} columns)"
                df = df.iloc[:, :MAX_COLUMNS]
            formats = {k: v for k, v in (tab.get("formats") or {}).items() if k in df.columns}
            s.add(make_table(df, caption, formats=formats, csv=str(p.relative_to(data.run_dir.resolve())),
                             max_rows=20))
        out.append(s)
    return out


def changes_section(data: RunData) -> Section:
    """What changed since the previous review: decisions, parameters, weights, grades, tiers, framework, actions."""
    s = Section("changes", "Changes since the previous review")
    summary = data.json("diff/summary.json")
    if not isinstance(summary, dict):
        if data.param("previous_run"):
            return s.notice("A previous review was named, but this run holds no comparison (diff/summary.json).")
        return s.notice("No previous review was given (run parameter previous_run), so there is nothing to "
                        "compare with. The next quarter's review can name this run as its previous run.")
    fw = data.framework
    prev = safe_value("previous_run", summary.get("previous_run_id") or "the previous review")
    if summary.get("comparable", True):
        s.para(f"This review is compared with {prev}.")
    else:
        s.notice(f"This review can be compared with {prev} only in part.")
    limits = summary.get("limits") or []
    if limits:
        s.para("Limits of the comparison: " + "; ".join(str(x).rstrip(".") for x in limits) + ".")
    dec = data.csv("diff/decisions.csv")
    if dec is not None and {"indicator", "decision_before", "decision_after"} <= set(dec.columns):
        changed = dec[dec["decision_before"].astype(str) != dec["decision_after"].astype(str)]
        if len(changed):
            df = pd.DataFrame({"indicator": [ind(c, fw) for c in changed["indicator"]],
                               "before": changed["decision_before"].fillna("not reviewed"),
                               "after": changed["decision_after"].fillna("not reviewed"),
                               "r_before": changed.get("r_before"), "r_after": changed.get("r_after")})
            s.add(make_table(df, "Decisions that changed, with the correlation before and after",
                             formats={"indicator": "text", "before": "text", "after": "text", "r_before": "number",
                                      "r_after": "number"},
                             names={"r_before": "r before", "r_after": "r after"}, csv="diff/decisions.csv"))
        else:
            s.para("No keep/review/prune decision changed.")
    par = data.csv("diff/parameters.csv")
    if par is not None and len(par):
        df = pd.DataFrame({"parameter": par["parameter"].astype(str).str.replace("_", " "),
                           "before": [safe_value(str(k), v) for k, v in zip(par["parameter"], par["before"], strict=False)],
                           "after": [safe_value(str(k), v) for k, v in zip(par["parameter"], par["after"], strict=False)]})
        s.add(make_table(df, "Parameters that changed", formats={c: "text" for c in df.columns}))
    w = data.csv("diff/weights.csv")
    if w is not None and len(w):
        w = w.reindex(w["change"].abs().sort_values(ascending=False).index) if "change" in w else w
        df = pd.DataFrame({"indicator": [ind(c, fw) for c in w["indicator"]],
                           "before": [format_weight(v, missing="not weighted") for v in w["weight_before"]],
                           "after": [format_weight(v, missing="not weighted") for v in w["weight_after"]],
                           "change": [_signed_points(v) for v in w.get("change", pd.Series(index=w.index))]})
        s.add(make_table(df, "Weight shifts, largest first (change in percentage points)",
                         formats={c: "text" for c in df.columns}, names={"change": "Change (points)"},
                         max_rows=12, csv="diff/weights.csv"))
    gm = data.csv("diff/grade_migration.csv")
    if gm is not None and len(gm):
        pv = gm.pivot_table(index="grade_before", columns="grade_after", values="agents", aggfunc="sum",
                            fill_value=0).astype(int)
        pv = pv.iloc[:, : MAX_COLUMNS - 1].reset_index()
        s.add(make_table(pv, "Grade migration: agents by previous grade (rows) and current grade (columns); per "
                             "team in the CSV", formats={"grade_before": "text"} |
                         {c: "count" for c in pv.columns if c != "grade_before"},
                         names={"grade_before": "Previous grade"}, csv="diff/grade_migration.csv"))
    tiers = data.csv("diff/tiers.csv")
    if tiers is not None and len(tiers):
        pv = tiers.pivot_table(index="tier_before", columns="tier_after", values="agents", aggfunc="sum",
                               fill_value=0).astype(int)
        pv = pv.iloc[:, : MAX_COLUMNS - 1].reset_index()
        pv["tier_before"] = pv["tier_before"].astype(str).str.replace("_", " ")
        s.add(make_table(pv, "Tier changes: agents by previous tier (rows) and current tier (columns)",
                         formats={"tier_before": "text"} | {c: "count" for c in pv.columns if c != "tier_before"},
                         names={"tier_before": "Previous tier"} | {c: str(c).replace("_", " ") for c in pv.columns
                                                                   if c != "tier_before"}))

    fwd = data.csv("diff/framework.csv")
    if fwd is not None and len(fwd):
        df = pd.DataFrame({"indicator": [ind(c, fw) for c in fwd["indicator"]],
                           "change": fwd["change"].astype(str).str.replace("_", " "),
                           "field": fwd.get("field", pd.Series("", index=fwd.index)).fillna("whole indicator"),
                           "before": [_fw_value(c, f, v, fw) for c, f, v in zip(fwd["indicator"], fwd.get("field"),
                                                                                 fwd.get("before"), strict=True)],
                           "after": [_fw_value(c, f, v, fw) for c, f, v in zip(fwd["indicator"], fwd.get("field"),
                                                                                fwd.get("after"), strict=True)]})
        s.add(make_table(df, "Framework changes: indicators added or removed, targets changed",
                         formats={c: "text" for c in df.columns}, max_rows=20, csv="diff/framework.csv"))
    act = data.csv("diff/actions.csv")
    if act is not None and len(act):
        df = pd.DataFrame({"action": [names_in_text(a, fw) for a in act["action"]],
                           "status": act["status"].astype(str).str.replace("_", " "),
                           "evidence": [names_in_text(e, fw) or "no evidence recorded"
                                        for e in act.get("evidence", pd.Series("", index=act.index))]})
        done = int((df["status"].str.lower() == "done").sum())
        s.para(f"{done} of {len(df)} actions agreed at the previous review were carried out.")
        s.add(make_table(df, "Actions agreed at the previous review and whether they were carried out",
                         formats={c: "text" for c in df.columns}, widths=["35%", "12%", "53%"]))
    return s


def _signed_points(v: object) -> str:
    """A weight change in percentage points with its sign (``+2.2``, ``−11.7``)."""
    if pd.isna(v):
        return "not comparable"
    x = float(v) * 100
    return f"{'+' if x > 0 else '−' if x < 0 else ''}{abs(x):.1f}"


def _fw_value(code: object, field: object, value: object, fw: object) -> str:
    """A framework value that changed: a target in the indicator's unit, else the value as written."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return "none" if field == "target" else "absent"
    if field == "target":
        try:
            return format_value(float(value), unit_of(str(code), fw))
        except (TypeError, ValueError):
            pass
    return safe_value("", value)


def limitations_section(data: RunData) -> Section:
    """What the reader should keep in mind: small samples, unsettled decisions and grades, steps not run."""
    s = Section("limitations", "Limitations")
    items: list[str] = []
    ap = data.agent_panel(["flag"])
    if ap is not None and len(ap):
        small = ap["flag"].astype(str).str.contains("small_n", na=False).mean()
        if small > 0:
            items.append(f"{format_share(small)} of agent-period cells rest on fewer observations than the "
                         "framework's minimum; they are shown but not used to rank people.")
    hf = health_facts(data)
    if hf is not None and hf.counts["review"]:
        n_units = int(hf.decisions["n"].max()) if "n" in hf.decisions and len(hf.decisions) else 0
        items.append(f"{plural(hf.counts['review'], 'indicator')} could not be settled as keep or prune with "
                     f"{plural(n_units, 'agent')}; more periods or units would settle them.")
    items.append("Correlation with the outcome shows which indicators move with it, not that they cause it; a kept "
                 "indicator still needs a plausible mechanism before it drives pay or promotion.")
    sf = score_facts(data)
    if sf is not None and sf.unsettled:
        items.append(f"{plural(sf.unsettled, 'grade')} of {sf.n:,d} are not settled: the agent's own measurement "
                     "noise could move them to another grade.")
    rf = robustness_facts(data)
    if rf is not None and rf.wide:
        items.append(f"{plural(rf.wide, 'agent')} have rank ranges wider than a fifth of the field under other "
                     "design choices; fine-grained rankings of them are not meaningful.")
    missing = [f"{t} (notebook {n})" for n, t in (("00", "data overview"), ("01", "indicator panel"),
                                                 ("02", "health review"), ("03", "weights"), ("04", "scores"),
                                                 ("05", "robustness"), ("06", "operations")) if not data.ran(n)]
    if missing:
        items.append(f"Not run in this review: {join(missing)}.")
    fw = data.framework
    if fw is not None:
        no_target = [i for i in fw.indicators if not i.outcome and i.target is None and i.direction != "band"]
        if no_target:
            items.append(f"{plural(len(no_target), 'indicator')} have no target in the framework and are scored "
                         "against the other agents (best agent = 100 points), so their points say nothing about "
                         "an absolute standard.")
        items.append("Floors of the goalpost scoring are kpilab placeholders where the client gave none "
                     f"(framework {safe_value('', fw.name)}, version {fw.version}).")
    s.add(Bullets([(i, "") for i in items]))
    if sf is not None:
        s.para(f"Scores cover {plural(len(sf.periods), 'scored period')} of this review; grades and ranks are "
               "those of the latest.")
    return s
