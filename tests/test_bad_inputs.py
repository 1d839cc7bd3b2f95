"""Every messy export gets a named error (exit 2) or an exact account (exit 0), never a traceback.

The cases live in :mod:`tests.bad_inputs` (one per defect class); each runs the
command line in-process (``kpilab.cli.main``). A couple of subprocess runs
check what only a real process shows (a closed pipe, the console script).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kpilab.cli import main
from tests.bad_inputs import CASES, Case, sim_tables, write_clean

PROJ_ROOT = Path(__file__).resolve().parents[1]


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run ``kpilab`` in-process; any exception other than SystemExit is a traceback and fails."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 2), f"exit {code}: {err}"
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> pd.DataFrame:
    d = tmp_path_factory.mktemp("clean")
    write_clean(d / "data")
    assert main(["panel", "--data", str(d / "data"), "--period", "month", "--out", str(d / "p.csv")]) == 0
    return pd.read_csv(d / "p.csv", dtype={"unit_id": str})


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, tmp_path, capsys, reference):
    d = tmp_path / "in"
    d.mkdir()
    extra = case.build(d)
    out = tmp_path / "out" / "panel.csv"
    if case.argv is not None:
        argv = case.argv(d)
        if argv[0] != "run":
            argv = ["panel", *argv, "--period", "month", "--out", str(out)]
    else:
        argv = ["panel", "--data", str(d), "--period", "month", "--out", str(out), *(extra or [])]
    code, stdout, stderr = run_cli(argv, capsys)
    if case.outcome == "refused":
        assert code == 2, f"expected a refusal, got exit 0:\n{stdout}"
        line = stderr.strip()
        assert "\n" not in line, f"the error is not one line: {line}"
        for pattern in case.names:
            assert re.search(pattern, line), f"{pattern!r} not in: {line}"
        return
    assert code == 0, stderr
    panel = pd.read_csv(out, dtype={"unit_id": str})
    acc = pd.read_csv(out.with_name("panel.accounting.csv"))
    first = acc.groupby("table").first()
    assert (first["rows_read"] == first["rows_used"] + first["rows_excluded"]).all()
    if case.outcome == "excluded":
        rows = acc[(acc["table"] == case.table) & (acc["kind"] == "excluded") & acc["reason"].isin(case.reasons)]
        assert rows["rows"].sum() == case.count, acc
        return
    case.check(panel, reference, stdout=stdout, accounting=acc)


# ----------------------------------------------------------------------------- output locations
@pytest.fixture()
def data(tmp_path) -> Path:
    d = tmp_path / "data"
    write_clean(d, "csv")
    return d


def test_out_over_an_input_is_refused(data, capsys):
    before = (data / "contacts.csv").read_bytes()
    code, _, err = run_cli(["panel", "--data", str(data), "--period", "month", "--out", str(data / "contacts.csv")],
                           capsys)
    assert code == 2 and "would write over the input" in err and "contacts.csv" in err
    assert (data / "contacts.csv").read_bytes() == before


def test_out_as_a_new_canonical_table_of_the_data_folder_is_refused(data, capsys):
    code, _, err = run_cli(["panel", "--data", str(data), "--period", "month", "--out",
                            str(data / "surveys.parquet")], capsys)
    assert code == 2 and "canonical table 'surveys'" in err


def test_existing_foreign_file_is_not_overwritten(data, tmp_path, capsys):
    out = tmp_path / "o" / "panel.csv"
    out.parent.mkdir()
    out.write_text("mine\n")
    code, _, err = run_cli(["panel", "--data", str(data), "--period", "month", "--out", str(out)], capsys)
    assert code == 2 and "already exists and kpilab did not write it" in err
    assert out.read_text() == "mine\n"


def test_second_run_replaces_its_own_file_and_says_so(data, tmp_path, capsys):
    out = tmp_path / "o" / "panel.csv"
    argv = ["panel", "--data", str(data), "--period", "month", "--out", str(out)]
    assert run_cli(argv, capsys)[0] == 0
    code, stdout, _ = run_cli(argv, capsys)
    assert code == 0 and "replacing 2 file(s) an earlier kpilab run wrote" in stdout


def test_unwritable_location_fails_before_computing(data, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, stdout, err = run_cli(["panel", "--data", str(data), "--period", "month", "--out",
                                 str(blocker / "panel.csv")], capsys)
    assert code == 2 and "not writable" in err and "Nothing was computed" in err
    assert "Indicator panel" not in stdout


def test_output_folder_rules(tmp_path):
    from kpilab.errors import OutputError
    from kpilab.outputs import OUTPUT_MARKER, prepare_output

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not empty"):
        prepare_output(foreign, kind="dir")
    out = tmp_path / "review"
    prepare_output(out, kind="dir")
    (out / "figures").mkdir()
    (out / "figures" / "old.png").write_text("x")
    (out / "decisions.csv").write_text("x")
    target = prepare_output(out, kind="dir")  # kpilab-owned: the earlier run's files go, all of them
    assert sorted(p.name for p in out.rglob("*")) == [OUTPUT_MARKER]
    assert "replacing 2 file(s)" in target.notice()
    panel = tmp_path / "p.csv"
    panel.write_text("x")
    with pytest.raises(OutputError, match="write over the input"):
        prepare_output(tmp_path, kind="dir", inputs=[panel])


def test_health_refuses_a_foreign_folder_before_computing(tmp_path, capsys):
    panel = tmp_path / "wide.csv"
    pd.DataFrame({"unit_id": ["a", "b"], "x": [1, 2]}).to_csv(panel, index=False)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    code, _, err = run_cli(["health", "--panel", str(panel), "--outcome", "x", "--out", str(out)], capsys)
    assert code == 2 and "kpilab did not create" in err
    assert (out / "notes.txt").read_text() == "keep"


# ----------------------------------------------------------------------------- real processes
def _kpilab() -> list[str]:
    return [sys.executable, "-c", "import sys; from kpilab.cli import main; sys.exit(main())"]


def test_closed_pipe_ends_quietly(tmp_path):
    d = tmp_path / "data"
    write_clean(d)
    out = tmp_path / "p.csv"
    cmd = " ".join(_kpilab()[:2]) + f" '{_kpilab()[2]}' panel --data {d} --period month --out {out} | head -1"
    res = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in res.stderr and "BrokenPipe" not in res.stderr, res.stderr
    assert res.stdout.count("\n") == 1


def test_subprocess_refusal_is_one_line_exit_2(tmp_path):
    d = tmp_path / "data"
    t = sim_tables()
    write_clean(d, "csv", {"contacts": t["contacts"]})
    text = (d / "contacts.csv").read_text().splitlines()
    text[3] += ",x"
    (d / "contacts.csv").write_text("\n".join(text) + "\n")
    res = subprocess.run([*_kpilab(), "panel", "--data", str(d), "--period", "month", "--out", str(tmp_path / "p.csv")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "contacts.csv: line 4 has 16 field(s)" in res.stderr
