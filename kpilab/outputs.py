"""Where notebooks put what they produce: ``<run_dir>/tables`` and ``<run_dir>/figures``.

Notebooks receive ``run_dir`` as a papermill parameter (the runner sets it to
``outputs/<run_id>/``). Run standalone with ``run_dir = ""`` they write to a
fresh temporary folder, so nothing is ever overwritten by accident.

Commands check their ``--out`` with :func:`prepare_output` before computing:
inputs are never written, a folder is written only when new, empty or owned by
kpilab (a ``.kpilab-output`` marker; its earlier content is replaced wholly),
an existing file only when kpilab wrote it, and the location must be writable.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kpilab.errors import OutputError, ParameterError

if TYPE_CHECKING:  # matplotlib costs ~0.5 s to import; commands that write no figure never need it
    from matplotlib.figure import Figure

__all__ = ["resolve_run_dir", "read_run_record", "save_table", "save_figure", "save_section", "PROJ_ROOT",
           "prepare_output", "OutputTarget", "OUTPUT_MARKER"]

PROJ_ROOT = Path(__file__).resolve().parents[1]


def resolve_run_dir(run_dir: str | Path | None) -> Path:
    """The run folder to write into: ``run_dir``, or a new temporary folder when empty."""
    if not run_dir:
        return Path(tempfile.mkdtemp(prefix="kpilab-"))
    path = Path(run_dir)
    if not path.is_absolute():
        path = PROJ_ROOT / path
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_run_record(folder: str | Path, *, role: str = "run folder") -> dict:
    """The record (``run.json``) of a run folder written by ``kpilab run``.

    Raises
    ------
    RunError
        No ``run.json`` (not a run folder), or it is not valid JSON or not a JSON object; ``role``
        names the folder in the message ("previous run", "run folder").
    """
    from kpilab.errors import RunError

    path = Path(folder) / "run.json"
    if not path.is_file():
        raise RunError(f"The {role} {folder} holds no run.json, so it is not a kpilab run folder; pass a folder "
                       "written by 'kpilab run review'.")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RunError(f"The {role} {folder}: run.json is not valid JSON ({exc}); the run folder is damaged.") from None
    if not isinstance(record, dict):
        raise RunError(f"The {role} {folder}: run.json does not hold a run record; the run folder is damaged.")
    return record


def _name(name: str, suffix: str) -> str:
    if not name or "/" in name or "\\" in name:
        raise ParameterError(f"Output name must be a plain file name, got {name!r}.")
    return name if name.endswith(suffix) else name + suffix


def save_table(run_dir: str | Path, name: str, df: pd.DataFrame, *, index: bool = False) -> Path:
    """Write ``df`` as ``<run_dir>/tables/<name>.csv`` and return the path."""
    path = Path(run_dir) / "tables" / _name(name, ".csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=index)
    return path


def save_figure(run_dir: str | Path, name: str, fig: Figure) -> Path:
    """Write ``fig`` as ``<run_dir>/figures/<name>.png`` and return the path.

    Inside a Jupyter kernel the saved PNG is also shown as the cell's output and the figure is
    closed: the inline backend would otherwise draw the same figure a second time (``plt.show()``
    or at the end of the cell), about a quarter of a second per figure. Outside a kernel (scripts,
    tests) the figure stays open for the caller.
    """
    path = Path(run_dir) / "figures" / _name(name, ".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=_FIGURE_DPI, bbox_inches="tight")
    if _in_kernel():
        _show_saved_png(path)
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


_FIGURE_DPI = 120


def _in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (IPython with a kernel attached)."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _show_saved_png(path: Path) -> None:
    """Display the saved PNG at the size the inline backend would have drawn it (its dots per inch)."""
    import matplotlib
    from IPython.display import Image, display

    data = path.read_bytes()
    width = int.from_bytes(data[16:20], "big")  # PNG IHDR: width, then height, big-endian
    scale = float(matplotlib.rcParams.get("figure.dpi", 100)) / _FIGURE_DPI
    display(Image(data=data, format="png", width=max(1, round(width * scale))))


# ----------------------------------------------------------------------------- command-line outputs
OUTPUT_MARKER = ".kpilab-output"


def save_section(
    run_dir: str | Path,
    name: str,
    *,
    title: str,
    summary_md: str,
    figures: Iterable[tuple[str, str]] = (),
    tables: Iterable[tuple[str, str] | tuple[str, str, dict[str, str]]] = (),
) -> Path:
    """Write ``run_dir/sections/<name>.json``: a report section for a step the report does not know by name.

    The client report (:mod:`kpilab.report`) renders every such file, in file-name order, as a section
    with ``title``, the plain-language ``summary_md`` (Markdown), and the named figures and tables with
    their captions. ``figures`` are ``(stem, caption)`` of files saved with :func:`save_figure`;
    ``tables`` are ``(stem, caption)`` or ``(stem, caption, formats)`` of files saved with
    :func:`save_table` (``formats`` maps a column to a :func:`kpilab.formatting.format_column` kind).

    Raises
    ------
    ParameterError
        A named figure or table is not in the run folder (the section would promise what it cannot show).
    """
    run = Path(run_dir)
    figs, tabs, missing = [], [], []
    for stem, caption in figures:
        rel = f"figures/{_name(stem, '.png')}"
        (figs if (run / rel).is_file() else missing).append({"file": rel, "caption": caption})
    for entry in tables:
        stem, caption = entry[0], entry[1]
        rel = f"tables/{_name(stem, '.csv')}"
        item = {"file": rel, "caption": caption, "formats": dict(entry[2]) if len(entry) > 2 else {}}
        (tabs if (run / rel).is_file() else missing).append(item)
    if missing:
        raise ParameterError(f"Section {name!r} names files that are not in the run folder {run.name}: "
                             f"{', '.join(m['file'] for m in missing)}; save them first.")
    out = run / "sections" / _name(name, ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"title": title, "summary_md": summary_md, "figures": figs, "tables": tabs},
                              indent=2) + "\n", encoding="utf-8")
    return out


@dataclass(frozen=True)
class OutputTarget:
    """Where a command may write, checked by :func:`prepare_output` before any computation.

    Attributes
    ----------
    path : Path
        The output file (``kind="file"``) or folder (``kind="dir"``).
    kind : {"file", "dir"}
        What ``path`` is.
    replaced : tuple of Path
        Earlier kpilab outputs that this run replaces (already removed for a folder).
    """

    path: Path
    kind: str
    replaced: tuple[Path, ...] = ()

    def notice(self) -> str | None:
        """One line saying what an earlier kpilab run left that this run replaces (None when nothing)."""
        if not self.replaced:
            return None
        shown = ", ".join(p.name for p in self.replaced[:3]) + (" ..." if len(self.replaced) > 3 else "")
        return f"replacing {len(self.replaced)} file(s) an earlier kpilab run wrote in {self.path} ({shown})"


def _read_marker(folder: Path) -> dict | None:
    marker = folder / OUTPUT_MARKER
    if not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_marker(folder: Path, data: dict) -> None:
    (folder / OUTPUT_MARKER).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _check_writable(folder: Path, what: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".kpilab-write-test-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputError(f"Cannot write {what}: {folder} is not writable ({reason}); choose another --out. "
                          "Nothing was computed.") from None


def prepare_output(path: str | Path, *, kind: str, inputs: Iterable[str | Path] = (),
                   companions: Iterable[str] = (), protect: Iterable[str | Path] = ()) -> OutputTarget:
    """Check an output location before computing anything, and claim it for kpilab.

    Rules (the same for every command):

    * never write over an input: ``path`` (or a companion file) must not be
      one of ``inputs`` nor lie inside a folder of ``protect`` under a
      canonical table name;
    * a file is written when it does not exist, or when an earlier kpilab run
      wrote it (listed in the folder's ``.kpilab-output`` marker); any other
      existing file is refused;
    * a folder is written when it does not exist, is empty, or holds a
      ``.kpilab-output`` marker: then everything an earlier run left in it is
      removed first, so a run never leaves the previous run's figures beside
      its own tables;
    * the location must be writable (a test file is created and removed).

    Parameters
    ----------
    path : path
        The ``--out`` file or folder.
    kind : {"file", "dir"}
        Whether ``path`` is a file or a folder.
    inputs : iterable of path
        Input files (and folders) the command reads.
    companions : iterable of str
        Suffixes of files written beside a file output, e.g. ``".accounting.csv"``
        (replacing the suffix) or ``".json"``.
    protect : iterable of path
        Data folders: no output may take a canonical table's name there.

    Returns
    -------
    OutputTarget

    Raises
    ------
    OutputError
        Naming the path and what to do.

    Examples
    --------
    In a command's ``run``, before the computation::

        target = prepare_output(args.out, kind="dir", inputs=[args.panel])
    """
    from kpilab.schema import TABLES

    if kind not in ("file", "dir"):
        raise ParameterError(f"The 'kind' parameter of prepare_output must be 'file' or 'dir'. Got {kind!r}.")
    path = Path(path)
    resolved_inputs = {Path(p).resolve() for p in inputs if p}
    outs = [path] if kind == "dir" else [path, *(path.with_name(path.stem + c) for c in companions)]
    for out in outs:
        r = out.resolve()
        for inp in resolved_inputs:
            if r == inp or (kind == "dir" and inp.is_relative_to(r)):
                raise OutputError(f"--out {path} would write over the input {inp}; inputs are never written. "
                                  "Choose another --out.")
        for folder in protect:
            if folder and r.parent == Path(folder).resolve() and out.name.split(".")[0] in TABLES:
                raise OutputError(f"--out {out} would become the canonical table {out.name.split('.')[0]!r} of "
                                  f"the data folder {folder}; choose another name or folder.")
    if kind == "dir":
        if path.exists() and not path.is_dir():
            raise OutputError(f"--out {path} is a file; pass a folder (it is created when absent).")
        replaced: list[Path] = []
        if path.is_dir():
            content = [p for p in path.rglob("*") if p.name != OUTPUT_MARKER]
            if content and _read_marker(path) is None:
                shown = ", ".join(str(p.relative_to(path)) for p in content[:3])
                raise OutputError(f"--out {path} is a folder kpilab did not create and it is not empty ({shown}"
                                  f"{' ...' if len(content) > 3 else ''}); pass a new or empty folder.")
            _check_writable(path, path)
            files = sorted(p for p in content if p.is_file() or p.is_symlink())
            for p in files:
                p.unlink()
            for d in sorted((p for p in content if p.is_dir()), key=lambda p: -len(p.parts)):
                if not any(d.iterdir()):
                    d.rmdir()
            replaced = files
        else:
            _check_writable(path, path)
        _write_marker(path, {"kpilab_output": "folder", "note": "kpilab replaces this folder's content on "
                             "the next run into it"})
        return OutputTarget(path, kind, tuple(replaced))
    if path.is_dir():
        raise OutputError(f"--out {path} is a folder; pass a file name.")
    folder = path.parent
    marker = _read_marker(folder) if folder.is_dir() else None
    owned = set(marker.get("files", [])) if marker else set()
    folder_owned = bool(marker and marker.get("kpilab_output") == "folder")
    replaced = []
    for out in outs:
        if out.exists():
            if out.name not in owned and not folder_owned:
                raise OutputError(f"--out: {out} already exists and kpilab did not write it; choose another name "
                                  "or remove it.")
            replaced.append(out)
    _check_writable(folder, path)
    for out in replaced:
        if not os.access(out, os.W_OK):
            raise OutputError(f"Cannot write {out}: the file is read-only; choose another --out. "
                              "Nothing was computed.")
    data = marker or {"kpilab_output": "files"}
    data["files"] = sorted(owned | {o.name for o in outs})
    _write_marker(folder, data)
    return OutputTarget(path, kind, tuple(replaced))
