"""End to end: simulate a tiny centre, run the whole review pipeline, check the run folder."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from kpilab.run import execute, notebook_parameters, resolve_target

pytestmark = pytest.mark.slow

# Small, fast settings for whichever notebooks declare them.
SMOKE = {"n_boot": 50, "n_bootstrap": 50, "bootstrap": 50, "min_n": 5, "n_runs": 20}


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from kpilab.simulate import simulate, write_simulation

    out = tmp_path_factory.mktemp("tiny-centre")
    write_simulation(simulate(agents=12, months=3, seed=7), out)
    return out


def test_review_pipeline_end_to_end(tiny_data, tmp_path):
    notebooks = resolve_target("review")
    declared = set().union(*(notebook_parameters(nb) for nb in notebooks))
    params = {"data_dir": str(tiny_data)} | {k: v for k, v in SMOKE.items() if k in declared}
    result = execute("review", params, output_root=tmp_path / "outputs", name="e2e", kernel="python3",
                     execution_timeout=600)
    run_dir = result.run_dir
    assert result.status == "succeeded"
    assert [p.name for p in result.notebooks] == [nb.name for nb in notebooks]
    html = result.report.read_text()
    # the report shows results and narrative but no code
    assert "The data and the framework" in html
    assert not re.search(r'class="[^"]*(hl-ipython3|jp-CodeMirrorEditor)', html)
    assert "import kpilab" not in html and "save_table(" not in html
    assert "Traceback" not in html
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "succeeded" and len(record["steps"]) == len(notebooks)
    assert any(k.endswith("contacts.parquet") for k in record["inputs"])
    assert (run_dir / "tables" / "agent_overview.csv").is_file()
    assert (run_dir / "figures" / "agent_csat.png").is_file()


@pytest.mark.shared_data
@pytest.mark.parametrize("source, outcome", [("pwc", "csat"), ("helpdesk", "reopen_rate")])
def test_review_pipeline_on_real_exports(shared_data, tmp_path, source, outcome):
    """The whole review runs on real exports that lack most tables (calls only; tickets only)."""
    from kpilab.adapters import helpdesk_event_log, pwc_call_log, write_tables

    if source == "pwc":
        tables = pwc_call_log(shared_data / "pwc-call-center" / "pwc_call_center_dataset.xlsx")
    else:
        tables = helpdesk_event_log(shared_data / "helpdesk-eventlog" / "Helpdesk.csv")
    data = tmp_path / source
    write_tables(tables, data)
    result = execute("review", {"data_dir": str(data), "outcome": outcome, "n_boot": 50}, name=source,
                     output_root=tmp_path / "outputs", kernel="python3", execution_timeout=600)
    assert result.status == "succeeded" and result.report.is_file()
    tables = result.run_dir / "tables"
    decisions = pd.read_csv(tables / "decisions.csv")
    assert len(decisions) >= 3 and outcome not in set(decisions["indicator"])
    assert set(decisions["decision"]) <= {"keep", "review", "prune"}
    assert decisions["reason"].str.len().gt(20).all()  # every decision says why, in words
    # PwC has 8 agents (below the 10-unit rule), the help desk 19 with wide intervals: no indicator that
    # varies is kept or pruned on such evidence; each says why it is left for review
    varying = decisions[decisions["decision"] != "prune"]
    assert len(varying) and (varying["decision"] == "review").all()
    pruned = decisions[decisions["decision"] == "prune"]
    assert pruned["reason"].str.contains("same value").all()  # only constant indicators (PwC response rate)
    expected = r"Only 8 units" if source == "pwc" else r"Unclear: r = .* interval"
    assert varying["reason"].str.contains(expected).all()
    if source == "pwc":
        # the published figures of the PwC file: 5,000 offered, 4,054 answered, mean speed of answer 67.52 s
        ch = pd.read_csv(tables / "channel_overview.csv").set_index("channel").loc["phone"]
        assert (ch["offered"], ch["answered"]) == (5000, 4054)
        assert ch["mean_wait_s"] == pytest.approx(67.5207, abs=1e-3)
        # notebook 06: daily abandonment per queue, and all 946 abandons count (none are 'short')
        alerts = pd.read_csv(tables / "alerts.csv")
        assert {"abandon_rate", "service_level"} <= set(alerts["indicator"])
        panel = pd.read_parquet(result.run_dir / "panel.parquet")
        agents = panel[(panel["indicator"] == "aht") & (panel["unit_level"] == "agent")]
        assert agents["n"].sum() == 4054  # every answered call, pooled over agents and months
    else:
        assert "Skipped" in result.report.read_text() or "skipped" in result.report.read_text()
        panel = pd.read_parquet(result.run_dir / "panel.parquet")
        created = panel[(panel["indicator"] == "tickets_created") & (panel["unit_level"] == "agent")]
        if len(created):
            assert created["value"].sum() <= 4580
