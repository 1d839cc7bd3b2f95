"""Reading the canonical tables the overview and operations functions need: DuckDB views, not pandas copies.

:func:`open_tables` turns a data folder (read and checked once by :func:`kpilab.ingest.load_source`) or
a dict of DataFrames into a :class:`SourceTables`: one DuckDB view per table, limited to the review
period in SQL, and a second view per table without the rows that break the canonical row rules (the
panel engine excludes them too). The functions then aggregate in SQL and only their (small) results
come back to pandas, so a 15-million-contact quarter never sits in pandas memory.

The row rules mirror :func:`kpilab.schema.validate_table` rule for rule and in its order (the first
rule a row breaks is its reason); ``tests/test_operations_sql.py`` checks the two agree row by row
on the messy simulator, whose exports carry every defect.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kpilab import id_screen
from kpilab._duckdb import connect, disconnect, duckdb_memory
from kpilab._duckdb import quote_ident as _ident
from kpilab._duckdb import quote_text as _q
from kpilab.errors import DataError, SchemaError
from kpilab.schema import (
    BOOL,
    STR,
    TABLES,
    TIME,
    coerce_table,
    row_rules_sql,
    validate_table,
)

if TYPE_CHECKING:
    from kpilab.review_period import ReviewPeriod

__all__ = ["SourceTables", "open_tables"]

#: the column each table is limited to the review period on (as :data:`kpilab.review_period.TIME_COLUMNS`)
_PERIOD_COLUMNS = {"contacts": "arrived_at", "surveys": "responded_at", "qa_reviews": "reviewed_at",
                   "tickets": "created_at"}


def _ts(ts: pd.Timestamp) -> str:
    return f"TIMESTAMP {_q(pd.Timestamp(ts).strftime('%Y-%m-%d %H:%M:%S.%f'))}"


def _missing_message(missing: list[str], data: Any) -> str:
    where = data if isinstance(data, str | Path) else "data"
    return (f"Table(s) {', '.join(missing)} missing from {where}: this analysis needs them (canonical names: "
            f"{', '.join(missing)}.parquet or .csv).")


class SourceTables:
    """Canonical tables as DuckDB views over their files (or frames), limited to a review period.

    Build one with :func:`open_tables`. For each table ``name`` present:

    * :meth:`view` (``t_<name>``) - the rows of the review period (every row when no period), with the
      canonical columns typed, NaN floats as NULL and ``_row``, the row's position in the source;
    * :meth:`valid` (``v_<name>``) - the same without the rows that break a row rule of
      :func:`kpilab.schema.validate_table` (what the panel engine excludes).

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        The connection holding the views (2 threads or the CPU count when smaller, 1 GB memory, spills
        to disk beyond it).
    names : list of str
        Tables present, in canonical order.
    scope : ReviewPeriod or None
        The review period the views are limited to.
    source : str
        What was read (the folder, or ``data``).
    """

    def __init__(self, data: Any, *, scope: ReviewPeriod | None = None, names: Iterable[str] | None = None,
                 memory_limit: str | None = None) -> None:
        # spills beyond the limit go to a temporary folder of ours (DuckDB's default is .tmp in the working
        # folder); with a process budget, DuckDB's share is fitted again before each query (_fit_memory)
        self.memory_limit = memory_limit
        self._threads = min(os.cpu_count() or 1, 2)
        self.con = connect({"threads": self._threads,
                            "memory_limit": duckdb_memory(memory_limit) if memory_limit else "1GB",
                            "preserve_insertion_order": True}, progress_bar=False)
        weakref.finalize(self, disconnect, self.con)
        self.scope = scope
        wanted = list(TABLES) if names is None else [n for n in TABLES if n in set(names)]
        self._tz: dict[str, str | None] = {}
        self._cols: dict[str, list[str]] = {}
        self._rows: dict[str, int] = {}
        self._nullable: dict[str, set[str]] = {}  # columns a pandas copy holds as nullable boolean or Int64
        self._keep: list[Any] = []  # loaded tables whose temporary files the views read
        self._valid_done: set[str] = set()
        self._period_cond: dict[str, str] = {}
        if isinstance(data, Mapping):
            self.source = "data"
            for name in wanted:
                df = data.get(name)
                if df is None:
                    continue
                if isinstance(df, str | Path):
                    from kpilab.ingest import read_table

                    df = read_table(df, name)
                df = coerce_table(df, name)
                validate_table(df, name, strict=False)  # structural problems raise, naming table and column
                self._register_frame(name, df)
        elif isinstance(data, str | Path):
            from kpilab.ingest import find_sources, load_source

            self.source = str(data)
            found = find_sources(data)
            for name in wanted:
                if name not in found:
                    continue
                path, mapping = found[name]
                lt = load_source(path, name, mapping)
                self._keep.append(lt)
                sample = coerce_table(lt.sample(), name)
                validate_table(sample, name, strict=False)  # structural problems raise, naming table and column
                if lt.frame is not None:
                    self._register_frame(name, coerce_table(lt.frame, name))
                else:
                    self._register_parquet(name, lt.path)
        else:
            raise SchemaError(f"data must be a folder of canonical tables or a dict of DataFrames, got "
                              f"{type(data).__name__}.")
        self.names = [n for n in TABLES if n in self._cols]
        for name in self.names:
            self._period_view(name)

    # ------------------------------------------------------------------ registering sources
    def _typed_select(self, name: str, raw: str) -> None:
        """``r_<name>``: canonical columns cast where needed (ids as text), NaN floats as NULL."""
        types = dict(self.con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {raw})").fetchall())
        spec = {c.name: c for c in TABLES[name].columns}
        sel = []
        for col, typ in types.items():
            c = spec.get(col)
            e = _ident(col)
            if c is not None and c.kind == STR and typ != "VARCHAR":
                e = f"CAST({e} AS VARCHAR)"
            elif typ in ("DOUBLE", "FLOAT"):
                e = f"CASE WHEN isnan({e}) THEN NULL ELSE {e} END"
            elif c is not None and c.kind == BOOL and typ != "BOOLEAN":
                e = f"CAST({e} AS BOOLEAN)"
            sel.append(f"{e} AS {_ident(col)}" if col != "_row" else "_row")
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW r_{name} AS SELECT {', '.join(sel)} FROM {raw}")
        self._cols[name] = [c for c in types if c != "_row"]

    def _register_frame(self, name: str, df: pd.DataFrame) -> None:
        import pyarrow as pa

        frame = df.reset_index(drop=True)
        tbl = pa.Table.from_pandas(frame, preserve_index=False)
        tbl = tbl.append_column("_row", pa.array(np.arange(len(frame), dtype=np.int64)))
        self.con.register(f"_arrow_{name}", tbl)
        self._tz[name] = _frame_tz(frame, name)
        self._nullable[name] = {c for c in frame.columns
                                if isinstance(frame[c].dtype, pd.BooleanDtype | pd.Int64Dtype)}
        self._rows[name] = len(frame)
        self._typed_select(name, f"_arrow_{name}")

    def _register_parquet(self, name: str, path: Path) -> None:
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
        self._tz[name] = _arrow_tz(schema, name)
        self._nullable[name] = {f.name for f in schema if str(f.type) in ("bool", "int64")}  # LoadedTable.to_pandas
        self._rows[name] = pq.ParquetFile(path).metadata.num_rows
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW _file_{name} AS SELECT * EXCLUDE (file_row_number), "
                         f"file_row_number AS _row FROM read_parquet({_q(path)}, file_row_number=true)")
        self._typed_select(name, f"_file_{name}")

    def _period_view(self, name: str) -> None:
        col = _PERIOD_COLUMNS.get(name)
        cond = "TRUE"
        if self.scope is not None and self.scope.bounded and col is not None and col in self._cols[name]:
            local = self.local(name, col)
            parts = []
            if self.scope.data_start is not None:
                parts.append(f"{local} >= {_ts(self.scope.data_start)}")
            if self.scope.data_end is not None:
                parts.append(f"{local} < {_ts(self.scope.data_end + pd.Timedelta(days=1))}")
            cond = " AND ".join(parts)
        self._period_cond[name] = cond
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW t_{name} AS SELECT * FROM r_{name} WHERE {cond}")

    # ------------------------------------------------------------------ what callers use
    def __contains__(self, name: object) -> bool:
        return name in self._cols

    def require(self, names: Iterable[str]) -> None:
        """Raise :class:`~kpilab.errors.DataError` naming the tables in ``names`` that are absent."""
        missing = [n for n in names if n not in self._cols]
        if missing:
            raise DataError(_missing_message(missing, self.source))

    def columns(self, name: str) -> list[str]:
        """Columns of table ``name`` (as a pandas frame of it would have them)."""
        return list(self._cols[name])

    def has(self, name: str, column: str) -> bool:
        """True when table ``name`` is present and has ``column``."""
        return name in self._cols and column in self._cols[name]

    def nullable(self, name: str, column: str) -> bool:
        """True when a pandas copy of the table holds ``column`` as a nullable boolean or Int64 column."""
        return column in self._nullable.get(name, set())

    def tz(self, name: str) -> str | None:
        """Time zone of the table's aware timestamps as pandas shows them (None: naive)."""
        return self._tz.get(name)

    def local(self, name: str, column: str) -> str:
        """SQL for ``column`` of table ``name`` as local wall time (pandas' ``.dt.hour`` etc. of the column)."""
        tz = self._tz.get(name)
        return f"timezone({_q(tz)}, {_ident(column)})" if tz else _ident(column)

    def view(self, name: str) -> str:
        """The view of the review period's rows of ``name`` (rows with problems included)."""
        return f"t_{name}"

    def valid(self, name: str) -> str:
        """The view of the review period's rows of ``name`` that break no row rule."""
        if name not in self._valid_done:
            self._prepare_validation(name)
        return f"v_{name}"

    def _fit_memory(self) -> None:
        """With a ``memory_limit`` budget: DuckDB's limit is the budget less what the process holds now
        (the notebook's frames grow between queries; kpilab._duckdb.duckdb_memory)."""
        if self.memory_limit:
            self.con.execute(f"SET memory_limit = '{duckdb_memory(self.memory_limit)}'")

    def sql(self, query: str, *, nullable: bool = False) -> pd.DataFrame:
        """Run ``query`` and return the result as pandas.

        Aggregates come back as pandas' own groupby results would be typed (int64, float64 with NaN);
        with ``nullable`` booleans and integers are nullable (as a table read by ``kpilab.ingest``).
        """
        self._fit_memory()
        table = self.con.sql(query).to_arrow_table()
        return _to_pandas(table) if nullable else table.to_pandas()

    def scalar(self, query: str) -> Any:
        """The first value of the first row of ``query``."""
        self._fit_memory()
        return self.con.execute(query).fetchall()[0][0]

    def to_time(self, values: Any, name: str) -> Any:
        """Timestamps fetched from table ``name`` (UTC instants or naive) in the table's pandas time zone."""
        tz = self._tz.get(name)
        s = pd.to_datetime(values)
        if tz is None:
            return s
        if isinstance(s, pd.Timestamp):
            return s.tz_convert(tz) if s.tzinfo is not None else s.tz_localize("UTC").tz_convert(tz)
        return s.dt.tz_convert(tz) if getattr(s.dt, "tz", None) is not None else s.dt.tz_localize("UTC").dt.tz_convert(tz)

    def frame(self, name: str, columns: Iterable[str] | None = None, *, valid: bool = True,
              where: str | None = None) -> pd.DataFrame:
        """Rows of table ``name`` as pandas (canonical dtypes), optionally some columns and a SQL filter.

        Only for what is small (a day's contacts, the agents table): the point of this class is not to
        bring whole tables back.
        """
        cols = [c for c in (columns or self._cols[name]) if c in self._cols[name]]
        src = self.valid(name) if valid else self.view(name)
        q = f"SELECT {', '.join(_ident(c) for c in cols)} FROM {src}"
        if where:
            q += f" WHERE {where}"
        df = self.sql(q + " ORDER BY _row", nullable=True)
        for c in cols:
            if c in df.columns and pd.api.types.is_datetime64_any_dtype(df[c]):
                df[c] = self.to_time(df[c], name)
        return coerce_table(df, name)

    def period_rows(self) -> pd.DataFrame:
        """``table, rows, in_period, outside_period, time_column`` (as :meth:`ReviewPeriod.filter_tables`)."""
        out = []
        for name in self.names:
            col = _PERIOD_COLUMNS.get(name)
            n = self._rows[name]
            cond = self._period_cond[name]
            if cond == "TRUE":
                out.append([name, n, n, 0, col or ""])
                continue
            k = int(self.scalar(f"SELECT count(*) FROM t_{name}"))
            out.append([name, n, k, n - k, col])
        return pd.DataFrame(out, columns=["table", "rows", "in_period", "outside_period", "time_column"])

    def n_rows(self, name: str, *, valid: bool = False) -> int:
        """Rows of the review period (without the rows that break a rule when ``valid``)."""
        return int(self.scalar(f"SELECT count(*) FROM {self.valid(name) if valid else self.view(name)}"))

    # ------------------------------------------------------------------ the row rules
    def _rules(self, name: str) -> list[tuple[str, str]]:
        """(condition, reason) in the order of :func:`kpilab.schema.validate_table` (duplicates excluded)."""
        return row_rules_sql(name, set(self._cols[name]))

    def _prepare_validation(self, name: str) -> None:
        """``_dup_<name>`` (rows repeating an earlier id, or an earlier row of a table without ids) and ``v_<name>``."""
        spec = TABLES[name]
        t = f"t_{name}"
        idc = spec.id_column if spec.id_column in self._cols[name] else None
        dup_reason = None
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _dup_{name} (_row BIGINT)")
        if idc is not None:
            dup_reason = "duplicate id"
            key = _ident(idc)
            n_ids = int(self.scalar(f"SELECT count({key}) FROM {t}"))
            if n_ids > 1 and not id_screen.ids_distinct(self.con, t, idc, n_ids, threads=self._threads):
                self.con.execute(
                    f"INSERT INTO _dup_{name} SELECT _row FROM (SELECT _row, row_number() OVER (PARTITION BY {key} "
                    f"ORDER BY _row) AS _k FROM {t} WHERE {key} IN (SELECT {key} FROM {t} WHERE {key} IS NOT NULL "
                    f"GROUP BY {key} HAVING count(*) > 1)) WHERE _k > 1")
        elif spec.id_column is None:  # an exact repeat of an earlier row is the same row exported twice
            cols = ", ".join(_ident(c) for c in self._cols[name])
            dup_reason = "duplicate row"
            if self._rows[name] > 1:
                if not id_screen.rows_distinct(self.con, t, self._cols[name], self._rows[name], self._threads):
                    self.con.execute(
                        f"INSERT INTO _dup_{name} SELECT _row FROM (SELECT _row, row_number() OVER (PARTITION BY "
                        f"{cols} ORDER BY _row) AS _k FROM {t}) WHERE _k > 1")
        rules = self._rules(name)
        if self.scalar(f"SELECT count(*) FROM _dup_{name}") > 0:
            rules.append((f"_row IN (SELECT _row FROM _dup_{name})", dup_reason))
        reason = ("CASE " + " ".join(f"WHEN ({c}) THEN {_q(r)}" for c, r in rules) + " END"
                  if rules else "CAST(NULL AS VARCHAR)")
        idsql = f"CAST({_ident(idc)} AS VARCHAR)" if idc else "CAST(NULL AS VARCHAR)"
        # one scan finds the rows that break a rule (usually few); later scans leave them out by row number
        # and so read only the columns they need
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _bad_{name} AS SELECT _row, _id, _reason FROM (SELECT _row, "
                         f"{idsql} AS _id, {reason} AS _reason FROM {t}) WHERE _reason IS NOT NULL")
        if self.scalar(f"SELECT count(*) FROM _bad_{name}"):
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW v_{name} AS SELECT * FROM {t} "
                             f"WHERE _row NOT IN (SELECT _row FROM _bad_{name})")
        else:
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW v_{name} AS SELECT * FROM {t}")
        self._valid_done.add(name)

    def issues(self, name: str) -> pd.DataFrame:
        """Rows of the review period of ``name`` that break a rule: ``row, id, reason`` (row order).

        ``row`` is the row's position in the review period's rows, ``id`` its id (``row <position>``
        for tables without an id column), as in :attr:`kpilab.schema.ValidationReport.issues`.
        """
        self.valid(name)
        spec = TABLES[name]
        idc = spec.id_column if spec.id_column in self._cols[name] else None
        if self._period_cond[name] == "TRUE":  # the position among the period's rows is the source row
            q = f"SELECT _row AS row, _id AS id, _reason AS reason FROM _bad_{name} ORDER BY _row"
        else:
            q = (f"SELECT p._pos AS row, b._id AS id, b._reason AS reason FROM _bad_{name} b JOIN (SELECT _row, "
                 f"row_number() OVER (ORDER BY _row) - 1 AS _pos FROM t_{name}) p ON p._row = b._row ORDER BY b._row")
        df = self.con.sql(q).df()
        if idc is None:
            df["id"] = [f"row {i}" for i in df["row"]]
        return df


