"""A corpus of messy exports, one case per defect class, built from the simulator at test time.

Each :class:`Case` writes a data folder (and, when needed, mapping, framework
or parameter files) from one small simulation, then states what the command
line must do with it:

* ``loads``: exit 0, and ``check(panel, accounting, stdout)`` holds (the panel
  is compared with the one computed from the clean Parquet tables);
* ``refused``: exit 2, and stderr matches every regular expression of ``names``
  (file, column, rows, what to do);
* ``excluded``: exit 0, and the accounting excludes ``count`` rows of ``table``
  with one of ``reasons``.

Any other exit code (a traceback) fails the test (``tests/test_bad_inputs.py``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

from kpilab.simulate import simulate

__all__ = ["Case", "CASES", "sim_tables", "write_clean"]


@cache
def _sim() -> dict[str, pd.DataFrame]:
    return simulate(agents=4, months=2, seed=3).tables


def sim_tables() -> dict[str, pd.DataFrame]:
    """Copies of the simulated canonical tables (4 agents, 2 months)."""
    return {k: v.copy() for k, v in _sim().items()}


def write_clean(folder: Path, fmt: str = "parquet", tables: dict[str, pd.DataFrame] | None = None) -> None:
    """Write the tables as ``<name>.parquet`` or ``<name>.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in (tables or sim_tables()).items():
        if fmt == "parquet":
            df.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            df.to_csv(folder / f"{name}.csv", index=False)


def _time_cols(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])]


def _as_text(df: pd.DataFrame, fmt: str) -> pd.DataFrame:
    df = df.copy()
    for c in _time_cols(df):
        df[c] = df[c].dt.strftime(fmt).where(df[c].notna(), None)
    return df


@dataclass
class Case:
    """One messy input and the outcome the command line must give."""

    name: str
    build: Callable[[Path], list[str] | None]
    outcome: str  # loads | refused | excluded
    names: tuple[str, ...] = ()
    check: Callable[..., None] | None = None
    table: str = ""
    reasons: tuple[str, ...] = ()
    count: int = 0
    argv: Callable[[Path], list[str]] | None = None
    notes: tuple[str, ...] = field(default=())


# ----------------------------------------------------------------------------- builders
def _dayfirst_csv(d: Path) -> None:
    t = sim_tables()
    for name, df in t.items():
        _as_text(df, "%d/%m/%Y %H:%M:%S").to_csv(d / f"{name}.csv", index=False)


def _ambiguous_dates(d: Path) -> None:
    t = sim_tables()
    c = t["contacts"]
    c = c[c["arrived_at"].dt.day <= 12]
    c = c[(c["ended_at"].dt.day <= 12) & (c["answered_at"].isna() | (c["answered_at"].dt.day <= 12))]
    _as_text(c, "%d/%m/%Y %H:%M").to_csv(d / "contacts.csv", index=False)


def _ambiguous_dates_with_mapping(d: Path) -> None:
    _ambiguous_dates(d)
    (d / "contacts.mapping.yaml").write_text("timestamps:\n  dayfirst: true\n", encoding="utf-8")


def _parquet_dayfirst_strings(d: Path) -> None:
    t = sim_tables()
    t["contacts"] = _as_text(t["contacts"], "%d/%m/%Y %H:%M:%S")
    write_clean(d, "parquet", t)


def _sentinel_open_tickets(d: Path) -> None:
    t = sim_tables()
    tk = t["tickets"]
    tk["solved_at"] = tk["solved_at"].astype(object).where(tk["solved_at"].notna(), "9999-12-31 00:00:00")
    tk["solved_at"] = tk["solved_at"].astype(str)
    t["tickets"] = _as_text(tk, "%Y-%m-%d %H:%M:%S")
    write_clean(d, "csv", t)


