"""Run parameterised notebooks with papermill into ``outputs/<run_id>/``.

A *target* is a pipeline name (``review``: every ``notebooks/NN_*.ipynb`` in
order) or a path to one notebook. :func:`execute`

1. reads each notebook's parameters (``papermill.inspect_notebook``) and
   refuses unknown parameters before anything runs;
2. creates a new run folder ``outputs/<YYYYmmdd-HHMMSS>-<name>/`` (never an
   existing one);
3. executes the notebooks in order with an explicit kernel, working directory
   and cell timeout, passing each the parameters it declares plus ``run_dir``;
4. on success generates ``report.html`` from the run folder's tables and
   figures (:func:`kpilab.report.build_report`, plus ``report.pdf`` when a
   headless Chromium is installed) and
   always writes ``run.json`` (parameters, step log, package versions, git
   commit, input file hashes, timings). A failed notebook leaves its executed
   copy, ``run.json`` with ``status: failed`` and no report.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata as md
import json
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kpilab import __version__
from kpilab._kernel import SharedKernel, register_engine
from kpilab._yaml import parse_yaml
from kpilab.errors import RunError
from kpilab.outputs import PROJ_ROOT

__all__ = [
    "PIPELINES",
    "RunResult",
    "resolve_target",
    "notebook_parameters",
    "new_run_dir",
    "parse_cli_value",
    "load_params_file",
    "execute",
    "default_kernel",
    "import_papermill",
]

NOTEBOOK_DIR = PROJ_ROOT / "notebooks"
PIPELINES: dict[str, str] = {"review": "[0-9][0-9]_*.ipynb"}
RESERVED = {"run_dir"}  # set by the runner, never by the user
_PACKAGES = ["kpilab", "pandas", "numpy", "scipy", "statsmodels", "scikit-learn", "duckdb",
             "seaborn", "matplotlib", "papermill", "nbconvert", "pyarrow", "pydantic"]


@dataclass
class RunResult:
    """What a run produced."""

    run_dir: Path
    status: str
    notebooks: list[Path]
    report: Path | None
    seconds: float
    record: dict[str, Any] = field(default_factory=dict)


def resolve_target(target: str) -> list[Path]:
    """The notebooks of a pipeline name, or the one notebook a path names."""
    if target in PIPELINES:
        nbs = sorted(NOTEBOOK_DIR.glob(PIPELINES[target]))
        if not nbs:
            raise RunError(f"Pipeline {target!r} has no notebooks in {NOTEBOOK_DIR}.")
        return nbs
    path = Path(target)
    candidates = [path, PROJ_ROOT / path, NOTEBOOK_DIR / path, NOTEBOOK_DIR / f"{target}.ipynb"]
    for c in candidates:
        if c.is_file() and c.suffix == ".ipynb":
            return [c.resolve()]
    raise RunError(
        f"Unknown run target {target!r}: use a pipeline ({', '.join(PIPELINES)}) or a notebook path "
        f"(e.g. {', '.join(p.name for p in sorted(NOTEBOOK_DIR.glob('*.ipynb'))[:3])})."
    )


def import_papermill() -> Any:
    """``import papermill``, without the 2-3 s that an optional ``jsonschema`` format checker costs.

    papermill imports nbformat, which imports jsonschema, which imports ``rfc3987_syntax`` when it is
    installed (JupyterLab's dependencies install it); that package builds a Lark grammar at import
    (python-jsonschema/jsonschema#1392, #1521). nbformat never checks the ``iri`` format it serves, so
    the import is hidden while papermill loads: jsonschema then leaves that one format checker out.
    """
    if "papermill" in sys.modules or "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        import papermill

        return papermill
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes its import raise ImportError
    try:
        import papermill
    finally:
        del sys.modules["rfc3987_syntax"]
    return papermill


def notebook_parameters(notebook: Path) -> dict[str, dict[str, Any]]:
    """Declared parameters of a notebook: ``{name: {default, type, help}}``."""
    pm = import_papermill()

    found = pm.inspect_notebook(str(notebook))
    return {
        name: {
            "default": info.get("default"),
            "type": info.get("inferred_type_name"),
            "help": info.get("help", ""),
        }
        for name, info in found.items()
    }


def default_value(raw: Any) -> Any:
    """The Python value of a parameter default as :func:`notebook_parameters` reports it (its source
    text, e.g. ``'"retention_rate"'``); the text itself when it is not a literal."""
    import ast

    try:
        return ast.literal_eval(raw) if isinstance(raw, str) and raw else raw
    except (ValueError, SyntaxError):
        return raw


def parse_cli_value(text: str) -> Any:
    """Papermill's ``-p`` conversion: ints, floats, booleans and None; else the string."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def load_params_file(path: str | Path) -> dict[str, Any]:
    """Parameters from a YAML file (dates stay strings) or from an earlier run's ``run.json``.

    Raises
    ------
    RunError
        The file is missing, is not valid YAML or JSON (naming the line and
        column), repeats a key (naming both lines), or is not a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise RunError(f"Parameter file {path} does not exist.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RunError(f"Parameter file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text, object_pairs_hook=_unique_json_pairs)
        except json.JSONDecodeError as exc:
            raise RunError(f"Parameter file {path} is not valid JSON at line {exc.lineno}, column {exc.colno}: "
                           f"{exc.msg}.") from None
        except _DuplicateJsonKey as exc:
            raise RunError(f"Parameter file {path}: key {exc.args[0]!r} appears twice; keep one.") from None
        if isinstance(data, dict):
            data = data.get("parameters", data)  # a run.json replays its parameters
    else:
        data = parse_yaml(text, str(path), "Parameter file", RunError, dates=False)
    if not isinstance(data, dict):
        raise RunError(f"Parameter file {path} must hold a mapping of name: value.")
    return data


class _DuplicateJsonKey(ValueError):
    pass


def _unique_json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateJsonKey(k)
        out[k] = v
    return out


def new_run_dir(name: str = "run", root: str | Path | None = None) -> Path:
    """Create and return a new, empty run folder ``<root>/<timestamp>-<name>``.

    Never returns an existing folder: a clash within the same second gets a
    ``-2``, ``-3`` ... suffix (``mkdir`` without ``exist_ok`` is atomic).
    """
    root = Path(root) if root is not None else PROJ_ROOT / "outputs"
    root.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)[:40] or "run"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for k in range(1, 1000):
        candidate = root / (f"{stamp}-{safe}" if k == 1 else f"{stamp}-{safe}-{k}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RunError(f"Could not create a new run folder under {root}.")


def default_kernel() -> str:
    """``$KPILAB_KERNEL``, else the ``kpilab`` kernel when registered, else ``python3``."""
    import os

    from jupyter_client.kernelspec import KernelSpecManager

    env = os.environ.get("KPILAB_KERNEL")
    if env:
        return env
    specs = KernelSpecManager().find_kernel_specs()
    return "kpilab" if "kpilab" in specs else "python3"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJ_ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJ_ROOT,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _input_hashes(params: dict[str, Any]) -> dict[str, str]:
    """sha256 of every file named by a ``*_dir`` / ``*_path`` parameter (inputs only)."""
    hashes: dict[str, str] = {}
    for key, value in params.items():
        if not isinstance(value, str) or not value or key in RESERVED:
            continue
        if not (key.endswith("_dir") or key.endswith("_path") or key.endswith("_file")):
            continue
        p = Path(value) if Path(value).is_absolute() else PROJ_ROOT / value
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p] if p.is_file() else []
        for f in files:
            hashes[str(f.relative_to(PROJ_ROOT) if f.is_relative_to(PROJ_ROOT) else f)] = _sha256(f)
    return hashes


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in _PACKAGES:
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def execute(
    target: str,
    parameters: dict[str, Any] | None = None,
    *,
    name: str | None = None,
    output_root: str | Path | None = None,
    kernel: str | None = None,
    execution_timeout: int = 1800,
    start_timeout: int = 120,
    log_output: bool = False,
    pseudonym_map: str | Path | None = None,
    shared_kernel: bool = True,
) -> RunResult:
    """Execute a pipeline or notebook into a new run folder.

    Parameters
    ----------
    target : str
        ``"review"`` or a notebook path.
    parameters : dict
        Values for the notebooks' parameters; each notebook receives those it
        declares. A name no notebook declares raises before anything runs.
    name : str, optional
        Short name appended to the run id (default: the target's stem).
    output_root : path, optional
        Folder that holds run folders (default ``outputs/``).
    kernel : str, optional
        Jupyter kernel (default :func:`default_kernel`).
    execution_timeout, start_timeout : int
        Seconds per cell, and for the kernel to start.
    pseudonym_map : path, optional
        With ``pseudonymise``: write the id -> pseudonym mapping here (outside the outputs folder).
    shared_kernel : bool
        Run every notebook in one kernel, reset before each notebook (:mod:`kpilab._kernel`);
        ``False`` starts a fresh kernel per notebook (slower: start-up and imports each time).

    Raises
    ------
    RunError
        Unknown parameters, or a notebook failed (the message names it and
        where its executed copy is).
    """

    notebooks = resolve_target(target)
    parameters = dict(parameters or {})
    declared: dict[str, dict[str, dict[str, Any]]] = {nb.name: notebook_parameters(nb) for nb in notebooks}
    from kpilab.quarterly.hooks import (
        RUNNER_PARAMETERS,
        SECRET_PARAMETERS,
        check_outcome,
        check_runner_parameters,
    )

    known = set().union(*(set(d) for d in declared.values())) - RESERVED
    reserved = sorted(set(parameters) & RESERVED)
    if reserved:
        raise RunError(f"Parameter(s) {', '.join(reserved)} are set by the runner; do not pass them.")
    unknown = sorted(set(parameters) - known - RUNNER_PARAMETERS)  # runner parameters are always known
    if unknown:
        raise RunError(
            f"Unknown parameter(s) {', '.join(unknown)} for {target!r}; known: {', '.join(sorted(known))}. "
            "Nothing was run."
        )

    setup = check_runner_parameters(parameters, output_root=output_root, pseudonym_map=pseudonym_map)
    # the demo data is used only when asked for: a notebook whose data_dir defaults to "" needs one
    needs_data = [nb for nb, d in declared.items() if d.get("data_dir", {}).get("default") in ('""', "''")]
    if needs_data and not parameters.get("data_dir"):
        raise RunError(
            f"No data folder given ({', '.join(needs_data)} need data_dir): pass -p data_dir DIR, the folder of "
            "canonical tables (for the demo data: -p data_dir data/demo). Nothing was run."
        )
    check_outcome(parameters, declared)

    kernel = kernel or default_kernel()
    run_dir = new_run_dir(name or Path(target).stem, output_root)
    record: dict[str, Any] = {
        "run_id": run_dir.name,
        "target": target,
        "parameters": parameters,
        "kernel": kernel,
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
        "kpilab_version": __version__,
        "git_commit": _git_commit(),
        "versions": _versions(),
        "inputs": _input_hashes({k: v for k, v in parameters.items() if k not in SECRET_PARAMETERS}),
        "steps": [],
        "status": "running",
    }
    t0 = time.perf_counter()
    from kpilab.quarterly.hooks import after_notebooks, prepare_inputs

    data_override = prepare_inputs(setup, run_dir, parameters, record)  # pseudonymised copy, or None
    executed: list[Path] = []
    record["kernel_mode"] = "shared" if shared_kernel and len(notebooks) > 1 else "fresh"
    # ipykernel 7 warns on every start that local TCP is unencrypted; keep errors only
    kernel_args = ["--IPKernelApp.log_level=ERROR"]
    shared = (SharedKernel(kernel, str(PROJ_ROOT), start_timeout=start_timeout, extra_arguments=kernel_args)
              if record["kernel_mode"] == "shared" else None)
    phases: dict[str, float] = {}
    record["runner_seconds"] = phases  # what the runner spent outside the notebooks, by phase
    k0 = time.perf_counter()
    with shared or contextlib.nullcontext():
        phases["kernel_start"] = round(time.perf_counter() - k0, 2)
        status, failure = _execute_notebooks(notebooks, declared, parameters, run_dir, data_override, record,
                                             executed, kernel=kernel, shared=shared, kernel_args=kernel_args,
                                             execution_timeout=execution_timeout, start_timeout=start_timeout,
                                             log_output=log_output)

    if status == "succeeded":
        a0 = time.perf_counter()
        failure = after_notebooks(setup, run_dir, record)  # diff/ and scorecards/ (R4), before the report
        phases["diff_and_scorecards"] = round(time.perf_counter() - a0, 2)
        status = "failed" if failure else status

    report = None
    if status == "succeeded":
        from kpilab.report import build_report

        r0 = time.perf_counter()
        report = build_report(run_dir, record)  # generated from tables/figures; report.pdf when chromium exists
        phases["report"] = round(time.perf_counter() - r0, 2)
    record["status"] = status
    record["seconds"] = round(time.perf_counter() - t0, 2)
    record["finished"] = datetime.now().astimezone().isoformat(timespec="seconds")
    record["outputs"] = sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file())
    (run_dir / "run.json").write_text(json.dumps(record, indent=2, default=str))
    result = RunResult(run_dir, status, executed, report, record["seconds"], record)
    if failure:
        raise RunError(f"{failure}. The executed notebook is {executed[-1]}; no report was written.")
    return result


def _execute_notebooks(notebooks: list[Path], declared: dict[str, dict[str, Any]], parameters: dict[str, Any],
                       run_dir: Path, data_override: str | None, record: dict[str, Any], executed: list[Path], *,
                       kernel: str, shared: SharedKernel | None, kernel_args: list[str], execution_timeout: int,
                       start_timeout: int, log_output: bool) -> tuple[str, str | None]:
    """Execute the notebooks in order, stopping at the first failure; returns (status, failure)."""
    pm = import_papermill()

    status = "succeeded"
    failure: str | None = None
    for nb in notebooks:
        nb_params = {k: v for k, v in parameters.items() if k in declared[nb.name]}
        if "run_dir" in declared[nb.name]:
            nb_params["run_dir"] = str(run_dir)
        if data_override and "data_dir" in declared[nb.name]:
            nb_params["data_dir"] = data_override
        out = run_dir / nb.name
        step = {"step": nb.stem, "notebook": str(nb.relative_to(PROJ_ROOT) if nb.is_relative_to(PROJ_ROOT) else nb),
                "params": {k: v for k, v in nb_params.items() if k != "run_dir"}}
        s0 = time.perf_counter()
        try:
            if shared is not None:
                shared.reset()  # a clean namespace, as a fresh kernel would give
            pm.execute_notebook(
                str(nb), str(out), parameters=nb_params, kernel_name=kernel, cwd=str(PROJ_ROOT),
                execution_timeout=execution_timeout, start_timeout=start_timeout,
                progress_bar=False, log_output=log_output, extra_arguments=kernel_args,
                engine_name=register_engine(), **({"km": shared.km} if shared is not None else {}),
            )
            step["status"] = "succeeded"
        except Exception as exc:  # papermill raises its own error types; record and stop
            step["status"] = "failed"
            status = "failed"
            ename = getattr(exc, "ename", type(exc).__name__)
            evalue = getattr(exc, "evalue", str(exc))
            failure = f"{nb.name} failed: {ename}: {evalue}".strip().rstrip(".")
            step["error"] = failure
        step["seconds"] = round(time.perf_counter() - s0, 2)
        record["steps"].append(step)
        executed.append(out)
        if status == "failed":
            break
    return status, failure


if __name__ == "__main__":  # pragma: no cover
    print(execute(sys.argv[1]).report)
