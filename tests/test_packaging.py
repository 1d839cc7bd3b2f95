"""pyproject.toml and environment.yml list the same packages with the same lower bounds."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.conftest import PROJ_ROOT

# conda-forge names that differ from PyPI names
CONDA_NAMES = {"python-duckdb": "duckdb"}


def _req(spec: str) -> tuple[str, str]:
    m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(>=\s*[\w.]+)?", spec)
    assert m, spec
    return m.group(1).lower(), (m.group(2) or "").replace(" ", "")


def test_environment_matches_pyproject():
    project = tomllib.loads((PROJ_ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_req(s) for s in project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((PROJ_ROOT / "environment.yml").read_text())
    have: dict[str, str] = {}
    for dep in env["dependencies"]:
        specs = dep["pip"] if isinstance(dep, dict) else [dep]
        for spec in specs:
            if spec.startswith("-e") or spec in ("pip",) or spec.startswith("python>="):
                continue
            name, bound = _req(spec)
            have[CONDA_NAMES.get(name, name)] = bound
    assert have == wanted
    assert env["channels"] == ["conda-forge"]
    assert {"pip": ["pymcdm>=1.4", "-e ."]} in env["dependencies"]


def test_explicit_package_discovery():
    tool = tomllib.loads((PROJ_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert tool["packages"][0] == "kpilab"
    # every sub-package is declared, or a non-editable install silently ships without it
    on_disk = sorted("kpilab." + p.parent.name for p in (PROJ_ROOT / "kpilab").glob("*/__init__.py"))
    assert sorted(set(tool["packages"]) - {"kpilab"}) == on_disk
