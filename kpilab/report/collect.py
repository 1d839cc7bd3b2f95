"""Read a run folder into what the report needs, tolerating steps that did not run.

A run folder holds ``run.json``, ``tables/*.csv``, ``figures/*.png``, the
panel, and (when the pipeline produced them) ``recommended_framework.yaml``,
``tables/recommendation.json``, ``diff/`` and ``sections/*.json``. Nothing
here formats numbers; :class:`RunData` only finds, reads and caches, and says
*why* something is absent (:meth:`RunData.absent`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kpilab.errors import RunError
from kpilab.outputs import read_run_record

__all__ = ["RunData", "collect", "STEP_TITLES", "check_run_succeeded", "centre_actuals"]

#: The review notebooks by number, as readers know them.
STEP_TITLES = {
    "00": "data overview",
    "01": "indicator panel",
    "02": "indicator health review",
    "03": "weight calibration",
    "04": "scores, grades and tiers",
    "05": "robustness",
    "06": "operations",
    "07": "customer value",
    "08": "training effect",
}

# kinds whose centre value is scale * numerator / denominator, so periods pool exactly
_POOLABLE = {"mean", "proportion", "nps", "per_day", "ratio"}


def check_run_succeeded(run_dir: Path, record: dict[str, Any]) -> None:
    """Raise :class:`RunError` when the run, or any of its notebooks, failed: failed runs get no report."""
    failed = [s.get("step", "?") for s in record.get("steps", []) if s.get("status") == "failed"]
    if record.get("status") == "failed" or failed:
        which = f" ({', '.join(failed)})" if failed else ""
        raise RunError(f"A notebook of run {record.get('run_id', run_dir.name)} failed{which}; kpilab does not "
                       "render reports of failed runs. Fix the notebook and run the review again.")
    for nb in sorted(run_dir.glob("*.ipynb")):
        # papermill records a failure in the notebook's metadata; the record may predate it
        try:
            meta = json.loads(nb.read_text(encoding="utf-8")).get("metadata", {})
        except (OSError, ValueError):
            continue
        if meta.get("papermill", {}).get("exception"):
            raise RunError(f"Notebook {nb.name} of this run failed; kpilab does not render reports of failed "
                           "runs. Fix the notebook and run the review again.")


@dataclass
class RunData:
    """Everything the report reads from one run folder, loaded on first use.

    Attributes
    ----------
    run_dir : Path
        The run folder.
    record : dict
        ``run.json`` (or the record the runner passed in).
    """

    run_dir: Path
    record: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ parameters and steps
    @property
    def params(self) -> dict[str, Any]:
        """The run's parameters as given (runner-level ones included)."""
        return dict(self.record.get("parameters") or {})

    def param(self, name: str, default: Any = None) -> Any:
        """One parameter: the run's value, else the value a step recorded, else ``default``."""
        if name in self.params:
            return self.params[name]
        for step in self.record.get("steps", []):
            if name in (step.get("params") or {}):
                return step["params"][name]
        return default

    @property
    def client(self) -> str:
        """The client's name for the title page (runner parameter ``client``)."""
        return str(self.params.get("client") or "the client")

    def step(self, number: str) -> dict[str, Any] | None:
        """The step record of notebook ``number`` (``"02"``), or None when it was not part of the run."""
        for step in self.record.get("steps", []):
            if str(step.get("step", "")).startswith(number + "_"):
                return step
        return None

    def ran(self, number: str) -> bool:
        """Did notebook ``number`` run (and succeed) in this review?"""
        step = self.step(number)
        return step is not None and step.get("status", "succeeded") == "succeeded"

    def absent(self, number: str, what: str) -> str:
        """Why ``what`` (e.g. "the decisions table") is missing: the step did not run, or it wrote nothing."""
        title = STEP_TITLES.get(number, f"notebook {number}")
        if not self.ran(number):
            target = self.record.get("target", "")
            scope = f" (the run's target was {Path(str(target)).name})" if target else ""
            return f"Not run in this review: the {title} step (notebook {number}) was not part of this run{scope}."
        return (f"The {title} step (notebook {number}) ran but skipped this part: it wrote no {what}, usually "
                "because the data lack what it needs (the executed notebook in the run folder says why).")

    # ------------------------------------------------------------------ files
    def table(self, name: str) -> pd.DataFrame | None:
        """``tables/<name>.csv`` as a DataFrame, or None when absent or empty of columns."""
        return self.csv(f"tables/{name}.csv")

    def json(self, relpath: str) -> Any:
        """A JSON file of the run folder (``tables/recommendation.json``), or None."""
        key = "json:" + relpath
        if key not in self._cache:
            path = self.run_dir / relpath
            try:
                self._cache[key] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
            except ValueError:
                self._cache[key] = None
        return self._cache[key]

    def csv(self, relpath: str) -> pd.DataFrame | None:
        """Any CSV of the run folder by relative path (``diff/weights.csv``), or None."""
        key = "csv:" + relpath
        if key not in self._cache:
            path = self.run_dir / relpath
            df = None
            if path.is_file():
                try:
                    df = pd.read_csv(path)
                except (pd.errors.EmptyDataError, pd.errors.ParserError):
                    df = None
            self._cache[key] = df
        return self._cache[key]

    def figure(self, name: str) -> Path | None:
        """``figures/<name>.png`` when it exists."""
        path = self.run_dir / "figures" / f"{name}.png"
        return path if path.is_file() else None

    # ------------------------------------------------------------------ framework and recommendation
    @property
    def framework(self) -> Any:
        """The framework the run used (``framework_path`` or the default); None when it cannot be read."""
        if "framework" not in self._cache:
            from kpilab.framework import default_framework, load_framework
            from kpilab.outputs import PROJ_ROOT

            fw = None
            path = self.param("framework_path") or ""
            try:
                if path:
                    p = Path(path)
                    fw = load_framework(p if p.is_absolute() else PROJ_ROOT / p)
                else:
                    fw = default_framework()
            except Exception:  # noqa: BLE001 - a moved framework file must not stop the report
                fw = None
            self._cache["framework"] = fw
        return self._cache["framework"]

    @property
    def recommended_framework(self) -> Any:
        """``recommended_framework.yaml`` of the run folder, loaded; None when absent or invalid."""
        if "recommended_framework" not in self._cache:
            from kpilab.framework import load_framework

            path = self.run_dir / "recommended_framework.yaml"
            try:
                self._cache["recommended_framework"] = load_framework(path) if path.is_file() else None
            except Exception:  # noqa: BLE001 - reported as absent; the yaml is R3's contract
                self._cache["recommended_framework"] = None
        return self._cache["recommended_framework"]

    @property
    def recommendation(self) -> dict[str, Any] | None:
        """``tables/recommendation.json`` (kept/pruned/review lists, weights method and agreement)."""
        rec = self.json("tables/recommendation.json")
        return rec if isinstance(rec, dict) else None

    @property
    def outcome(self) -> str:
        """The outcome code the health review used."""
        rec = self.recommendation or {}
        return str(rec.get("outcome") or self.param("outcome", "retention_rate"))

    @property
    def period_kind(self) -> str:
        """The panel's period (``month`` by default)."""
        return str(self.param("period", "month"))

    def review_window(self) -> tuple[str | None, str | None]:
        """``(period_start, period_end)`` as given to the run (or recorded by notebook 02), else ``(None, None)``."""
        rec = self.recommendation or {}
        start = rec.get("period_start") or self.param("period_start")
        end = rec.get("period_end") or self.param("period_end")
        return (str(start) if start else None, str(end) if end else None)

    # ------------------------------------------------------------------ panel
    def centre_panel(self) -> pd.DataFrame | None:
        """Centre-level rows of ``panel_all_levels.parquet`` (None when the panel step did not run)."""
        if "centre_panel" not in self._cache:
            path = self.run_dir / "panel_all_levels.parquet"
            df = None
            if path.is_file():
                try:
                    df = pd.read_parquet(path, filters=[("unit_level", "==", "centre")])
                except Exception:  # noqa: BLE001 - an unreadable panel is reported as missing
                    df = None
            self._cache["centre_panel"] = df
        return self._cache["centre_panel"]

    def agent_panel(self, columns: list[str] | None = None) -> pd.DataFrame | None:
        """Agent-level panel rows (``panel.parquet``), optionally only some columns."""
        key = "agent_panel:" + ",".join(columns or [])
        if key not in self._cache:
            path = self.run_dir / "panel.parquet"
            try:
                self._cache[key] = pd.read_parquet(path, columns=columns) if path.is_file() else None
            except Exception:  # noqa: BLE001 - an unreadable panel is reported as missing
                self._cache[key] = None
        return self._cache[key]

    def panel_periods(self) -> list[str]:
        """Every period label of the panel, sorted."""
        cp = self.centre_panel()
        if cp is not None and len(cp):
            return sorted(cp["period"].astype(str).unique())
        scores = self.table("scores")
        if scores is not None and "period" in scores:
            return sorted(scores["period"].astype(str).unique())
        return []

    def review_periods(self) -> list[str]:
        """Panel periods inside the review window (all periods when no window was given)."""
        periods = self.panel_periods()
        start, end = self.review_window()
        if start:
            periods = [p for p in periods if p >= start[:10]]
        if end:
            periods = [p for p in periods if p <= end[:10]]
        return periods


