"""The panel engine on Apache Spark: the same definitions, run where the data is.

Choice of design (issue 12): **one generator, two dialects.** The DuckDB engine
(:class:`kpilab.indicators.engine._Engine`) already turns every catalogue and
framework definition into SQL: the prepared views (canonical columns, row
reasons, exemptions, periods) and one aggregation per source table. This
back end runs those very statements on Spark: :class:`SparkEngine` subclasses
the DuckDB engine and swaps its connection for :class:`SparkConnection`, which
translates each statement with sqlglot (:mod:`kpilab.indicators.sql_dialect`)
and runs it with ``spark.sql``. No indicator's SQL is written twice, and a
definition added to the catalogue or a framework file runs on both engines.
The engine-specific part is small and named: the dialect rewrites in
:mod:`kpilab.indicators.sql_dialect`, reading the raw tables into Spark, and
turning ``CREATE VIEW`` / ``CREATE TEMP TABLE`` into Spark temp views.
Ibis (one expression compiled to both) was the alternative; it would have
meant rewriting the engine and every ``compute:`` string a user writes, which
are SQL text by design.

Only the aggregated cells (counts, sums, sums of squares, the order statistics
at the interval ranks) and the per-reason row counts come back to the driver;
intervals, flags, shrinkage and the accounting are computed by the same pandas
code as for DuckDB (:func:`kpilab.indicators.engine.compute_panel`), so they are
identical by construction. Row validation (missing values, ranges, time order,
duplicate ids and rows) is SQL in the prepared views, so it runs in Spark.

Sources: a folder or table given as a URI Spark reads (``s3a://``, ``hdfs://``,
``abfss://``, ``gs://``, ``dbfs:/``, ``file://``...) is read by Spark directly
(Parquet, or CSV with a header), with canonical column names; its row count and
its structural sample check run in Spark too. Local files and DataFrames go
through :func:`kpilab.ingest.load_source` exactly as for DuckDB (column
mappings, text timestamps, implausible dates), and Spark reads the typed result.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pandas as pd

from kpilab._duckdb import quote_ident
from kpilab.errors import DataError, KpilabError, ParameterError
from kpilab.indicators.engine import _Engine, _Source
from kpilab.indicators.sql_dialect import TranspileError, to_spark
from kpilab.schema import TABLES, TIME, coerce_table, validate_table

__all__ = ["SparkEngine", "SparkConnection", "SparkSQLError", "get_spark", "spark_available", "load_spark_sources",
           "stop_spark", "is_uri", "DEFAULT_MASTER", "CONNECT_TIMEOUT_S"]

DEFAULT_MASTER = "local[*]"
#: seconds allowed to open a TCP connection to a remote master before giving up
CONNECT_TIMEOUT_S = 10.0
#: seconds allowed for the whole session start (JVM launch and registration with the master)
START_TIMEOUT_S = 300.0
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:/")
_SESSIONS: dict[str, Any] = {}
#: (seconds, statement head) of each statement of the last Spark panel (bench/bench_spark.py prints it)
LAST_TRACE: list[tuple[float, str]] = []
_LOCK = threading.Lock()


class SparkSQLError(duckdb.Error):
    """A statement failed in Spark (or could not be translated to Spark SQL).

    A subclass of :class:`duckdb.Error` on purpose: the shared engine code names the
    indicator whose expression fails when it catches an engine error, and this keeps
    that code one path for both engines.
    """


# ============================================================================ session
def spark_available() -> str | None:
    """None when pyspark and a Java runtime are present, else what is missing (a sentence)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed: pip install 'kpilab[spark]' (or pip install 'pyspark>=3.5')."
    java = shutil.which("java") or (os.path.join(os.environ["JAVA_HOME"], "bin", "java")
                                    if os.environ.get("JAVA_HOME") else None)
    if not java or not os.path.exists(java):
        return ("Spark needs a Java runtime and none was found (no 'java' on PATH, no JAVA_HOME): install "
                "one, e.g. apt-get install openjdk-17-jre-headless.")
    return None