def _implausible_dates(d: Path) -> None:
    t = sim_tables()
    c = t["contacts"]
    idx = c.index[:3]
    c.loc[idx[:2], ["arrived_at"]] = pd.Timestamp("2100-01-01 10:00")
    c.loc[idx[2:], ["arrived_at"]] = pd.Timestamp("1971-06-01 10:00")
    c.loc[idx, "answered_at"] = pd.NaT
    c.loc[idx, "abandoned"] = True
    c.loc[idx, "agent_id"] = None
    write_clean(d, "parquet", t)


def _dup_key_framework(d: Path) -> list[str]:
    write_clean(d / "data")
    from kpilab.framework import DEFAULT_FRAMEWORK_PATH

    text = DEFAULT_FRAMEWORK_PATH.read_text(encoding="utf-8")
    lines = text.splitlines()
    k = next(i for i, line in enumerate(lines) if line.strip().startswith("direction: lower"))
    indent = lines[k][: len(lines[k]) - len(lines[k].lstrip())]
    lines.insert(k + 1, f"{indent}direction: higher")
    (d / "fw.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["--data", str(d / "data"), "--framework", str(d / "fw.yaml")]


def _dup_key_mapping(d: Path) -> None:
    write_clean(d)
    (d / "contacts.mapping.yaml").write_text("timestamps:\n  dayfirst: true\n  dayfirst: false\n", encoding="utf-8")


def _phantom_agents(d: Path) -> None:
    t = sim_tables()
    c = t["contacts"]
    k = c.index[c["agent_id"].notna()][::7]
    c.loc[k, "agent_id"] = c.loc[k, "agent_id"].str.lower() + " "
    write_clean(d, "csv", t)


def _phantom_agents_normalised(d: Path) -> None:
    _phantom_agents(d)
    for name in ("contacts", "agents", "tickets", "qa_reviews"):
        (d / f"{name}.mapping.yaml").write_text("normalise_ids: [agent_id]\n", encoding="utf-8")


def _empty(kind: str) -> Callable[[Path], None]:
    def build(d: Path) -> None:
        t = sim_tables()
        s = t.pop("surveys")
        write_clean(d, "parquet", t)
        if kind == "header":
            s.head(0).to_csv(d / "surveys.csv", index=False)
        elif kind == "zero":
            (d / "surveys.csv").write_bytes(b"")
        elif kind == "bom":
            (d / "surveys.csv").write_bytes(b"\xef\xbb\xbf")
        else:
            s.head(0).to_parquet(d / "surveys.parquet", index=False)
    return build


def _encoding(enc: str, mapping: bool) -> Callable[[Path], None]:
    def build(d: Path) -> None:
        t = sim_tables()
        c = t["contacts"]
        c["queue"] = c["queue"].map(lambda q: q + ("_é" if enc == "latin-1" else "_队列"))
        write_clean(d, "parquet", {k: v for k, v in t.items() if k != "contacts"})
        c.to_csv(d / "contacts.csv", index=False, encoding=enc)
        if mapping:
            (d / "contacts.mapping.yaml").write_text(f"encoding: {enc}\n", encoding="utf-8")
    return build


def _xlsx(renamed: bool) -> Callable[[Path], None]:
    def build(d: Path) -> None:
        t = sim_tables()
        c = t.pop("contacts")
        write_clean(d, "parquet", t)
        c = c.head(400)
        target = d / ("contacts.csv" if renamed else "contacts.xlsx")
        with pd.ExcelWriter(d / "tmp.xlsx") as xw:
            c.astype({k: object for k in ("resolved", "retained")}).to_excel(xw, sheet_name="Calls", index=False)
        shutil.move(d / "tmp.xlsx", target)
        if not renamed:
            (d / "contacts.mapping.yaml").write_text("sheet: Calls\n", encoding="utf-8")
    return build


def _mixed_offsets(d: Path) -> None:
    t = sim_tables()
    c = t["contacts"]
    for col in _time_cols(c):
        s = c[col].dt.tz_localize("Europe/Rome", ambiguous="NaT", nonexistent="NaT")
        c[col] = s.map(lambda v: v.isoformat() if pd.notna(v) else None)
    t["contacts"] = c
    write_clean(d, "csv", {"contacts": c})


def _bad_lines(kind: str, skip: bool) -> Callable[[Path], None]:
    def build(d: Path) -> None:
        t = sim_tables()
        write_clean(d, "parquet", {k: v for k, v in t.items() if k != "contacts"})
        text = t["contacts"].to_csv(index=False).splitlines()
        if kind == "quote":
            text[5] = text[5].replace(",", ',"', 1)
        else:
            text[5] = text[5] + ",extra"
        (d / "contacts.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
        if skip:
            (d / "contacts.mapping.yaml").write_text("on_bad_lines: skip\n", encoding="utf-8")
    return build


def _bad_numbers(d: Path) -> None:
    t = sim_tables()
    c = t["contacts"].copy()
    c["talk_s"] = c["talk_s"].astype(object)
    c.loc[[10, 20, 30], "talk_s"] = "n/a?"
    c.loc[40, "talk_s"] = "1,5"
    write_clean(d, "csv", {**t, "contacts": c})


def _missing_column(d: Path) -> None:
    t = sim_tables()
    t["contacts"] = t["contacts"].drop(columns=["ended_at"])
    write_clean(d, "csv", t)


def _duplicate_header(d: Path) -> None:
    t = sim_tables()
    text = t["agents"].to_csv(index=False).replace("role", "team", 1)
    write_clean(d, "parquet", {k: v for k, v in t.items() if k != "agents"})
    (d / "agents.csv").write_text(text, encoding="utf-8")


def _old_xls(d: Path) -> None:
    write_clean(d)
    (d / "contacts.parquet").unlink()
    (d / "contacts.csv").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500)


def _naive_and_aware(d: Path, mapping: bool = False) -> None:
    t = sim_tables()
    c = t["contacts"]
    s = _as_text(c, "%Y-%m-%d %H:%M:%S")
    s.loc[s.index[::2], "arrived_at"] = s.loc[s.index[::2], "arrived_at"] + "+00:00"
    write_clean(d, "csv", {**t, "contacts": s})
    if mapping:
        (d / "contacts.mapping.yaml").write_text("timestamps:\n  timezone: UTC\n", encoding="utf-8")


def _unparseable_time(d: Path) -> None:
    t = sim_tables()
    s = _as_text(t["contacts"], "%Y-%m-%d %H:%M:%S")
    s.loc[[7, 8], "ended_at"] = "yesterday"
    write_clean(d, "csv", {**t, "contacts": s})


# ----------------------------------------------------------------------------- checks
def same_as_clean(panel: pd.DataFrame, ref: pd.DataFrame, **_: object) -> None:
    """The panel equals the one from the clean Parquet tables."""
    cols = ["unit_level", "unit_id", "period", "indicator", "value", "n"]
    a = panel[cols].sort_values(cols[:4]).reset_index(drop=True)
    b = ref[cols].sort_values(cols[:4]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def same_lowercased(panel: pd.DataFrame, ref: pd.DataFrame, **_: object) -> None:
    """Equal to the clean panel once agent ids are lower-cased (normalise_ids trims and lower-cases)."""
    same_as_clean(panel, ref.assign(unit_id=ref["unit_id"].str.lower()))


def same_contact_indicators(panel: pd.DataFrame, ref: pd.DataFrame, **_: object) -> None:
    """Contacts indicators equal the clean ones (the other tables are unchanged)."""
    same_as_clean(panel, ref)


def notice(pattern: str, then: Callable[..., None] | None = None) -> Callable[..., None]:
    import re

    def check(panel: pd.DataFrame, ref: pd.DataFrame, stdout: str, **kw: object) -> None:
        assert re.search(pattern, stdout), f"no notice matching {pattern!r} in:\n{stdout}"
        if then is not None:
            then(panel, ref, stdout=stdout, **kw)
    return check


def no_rows(table: str) -> Callable[..., None]:
    def check(panel: pd.DataFrame, ref: pd.DataFrame, stdout: str, accounting: pd.DataFrame, **_: object) -> None:
        acc = accounting[accounting["table"] == table]
        assert len(acc) and (acc["rows_read"] == 0).all()
        assert "zero rows" in stdout
        assert not panel.empty
    return check


def xlsx_values(panel: pd.DataFrame, ref: pd.DataFrame, stdout: str, accounting: pd.DataFrame,
                **_: object) -> None:
    acc = accounting[accounting["table"] == "contacts"]
    assert acc["rows_read"].iloc[0] == 400
    assert "absent" not in stdout


def queue_names(suffix: str) -> Callable[..., None]:
    def check(panel: pd.DataFrame, ref: pd.DataFrame, **_: object) -> None:
        same_as_clean(panel, ref)
    return check


def utc_instants(panel: pd.DataFrame, ref: pd.DataFrame, stdout: str, accounting: pd.DataFrame,
                 **_: object) -> None:
    acc = accounting[(accounting["table"] == "contacts")]
    # the DST gap hour's local times do not exist: those rows (NaT when written) are the only exclusions
    assert acc["rows_read"].iloc[0] == len(_sim()["contacts"])
    assert set(panel["period"]) == set(ref["period"])


def skipped(n_lines: int) -> Callable[..., None]:
    def check(panel: pd.DataFrame, ref: pd.DataFrame, stdout: str, accounting: pd.DataFrame, **_: object) -> None:
        assert f"skipped {n_lines:,} malformed line(s)" in stdout, stdout
        acc = accounting[accounting["table"] == "contacts"]
        assert acc["rows_read"].iloc[0] == len(_sim()["contacts"]) - 1
    return check


def no_far_periods(panel: pd.DataFrame, ref: pd.DataFrame, **_: object) -> None:
    assert set(panel["period"]) == set(ref["period"])


def _params_argv(text: str, suffix: str) -> Callable[[Path], list[str]]:
    def argv(d: Path) -> list[str]:
        p = d / f"params{suffix}"
        p.write_text(text, encoding="utf-8")
        return ["run", "review", "-f", str(p), "--output-root", str(d / "runs")]
    return argv


CASES: list[Case] = [
    Case("dayfirst_csv", _dayfirst_csv, "loads", check=same_as_clean),
    Case("dayfirst_ambiguous", _ambiguous_dates, "refused",
         names=(r"contacts\.csv", r"column 'arrived_at'", r"day-first or month-first", r"timestamps\.dayfirst",
                r"contacts\.mapping\.yaml")),
    Case("dayfirst_ambiguous_settled_by_mapping", _ambiguous_dates_with_mapping, "loads",
         check=notice(r"Periods: 2025-01-01")),
    Case("parquet_dayfirst_strings", _parquet_dayfirst_strings, "loads", check=same_as_clean),
    Case("sentinel_open_tickets", _sentinel_open_tickets, "loads",
         check=notice(r"tickets\.csv: \d+ solved_at value\(s\) are sentinel dates", same_as_clean)),
    Case("implausible_dates", _implausible_dates, "excluded", table="contacts",
         reasons=("implausible arrived_at",), count=3),
    Case("implausible_dates_no_extra_period", _implausible_dates, "loads",
         check=notice(r"3 row\(s\) with arrived_at outside the plausible window", no_far_periods)),
    Case("duplicate_key_framework", lambda d: None, "refused", argv=lambda d: _dup_key_framework(d),
         names=(r"fw\.yaml", r"key 'direction' appears twice \(line \d+ and line \d+\)")),
    Case("duplicate_key_mapping", _dup_key_mapping, "refused",
         names=(r"contacts\.mapping\.yaml", r"'dayfirst' appears twice \(line 2 and line 3\)")),
    Case("phantom_agents_reported", _phantom_agents, "loads",
         check=notice(r"contacts\.csv: agent_id has \d+ ids that differ only by spaces or case.*normalise_ids")),
    Case("phantom_agents_normalised", _phantom_agents_normalised, "loads",
         check=notice(r"normalise_ids merged", same_lowercased)),
    Case("empty_header_only_csv", _empty("header"), "loads", check=no_rows("surveys")),
    Case("empty_zero_byte_csv", _empty("zero"), "loads", check=no_rows("surveys")),
    Case("empty_bom_only_csv", _empty("bom"), "loads", check=no_rows("surveys")),
    Case("empty_parquet", _empty("parquet"), "loads", check=no_rows("surveys")),
    Case("latin1_refused", _encoding("latin-1", False), "refused",
         names=(r"contacts\.csv is not UTF-8", r"line 2", r"cp1252", r"encoding:", r"Tried: utf-8")),
    Case("gbk_refused", _encoding("gbk", False), "refused",
         names=(r"contacts\.csv is not UTF-8", r"gb18030", r"encoding:")),
    Case("latin1_with_mapping", _encoding("latin-1", True), "loads", check=queue_names("_é")),
    Case("gbk_with_mapping", _encoding("gbk", True), "loads", check=queue_names("_队列")),
    Case("xlsx_in_folder", _xlsx(False), "loads", check=xlsx_values),
    Case("xlsx_renamed_csv", _xlsx(True), "loads",
         check=notice(r"contacts\.csv is an Excel workbook \(by its content\)", xlsx_values)),
    Case("old_xls_refused", _old_xls, "refused", names=(r"contacts\.csv", r"\.xls", r"\.xlsx or CSV")),
    Case("mixed_utc_offsets", _mixed_offsets, "loads", check=utc_instants),
    Case("naive_and_aware_in_one_column", _naive_and_aware, "refused",
         names=(r"contacts\.csv", r"'arrived_at'", r"carry a UTC offset", r"timestamps\.timezone")),
    Case("naive_and_aware_settled_by_mapping", lambda d: _naive_and_aware(d, True), "loads",
         check=notice(r"Periods: 2025-01-01")),
    Case("stray_quote", _bad_lines("quote", False), "refused",
         names=(r"contacts\.csv", r"line 6", r"never closed", r"on_bad_lines: skip")),
    Case("extra_field", _bad_lines("extra", False), "refused",
         names=(r"contacts\.csv", r"line 6 has 16 field\(s\) where the header has 15", r"on_bad_lines: skip")),
    Case("extra_field_skipped", _bad_lines("extra", True), "loads", check=skipped(1)),
    Case("bad_numbers", _bad_numbers, "refused",
         names=(r"contacts\.csv, column 'talk_s'", r"4 value\(s\) are not numbers", r"'n/a\?' \(3 times\)",
                r"'1,5'", r"first rows 11, 21, 31, 41")),
    Case("unparseable_timestamps", _unparseable_time, "refused",
         names=(r"contacts\.csv, column 'ended_at'", r"2 value\(s\)", r"'yesterday'", r"timestamps\.format")),
    Case("missing_required_column", _missing_column, "refused",
         names=(r"'contacts'", r"missing required column", r"'ended_at'")),
    Case("duplicate_header", _duplicate_header, "refused", names=(r"agents\.csv", r"'team' appear twice")),
    Case("params_yaml_syntax", lambda d: None, "refused", argv=_params_argv("a: [1, 2\nb: 3\n", ".yaml"),
         names=(r"params\.yaml", r"line 2, column \d+")),
    Case("params_json_syntax", lambda d: None, "refused", argv=_params_argv('{"a": 1,\n "b": }\n', ".json"),
         names=(r"params\.json", r"line 2, column 7")),
    Case("params_duplicate_key", lambda d: None, "refused", argv=_params_argv("a: 1\na: 2\n", ".yaml"),
         names=(r"params\.yaml", r"'a' appears twice \(line 1 and line 2\)")),
]

