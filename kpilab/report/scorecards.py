"""Per-agent scorecards: one self-contained HTML page per agent, plus an index.

The self-service view the articles describe: each agent sees their score and
grade with its interval, their tier and streak, where they lost points, their
trend, and how they compare with their team's median. Pages are written from the
run folder's ``tables/scores.csv`` and ``tables/scorecard.csv`` (every agent and
period), with figures drawn as inline SVG (no images, scripts, fonts or styles
fetched from anywhere) and every number formatted by :mod:`kpilab.formatting`.

Points lost per indicator are notebook 04's ``points_lost``: the indicator's
weight times its shortfall from a perfect normalised score, in index points,
``w_i (100 - s_i)`` for the arithmetic index ``I = sum_i w_i s_i`` (OECD/JRC
*Handbook on Constructing Composite Indicators*, 2008, section 6), so the points
lost add up to ``100 - I`` when every indicator has data.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import DataError
from kpilab.formatting import (
    MISSING,
    format_count,
    format_number,
    format_period,
    format_share,
    format_value,
    format_weight,
    indicator_name,
    is_missing,
    unit_of,
)

__all__ = ["write_scorecards", "agent_file_name"]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:52rem;color:#222;
line-height:1.4;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:1.8rem;border-bottom:1px solid #ddd}
.sub{color:#666}.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;
padding:.6rem 1rem;min-width:10rem}.big{font-size:1.8rem;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{padding:.25rem .5rem;border-bottom:1px solid #eee;
text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td.n{white-space:nowrap}
.note{color:#666;font-size:.85rem}svg{max-width:100%;height:auto}a{color:#1f5fa8}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}}
"""