def _check_reachable(master: str) -> None:
    """Open (and close) a TCP connection to a remote master within :data:`CONNECT_TIMEOUT_S`.

    Spark keeps retrying an unreachable standalone master for minutes; this fails in seconds
    with a message that names the address.
    """
    if master.startswith(("local", "yarn")):
        return
    m = re.match(r"^(?:spark|mesos)://(.+)$", master) or re.match(r"^k8s://(.+)$", master)
    if not m:
        raise ParameterError(f"spark_master {master!r} is not a Spark master URL: use local[*], local[N], "
                             "spark://HOST:PORT, k8s://https://HOST:PORT or yarn.")
    hosts = m.group(1)
    if "://" in hosts:  # k8s://https://host:port
        u = urlparse(hosts)
        targets = [(u.hostname or "", u.port or (443 if u.scheme == "https" else 80))]
    else:  # spark://h1:7077,h2:7077 (standby masters)
        targets = []
        for hp in hosts.split(","):
            host, _, port = hp.rpartition(":")
            if not host or not port.isdigit():
                raise ParameterError(f"spark_master {master!r}: expected HOST:PORT after spark://, got {hp!r}.")
            targets.append((host, int(port)))
    errors = []
    for host, port in targets:
        try:
            with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
                return
        except OSError as exc:
            errors.append(f"{host}:{port}: {exc.strerror or exc}")
    raise DataError(f"Spark master {master} cannot be reached within {CONNECT_TIMEOUT_S:g} s ({'; '.join(errors)}). "
                    "Check the URL and that the master is running and reachable from this machine, or use "
                    "--spark-master 'local[*]' to run Spark on this machine.")


def get_spark(master: str | None = None) -> Any:
    """A SparkSession for ``master`` (``local[*]`` by default; an active session when ``master`` is None).

    One session per process and master is kept and reused (start-up costs seconds). The session
    runs in UTC (so naive timestamps read as their UTC wall clock, as in DuckDB) with ANSI mode
    off (a division by zero is NULL, as in DuckDB).

    Raises
    ------
    KpilabError
        pyspark or Java missing.
    DataError
        The master cannot be reached (within :data:`CONNECT_TIMEOUT_S`) or the session fails to start.
    """
    missing = spark_available()
    if missing:
        raise KpilabError(f"The Spark engine cannot run: {missing}")
    from pyspark.sql import SparkSession

    if master is None:
        active = SparkSession.getActiveSession()
        if active is not None:  # e.g. a Databricks notebook: use the cluster's session
            _configure(active)
            return active
        if _SESSIONS:  # the session an earlier call started
            return next(iter(_SESSIONS.values()))
        master = DEFAULT_MASTER
    with _LOCK:
        if master in _SESSIONS:
            return _SESSIONS[master]
        _check_reachable(master)
        # a process holds one SparkContext: another master means stopping the one kpilab started
        for old in _SESSIONS.values():
            old.stop()
        _SESSIONS.clear()
        holder: dict[str, Any] = {}

        def start() -> None:
            try:
                b = (SparkSession.builder.master(master).appName("kpilab-panel")
                     .config("spark.ui.enabled", "false")
                     .config("spark.ui.showConsoleProgress", "false")
                     .config("spark.sql.shuffle.partitions", str(max(4, 2 * (os.cpu_count() or 1))))
                     .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                     .config("spark.network.timeout", "60s")
                     .config("spark.executor.heartbeatInterval", "20s"))
                holder["spark"] = b.getOrCreate()
            except Exception as exc:  # noqa: BLE001 - py4j/pyspark raise many types at start-up
                holder["error"] = exc

        th = threading.Thread(target=start, daemon=True)
        t0 = time.monotonic()
        th.start()
        th.join(START_TIMEOUT_S)
        if th.is_alive():
            raise DataError(f"Spark session on {master} did not start within {START_TIMEOUT_S:g} s; check the "
                            "master and that it has free workers.")
        if "error" in holder:
            first = " ".join(str(holder["error"]).split())[:300]
            raise DataError(f"Spark session on {master} could not start ({first}).") from None
        spark = holder["spark"]
        _configure(spark)
        spark.sparkContext.setLogLevel("FATAL")  # errors reach the user as kpilab errors
        _SESSIONS[master] = spark
        spark._kpilab_start_s = time.monotonic() - t0
        return spark


