"""Read exports into canonical tables: every file loads exactly, or is refused with a named reason.

A *data folder* holds any of ``contacts``, ``tickets``, ``surveys``,
``qa_reviews``, ``agents``, ``exemptions`` as ``<name>.parquet``,
``<name>.csv`` or ``<name>.xlsx``, each optionally with a column-mapping file
``<name>.mapping.yaml`` beside it. :func:`find_sources` lists them,
:func:`load_source` reads one into a :class:`LoadedTable`, :func:`read_table`
and :func:`load_tables` return pandas frames.

Every source goes through the same steps, in DuckDB, so a 5-million-row CSV
streams through in bounded memory and the check and the panel engine see the
same values:

1. **the file**: its kind is read from its content (an ``.xlsx`` renamed
   ``.csv`` is read as a workbook, with a notice); zero-byte, BOM-only and
   header-only text files are empty tables, like an empty Parquet file;
   text is UTF-8 (UTF-16 with its byte-order mark) or the mapping's
   ``encoding``; other text is refused, showing how its first odd field reads
   in cp1252 and gb18030 (encodings are never guessed: a wrong guess garbles
   names silently);
   a CSV line with the wrong number of fields or an unclosed quote is refused
   naming the file and line, or skipped and counted with
   ``on_bad_lines: skip``;
2. **the mapping** (optional): renames, value maps, constants, duration units;
3. **types**: numbers, booleans and timestamps stored as text are parsed once,
   here. A value that does not parse is refused naming the column, how many
   values, the offending values and their first rows. Day/month order is
   read from the values (``13/03`` is only day-first); a column where both
   orders fit is refused unless ``timestamps.dayfirst`` or
   ``timestamps.format`` settles it. ISO 8601 values with UTC offsets
   (mixed across a DST change) become UTC instants;
4. **plausibility** (event tables): sentinel dates (``9999-12-31``,
   ``1900-01-01``, ``0001-01-01``, ``1970-01-01 00:00:00``) mean *missing*;
   other dates outside the plausible window (``timestamps.plausible: [start,
   end]``, default the middle half of the table's own dates widened by
   ``max(2 x its span, 365 days)`` each side) are set to missing and the row
   carries the reason ``implausible <column>`` in ``_ingest_reason``;
5. **ids**: ids differing only by surrounding spaces or case are reported;
   ``normalise_ids`` merges them (trimmed, lower-cased).

A *column-mapping file* (YAML) turns an arbitrary export into one canonical
table::

    table: contacts                 # canonical table it becomes (default: from the file name)
    source: calls_2025.csv          # optional: file, relative to the mapping file
    sheet: Sheet1                   # optional: Excel sheet (name or 0-based position)
    encoding: cp1252                # optional: text encoding (default: UTF-8; never guessed)
    on_bad_lines: skip              # optional: error (default) or skip malformed CSV lines, counted
    normalise_ids: true             # optional: true, or a list of id columns: trim and lower-case ids
    columns:                        # source column -> canonical column (default: the names as they are)
      Call Id: contact_id
      Agent: agent_id
      Start: arrived_at
    values:                         # canonical column -> {source value: canonical value}
      abandoned: {"Y": true, "N": false}
    constants:                      # canonical column -> value for every row
      channel: phone
    timestamps:                     # how to parse every timestamp column
      format: "%d/%m/%Y %H:%M"      # strftime format (default: read from the values)
      dayfirst: true                # settles 03/04: 3 April (default: refuse when the values do not)
      timezone: Europe/Rome         # localise naive times here (aware ones are converted)
      plausible: [2024-01-01, 2026-12-31]   # dates outside are implausible (default: from the data)
    durations:                      # canonical column -> unit of the source numbers
      talk_s: minutes               # seconds (default), minutes, hours, or hh:mm:ss text
    keep_unmapped: false            # keep source columns that are not mapped (default false)

:func:`load_mapping` validates it (a :class:`~kpilab.errors.SchemaError`
names the key), :func:`apply_mapping` applies it to a DataFrame and
:func:`read_mapped` reads the source file and applies it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import io
import re
import shutil
import tempfile
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilab._duckdb import _SPILLS, connect  # noqa: F401 - _SPILLS: the open connections' spill folders
from kpilab._duckdb import disconnect as _disconnect
from kpilab._duckdb import quote_ident as _ident
from kpilab._duckdb import quote_text as _q
from kpilab._yaml import read_yaml_mapping
from kpilab.errors import DataError, InputFileError, SchemaError
from kpilab.schema import BOOL, DATE, FLOAT, INT, STR, TABLES, TIME, coerce_table, table_timezone

__all__ = [
    "find_tables",
    "find_sources",
    "read_table",
    "load_tables",
    "load_source",
    "load_folder",
    "LoadedTable",
    "ColumnMapping",
    "load_mapping",
    "apply_mapping",
    "read_mapped",
    "SENTINEL_NOTE",
]

_MAPPING_KEYS = {"table", "source", "sheet", "columns", "values", "constants", "timestamps", "durations",
                 "keep_unmapped", "description", "encoding", "on_bad_lines", "normalise_ids"}
_TS_KEYS = {"format", "timezone", "dayfirst", "plausible"}
_DURATION_UNITS = {"seconds": 1.0, "s": 1.0, "minutes": 60.0, "min": 60.0, "hours": 3600.0, "h": 3600.0,
                   "hh:mm:ss": None}
_SUFFIXES = (".parquet", ".csv", ".xlsx")
_ID_COLUMNS = ("contact_id", "agent_id", "customer_id", "ticket_id", "reviewer_id")
_PHANTOM_CHECK = ("agent_id", "reviewer_id")

# tables of events, whose dates are checked for plausibility, and the column that dates them
_EVENT_TIME = {"contacts": "arrived_at", "tickets": "created_at", "qa_reviews": "reviewed_at",
               "surveys": "responded_at"}
SENTINEL_NOTE = "9999-12-31, 1900-01-01, 0001-01-01 and 1970-01-01 00:00:00 (placeholders for 'none')"
_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False,
               "y": True, "n": False, "yes": True, "no": False, "t": True, "f": False}
_NULL_TEXT = ["", "NA", "N/A", "NULL", "null", "NaN", "nan", "#N/A", "None"]

# timestamp shapes: the value with every digit replaced by 9
_TIME_SHAPE = r"(?:[T ]+9{1,2}:99(?::99(?:[.,]9+)?)?)?"
_ISO_SHAPE = re.compile(r"^9999-9{1,2}-9{1,2}" + _TIME_SHAPE + "$")
_ISO_OFF_SHAPE = re.compile(r"^9999-9{1,2}-9{1,2}" + _TIME_SHAPE + r"\s*(?:Z|[+-]99(?::?99)?)$")
_DM_SHAPE = re.compile(r"^(9{1,2})([/.-])(9{1,2})([/.-])(9{4}|9{2})"
                       r"(?:(\s+|T)(9{1,2}):(99)(?::(99)(?:([.,])(999|999999))?)?(\s*)([AaPp][Mm])?)?$")
_YMD_SHAPE = re.compile(r"^(9999)([/.])(9{1,2})([/.])(9{1,2})"
                        r"(?:(\s+|T)(9{1,2}):(99)(?::(99)(?:([.,])(999|999999))?)?(\s*)([AaPp][Mm])?)?$")


def _time_format(m: re.Match) -> str:
    if not m.group(7):
        return ""
    fmt = f"{m.group(6)}{'%I' if m.group(13) else '%H'}:%M"
    if m.group(9):
        fmt += ":%S"
    if m.group(11):
        fmt += m.group(10) + ("%g" if len(m.group(11)) == 3 else "%f")
    if m.group(13):
        fmt += m.group(12) + "%p"
    return fmt


def _shape_format(shape: str, dayfirst: bool) -> str | None:
    """strptime format of a day/month shape such as ``99/99/9999 99:99`` (None when it is not one)."""
    m = _DM_SHAPE.match(shape)
    if not m or m.group(2) != m.group(4):
        return None
    a, b = ("%d", "%m") if dayfirst else ("%m", "%d")
    return f"{a}{m.group(2)}{b}{m.group(4)}{'%Y' if len(m.group(5)) == 4 else '%y'}" + _time_format(m)


def _ymd_format(shape: str) -> str | None:
    m = _YMD_SHAPE.match(shape)
    if not m or m.group(2) != m.group(4):
        return None
    return f"%Y{m.group(2)}%m{m.group(4)}%d" + _time_format(m)


# ============================================================================ mappings
@dataclass(frozen=True)
class ColumnMapping:
    """A validated column-mapping file (see the module docstring)."""

    table: str
    columns: dict[str, str]
    values: dict[str, dict[Any, Any]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    timestamp_format: str | None = None
    timezone: str | None = None
    dayfirst: bool | None = None
    durations: dict[str, str] = field(default_factory=dict)
    source: Path | None = None
    sheet: str | int | None = None
    keep_unmapped: bool = False
    encoding: str | None = None
    on_bad_lines: str = "error"
    normalise_ids: tuple[str, ...] = ()
    plausible: tuple[pd.Timestamp, pd.Timestamp] | None = None
    label: str = "(mapping)"


def load_mapping(source: str | Path | Mapping[str, Any], *, table: str | None = None) -> ColumnMapping:
    """Load and check a column-mapping file (YAML path or mapping).

    Parameters
    ----------
    source : path or mapping
        The YAML file, or its already-parsed content.
    table : str, optional
        The canonical table when the mapping has no ``table:`` key (a
        ``<table>.mapping.yaml`` file in a data folder).

    Raises
    ------
    SchemaError
        Naming the key: unknown keys, unknown table, a target column that is
        not in the canonical table, a bad duration unit, time zone, encoding,
        ``on_bad_lines`` or ``plausible`` window, a duplicated key.
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
    unknown = sorted(set(map(str, data)) - _MAPPING_KEYS)
    if unknown:
        raise SchemaError(f"Column-mapping {label}: unknown key(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(sorted(_MAPPING_KEYS))}.")
    tbl = data.get("table", table)
    if table is not None and tbl != table:
        raise SchemaError(f"Column-mapping {label}, key 'table': the file name says {table!r}, the key says {tbl!r}.")
    if tbl not in TABLES:
        raise SchemaError(f"Column-mapping {label}, key 'table': must be one of {', '.join(TABLES)}, got {tbl!r}.")
    spec = TABLES[tbl]
    canon = {c.name for c in spec.columns}
    columns = data.get("columns") or {}
    if not isinstance(columns, dict):
        raise SchemaError(f"Column-mapping {label}, key 'columns': must map source column -> canonical column.")
    columns = {str(k): str(v) for k, v in columns.items()}
    values = data.get("values") or {}
    constants = data.get("constants") or {}
    durations = data.get("durations") or {}
    for key, targets in (("values", values), ("constants", constants), ("durations", durations)):
        if not isinstance(targets, dict):
            raise SchemaError(f"Column-mapping {label}, key {key!r}: must be a mapping keyed by canonical column.")
        bad = sorted(set(targets) - canon)
        if bad:
            raise SchemaError(f"Column-mapping {label}, key {key!r}: {', '.join(bad)} not in table {tbl!r} "
                              f"({', '.join(sorted(canon))}).", table=tbl, column=bad[0])
    durations = {str(k): str(v) for k, v in durations.items()}
    for col, unit in durations.items():
        if unit not in _DURATION_UNITS:
            raise SchemaError(f"Column-mapping {label}, durations.{col}: unit must be one of "
                              f"{', '.join(_DURATION_UNITS)}, got {unit!r}.", table=tbl, column=col)
    for col, vmap in values.items():
        if not isinstance(vmap, dict):
            raise SchemaError(f"Column-mapping {label}, values.{col}: must map source value -> canonical value.",
                              table=tbl, column=col)
    ts = data.get("timestamps") or {}
    if not isinstance(ts, dict) or set(ts) - _TS_KEYS:
        raise SchemaError(f"Column-mapping {label}, key 'timestamps': allowed keys are "
                          f"{', '.join(sorted(_TS_KEYS))}.")
    tz = ts.get("timezone")
    if tz is not None:
        try:
            pd.Timestamp("2020-01-01").tz_localize(tz)
        except Exception:  # noqa: BLE001 - any failure means an unknown zone
            raise SchemaError(f"Column-mapping {label}, timestamps.timezone: unknown time zone {tz!r}.") from None
    dayfirst = ts.get("dayfirst")
    if dayfirst is not None and not isinstance(dayfirst, bool):
        raise SchemaError(f"Column-mapping {label}, timestamps.dayfirst: must be true or false, got {dayfirst!r}.")
    plausible = ts.get("plausible")
    if plausible is not None:
        try:
            lo, hi = (pd.Timestamp(str(v)) for v in plausible)
            if not lo < hi:
                raise ValueError
        except (TypeError, ValueError):
            raise SchemaError(f"Column-mapping {label}, timestamps.plausible: must be [first date, last date], "
                              f"got {plausible!r}.") from None
        plausible = (lo, hi)
    encoding = data.get("encoding")
    if encoding is not None:
        try:
            encoding = codecs.lookup(str(encoding)).name
        except LookupError:
            raise SchemaError(f"Column-mapping {label}, encoding: unknown encoding {data['encoding']!r} "
                              "(e.g. utf-8, cp1252, latin-1, gbk, utf-16).") from None
    on_bad = str(data.get("on_bad_lines", "error"))
    if on_bad not in ("error", "skip"):
        raise SchemaError(f"Column-mapping {label}, on_bad_lines: must be 'error' or 'skip', got {on_bad!r}.")
    norm = data.get("normalise_ids", False)
    if norm is True:
        norm_cols = tuple(c for c in _ID_COLUMNS if c in canon)
    elif norm in (False, None):
        norm_cols = ()
    elif isinstance(norm, list) and all(str(c) in canon for c in norm):
        norm_cols = tuple(str(c) for c in norm)
    else:
        raise SchemaError(f"Column-mapping {label}, normalise_ids: must be true, false or a list of columns of "
                          f"{tbl!r}, got {norm!r}.")
    src = data.get("source")
    src_path = None
    if src:
        src_path = Path(src)
        if not src_path.is_absolute() and base is not None:
            src_path = base / src_path
    return ColumnMapping(table=tbl, columns=columns, values={k: dict(v) for k, v in values.items()},
                         constants=dict(constants), timestamp_format=ts.get("format"), timezone=tz,
                         dayfirst=dayfirst, durations=durations, source=src_path, sheet=data.get("sheet"),
                         keep_unmapped=bool(data.get("keep_unmapped", False)), encoding=encoding,
                         on_bad_lines=on_bad, normalise_ids=norm_cols, plausible=plausible, label=label)


