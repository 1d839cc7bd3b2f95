"""The generated report on synthetic run folders: order, contents, links, text hygiene, missing steps, refusals."""

from __future__ import annotations

import json
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kpilab.errors import RunError  # noqa: E402
from kpilab.report import build_report  # noqa: E402
from kpilab.report.model import make_table  # noqa: E402

STEPS = ["00_data_overview", "01_indicator_panel", "02_indicator_health", "03_weights", "04_scoring",
         "05_robustness", "06_operations"]
MAIN_ORDER = ["summary", "data", "panel", "health", "weights", "scores", "robustness", "operations"]
TAIL_ORDER = ["changes", "limitations", "definitions", "parameters", "provenance", "glossary"]


# ----------------------------------------------------------------------------- parsing the HTML
class _Report(HTMLParser):
    """Visible text, ids, internal links, image sources and tables (caption + cell texts) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.imgs: list[str] = []
        self.h2: list[str] = []
        self.tables: list[dict] = []
        self.scripts = 0
        self._skip = 0
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self._row: list[str] | None = None
        self._section: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "section":
            self._section = a.get("id")
            self.h2.append(a.get("id"))
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag in ("style", "script"):
            self._skip += 1
            self.scripts += tag == "script"
        if tag == "table":
            self.tables.append({"caption": "", "rows": [], "section": self._section})
        if tag == "caption":
            self._caption = []
        if tag == "tr":
            self._row = []
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1
        if tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = " ".join(self._caption)
            self._caption = None
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.tables[-1]["rows"].append(self._row)
            self._row = None
        self.text.append(" ")

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        for buf in (self._cell, self._caption):
            if buf is not None:
                buf.append(data.strip())

    def visible(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text))

    def table(self, caption_part: str) -> dict:
        found = [t for t in self.tables if caption_part in t["caption"]]
        assert found, f"no table captioned {caption_part!r}; have {[t['caption'][:50] for t in self.tables]}"
        return found[0]

    def section_text(self, anchor: str) -> str:
        html = self._html
        m = re.search(rf'<section[^>]*id="{anchor}".*?</section>', html, re.S)
        assert m, anchor
        sub = _Report()
        sub.feed(m.group(0))
        return sub.visible()


def parse(path: Path) -> _Report:
    html = path.read_text(encoding="utf-8")
    rep = _Report()
    rep._html = html
    rep.feed(html)
    return rep


# ----------------------------------------------------------------------------- a synthetic run folder
def _png(path: Path) -> None:
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, 1])
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=50)
    plt.close(fig)


def _centre_rows() -> pd.DataFrame:
    """Centre cells chosen so that each traffic light is known by hand (window Jul-Aug 2025)."""
    rows = []

    def add(code, kind, cells, scale=1.0):
        for period, num, den in cells:
            value = scale * num / den if num is not None else den  # quantile: den carries the value
            rows.append(dict(unit_id="centre", unit_level="centre", period=period, indicator=code, value=value,
                             numerator=num if num is not None else np.nan,
                             denominator=den if num is not None else np.nan, n=100.0, kind=kind, scale=scale,
                             ci_low=np.nan, ci_high=np.nan, flag=None))

    # CSAT (higher, target 4.5): pooled (430 + 440) / 200 = 4.35 >= 4.275 -> amber; June (1.0) is outside
    add("csat", "mean", [("2025-06-01", 100.0, 100.0), ("2025-07-01", 430.0, 100.0), ("2025-08-01", 440.0, 100.0)])
    # AHT (lower, 300 s): pooled (33000 + 39000) / 200 = 360 > 315 -> red
    add("aht", "mean", [("2025-07-01", 33000.0, 100.0), ("2025-08-01", 39000.0, 100.0)])
    # FCR (higher, 80 %): (85 + 83) / 200 = 84 % -> green
    add("fcr", "proportion", [("2025-07-01", 85.0, 100.0), ("2025-08-01", 83.0, 100.0)])
    # contacts per day (band 15-30): 30.5 is 0.5 outside, within 0.05 * 15 = 0.75 -> amber
    add("contacts_per_day", "per_day", [("2025-07-01", 3050.0, 100.0), ("2025-08-01", 3050.0, 100.0)])
    # hold rate: no target in the framework
    add("hold_rate", "proportion", [("2025-07-01", 20.0, 100.0), ("2025-08-01", 22.0, 100.0)])
    # median time to resolution (lower, 24 h): not poolable; latest 90,000 s <= 90,720 s -> amber
    # (the mean of the two months, 70,000 s, would be green)
    add("time_to_resolution", "quantile", [("2025-07-01", None, 50000.0), ("2025-08-01", None, 90000.0)])
    return pd.DataFrame(rows)


EXPECTED_STATUS = {
    "CSAT (mean score, 1-5)": "near target",
    "Average handle time": "off target",
    "First contact resolution (repeat-contact method)": "on target",
    "Contacts handled per working day": "near target",
    "Hold rate": "no target set",
    "Time to resolution (tickets, median)": "near target",
}
CODES = ["csat", "aht", "fcr", "contacts_per_day", "hold_rate", "time_to_resolution"]


def make_run(root: Path, *, steps: list[str] = STEPS, outcome: str = "retention_rate", n_agents: int = 40,
             recommendation: bool = True, diff: bool = False, extra_section: bool = False,
             client: str | None = "Acme Retail") -> Path:
    """A run folder as the review pipeline writes it, with the tables each step produces."""
    run = root / "20251001-000000-test"
    (run / "tables").mkdir(parents=True)
    params = {"data_dir": "/home/someone/secret/data", "period_start": "2025-07-01", "period_end": "2025-08-31",
              "outcome": outcome, "threshold": 0.3}
    if client:
        params["client"] = client
    record = {"run_id": run.name, "target": "review", "parameters": params, "status": "succeeded",
              "kpilab_version": "0.1.0", "git_commit": "abc123", "started": "2025-10-01T00:00:00+00:00",
              "versions": {"python": "3.11.7", "pandas": "2.2"},
              "inputs": {"/home/someone/secret/data/contacts.parquet": "f" * 64},
              "steps": [{"step": s, "status": "succeeded", "seconds": 1.5, "params": {}} for s in steps]}
    (run / "run.json").write_text(json.dumps(record))
    t = run / "tables"
    ran = {s[:2] for s in steps}
    agents = [f"A{i:04d}" for i in range(n_agents)]
    rng = np.random.default_rng(0)
    if "00" in ran:
        pd.DataFrame({"table": ["contacts", "surveys", "agents"], "rows": [1000, 300, n_agents],
                      "columns": [15, 6, 5], "first": ["2025-07-01 08:00:00", "2025-07-02 09:00:00", None],
                      "last": ["2025-08-31 18:00:00", "2025-09-01 10:00:00", None]}).to_csv(t / "data_inventory.csv",
                                                                                          index=False)
    if "01" in ran:
        pd.DataFrame({"table": ["contacts", "contacts", "surveys"], "indicator": [None, "aht", None],
                      "kind": ["excluded", "indicator_excluded", "used"],
                      "reason": ["negative talk_s", "missing talk_s", None], "rows": [10, 5, 300],
                      "rows_read": [1000, 1000, 300], "rows_used": [990, 990, 300],
                      "rows_excluded": [10, 10, 0]}).to_csv(t / "panel_accounting.csv", index=False)
        centre = _centre_rows()
        agent_rows = pd.DataFrame([dict(unit_id=a, unit_level="agent", period=p, indicator=c, value=1.0,
                                        numerator=1.0, denominator=1.0, n=float(rng.integers(5, 80)), kind="mean",
                                        scale=1.0, ci_low=np.nan, ci_high=np.nan,
                                        flag="small_n" if k % 3 == 0 else None)
                                   for k, a in enumerate(agents) for p in ("2025-07-01", "2025-08-01")
                                   for c in CODES])
        pd.concat([agent_rows, centre]).to_parquet(run / "panel_all_levels.parquet")
        agent_rows.to_parquet(run / "panel.parquet")
        _png(run / "figures" / "csat_trend.png")
    if "02" in ran:
        pd.DataFrame({
            "indicator": CODES, "r": [0.6, -0.5, 0.7, 0.1, 0.02, np.nan],
            "ci_low": [0.4, -0.7, 0.5, -0.2, -0.1, np.nan], "ci_high": [0.8, -0.3, 0.85, 0.4, 0.15, np.nan],
            "n": [40] * 6, "decision": ["keep", "review", "keep", "review", "prune", "review"],
            "reason": ["Clear link.", "Unclear.", "Clear link.", "Unclear.", "Clearly weaker.", None],
            "pillar": ["satisfaction", "cost_control", "satisfaction", "cost_control", "cost_control", "timeliness"],
        }).to_csv(t / "decisions.csv", index=False)
        pd.DataFrame({"cluster": [1, 1, 2], "indicator": ["csat", "fcr", "aht"],
                      "representative": [True, False, True], "max_abs_r": [0.93, 0.93, np.nan],
                      "reason": ["stronger link with the outcome", "moves with csat", ""]}).to_csv(
            t / "redundancy_clusters.csv", index=False)
    if "03" in ran:
        pd.DataFrame({"indicator": ["csat", "aht", "fcr"], "pillar": ["satisfaction", "cost_control", "satisfaction"],
                      "equal": [1 / 3] * 3, "critic": [0.5, 0.2, 0.3], "pca": [0.4, 0.4, 0.2]}).to_csv(
            t / "weights.csv", index=False)
        pd.DataFrame({"set_a": ["equal"], "set_b": ["critic"], "spearman": [0.95], "n": [n_agents]}).to_csv(
            t / "rank_agreement.csv", index=False)
        if recommendation:
            pd.DataFrame({"indicator": ["csat", "fcr"], "pillar": ["satisfaction", "satisfaction"],
                          "weight": [0.6, 0.4], "method": ["critic", "critic"]}).to_csv(
                t / "recommended_weights.csv", index=False)
            (t / "recommendation.json").write_text(json.dumps({
                "outcome": outcome, "threshold": 0.3, "period_start": "2025-07-01", "period_end": "2025-08-31",
                "kept": ["csat", "fcr"], "pruned": ["hold_rate"], "review": ["aht"], "weights_method": "critic",
                "weights_reason": "CRITIC rewards contrast and penalises redundancy.",
                "agreement": {"equal": 0.97, "pca": 0.91}, "scores_weights": "recommended"}))
    if "04" in ran:
        rows = []
        for k, a in enumerate(agents):
            for p in ("2025-07-01", "2025-08-01"):
                score = 40 + 50 * k / n_agents
                grade = "ABCDE"[min(4, int((95 - score) // 10))]
                top = k == n_agents - 1  # the best agent has no team and no interval: the report says why
                rows.append(dict(unit_id=a, period=p, role="front_line", team=None if top else f"T{k % 3}",
                                 index=score, grade=grade, tier="junior" if k % 2 else None,
                                 score_low=np.nan if top else score - 3, score_high=np.nan if top else score + 3,
                                 p_grade=0.6 if k % 4 == 0 else 0.95, grade_settled=k % 4 != 0))
        pd.DataFrame(rows).to_csv(t / "scores.csv", index=False)
        sc = pd.DataFrame(rows)
        g = sc.groupby(["period", "team", "grade"]).size().rename("agents").reset_index()
        g.to_csv(t / "grades_by_team.csv", index=False)
        _png(run / "figures" / "score_distribution.png")
    if "05" in ran:
        pd.DataFrame({"unit_id": agents, "period": "2025-08-01", "n_units": n_agents,
                      "rank_width": [2.0 if k % 5 else 15.0 for k in range(n_agents)]}).to_csv(
            t / "rank_intervals.csv", index=False)
        pd.DataFrame({"unit_id": agents, "p_A": 0.0, "p_B": 0.1, "p_C": [0.9 if k % 2 else 0.5 for k in
                                                                            range(n_agents)],
                      "p_D": [0.0 if k % 2 else 0.4 for k in range(n_agents)], "p_E": 0.0}).to_csv(
            t / "grade_probabilities.csv", index=False)
        pd.DataFrame({"output": "mean_abs_shift", "input": ["normalisation", "weight:aht", "noise"],
                      "group": ["normalisation", "weights", "noise"], "S1": [0.5, 0.01, 0.001],
                      "ST": [0.8, 0.02, 0.002]}).to_csv(t / "sensitivity.csv", index=False)
    if "06" in ran:
        pd.DataFrame({"unit_id": "centre", "unit_level": "centre", "period": "2025-07-01",
                      "indicator": ["abandon_rate", "abandon_rate", "service_level"],
                      "status": ["confirmed", "possible", "exempted"]}).to_csv(t / "alerts.csv", index=False)
    if diff:
        d = run / "diff"
        d.mkdir()
        (d / "summary.json").write_text(json.dumps({"previous_run_id": "20250701-000000-q2", "comparable": True,
                                                    "limits": []}))
        pd.DataFrame({"indicator": ["aht", "csat"], "decision_before": ["keep", "keep"],
                      "decision_after": ["review", "keep"], "r_before": [-0.45, 0.61],
                      "r_after": [-0.5, 0.6]}).to_csv(d / "decisions.csv", index=False)
        pd.DataFrame({"parameter": ["threshold", "period_start"], "before": [0.3, None],
                      "after": [0.5, "2025-07-01"]}).to_csv(d / "parameters.csv", index=False)  # empty: NaN on read
        pd.DataFrame({"team": ["T1", "T1"], "grade_before": ["C", "D"], "grade_after": ["B", "D"],
                      "agents": [2, 3]}).to_csv(d / "grade_migration.csv", index=False)
        pd.DataFrame({"action": ["drop hold_rate"], "status": ["done"],
                      "evidence": ["hold_rate is not in the framework"]}).to_csv(d / "actions.csv", index=False)
    if extra_section:
        s = run / "sections"
        s.mkdir()
        _png(run / "figures" / "customer_value.png")
        pd.DataFrame({"segment": ["loyal", "at risk"], "customers": [120, 30], "share": [0.8, 0.2]}).to_csv(
            t / "customer_value.csv", index=False)
        (s / "07_customer_value.json").write_text(json.dumps({
            "title": "Customer value", "summary_md": "Loyal customers are **80 %**. <script>alert(1)</script>",
            "figures": [{"file": "figures/customer_value.png", "caption": "Customers per segment."},
                        {"file": "/etc/passwd", "caption": "outside"}],
            "tables": [{"file": "tables/customer_value.csv", "caption": "Segments",
                        "formats": {"customers": "count", "share": "share"}}]}))
    return run


def build(run: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no browser on some machines: the PDF notice is tested on its own
        return build_report(run, pdf=False)


# ----------------------------------------------------------------------------- tests
FORBIDDEN = re.compile(r"\b(nan|NaN|NaT|None|True|False|Traceback|Warning|<NA>)\b|/home/|/tmp/|/work/|"
                       r"object at 0x|\{'|dtype")


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> _Report:
    run = make_run(tmp_path_factory.mktemp("full"), diff=True, extra_section=True)
    return parse(build(run))


def test_sections_in_fixed_order_with_working_contents(full):
    assert full.h2 == MAIN_ORDER + ["extra-07-customer-value"] + TAIL_ORDER
    internal = [h[1:] for h in full.hrefs if h.startswith("#")]
    assert internal and set(internal) <= set(full.ids)  # every contents and "see section" link resolves
    assert [h for h in full.hrefs if not h.startswith("#")] == []  # no link leaves the file
    toc = re.findall(r'<nav class="toc".*?</nav>', full._html, re.S)[0]
    assert re.findall(r'href="#([^"]+)"', toc) == full.h2


def test_text_has_no_raw_values_paths_or_code(full):
    text = full.visible()
    bad = sorted({m.group(0) for m in FORBIDDEN.finditer(text)})
    assert bad == [], bad
    assert "secret" not in text and "someone" not in text  # data folder shows its name only ("data")
    assert "contacts.parquet" in text and "f" * 64 in text  # inputs by name with their SHA-256


def test_self_contained(full):
    assert full.scripts == 0
    assert full.imgs and all(src.startswith("data:image/png;base64,") for src in full.imgs)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", full._html)
    assert "@import" not in full._html and "url(" not in full._html


def test_figures_and_tables_numbered_in_order(full):
    figs = [int(x) for x in re.findall(r'id="figure-(\d+)"', full._html)]
    tabs = [int(x) for x in re.findall(r'id="table-(\d+)"', full._html)]
    assert figs == list(range(1, len(figs) + 1)) and len(figs) >= 3
    assert tabs == list(range(1, len(tabs) + 1)) and len(tabs) >= 10
    assert all(t["caption"].startswith(f"Table {k + 1}.") for k, t in enumerate(full.tables))


def test_title_page_scope_and_client(full):
    head = full.visible()[:400]
    assert "Prepared for Acme Retail" in head and "Jul 2025 to Aug 2025" in head
    summary = full.section_text("summary")
    assert "KPI review for Acme Retail, Jul 2025 to Aug 2025, 40 agents in 3 teams" in summary
    assert "1,000 contacts" in summary


def test_traffic_lights_match_the_hand_worked_statuses(full):
    table = full.table("against its target")
    header, rows = table["rows"][0], table["rows"][1:]
    assert header == ["Indicator", "Pillar", "Target", "Actual", "Status", "Health review", "Recommended weight"]
    got = {r[0]: r[4] for r in rows}
    assert got == EXPECTED_STATUS
    by_name = {r[0]: r for r in rows}
    assert by_name["CSAT (mean score, 1-5)"][3] == "4.35"  # pooled over Jul-Aug, June left out
    assert by_name["Average handle time"][2:4] == ["≤ 5.0 min", "6.0 min"]
    assert by_name["First contact resolution (repeat-contact method)"][3] == "84 %"
    assert by_name["Contacts handled per working day"][2] == "15.0 to 30.0"
    assert by_name["Time to resolution (tickets, median)"][3] == "25 h"  # latest month, not the mean
    # decisions and recommended weights beside the status; left-out indicators say so
    assert by_name["CSAT (mean score, 1-5)"][5:] == ["keep", "60.0 %"]
    assert by_name["Hold rate"][5:] == ["prune", "0 % (pruned)"]
    assert by_name["Average handle time"][5:] == ["review", "0 % (left out)"]
    # worst first: red, then amber, then green, then no target
    order = [r[4] for r in rows]
    assert order == sorted(order, key=["off target", "near target", "on target", "no target set"].index)


def test_summary_findings_scorecard_grades_and_actions(full):
    s = full.section_text("summary")
    assert "2 earn their place, 3 need review and 1 should be pruned" in s
    assert "2 indicators weighted with CRITIC weights: CSAT (mean score, 1-5) 60.0 % and First contact" in s
    assert "10 grades of 40 are not settled" in s
    assert ("Since the previous review (20250701-000000-q2): 1 health decision changed; threshold went from 0.3 "
            "to 0.5; period start set to 2025-07-01; 1 of 1 agreed action carried out; 2 agents moved up a grade "
            "or more and 0 down") in s
    actions = re.findall(r'<ol>(.*?)</ol>', re.search(r'id="summary".*?</section>', full._html, re.S).group(0),
                         re.S)[-1]
    items = re.findall(r"<li>(.*?)</li>", actions, re.S)
    assert 3 <= len(items) <= 5
    assert all('href="#' in i for i in items)
    assert "Remove Hold rate from the scorecard: its link with Customer retention after contact" in items[0]


def test_long_tables_are_cut_with_a_note(full):
    t = full.table("Agents by score")
    assert len(t["rows"]) == 1 + 15
    assert "Showing 15 of 40 rows; the full table is tables/scores.csv." in full.visible()
    # missing values say why
    assert "no interval (too few observations)" in full.section_text("scores")
    assert "no team" in full.section_text("scores")


def test_health_clusters_changes_and_generic_section(full):
    h = full.section_text("health")
    assert "representative" in h and "merge or drop" in h and "not computable" in h
    c = full.section_text("changes")
    assert "Decisions that changed" in c and "-0.45" in c and "-0.50" in c
    assert "1 of 1 actions agreed at the previous review were carried out" in c
    g = full.section_text("extra-07-customer-value")
    assert "Loyal customers are 80 %" in g and "<script>" in g  # the tag is shown as text, never run
    assert "80 %" in full.table("Segments")["rows"][1] and "120" in full.table("Segments")["rows"][1]
    assert "not in the run folder" in g  # the figure outside the run folder was refused


def test_text_follows_the_outcome_parameter(tmp_path):
    rep = parse(build(make_run(tmp_path, outcome="csat")))
    main = " ".join(rep.section_text(a) for a in MAIN_ORDER)
    assert "CSAT (mean score, 1-5)" in rep.section_text("health")
    assert "retention" not in main.lower()


def test_missing_steps_say_not_run(tmp_path):
    run = make_run(tmp_path, steps=STEPS[:2], recommendation=False, client=None)
    rep = parse(build(run))
    assert rep.h2 == MAIN_ORDER + TAIL_ORDER
    for anchor, number in [("health", "02"), ("weights", "03"), ("scores", "04"), ("robustness", "05"),
                           ("operations", "06")]:
        assert "Not run in this review: the" in rep.section_text(anchor)
        assert f"(notebook {number})" in rep.section_text(anchor)
    assert "Prepared for the client" in rep.visible()
    assert "No previous review was given" in rep.section_text("changes")
    t = rep.table("against its target")
    assert t["rows"][0][-1] == "Health review"  # no recommendation: no weight column
    assert {r[5] for r in t["rows"][1:]} == {"not reviewed"}
    assert not FORBIDDEN.search(rep.visible())


def test_step_ran_but_table_missing_is_explained(tmp_path):
    run = make_run(tmp_path)
    (run / "tables" / "decisions.csv").unlink()
    rep = parse(build(run))
    assert "ran but skipped this part: it wrote no decisions table" in rep.section_text("health")


def test_failed_runs_get_no_report(tmp_path):
    run = make_run(tmp_path)
    rec = json.loads((run / "run.json").read_text())
    rec["steps"][3]["status"] = "failed"
    with pytest.raises(RunError, match=r"failed \(03_weights\).*no.*reports of failed runs|failed runs"):
        build_report(run, rec, pdf=False)
    assert not (run / "report.html").exists()
    rec["steps"][3]["status"] = "succeeded"
    (run / "03_weights.ipynb").write_text(json.dumps({"metadata": {"papermill": {"exception": True}}, "cells": []}))
    with pytest.raises(RunError, match="03_weights.ipynb of this run failed"):
        build_report(run, rec, pdf=False)


def test_not_a_run_folder(tmp_path):
    with pytest.raises(RunError, match="does not exist"):
        build_report(tmp_path / "nope", pdf=False)
    with pytest.raises(RunError, match="holds no run.json"):
        build_report(tmp_path, pdf=False)


def test_no_browser_gives_a_notice_not_an_error(tmp_path, monkeypatch):
    import kpilab.report.pdf as pdf

    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    run = make_run(tmp_path, steps=STEPS[:1])
    with pytest.warns(UserWarning, match="No headless Chromium"):
        path = build_report(run)
    assert path.is_file() and not (run / "report.pdf").exists()


def test_words_for_codes_and_values():
    from kpilab.framework import default_framework
    from kpilab.report.review_sections import first_sentence
    from kpilab.report.text import names_in_text, safe_value, set_name

    fw = default_framework()
    assert safe_value("data_dir", "/home/someone/clients/acme") == "acme"
    assert safe_value("previous_run", "C:\\runs\\20250701-q2") == "20250701-q2"
    assert safe_value("threshold", 0.3) == "0.3" and safe_value("shrinkage", True) == "yes"
    assert safe_value("framework_path", "") == "not set (default)"
    text = "It largely duplicates csat (r = 1.00); keep resolved_within_24h, not csat_top2 or aht-like codes."
    assert names_in_text(text, fw) == ("It largely duplicates CSAT (mean score, 1-5) (r = 1.00); keep Tickets "
                                       "resolved within 24 h, not CSAT (% satisfied, top-2 box) or aht-like codes.")
    assert names_in_text("link with retention rate", fw) == "link with Customer retention after contact"
    assert first_sentence("Unclear: r = 0.50 (interval 0.26 to 0.67); spans 0.3. Look again.") == (
        "Unclear: r = 0.50 (interval 0.26 to 0.67); spans 0.3.")
    assert set_name("blend_front_line_critic", fw) == "blend of front line role template and CRITIC weights"


def test_wide_tables_are_refused_and_cut_tables_say_where_the_rest_is():
    df = pd.DataFrame({f"c{i}": [1] for i in range(9)})
    with pytest.raises(ValueError, match="at most 8 fit"):
        make_table(df, "too wide")
    t = make_table(pd.DataFrame({"x": range(30)}), "long", max_rows=10, csv="diff/x.csv")
    assert len(t.rows) == 10 and t.note == "Showing 10 of 30 rows; the full table is diff/x.csv."


def test_parameter_values_read_back_from_csv_never_print_nan():
    from kpilab.report.text import safe_value

    assert safe_value("period_start", float("nan")) == "not set (default)"
    assert safe_value("period_start", pd.NA) == "not set (default)"
    assert safe_value("threshold", 0.3) == "0.3"
    assert safe_value("methods", ["equal", "critic"]) == "equal and critic"


def test_an_indicator_pruned_without_a_correlation_is_not_said_to_have_a_weak_link(tmp_path):
    """Pruned because every unit has the same value (no correlation computed): the action quotes that
    reason, not 'its link with the outcome is clearly below the threshold' (seen on the PwC call log)."""
    run = make_run(tmp_path)
    path = run / "tables" / "decisions.csv"
    dec = pd.read_csv(path)
    row = dec.index[dec["decision"] == "prune"][0]
    dec.loc[row, ["r", "ci_low", "ci_high"]] = np.nan
    dec.loc[row, "reason"] = "Every unit has the same value (1), so it cannot tell good from weak performance."
    dec.to_csv(path, index=False)
    rep = parse(build(run))
    summary = re.search(r'id="summary".*?</section>', rep._html, re.S).group(0)
    items = re.findall(r"<li>(.*?)</li>", re.findall(r"<ol>(.*?)</ol>", summary, re.S)[-1], re.S)
    assert dec.loc[row, "indicator"] == "hold_rate"
    assert any("Remove Hold rate from the scorecard: every unit has the same value (1), so it cannot tell good "
               "from weak performance." in i for i in items), items
    assert not any("clearly below" in i for i in items)
    assert not any("more periods" in i for i in items)

    # left for review without a correlation (too few agents): more agents, not more periods (a run of the
    # first three steps, where fewer actions compete for the five places)
    short = make_run(tmp_path / "short", steps=["00", "01", "02"])
    summary = re.search(r'id="summary".*?</section>', parse(build(short))._html, re.S).group(0)
    items = re.findall(r"<li>(.*?)</li>", re.findall(r"<ol>(.*?)</ol>", summary, re.S)[-1], re.S)
    assert any("Decide with the client on the 1 indicator whose link with the outcome could not be measured, or "
               "run the review over more agents" in i for i in items), items
    assert any("Decide with the client on the 2 indicators left for review: the data do not settle" in i
               for i in items), items
    # enough agents, yet no r (the outcome does not vary among them): no advice to add agents
    path = short / "tables" / "decisions.csv"
    dec = pd.read_csv(path).assign(n_units=40)
    dec.to_csv(path, index=False)
    summary = re.search(r'id="summary".*?</section>', parse(build(short))._html, re.S).group(0)
    items = re.findall(r"<li>(.*?)</li>", re.findall(r"<ol>(.*?)</ol>", summary, re.S)[-1], re.S)
    assert any("Decide with the client on the 1 indicator whose link with the outcome could not be computed" in i
               for i in items), items
    assert not any("more agents" in i for i in items)


def test_a_grade_holding_nearly_every_agent_is_explained(tmp_path, full):
    """Every agent in E (the PwC log: 8 of 8): the summary says the grades are fixed bands of the score,
    so the crowd measures the distance to the targets; a spread of grades gets no such sentence."""
    run = make_run(tmp_path)
    path = run / "tables" / "scores.csv"
    sc = pd.read_csv(path)
    sc["grade"], sc["index"] = "E", 50.0
    sc.to_csv(path, index=False)
    text = parse(build(run)).section_text("summary")
    assert ("All agents are in grade E (median score 50.0 points): the grades are fixed bands of the 0-100 score "
            "(A from 90, B from 80, C from 70 and D from 60)") in text, text
    assert "fixed bands" not in full.section_text("summary")


def test_uncomputed_rank_agreement_and_negative_sobol_estimates_read_plainly(tmp_path, full):
    """Rank agreement not computed (8 agents, as on the PwC log): no 'rank agents alike ... from – to –';
    a Sobol' estimate below zero (sampling noise) shows as 0.00 with a note, all to two decimals."""
    run = make_run(tmp_path)
    t = run / "tables"
    pd.DataFrame({"set_a": ["equal"], "set_b": ["critic"], "spearman": [np.nan], "n": [8],
                  "flag": ["too_few_units"]}).to_csv(t / "rank_agreement.csv", index=False)
    sens = pd.read_csv(t / "sensitivity.csv")
    sens.loc[sens.index[-1], "S1"] = -0.0052
    sens.to_csv(t / "sensitivity.csv", index=False)
    rep = parse(build(run))
    weights = rep.section_text("weights")
    assert ("How alike the weight sets rank agents could not be computed: a rank correlation needs more agents "
            "with a score under each set (this review had 8 agents).") in weights
    assert "rank agents alike" not in weights
    rob = rep.section_text("robustness")
    assert "estimates below zero are sampling noise, shown as 0.00" in rob and "-0.0052" not in rob
    assert "0.80" in rob  # two decimals throughout
    assert "rank agents alike: Spearman rank correlations between pairs of sets range from 0.95 to 0.95" in \
        full.section_text("weights")
    assert "sampling noise" not in full.section_text("robustness")


def test_the_report_knows_the_health_reviews_minimum_of_units():
    from kpilab.health.matrix import MIN_UNITS
    from kpilab.report import summary

    assert summary.MIN_UNITS == MIN_UNITS