def _configure(spark: Any) -> None:
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.ansi.enabled", "false")


def stop_spark() -> None:
    """Stop the sessions :func:`get_spark` started (tests and benchmarks call it at the end)."""
    with _LOCK:
        for spark in _SESSIONS.values():
            spark.stop()
        _SESSIONS.clear()


# ============================================================================ connection
@dataclass
class _Result:
    frame: pd.DataFrame

    def df(self) -> pd.DataFrame:
        return self.frame

    def fetchone(self) -> tuple | None:
        # DuckDB gives None for a NULL; Spark's pandas frame gives NaN/NaT/NA
        return tuple(None if pd.isna(v) else v for v in self.frame.iloc[0]) if len(self.frame) else None

    def fetchall(self) -> list[tuple]:
        return [tuple(r) for r in self.frame.itertuples(index=False)]

    def fetchnumpy(self) -> dict[str, Any]:
        return {c: self.frame[c].to_numpy() for c in self.frame.columns}


_CREATE = re.compile(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?(TEMP\s+|TEMPORARY\s+)?(VIEW|TABLE)\s+(\w+)\s+AS\s+(.*)$",
                     re.IGNORECASE | re.DOTALL)
_DESCRIBE_VIEW = re.compile(r"^\s*SELECT\s+column_name,\s*column_type\s+FROM\s+\(DESCRIBE\s+(\w+)\)\s*$", re.I)
_DESCRIBE = re.compile(r"^\s*DESCRIBE\s+(SELECT\b.*)$", re.IGNORECASE | re.DOTALL)
_READ_PARQUET = re.compile(r"read_parquet\('((?:[^']|'')*)'(?:,\s*file_row_number\s*=\s*true)?\)", re.IGNORECASE)


def _duck_type(dt: Any) -> str:
    """The DuckDB name of a Spark type (the engine decides casts from these names)."""
    name = dt.simpleString().lower()
    if name.startswith("decimal"):
        return "DECIMAL"
    return {"string": "VARCHAR", "double": "DOUBLE", "float": "FLOAT", "bigint": "BIGINT", "int": "INTEGER",
            "smallint": "SMALLINT", "tinyint": "TINYINT", "boolean": "BOOLEAN", "date": "DATE",
            "timestamp": "TIMESTAMP WITH TIME ZONE", "timestamp_ntz": "TIMESTAMP"}.get(name, name.upper())