# ============================================================================ finding sources
def _mapping_file(folder: Path, name: str) -> Path | None:
    for suffix in (".mapping.yaml", ".mapping.yml"):
        p = folder / f"{name}{suffix}"
        if p.is_file():
            return p
    return None


def find_sources(folder: str | Path) -> dict[str, tuple[Path, ColumnMapping | None]]:
    """Canonical tables in ``folder``: ``{name: (file, mapping or None)}``.

    A table is ``<name>.parquet``, ``<name>.csv`` or ``<name>.xlsx``, or the
    ``source:`` of ``<name>.mapping.yaml``; a mapping file without ``source:``
    applies to ``<name>.<ext>``.

    Raises
    ------
    DataError
        The folder does not exist, a table is present in two files, or a
        mapping's source is missing.
    SchemaError
        A mapping file is invalid.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"Data folder {folder} does not exist; pass a folder of canonical tables "
                        f"({', '.join(TABLES)} as .parquet, .csv or .xlsx).")
    found: dict[str, tuple[Path, ColumnMapping | None]] = {}
    for name in TABLES:
        hits = [p for p in (folder / f"{name}{s}" for s in _SUFFIXES) if p.is_file()]
        mfile = _mapping_file(folder, name)
        mapping = load_mapping(mfile, table=name) if mfile else None
        if mapping is not None and mapping.source is not None:
            if not mapping.source.is_file():
                raise DataError(f"Column-mapping {mfile}: source {mapping.source} does not exist.")
            others = [h for h in hits if h.resolve() != mapping.source.resolve()]
            if others:
                raise DataError(f"Data folder {folder}: {mfile.name} reads {mapping.source.name} but "
                                f"{others[0].name} is there too; keep one.")
            found[name] = (mapping.source, mapping)
            continue
        if len(hits) > 1:
            raise DataError(f"Data folder {folder} holds both {hits[0].name} and {hits[1].name}; keep one.")
        if hits:
            found[name] = (hits[0], mapping)
        elif mapping is not None:
            raise DataError(f"Column-mapping {mfile} has no source: and there is no {name}.parquet, .csv or .xlsx "
                            "beside it.")
    return found


def find_tables(folder: str | Path) -> dict[str, Path]:
    """Canonical tables present in ``folder``: ``{name: path}`` (see :func:`find_sources`).

    Raises
    ------
    DataError
        The folder does not exist, or a table is present in two files.
    """
    return {name: path for name, (path, _) in find_sources(folder).items()}


# ============================================================================ the loaded table
@dataclass
class LoadedTable:
    """A canonical table read and checked by :func:`load_source`.

    Attributes
    ----------
    name : str
        Canonical table name.
    label : str
        What was read (a file name, or ``"<name> (DataFrame)"``).
    n_rows : int
        Rows of the table (after skipped bad lines, before any exclusion).
    columns : list of str
        Its columns (canonical ones typed; ``_ingest_reason`` when rows carry an ingest exclusion).
    tz : str or None
        Time zone of its aware timestamp columns.
    notices : list of str
        What loading did that a reader must know (encoding, skipped lines, sentinels, implausible dates,
        ids that differ only by spaces or case, empty table).
    path : Path or None
        Parquet file holding the table (the source itself when it needed no change).
    frame : DataFrame or None
        The table, when it was given as a DataFrame that needed no change.
    excluded : dict
        ``{reason: rows}`` of rows carrying an ingest exclusion reason.
    skipped_lines : int
        Malformed CSV lines skipped (``on_bad_lines: skip``); they are not rows of the table.
    notices_reported : bool
        Set by a caller that has shown :attr:`notices` (the panel engine then does not repeat them).
    unchecked_spelling : tuple of str
        Id columns whose check for ids differing only by spaces or case was left to the caller
        (``load_source(..., defer_spelling=...)``), which passes their distinct values to
        :func:`id_spelling_notice`.
    """

    name: str
    label: str
    n_rows: int
    columns: list[str]
    tz: str | None
    notices: list[str] = field(default_factory=list)
    path: Path | None = None
    frame: pd.DataFrame | None = None
    excluded: dict[str, int] = field(default_factory=dict)
    skipped_lines: int = 0
    notices_reported: bool = False
    unchecked_spelling: tuple[str, ...] = ()
    _tmp: Any = field(default=None, repr=False)

    def to_pandas(self) -> pd.DataFrame:
        """The table as a pandas DataFrame (nullable booleans and integers)."""
        if self.frame is not None:
            return self.frame
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(self.path)
        mapper = {pa.bool_(): pd.BooleanDtype(), pa.int64(): pd.Int64Dtype()}
        return table.to_pandas(types_mapper=mapper.get)

    def sample(self, n: int = 2000) -> pd.DataFrame:
        """The first ``n`` rows as pandas (a cheap structural check; ``n=0``: the columns and types alone)."""
        if self.frame is not None:
            return self.frame.head(n)
        import pyarrow as pa
        import pyarrow.parquet as pq

        # pages streamed (no pre-buffering of the first row group's column chunks): the first rows are
        # decoded alone, and the memory pool gives back what the reader held
        pf = pq.ParquetFile(self.path, pre_buffer=False, buffer_size=1 << 16)
        try:
            if pf.metadata.num_rows and n > 0:
                return next(pf.iter_batches(batch_size=n)).to_pandas()
            return pf.schema_arrow.empty_table().to_pandas()
        finally:
            pf.close()
            pa.default_memory_pool().release_unused()


class _TempDir:
    """A temporary folder removed when the object is garbage-collected (or at exit), without a warning."""

    def __init__(self) -> None:
        self.name = tempfile.mkdtemp(prefix="kpilab-ingest-")
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.name, True)

    def cleanup(self) -> None:
        self._finalizer()


def _tempdir() -> _TempDir:
    return _TempDir()


# ============================================================================ reading files
def _sniff(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    return "text"


def _is_blank_text(path: Path) -> bool:
    """Zero bytes, a byte-order mark alone, or whitespace only."""
    if path.stat().st_size > 64:
        return False
    raw = path.read_bytes()
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if raw.startswith(bom):
            raw = raw[len(bom):]
    return raw.replace(b"\x00", b"").strip() == b""


def _line_of(path: Path, encoding: str, text: str) -> int | None:
    """1-based line where the record ``text`` starts (first match), for error messages."""
    first = text.split("\n", 1)[0].rstrip("\r")
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        for k, line in enumerate(fh, start=1):
            if line.rstrip("\r\n") == first:
                return k
    return None


def _readings(path: Path, offset: int) -> str:
    """The field holding byte ``offset`` as cp1252 and as gb18030 would read it (to help choose an encoding)."""
    with path.open("rb") as fh:
        fh.seek(max(0, offset - 60))
        chunk = fh.read(120)
    k = min(offset, 60)
    lo = max(chunk.rfind(b",", 0, k), chunk.rfind(b"\n", 0, k)) + 1
    hi = min([i for i in (chunk.find(b",", k), chunk.find(b"\n", k)) if i >= 0] or [len(chunk)])
    field = chunk[lo:hi].strip(b'\r"')
    return " or ".join(f"{field.decode(enc, errors='replace')!r} in {enc}" for enc in ("cp1252", "gb18030"))


def _bad_utf8_position(path: Path) -> tuple[int, int]:
    """(line, byte offset) of the first byte that is not UTF-8."""
    dec = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                dec.decode(chunk)
            except UnicodeDecodeError as exc:
                return line + chunk[: exc.start].count(b"\n"), offset + exc.start
            line += chunk.count(b"\n")
            offset += len(chunk)
    return line, offset


def _csv_header(path: Path, encoding: str) -> list[str]:
    with path.open("r", encoding=encoding, newline="") as fh:
        first = fh.readline()
    row = next(csv.reader(io.StringIO(first.lstrip("\ufeff"))), [])
    return [c.strip() for c in row]


def _csv_to_parquet(path: Path, label: str, encoding: str | None, on_bad_lines: str, out: Path,
                    mapping_hint: str) -> tuple[int, int, list[str], str]:
    """Stream a CSV into a Parquet file of text columns plus ``_row``; returns (rows, skipped lines, columns, notice).

    The encoding is the mapping's, else UTF-8 (UTF-16 when the file starts with its byte-order mark).
    Other encodings are not guessed: a wrong guess would garble names without a sign, so a file that is
    not UTF-8 is refused showing how its first odd field reads in the common alternatives.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    enc = encoding
    if enc is None:
        with path.open("rb") as fh:
            head = fh.read(4)
        enc = "utf-16" if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8"
    try:
        header = _csv_header(path, enc)
        return (*_csv_stream(path, label, enc, header, on_bad_lines, out, mapping_hint, pa, pacsv, pq), "")
    except UnicodeError:
        pass
    except pa.ArrowInvalid as exc:
        if "UTF8" not in str(exc) and "decode" not in str(exc).lower():
            raise
    if encoding is not None:
        raise InputFileError(f"{label} does not decode as {encoding} (encoding: in {mapping_hint}); set the "
                             "encoding the export uses, or save it as UTF-8.")
    line, offset = _bad_utf8_position(path)
    raise InputFileError(f"{label} is not UTF-8 text (line {line}, byte {offset}: {_readings(path, offset)}); "
                         f"kpilab does not guess encodings (a wrong guess garbles names silently): set encoding: "
                         f"(e.g. cp1252, latin-1, gbk) in {mapping_hint}, or save the file as UTF-8. Tried: {enc}.")