def _frame_tz(df: pd.DataFrame, name: str) -> str | None:
    for c in TABLES[name].columns:
        if c.kind == TIME and c.name in df.columns:
            tz = getattr(df[c.name].dtype, "tz", None)
            if tz is not None:
                return str(tz)
    return None


def _arrow_tz(schema: Any, name: str) -> str | None:
    import pyarrow as pa

    for c in TABLES[name].columns:
        if c.kind == TIME and c.name in schema.names:
            typ = schema.field(c.name).type
            if pa.types.is_timestamp(typ) and typ.tz is not None:
                return str(typ.tz)
    return None


def _to_pandas(table: Any) -> pd.DataFrame:
    import pyarrow as pa

    mapper = {pa.bool_(): pd.BooleanDtype(), pa.int64(): pd.Int64Dtype()}
    return table.to_pandas(types_mapper=mapper.get)


def open_tables(data: Any, scope: ReviewPeriod | None = None, *, names: Iterable[str] | None = None,
                memory_limit: str | None = None) -> SourceTables:
    """The canonical tables of ``data`` as DuckDB views limited to ``scope`` (see :class:`SourceTables`).

    Parameters
    ----------
    data : folder, dict of DataFrames or SourceTables
        A data folder (each file read and checked once per process by :func:`kpilab.ingest.load_source`),
        canonical tables as DataFrames (or paths), or tables already opened (returned as they are).
    scope : ReviewPeriod, optional
        Keep only the rows read for this review period (its history included), as
        :meth:`kpilab.review_period.ReviewPeriod.filter_tables` does.
    names : list of str, optional
        Tables to open (default: every canonical table present).
    memory_limit : str, optional
        Memory budget of the whole process (``"1.8GB"``), as :func:`kpilab.indicators.compute_panel` takes
        it: before each query DuckDB gets the budget less what the process holds then, and spills beyond
        it. Default: DuckDB alone gets 1 GB.

    Returns
    -------
    SourceTables

    Raises
    ------
    SchemaError
        ``data`` of another type, or a table with a structural problem (missing required column,
        wrong type, mixed naive and aware timestamps).
    """
    if isinstance(data, SourceTables):
        if scope is not None and scope != data.scope:
            raise DataError("These tables were opened for another review period; open them again with this one.")
        return data
    return SourceTables(data, scope=scope, names=names, memory_limit=memory_limit)
