"""One kernel per run, reset between notebooks: a notebook sees only its own names, as in a fresh kernel."""

from __future__ import annotations

import warnings
from pathlib import Path

import nbformat
import pytest

import kpilab.run as run_module
from kpilab._kernel import reset_session
from kpilab.errors import RunError

FIRST = """
import os, warnings
from pathlib import Path
import matplotlib
import matplotlib.pyplot as plt
leak = 41
matplotlib.rcParams["lines.linewidth"] = 9.5
warnings.simplefilter("error")
fig = plt.figure()
Path(run_dir, "pid_01").write_text(str(os.getpid()))
"""

SECOND = """
import os, warnings
from pathlib import Path
import matplotlib
import matplotlib.pyplot as plt
assert "leak" not in globals(), "a name from the previous notebook leaked"
assert "fig" not in globals()
assert matplotlib.rcParams["lines.linewidth"] != 9.5, "matplotlib settings leaked"
assert plt.get_fignums() == [], "figures of the previous notebook are still open"
warnings.warn("only a warning here", UserWarning)  # the previous notebook's 'error' filter is gone
Path(run_dir, "pid_02").write_text(str(os.getpid()))
Path(run_dir, "checked").write_text("yes")
"""


def _notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('run_dir: str = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def pair(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "01_first.ipynb", FIRST)
    _notebook(folder / "02_second.ipynb", SECOND)
    monkeypatch.setattr(run_module, "NOTEBOOK_DIR", folder)
    monkeypatch.setattr(run_module, "PIPELINES", {"pair": "[0-9][0-9]_*.ipynb"})
    return folder


def test_shared_kernel_runs_every_notebook_in_one_process_with_a_clean_namespace(pair, tmp_path):
    result = run_module.execute("pair", {}, output_root=tmp_path / "out", kernel="python3")
    assert result.status == "succeeded" and result.record["kernel_mode"] == "shared"
    run_dir = result.run_dir
    assert (run_dir / "checked").read_text() == "yes"  # the second notebook's isolation asserts passed
    assert (run_dir / "pid_01").read_text() == (run_dir / "pid_02").read_text()  # one kernel process
    # the parameters cell papermill injects is the only thing the second notebook starts with
    executed = nbformat.read(run_dir / "02_second.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)


def test_fresh_kernels_start_one_process_per_notebook(pair, tmp_path):
    result = run_module.execute("pair", {}, output_root=tmp_path / "out", kernel="python3", shared_kernel=False)
    assert result.record["kernel_mode"] == "fresh"
    assert (result.run_dir / "pid_01").read_text() != (result.run_dir / "pid_02").read_text()
    assert (result.run_dir / "checked").read_text() == "yes"


def test_a_failing_notebook_stops_the_shared_run(pair, tmp_path):
    _notebook(pair / "01_first.ipynb", "raise ValueError('broken on purpose')")
    with pytest.raises(RunError, match="01_first.ipynb failed: ValueError: broken on purpose"):
        run_module.execute("pair", {}, output_root=tmp_path / "out", kernel="python3")
    run_dir = next((tmp_path / "out").iterdir())
    assert not (run_dir / "02_second.ipynb").exists() and not (run_dir / "report.html").exists()


class _Shell:
    def __init__(self) -> None:
        self.resets: list[bool] = []

    def reset(self, new_session: bool) -> None:
        self.resets.append(new_session)


def test_reset_session_restores_warning_filters_and_empties_the_namespace():
    import kpilab._kernel as k

    shell = _Shell()
    saved = dict(k._SNAPSHOT)
    k._SNAPSHOT.clear()
    before = list(warnings.filters)
    try:
        reset_session(shell)  # first call: takes the snapshot
        warnings.simplefilter("error")
        assert warnings.filters != before
        reset_session(shell)
        assert warnings.filters == before
        assert shell.resets == [False, False]  # keep the history, like %reset -f
    finally:
        warnings.filters[:] = before
        k._SNAPSHOT.clear()
        k._SNAPSHOT.update(saved)


FIGURE = """
import matplotlib.pyplot as plt
from kpilab.outputs import save_figure
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([0, 1], [1, 0])
save_figure(run_dir, "line", fig)
plt.show()
assert plt.get_fignums() == [], "save_figure leaves the figure open in a kernel"
"""


def test_save_figure_in_a_kernel_shows_the_saved_png_once(tmp_path):
    nb = _notebook(tmp_path / "fig.ipynb", FIGURE)
    result = run_module.execute(str(nb), {}, output_root=tmp_path / "out", kernel="python3")
    executed = nbformat.read(result.run_dir / "fig.ipynb", as_version=4)
    images = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) == 1  # drawn once: the saved file, not a second rendering by the inline backend
    saved = (result.run_dir / "figures" / "line.png").read_bytes()
    import base64

    assert base64.b64decode(images[0]["data"]["image/png"]) == saved
    assert images[0]["metadata"]["image/png"]["width"] == round(int.from_bytes(saved[16:20], "big") * 100 / 120)


def test_save_figure_outside_a_kernel_leaves_the_figure_open(tmp_path):
    import matplotlib.pyplot as plt

    from kpilab.outputs import save_figure

    fig, ax = plt.subplots()
    save_figure(tmp_path, "open", fig)
    assert plt.fignum_exists(fig.number)
    plt.close(fig)


def test_import_papermill_skips_the_slow_optional_format_checker_and_still_validates():
    """A fresh interpreter: papermill loads without rfc3987_syntax; nbformat validation still works."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from kpilab.run import import_papermill\n"
        "pm = import_papermill()\n"
        "import nbformat\n"
        "assert 'rfc3987_syntax' not in sys.modules\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = 1')])\n"
        "nbformat.validate(nb)\n"
        "nb.cells[0]['bogus'] = 1\n"
        "try:\n"
        "    nbformat.validate(nb)\n"
        "except nbformat.ValidationError:\n"
        "    print('invalid caught')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "invalid caught"