def _csv_stream(path: Path, label: str, enc: str, header: list[str], on_bad_lines: str, out: Path,
                mapping_hint: str, pa: Any, pacsv: Any, pq: Any) -> tuple[int, int, list[str]]:
    if not header or all(h == "" for h in header):
        raise InputFileError(f"{label}: the first line holds no column names; the first line must be the header.")
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups:
        raise InputFileError(f"{label}: column name(s) {', '.join(map(repr, dups))} appear twice in the header; "
                             "rename one.")
    bad: list[tuple[str, int, int]] = []

    def handler(row: Any) -> str:
        bad.append((row.text, row.expected_columns, row.actual_columns))
        return "skip"

    read = pacsv.ReadOptions(encoding=enc, block_size=1 << 24, use_threads=True)
    parse = pacsv.ParseOptions(invalid_row_handler=handler)
    convert = pacsv.ConvertOptions(column_types={h: pa.string() for h in header}, strings_can_be_null=True,
                                   null_values=_NULL_TEXT, quoted_strings_can_be_null=False, check_utf8=True)
    n = 0
    schema = pa.schema([*(pa.field(h, pa.string()) for h in header), pa.field("_row", pa.int64())])
    with pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert) as reader, \
            pq.ParquetWriter(out, schema, compression="snappy") as writer:
        if [f.name.lstrip("\ufeff") for f in reader.schema] != header:  # pragma: no cover - defensive
            raise InputFileError(f"{label}: could not read the header line.")
        for batch in reader:
            rows = pa.array(np.arange(n + 1, n + 1 + batch.num_rows, dtype=np.int64))
            cols = [*batch.columns, rows]
            writer.write_batch(pa.RecordBatch.from_arrays(cols, schema=schema))
            n += batch.num_rows
            if bad and on_bad_lines != "skip":
                break
    if bad and on_bad_lines != "skip":
        text, expected, actual = bad[0]
        line = _line_of(path, enc, text)
        where = f"line {line}" if line else "a line"
        if "\n" in text and text.count('"') % 2 == 1:
            what = (f"a quote opened on {where} is never closed, so the next {text.count(chr(10))} line(s) run "
                    "into one field")
        else:
            what = f"{where} has {actual} field(s) where the header has {expected} ({text[:60]!r})"
        raise InputFileError(f"{label}: {what}. Fix the export (quote fields holding commas or quotes), or set "
                             f"on_bad_lines: skip in {mapping_hint} to skip such lines and count them.")
    skipped = sum(t.count("\n") + 1 for t, _, _ in bad)
    return n, skipped, header


def _excel_frame(path: Path, label: str, sheet: Any) -> pd.DataFrame:
    import openpyxl

    try:  # a file object: openpyxl judges a path by its extension, and the content says xlsx
        wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types on a broken workbook
        raise InputFileError(f"{label}: not a readable Excel workbook ({type(exc).__name__}); re-export it as "
                             ".xlsx or CSV.") from None
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb[names[0]]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise InputFileError(f"{label}: no sheet number {sheet} (it has {len(names)}: "
                                     f"{', '.join(map(repr, names))}); set sheet: in the column mapping.")
            ws = wb[names[sheet]]
        elif str(sheet) in names:
            ws = wb[str(sheet)]
        else:
            raise InputFileError(f"{label}: no sheet {sheet!r} (it has {', '.join(map(repr, names))}); set sheet: "
                                 "in the column mapping.")
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        data = [r for r in rows if any(v is not None and str(v).strip() != "" for v in r)]
    finally:
        wb.close()
    if header is None:
        return pd.DataFrame()
    names_ = [str(h).strip() if h is not None else "" for h in header]
    while names_ and names_[-1] == "" and all(len(r) < len(names_) or r[len(names_) - 1] is None for r in data):
        names_.pop()
    dups = sorted({h for h in names_ if names_.count(h) > 1})
    if dups:
        raise InputFileError(f"{label}: column name(s) {', '.join(map(repr, dups))} appear twice in the header; "
                             "rename one.")
    cols: dict[str, Any] = {}
    for j, h in enumerate(names_):
        vals = [r[j] if j < len(r) else None for r in data]
        cols[h] = _excel_column(vals)
    return pd.DataFrame(cols)


def _excel_column(vals: list[Any]) -> pd.Series:
    present = [v for v in vals if v is not None and not (isinstance(v, str) and v.strip() == "")]
    if present and all(isinstance(v, _dt.datetime) for v in present):
        return pd.Series(pd.to_datetime([v if isinstance(v, _dt.datetime) else None for v in vals]))
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series([v if isinstance(v, bool) else None for v in vals], dtype="boolean")
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pd.Series([float(v) if isinstance(v, int | float) else np.nan for v in vals], dtype=float)

    def text(v: Any) -> str | None:
        if v is None or (isinstance(v, str) and v.strip() == ""):
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, _dt.datetime):
            return v.isoformat(sep=" ")
        if isinstance(v, _dt.time):
            return v.isoformat()
        return str(v)

    return pd.Series([text(v) for v in vals], dtype=object)