def agent_file_name(agent: Any) -> str:
    """The scorecard file name of an agent id: letters, digits, ``-`` and ``_`` kept, others ``_``."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", str(agent)) or "agent"
    return f"{safe}.html"


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    num = set(numeric)
    head = "".join(f"<th class=\"n\">{_e(h)}</th>" if k in num else f"<th>{_e(h)}</th>"
                   for k, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td class=\"n\">{_e(c)}</td>" if k in num else f"<td>{_e(c)}</td>"
                                    for k, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _trend_svg(labels: Sequence[str], score: np.ndarray, low: np.ndarray, high: np.ndarray,
               median: np.ndarray) -> str:
    """Score over the periods with its interval band and the team median (0-100 axis)."""
    w, h, left, right, top, bottom = 640, 220, 40, 36, 10, 40  # right margin: room for the last label
    n = len(labels)
    if n == 0:
        return ""

    def x(i: int) -> float:
        return left + (w - left - right) * (0.5 if n == 1 else i / (n - 1))

    def y(v: float) -> float:
        return top + (h - top - bottom) * (1 - v / 100)

    parts = [f"<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" "
             f"role=\"img\" aria-label=\"Score by period with interval and team median\">"]
    for v in (0, 25, 50, 75, 100):
        parts.append(f"<line x1=\"{left}\" x2=\"{w - right}\" y1=\"{y(v):.1f}\" y2=\"{y(v):.1f}\" stroke=\"#eee\"/>"
                     f"<text x=\"{left - 6}\" y=\"{y(v) + 4:.1f}\" font-size=\"11\" text-anchor=\"end\" "
                     f"fill=\"#666\">{v}</text>")
    step = max(1, math.ceil(n / 8))  # at most ~8 period labels so they never overlap
    for i in range(0, n, step):
        parts.append(f"<text x=\"{x(i):.1f}\" y=\"{h - bottom + 16}\" font-size=\"11\" text-anchor=\"middle\" "
                     f"fill=\"#666\">{_e(labels[i])}</text>")
    ok = np.isfinite(low) & np.isfinite(high)
    if ok.sum() >= 2:
        idx = np.flatnonzero(ok)
        pts = [f"{x(i):.1f},{y(high[i]):.1f}" for i in idx] + [f"{x(i):.1f},{y(low[i]):.1f}" for i in idx[::-1]]
        parts.append(f"<polygon points=\"{' '.join(pts)}\" fill=\"#1f5fa8\" fill-opacity=\"0.15\"/>")

    def line(values: np.ndarray, colour: str, dash: str = "") -> None:
        pts = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values) if np.isfinite(v)]
        if len(pts) >= 2:
            parts.append(f"<polyline points=\"{' '.join(pts)}\" fill=\"none\" stroke=\"{colour}\" "
                         f"stroke-width=\"2\"{dash}/>")
        for p in pts:
            cx, cy = p.split(",")
            parts.append(f"<circle cx=\"{cx}\" cy=\"{cy}\" r=\"3\" fill=\"{colour}\"/>")

    line(median, "#999", " stroke-dasharray=\"5 4\"")
    line(score, "#1f5fa8")
    lx = left + 8
    parts.append(f"<line x1=\"{lx}\" x2=\"{lx + 20}\" y1=\"{h - 8}\" y2=\"{h - 8}\" stroke=\"#1f5fa8\" "
                 f"stroke-width=\"2\"/><text x=\"{lx + 24}\" y=\"{h - 4}\" font-size=\"11\">score (band: "
                 f"interval)</text><line x1=\"{lx + 160}\" x2=\"{lx + 180}\" y1=\"{h - 8}\" y2=\"{h - 8}\" "
                 f"stroke=\"#999\" stroke-width=\"2\" stroke-dasharray=\"5 4\"/><text x=\"{lx + 184}\" "
                 f"y=\"{h - 4}\" font-size=\"11\">team median</text>")
    parts.append("</svg>")
    return "".join(parts)


def _bars_svg(names: Sequence[str], values: Sequence[float]) -> str:
    """Horizontal bars of points lost per indicator (largest first)."""
    if not len(values):
        return ""
    bar, gap, label_w, w = 16, 6, 230, 640
    h = len(values) * (bar + gap) + 10
    vmax = max(max(values), 1e-9)
    parts = [f"<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" "
             f"role=\"img\" aria-label=\"Points lost per indicator\">"]
    for k, (nm, v) in enumerate(zip(names, values, strict=True)):
        y = 5 + k * (bar + gap)
        length = (w - label_w - 60) * max(v, 0) / vmax
        short = nm if len(nm) <= 34 else nm[:33] + "…"
        parts.append(f"<text x=\"{label_w - 6}\" y=\"{y + 12}\" font-size=\"11\" text-anchor=\"end\">{_e(short)}"
                     f"</text><rect x=\"{label_w}\" y=\"{y}\" width=\"{length:.1f}\" height=\"{bar}\" "
                     f"fill=\"#c0504d\"/><text x=\"{label_w + length + 4:.1f}\" y=\"{y + 12}\" font-size=\"11\">"
                     f"{_e(format_number(v, 2))}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _units(run_dir: Path) -> tuple[dict[str, str], dict[str, float]]:
    fi = run_dir / "tables" / "framework_indicators.csv"
    if not fi.is_file():
        return {}, {}
    df = pd.read_csv(fi)
    units = dict(zip(df["code"].astype(str), df.get("unit", pd.Series(dtype=str)).fillna(""), strict=False))
    names = dict(zip(df["code"].astype(str), df.get("name", pd.Series(dtype=str)).fillna(""), strict=False))
    return units, names


def write_scorecards(run_dir: str | Path, record: dict[str, Any] | None = None) -> list[Path]:
    """Write ``scorecards/<agent>.html`` for every agent of the run and ``scorecards/index.html``.

    Parameters
    ----------
    run_dir : path
        A run folder with ``tables/scores.csv`` (notebook 04); ``tables/scorecard.csv``
        adds the points lost per indicator.
    record : dict, optional
        The run record (``run.json``): its ``period`` parameter sets how periods are shown,
        its ``client`` parameter titles the pages.

    Returns
    -------
    list of Path
        The pages written, index last.

    Raises
    ------
    DataError
        The run has no ``tables/scores.csv`` or it lacks the columns a scorecard needs.
    """
    run_dir = Path(run_dir)
    params = (record or {}).get("parameters") or {}
    period_kind = params.get("period") or "month"
    client = params.get("client") or ""
    path = run_dir / "tables" / "scores.csv"
    if not path.is_file():
        raise DataError(f"Run {run_dir.name} has no tables/scores.csv (notebook 04); scorecards need scores.")
    scores = pd.read_csv(path, dtype={"unit_id": str, "team": str, "role": str})
    need = {"unit_id", "period", "index", "grade"}
    if not need <= set(scores.columns):
        raise DataError(f"tables/scores.csv of run {run_dir.name} lacks column(s) "
                        f"{', '.join(sorted(need - set(scores.columns)))}; rerun notebook 04.")
    sc_path = run_dir / "tables" / "scorecard.csv"
    card = pd.read_csv(sc_path, dtype={"unit_id": str}) if sc_path.is_file() else None
    units, fw_names = _units(run_dir)
    scores["period"] = scores["period"].astype(str)
    periods = sorted(scores["period"].unique())
    labels = {p: format_period(p, period_kind) for p in periods}
    latest = periods[-1]
    if "team" not in scores.columns:
        scores["team"] = "(all)"
    scores["team"] = scores["team"].fillna("(no team)").astype(str)
    pillar_codes = set(card["pillar"].dropna().astype(str).unique()) if card is not None and "pillar" in card else set()
    pillars = [c for c in scores.columns if c in pillar_codes]
    # plain Python records: per-row pandas access would make 500 agents take tens of seconds
    medians = scores.groupby(["team", "period"])[["index", *pillars]].median()
    team_median = {k: dict(zip(medians.columns, v, strict=True))
                   for k, v in zip(medians.index, medians.to_numpy(dtype=float).tolist(), strict=True)}
    by_agent: dict[str, list[dict[str, Any]]] = {}
    for rec in scores.sort_values(["unit_id", "period"]).astype(object).to_dict("records"):
        by_agent.setdefault(str(rec["unit_id"]), []).append(rec)
    card_latest: dict[str, list[dict[str, Any]]] = {}
    if card is not None:
        card["period"] = card["period"].astype(str)
        for rec in card[card["period"] == latest].astype(object).to_dict("records"):
            card_latest.setdefault(str(rec["unit_id"]), []).append(rec)

    out = run_dir / "scorecards"
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    index_rows = []
    used: set[str] = set()
    title_suffix = f" · {client}" if client else ""
    for agent, recs in by_agent.items():
        fname = agent_file_name(agent)
        k = 2
        while fname in used:  # two ids that sanitise alike keep distinct files
            fname = agent_file_name(f"{agent}-{k}")
            k += 1
        used.add(fname)
        last = recs[-1]
        page = _agent_page(agent, recs, latest, labels, period_kind, team_median, pillars,
                           card_latest.get(agent), units, fw_names, card is not None, title_suffix)
        p = out / fname
        p.write_text(page, encoding="utf-8")
        written.append(p)
        index_rows.append((agent, fname, str(last.get("team", "")), _txt(last.get("role")).replace(MISSING, ""),
                           last["index"], last["grade"], last.get("tier"), last["period"]))
    idx = _index_page(index_rows, labels, latest, title_suffix)
    (out / "index.html").write_text(idx, encoding="utf-8")
    written.append(out / "index.html")
    return written


def _txt(x: Any) -> str:
    return MISSING if is_missing(x) else str(x)


def _name(code: str, fw_names: dict[str, str]) -> str:
    """The indicator's name: the run's framework first, else the catalogue (looked up once per code)."""
    if not fw_names.get(code):
        fw_names[code] = indicator_name(code)
    return fw_names[code]


def _unit(code: str, units: dict[str, str]) -> str:
    """The indicator's unit: the run's framework first, else the catalogue (looked up once per code)."""
    if code not in units or is_missing(units[code]) or not units[code]:
        units[code] = unit_of(code)
    return units[code]


def _f(x: Any) -> float:
    return np.nan if is_missing(x) else float(x)


def _agent_page(agent: str, recs: list[dict[str, Any]], latest: str, labels: dict[str, str], period_kind: str,
                team_median: dict[tuple[str, str], dict[str, float]], pillars: list[str],
                card: list[dict[str, Any]] | None, units: dict[str, str], fw_names: dict[str, str],
                has_card: bool, title_suffix: str) -> str:
    last = recs[-1]
    team = str(last.get("team", ""))
    role = last.get("role")
    when = labels[str(last["period"])]
    role_text = "" if is_missing(role) else " · " + _e(str(role).replace("_", " "))
    body = ["<p class=\"sub\"><a href=\"index.html\">All agents</a></p>",
            f"<h1>Scorecard: {_e(agent)}</h1>",
            f"<p class=\"sub\">Team {_e(team)}{role_text} · {_e(when)}</p>"]
    if str(last["period"]) != latest:
        body.append(f"<p class=\"note\">No score in the latest period ({_e(labels[latest])}); the card shows "
                    f"{_e(when)}, the agent's last scored period.</p>")
    score = last["index"]
    lo, hi = last.get("score_low"), last.get("score_high")
    interval = (f"interval {format_number(lo, 3)} to {format_number(hi, 3)}" if not is_missing(lo)
                and not is_missing(hi) else "no interval (draws off)")
    grade = _txt(last.get("grade"))
    p_grade = last.get("p_grade")
    settled = last.get("grade_settled")
    grade_note = ""
    if not is_missing(p_grade):
        grade_note = f"probability {format_share(p_grade)}" + (
            "" if is_missing(settled) else ("; settled" if bool(settled) else "; not settled"))
    tmed = team_median.get((team, str(last["period"])), {})
    med = tmed.get("index", np.nan)
    tier = _txt(last.get("tier")).replace("_", " ")
    streak = last.get("streak")
    since = last.get("tier_since")
    tier_note = ""
    if not is_missing(streak):
        tier_note = f"{format_count(streak)} period{'s' if int(streak) != 1 else ''} in a row"
        if not is_missing(since):
            tier_note += f", since {format_period(since, period_kind)}"
    reason = last.get("reason")
    score_text = format_number(score, 3) if not is_missing(score) else (f"none: {reason}" if not is_missing(reason)
                                                                         else "none")
    body.append("<div class=\"cards\">"
                f"<div class=\"card\"><div>Score (0-100)</div><div class=\"big\">{_e(score_text)}</div>"
                f"<div class=\"note\">{_e(interval)}</div></div>"
                f"<div class=\"card\"><div>Grade</div><div class=\"big\">{_e(grade)}</div>"
                f"<div class=\"note\">{_e(grade_note)}</div></div>"
                f"<div class=\"card\"><div>Tier</div><div class=\"big\">{_e(tier)}</div>"
                f"<div class=\"note\">{_e(tier_note)}</div></div>"
                f"<div class=\"card\"><div>Team median</div><div class=\"big\">{_e(format_number(med, 3))}</div>"
                f"<div class=\"note\">{_e(_versus(score, med))}</div></div></div>")

    body.append("<h2>Where points were lost</h2>")
    if not has_card:
        body.append("<p class=\"note\">Not available: the run has no tables/scorecard.csv.</p>")
    elif not card:
        body.append(f"<p class=\"note\">No indicator values for this agent in {_e(labels[latest])}.</p>")
    else:
        c = sorted(card, key=lambda r: -_f(r.get("points_lost")) if not is_missing(r.get("points_lost"))
                   else math.inf)
        names = [_name(str(r["indicator"]), fw_names) for r in c]
        lost = np.array([_f(r.get("points_lost")) for r in c])
        total = np.nansum(lost)
        body.append(f"<p>{_e(format_number(total, 3))} index points lost in {_e(when)}; each indicator's weight "
                    "times its shortfall from a perfect score.</p>")
        ok = np.isfinite(lost)
        body.append(_bars_svg([n for n, k in zip(names, ok, strict=True) if k], list(lost[ok])))
        rows = []
        for nm, r in zip(names, c, strict=True):
            unit = _unit(str(r["indicator"]), units)
            flag = r.get("flag")
            note = "" if is_missing(flag) else str(flag).replace("small_n", "few observations").replace(";", ", ")
            rows.append([nm, format_value(r.get("value"), unit, missing="no data"),
                         format_value(r.get("target"), unit, missing="none set"),
                         format_number(r.get("score"), 3), format_weight(r.get("weight")),
                         format_number(r.get("points_lost"), 2), note])
        body.append(_table(["Indicator", "Value", "Target", "Score", "Weight", "Points lost", "Note"], rows,
                           numeric=(1, 2, 3, 4, 5)))

    body.append("<h2>Trend</h2>")
    per = [str(r["period"]) for r in recs]
    meds = np.array([team_median.get((team, p), {}).get("index", np.nan) for p in per], dtype=float)
    body.append(_trend_svg([labels[p] for p in per], np.array([_f(r["index"]) for r in recs]),
                           np.array([_f(r.get("score_low")) for r in recs]),
                           np.array([_f(r.get("score_high")) for r in recs]), meds))
    rows = [[labels[p], format_number(r["index"], 3), _txt(r.get("grade")), format_number(m, 3)]
            for p, r, m in zip(per, recs, meds, strict=True)]
    body.append(_table(["Period", "Score", "Grade", "Team median"], rows, numeric=(1, 3)))

    if pillars:
        body.append("<h2>Compared with the team median</h2>")
        rows = []
        for pl in pillars:
            mine, tm = last.get(pl), tmed.get(pl, np.nan)
            rows.append([pl.replace("_", " ").capitalize(), format_number(mine, 3), format_number(tm, 3),
                         _versus(mine, tm)])
        body.append(_table(["Pillar", "Agent", "Team median", "Difference"], rows, numeric=(1, 2)))
    body.append("<p class=\"note\">Scores run from 0 to 100. The interval reflects sampling uncertainty in the "
                "agent's indicator values; a grade that is not settled could change with more data.</p>")
    return _page(f"Scorecard {agent}{title_suffix}", "\n".join(body))


def _versus(mine: Any, median: Any) -> str:
    if is_missing(mine) or is_missing(median):
        return ""
    d = float(mine) - float(median)
    if abs(d) < 0.05:
        return "at the team median"
    return f"{format_number(abs(d), 2)} points {'above' if d > 0 else 'below'} the team median"


def _index_page(rows: list[tuple], labels: dict[str, str], latest: str, title_suffix: str) -> str:
    rows = sorted(rows, key=lambda r: (r[2], r[0]))
    body = [f"<h1>Agent scorecards{_e(title_suffix)}</h1>",
            f"<p class=\"sub\">{len(rows):,d} agents · latest period {_e(labels[latest])}</p>"]
    num = ' class="n"'
    head = "".join(f"<th{num if h == 'Score' else ''}>{h}</th>"
                   for h in ("Agent", "Team", "Role", "Score", "Grade", "Tier", "Period"))
    trs = []
    for agent, fname, team, role, score, grade, tier, period in rows:
        trs.append(f"<tr><td><a href=\"{_e(fname)}\">{_e(agent)}</a></td><td>{_e(team)}</td>"
                   f"<td>{_e(role.replace('_', ' '))}</td><td class=\"n\">{_e(format_number(score, 3))}</td>"
                   f"<td>{_e(_txt(grade))}</td><td>{_e(_txt(tier).replace('_', ' '))}</td>"
                   f"<td>{_e(labels.get(str(period), str(period)))}</td></tr>")
    body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(trs)}</tbody></table>")
    return _page(f"Agent scorecards{title_suffix}", "\n".join(body))
