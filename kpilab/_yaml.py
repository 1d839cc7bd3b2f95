"""Read a YAML file that must hold a mapping, with kpilab's error wording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kpilab.errors import KpilabError


def read_yaml_mapping(path: str | Path, what: str, error: type[KpilabError], hint: str = "") -> dict[str, Any]:
    """Parse ``path`` as YAML and return the top-level mapping.

    ``what`` names the file in messages ("Framework file"); ``error`` is the
    KpilabError subclass to raise when the file is missing, not YAML, or not a
    mapping; ``hint`` is appended to the "missing" message.
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} {path} does not exist." + (f" {hint}" if hint else ""))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise error(f"{what} {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise error(f"{what} {path} must hold a mapping at the top level.")
    return data