def id_spelling_notice(label: str, column: str, values: Iterable[Any], hint: str) -> str | None:
    """The notice for ids of ``column`` that differ only by spaces or case (``'A7'``, ``'a7 '``), which
    count as different units; None when there are none. ``values``: the column's distinct ids."""
    groups: dict[str, list[str]] = {}
    for v in values:
        if isinstance(v, str):
            groups.setdefault(v.strip(" ").lower(), []).append(v)
    rows = [sorted(set(vs)) for _, vs in sorted(groups.items()) if len(set(vs)) > 1]
    if not rows:
        return None
    shown = "; ".join(" = ".join(repr(v) for v in vs) for vs in rows[:3])
    return (f"{label}: {column} has {sum(len(v) for v in rows)} ids that differ only by spaces or case and look "
            f"like {len(rows)} id(s) ({shown}{' ...' if len(rows) > 3 else ''}); they count as different units. "
            f"Set normalise_ids: true in {hint} (and the other tables' mappings) to merge them.")


def deferred_spelling_notice(lt: LoadedTable, column: str, values: Iterable[Any]) -> str | None:
    """:func:`id_spelling_notice` for a column whose check :func:`load_source` left to the caller
    (:attr:`LoadedTable.unchecked_spelling`; only files read without a column mapping)."""
    return id_spelling_notice(lt.label, column, values, _hint(lt.name, None))


def _hint(name: str, mapping: ColumnMapping | None) -> str:
    """Where a user changes how a table is read: its mapping file, named in notices."""
    if mapping is None:
        return f"{name}.mapping.yaml"
    return mapping.label if mapping.label != "(mapping)" else "the column mapping"


# ============================================================================ SQL helpers


def _lit(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "NULL"
    if isinstance(v, bool | np.bool_):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float | np.integer | np.floating):
        return repr(float(v)) if isinstance(v, float | np.floating) else str(int(v))
    return _q(v)


def _is_text(t: str) -> bool:
    return t == "VARCHAR" or t.startswith("VARCHAR")


def _is_num(t: str) -> bool:
    return t in ("DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER",
                 "USMALLINT", "UTINYINT") or t.startswith("DECIMAL")


def _is_time(t: str) -> bool:
    return t.startswith("TIMESTAMP") or t == "DATE"


def _hms_seconds(col: str) -> str:
    t = f"trim(CAST({col} AS VARCHAR))"
    parts = f"string_split({t}, ':')"
    return (f"(CASE WHEN {t} LIKE '%:%:%' THEN TRY_CAST({parts}[1] AS DOUBLE) * 3600 + "
            f"TRY_CAST({parts}[2] AS DOUBLE) * 60 + TRY_CAST({parts}[3] AS DOUBLE) "
            f"WHEN {t} LIKE '%:%' THEN TRY_CAST({parts}[1] AS DOUBLE) * 60 + TRY_CAST({parts}[2] AS DOUBLE) "
            f"ELSE TRY_CAST({t} AS DOUBLE) END)")


