"""The papermill runner: parameters, run folders, run.json, report, failures."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from kpilab.cli import main
from kpilab.errors import RunError
from kpilab.report.collect import check_run_succeeded
from kpilab.run import execute, load_params_file, new_run_dir, parse_cli_value, resolve_target


def make_notebook(path: Path, body: str = "print('total', a + b)") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('a: int = 1  # first\nb: int = 2  # second\nrun_dir: str = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny"),
        params,
        nbformat.v4.new_code_cell(body),
        nbformat.v4.new_markdown_cell("The end."),
    ]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def tiny(tmp_path) -> Path:
    return make_notebook(tmp_path / "tiny.ipynb")


def test_unknown_parameter_refused_before_anything_runs(tiny, tmp_path):
    root = tmp_path / "outputs"
    with pytest.raises(RunError, match=r"Unknown parameter\(s\) c for .*known: a, b. Nothing was run."):
        execute(str(tiny), {"c": 3}, output_root=root)
    assert not root.exists() or not any(root.iterdir())


def test_reserved_parameter_refused(tiny, tmp_path):
    with pytest.raises(RunError, match="set by the runner"):
        execute(str(tiny), {"run_dir": "/tmp/x"}, output_root=tmp_path)


def test_run_writes_notebook_report_and_record(tiny, tmp_path):
    result = execute(str(tiny), {"a": 40}, output_root=tmp_path / "outputs", kernel="python3", name="smoke")
    assert result.status == "succeeded" and result.run_dir.name.endswith("-smoke")
    executed = nbformat.read(result.run_dir / "tiny.ipynb", as_version=4)
    outputs = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "total 42" in outputs
    html = result.report.read_text()
    # the report is generated from the run folder (a one-notebook run has no review steps to show)
    assert "Executive summary" in html and "Not run in this review" in html
    assert "print(" not in html and "total 42" not in html  # no code cells, no raw notebook output
    record = json.loads((result.run_dir / "run.json").read_text())
    assert record["status"] == "succeeded" and record["parameters"] == {"a": 40}
    assert record["steps"][0]["params"] == {"a": 40} and record["steps"][0]["seconds"] >= 0
    assert {"pandas", "papermill", "kpilab"} <= set(record["versions"])
    assert "report.html" in record["outputs"]


def test_failed_notebook_leaves_copy_and_no_report(tmp_path):
    nb = make_notebook(tmp_path / "broken.ipynb", body="raise ValueError('boom')")
    with pytest.raises(RunError, match=r"broken.ipynb failed: ValueError: boom.*no report"):
        execute(str(nb), {}, output_root=tmp_path / "outputs", kernel="python3")
    (run_dir,) = (tmp_path / "outputs").iterdir()
    assert (run_dir / "broken.ipynb").is_file()
    assert not (run_dir / "report.html").exists()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"


def test_run_folders_are_never_overwritten(tmp_path):
    dirs = {new_run_dir("same", tmp_path) for _ in range(5)}
    assert len(dirs) == 5 and all(d.is_dir() for d in dirs)
    (next(iter(dirs)) / "keep.txt").write_text("x")
    assert len({new_run_dir("same", tmp_path) for _ in range(3)} | dirs) == 8


def test_parameter_parsing_and_files(tmp_path):
    assert parse_cli_value("3") == 3 and parse_cli_value("0.3") == 0.3
    assert parse_cli_value("true") is True and parse_cli_value("spearman") == "spearman"
    f = tmp_path / "q3.yaml"
    f.write_text("period_start: 2025-07-01\nthreshold: 0.3\n")
    assert load_params_file(f) == {"period_start": "2025-07-01", "threshold": 0.3}  # dates stay strings
    j = tmp_path / "run.json"
    j.write_text(json.dumps({"parameters": {"threshold": 0.25}}))
    assert load_params_file(j) == {"threshold": 0.25}


def test_resolve_target_errors():
    with pytest.raises(RunError, match="Unknown run target 'nope'"):
        resolve_target("nope")


def test_report_refuses_failed_notebooks(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"exception": True}
    nbformat.write(nb, tmp_path / "02_x.ipynb")
    with pytest.raises(RunError, match="failed"):
        check_run_succeeded(tmp_path, {"status": "succeeded", "steps": []})


def test_cli_run_unknown_parameter_exit_code(tiny, capsys):
    assert main(["run", str(tiny), "-p", "zzz", "1"]) == 2
    assert "Unknown parameter(s) zzz" in capsys.readouterr().err


def test_example_params_file_matches_the_review_notebooks():
    from kpilab.run import notebook_parameters
    from tests.conftest import PROJ_ROOT

    params = load_params_file(PROJ_ROOT / "data" / "review_params_example.yaml")
    declared = set().union(*(notebook_parameters(nb) for nb in resolve_target("review")))
    assert set(params) <= declared, set(params) - declared
    assert params["period_start"] == "2025-07-01"


@pytest.mark.parametrize(
    "name, text, message",
    [("p.yaml", "a: [1, 2\nb: 3\n", r"p.yaml is not valid YAML at line 2, column \d+"),
     ("p.yaml", "a: 1\nb: 2\na: 3\n", r"key 'a' appears twice \(line 1 and line 3\)"),
     ("p.json", '{"a": 1,\n "b": }\n', r"p.json is not valid JSON at line 2, column 7"),
     ("p.json", '{"a": 1, "a": 2}', r"key 'a' appears twice"),
     ("p.yaml", "- a\n- b\n", r"must hold a mapping")],
)
def test_malformed_parameter_files_name_line_and_column(tmp_path, capsys, name, text, message):
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(RunError, match=message):
        load_params_file(f)
    assert main(["run", "review", "-f", str(f), "--output-root", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and not (tmp_path / "o").exists()


def _pwc_like(folder: Path, *, retained: bool) -> Path:
    """A tiny canonical folder: contacts (with or without `retained`) and surveys."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    t = pd.Timestamp("2025-03-03 08:00")
    contacts = pd.DataFrame({"contact_id": ["c1", "c2"], "channel": "phone", "agent_id": ["a1", "a2"],
                             "customer_id": ["k1", "k2"], "arrived_at": [t, t], "answered_at": [t, t],
                             "ended_at": [t + pd.Timedelta(minutes=3)] * 2, "talk_s": [100.0, 120.0],
                             "abandoned": False})
    if retained:
        contacts["retained"] = True
    contacts.to_parquet(folder / "contacts.parquet", index=False)
    pd.DataFrame({"survey_id": ["s1"], "contact_id": ["c1"], "responded_at": ["2025-03-03 09:00"],
                  "csat": [4]}).to_csv(folder / "surveys.csv", index=False)
    return folder


