"""Read what a finished review left in its run folder (run.json, tables, framework)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from kpilab.errors import FrameworkError, RunError
from kpilab.outputs import PROJ_ROOT, read_run_record

__all__ = ["RunFolder", "open_run"]

#: Parameters that differ between any two runs by design; not reported as "changed".
_VOLATILE = {"run_dir", "previous_run", "actions", "pseudonym_key_file"}


@dataclass
class RunFolder:
    """A run folder with its ``run.json`` record; tables are read lazily.

    Attributes
    ----------
    path : Path
    record : dict
        The parsed ``run.json`` (or the runner's in-memory record for the run in progress).
    notes : list of str
        What could not be read (a missing table, a framework file changed since the run).
    """

    path: Path
    record: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        """The run id (folder name)."""
        return str(self.record.get("run_id") or self.path.name)

    def table(self, name: str) -> pd.DataFrame | None:
        """``tables/<name>.csv`` or None (noted) when the run did not write it."""
        p = self.path / "tables" / f"{name}.csv"
        if not p.is_file():
            return None
        return pd.read_csv(p)

    def json_table(self, name: str) -> dict[str, Any] | None:
        """``tables/<name>.json`` parsed, or None."""
        p = self.path / "tables" / f"{name}.json"
        if not p.is_file():
            return None
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    @cached_property
    def parameters(self) -> dict[str, Any]:
        """Effective parameters: each executed notebook's declared defaults, overlaid with those given.

        ``run.json`` keeps only the parameters that were set; a threshold left at
        its default of 0.3 must still compare with a later 0.5.
        """
        eff: dict[str, Any] = {}
        executed = [self.path / Path(s["notebook"]).name for s in self.record.get("steps", []) if s.get("notebook")]
        for nb in executed or sorted(self.path.glob("*.ipynb")):
            if not nb.is_file():
                continue
            eff.update({k: v for k, v in _declared_defaults(nb).items() if k not in eff})
        eff.update(self.record.get("parameters") or {})
        return {k: v for k, v in eff.items() if k not in _VOLATILE}

    @cached_property
    def framework_info(self) -> dict[str, Any]:
        """``{"name", "version", "source", "framework"}`` of the framework the run used (None when unreadable)."""
        from kpilab.framework import load_framework

        fp = (self.record.get("parameters") or {}).get("framework_path") or ""
        if not fp:
            fw = load_framework(None)
            return {"name": fw.name, "version": fw.version, "source": "default framework", "framework": fw}
        path = Path(fp) if Path(fp).is_absolute() else PROJ_ROOT / fp
        recorded = {k: v for k, v in (self.record.get("inputs") or {}).items()
                    if Path(k).name == Path(fp).name}
        if not path.is_file():
            self.notes.append(f"the framework file {Path(fp).name} of run {self.run_id} no longer exists")
            return {"name": None, "version": None, "source": Path(fp).name, "framework": None}
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if recorded and digest not in recorded.values():
            self.notes.append(f"the framework file {Path(fp).name} changed after run {self.run_id}; its indicators "
                              "and targets are read from the run's tables/framework_indicators.csv")
            return {"name": None, "version": None, "source": Path(fp).name, "framework": None}
        try:
            fw = load_framework(path)
        except FrameworkError as exc:
            self.notes.append(f"the framework of run {self.run_id} cannot be read: {exc}")
            return {"name": None, "version": None, "source": Path(fp).name, "framework": None}
        return {"name": fw.name, "version": fw.version, "source": Path(fp).name, "framework": fw}

    @cached_property
    def framework_table(self) -> pd.DataFrame | None:
        """Indicators of the framework used (code, pillar, direction, target, ...): the run's snapshot first."""
        df = self.table("framework_indicators")
        if df is not None:
            return df
        fw = self.framework_info.get("framework")
        return fw.to_frame() if fw is not None else None

    def latest_scores(self) -> pd.DataFrame | None:
        """Rows of ``tables/scores.csv`` in the run's latest period (one per agent), or None."""
        df = self.table("scores")
        if df is None or df.empty or "period" not in df.columns:
            return None
        latest = df["period"].astype(str).max()
        return df[df["period"].astype(str) == latest].copy()

    @property
    def pseudonymisation(self) -> dict[str, Any] | None:
        """The run's pseudonymisation record (``key_fingerprint`` ...), None when ids are raw."""
        p = self.record.get("pseudonymisation")
        return p if isinstance(p, dict) else None


def _declared_defaults(nb: Path) -> dict[str, Any]:
    """Defaults of a notebook's ``parameters`` cell (the papermill convention), read without a kernel."""
    from kpilab.run import default_value, import_papermill

    pm = import_papermill()

    try:
        found = pm.inspect_notebook(str(nb))
    except Exception:  # noqa: BLE001 - an unreadable notebook gives no defaults; the record still counts
        return {}
    return {name: default_value(info.get("default")) for name, info in found.items()}


def open_run(path: str | Path, *, record: dict[str, Any] | None = None, role: str = "run") -> RunFolder:
    """Open a run folder, refusing what is not a successful kpilab run.

    Parameters
    ----------
    path : path
        The run folder (``outputs/<run_id>``).
    record : dict, optional
        The run's record when ``run.json`` is not written yet (the runner's run in progress).
    role : str
        How the folder is named in messages ("previous run").

    Raises
    ------
    RunError
        The folder does not exist, has no readable ``run.json``, or its run did not succeed.
    """
    p = Path(path)
    if not p.is_absolute() and not p.exists():
        p = PROJ_ROOT / p
    if not p.is_dir():
        raise RunError(f"The {role} {path} does not exist; pass a run folder such as outputs/<run_id>.")
    if record is None:
        record = read_run_record(p, role=role)
        status = record.get("status")
        if status != "succeeded":
            failed = [s.get("step") for s in record.get("steps", []) if s.get("status") == "failed"]
            where = f" at {failed[0]}" if failed else ""
            raise RunError(f"The {role} {path} did not succeed (status {status!r}{where}); its tables are "
                           "incomplete. Compare with a successful run.")
    return RunFolder(p.resolve(), record)