# ============================================================================ the normaliser
class _Normaliser:
    """Types, checks and writes one table from a DuckDB view ``_in`` (source columns plus ``_row``)."""

    def __init__(self, con: Any, name: str, label: str, mapping: ColumnMapping | None, hint: str,
                 row_word: str = "row") -> None:
        self.con = con
        self.name = name
        self.spec = TABLES[name]
        self.label = label
        self.m = mapping
        self.hint = hint
        self.row_word = row_word
        self.notices: list[str] = []

    # ------------------------------------------------------------------ helpers
    def _types(self, view: str) -> dict[str, str]:
        return dict(self.con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {view})").fetchall())

    def _where(self, col: str) -> str:
        if self.label.lower().startswith(("table ", "the ")):
            return f"Table {self.name!r}, column {col!r}"
        return f"{self.label}, column {col!r}" + (f" (table {self.name!r})" if not self.label.startswith(
            self.name + ".") else "")

    def _refuse(self, view: str, col: str, raw: str, cond: str, what: str, todo: str) -> None:
        """Raise naming the values of ``col`` meeting ``cond`` (deferred to one scan while ``self.defer``)."""
        if cond == "FALSE":
            return
        if getattr(self, "defer", False):
            self.pending.append((view, col, raw, cond, what, todo))
            return
        n, k = self.con.execute(f"SELECT COUNT(*), COUNT(DISTINCT {raw}) FROM {view} WHERE {cond}").fetchone()
        if not n:
            return
        ex = self.con.execute(
            f"SELECT CAST({raw} AS VARCHAR) AS v, COUNT(*) AS n FROM {view} WHERE {cond} GROUP BY 1 "
            f"ORDER BY min(_row) LIMIT 3").fetchall()
        first = self.con.execute(f"SELECT list(_row ORDER BY _row)[1:5] FROM {view} WHERE {cond}").fetchone()[0]
        shown = "; ".join(f"{v!r} ({c} time{'s' if c > 1 else ''})" for v, c in ex)
        kind = next((c.kind for c in self.spec.columns if c.name == col), None)
        more = f" and {k - len(ex)} other value(s)" if k > len(ex) else ""
        raise SchemaError(
            f"{self._where(col)}" + (f" must hold {kind} values" if kind else "") + f": {n} value(s) {what}: "
            f"{shown}{more}; first {self.row_word}s {', '.join(map(str, first))}. {todo}",
            table=self.name, column=col, n_rows=int(n), example_ids=first)

    def report_bad_values(self) -> None:
        """After a scan stopped on a bad value: find the first failing check and raise naming its values."""
        pending = self.pending
        counts = self.con.execute("SELECT " + ", ".join(f"COUNT(*) FILTER (WHERE {p[3]})" for p in pending)
                                  + " FROM _src").fetchone()
        for p, n in zip(pending, counts, strict=True):
            if n:
                col = p[1]
                if col in self.time_text:  # a better message when values are written several ways
                    self._time_expr(col, self.types[col], {}, full=True)
                self._refuse(*p)
        raise SchemaError(f"{self.label}: a value could not be read; please report this.",  # pragma: no cover
                          table=self.name)

    def scan(self, sql: str) -> Any:
        """Run ``sql`` over the typed view; a guarded bad value is reported by :meth:`report_bad_values`."""
        import duckdb

        try:
            return self.con.execute(sql)
        except duckdb.Error as exc:
            if "kpilab-bad-value" in str(exc):
                self.report_bad_values()
            raise

    # ------------------------------------------------------------------ 1. mapping
    def project(self) -> None:
        """``_in`` -> ``_src``: canonical names, value maps, constants, durations."""
        types = self._types("_in")
        src_cols = [c for c in types if c != "_row"]
        m = self.m
        canon = [c.name for c in self.spec.columns]
        sel: list[str] = []
        if m is not None and m.columns:
            missing = [c for c in m.columns if c not in types]
            if missing:
                raise SchemaError(f"Column mapping for {m.table!r} ({self.label}): source column(s) "
                                  f"{', '.join(map(repr, missing))} are not in the export (it has "
                                  f"{', '.join(map(repr, src_cols[:12]))}).", table=m.table, column=missing[0])
            targets = list(m.columns.values())
            dup = sorted({t for t in targets if targets.count(t) > 1})
            if dup:
                raise SchemaError(f"Column mapping for {m.table!r}: {', '.join(dup)} is the target of two source "
                                  "columns; map one.", table=m.table, column=dup[0])
            names = {s: t for s, t in m.columns.items()}
            if m.keep_unmapped:
                names.update({c: c for c in src_cols if c not in m.columns and c not in targets})
        else:
            names = {c: c for c in src_cols}
        if m is not None:
            for c in m.constants:
                names = {s: t for s, t in names.items() if t != c}
        exprs = {t: _ident(s) for s, t in names.items()}
        if m is not None:
            for col, vmap in m.values.items():
                if col not in exprs:
                    raise SchemaError(f"Column mapping for {m.table!r}: values.{col} maps a column that is not "
                                      "mapped.", table=m.table, column=col)
                keys = {str(k): v for k, v in vmap.items()}
                src = f"CAST({exprs[col]} AS VARCHAR)"
                cond = f"{src} IS NOT NULL AND {src} NOT IN ({', '.join(_q(k) for k in keys) or 'NULL'})"
                n = self.con.execute(f"SELECT COUNT(*) FROM _in WHERE {cond}").fetchone()[0]
                if n:
                    vals = [r[0] for r in self.con.execute(
                        f"SELECT DISTINCT {src} FROM _in WHERE {cond} LIMIT 3").fetchall()]
                    raise SchemaError(f"Table {m.table!r}, column {col!r}: {n} value(s) have no entry in "
                                      f"values.{col} (first: {vals!r}); add them.", table=m.table, column=col,
                                      n_rows=int(n))
                exprs[col] = ("CASE " + " ".join(f"WHEN {src} = {_q(k)} THEN {_lit(v)}" for k, v in keys.items())
                              + " END")
            for col, val in m.constants.items():
                exprs[col] = _lit(val)
            for col, unit in m.durations.items():
                if col not in exprs:
                    continue
                if unit == "hh:mm:ss":
                    raw = exprs[col]
                    self._refuse("_in", col, raw, f"{raw} IS NOT NULL AND trim(CAST({raw} AS VARCHAR)) <> '' AND "
                                 f"{_hms_seconds(raw)} IS NULL", "are not hh:mm:ss durations",
                                 "Fix them, or set durations." + col + " to the unit the export uses.")
                    exprs[col] = _hms_seconds(raw)
        for c in canon:
            if c in exprs:
                sel.append(f"{exprs[c]} AS {_ident(c)}")
        sel += [f"{e} AS {_ident(t)}" for t, e in exprs.items() if t not in canon]
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW _src AS SELECT {', '.join(sel + ['_row'])} FROM _in")
        self.factors = {c: _DURATION_UNITS[u] for c, u in (m.durations.items() if m else []) if u != "hh:mm:ss"}

    # ------------------------------------------------------------------ 2. types
    def _time_expr(self, col: str, t: str, resolved: dict[str, bool], full: bool = False) -> tuple[str, str, bool]:
        """(expression, bad-value condition, aware) for a text timestamp column.

        The values' *shapes* (digits replaced by 9) say how they are written; each shape maps to one
        strptime format, and the day/month order is read from the values unless the mapping gives it.
        """
        v = f"NULLIF(trim({_ident(col)}), '')"
        m = self.m
        if m is not None and m.timestamp_format:
            fmt = m.timestamp_format
            e = f"try_strptime({v}, {_q(fmt)})"
            aware = "%z" in fmt or "%Z" in fmt
            self._refuse("_src", col, _ident(col), f"{v} IS NOT NULL AND {e} IS NULL",
                         f"do not match timestamps.format {fmt!r}", f"Fix them or timestamps.format in {self.hint}.")
            return e, "FALSE", aware
        # shapes from a sample (every value is checked against the chosen parse in one later scan;
        # a value that fails it brings this back with full=True, for the message)
        src = "_src" if full else "_head"
        shapes = self.con.execute(
            f"SELECT translate({v}, '0123456789', '9999999999') AS s, COUNT(*), min({v}) FROM {src} "
            f"WHERE {v} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 200").fetchall()
        if not shapes:
            return "CAST(NULL AS TIMESTAMP)", "FALSE", False
        iso = [s for s in shapes if _ISO_SHAPE.match(s[0])]
        off = [s for s in shapes if _ISO_OFF_SHAPE.match(s[0])]
        dm = [s for s in shapes if _shape_format(s[0], True)]
        ymd = [s for s in shapes if _ymd_format(s[0])]
        known = {s[0] for s in iso + off + dm + ymd}
        unknown = [s for s in shapes if s[0] not in known]
        if unknown:
            shown = "; ".join(f"{ex!r} ({n} like it)" for _, n, ex in unknown[:3])
            n_bad = sum(n for _, n, _ in unknown)
            raise SchemaError(f"{self._where(col)}: {n_bad} value(s) are not timestamps kpilab can read: {shown}. "
                              f"Fix them, or set timestamps.format in {self.hint}.", table=self.name, column=col,
                              n_rows=int(n_bad))
        groups = [g for g in (iso + off, dm, ymd) if g]
        if len(groups) > 1:
            raise SchemaError(f"{self._where(col)}: timestamps are written in different ways "
                              f"({'; '.join(repr(g[0][2]) for g in groups)}); set timestamps.format in {self.hint}, "
                              "or export them one way.", table=self.name, column=col)
        if iso or off:
            if iso and off:
                n_iso, n_off = sum(s[1] for s in iso), sum(s[1] for s in off)
                if m is not None and m.timezone:
                    e = (f"CASE WHEN regexp_matches({v}, '(Z|[+-][0-9:]+)$') THEN TRY_CAST({v} AS TIMESTAMPTZ) "
                         f"ELSE timezone({_q(m.timezone)}, TRY_CAST({v} AS TIMESTAMP)) END")
                    return e, f"{v} IS NOT NULL AND ({e}) IS NULL", True
                raise SchemaError(f"{self._where(col)}: {n_off} value(s) carry a UTC offset and {n_iso} do not "
                                  f"(e.g. {iso[0][2]!r}); set timestamps.timezone in {self.hint} to say where the "
                                  "times without an offset were recorded.", table=self.name, column=col,
                                  n_rows=int(n_iso))
            if off:
                e = f"TRY_CAST(replace({v}, ',', '.') AS TIMESTAMPTZ)"
                return e, f"{v} IS NOT NULL AND {e} IS NULL", True
            e = f"TRY_CAST(replace({v}, ',', '.') AS TIMESTAMP)"
            return e, f"{v} IS NOT NULL AND {e} IS NULL", False
        if ymd:
            fmts = sorted({_ymd_format(s[0]) for s in ymd})
            e = f"try_strptime({v}, [{', '.join(map(_q, fmts))}])"
            return e, f"{v} IS NOT NULL AND {e} IS NULL", False
        day = sorted({_shape_format(s[0], True) for s in dm})
        month = sorted({_shape_format(s[0], False) for s in dm})
        ed = f"try_strptime({v}, [{', '.join(map(_q, day))}])"
        em = f"try_strptime({v}, [{', '.join(map(_q, month))}])"
        n = sum(s[1] for s in dm)
        n_day, n_month, n_diff = self.con.execute(
            f"SELECT COUNT({ed}), COUNT({em}), COUNT(*) FILTER (WHERE {ed} <> {em}) FROM _src").fetchone()
        dayfirst = m.dayfirst if m is not None else None
        if dayfirst is None:
            if n_day == n and n_month == n and n_diff:
                borrowed = [c for c in resolved]
                if borrowed:
                    dayfirst = resolved[borrowed[0]]
                    self.notices.append(f"{self.label}: column {col!r} read as {'day' if dayfirst else 'month'}"
                                        f"-first like column {borrowed[0]!r} (its own values fit both orders).")
                else:
                    ex = self.con.execute(f"SELECT {v} FROM _src WHERE {ed} <> {em} ORDER BY _row LIMIT 1"
                                          ).fetchone()[0]
                    raise SchemaError(
                        f"{self._where(col)}: dates like {ex!r} read as day-first or month-first and no value "
                        f"settles it ({n_diff:,} of {n:,} values would differ); set timestamps.dayfirst: true (or "
                        f"false), or timestamps.format, in {self.hint}.", table=self.name, column=col,
                        n_rows=int(n_diff))
            elif n_day == n or n_month == n:
                dayfirst = n_day == n
            else:
                dayfirst = n_day >= n_month
        resolved[col] = dayfirst
        e = ed if dayfirst else em
        order = "day/month" if dayfirst else "month/day"
        self._refuse("_src", col, _ident(col), f"{v} IS NOT NULL AND {e} IS NULL", f"are not {order} dates",
                     f"Fix them, or set timestamps.dayfirst or timestamps.format in {self.hint}.")
        return e, "FALSE", False

    def typed(self) -> None:
        """``_src`` -> ``_typed``: canonical types; values that do not parse are refused."""
        types = self._types("_src")
        self.changed = False
        self.defer, self.pending = True, []
        self.time_text = {c for c, t in types.items() if _is_text(t) and any(
            k.name == c and k.kind in (TIME, DATE) for k in self.spec.columns)}
        blank_checks: list[str] = []
        resolved: dict[str, bool] = {}
        if self.time_text:  # the first values of the text timestamp columns, read once (their shapes)
            self.con.execute("CREATE OR REPLACE TEMP TABLE _head AS SELECT "
                             + ", ".join(_ident(c) for c in sorted(self.time_text)) + ", _row FROM _src LIMIT 200000")
        self.aware: dict[str, bool] = {}
        self.time_cols: list[str] = []
        col_kinds = {c.name: c.kind for c in self.spec.columns}
        # time columns first, so a column whose values settle day/month order helps the others
        order = sorted((c for c in types if c != "_row"), key=lambda c: col_kinds.get(c) not in (TIME, DATE))
        exprs: dict[str, str] = {}
        for col in order:
            t = types[col]
            kind = col_kinds.get(col)
            x = _ident(col)
            if kind is None:
                exprs[col] = x
                continue
            if kind == STR:
                if _is_text(t):
                    e = f"CASE WHEN trim({x}) = '' THEN NULL ELSE {x} END"
                    blank_checks.append(x)
                elif t in ("DOUBLE", "FLOAT") or t.startswith("DECIMAL"):
                    e = (f"CASE WHEN {x} = floor({x}) AND abs({x}) < 1e15 THEN CAST(CAST({x} AS BIGINT) AS VARCHAR) "
                         f"ELSE CAST({x} AS VARCHAR) END")
                    self.changed = True
                else:
                    e = f"CAST({x} AS VARCHAR)"
                    self.changed = True
                if col in (self.m.normalise_ids if self.m else ()):
                    e = f"lower(trim({e}))"
                    self.changed = True
            elif kind in (FLOAT, INT):
                factor = self.factors.get(col, 1.0)
                if _is_num(t):
                    e = f"CAST({x} AS DOUBLE)"
                    if t in ("DOUBLE", "FLOAT"):
                        e = f"CASE WHEN isnan({x}) THEN NULL ELSE {e} END"
                elif _is_text(t):
                    v = f"NULLIF(trim({x}), '')"
                    e = f"TRY_CAST({v} AS DOUBLE)"
                    self._refuse("_src", col, x, f"{v} IS NOT NULL AND {e} IS NULL", "are not numbers",
                                 "Fix or blank them in the export (decimal point '.', no thousands separator).")
                    e = f"CASE WHEN isnan({e}) THEN NULL ELSE {e} END"
                    self.changed = True
                elif t == "BOOLEAN":
                    e = f"CAST(CAST({x} AS INTEGER) AS DOUBLE)"
                    self.changed = True
                else:
                    self._refuse("_src", col, x, f"{x} IS NOT NULL", f"are {t}, not numbers",
                                 "Export the column as numbers.")
                    e = "NULL"
                if factor != 1.0:
                    e = f"({e}) * {factor!r}"
                    self.changed = True
                if kind == INT:
                    self._refuse("_src", col, x, f"({e}) IS NOT NULL AND ({e}) <> floor({e})",
                                 "are not whole numbers", "Fix them in the export.")
                    e = f"CAST({e} AS BIGINT)"
                    self.changed |= t not in ("BIGINT",)
            elif kind == BOOL:
                if t == "BOOLEAN":
                    e = x
                elif _is_text(t) or _is_num(t):
                    v = f"lower(trim(CAST({x} AS VARCHAR)))"
                    words = ", ".join(_q(w) for w in _BOOL_WORDS)
                    self._refuse("_src", col, x, f"{x} IS NOT NULL AND {v} <> '' AND {v} NOT IN ({words})",
                                 "are not true/false", "Use true/false, yes/no, y/n or 1/0, or map them with values: "
                                 f"in {self.hint}.")
                    e = ("CASE " + " ".join(f"WHEN {v} = {_q(w)} THEN {_lit(b)}" for w, b in _BOOL_WORDS.items())
                         + " END")
                    self.changed = True
                else:
                    self._refuse("_src", col, x, f"{x} IS NOT NULL", f"are {t}, not true/false",
                                 "Export the column as true/false.")
                    e = "NULL"
            else:  # TIME, DATE
                self.time_cols.append(col)
                if _is_time(t):
                    aware = "TIME ZONE" in t or t == "TIMESTAMPTZ"
                    e = x if t in ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE") else f"CAST({x} AS TIMESTAMP)"
                    self.changed |= t not in ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS")
                    if t == "TIMESTAMP_NS":
                        e = f"CAST({x} AS TIMESTAMP)"
                elif _is_text(t):
                    e, bad, aware = self._time_expr(col, t, resolved)
                    self._refuse("_src", col, x, bad, "are not timestamps",
                                 f"Fix them, or set timestamps.format in {self.hint}.")
                    self.changed = True
                else:
                    self._refuse("_src", col, x, f"{x} IS NOT NULL", f"are {t}, not timestamps",
                                 f"Export them as text such as 2025-03-07 14:00 (or map them in {self.hint}).")
                    e, aware = "NULL", False
                if self.m is not None and self.m.timezone and not aware:
                    e = f"timezone({_q(self.m.timezone)}, {e})"
                    aware = True
                    self.changed = True
                self.aware[col] = aware
            exprs[col] = e
        # every value check rides along the one scan that types (and writes) the table: a failing value
        # stops it with a marker error, and only then do the slower scans run to name the values
        self.defer = False
        self.types = types
        guards: dict[str, list[str]] = {}
        for p in self.pending:
            guards.setdefault(p[1], []).append(f"({p[3]})")
        for col, conds in guards.items():
            exprs[col] = f"CASE WHEN {' OR '.join(conds)} THEN error('kpilab-bad-value') ELSE {exprs[col]} END"
        if blank_checks and not self.changed:
            self.changed = self._any_blank(blank_checks)
            if not self.changed:  # no blank text value: blank-to-NULL is the identity, and later scans of
                # _typed (the ids check) need not trim every value
                for col in types:
                    if col != "_row" and _ident(col) in blank_checks:
                        exprs[col] = _ident(col)
        sel = [f"{exprs[c]} AS {_ident(c)}" for c in types if c != "_row"]
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW _typed AS SELECT {', '.join(sel + ['_row'])} FROM _src")

    def _any_blank(self, cols: list[str]) -> bool:
        """Whether a text column of ``_src`` holds a blank value (empty or whitespace only).

        A blank value starts with a byte <= ' ' (every regex ``\\s`` character does) or is empty, so
        the column's minimum (binary order) would too: the minima (read from Parquet statistics
        without a scan when the source is a Parquet file) rule most columns out, and only the
        others are scanned value by value.
        """
        mins = self.con.execute(f"SELECT {', '.join(f'min({x})' for x in cols)} FROM _src").fetchone()
        maybe = [x for x, v in zip(cols, mins, strict=True) if v is not None and (v == "" or ord(v[0]) <= 32)]
        if not maybe:
            return False
        return any(self.con.execute("SELECT " + ", ".join(f"bool_or(regexp_full_match({x}, '\\s*'))" for x in maybe)
                                    + " FROM _src").fetchone())

    # ------------------------------------------------------------------ 3. plausibility and ids
    def checked(self, plausible: tuple[Any, Any] | None) -> None:
        """``_typed`` -> ``_out``: sentinels to NULL, implausible dates to NULL with a reason; id notices."""
        final = {c: _ident(c) for c in self._types("_typed") if c != "_row"}
        reasons: list[str] = []
        self.excluded: dict[str, int] = {}
        event = self.name in _EVENT_TIME
        tcols = [c for c in self.time_cols if c in final]
        if tcols and (event or self.name == "agents"):
            def sentinel(x: str) -> str:
                return (f"(year({x}) >= 9999 OR year({x}) <= 1900 OR "
                        f"{x} = CAST(TIMESTAMP '1970-01-01 00:00:00' AS {self._ttype(x)}))")
            window = None
            main = _EVENT_TIME.get(self.name)
            # Each column's min and max (from Parquet statistics, without a scan, when the table is a
            # Parquet file) settle most tables: no sentinel can lie between them when the min is after
            # 1970-01-01 00:00:00 and the max before year 9999, and no value is outside a window that
            # holds both. The scans below run only when these bounds cannot rule a finding out.
            mm = self.scan("SELECT " + ", ".join(
                f"min({_ident(c)}) <= CAST(TIMESTAMP '1970-01-01 00:00:00' AS {self._ttype(_ident(c))}) "
                f"OR year(max({_ident(c)})) >= 9999, epoch(min({_ident(c)})), epoch(max({_ident(c)}))"
                for c in tcols) + " FROM _typed").fetchone()
            maybe_sentinel = any(mm[3 * k] for k in range(len(tcols)))
            ends = [v for v in mm if v is not None and not isinstance(v, bool)]
            if event:
                if plausible is not None:
                    window = (pd.Timestamp(plausible[0]), pd.Timestamp(plausible[1]) + pd.Timedelta(days=1))
                    how = f"timestamps.plausible {plausible[0].date()} to {plausible[1].date()}"
                elif maybe_sentinel or not self._window_holds_all(tcols, main, ends):
                    base = main if main in tcols else tcols[0]
                    b = _ident(base)
                    q = self.scan(f"SELECT approx_quantile(epoch({b}), [0.25, 0.75]) FROM _typed "
                                         f"WHERE {b} IS NOT NULL AND NOT {sentinel(b)}").fetchone()[0]
                    if q:
                        lo, hi = (pd.Timestamp(v, unit="s") for v in q)
                        margin = max(2 * (hi - lo), pd.Timedelta(days=365))
                        window = (lo - margin, hi + margin)
                        how = (f"the plausible window {window[0].date()} to {window[1].date()} (the middle half of "
                               f"{base}, widened by {margin.days} days each side; set timestamps.plausible in "
                               f"{self.hint} to change it)")
            outside = window is not None and bool(ends) and (
                min(ends) < window[0].floor("s").timestamp() + 1 or max(ends) >= window[1].floor("s").timestamp() - 1)
            if maybe_sentinel or outside:
                counts = self.scan(
                    "SELECT " + ", ".join(
                        f"COUNT(*) FILTER (WHERE {sentinel(_ident(c))}), "
                        + (f"COUNT(*) FILTER (WHERE NOT {sentinel(_ident(c))} AND ({self._outside(c, window)})), "
                           f"min({_ident(c)}) FILTER (WHERE NOT {sentinel(_ident(c))} AND "
                           f"({self._outside(c, window)})), "
                           f"max({_ident(c)}) FILTER (WHERE NOT {sentinel(_ident(c))} AND "
                           f"({self._outside(c, window)}))"
                           if window else "0, NULL, NULL")
                        for c in tcols) + " FROM _typed").fetchone()
            else:
                counts = (0, 0, None, None) * len(tcols)
            for k, c in enumerate(tcols):
                n_sent, n_out, lo_v, hi_v = counts[4 * k: 4 * k + 4]
                x = _ident(c)
                cases = []
                if n_sent:
                    cases.append(f"WHEN {sentinel(x)} THEN NULL")
                    self.notices.append(f"{self.label}: {n_sent:,} {c} value(s) are sentinel dates "
                                        f"({SENTINEL_NOTE}); read as missing.")
                if n_out:
                    out_cond = self._outside(c, window)
                    cases.append(f"WHEN {out_cond} THEN NULL")
                    reasons.append(f"WHEN {out_cond} AND NOT {sentinel(x)} THEN {_q('implausible ' + c)}")
                    self.notices.append(f"{self.label}: {n_out:,} row(s) with {c} outside {how} (from {lo_v} to "
                                        f"{hi_v}): {c} read as missing, rows marked 'implausible {c}'.")
                if cases:
                    final[c] = f"CASE {' '.join(cases)} ELSE {x} END"
                    self.changed = True
        self.final_columns = list(final)
        for c in (self.m.normalise_ids if self.m else ()):
            if c in final:
                n = self.con.execute(f"SELECT COUNT(DISTINCT {_ident(c)}) FROM _src").fetchone()[0]
                k = self.scan(f"SELECT COUNT(DISTINCT {_ident(c)}) FROM _typed").fetchone()[0]
                if n != k:
                    self.notices.append(f"{self.label}: normalise_ids merged {n:,} distinct {c} values into {k:,} "
                                        "(trimmed, lower-cased).")
        sel = [f"{e} AS {_ident(c)}" for c, e in final.items()]
        if reasons:
            sel.append(f"CASE {' '.join(reasons)} END AS _ingest_reason")
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW _out AS SELECT {', '.join(sel + ['_row'])} FROM _typed")
        if reasons:
            for r, n in self.con.execute("SELECT _ingest_reason, COUNT(*) FROM _out WHERE _ingest_reason IS NOT NULL "
                                         "GROUP BY 1 ORDER BY 1").fetchall():
                self.excluded[r] = int(n)

    def check_spelling(self, defer: tuple[str, ...] = ()) -> list[str]:
        """Notice ids that differ only by spaces or case (``_PHANTOM_CHECK`` columns of ``_typed``).

        Columns in ``defer`` are not scanned: they are returned, for a caller that reads their distinct
        values anyway (the panel engine groups by agent) to pass to :func:`id_spelling_notice`.
        """
        deferred = []
        for c in _PHANTOM_CHECK:
            if c not in self.final_columns or c in (self.m.normalise_ids if self.m else ()):
                continue
            if c in defer:
                deferred.append(c)
                continue
            x = _ident(c)
            values = [v for (v,) in self.scan(f"SELECT DISTINCT {x} FROM _typed WHERE {x} IS NOT NULL").fetchall()]
            note = id_spelling_notice(self.label, c, values, self.hint)
            if note:
                self.notices.append(note)
        return deferred

    def _window_holds_all(self, tcols: list[str], main: str | None, ends: list[float]) -> bool:
        """Whether the default plausible window surely holds every date, without computing it.

        The window is the middle half of ``main`` widened by at least 365 days each side, so it holds
        every date when they all lie within 364 days of each other (the spare day covers rounding);
        otherwise when at least 35 % of ``main`` lie within 364 days of the earliest date and 35 % within
        364 days of the latest (the approximate quartiles, whose rank error is far below 10 points, then
        lie there too, given 10,000 dates or more). One filtered count; False sends the caller to the
        quartiles.
        """
        if not ends:
            return True
        lo, hi = min(ends), max(ends)
        day = 86400.0
        if hi - lo < 364 * day:
            return True
        base = _ident(main if main in tcols else tcols[0])
        n, n_lo, n_hi = self.scan(
            f"SELECT COUNT({base}), COUNT(*) FILTER (WHERE epoch({base}) <= {lo + 364 * day!r}), "
            f"COUNT(*) FILTER (WHERE epoch({base}) >= {hi - 364 * day!r}) FROM _typed").fetchone()
        return n >= 10_000 and n_lo >= 0.35 * n and n_hi >= 0.35 * n

    def _ttype(self, x: str) -> str:
        col = x.strip('"').replace('""', '"')
        return "TIMESTAMPTZ" if self.aware.get(col) else "TIMESTAMP"

    def _outside(self, col: str, window: tuple[pd.Timestamp, pd.Timestamp] | None) -> str:
        if window is None:
            return "FALSE"
        x = _ident(col)
        ty = self._ttype(x)
        lo, hi = (w.strftime("%Y-%m-%d %H:%M:%S") for w in window)
        suffix = "+00" if ty == "TIMESTAMPTZ" else ""
        return f"({x} < CAST({_q(lo + suffix)} AS {ty}) OR {x} >= CAST({_q(hi + suffix)} AS {ty}))"

    # ------------------------------------------------------------------ 4. write
    def write(self, view: str, out: Path) -> tuple[int, list[str], str | None]:
        """Write ``view`` (without ``_row``) to ``out`` (Parquet, DuckDB's parallel writer, row order kept).

        Returns (rows, columns, time zone of the aware columns: the mapping's, else UTC).
        """
        self.scan(f"COPY (SELECT * EXCLUDE (_row) FROM {view}) TO {_q(str(out))} (FORMAT parquet, COMPRESSION snappy)")
        n = self.con.execute(f"SELECT COUNT(*) FROM read_parquet({_q(str(out))})").fetchone()[0]
        cols = [c for c in self._types(f"read_parquet({_q(str(out))})")]
        tz = (self.m.timezone if self.m is not None and self.m.timezone else "UTC") if any(
            self.aware.get(c) for c in self.time_cols) else None
        return int(n), cols, tz