class SparkConnection:
    """The subset of a DuckDB connection the panel engine uses, executed on Spark.

    ``execute`` translates each DuckDB statement (:func:`kpilab.indicators.sql_dialect.to_spark`)
    and runs it; ``CREATE VIEW`` becomes a lazy temp view, ``CREATE TEMP TABLE`` a materialised
    one (``localCheckpoint``), ``read_parquet(path)`` a Spark read of ``path`` (or of a table
    registered with :meth:`register_reader`), ``register`` uploads a pandas frame.
    """

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.views: list[str] = []
        self.cached: list[Any] = []
        self.readers: dict[str, Any] = {}
        self._n = 0
        #: (seconds, statement head) of every statement run, for the benchmark's breakdown
        self.trace: list[tuple[float, str]] = []

    # -------------------------------------------------------------- plumbing
    def _columns(self, sql: str) -> list[str]:
        return list(self.spark.sql(sql).columns)

    def _translate(self, sql: str) -> str:
        try:
            return to_spark(sql, self._columns)
        except TranspileError as exc:
            raise SparkSQLError(f"cannot be written in Spark SQL: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - the column lookup runs Spark analysis
            raise SparkSQLError(_spark_message(exc)) from None

    def _run(self, sql: str) -> Any:
        spark_sql = self._translate(self._readers(sql))
        try:
            return self.spark.sql(spark_sql)
        except Exception as exc:  # noqa: BLE001 - AnalysisException, ParseException, Py4JJavaError
            raise SparkSQLError(f"{_spark_message(exc)} [Spark SQL: {spark_sql[:400]}]") from None

    def _readers(self, sql: str) -> str:
        """Replace ``read_parquet('path'[, file_row_number=true])`` by a temp view of Spark's read of it."""

        def sub(m: re.Match) -> str:
            path = m.group(1).replace("''", "'")
            from pyspark.sql import functions as F

            df = self.readers.get(path)
            if df is None:
                df = _read(self.spark, path, "parquet")
            # a row number in file order (what DuckDB's file_row_number gives; here increasing, not dense)
            df = df.withColumn("file_row_number", F.monotonically_increasing_id())
            self._n += 1
            name = f"_kpilab_read_{self._n}"
            df.createOrReplaceTempView(name)
            self.views.append(name)
            return name

        return _READ_PARQUET.sub(sub, sql)

    def _collect(self, df: Any) -> pd.DataFrame:
        try:
            return df.toPandas()  # small: aggregated cells and counts only
        except Exception as exc:  # noqa: BLE001
            raise SparkSQLError(_spark_message(exc)) from None

    # -------------------------------------------------------------- DuckDB-like API
    def execute(self, sql: str, args: list[Any] | None = None) -> _Result:
        t0 = time.perf_counter()
        try:
            return self._execute(sql, args)
        finally:
            self.trace.append((time.perf_counter() - t0, " ".join(sql.split())[:90]))

    def _execute(self, sql: str, args: list[Any] | None) -> _Result:
        if args:
            parts = sql.split("?")
            if len(parts) != len(args) + 1:
                raise SparkSQLError(f"{len(args)} parameter(s) for {len(parts) - 1} placeholder(s)")
            sql = parts[0] + "".join(_literal(a) + p for a, p in zip(args, parts[1:], strict=True))
        if m := _DESCRIBE_VIEW.match(sql):
            schema = self.spark.table(m.group(1)).schema
            return _Result(pd.DataFrame({"column_name": [f.name for f in schema.fields],
                                         "column_type": [_duck_type(f.dataType) for f in schema.fields]}))
        if m := _DESCRIBE.match(sql):
            df = self._run(m.group(1))  # analysis only: binds every expression without running a job
            return _Result(pd.DataFrame({"column_name": df.columns}))
        if m := _CREATE.match(sql):
            kind, name, body = m.group(3).upper(), m.group(4), m.group(5)
            df = self._run(body)
            if kind == "TABLE":
                # a temp table is read several times: keep it. A table numbering its rows (row_number()
                # OVER () -> monotonically_increasing_id) must keep the same numbers for every read, so it
                # is materialised now; the others are cached when first computed (one job fewer)
                try:
                    df = df.localCheckpoint(eager=True) if re.search(r"row_number\(\)\s*OVER\s*\(\s*\)", body, re.I) \
                        else df.cache()
                except Exception as exc:  # noqa: BLE001
                    raise SparkSQLError(_spark_message(exc)) from None
                self.cached.append(df)
            df.createOrReplaceTempView(name)
            self.views.append(name)
            return _Result(pd.DataFrame())
        return _Result(self._collect(self._run(sql)))

    def register(self, name: str, frame: pd.DataFrame) -> None:
        frame = _to_spark_frame(frame)
        # Spark infers no schema from zero rows (e.g. no cell of a quantile indicator has a value)
        schema = ", ".join(f"`{c}` {_spark_type(frame[c].dtype)}" for c in frame.columns) if frame.empty else None
        self.spark.createDataFrame(frame, schema=schema).createOrReplaceTempView(name)
        self.views.append(name)

    def register_reader(self, path: str, df: Any) -> None:
        """Have ``read_parquet(path)`` use ``df`` (a CSV or Parquet source Spark already opened)."""
        self.readers[path] = df

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def close(self) -> None:
        global LAST_TRACE
        LAST_TRACE = list(self.trace)
        for df in self.cached:
            try:
                df.unpersist()
            except Exception:  # noqa: BLE001, S110 - a stopped session holds nothing
                pass
        self.cached.clear()
        for v in dict.fromkeys(self.views):
            try:
                self.spark.catalog.dropTempView(v)
            except Exception:  # noqa: BLE001, S110 - a stopped session has no views to drop
                pass
        self.views.clear()


def _literal(v: Any) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def _spark_message(exc: BaseException) -> str:
    """The first line of a Spark error (the JVM stack trace stays out of the message)."""
    text = str(getattr(exc, "desc", None) or exc)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return (lines[0] if lines else type(exc).__name__)[:500]


def _spark_type(dtype: Any) -> str:
    """Spark SQL type of a pandas column (used for empty frames only)."""
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dtype):
        return "BIGINT"
    if pd.api.types.is_float_dtype(dtype):
        return "DOUBLE"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "TIMESTAMP"
    return "STRING"


