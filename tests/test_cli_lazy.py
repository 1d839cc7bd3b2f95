"""The command line imports only the command it runs (kpilab --help imports no analysis library)."""

from __future__ import annotations

import subprocess
import sys

from kpilab.cli import COMMAND_MODULES, _peek, build_parser

_HEAVY = ("pandas", "scipy", "matplotlib", "statsmodels", "sklearn", "duckdb")


def _modules_after(argv: list[str]) -> set[str]:
    """Top-level packages imported by ``kpilab <argv>`` in a fresh interpreter (help text aside)."""
    code = ("import json, sys\nfrom kpilab.cli import main\ntry:\n    main(json.loads(sys.argv[1]))\n"
            "except SystemExit:\n    pass\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)")
    import json

    out = subprocess.run([sys.executable, "-c", code, json.dumps(argv)], capture_output=True, text=True, check=True)
    return set(json.loads(out.stderr.strip().splitlines()[-1]))


def test_help_imports_no_analysis_library():
    loaded = _modules_after(["--help"])
    assert not loaded & set(_HEAVY), loaded & set(_HEAVY)


def test_framework_help_imports_its_module_only():
    loaded = _modules_after(["framework", "--help"])
    assert "statsmodels" not in loaded and "sklearn" not in loaded and "matplotlib" not in loaded


def test_lazy_listing_matches_the_modules():
    """Every command listed without importing has the NAME and HELP its module defines."""
    import importlib

    full = build_parser()
    lazy = build_parser("framework")
    sub_full = next(a for a in full._actions if a.dest == "command")
    sub_lazy = next(a for a in lazy._actions if a.dest == "command")
    assert list(sub_full.choices) == list(sub_lazy.choices)
    for mod_name in COMMAND_MODULES:
        info = _peek(mod_name)
        if info is None:
            continue
        mod = importlib.import_module(mod_name)
        assert info == (mod.NAME, mod.HELP)
    assert _peek("kpilab.commands.no_such_command") is None


def _console(argv: list[str], tmp_path, pipe_to_head: bool = False) -> subprocess.CompletedProcess:
    """``kpilab <argv>`` through the script's entry point (kpilab.cli.console), with TMPDIR in tmp_path."""
    import os

    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp)}
    code = "import sys\nfrom kpilab.cli import console\nsys.argv = ['kpilab', *sys.argv[1:]]\nconsole()"
    cmd = [sys.executable, "-c", code, *argv]
    if pipe_to_head:
        first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        head = subprocess.run(["head", "-n", "1"], stdin=first.stdout, capture_output=True, text=True)
        first.stdout.close()
        err = first.stderr.read().decode()
        return subprocess.CompletedProcess(cmd, first.wait(), head.stdout, err)
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def test_script_exit_keeps_status_output_and_cleanup(tmp_path):
    """The quick exit of the script (exit handlers, flush, os._exit) keeps what a normal exit gives:
    the status, every printed line, the written files, and no temporary folder left behind (a CSV
    input is read through a temporary typed copy)."""
    import numpy as np
    import pandas as pd

    data = tmp_path / "data"
    data.mkdir()
    n = 400
    arrived = pd.Timestamp("2025-03-03 08:00") + pd.to_timedelta(np.arange(n) * 7, unit="min")
    pd.DataFrame({"contact_id": [f"c{i}" for i in range(n)], "channel": "phone", "queue": "q1",
                  "agent_id": [f"A{i % 5}" for i in range(n)], "arrived_at": arrived,
                  "answered_at": arrived + pd.Timedelta(seconds=20), "ended_at": arrived + pd.Timedelta(seconds=300),
                  "talk_s": 280.0, "abandoned": False}).to_csv(data / "contacts.csv", index=False)
    out = tmp_path / "out" / "panel.parquet"
    done = _console(["panel", "--data", str(data), "--period", "week", "--out", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("elapsed ") and f"wrote {out}" in done.stdout
    assert len(pd.read_parquet(out)) > 0
    assert list((tmp_path / "tmp").iterdir()) == []
    bad = _console(["panel", "--data", str(tmp_path / "none"), "--period", "week", "--out", str(out)], tmp_path)
    assert bad.returncode == 2 and "error:" in bad.stderr
    piped = _console(["panel", "--data", str(data), "--period", "week", "--out", str(tmp_path / "p2.csv")],
                     tmp_path, pipe_to_head=True)
    assert piped.returncode == 0 and piped.stdout.startswith("Indicator panel") and "Traceback" not in piped.stderr
