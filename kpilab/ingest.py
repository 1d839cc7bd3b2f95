"""Read canonical tables from a folder, and map other exports onto them without code.

A *data folder* holds any of ``contacts``, ``tickets``, ``surveys``,
``qa_reviews``, ``agents``, ``exemptions`` as ``<name>.parquet`` or
``<name>.csv``. :func:`find_tables` lists them, :func:`read_table` reads one
(CSV through :func:`kpilab.schema.coerce_table`), :func:`load_tables` reads
them all into pandas.

A *column-mapping file* (YAML) turns an arbitrary export into one canonical
table::

    table: contacts                 # canonical table it becomes
    source: calls_2025.csv          # optional: file, relative to the mapping file
    sheet: Sheet1                   # optional: Excel sheet
    columns:                        # source column -> canonical column
      Call Id: contact_id
      Agent: agent_id
      Start: arrived_at
    values:                         # canonical column -> {source value: canonical value}
      abandoned: {"Y": true, "N": false}
    constants:                      # canonical column -> value for every row
      channel: phone
    timestamps:                     # how to parse every timestamp column
      format: "%d/%m/%Y %H:%M"      # strftime format (default: inferred per value)
      dayfirst: true                # when inferring: 03/04 is 3 April (default false)
      timezone: Europe/Rome         # localise naive times here (aware ones are converted)
    durations:                      # canonical column -> unit of the source numbers
      talk_s: minutes               # seconds (default), minutes, hours, or hh:mm:ss text
    keep_unmapped: false            # keep source columns that are not mapped (default false)

:func:`load_mapping` validates it (a :class:`~kpilab.errors.SchemaError`
names the key), :func:`apply_mapping` applies it to a DataFrame and
:func:`read_mapped` reads the source file and applies it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilab._yaml import read_yaml_mapping
from kpilab.errors import DataError, SchemaError
from kpilab.schema import TABLES, TIME, coerce_table

__all__ = [
    "find_tables",
    "read_table",
    "load_tables",
    "ColumnMapping",
    "load_mapping",
    "apply_mapping",
    "read_mapped",
]

_MAPPING_KEYS = {"table", "source", "sheet", "columns", "values", "constants", "timestamps", "durations",
                 "keep_unmapped", "description"}
_DURATION_UNITS = {"seconds": 1.0, "s": 1.0, "minutes": 60.0, "min": 60.0, "hours": 3600.0, "h": 3600.0,
                   "hh:mm:ss": None}


def find_tables(folder: str | Path) -> dict[str, Path]:
    """Canonical tables present in ``folder``: ``{name: path}`` for ``<name>.parquet|.csv``.

    Raises
    ------
    DataError
        The folder does not exist, or a table is present both as .parquet and .csv.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"Data folder {folder} does not exist; pass a folder of canonical tables "
                        f"({', '.join(TABLES)} as .parquet or .csv).")
    found: dict[str, Path] = {}
    for name in TABLES:
        hits = [p for p in (folder / f"{name}.parquet", folder / f"{name}.csv") if p.is_file()]
        if len(hits) > 1:
            raise DataError(f"Data folder {folder} holds both {hits[0].name} and {hits[1].name}; keep one.")
        if hits:
            found[name] = hits[0]
    return found