def _to_spark_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame Spark's Arrow conversion takes: plain object strings, float NaN, object booleans with None."""
    out = {}
    for c in frame.columns:
        s = frame[c]
        if isinstance(s.dtype, pd.BooleanDtype) or (s.dtype == object and s.dropna().map(type).eq(bool).all()
                                                    and s.notna().any()):
            out[c] = s.astype(object).where(s.notna(), None)
        elif pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
            out[c] = s.astype(object).where(s.notna(), None)
        elif isinstance(s.dtype, pd.Int64Dtype):
            out[c] = s.astype("Int64")
        else:
            out[c] = s
    return pd.DataFrame(out, index=frame.index)


# ============================================================================ sources
def _read(spark: Any, uri: str, fmt: str) -> Any:
    try:
        reader = spark.read
        if fmt == "csv":
            reader = reader.option("header", "true").option("mode", "PERMISSIVE")
            return reader.csv(uri)
        return reader.parquet(uri)
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"Spark cannot read {uri} as {fmt} ({_spark_message(exc)}). Check the path, the "
                        "credentials Spark has for it, and that it holds a Parquet file/folder or a CSV file "
                        "with a header row.") from None


def _exists(spark: Any, uri: str) -> bool:
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    try:
        fs = path.getFileSystem(spark._jsc.hadoopConfiguration())
        return bool(fs.exists(path))
    except Exception as exc:  # noqa: BLE001 - no filesystem for the scheme, no credentials...
        raise DataError(f"Spark cannot open {uri} ({_spark_message(exc)}). Check the URI scheme, the connector "
                        "(e.g. hadoop-aws for s3a://) and the credentials Spark has for it.") from None


def is_uri(data: Any) -> bool:
    """Whether ``data`` is a URI for Spark to read (``scheme:/...``) rather than a local path."""
    return isinstance(data, str) and bool(_URI.match(data)) and not re.match(r"^[A-Za-z]:[\\/]", data)


def _find_uri_tables(spark: Any, folder: str) -> dict[str, tuple[str, str]]:
    """``{table: (uri, format)}`` of the canonical tables under a folder URI."""
    base = folder.rstrip("/")
    if not _exists(spark, base):
        raise DataError(f"Spark cannot find {folder}: no such folder. Check the path and the credentials Spark has "
                        "for it.")
    found = {}
    for name in TABLES:
        for suffix, fmt in ((".parquet", "parquet"), ("", "parquet"), (".csv", "csv")):
            uri = f"{base}/{name}{suffix}"
            if _exists(spark, uri):
                found[name] = (uri, fmt)
                break
    if not found:
        raise DataError(f"{folder} holds no canonical table for Spark ({', '.join(TABLES)} as <table>.parquet, a "
                        "<table>/ Parquet folder or <table>.csv).")
    return found


def _parquet_timezone(uri: str, name: str) -> str | None:
    """The time zone Parquet records for the table's time columns (footer only), None when unknown.

    Spark reads zone-aware timestamps as instants and forgets the zone; periods and exemption
    windows are local days, so the zone is read from the footer with pyarrow (file://, s3://, gs://,
    hdfs:// when pyarrow can open them).
    """
    try:
        import pyarrow.dataset as ds
        from pyarrow import fs as pafs

        filesystem, path = pafs.FileSystem.from_uri(uri)
        schema = ds.dataset(path, filesystem=filesystem, format="parquet").schema
    except Exception:  # noqa: BLE001 - a scheme or credentials pyarrow does not have
        return None
    times = {c.name for c in TABLES[name].columns if c.kind == TIME}
    for f in schema:
        tz = getattr(f.type, "tz", None)
        if f.name in times and tz:
            return str(tz)
    return None