def _connect() -> Any:
    """A DuckDB connection for reading and checking one table (row order kept); close it with
    :func:`_disconnect`, which removes its private spill folder."""
    return connect({"threads": 2, "memory_limit": "1GB", "preserve_insertion_order": True}, progress_bar=False)


def _empty_frame(name: str) -> pd.DataFrame:
    dtypes = {STR: object, FLOAT: float, INT: "Int64", BOOL: "boolean", TIME: "datetime64[us]",
              DATE: "datetime64[us]"}
    return pd.DataFrame({c.name: pd.Series([], dtype=dtypes[c.kind]) for c in TABLES[name].columns})


# file tables already read in this process: {(file, size, mtime, table, mapping, window): LoadedTable}.
# A notebook that computes the panel, a wait profile and the staffing check from one folder reads
# (and checks) each file once; a changed file (size or modification time) is read again.
_LOADED: OrderedDict[tuple[Any, ...], LoadedTable] = OrderedDict()
_LOADED_MAX = 16


def _cache_key(path: Path, name: str | None, mapping: ColumnMapping | None, plausible: Any) -> tuple[Any, ...] | None:
    try:
        st = path.stat()
        return (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, name, repr(mapping),
                repr(plausible))
    except OSError:
        return None


def _fresh(lt: LoadedTable) -> LoadedTable:
    """A copy a caller may change (notices, flags) sharing the typed file (and its temporary folder)."""
    return replace(lt, notices=list(lt.notices), excluded=dict(lt.excluded), notices_reported=False)