def test_an_outcome_the_data_cannot_give_stops_the_review_before_anything_runs(tmp_path):
    """The default outcome needs contacts.retained: without it (the PwC log) the review stopped at notebook 02
    after two notebooks had run; now it stops at once, names what is missing and what the data can give."""
    data = _pwc_like(tmp_path / "data", retained=False)
    root = tmp_path / "outputs"
    with pytest.raises(RunError, match=r"The outcome 'retention_rate' cannot be computed from .*: table 'contacts' "
                                       r"has no column\(s\) retained\. Pass -p outcome CODE with one the data "
                                       r"support \(agent indicators these data can give: csat, .*aht.*\).*Nothing "
                                       r"was run\."):
        execute("review", {"data_dir": str(data)}, output_root=root)
    with pytest.raises(RunError, match=r"The outcome 'cst' is not an indicator of the framework"):
        execute("review", {"data_dir": str(data), "outcome": "cst"}, output_root=root)
    with pytest.raises(RunError, match=r"The outcome 'nps' cannot be computed .*table 'surveys' has no "
                                       r"column\(s\) nps") as err:
        execute("review", {"data_dir": str(data), "outcome": "nps"}, output_root=root)
    assert "service_level" not in str(err.value)  # an indicator of the queue has no agent rows to judge
    assert not root.exists() or not any(root.iterdir())


def test_indicator_availability_gives_the_panels_own_reasons(tmp_path):
    """indicator_availability (column names only) and compute_panel (which reads the rows) skip the same
    indicators for the same reasons; a folder read through a column mapping is left undecided (None)."""
    from kpilab.indicators import compute_panel, indicator_availability

    data = _pwc_like(tmp_path / "data", retained=False)
    avail = indicator_availability(data)
    notices = compute_panel(data, period="month", unit="agent").notices
    skipped = {n.split(":", 1)[0]: n for n in notices if ": skipped, " in n}
    assert {r.indicator: r.reason for r in avail.itertuples() if not r.available} == skipped
    assert avail.set_index("indicator").loc["service_level", "level"] == "queue"
    with_outcome = indicator_availability(_pwc_like(tmp_path / "data2", retained=True))
    assert with_outcome.set_index("indicator").loc["retention_rate", "available"]
    (data / "surveys.mapping.yaml").write_text("table: surveys\ncolumns: {}\n")
    assert indicator_availability(data) is None
