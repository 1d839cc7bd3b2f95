"""What the runner (:func:`kpilab.run.execute`) does for the quarterly cycle and pseudonymisation.

Three steps, each called from one place in the runner:

* :func:`check_runner_parameters` before anything runs: the pseudonym key can be
  read (and is not stored in an output folder), the previous run is a successful
  run, the actions file is valid and names known indicators;
* :func:`prepare_inputs` after the run folder is created: with ``pseudonymise``
  the canonical tables are copied, pseudonymised, into ``<run>/input/`` (the
  notebooks read that copy; ``run.json`` keeps the hashes of the original files)
  and agent ids in parameters (``show_agent``, ``sobol_output: unit:<id>``) are
  replaced by their pseudonyms;
* :func:`after_notebooks` once the notebooks succeeded: ``diff/`` (with a previous
  run) and the per-agent scorecards, each recorded as a step in ``run.json``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpilab.errors import KpilabError, ParameterError, RunError
from kpilab.outputs import PROJ_ROOT

__all__ = ["RUNNER_PARAMETERS", "RunnerSetup", "check_runner_parameters", "prepare_inputs", "after_notebooks"]

#: Parameters the runner uses itself (passed to a notebook only when it declares them).
RUNNER_PARAMETERS = frozenset({"client", "pseudonymise", "pseudonym_key_file", "previous_run", "actions"})
#: Runner parameters that name files never hashed into run.json (a key's hash would help guess a weak key).
SECRET_PARAMETERS = frozenset({"pseudonym_key_file"})


@dataclass
class RunnerSetup:
    """What :func:`check_runner_parameters` established before the run started."""

    key: bytes | None = None
    tables: dict[str, Any] | None = field(default=None, repr=False)
    report: Any = None
    pseudonym_map: Path | None = None
    actions: Path | None = None
    previous_run: Path | None = None
    data_dir: str | None = None
    notes: list[str] = field(default_factory=list)


def _path(value: str | Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() or p.exists() else PROJ_ROOT / p


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", 0):
        return False
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    raise ParameterError(f"Parameter {name} must be true or false, got {value!r}.")


def check_runner_parameters(parameters: dict[str, Any], *, output_root: str | Path | None = None,
                            pseudonym_map: str | Path | None = None) -> RunnerSetup:
    """Check the runner-level parameters before any notebook runs.

    Raises
    ------
    ParameterError
        ``pseudonymise`` without a usable key, a key file or map inside the outputs folder,
        a map without ``pseudonymise``, an invalid actions file or one naming unknown indicators.
    RunError
        ``previous_run`` is not a successful run folder.
    """
    from kpilab.quarterly.actions import known_indicators, load_actions
    from kpilab.quarterly.runs import open_run

    setup = RunnerSetup()
    outputs = Path(output_root) if output_root is not None else PROJ_ROOT / "outputs"
    if _flag(parameters.get("pseudonymise"), "pseudonymise"):
        from kpilab.pseudonym import load_key

        key_file = parameters.get("pseudonym_key_file") or None
        setup.key = load_key(_path(key_file) if key_file else None, forbidden=[outputs])
        data_dir = parameters.get("data_dir")
        if not data_dir:
            raise ParameterError("pseudonymise needs data_dir: the folder of canonical tables to pseudonymise.")
        if not _path(data_dir).is_dir():
            raise ParameterError(f"data_dir {data_dir} is not a folder; pseudonymise reads canonical tables from "
                                 "a data folder.")
        setup.data_dir = str(data_dir)
        from kpilab.pseudonym import read_pseudonymised

        # read and pseudonymise now, so unreadable data stops the run before a run folder exists
        setup.tables, setup.report = read_pseudonymised(_path(data_dir), setup.key)
        if pseudonym_map:
            mp = Path(pseudonym_map).expanduser().resolve()
            if mp.is_relative_to(outputs.resolve()):
                raise ParameterError(f"Pseudonym map {pseudonym_map} is inside the outputs folder {outputs}; write "
                                     "it elsewhere (it undoes the pseudonyms).")
            setup.pseudonym_map = mp
    elif pseudonym_map or parameters.get("pseudonym_key_file"):
        raise ParameterError("A pseudonym map or key file was given without pseudonymise; add --pseudonymise "
                             "(or pseudonymise: true).")
    prev = parameters.get("previous_run")
    if prev:
        setup.previous_run = open_run(prev, role="previous run").path
    acts = parameters.get("actions")
    if acts:
        from kpilab.framework import load_framework

        fp = parameters.get("framework_path") or None
        try:
            fw = load_framework(_path(fp) if fp else None)
        except KpilabError:
            fw = None  # the notebooks report a bad framework file in their own words
        previous_fw = open_run(prev, role="previous run").framework_table if prev else None
        setup.actions = _path(acts)
        load_actions(setup.actions, known=known_indicators(fw, previous_fw))
        if not prev:
            raise ParameterError("The actions file lists what was agreed at the previous review; pass previous_run "
                                 "too, so the review can check them.")
    return setup


def check_outcome(parameters: dict[str, Any], declared: dict[str, dict[str, Any]]) -> None:
    """Stop before any notebook runs when the outcome cannot come from the data folder.

    The health review and the regression weights judge indicators against the outcome, which must be in
    the panel; an outcome the data cannot give (the default ``retention_rate`` without a ``retained``
    column, a misspelt code) used to stop the run at notebook 02, after the overview and the panel.
    Decided from the tables' column names (:func:`kpilab.indicators.indicator_availability`); a folder
    whose columns need reading (a column mapping, a workbook) is left to the notebooks.

    Raises
    ------
    RunError
        The outcome is not an indicator of the framework, or the data lack what it needs.
    """
    from kpilab.run import default_value

    defaults = [d["outcome"].get("default") for d in declared.values() if "outcome" in d]
    data_dir = parameters.get("data_dir")
    if not defaults or not data_dir or not _path(data_dir).is_dir():
        return
    outcome = parameters.get("outcome", default_value(defaults[0]))
    from kpilab.indicators import indicator_availability

    fp = parameters.get("framework_path") or None
    try:
        avail = indicator_availability(_path(data_dir), _path(fp) if fp else None)
    except KpilabError:
        return  # unreadable data or framework: the notebooks say so in their own words
    if avail is None:
        return
    # an outcome is judged across agents: indicators of the queue (service level...) have no agent rows
    ok = avail.loc[avail["available"] & (avail["level"] != "queue"), "indicator"].tolist()
    supported = (f"agent indicators these data can give: {', '.join(ok)}" if ok
                 else "these data can give no agent indicator of the framework")
    row = avail[avail["indicator"] == outcome]
    if row.empty:
        raise RunError(f"The outcome {outcome!r} is not an indicator of the framework; {supported}. Pass "
                       "-p outcome CODE. Nothing was run.")
    if not bool(row["available"].iloc[0]):
        why = str(row["reason"].iloc[0]).split(": skipped, ", 1)[-1].rstrip(".")
        raise RunError(f"The outcome {outcome!r} cannot be computed from {data_dir}: {why}. Pass -p outcome CODE "
                       f"with one the data support ({supported}), or add what it needs to the data. Nothing was run.")


def prepare_inputs(setup: RunnerSetup, run_dir: Path, parameters: dict[str, Any],
                   record: dict[str, Any]) -> str | None:
    """Pseudonymise the inputs into ``<run_dir>/input`` when asked; returns the folder the notebooks read.

    Agent ids given as parameters (``show_agent``, ``sobol_output: unit:<id>``) are replaced in
    ``parameters`` itself (which ``run.json`` records), so no raw id is written in the run folder.
    """
    if setup.actions is not None:  # an input like the data: its hash makes the check reproducible
        import hashlib

        record["inputs"][str(parameters.get("actions"))] = hashlib.sha256(setup.actions.read_bytes()).hexdigest()
    if setup.key is None:
        return None
    from kpilab.pseudonym import write_mapping, write_tables

    t0 = time.perf_counter()
    write_tables(setup.tables, run_dir / "input")
    report = setup.report
    agents = report.mapping.get("agent", {})
    v = parameters.get("show_agent")
    if v and str(v) in agents:
        parameters["show_agent"] = agents[str(v)]
    so = parameters.get("sobol_output")
    if isinstance(so, str) and so.startswith("unit:") and so[5:] in agents:
        parameters["sobol_output"] = "unit:" + agents[so[5:]]
    if setup.pseudonym_map is not None:
        write_mapping(report, setup.pseudonym_map, forbidden=[run_dir])
    record["pseudonymisation"] = report.to_record() | {"mapping_written": setup.pseudonym_map is not None}
    record["steps"].append({"step": "pseudonymise", "status": "succeeded",
                            "seconds": round(time.perf_counter() - t0, 2)})
    return str(run_dir / "input")


def after_notebooks(setup: RunnerSetup, run_dir: Path, record: dict[str, Any]) -> str | None:
    """Write ``diff/`` (with a previous run) and the scorecards; returns a failure message or None."""
    steps: list[tuple[str, Any]] = []
    if setup.previous_run is not None:
        def diff() -> None:
            from kpilab.outputs import prepare_output
            from kpilab.quarterly.diff import compare_runs

            target = prepare_output(run_dir / "diff", kind="dir")
            compare_runs(setup.previous_run, run_dir, record=record, actions=setup.actions, out_dir=target.path,
                         show_owner=setup.key is None)
        steps.append(("diff", diff))

    def scorecards() -> None:
        from kpilab.report.scorecards import write_scorecards

        write_scorecards(run_dir, record)
    if (run_dir / "tables" / "scores.csv").is_file():
        steps.append(("scorecards", scorecards))
    for name, fn in steps:
        t0 = time.perf_counter()
        step: dict[str, Any] = {"step": name}
        try:
            fn()
            step["status"] = "succeeded"
        except KpilabError as exc:
            step["status"] = "failed"
            step["error"] = f"{name} failed: {exc}"
        except Exception as exc:  # noqa: BLE001 - a bug here must still leave run.json saying what failed
            step["status"] = "failed"
            step["error"] = f"{name} failed: {type(exc).__name__}: {exc}"
        step["seconds"] = round(time.perf_counter() - t0, 2)
        record["steps"].append(step)
        if step["status"] == "failed":
            return step["error"]
    return None

