"""The README's Python example runs as written."""

from __future__ import annotations

import re
import warnings

from tests.conftest import PROJ_ROOT


def test_readme_python_blocks_run(capsys):
    text = (PROJ_ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README should show Python usage"
    for block in blocks:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "keep" in out and "spearman" in out
