"""House rules that can be checked mechanically: ruff clean, notebooks thin and output-free."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import PROJ_ROOT

NOTEBOOKS = sorted((PROJ_ROOT / "notebooks").glob("*.ipynb"))


def test_ruff_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    result = subprocess.run([ruff, "check", "kpilab", "tests", "bench"], cwd=PROJ_ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean_and_parameterised(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"  # the runner picks the kernel explicitly
    assert nb.cells[0].cell_type == "markdown", "a title cell first"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "strip outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert tagged[0] is nb.cells[1], "the parameters cell follows the title"
    params = tagged[0].source
    for name in ("data_dir", "run_dir", "framework_path", "period"):
        assert f"{name}:" in params, f"parameter {name} missing"
    # papermill must parse every parameter line (an '=' or quote in a comment silently hides it)
    import papermill as pm

    assigned = [ln.split(":")[0].split("=")[0].strip() for ln in params.splitlines()
                if ln.strip() and not ln.lstrip().startswith("#")]
    assert sorted(pm.inspect_notebook(str(path))) == sorted(assigned)
    # thin: no function or class definitions in notebooks (logic lives in kpilab/)
    assert not any(line.lstrip().startswith(("def ", "class ")) for c in code for line in c.source.splitlines())
