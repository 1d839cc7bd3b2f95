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
