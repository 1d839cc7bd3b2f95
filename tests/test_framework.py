"""Framework loader: the default file, good and bad user files, weight sets, directions."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from kpilab.cli import main
from kpilab.errors import FrameworkError
from kpilab.framework import (
    DEFAULT_FRAMEWORK_PATH,
    align_direction,
    default_framework,
    load_framework,
    parse_direction_overrides,
    resolve_directions,
)


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_text())


def test_default_framework_has_seed_content():
    fw = default_framework()
    assert len(fw.scored()) >= 20
    assert fw.outcomes() == ["retention_rate"]
    # seed targets
    assert fw.indicator("csat").target == 4.5
    assert fw.indicator("fcr").target == 0.80
    assert fw.indicator("service_level").target == 0.80
    assert fw.indicator("abandon_rate").target == 0.08
    # the articles' 30 s first response is the live-chat wait, not a ticket's first reply (hours): no made-up target
    assert fw.indicator("first_response_time").target is None
    assert fw.indicator("first_response_time").normalise == {"method": "minmax"}
    assert fw.indicator("cost_per_contact").target == 4
    # every indicator says where its target comes from
    assert all(i.target_source for i in fw.indicators)
    # role templates of the after-sales article, exactly
    assert fw.weight_sets["front_line"].weights == {"satisfaction": 0.6, "timeliness": 0.3, "cost_control": 0.1}
    assert fw.weight_sets["technical_support"].weights == {"satisfaction": 0.3, "timeliness": 0.4, "cost_control": 0.3}
    assert fw.weight_sets["manager"].weights == {"satisfaction": 0.4, "timeliness": 0.2, "cost_control": 0.4}
    sm = fw.weight_sets["supermarket"].weights
    assert sum(sm.values()) == pytest.approx(1.0)
    assert sm["fcr"] == 0.25 and sm["first_response_time"] == 0.20
    assert [g.grade for g in fw.grades] == ["A", "B", "C", "D", "E"]
    assert [(t.tier, t.min) for t in fw.tiers] == [("senior", 90), ("mid", 80), ("junior", 70), ("improvement_plan", 0)]
    assert fw.tiers[0].consecutive_periods == 3


def test_weight_set_pillar_level_shares_within_pillar():
    fw = default_framework()
    w = fw.weight_set("front_line", indicators=["csat", "fcr", "aht", "asa"])
    assert w.sum() == pytest.approx(1.0)
    assert w["csat"] == pytest.approx(0.3) and w["fcr"] == pytest.approx(0.3)
    assert w["asa"] == pytest.approx(0.3) and w["aht"] == pytest.approx(0.1)
    # pillars without available indicators drop out and are reported
    w2 = fw.weight_set("front_line", indicators=["csat", "aht"])
    assert w2["csat"] == pytest.approx(0.6 / 0.7)
    assert w2.attrs["dropped"] == ["timeliness"]


def test_weight_set_indicator_level_and_unknown():
    fw = default_framework()
    w = fw.weight_set("supermarket")
    assert w.sum() == pytest.approx(1.0) and w["fcr"] == pytest.approx(0.25)
    with pytest.raises(FrameworkError, match="Weight set 'nope'"):
        fw.weight_set("nope")


def test_grade_bands():
    fw = default_framework()
    assert fw.grade(95) == "A" and fw.grade(90) == "A" and fw.grade(89.9) == "B"
    assert fw.grade(10) == "E" and fw.grade(float("nan")) is None


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["indicators"][0].update(direction="up"), r"indicators\[0\]\.direction"),
        (lambda d: d["indicators"][1].update(pillar="nowhere"), r"pillar 'nowhere' is not declared"),
        (lambda d: d["indicators"].append(copy.deepcopy(d["indicators"][0])), r"unique; repeated: \['csat'\]"),
        (lambda d: d["indicators"][0].pop("name"), r"indicators\[0\]\.name: Field required"),
        (lambda d: d["indicators"][0].update(band=[1, 2]), r"'band' is only allowed with direction 'band'"),
        (lambda d: d["indicators"][0].update(direction="band"), r"needs 'band: \[low, high\]'"),
        (lambda d: d["weight_sets"]["front_line"]["weights"].update(speed=0.2), r"unknown pillar code\(s\) \['speed'\]"),
        (lambda d: d["weight_sets"]["manager"]["weights"].update(timeliness=-1), r"finite and >= 0"),
        (lambda d: d.update(colour="blue"), r"colour: Extra inputs are not permitted"),
        (lambda d: d["grades"].reverse(), r"grades must be listed from the best"),
        (lambda d: d["indicators"][0].update(code="CSAT score"), r"indicators\[0\]\.code"),
    ],
)
def test_bad_frameworks_name_the_key(raw, mutate, message):
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(FrameworkError, match=message):
        load_framework(data)


def test_bad_files(tmp_path):
    with pytest.raises(FrameworkError, match="does not exist"):
        load_framework(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("indicators: [unclosed")
    with pytest.raises(FrameworkError, match="not valid YAML"):
        load_framework(bad)
    bad.write_text("- a\n- b\n")
    with pytest.raises(FrameworkError, match="mapping at the top level"):
        load_framework(bad)


def test_user_file_round_trip(tmp_path, raw):
    data = copy.deepcopy(raw)
    data["name"] = "My centre"
    data["exemptions"] = [{"start": "2025-07-01", "end": "2025-07-14", "scope": "all",
                           "reason": "product recall", "action": "relax_target"}]
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data))
    fw = load_framework(path)
    assert fw.name == "My centre" and fw.exemptions[0].reason == "product recall"


def test_directions_resolution_and_overrides():
    fw = default_framework()
    d = resolve_directions(["csat", "aht"], fw, {"aht": "higher"})
    assert d == {"csat": "higher", "aht": "higher"}
    with pytest.raises(FrameworkError, match="No direction known for indicator\\(s\\) mystery"):
        resolve_directions(["csat", "mystery"], fw)
    assert parse_direction_overrides(["x=lower", "y=higher"]) == {"x": "lower", "y": "higher"}
    with pytest.raises(FrameworkError, match="CODE=higher"):
        parse_direction_overrides(["x:lower"])


def test_align_direction():
    x = pd.Series([10.0, 20.0, 35.0])
    assert align_direction(x, "higher").tolist() == [10, 20, 35]
    assert align_direction(x, "lower").tolist() == [-10, -20, -35]
    np.testing.assert_allclose(align_direction(x, "band", (15, 30)), [-5, 0, -5])
    with pytest.raises(FrameworkError):
        align_direction(x, "band")


def test_cli_show_and_check(tmp_path, capsys, raw):
    assert main(["framework", "show"]) == 0
    out = capsys.readouterr().out
    assert "csat" in out and "front_line (pillar): satisfaction 60%" in out and "A >= 90" in out
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(raw))
    assert main(["framework", "check", str(good)]) == 0
    data = copy.deepcopy(raw)
    data["indicators"][2]["direction"] = "sideways"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    assert main(["framework", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "indicators[2].direction" in err and err.count("\n") == 1


def test_duplicated_key_is_an_error_naming_both_lines(tmp_path, capsys):
    text = DEFAULT_FRAMEWORK_PATH.read_text(encoding="utf-8").splitlines()
    k = next(i for i, line in enumerate(text) if line.strip() == "direction: lower")
    indent = text[k][: len(text[k]) - len(text[k].lstrip())]
    text.insert(k + 1, f"{indent}direction: higher")
    p = tmp_path / "fw.yaml"
    p.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(FrameworkError, match=rf"key 'direction' appears twice \(line {k + 1} and line {k + 2}\)"):
        load_framework(p)
    assert main(["framework", "check", str(p)]) == 2
    assert "appears twice" in capsys.readouterr().err


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    p = tmp_path / "fw.yaml"
    p.write_text("name: x\nindicators: [a, b\nmin_n: 3\n", encoding="utf-8")
    with pytest.raises(FrameworkError, match=r"fw.yaml is not valid YAML at line 3, column \d+"):
        load_framework(p)