def centre_actuals(centre: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """Each indicator's centre value over ``periods``.

    Kinds whose value is ``scale * numerator / denominator`` (means,
    proportions, NPS, per-day rates) are pooled exactly over the periods:
    ``scale * sum(numerator) / sum(denominator)``, the value one cell over the
    whole window would have. A quantile cannot be pooled from cells; its value
    is the latest period's, and ``basis`` says so.

    Returns
    -------
    DataFrame
        ``indicator, value, n, basis, latest`` (``basis`` is ``pooled`` or ``latest period``).
    """
    cols = ["indicator", "value", "n", "basis", "latest"]
    if centre is None or not len(centre) or not periods:
        return pd.DataFrame(columns=cols)
    sub = centre[centre["period"].astype(str).isin(periods)]
    rows = []
    for code, g in sub.groupby("indicator", sort=False):
        g = g.sort_values("period")
        kind = str(g["kind"].iloc[-1])
        num, den = g["numerator"], g["denominator"]
        latest = str(g["period"].iloc[-1])
        if kind in _POOLABLE and num.notna().all() and den.notna().all() and float(den.sum()) > 0:
            value = float(g["scale"].iloc[-1]) * float(num.sum()) / float(den.sum())
            rows.append((code, value, float(g["n"].sum()), "pooled", latest))
        else:
            last = g.dropna(subset=["value"])
            if len(last):
                rows.append((code, float(last["value"].iloc[-1]), float(last["n"].iloc[-1]), "latest period",
                             str(last["period"].iloc[-1])))
            else:
                rows.append((code, float("nan"), 0.0, "no value", latest))
    return pd.DataFrame(rows, columns=cols)


def collect(run_dir: str | Path, record: dict[str, Any] | None = None) -> RunData:
    """A :class:`RunData` for ``run_dir``; ``record`` defaults to its ``run.json``.

    Raises
    ------
    RunError
        The folder does not exist, or holds no ``run.json`` and no record was given.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"Run folder {run_dir} does not exist; give the folder a review run created.")
    if record is None:
        record = read_run_record(run_dir)
    return RunData(run_dir, dict(record))