def load_source(source: str | Path | pd.DataFrame, name: str | None = None, mapping: ColumnMapping | None = None,
                *, plausible: tuple[Any, Any] | None = None, defer_spelling: tuple[str, ...] = ()) -> LoadedTable:
    """Read one table (file or DataFrame), check it, and return it typed.

    A file read before in this process (same file, size and modification time, table, mapping and
    window) is not read again: the earlier result is returned (a copy of its notices).

    Parameters
    ----------
    source : path or DataFrame
        A ``.parquet``, ``.csv`` (or other text) or ``.xlsx`` file (the kind is read
        from the content), or a DataFrame.
    name : str, optional
        Canonical table name (default: the mapping's table, else the file's stem).
    mapping : ColumnMapping, optional
        How to read and map the source (see the module docstring).
    plausible : (start, end), optional
        Plausible dates of the table's events (default: the mapping's, else from the data).
    defer_spelling : tuple of str
        Id columns (``agent_id``) not to check here for ids differing only by spaces or case, when the
        file is passed through as it is: the caller reads their distinct values anyway and checks
        them (:attr:`LoadedTable.unchecked_spelling`, :func:`id_spelling_notice`).

    Returns
    -------
    LoadedTable

    Raises
    ------
    InputFileError
        The file cannot be read as a table: encoding, CSV syntax, workbook, sheet.
    SchemaError
        A value does not parse (naming the column, values, count and first rows), the
        day/month order is ambiguous, a mapping does not fit the export.
    """
    name = name or (mapping.table if mapping is not None else None) or (
        Path(source).name.split(".")[0] if isinstance(source, str | Path) else None)
    if name not in TABLES:
        raise SchemaError(f"{source}: {name!r} is not a canonical table ({', '.join(TABLES)}).", table=name)
    if plausible is None and mapping is not None:
        plausible = mapping.plausible
    if isinstance(source, pd.DataFrame):
        return _load_frame(source, name, f"table {name!r}", mapping, plausible, keep=source)
    path = Path(source)
    if not path.is_file():
        raise DataError(f"Export file {path} does not exist.")
    key = _cache_key(path, name, mapping, plausible)
    if key is not None and key in _LOADED:
        _LOADED.move_to_end(key)
        cached = _LOADED[key]
        todo = [c for c in cached.unchecked_spelling if c not in defer_spelling]
        if todo:  # read before by a caller that checked these ids itself: check them now, once
            _LOADED[key] = cached = _check_spelling_later(cached, todo)
        return _fresh(cached)
    lt = _load_file(path, name, mapping, plausible, tuple(defer_spelling))
    if key is not None:
        _LOADED[key] = _fresh(lt)
        while len(_LOADED) > _LOADED_MAX:
            _LOADED.popitem(last=False)
    return lt


def _check_spelling_later(lt: LoadedTable, columns: list[str]) -> LoadedTable:
    """``lt`` with the spelling check of ``columns`` (left to an earlier caller) done on its file."""
    con = _connect()
    try:
        notes = []
        for c in columns:
            x = _ident(c)
            values = [v for (v,) in con.execute(f"SELECT DISTINCT {x} FROM read_parquet({_q(str(lt.path))}) "
                                                f"WHERE {x} IS NOT NULL").fetchall()]
            note = deferred_spelling_notice(lt, c, values)
            if note:
                notes.append(note)
    finally:
        _disconnect(con)
    return replace(lt, notices=[*lt.notices, *notes],
                   unchecked_spelling=tuple(c for c in lt.unchecked_spelling if c not in columns))


def _load_file(path: Path, name: str, mapping: ColumnMapping | None, plausible: Any,
               defer_spelling: tuple[str, ...] = ()) -> LoadedTable:
    label = path.name
    hint = _hint(name, mapping)
    kind = _sniff(path)
    notices: list[str] = []
    suffix = path.suffix.lower()
    if kind == "xls":
        raise InputFileError(f"{label} is an old-style Excel .xls workbook; save it as .xlsx or CSV.")
    if kind == "xlsx":
        if suffix != ".xlsx":
            notices.append(f"{label} is an Excel workbook (by its content), not {suffix or 'text'}; read it as one.")
        df = _excel_frame(path, label, mapping.sheet if mapping is not None else None)
        if df.empty and not len(df.columns):
            return _empty(name, label, notices + [f"{label}: the sheet is empty; read as a table with zero rows."])
        return _load_frame(df, name, label, mapping, plausible, notices=notices, hint=hint)
    if suffix == ".xlsx":
        raise InputFileError(f"{label} is named .xlsx but is not an Excel workbook; re-export it.")
    tmp = _tempdir()
    con = _connect()
    try:
        if kind == "parquet":
            if suffix != ".parquet":
                notices.append(f"{label} is a Parquet file (by its content); read it as one.")
            import pyarrow.parquet as pq

            try:
                pq.ParquetFile(path)
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types on a broken file
                raise InputFileError(f"{label}: not a readable Parquet file ({' '.join(str(exc).split())[:120]})."
                                     ) from None
            con.execute(f"CREATE VIEW _in AS SELECT * EXCLUDE (file_row_number), CAST(file_row_number + 1 AS BIGINT) AS _row "
                        f"FROM read_parquet({_q(str(path))}, file_row_number=true)")
            skipped = 0
        else:
            if suffix in (".parquet",):
                raise InputFileError(f"{label} is named .parquet but is not a Parquet file; re-export it.")
            if _is_blank_text(path):
                return _empty(name, label, [f"{label} is empty (no header, no rows); read as a table with zero "
                                            "rows."])
            fast = _csv_fast(con, path, label, name, mapping, plausible, hint, Path(tmp.name))
            if fast is not None:
                fast._tmp = tmp
                return fast
            _disconnect(con)
            con = _connect()
            raw = Path(tmp.name) / "raw.parquet"
            n, skipped, _header, enc_notice = _csv_to_parquet(
                path, label, mapping.encoding if mapping is not None else None,
                mapping.on_bad_lines if mapping is not None else "error", raw, hint)
            if enc_notice:
                notices.append(enc_notice)
            if skipped:
                notices.append(f"{label}: skipped {skipped:,} malformed line(s) (on_bad_lines: skip); they are not "
                               "counted as rows.")
            con.execute(f"CREATE VIEW _in AS SELECT * FROM read_parquet({_q(str(raw))})")
        lt = _run(con, name, label, mapping, plausible, hint, Path(tmp.name) / f"{name}.parquet",
                  original=path if kind == "parquet" and mapping is None else None, defer_spelling=defer_spelling)
    finally:
        _disconnect(con, background=True)  # kpilab._duckdb.wait_closed() waits for it
    lt.notices[:0] = notices
    lt.skipped_lines = skipped
    if lt.path is not None and lt.path != path:
        lt._tmp = tmp
    else:
        tmp.cleanup()
    return lt


