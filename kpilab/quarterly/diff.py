"""What changed between two reviews: decisions, parameters, weights, grades, tiers, framework, actions.

:func:`compare_runs` reads two run folders and returns a :class:`RunComparison`
whose tidy tables are also written to ``<run>/diff/`` (the report's "changes
since the previous review" section reads them):

========================  =====================================================
``summary.json``          previous_run_id, run_id, comparable, limits
``decisions.csv``         indicator, decision_before, decision_after, r_before, r_after (changed only)
``parameters.csv``        parameter, before, after (changed only)
``weights.csv``           indicator, weight_before, weight_after, change
``grade_migration.csv``   team, grade_before, grade_after, agents (latest period of each run)
``tiers.csv``             tier_before, tier_after, agents
``framework.csv``         indicator, change (added/removed/changed), field, before, after
``actions.csv``           action, status, evidence (when an actions file is given)
========================  =====================================================

Agents present in one run only appear as grade ``(new)`` or ``(left)``.
Runs that cannot be compared in full (another framework or version, other
period lengths, ids pseudonymised under another key, tables missing) give
``comparable = false`` with every limit stated; nothing is left out silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import RunError
from kpilab.formatting import format_number, format_weight
from kpilab.quarterly.actions import check_actions, known_indicators, load_actions
from kpilab.quarterly.runs import RunFolder, open_run

__all__ = ["RunComparison", "compare_runs", "DIFF_TABLES"]

NEW, LEFT = "(new)", "(left)"
#: A parameter of a notebook the other run did not execute.
NOT_USED = "(not used)"
#: Columns of every diff table, in order (the contract the report reads).
DIFF_TABLES: dict[str, list[str]] = {
    "decisions": ["indicator", "decision_before", "decision_after", "r_before", "r_after"],
    "parameters": ["parameter", "before", "after"],
    "weights": ["indicator", "weight_before", "weight_after", "change"],
    "grade_migration": ["team", "grade_before", "grade_after", "agents"],
    "tiers": ["tier_before", "tier_after", "agents"],
    "framework": ["indicator", "change", "field", "before", "after"],
    "actions": ["action", "status", "evidence"],
}
_FRAMEWORK_FIELDS = ("name", "pillar", "direction", "unit", "target", "outcome", "level")


@dataclass
class RunComparison:
    """The comparison of a review with the previous one (see the module docstring).

    Attributes
    ----------
    previous_run_id, run_id : str
    comparable : bool
        False when any limit applies (``limits`` says which and what it affects).
    limits : list of str
    decisions, parameters, weights, grade_migration, tiers, framework, actions : DataFrame
        Tidy tables with the columns of :data:`DIFF_TABLES`.
    weights_source : str
        Which table the weights were compared from.
    """

    previous_run_id: str
    run_id: str
    comparable: bool
    limits: list[str]
    decisions: pd.DataFrame
    parameters: pd.DataFrame
    weights: pd.DataFrame
    grade_migration: pd.DataFrame
    tiers: pd.DataFrame
    framework: pd.DataFrame
    actions: pd.DataFrame
    weights_source: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    def migration_matrix(self, team: str | None = None) -> pd.DataFrame:
        """Previous grade (rows) x current grade (columns) agent counts, for one team or all teams."""
        g = self.grade_migration
        if team is not None:
            g = g[g["team"].astype(str) == str(team)]
        if g.empty:
            return pd.DataFrame()
        return g.pivot_table(index="grade_before", columns="grade_after", values="agents", aggfunc="sum",
                             fill_value=0)

    def to_dict(self) -> dict[str, Any]:
        """What ``diff/summary.json`` holds."""
        return {"previous_run_id": self.previous_run_id, "run_id": self.run_id, "comparable": self.comparable,
                "limits": list(self.limits), "weights_source": self.weights_source, "counts": dict(self.counts)}

    def summary(self) -> str:
        """A plain-text account of the changes, as ``kpilab review diff`` prints it."""
        lines = [f"Changes from {self.previous_run_id} to {self.run_id}"]
        if not self.comparable:
            lines.append("Limited comparison:")
            lines += [f"  - {x}" for x in self.limits]
        lines.append("")
        lines.append(f"Decisions changed: {len(self.decisions)}")
        for r in self.decisions.itertuples(index=False):
            lines.append(f"  {r.indicator:<26} {_txt(r.decision_before, 'absent'):>8} -> "
                         f"{_txt(r.decision_after, 'absent'):<8} "
                         f"r {format_number(r.r_before, 2)} -> {format_number(r.r_after, 2)}")
        lines.append(f"Parameters changed: {len(self.parameters)}")
        for r in self.parameters.itertuples(index=False):
            lines.append(f"  {r.parameter:<26} {_txt(r.before)} -> {_txt(r.after)}")
        moved = self.weights[self.weights["change"].abs().fillna(1) >= 0.005] if not self.weights.empty else \
            self.weights
        lines.append(f"Weight shifts of 0.5 points or more: {len(moved)}"
                     + (f" (from {self.weights_source})" if self.weights_source else ""))
        for r in moved.itertuples(index=False):
            lines.append(f"  {r.indicator:<26} {format_weight(r.weight_before)} -> {format_weight(r.weight_after)}")
        if not self.grade_migration.empty:
            m = self.migration_matrix()
            same = int(sum(m.loc[g, g] for g in m.index if g in m.columns))
            total = int(m.to_numpy().sum())
            lines.append(f"Grades (latest period of each run): {same} of {total} agents kept their grade")
            lines += ["  " + ln for ln in m.to_string().splitlines()]
        else:
            lines.append("Grades: not compared (see the limits)")
        if not self.tiers.empty:
            moved_t = self.tiers[self.tiers["tier_before"] != self.tiers["tier_after"]]["agents"].sum()
            lines.append(f"Tier changes: {int(moved_t)} agents changed tier")
        lines.append(f"Framework changes: {len(self.framework)}")
        for r in self.framework.itertuples(index=False):
            detail = f" {r.field}: {_txt(r.before)} -> {_txt(r.after)}" if r.change == "changed" else ""
            lines.append(f"  {r.indicator:<26} {r.change}{detail}")
        if not self.actions.empty:
            done = int((self.actions["status"] == "done").sum())
            lines.append(f"Agreed actions carried out: {done} of {len(self.actions)}")
            for r in self.actions.itertuples(index=False):
                lines.append(f"  [{r.status}] {r.action}: {r.evidence}")
        return "\n".join(lines)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``summary.json`` and the tables into ``out_dir`` (created); returns the files written."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "summary.json"]
        paths[0].write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        for name, cols in DIFF_TABLES.items():
            df = getattr(self, name)
            if name == "actions" and df.empty:
                continue
            p = out / f"{name}.csv"
            df[cols].to_csv(p, index=False)
            paths.append(p)
        return paths


def _txt(x: Any, missing: str = "none") -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return missing
    return str(x)


def compare_runs(previous_run: str | Path, run_dir: str | Path, *, record: dict[str, Any] | None = None,
                 actions: str | Path | None = None, out_dir: str | Path | None = None,
                 write: bool = True, show_owner: bool = True) -> RunComparison:
    """Compare a review with the previous one and write ``diff/``.

    Parameters
    ----------
    previous_run : path
        The earlier run folder.
    run_dir : path
        The new run folder.
    record : dict, optional
        The new run's record when its ``run.json`` is not written yet (the runner passes it).
    actions : path, optional
        Actions file agreed at the previous review (default: the new run's ``actions`` parameter).
    out_dir : path, optional
        Where the tables go (default ``<run_dir>/diff``).
    write : bool
        Write the tables (False: only return the comparison).
    show_owner : bool
        Name each action's owner (False in pseudonymised runs: owners are staff too).

    Returns
    -------
    RunComparison

    Raises
    ------
    RunError
        ``previous_run`` is not a run folder, did not succeed, or is the same run.
    ParameterError
        The actions file is invalid or names unknown indicators.
    """
    prev = open_run(previous_run, role="previous run")
    cur = open_run(run_dir, record=record, role="run")
    if prev.path == cur.path:
        raise RunError(f"The previous run {previous_run} is the run itself; pass the earlier review's folder.")
    limits: list[str] = []

    fi_prev, fi_cur = prev.framework_info, cur.framework_info
    if fi_prev["name"] and fi_cur["name"] and (fi_prev["name"], fi_prev["version"]) != (fi_cur["name"],
                                                                                        fi_cur["version"]):
        limits.append(f"the runs used different frameworks ({fi_prev['name']} version {fi_prev['version']} vs "
                      f"{fi_cur['name']} version {fi_cur['version']}): decisions and weights are compared on the "
                      "indicators both have; grades only mean the same if the grade bands did not change")
    for p, (a, b) in {"period": (prev.parameters.get("period"), cur.parameters.get("period"))}.items():
        if a is not None and b is not None and a != b:
            limits.append(f"the runs use different {p}s ({a} vs {b}): grades and tiers describe periods of "
                          "different length")
    ps_prev, ps_cur = prev.pseudonymisation, cur.pseudonymisation
    joinable = True
    if (ps_prev is None) != (ps_cur is None):
        joinable = False
        which = prev.run_id if ps_prev is not None else cur.run_id
        limits.append(f"only run {which} is pseudonymised, so agents cannot be matched: the grade migration and "
                      "tier changes are not computed")
    elif ps_prev is not None and ps_prev.get("key_fingerprint") != ps_cur.get("key_fingerprint"):
        joinable = False
        limits.append("the runs were pseudonymised with different keys, so agents cannot be matched: the grade "
                      "migration and tier changes are not computed")

    decisions = _decisions(prev, cur, limits)
    parameters = _parameters(prev, cur)
    weights, source = _weights(prev, cur, limits)
    migration, tiers, counts = (_migration(prev, cur, limits) if joinable
                                else (_empty("grade_migration"), _empty("tiers"), {}))
    framework = _framework(prev, cur, limits)
    limits += [n for n in prev.notes + cur.notes if n not in limits]

    actions_path = actions if actions is not None else (cur.record.get("parameters") or {}).get("actions")
    if actions_path:
        from kpilab.outputs import PROJ_ROOT

        ap = Path(actions_path)
        ap = ap if ap.is_absolute() or ap.exists() else PROJ_ROOT / ap
        acts = load_actions(ap, known=known_indicators(prev.framework_table, cur.framework_table))
        actions_df = check_actions(acts, cur, prev, show_owner=show_owner)
    else:
        actions_df = _empty("actions")

    counts.update({"decisions_changed": len(decisions), "parameters_changed": len(parameters),
                   "framework_changes": len(framework)})
    if not actions_df.empty:
        counts["actions_done"] = int((actions_df["status"] == "done").sum())
        counts["actions"] = len(actions_df)
    comp = RunComparison(prev.run_id, cur.run_id, not limits, limits, decisions, parameters, weights, migration,
                         tiers, framework, actions_df, source, counts)
    if write:
        comp.write(out_dir if out_dir is not None else cur.path / "diff")
    return comp


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=DIFF_TABLES[name])


def _missing(run: RunFolder, table: str, what: str, limits: list[str]) -> None:
    limits.append(f"run {run.run_id} has no tables/{table}.csv, so {what} are not compared")


def _decisions(prev: RunFolder, cur: RunFolder, limits: list[str]) -> pd.DataFrame:
    a, b = prev.table("decisions"), cur.table("decisions")
    for run, t in ((prev, a), (cur, b)):
        if t is None:
            _missing(run, "decisions", "health decisions", limits)
    if a is None or b is None:
        return _empty("decisions")
    m = a[["indicator", "decision", "r"]].merge(b[["indicator", "decision", "r"]], on="indicator", how="outer",
                                                suffixes=("_before", "_after"))
    changed = m["decision_before"].fillna("") != m["decision_after"].fillna("")
    return m.loc[changed, DIFF_TABLES["decisions"]].sort_values("indicator").reset_index(drop=True)


def _parameters(prev: RunFolder, cur: RunFolder) -> pd.DataFrame:
    a, b = prev.parameters, cur.parameters
    # a parameter one run's notebooks do not declare was not used there: only a value set explicitly counts
    given = set(prev.record.get("parameters") or {}) | set(cur.record.get("parameters") or {})
    rows = []
    for k in sorted((set(a) & set(b)) | (given & (set(a) | set(b)))):
        va, vb = a.get(k, NOT_USED), b.get(k, NOT_USED)
        if k.endswith(("_dir", "_path", "_file")):  # folder and file names only: no machine paths in reports
            va, vb = (Path(str(v)).name if v and v != NOT_USED else v for v in (va, vb))
        if _norm(va) != _norm(vb):
            rows.append({"parameter": k, "before": va, "after": vb})
    return pd.DataFrame(rows, columns=DIFF_TABLES["parameters"])


def _norm(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float):
        return float(v)
    return str(v)


def _weight_series(run: RunFolder) -> tuple[pd.Series | None, str]:
    rec = run.table("recommended_weights")
    if rec is not None and {"indicator", "weight"} <= set(rec.columns):
        return rec.groupby("indicator")["weight"].sum(), "recommended_weights.csv"
    sw = run.table("score_weights")
    if sw is not None and {"indicator", "weight"} <= set(sw.columns):
        if "role" in sw.columns and sw["role"].nunique() > 1:
            return sw.groupby("indicator")["weight"].mean(), "score_weights.csv (mean over roles)"
        return sw.groupby("indicator")["weight"].sum(), "score_weights.csv"
    return None, ""


def _weights(prev: RunFolder, cur: RunFolder, limits: list[str]) -> tuple[pd.DataFrame, str]:
    (a, sa), (b, sb) = _weight_series(prev), _weight_series(cur)
    for run, s in ((prev, a), (cur, b)):
        if s is None:
            limits.append(f"run {run.run_id} has neither tables/recommended_weights.csv nor tables/score_weights.csv,"
                          " so weights are not compared")
    if a is None or b is None:
        return _empty("weights"), ""
    if sa != sb:
        limits.append(f"weights compare {sa} (run {prev.run_id}) with {sb} (run {cur.run_id})")
    df = pd.DataFrame({"weight_before": a, "weight_after": b})
    df.index.name = "indicator"
    df = df.reset_index()
    # an indicator absent from one side weighs nothing there: the shift is its whole weight
    df["change"] = df["weight_after"].fillna(0) - df["weight_before"].fillna(0)
    return df[DIFF_TABLES["weights"]].sort_values("indicator").reset_index(drop=True), \
        sa if sa == sb else f"{sa} -> {sb}"


def _migration(prev: RunFolder, cur: RunFolder,
               limits: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    a, b = prev.latest_scores(), cur.latest_scores()
    for run, t in ((prev, a), (cur, b)):
        if t is None:
            _missing(run, "scores", "grades and tiers", limits)
    if a is None or b is None:
        return _empty("grade_migration"), _empty("tiers"), {}
    cols = ["unit_id", "team", "grade", "tier"]
    a = a[[c for c in cols if c in a.columns]].copy()
    b = b[[c for c in cols if c in b.columns]].copy()
    a["unit_id"], b["unit_id"] = a["unit_id"].astype(str), b["unit_id"].astype(str)
    m = a.merge(b, on="unit_id", how="outer", suffixes=("_before", "_after"), indicator=True)
    team = m.get("team_after", pd.Series(index=m.index, dtype=object)).fillna(
        m.get("team_before", pd.Series(index=m.index, dtype=object))).fillna("(no team)")
    m["team"] = team.astype(str)
    for side, absent in (("before", NEW), ("after", LEFT)):
        present = m["_merge"].isin(["both", "left_only" if side == "before" else "right_only"])
        for what in ("grade", "tier"):
            col = f"{what}_{side}"
            if col not in m.columns:
                m[col] = np.nan
            m[col] = m[col].astype(object).where(~present | m[col].notna(), "(none)").where(present, absent)
    mig = (m.groupby(["team", "grade_before", "grade_after"]).size().rename("agents").reset_index()
           .sort_values(["team", "grade_before", "grade_after"]).reset_index(drop=True))
    tiers = (m.groupby(["tier_before", "tier_after"]).size().rename("agents").reset_index()
             .sort_values(["tier_before", "tier_after"]).reset_index(drop=True))
    counts = {"agents_both": int((m["_merge"] == "both").sum()), "agents_new": int((m["_merge"] == "right_only").sum()),
              "agents_left": int((m["_merge"] == "left_only").sum())}
    if counts["agents_both"] == 0:
        limits.append(f"no agent appears in both runs ({len(a)} before, {len(b)} now), so every agent is new or "
                      "left; another client, or ids pseudonymised differently?")
    return mig[DIFF_TABLES["grade_migration"]], tiers[DIFF_TABLES["tiers"]], counts


def _framework(prev: RunFolder, cur: RunFolder, limits: list[str]) -> pd.DataFrame:
    a, b = prev.framework_table, cur.framework_table
    for run, t in ((prev, a), (cur, b)):
        if t is None:
            limits.append(f"the framework of run {run.run_id} cannot be read, so indicators and targets are not "
                          "compared")
    if a is None or b is None:
        return _empty("framework")
    a, b = a.set_index(a["code"].astype(str)), b.set_index(b["code"].astype(str))
    rows = []
    for code in sorted(set(b.index) - set(a.index)):
        rows.append({"indicator": code, "change": "added", "field": None, "before": None, "after": None})
    for code in sorted(set(a.index) - set(b.index)):
        rows.append({"indicator": code, "change": "removed", "field": None, "before": None, "after": None})
    for code in sorted(set(a.index) & set(b.index)):
        for f in _FRAMEWORK_FIELDS:
            if f not in a.columns or f not in b.columns:
                continue
            va, vb = a.at[code, f], b.at[code, f]
            if pd.isna(va) and pd.isna(vb):
                continue
            if pd.isna(va) != pd.isna(vb) or _norm(va) != _norm(vb):
                rows.append({"indicator": code, "change": "changed", "field": f, "before": va, "after": vb})
    return pd.DataFrame(rows, columns=DIFF_TABLES["framework"])