def load_spark_sources(data: Any, notices: list[str], spark: Any) -> dict[str, _Source]:
    """The engine's sources for Spark: URIs read by Spark, everything else through the usual loader.

    ``data`` is a folder (local path or URI) or ``{table: DataFrame, path or URI}``. A URI
    table must have canonical column names (no mapping file); its rows are counted and its
    first 2,000 rows checked (:func:`kpilab.schema.validate_table`) in Spark.
    """
    from kpilab.indicators.engine import _load_sources

    if is_uri(data):
        items: dict[str, Any] = {k: v for k, v in _find_uri_tables(spark, data).items()}
    elif isinstance(data, dict) and any(is_uri(v) for v in data.values()):
        items = {k: ((v, "csv" if v.lower().endswith(".csv") else "parquet") if is_uri(v) else v)
                 for k, v in data.items()}
    else:
        return _load_sources(data, notices)
    local = {k: v for k, v in items.items() if not isinstance(v, tuple)}
    out = _load_sources(local, notices) if local else {}
    for name, (uri, fmt) in items.items():
        if name in local:
            continue
        if name not in TABLES:
            raise DataError(f"Unknown table {name!r}: canonical tables are {', '.join(TABLES)}.")
        df = _read(spark, uri, fmt)
        cols = list(df.columns)
        try:
            sample = df.limit(2000).toPandas()
            n_rows = int(df.count())
        except Exception as exc:  # noqa: BLE001
            raise DataError(f"Spark cannot read {uri} ({_spark_message(exc)}).") from None
        sample = coerce_table(sample, name)
        validate_table(sample, name, strict=False)
        tz = _parquet_timezone(uri, name) if fmt == "parquet" else None
        if tz is None and any(str(f.dataType.simpleString()) == "timestamp" for f in df.schema.fields):
            notices.append(f"{name}: {uri} does not say which time zone its timestamps are in (or it cannot be "
                           "read outside Spark); periods use UTC.")
        src = _Source(name, n_rows, cols, tz, frame=None, path=uri)
        src.spark_frame = df
        out[name] = src
    return dict(sorted(out.items(), key=lambda kv: list(TABLES).index(kv[0])))


# ============================================================================ engine
class SparkEngine(_Engine):
    """:class:`kpilab.indicators.engine._Engine` with its statements run on Spark (see the module docstring)."""

    label = "Spark"

    def __init__(self, sources: dict[str, _Source], framework: Any, *, spark: Any, **kwargs: Any) -> None:
        super().__init__(sources, framework, **kwargs)
        self.con.close()  # the DuckDB connection the base class opened is not used
        self.con = SparkConnection(spark)
        self.day_bitmask = False  # agent-days by COUNT(DISTINCT ...), which sqlglot translates
        for s in sources.values():
            df = getattr(s, "spark_frame", None)
            if df is not None:
                self.con.register_reader(str(s.path), df)

    def _ids_distinct(self, raw: str, idc: str, n_rows: int) -> bool:
        """Whether the 64-bit hashes of the ids are all distinct, counted in Spark where the data are (the
        base class's screens would bring every id back from the cluster)."""
        x = quote_ident(idc)
        n_ids, n_hashes = self.con.execute(f"SELECT COUNT({x}), COUNT(DISTINCT hash({x})) FROM {raw}").fetchone()
        return n_ids == n_hashes

    def _window_fits(self, need: set[str]) -> bool:
        """Always the keys-only repeat-contact window joined back by row number: its SQL translates to
        Spark as it stands (the one-pass form needs DuckDB's ``UNION ALL BY NAME``), and a cluster's data
        are the ones too large to sort whole."""
        return False

    def _register_raw(self, s: _Source) -> None:
        if s.frame is None and s.path is not None and not is_uri(str(s.path)):
            # a local Parquet file written or checked by kpilab.ingest: Spark reads it in place
            s.path = Path(s.path).resolve()
            self.con.register_reader(str(s.path), _read(self.con.spark, Path(s.path).as_uri(), "parquet"))
        super()._register_raw(s)
