"""Per-agent scorecards: one self-contained page per agent, numbers checked against hand computations."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpilab.errors import DataError
from kpilab.formatting import format_number
from kpilab.report.scorecards import agent_file_name, write_scorecards

PERIODS = ["2025-01-01", "2025-02-01", "2025-03-01"]
# (agent, team, index per period); agent "x/9" checks file-name sanitising, "A4" has no score in March
AGENTS = [("A1", "T1", [60.0, 62.0, 70.0]), ("A2", "T1", [40.0, 45.0, 50.0]), ("A3", "T1", [80.0, 81.0, 90.0]),
          ("x/9", "T2", [55.0, 56.0, 57.0]), ("A4", "T2", [30.0, 31.0, np.nan])]


def make_run(root: Path, *, with_card: bool = True) -> Path:
    d = root / "run"
    (d / "tables").mkdir(parents=True)
    rows, card = [], []
    for agent, team, idx in AGENTS:
        for p, v in zip(PERIODS, idx, strict=True):
            missing = np.isnan(v)
            rows.append({"unit_id": agent, "period": p, "role": "front_line", "team": team, "index": v,
                         "satisfaction": v + 1, "grade": None if missing else ("B" if v >= 60 else "D"),
                         "tier": "junior", "streak": 2, "tier_since": "2025-02-01",
                         "reason": "coverage below 0.67" if missing else None,
                         "score_low": v - 5, "score_high": v + 5, "p_grade": 0.8, "grade_settled": True})
            if not missing:
                # two indicators, weights 0.6/0.4: points lost w * (100 - s), summing to 100 - index
                s_csat, s_aht = v + 10, (v - 0.6 * (v + 10)) / 0.4
                card += [{"unit_id": agent, "period": p, "indicator": "csat", "pillar": "satisfaction",
                          "value": 4.2, "target": 4.5, "score": s_csat, "weight": 0.6,
                          "points_lost": 0.6 * (100 - s_csat), "flag": "small_n" if agent == "A1" else None},
                         {"unit_id": agent, "period": p, "indicator": "aht", "pillar": "satisfaction",
                          "value": 330.0, "target": None, "score": s_aht, "weight": 0.4,
                          "points_lost": 0.4 * (100 - s_aht), "flag": None}]
    pd.DataFrame(rows).to_csv(d / "tables" / "scores.csv", index=False)
    if with_card:
        pd.DataFrame(card).to_csv(d / "tables" / "scorecard.csv", index=False)
    pd.DataFrame([{"code": "csat", "name": "CSAT (mean score, 1-5)", "unit": "score 1-5"},
                  {"code": "aht", "name": "Average handle time", "unit": "seconds"}]).to_csv(
        d / "tables" / "framework_indicators.csv", index=False)
    return d


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_one_page_per_agent_and_an_index(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    written = write_scorecards(run, {"parameters": {"period": "month", "client": "Acme"}})
    names = {p.name for p in written}
    assert names == {agent_file_name(a) for a, _, _ in AGENTS} | {"index.html"}
    assert "x_9.html" in names
    index = (run / "scorecards" / "index.html").read_text()
    links = set(re.findall(r'href="([^"]+)"', index))
    assert links == names - {"index.html"}
    for p in written:
        html = p.read_text()
        low = html.lower()
        assert "<script" not in low and "http" not in low and "src=" not in low and "<link" not in low
        txt = _text(html)
        for bad in ("nan", "None", "NaT", "inf"):
            assert not re.search(rf"\b{bad}\b", txt), (p.name, bad)
        assert "Acme" in html


def test_numbers_match_hand_computation(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    write_scorecards(run, {"parameters": {"period": "month"}})
    page = (run / "scorecards" / "A1.html").read_text()
    txt = " ".join(_text(page).split())
    # latest (March) score 70 with interval 65 to 75; team T1 March median of 70, 50, 90 = 70
    assert "interval 65.0 to 75.0" in txt
    assert statistics.median([70.0, 50.0, 90.0]) == 70.0
    assert "at the team median" in txt
    # points lost: csat 0.6 * (100 - 80) = 12; aht: s = (70 - 48) / 0.4 = 55, 0.4 * 45 = 18; total 30 = 100 - 70
    assert "30.0 index points lost in Mar 2025" in txt
    assert txt.index("Average handle time") < txt.index("CSAT (mean score, 1-5)")  # largest loss first
    assert re.search(r"Average handle time 5\.5 min none set 55\.0 40\.0 % 18(\.0)?", txt), txt
    assert "few observations" in txt  # small_n flag in words
    # trend table: every period with its team median (Jan T1 median of 60, 40, 80 = 60)
    assert re.search(r"Jan 2025 60\.0 B 60\.0", txt)
    a2 = " ".join(_text((run / "scorecards" / "A2.html").read_text()).split())
    assert f"{format_number(20.0, 2)} points below the team median" in a2
    # pillar comparison: A3's satisfaction 91 vs T1 median of 71, 51, 91 = 71
    a3 = " ".join(_text((run / "scorecards" / "A3.html").read_text()).split())
    assert "Satisfaction 91.0 71.0 20 points above the team median" in a3


def test_agent_without_latest_score_says_why(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    write_scorecards(run, {"parameters": {}})
    txt = " ".join(_text((run / "scorecards" / "A4.html").read_text()).split())
    assert "none: coverage below 0.67" in txt
    assert "No indicator values for this agent in Mar 2025" in txt


def test_without_scorecard_table_and_without_scores(tmp_path: Path) -> None:
    run = make_run(tmp_path, with_card=False)
    write_scorecards(run)
    assert "Not available: the run has no tables/scorecard.csv" in (run / "scorecards" / "A1.html").read_text()
    (run / "tables" / "scores.csv").unlink()
    with pytest.raises(DataError, match="no tables/scores.csv"):
        write_scorecards(run)


def test_units_and_names_from_the_catalogue_without_a_framework_snapshot(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    (run / "tables" / "framework_indicators.csv").unlink()  # a single-notebook run has no snapshot
    write_scorecards(run)
    txt = " ".join(_text((run / "scorecards" / "A1.html").read_text()).split())
    assert re.search(r"Average handle time 5\.5 min", txt), txt