def read_table(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """Read one canonical table (.parquet or .csv) with canonical dtypes where lossless."""
    path = Path(path)
    name = name or path.stem
    if name not in TABLES:
        raise SchemaError(f"File {path.name}: {name!r} is not a canonical table ({', '.join(TABLES)}).", table=name)
    if path.suffix.lower() == ".parquet":
        df = pd.read_parquet(path)
    elif path.suffix.lower() == ".csv":
        spec = TABLES[name]
        str_cols = {c.name: str for c in spec.columns if c.kind == "str"}
        try:
            df = pd.read_csv(path, dtype=str_cols, keep_default_na=True)
        except pd.errors.EmptyDataError:
            df = pd.DataFrame(columns=[c.name for c in spec.columns])
    else:
        raise DataError(f"Table file {path} must end in .parquet or .csv.")
    return coerce_table(df, name)


def load_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Every canonical table of a folder as a DataFrame (see :func:`find_tables`)."""
    return {name: read_table(p, name) for name, p in find_tables(folder).items()}


# ----------------------------------------------------------------------------- mappings
@dataclass(frozen=True)
class ColumnMapping:
    """A validated column-mapping file (see the module docstring)."""

    table: str
    columns: dict[str, str]
    values: dict[str, dict[Any, Any]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    timestamp_format: str | None = None
    timezone: str | None = None
    dayfirst: bool = False
    durations: dict[str, str] = field(default_factory=dict)
    source: Path | None = None
    sheet: str | int | None = None
    keep_unmapped: bool = False


def load_mapping(source: str | Path | Mapping[str, Any]) -> ColumnMapping:
    """Load and check a column-mapping file (YAML path or mapping).

    Raises
    ------
    SchemaError
        Naming the key: unknown keys, unknown table, a target column that is
        not in the canonical table, a bad duration unit or timezone.
    """
    base = None
    if isinstance(source, Mapping):
        data, label = dict(source), "(mapping)"
    else:
        path = Path(source)
        label = str(path)
        data = read_yaml_mapping(path, "Column-mapping file", SchemaError)
        base = path.parent
    if not isinstance(data, dict):
        raise SchemaError(f"Column-mapping {label} must be a mapping with 'table' and 'columns'.")
    unknown = sorted(set(data) - _MAPPING_KEYS)
    if unknown:
        raise SchemaError(f"Column-mapping {label}: unknown key(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(sorted(_MAPPING_KEYS))}.")
    table = data.get("table")
    if table not in TABLES:
        raise SchemaError(f"Column-mapping {label}, key 'table': must be one of {', '.join(TABLES)}, got {table!r}.")
    spec = TABLES[table]
    canon = {c.name for c in spec.columns}
    columns = data.get("columns") or {}
    if not isinstance(columns, dict):
        raise SchemaError(f"Column-mapping {label}, key 'columns': must map source column -> canonical column.")
    columns = {str(k): str(v) for k, v in columns.items()}
    values = data.get("values") or {}
    constants = data.get("constants") or {}
    durations = {str(k): str(v) for k, v in (data.get("durations") or {}).items()}
    for key, targets in (("values", values), ("constants", constants), ("durations", durations)):
        if not isinstance(targets, dict):
            raise SchemaError(f"Column-mapping {label}, key {key!r}: must be a mapping keyed by canonical column.")
        bad = sorted(set(targets) - canon)
        if bad:
            raise SchemaError(f"Column-mapping {label}, key {key!r}: {', '.join(bad)} not in table {table!r} "
                              f"({', '.join(sorted(canon))}).", table=table, column=bad[0])
    for col, unit in durations.items():
        if unit not in _DURATION_UNITS:
            raise SchemaError(f"Column-mapping {label}, durations.{col}: unit must be one of "
                              f"{', '.join(_DURATION_UNITS)}, got {unit!r}.", table=table, column=col)
    ts = data.get("timestamps") or {}
    if not isinstance(ts, dict) or set(ts) - {"format", "timezone", "dayfirst"}:
        raise SchemaError(f"Column-mapping {label}, key 'timestamps': allowed keys are format, timezone and "
                          "dayfirst.")
    tz = ts.get("timezone")
    if tz is not None:
        try:
            pd.Timestamp("2020-01-01").tz_localize(tz)
        except Exception:  # noqa: BLE001 - any failure means an unknown zone
            raise SchemaError(f"Column-mapping {label}, timestamps.timezone: unknown time zone {tz!r}.") from None
    src = data.get("source")
    src_path = None
    if src:
        src_path = Path(src)
        if not src_path.is_absolute() and base is not None:
            src_path = base / src_path
    return ColumnMapping(table=table, columns=columns, values={k: dict(v) for k, v in values.items()},
                         constants=dict(constants), timestamp_format=ts.get("format"), timezone=tz,
                         dayfirst=bool(ts.get("dayfirst", False)),
                         durations=durations, source=src_path, sheet=data.get("sheet"),
                         keep_unmapped=bool(data.get("keep_unmapped", False)))


def _to_seconds(s: pd.Series, unit: str, table: str, col: str) -> pd.Series:
    if unit == "hh:mm:ss":
        def conv(v: Any) -> float:
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
                return np.nan
            if isinstance(v, _dt.time):
                return v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6
            if isinstance(v, pd.Timedelta | _dt.timedelta):
                return v.total_seconds()
            parts = str(v).strip().split(":")
            try:
                nums = [float(p) for p in parts]
            except ValueError:
                raise SchemaError(f"Table {table!r}, column {col!r}: {v!r} is not hh:mm:ss.", table=table,
                                  column=col) from None
            total = 0.0
            for x in nums:
                total = total * 60 + x
            return total
        return s.map(conv).astype(float)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.any():
        raise SchemaError(f"Table {table!r}, column {col!r}: {int(bad.sum())} value(s) are not numbers "
                          f"(first: {s[bad].head(3).tolist()!r}).", table=table, column=col, n_rows=int(bad.sum()))
    return num.astype(float) * _DURATION_UNITS[unit]


def apply_mapping(df: pd.DataFrame, mapping: ColumnMapping | Mapping[str, Any] | str | Path) -> pd.DataFrame:
    """Turn a source DataFrame into a canonical table following ``mapping``.

    Renames columns, applies value maps and constants, parses timestamps (format,
    then time zone: naive times are localised, aware ones converted), converts
    durations to seconds and coerces canonical dtypes. Rows are never dropped.

    Raises
    ------
    SchemaError
        A mapped source column is absent, a value has no entry in its value map,
        or a timestamp does not parse with the given format.
    """
    m = mapping if isinstance(mapping, ColumnMapping) else load_mapping(mapping)
    missing = [c for c in m.columns if c not in df.columns]
    if missing:
        raise SchemaError(f"Column mapping for {m.table!r}: source column(s) {', '.join(map(repr, missing))} are not "
                          f"in the export (it has {', '.join(map(repr, list(df.columns)[:12]))}).",
                          table=m.table, column=missing[0])
    out = df.rename(columns=m.columns)
    if not m.keep_unmapped:
        keep = [c for c in out.columns if c in m.columns.values()]
        out = out[keep].copy()
    for col, val in m.constants.items():
        out[col] = val
    for col, vmap in m.values.items():
        if col not in out.columns:
            raise SchemaError(f"Column mapping for {m.table!r}: values.{col} maps a column that is not mapped.",
                              table=m.table, column=col)
        keys = {str(k): v for k, v in vmap.items()}
        src = out[col]
        unmapped = src.notna() & ~src.astype(str).isin(keys)
        if unmapped.any():
            raise SchemaError(f"Table {m.table!r}, column {col!r}: {int(unmapped.sum())} value(s) have no entry in "
                              f"values.{col} (first: {src[unmapped].astype(str).unique()[:3].tolist()!r}); add them.",
                              table=m.table, column=col, n_rows=int(unmapped.sum()))
        out[col] = src.map(lambda v, keys=keys: keys[str(v)] if pd.notna(v) else None)
    spec = TABLES[m.table]
    for c in spec.columns:
        if c.name not in out.columns:
            continue
        if c.kind == TIME:
            s = out[c.name]
            if not pd.api.types.is_datetime64_any_dtype(s):
                s = s.where(s.astype("string").str.strip() != "", None) if s.dtype == object or \
                    pd.api.types.is_string_dtype(s) else s
                try:
                    if m.timestamp_format:
                        s = pd.to_datetime(s, format=m.timestamp_format)
                    else:
                        try:
                            s = pd.to_datetime(s, format="mixed", dayfirst=m.dayfirst)
                        except (ValueError, TypeError):
                            s = pd.to_datetime(s, format="mixed", dayfirst=m.dayfirst, utc=True)  # mixed offsets
                except (ValueError, TypeError) as exc:
                    raise SchemaError(f"Table {m.table!r}, column {c.name!r}: timestamps do not parse "
                                      f"({exc}); set or fix timestamps.format in the mapping.",
                                      table=m.table, column=c.name) from None
            if m.timezone:
                s = s.dt.tz_convert(m.timezone) if s.dt.tz is not None else s.dt.tz_localize(
                    m.timezone, ambiguous="NaT", nonexistent="shift_forward")
            out[c.name] = s
        elif c.name in m.durations:
            out[c.name] = _to_seconds(out[c.name], m.durations[c.name], m.table, c.name)
    return coerce_table(out, m.table)


def read_mapped(mapping: ColumnMapping | Mapping[str, Any] | str | Path,
                source: str | Path | None = None) -> tuple[str, pd.DataFrame]:
    """Read an export (CSV, Excel or Parquet) and map it: returns ``(table name, canonical DataFrame)``."""
    m = mapping if isinstance(mapping, ColumnMapping) else load_mapping(mapping)
    path = Path(source) if source is not None else m.source
    if path is None:
        raise SchemaError(f"Column mapping for {m.table!r} names no source file; pass source=.")
    if not path.is_file():
        raise DataError(f"Export file {path} does not exist.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df = pd.read_csv(path, dtype=str)
    elif suffix in (".xlsx", ".xls"):
        df = pd.read_excel(path, sheet_name=m.sheet if m.sheet is not None else 0)
    elif suffix == ".parquet":
        df = pd.read_parquet(path)
    else:
        raise DataError(f"Export file {path} must be .csv, .xlsx or .parquet.")
    return m.table, apply_mapping(df, m)