def _csv_fast(con: Any, path: Path, label: str, name: str, mapping: ColumnMapping | None, plausible: Any,
              hint: str, tmp: Path) -> LoadedTable | None:
    """A well-formed UTF-8 CSV read by DuckDB's parallel reader straight into the typing scan.

    Returns None when anything is off (not UTF-8, a malformed line, a bad value, lines to skip, an
    encoding to apply): the careful path then reads the file again, with row numbers for the message.
    """
    import duckdb

    if mapping is not None and (mapping.encoding not in (None, "utf-8") or mapping.on_bad_lines == "skip"):
        return None
    try:
        header = _csv_header(path, "utf-8")
    except (UnicodeError, OSError):
        return None
    if not header or "" in header or len(set(header)) != len(header):
        return None
    cols = "{" + ", ".join(f"{_q(h)}: 'VARCHAR'" for h in header) + "}"
    nulls = "[" + ", ".join(_q(v) for v in _NULL_TEXT) + "]"
    src = (f"read_csv({_q(str(path))}, columns={cols}, header=true, delim=',', quote='\"', escape='\"', "
           f"auto_detect=false, strict_mode=true, nullstr={nulls}, allow_quoted_nulls=false, null_padding=false, "
           "encoding='utf-8')")
    try:
        con.execute(f"CREATE OR REPLACE VIEW _in AS SELECT *, CAST(NULL AS BIGINT) AS _row FROM {src}")
        return _run(con, name, label, mapping, plausible, hint, tmp / f"{name}.parquet")
    except (duckdb.Error, SchemaError, InputFileError):
        for p in tmp.glob("*.parquet"):
            p.unlink()
        return None


def _empty(name: str, label: str, notices: list[str]) -> LoadedTable:
    df = _empty_frame(name)
    return LoadedTable(name, label, 0, list(df.columns), None, notices=notices, frame=df)


def _run(con: Any, name: str, label: str, mapping: ColumnMapping | None, plausible: Any, hint: str, out: Path,
         original: Path | None = None, keep: pd.DataFrame | None = None, defer_spelling: tuple[str, ...] = ()
         ) -> LoadedTable:
    """Map, type, check and write one table; a source that needs no change is passed through as it is.

    ``defer_spelling``: id columns whose spelling check is left to the caller (only for a source passed
    through as it is, whose values the caller reads unchanged; see :attr:`LoadedTable.unchecked_spelling`).
    """
    norm = _Normaliser(con, name, label, mapping, hint)
    norm.project()
    norm.typed()
    typed_changed = norm.changed or mapping is not None or (original is None and keep is None)
    typed_path = out.with_name(out.stem + ".typed.parquet")
    if typed_changed:  # type once; the checks then scan typed columns
        norm.write("_typed", typed_path)
        con.execute(f"CREATE OR REPLACE TEMP VIEW _typed AS SELECT * EXCLUDE (file_row_number), "
                    f"CAST(file_row_number + 1 AS BIGINT) AS _row FROM read_parquet({_q(str(typed_path))}, "
                    "file_row_number=true)")
    norm.changed = False
    norm.checked(plausible)
    # deferred only for a table passed through as it is: the caller reads these very values
    unchanged = not norm.changed and not typed_changed
    unchecked = norm.check_spelling(defer_spelling if unchanged else ())
    if unchanged:
        n = con.execute("SELECT COUNT(*) FROM _in").fetchone()[0]
        cols = [c for c in norm._types("_in") if c != "_row"]
        tz = table_timezone(keep, name) if keep is not None else (
            "UTC" if any(norm.aware.get(c) for c in norm.time_cols) else None)
        return LoadedTable(name, label, int(n), cols, tz, notices=norm.notices, path=original, frame=keep,
                           unchecked_spelling=tuple(unchecked))
    if not norm.changed:
        n = con.execute(f"SELECT COUNT(*) FROM read_parquet({_q(str(typed_path))})").fetchone()[0]
        cols = list(norm._types(f"read_parquet({_q(str(typed_path))})"))
        tz = (mapping.timezone if mapping is not None and mapping.timezone else "UTC") if any(
            norm.aware.get(c) for c in norm.time_cols) else None
        return LoadedTable(name, label, int(n), cols, tz, notices=norm.notices, path=typed_path)
    n, cols, tz = norm.write("_out", out)
    return LoadedTable(name, label, n, cols, tz, notices=norm.notices, path=out, excluded=norm.excluded)


def _load_frame(df: pd.DataFrame, name: str, label: str, mapping: ColumnMapping | None, plausible: Any,
                notices: list[str] | None = None, hint: str | None = None, keep: pd.DataFrame | None = None
                ) -> LoadedTable:
    import pyarrow as pa

    hint = hint or (f"{name}.mapping.yaml" if mapping is None else "the column mapping")
    df = df.reset_index(drop=True)
    frame = df.copy()
    for c in frame.columns:
        s = frame[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            frame[c] = s.dt.tz_convert("UTC")
        elif s.dtype == object:
            # mixed Python objects (Excel cells, hand-built frames) become text; the normaliser parses them
            vals = s.dropna()
            if len(vals) and not all(isinstance(v, str) for v in vals.head(1000)):
                if all(isinstance(v, bool | np.bool_) for v in vals):
                    frame[c] = s.astype("boolean")
                elif all(isinstance(v, _dt.datetime | pd.Timestamp) for v in vals):
                    frame[c] = pd.to_datetime(s, utc=any(getattr(v, "tzinfo", None) for v in vals))
                else:
                    frame[c] = s.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                                     else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise SchemaError(f"{label}: a column cannot be read ({' '.join(str(exc).split())[:160]}).",
                          table=name) from None
    table = table.append_column("_row", pa.array(np.arange(1, len(frame) + 1, dtype=np.int64)))
    tmp = _tempdir()
    con = _connect()
    try:
        con.register("_arrow_in", table)
        con.execute("CREATE VIEW _in AS SELECT * FROM _arrow_in")
        lt = _run(con, name, label, mapping, plausible, hint, Path(tmp.name) / f"{name}.parquet",
                  keep=keep if keep is not None and mapping is None else None)
    finally:
        _disconnect(con)
    lt.notices[:0] = notices or []
    if lt.frame is None:
        lt._tmp = tmp
    else:
        tmp.cleanup()
    return lt


def load_folder(folder: str | Path) -> dict[str, LoadedTable]:
    """Every canonical table of a data folder, read and checked (see :func:`load_source`)."""
    return {name: load_source(path, name, mapping) for name, (path, mapping) in find_sources(folder).items()}


def read_table(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """Read one canonical table (.parquet, .csv or .xlsx) with canonical dtypes (see :func:`load_source`)."""
    path = Path(path)
    name = name or path.name.split(".")[0]
    if name not in TABLES:
        raise SchemaError(f"File {path.name}: {name!r} is not a canonical table ({', '.join(TABLES)}).", table=name)
    mfile = _mapping_file(path.parent, name)
    mapping = load_mapping(mfile, table=name) if mfile is not None else None
    return coerce_table(load_source(path, name, mapping).to_pandas(), name)


def load_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Every canonical table of a folder as a DataFrame (see :func:`find_sources`)."""
    return {name: coerce_table(lt.to_pandas(), name) for name, lt in load_folder(folder).items()}


def apply_mapping(df: pd.DataFrame, mapping: ColumnMapping | Mapping[str, Any] | str | Path) -> pd.DataFrame:
    """Turn a source DataFrame into a canonical table following ``mapping``.

    Renames columns, applies value maps and constants, parses timestamps (format,
    then time zone: naive times are localised, aware ones converted), converts
    durations to seconds and types every canonical column. Rows are never
    dropped; sentinel and implausible dates become missing (see the module docstring).

    Raises
    ------
    SchemaError
        A mapped source column is absent, a value has no entry in its value map,
        a value does not parse (named with its rows), or day/month order is ambiguous.
    """
    m = mapping if isinstance(mapping, ColumnMapping) else load_mapping(mapping)
    lt = _load_frame(df, m.table, f"the {m.table!r} export", m, m.plausible)
    out = lt.to_pandas()
    if m.timezone:
        for c in out.columns:
            if isinstance(out[c].dtype, pd.DatetimeTZDtype):
                out[c] = out[c].dt.tz_convert(m.timezone)
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
    out = load_source(path, m.table, m).to_pandas()
    if m.timezone:
        for c in out.columns:
            if isinstance(out[c].dtype, pd.DatetimeTZDtype):
                out[c] = out[c].dt.tz_convert(m.timezone)
    return m.table, coerce_table(out, m.table)

