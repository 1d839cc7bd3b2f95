"""The quarterly cycle: compare_runs, the diff/ tables, the action log and `kpilab review diff`.

Run folders are built by hand (run.json + the tables the notebooks write), so every expected
count is worked out from the rows written here, independently of the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpilab.cli import main
from kpilab.errors import ParameterError, RunError
from kpilab.outputs import PROJ_ROOT
from kpilab.quarterly import DIFF_TABLES, compare_runs, load_actions, open_run
from kpilab.quarterly.actions import check_actions

FW_COLS = ["code", "name", "pillar", "direction", "unit", "target", "target_source", "outcome", "level"]


def _framework(rows: dict[str, float | None]) -> pd.DataFrame:
    return pd.DataFrame([{"code": c, "name": c.upper(), "pillar": "p", "direction": "higher", "unit": "share",
                          "target": t, "target_source": "", "outcome": False, "level": "agent"}
                         for c, t in rows.items()], columns=FW_COLS)


def make_run(root: Path, name: str, *, status: str = "succeeded", params: dict | None = None,
             decisions: dict[str, tuple[str, float]] | None = None,
             grades: list[tuple[str, str, str, str]] | None = None,
             framework: dict[str, float | None] | None = None,
             weights: list[tuple[str, str, float]] | None = None, pseudo: str | None = None) -> Path:
    """A run folder: decisions {code: (decision, r)}, grades [(agent, team, grade, tier)] for the latest
    period (an older period with grade 'E' is added to check that only the latest counts), weights
    [(role, code, weight)]."""
    d = root / name
    (d / "tables").mkdir(parents=True)
    rec = {"run_id": name, "status": status, "parameters": params or {}, "inputs": {},
           "steps": [{"step": "02_indicator_health", "status": "failed" if status == "failed" else "succeeded"}]}
    if pseudo:
        rec["pseudonymisation"] = {"key_fingerprint": pseudo}
    (d / "run.json").write_text(json.dumps(rec))
    if decisions is not None:
        pd.DataFrame([{"indicator": c, "r": r, "decision": dec} for c, (dec, r) in decisions.items()]).to_csv(
            d / "tables" / "decisions.csv", index=False)
    if grades is not None:
        rows = [{"unit_id": a, "period": "2025-01-01", "team": t, "role": "front_line", "index": 10.0,
                 "grade": "E", "tier": "improvement_plan"} for a, t, _, _ in grades]
        rows += [{"unit_id": a, "period": "2025-03-01", "team": t, "role": "front_line", "index": 50.0, "grade": g,
                  "tier": tier} for a, t, g, tier in grades]
        pd.DataFrame(rows).to_csv(d / "tables" / "scores.csv", index=False)
    if framework is not None:
        _framework(framework).to_csv(d / "tables" / "framework_indicators.csv", index=False)
    if weights is not None:
        pd.DataFrame(weights, columns=["role", "indicator", "weight"]).to_csv(d / "tables" / "score_weights.csv",
                                                                             index=False)
    return d


@pytest.fixture()
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a = make_run(tmp_path, "20250704-q2", params={"threshold": 0.3, "outcome": "retention_rate"},
                 decisions={"aht": ("keep", 0.45), "hold_rate": ("review", 0.25), "csat": ("keep", 0.7)},
                 grades=[("A1", "T1", "B", "mid"), ("A2", "T1", "C", "junior"), ("A3", "T2", "C", "junior"),
                         ("A4", "T2", "D", "junior")],
                 framework={"aht": 330.0, "hold_rate": 0.05, "csat": 4.5, "fcr": None},
                 weights=[("front_line", "aht", 0.4), ("front_line", "hold_rate", 0.2),
                          ("front_line", "csat", 0.2), ("front_line", "fcr", 0.2)])
    b = make_run(tmp_path, "20251003-q3", params={"threshold": 0.5, "outcome": "retention_rate"},
                 decisions={"aht": ("prune", 0.12), "csat": ("keep", 0.72), "ces": ("keep", 0.6)},
                 grades=[("A1", "T1", "B", "mid"), ("A2", "T1", "B", "mid"), ("A3", "T2", "D", "junior"),
                         ("A5", "T2", "C", "junior")],
                 framework={"aht": 300.0, "csat": 4.5, "fcr": None, "ces": 5.0},
                 weights=[("front_line", "aht", 0.2), ("front_line", "csat", 0.3), ("front_line", "fcr", 0.3),
                          ("front_line", "ces", 0.2)])
    return a, b


def test_decisions_parameters_weights_framework(two_runs: tuple[Path, Path]) -> None:
    a, b = two_runs
    c = compare_runs(a, b)
    assert c.comparable, c.limits
    dec = c.decisions.set_index("indicator")
    # aht keep -> prune with r 0.45 -> 0.12; hold_rate left the review; ces is new; csat unchanged (not listed)
    assert set(dec.index) == {"aht", "hold_rate", "ces"}
    assert (dec.loc["aht", "decision_before"], dec.loc["aht", "decision_after"]) == ("keep", "prune")
    assert dec.loc["aht", "r_before"] == pytest.approx(0.45) and dec.loc["aht", "r_after"] == pytest.approx(0.12)
    assert pd.isna(dec.loc["hold_rate", "decision_after"]) and pd.isna(dec.loc["ces", "decision_before"])
    par = c.parameters.set_index("parameter")
    assert list(par.index) == ["threshold"]
    assert (par.loc["threshold", "before"], par.loc["threshold", "after"]) == (0.3, 0.5)
    w = c.weights.set_index("indicator")
    assert w.loc["aht", "change"] == pytest.approx(-0.2)
    assert w.loc["hold_rate", "change"] == pytest.approx(-0.2)  # gone: loses its whole weight
    assert w.loc["ces", "change"] == pytest.approx(0.2)
    assert w["change"].sum() == pytest.approx(0.0)  # both sets sum to 1
    fw = c.framework
    assert set(fw.loc[fw["change"] == "added", "indicator"]) == {"ces"}
    assert set(fw.loc[fw["change"] == "removed", "indicator"]) == {"hold_rate"}
    t = fw[(fw["change"] == "changed")]
    assert t[["indicator", "field", "before", "after"]].values.tolist() == [["aht", "target", 330.0, 300.0]]


def test_grade_migration_and_tiers_latest_period(two_runs: tuple[Path, Path]) -> None:
    a, b = two_runs
    c = compare_runs(a, b)
    got = {tuple(r[:3]): r[3] for r in c.grade_migration.itertuples(index=False)}
    # by hand: T1: A1 B->B, A2 C->B; T2: A3 C->D, A4 D->(left), A5 (new)->C
    assert got == {("T1", "B", "B"): 1, ("T1", "C", "B"): 1, ("T2", "C", "D"): 1, ("T2", "D", "(left)"): 1,
                   ("T2", "(new)", "C"): 1}
    assert c.grade_migration["agents"].sum() == 5
    tiers = {(r.tier_before, r.tier_after): r.agents for r in c.tiers.itertuples(index=False)}
    assert tiers == {("mid", "mid"): 1, ("junior", "mid"): 1, ("junior", "junior"): 1, ("junior", "(left)"): 1,
                     ("(new)", "junior"): 1}
    m = c.migration_matrix("T1")
    assert m.loc["C", "B"] == 1 and m.loc["B", "B"] == 1
    assert c.counts["agents_both"] == 3 and c.counts["agents_new"] == 1 and c.counts["agents_left"] == 1


def test_diff_folder_matches_contract(two_runs: tuple[Path, Path]) -> None:
    a, b = two_runs
    compare_runs(a, b)
    summary = json.loads((b / "diff" / "summary.json").read_text())
    assert summary["previous_run_id"] == "20250704-q2" and summary["comparable"] is True
    assert summary["limits"] == []
    for name, cols in DIFF_TABLES.items():
        if name == "actions":
            assert not (b / "diff" / "actions.csv").exists()  # no actions file given
            continue
        assert list(pd.read_csv(b / "diff" / f"{name}.csv").columns) == cols, name


def test_not_a_run_failed_run_and_same_run_are_errors(tmp_path: Path, two_runs: tuple[Path, Path]) -> None:
    _, b = two_runs
    (tmp_path / "plain").mkdir()
    with pytest.raises(RunError, match="not a kpilab run folder"):
        compare_runs(tmp_path / "plain", b)
    with pytest.raises(RunError, match="does not exist"):
        compare_runs(tmp_path / "nowhere", b)
    failed = make_run(tmp_path, "failed", status="failed")
    with pytest.raises(RunError, match=r"did not succeed \(status 'failed' at 02_indicator_health\)"):
        compare_runs(failed, b)
    with pytest.raises(RunError, match="is the run itself"):
        compare_runs(b, b)
    assert not (b / "diff").exists()  # nothing half-written


def test_other_framework_is_a_stated_limited_comparison(tmp_path: Path) -> None:
    fw_a = tmp_path / "fw_a.yaml"
    fw_b = tmp_path / "fw_b.yaml"
    base = (PROJ_ROOT / "kpilab" / "frameworks" / "contact_centre.yaml").read_text()
    fw_a.write_text(base)
    import yaml

    data = yaml.safe_load(base)
    data["version"] = "2"
    fw_b.write_text(yaml.safe_dump(data))
    a = make_run(tmp_path, "a", params={"framework_path": str(fw_a)}, decisions={"aht": ("keep", 0.4)},
                 grades=[("A1", "T1", "B", "mid")], framework={"aht": 300.0}, weights=[("r", "aht", 1.0)])
    b = make_run(tmp_path, "b", params={"framework_path": str(fw_b)}, decisions={"aht": ("keep", 0.4)},
                 grades=[("A1", "T1", "B", "mid")], framework={"aht": 300.0}, weights=[("r", "aht", 1.0)])
    c = compare_runs(a, b)
    assert not c.comparable
    assert any("different frameworks" in x and "version 1" in x and "version 2" in x for x in c.limits)
    summary = json.loads((b / "diff" / "summary.json").read_text())
    assert summary["comparable"] is False and summary["limits"] == c.limits
    assert "Limited comparison" in c.summary()


def test_missing_tables_and_pseudonym_keys_are_stated(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", grades=[("A-1", "T1", "B", "mid")], framework={"aht": 1.0}, pseudo="k1")
    b = make_run(tmp_path, "b", grades=[("A-1", "T1", "B", "mid")], framework={"aht": 1.0}, pseudo="k2")
    c = compare_runs(a, b)
    assert not c.comparable
    assert any("different keys" in x for x in c.limits)
    assert c.grade_migration.empty  # not joined across keys
    assert any("no tables/decisions.csv" in x for x in c.limits)
    assert any("score_weights" in x for x in c.limits)
    d = make_run(tmp_path, "d", grades=[("A1", "T1", "B", "mid")], framework={"aht": 1.0})
    c2 = compare_runs(a, d)
    assert any("only run a is pseudonymised" in x for x in c2.limits)


def test_actions_example_is_checked(two_runs: tuple[Path, Path]) -> None:
    a, b = two_runs
    example = PROJ_ROOT / "data" / "actions_example.yaml"
    acts = load_actions(example)
    assert [x.action for x in acts] == ["drop", "set_target", "set_weight", "set_parameter"]
    c = compare_runs(a, b, actions=example)
    st = dict(zip(c.actions["action"].str.split(" ").str[:2].str.join(" "), c.actions["status"], strict=True))
    # hold_rate left the framework; aht target 330 -> 300; fcr weighs 0.3 for front_line; threshold 0.3 -> 0.5
    assert st == {"drop hold_rate": "done", "set_target aht": "done", "set_weight fcr": "done",
                  "set_parameter threshold": "done"}
    ev = dict(zip(c.actions["status"].index, c.actions["evidence"], strict=True))
    assert "target is 300 (was 330)" in ev[1]
    assert "30.0 % (front_line)" in ev[2]
    assert list(pd.read_csv(b / "diff" / "actions.csv").columns) == ["action", "status", "evidence"]
    # checked the other way round (q3 -> q2) nothing was carried out
    back = check_actions(acts, open_run(a), open_run(b))
    assert (back["status"] == "not done").all(), back


def test_actions_not_done_and_owner_hidden(tmp_path: Path, two_runs: tuple[Path, Path]) -> None:
    a, b = two_runs
    f = tmp_path / "acts.yaml"
    f.write_text("- action: drop\n  indicator: aht\n  owner: Alice Smith\n"
                 "- action: add\n  indicator: nps\n"
                 "- action: set_weight\n  indicator: csat\n  value: 0.25\n  tolerance: 0.01\n")
    c = compare_runs(a, b, actions=f, show_owner=False)
    assert list(c.actions["status"]) == ["not done", "not done", "not done"]
    assert "weighs 20.0 % (front_line)" in c.actions["evidence"][0]
    assert "30.0 % (front_line)" in c.actions["evidence"][2]
    assert not c.actions["action"].str.contains("Alice").any()
    f.write_text("- action: set_weight\n  indicator: csat\n  value: 0.25\n  tolerance: 0.05\n")
    assert compare_runs(a, b, actions=f).actions["status"].tolist() == ["done"]


@pytest.mark.parametrize("text, match", [
    ("- action: drop\n  indicator: call_durashun\n- action: add\n  indicator: zzz\n",
     r"unknown indicator\(s\): 'call_durashun' \(entry 1\); 'zzz' \(entry 2\)"),
    ("- action: remove\n  indicator: aht\n", "action must be one of drop, add"),
    ("- action: set_weight\n  indicator: aht\n", "set_weight needs 'value'"),
    ("- action: set_weight\n  indicator: aht\n  value: 30\n", "between 0 and 1"),
    ("- action: drop\n  indicator: aht\n  value: 1\n", "drop takes no 'value'"),
    ("- action: drop\n  indicatr: aht\n", "unknown key"),
    ("action: drop\n", "must be a YAML list"),
    ("- action: set_parameter\n  value: 0.5\n", "needs 'parameter'"),
])
def test_bad_actions_files(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "a.yaml"
    f.write_text(text)
    with pytest.raises(ParameterError, match=match):
        load_actions(f)


def test_review_diff_cli(two_runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a, b = two_runs
    out = tmp_path / "diffout"
    assert main(["review", "diff", str(a), str(b), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "aht" in text and "keep -> prune" in text.replace("    ", " ").replace("  ", " ")
    assert "threshold" in text and "0.3 -> 0.5" in text
    assert (out / "grade_migration.csv").is_file() and (out / "summary.json").is_file()
    # rerun into its own folder is fine; a folder inside the previous run is refused
    assert main(["review", "diff", str(a), str(b), "--out", str(out)]) == 0
    assert main(["review", "diff", str(a), str(b), "--out", str(a / "diff")]) == 2
    assert "never rewritten" in capsys.readouterr().err
    assert main(["review", "diff", str(tmp_path), str(b)]) == 2
    assert "not a kpilab run folder" in capsys.readouterr().err
    assert main(["review", "diff", str(a), str(b)]) == 0
    assert (b / "diff" / "decisions.csv").is_file()


def test_parameters_show_folder_names_and_unused(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", params={"data_dir": "/srv/clients/x/2025Q2", "n_boot": 50, "period": "month"})
    b = make_run(tmp_path, "b", params={"data_dir": "/srv/clients/x/2025Q3", "period": "month"})
    p = compare_runs(a, b, write=False).parameters.set_index("parameter")
    assert (p.loc["data_dir", "before"], p.loc["data_dir", "after"]) == ("2025Q2", "2025Q3")  # no machine paths
    assert p.loc["n_boot", "after"] == "(not used)"
    assert "period" not in p.index


_GRADES = st.sampled_from(["A", "B", "C", "D", "E"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.dictionaries(st.sampled_from([f"A{k}" for k in range(12)]), st.tuples(st.sampled_from(["T1", "T2"]),
                                                                                        _GRADES), min_size=1),
       after=st.dictionaries(st.sampled_from([f"A{k}" for k in range(12)]), st.tuples(st.sampled_from(["T1", "T2"]),
                                                                                       _GRADES), min_size=1))
def test_migration_margins_match_each_run(tmp_path_factory: pytest.TempPathFactory, before: dict, after: dict) -> None:
    root = tmp_path_factory.mktemp("prop")
    a = make_run(root, "a", grades=[(k, t, g, "junior") for k, (t, g) in before.items()])
    b = make_run(root, "b", grades=[(k, t, g, "junior") for k, (t, g) in after.items()])
    m = compare_runs(a, b, write=False).grade_migration
    assert m["agents"].sum() == len(set(before) | set(after))
    # margins: the previous run's grade counts (without the new agents) and the new run's (without those who left)
    prev = m[m["grade_before"] != "(new)"].groupby("grade_before")["agents"].sum().to_dict()
    now = m[m["grade_after"] != "(left)"].groupby("grade_after")["agents"].sum().to_dict()
    assert prev == pd.Series([g for _, g in before.values()]).value_counts().to_dict()
    assert now == pd.Series([g for _, g in after.values()]).value_counts().to_dict()
    # each agent is counted in the team of the new run (the old one for those who left)
    teams = m.groupby("team")["agents"].sum().to_dict()
    expect = pd.Series([after[k][0] if k in after else before[k][0] for k in set(before) | set(after)])
    assert teams == expect.value_counts().to_dict()
