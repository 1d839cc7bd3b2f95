"""The panel engine: declarative definitions -> one DuckDB pass per source table.

For every source table (contacts, surveys, qa_reviews, tickets) the engine
builds a prepared view (canonical columns, derived columns, unit attributes
from ``agents``, the period, and one exclusion reason per row), then runs a
single ``GROUP BY GROUPING SETS`` query that computes, for every requested
unit level and period at once, the counts, sums and sums of squares (or the
sample quantiles) of every indicator of that table, plus the per-reason row
counts used for the accounting. Intervals, flags and shrinkage are computed
afterwards on the (small) aggregated table.

Roll-ups never average: a team's rate is the sum of its rows' successes over
the sum of its rows' population, and a team's median is the median of the
team's rows.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from kpilab import id_screen
from kpilab._duckdb import connect as connect_duckdb
from kpilab._duckdb import disconnect as disconnect_duckdb
from kpilab._duckdb import duckdb_memory, resident_bytes, size_bytes, wait_closed
from kpilab._duckdb import quote_ident as _ident
from kpilab._duckdb import quote_text as _q
from kpilab._validation import Interval, Options, check_param, check_params
from kpilab.errors import DataError, FrameworkError, KpilabError, ParameterError, SchemaError
from kpilab.framework import Framework, load_framework
from kpilab.indicators.accounting import build_accounting
from kpilab.indicators.catalogue import CATALOGUE, Definition, definition_from_compute
from kpilab.indicators.kinds import PerDay, get_kind
from kpilab.indicators.stats import preload, quantile_order_ranks
from kpilab.panel import PANEL_COLUMNS, PERIODS, UNIT_LEVELS
from kpilab.schema import (
    BOOL,
    DATE,
    FLOAT,
    INT,
    STR,
    TABLES,
    TIME,
    coerce_table,
    row_rules_sql,
    table_timezone,
    validate_table,
)

__all__ = ["compute_panel", "PanelResult", "wait_profile", "resolve_definitions", "indicator_availability"]

SOURCE_TIME = {"contacts": "arrived_at", "qa_reviews": "reviewed_at", "tickets": "created_at"}
_UNIT_COL = {"agent": "agent_id", "team": "team", "role": "role", "site": "site", "queue": "queue",
             "channel": "channel"}
# tables whose prepared view carries a queue / channel (surveys through their contact)
_LEVEL_TABLES = {"queue": ("contacts", "surveys"), "channel": ("contacts", "surveys", "tickets")}
#: a cell is flagged ``exempted`` when more than this share of its rows lie in relax_target windows
EXEMPTED_FLAG_SHARE = 0.5
_SQL_TYPE = {STR: "VARCHAR", FLOAT: "DOUBLE", INT: "BIGINT", BOOL: "BOOLEAN", DATE: "DATE"}
# optional columns whose absence makes an indicator impossible (hold/acw absent count as 0)
_DERIVED_NEEDS = {
    "next_gap_s": ("customer_id",), "prev_gap_s": ("customer_id",),
    "next_gap_topic_s": ("customer_id", "topic"), "prev_gap_topic_s": ("customer_id", "topic"),
}
_ZERO_IF_ABSENT = {"hold_s", "acw_s"}
# kinds whose cells at a coarser level are sums of the cells at the finest keys. per_day counts distinct
# (agent, day) pairs: additive because every agent has a single team, role and site (not so across
# queues or channels: an agent works several, so per_day with those levels takes the row-level path).
_ADDITIVE = ("proportion", "mean", "ratio", "count", "nps", "per_day")
# periods of at most 92 days: an agent's days in one fit a 128-bit mask (see PerDay.days_by_agent)
_BITMASK_PERIODS = ("day", "week", "month", "quarter")
#: base columns behind the contacts view's derived columns (which base columns a definition reads)
_DERIVED_COLUMNS = {"answered": {"abandoned"}, "wait_s": {"abandoned", "arrived_at", "answered_at", "ended_at"},
                    "handle_s": {"talk_s", "hold_s", "acw_s"}, "channel_cost": {"channel"},
                    "_obs_after_s": {"arrived_at"}, "_obs_before_s": {"arrived_at"}}
#: bytes per value of a row DuckDB sorts (a string's fixed part; longer strings add to it)
_SORT_WIDTH = {STR: 16, TIME: 8, FLOAT: 8, INT: 8, DATE: 4, BOOL: 1}
#: an exclusion rule that only tests for NULL (``x IS NULL``, ``(expr) IS NOT NULL``): never NULL itself
_NULL_TEST = re.compile(r"\s*(\([^()]*(\([^()]*\)[^()]*)*\)|[A-Za-z_][A-Za-z0-9_]*)\s+IS\s+(NOT\s+)?NULL\s*", re.I)
#: kinds whose ``n`` counts exactly the rows of their population (per_day's leaves out rows without an agent)
_N_IS_POPULATION = ("proportion", "mean", "quantile", "ratio", "count", "nps")
#: the repeat-contact gap columns of the contacts view (see _Engine._prepare_contacts)
_GAP_COLUMNS = ("next_gap_s", "prev_gap_s", "next_gap_topic_s", "prev_gap_topic_s")
_NO_UNITS = "CAST(NULL AS VARCHAR) AS team, CAST(NULL AS VARCHAR) AS role, CAST(NULL AS VARCHAR) AS site"


# ============================================================================ result
@dataclass(frozen=True)
class PanelResult:
    """What :func:`compute_panel` returns.

    Attributes
    ----------
    panel : pandas.DataFrame
        Long panel, columns :data:`kpilab.panel.PANEL_COLUMNS` then the optional
        ``kind``, ``scale``, ``exempted_share`` (and ``value_shrunk`` with
        ``shrinkage=True``), sorted by unit level, unit, period and indicator.
    accounting : pandas.DataFrame
        Row accounting, columns :data:`kpilab.indicators.ACCOUNTING_COLUMNS`: per
        table one ``used`` row, one ``excluded`` row per reason and ``flagged``
        notes (kept but flagged rows); ``rows_read == rows_used + rows_excluded``
        for every table. Rows of kind ``indicator_excluded`` (with ``indicator``)
        count used rows left out of one indicator (``missing talk_s``, ``window
        not observed``...); they do not enter the table identity.
    notices : list of str
        Everything skipped or worth knowing (absent tables, unknown agents...).
    params : dict
        The options used (period, units, min_n, indicators and their resolved
        definitions, start, end, level).
    """

    panel: pd.DataFrame
    accounting: pd.DataFrame
    notices: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The long panel (house rule 3)."""
        return self.panel

    def definitions(self) -> pd.DataFrame:
        """One row per computed indicator: the resolved definition the panel used."""
        rows = [{"indicator": code, **d} for code, d in self.params.get("definitions", {}).items()]
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Plain-text summary: size, levels, periods, indicators, flags, accounting and notices."""
        p = self.panel
        lines = [
            f"Indicator panel: {len(p):,} rows, {p['indicator'].nunique()} indicators, "
            f"period={self.params.get('period')}, units={', '.join(self.params.get('unit', []))}, "
            f"min_n={self.params.get('min_n')}",
        ]
        if len(p):
            lines.append(f"Periods: {p['period'].min()} .. {p['period'].max()} ({p['period'].nunique()})")
            for lvl, g in p.groupby("unit_level", sort=False):
                small = g["flag"].str.contains("small_n").mean()
                lines.append(f"  {lvl}: {g['unit_id'].nunique()} units, {len(g):,} cells, {small:.0%} flagged small_n")
            ex = p["flag"].str.contains("exempted").sum()
            if ex:
                lines.append(f"  {ex} cells contain exempted (relax_target) rows")
        lines.append("Row accounting:")
        acc = self.accounting
        for table, g in acc.groupby("table", sort=False):
            first = g.iloc[0]
            reasons = "; ".join(f"{r.reason} {r.rows:,}" for r in g.itertuples() if r.kind == "excluded")
            lines.append(f"  {table}: read {first.rows_read:,} = used {first.rows_used:,} + excluded "
                         f"{first.rows_excluded:,}" + (f" ({reasons})" if reasons else ""))
            for r in g.itertuples():
                if r.kind == "indicator_excluded":
                    lines.append(f"    {r.indicator}: {r.rows:,} used row(s) left out ({r.reason})")
        if self.notices:
            lines.append("Notices:")
            lines.extend(f"  - {n}" for n in self.notices)
        return "\n".join(lines)

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return "<pre>" + self.summary().replace("&", "&amp;").replace("<", "&lt;") + "</pre>"


# ============================================================================ definitions
def resolve_definitions(
    framework: Framework, indicators: Iterable[str] | None = None, notices: list[str] | None = None
) -> dict[str, Definition]:
    """The resolved definition of each requested indicator.

    Framework entries override the catalogue: ``params`` are merged into the
    catalogue defaults, ``compute`` replaces the definition. ``cost_per_contact``
    takes ``labour_per_hour`` from ``framework.costs`` unless its params set it;
    ``channels: live`` (queue-speed indicators) means ``framework.live_channels``.
    With ``indicators=None`` every framework indicator with a definition is used.

    Raises
    ------
    FrameworkError
        An explicitly requested code with no definition, or an invalid ``compute``/``params``.
    """
    notices = notices if notices is not None else []
    explicit = indicators is not None
    codes = list(dict.fromkeys(indicators)) if explicit else framework.codes
    fw = {i.code: i for i in framework.indicators}
    out: dict[str, Definition] = {}
    for code in codes:
        ind = fw.get(code)
        if ind is not None and ind.compute is not None:
            base = definition_from_compute(
                code, ind.compute, name=ind.name, direction=ind.direction, unit=ind.unit, level=ind.level,
                params=ind.params, definition=ind.definition,
            )
        elif code in CATALOGUE:
            base = CATALOGUE[code]
            if ind is not None:
                from dataclasses import replace

                base = replace(base, name=ind.name, direction=ind.direction, unit=ind.unit or base.unit,
                               level=ind.level if ind.level == "queue" else base.level)
        else:
            msg = (f"Indicator {code!r} has no definition: it is not in the kpilab catalogue "
                   f"({', '.join(sorted(CATALOGUE))}) and the framework gives no 'compute:' for it.")
            if explicit:
                raise FrameworkError(msg + " Add a compute: block (see kpilab/indicators/CATALOGUE.md) or drop it.")
            notices.append(msg + " Skipped.")
            continue
        params = dict(ind.params) if ind is not None else {}
        if code == "cost_per_contact" and "labour_per_hour" not in params:
            params["labour_per_hour"] = framework.costs.labour_per_hour
        out[code] = base.resolve(params, live_channels=tuple(framework.live_channels))
    return out


# ============================================================================ sources
@dataclass
class _Source:
    name: str
    n_rows: int
    columns: list[str]
    tz: str | None
    frame: pd.DataFrame | None = None
    path: Path | None = None


def _sample_check(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Structural validation (missing columns, types, mixed time zones) on a sample."""
    validate_table(df.head(2000), name, strict=False)
    return df


def _load_sources(data: Any, notices: list[str] | None = None) -> dict[str, _Source]:
    """Read and check every source once (:func:`kpilab.ingest.load_source`), so the engine sees typed values.

    Text timestamps are parsed here (day/month order read from the values, UTC offsets to UTC),
    sentinel dates become NULL, implausible dates become NULL with ``_ingest_reason``; what loading
    did is appended to ``notices`` (or warned, as :class:`UserWarning`, when ``notices`` is None).
    """
    from kpilab.ingest import LoadedTable, find_sources, load_source

    if isinstance(data, str | Path):
        found = find_sources(data)
        if not found:
            raise DataError(f"Data folder {data} holds no canonical table ({', '.join(TABLES)} as .parquet, .csv or "
                            ".xlsx).")
        items: dict[str, Any] = dict(found)
    elif isinstance(data, Mapping):
        items = dict(data)
    else:
        raise DataError(f"data must be a folder of canonical tables or a dict of DataFrames, got {type(data).__name__}.")
    out: dict[str, _Source] = {}
    for name, obj in items.items():
        if name not in TABLES:
            raise SchemaError(f"Unknown table {name!r}: canonical tables are {', '.join(TABLES)}.", table=name)
        # agent ids: the aggregation groups by them anyway, so their spelling check waits for its keys
        # (_Engine.id_values) rather than scan the column here
        if isinstance(obj, tuple):  # (file, mapping) from find_sources
            obj = load_source(obj[0], name, obj[1], defer_spelling=("agent_id",))
        elif isinstance(obj, str | Path | pd.DataFrame):
            obj = load_source(obj, name, defer_spelling=("agent_id",))
        if not isinstance(obj, LoadedTable):
            raise SchemaError(f"Table {name!r} must be a pandas DataFrame or a file path, got {type(obj).__name__}.",
                              table=name)
        if notices is not None:
            notices.extend(obj.notices)
        elif not obj.notices_reported:
            import warnings

            for note in obj.notices:
                warnings.warn(note, UserWarning, stacklevel=3)
        # the structure (columns, types, time zones) on a sample; for a file kpilab.ingest has read, whose
        # values it checked in SQL over every row, on its schema alone (no rows read back)
        sample = coerce_table(obj.sample(0 if obj.frame is None else 2000), name)
        _sample_check(sample, name)
        src = _Source(name, obj.n_rows, list(obj.columns), obj.tz or table_timezone(sample, name),
                      frame=None if obj.frame is None else coerce_table(obj.frame.reset_index(drop=True), name),
                      path=obj.path if obj.frame is None else None)
        src.loaded = obj  # keeps a converted file alive while the engine reads it
        out[name] = src
    return out


def _unavailable(d: Definition, present: Mapping[str, set[str]]) -> tuple[str | None, set[str]]:
    """Why ``d`` cannot be computed from tables with these columns (``{table: columns}``), as the panel's
    notice, or None; and the column names its expressions read."""
    if d.table not in present:
        return f"{d.code}: skipped, table {d.table!r} is absent.", set()
    words = set().union(*(_words(getattr(d, k)) for k in ("where", "condition", "value", "numerator",
                                                           "denominator")), *(_words(c) for c, _ in d.exclude))
    if d.channels is not None:
        words.add("channel")
    spec_cols = {c.name for c in TABLES[d.table].columns if not c.required}
    # hold_s / acw_s count as 0 inside handle time (AHT, cost), but an indicator *about* hold or ACW
    # (hold_rate, acw_time) cannot be computed from a log that does not record them
    missing = sorted((words & spec_cols) - present[d.table])
    for derived, cols in _DERIVED_NEEDS.items():
        if derived in words:
            missing += [c for c in cols if c not in present[d.table]]
    if d.table == "surveys" and "contacts" not in present:
        missing.append("(contacts table, to attribute surveys)")
    if "has_survey" in words and "surveys" not in present:
        return f"{d.code}: skipped, table 'surveys' is absent.", words
    if missing:
        return f"{d.code}: skipped, table {d.table!r} has no column(s) {', '.join(sorted(set(missing)))}.", words
    return None, words


def indicator_availability(data: str | Path, framework: Framework | str | Path | None = None) -> pd.DataFrame | None:
    """Which indicators a data folder can give, from its tables' column names alone (no row is read).

    One row per framework indicator: ``indicator``, ``table``, ``level`` (``agent``, or ``queue`` for an
    indicator of the queue with no agent rows), ``available`` and ``reason`` (the panel's notice when
    not available). None when the folder's columns cannot be known without reading
    it: a table comes through a column mapping, or is a workbook. :func:`compute_panel` applies the same
    rules (and reports the same reasons) when it computes.
    """
    import pyarrow.parquet as pq

    from kpilab.ingest import _csv_header, find_sources

    present: dict[str, set[str]] = {}
    for name, (path, mapping) in find_sources(data).items():
        if mapping is not None:
            return None
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            present[name] = set(pq.read_schema(path).names)
        elif suffix == ".csv":
            present[name] = set(_csv_header(path, "utf-8-sig"))
        else:
            return None
    fw = framework if isinstance(framework, Framework) else (
        _default_framework() if framework is None else load_framework(framework))
    rows = []
    for code, d in resolve_definitions(fw).items():
        reason, _ = _unavailable(d, present)
        rows.append({"indicator": code, "table": d.table, "level": d.level, "available": reason is None,
                     "reason": reason})
    return pd.DataFrame(rows)


# ============================================================================ SQL helpers
def _ts_literal(ts: pd.Timestamp) -> str:
    return f"TIMESTAMP {_q(pd.Timestamp(ts).strftime('%Y-%m-%d %H:%M:%S.%f'))}"


def _period_sql(period: str, t: str) -> str:
    if period == "day":
        return f"strftime(CAST({t} AS DATE), '%Y-%m-%d')"
    return f"strftime(date_trunc('{period}', {t}), '%Y-%m-%d')"


def _period_key_sql(period: str, t: str) -> str:
    """The period's first day as a DATE: the grouping key (4 bytes; formatting text once per cell,
    not once per row, is what :func:`_period_sql` would cost inside the grouping)."""
    if period == "day":
        return f"CAST({t} AS DATE)"
    return f"CAST(date_trunc('{period}', {t}) AS DATE)"


def _schema_reason_sql(name: str, present: set[str], dup_join: bool, dup_rows: bool = False,
                       not_null: frozenset[str] | set[str] = frozenset(),
                       ranges: Mapping[str, tuple[float, float | None]] | None = None) -> list[tuple[str, str]]:
    """:func:`kpilab.schema.row_rules_sql` (the row rules of ``validate_table``), then the duplicates.

    An exact repeat of a row of a table without ids (``qa_reviews``) is excluded as ``duplicate row``.
    ``not_null`` and ``ranges`` from the file's statistics make the rows' CASE cheaper (half of it on a
    clean contacts file) without changing any row's first rule.
    """
    rules = row_rules_sql(name, present, not_null=not_null, ranges=dict(ranges or {}))
    if dup_join:
        rules.append(("_dup", "duplicate id"))
    if dup_rows:
        rules.append(("_duprow", "duplicate row"))
    return rules


def _out_of_memory(exc: Exception, memory_limit: str | None) -> DataError:
    """The error for DuckDB running out of memory: the budget, what the process holds, what to do.

    Spilling covers sorts, joins and groupings, not everything: each cell's sorted values behind a
    quantile interval, for one, stay in memory.
    """
    held = (resident_bytes() or 0) / 1024**2
    return DataError(
        f"The panel ran out of memory in DuckDB ({str(exc).strip().splitlines()[0]}). memory_limit="
        f"{memory_limit!r} is the budget of the whole process, which already holds {held:,.0f} MB (libraries, "
        "earlier results); pass a larger memory_limit (e.g. '2GB'), or None for DuckDB's default (80 % of the "
        "machine's memory).")


def _parquet_facts(path: Any, columns: set[str]) -> tuple[set[str], dict[str, tuple[float, float | None]]]:
    """Of ``columns`` of a Parquet file: those without a NULL, and the (min, max) of the numeric ones, from
    the row groups' statistics (no scan). A column whose statistics are missing in any row group is left
    out; so is any file that cannot be read here (a URI Spark reads). The max of a floating column is
    None: statistics leave NaN out, and DuckDB orders NaN above every number (``NaN > 10`` is true), so
    only its min bounds the values a rule compares."""
    not_null: set[str] = set()
    ranges: dict[str, tuple[float, float | None]] = {}
    try:
        if not columns or not Path(str(path)).is_file():
            return not_null, ranges
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(str(path)).metadata
    except Exception:  # noqa: BLE001 - no statistics: nothing is known, every rule stays
        return not_null, ranges
    names = {meta.schema.column(j).path: j for j in range(meta.num_columns)}
    for col in columns & set(names):
        j = names[col]
        nulls, lo, hi, numeric = 0, None, None, meta.schema.column(j).physical_type in ("INT32", "INT64", "FLOAT",
                                                                                         "DOUBLE")
        numeric = numeric and meta.schema.column(j).logical_type.type in ("NONE", "INT")
        for g in range(meta.num_row_groups):
            st = meta.row_group(g).column(j).statistics
            if st is None or not st.has_null_count:
                nulls = None
                break
            nulls += st.null_count
            if numeric and st.has_min_max and meta.row_group(g).num_rows > st.null_count:
                mn, mx = float(st.min), float(st.max)
                lo = mn if lo is None else min(lo, mn)
                hi = mx if hi is None else max(hi, mx)
            elif meta.row_group(g).num_rows > st.null_count:
                numeric = False
        if nulls == 0:
            not_null.add(col)
        if nulls is not None and numeric and lo is not None and lo == lo and hi == hi:  # NaN bounds say nothing
            floating = meta.schema.column(j).physical_type in ("FLOAT", "DOUBLE")
            ranges[col] = (lo, None if floating else hi)
    return not_null, ranges


def _case(rules: list[tuple[str, str]]) -> str:
    if not rules:
        return "CAST(NULL AS VARCHAR)"
    return "CASE " + " ".join(f"WHEN ({c}) THEN {_q(r)}" for c, r in rules) + " END"


def _words(expr: str | None) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr or ""))


# ============================================================================ the engine
class _Engine:
    def __init__(self, sources: dict[str, _Source], framework: Framework, *, period: str,
                 start: Any, end: Any, threads: int | None, memory_limit: str | None, notices: list[str],
                 check_duplicate_ids: bool = True) -> None:
        self.sources = sources
        self.check_duplicate_ids = check_duplicate_ids
        self.framework = framework
        self.period = period
        self.notices = notices
        # no result of the engine depends on DuckDB's row order (every query groups, or is sorted where order
        # matters), so DuckDB need not keep it: less memory in windows and materialised tables
        cfg: dict[str, Any] = {"threads": int(threads or min(os.cpu_count() or 1, 4)),
                               "preserve_insertion_order": False}
        if memory_limit:
            cfg["memory_limit"] = duckdb_memory(memory_limit)
        # spills go to a private temporary folder, removed on close (DuckDB's default is .tmp in the working folder)
        self.threads = cfg["threads"]
        self.con = self._duckdb = connect_duckdb(cfg)
        self.start = pd.Timestamp(start).tz_localize(None).normalize() if start is not None else None
        self.end = (pd.Timestamp(end).tz_localize(None).normalize() + pd.Timedelta(days=1)) if end is not None else None
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise KpilabError(f"end ({end}) is before start ({start}); pass start <= end.")
        self.views: dict[str, str] = {}
        self.day_bitmask = True  # DuckDB SQL for agent-days (PerDay.days_by_agent); a subclass may turn it off
        self.present: dict[str, set[str]] = {}
        self.not_null: dict[str, set[str]] = {}
        self.windows: list[dict[str, Any]] = []
        self.relax = False
        self.span: tuple[float, float] | None = None
        self.wait_unknown = 0
        self.agent_ids: dict[str, pd.Series] = {}  # each aggregated table's agent ids (aggregate)

    # ------------------------------------------------------------------ raw + base views
    def _register_raw(self, s: _Source) -> None:
        raw = f"_raw_{s.name}"
        if s.frame is not None:
            df = s.frame.assign(_row=np.arange(len(s.frame), dtype=np.int64))
            self.con.register(raw, df)
        else:
            self.con.execute(
                f"CREATE VIEW {raw} AS SELECT * EXCLUDE (file_row_number), file_row_number AS _row "
                f"FROM read_parquet({_q(str(s.path))}, file_row_number=true)"
            )
        types = dict(self.con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {raw})").fetchall())
        spec = TABLES[s.name]
        sel = []
        present = set()
        exact = set()  # read as stored (or widened to DOUBLE/BIGINT): NULLs and bounds are the file's
        for c in spec.columns:
            target = ("TIMESTAMPTZ" if s.tz else "TIMESTAMP") if c.kind == TIME else _SQL_TYPE[c.kind]
            if c.name in types:
                present.add(c.name)
                have = types[c.name]
                same = have == target or (target == "TIMESTAMP" and have.startswith("TIMESTAMP")
                                          and "TIME ZONE" not in have) or (
                    target == "TIMESTAMPTZ" and have in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"))
                if target in ("DOUBLE", "BIGINT") and have in ("DOUBLE", "BIGINT", "INTEGER", "FLOAT", "SMALLINT",
                                                                "TINYINT", "HUGEINT", "DECIMAL"):
                    expr = f"CAST({_ident(c.name)} AS {target})"
                    exact.add(c.name)
                elif same:
                    expr = _ident(c.name)
                    exact.add(c.name)
                else:
                    expr = f"TRY_CAST({_ident(c.name)} AS {target})"
            elif c.name in _ZERO_IF_ABSENT:
                expr = f"CAST(0 AS {target})"
            else:
                expr = f"CAST(NULL AS {target})"
            sel.append(f"{expr} AS {_ident(c.name)}")
        self.present[s.name] = present
        idc = spec.id_column
        dup = False
        # the agents table is tiny and joined to every event: its ids are always checked
        check = self.check_duplicate_ids or s.name == "agents"
        if idc and idc in present and s.n_rows > 1 and check:
            # a command may have screened this very file in the background (id_screen.prefetch)
            early = id_screen.prefetched(s.path, idc) if s.frame is None and s.path is not None else None
            screened_unique = early if early is not None else self._ids_distinct(raw, idc, s.n_rows)
        else:
            screened_unique = True
        if not screened_unique:
            self.con.execute(
                f"CREATE TEMP TABLE _dup_{s.name} AS SELECT {_ident(idc)} AS _id, min(_row) AS _first "
                f"FROM {raw} WHERE {_ident(idc)} IS NOT NULL GROUP BY 1 HAVING count(*) > 1"
            )
            n_dup = self.con.execute(f"SELECT COUNT(*) FROM _dup_{s.name}").fetchone()[0]
            dup = n_dup > 0  # no join at all when every id is unique
        join = (f"LEFT JOIN _dup_{s.name} d ON r.{_ident(idc)} = d._id" if dup else "")
        dup_col = "(d._first IS NOT NULL AND r._row > d._first)" if dup else "FALSE"
        inner = ", ".join(sel)
        # a table without ids (qa_reviews): an exact repeat of an earlier row (every column equal) is a duplicate
        dup_rows = s.name == "qa_reviews" and s.n_rows > 1
        duprow = "FALSE"
        if dup_rows:
            cols = ", ".join(f"r.{_ident(c)}" for c in types if c != "_row")
            duprow = f"(row_number() OVER (PARTITION BY {cols} ORDER BY r._row) > 1)"
        not_null, ranges = _parquet_facts(s.path, exact) if s.frame is None else (set(), {})
        self.not_null[s.name] = not_null
        rules = _schema_reason_sql(s.name, present, dup, dup_rows, not_null, ranges)
        # loading may already have excluded a row (an implausible date read as missing): that reason comes
        # first, so the row is not reported as 'missing <column>'
        ingest = "_ingest_reason" in types
        reason0 = f"COALESCE(_ingest_reason, {_case(rules)})" if ingest else _case(rules)
        carry = ", r._ingest_reason AS _ingest_reason" if ingest else ""
        outer = "* EXCLUDE (_ingest_reason)" if ingest else "*"
        self.con.execute(
            f"CREATE VIEW _b_{s.name} AS SELECT {outer}, {reason0} AS _reason0 FROM ("
            f"SELECT {inner}, r._row AS _row, {dup_col} AS _dup, {duprow} AS _duprow{carry} FROM {raw} r {join}) "
        )

    def id_values(self, table: str, column: str) -> Any:
        """The distinct non-missing values of ``column`` in the table as read (from the aggregation's
        keys when it grouped by them)."""
        if column == "agent_id" and table in self.agent_ids:
            return self.agent_ids[table].dropna().unique()
        x = _ident(column)
        return [v for (v,) in self.con.execute(f"SELECT DISTINCT {x} FROM _raw_{table} WHERE {x} IS NOT NULL")
                .fetchall()]

    def _ids_distinct(self, raw: str, idc: str, n_rows: int) -> bool:
        """Cheap exact screen for repeated ids (:mod:`kpilab.id_screen`): True proves the ids of ``raw``
        unique; False (a repeat, or a false alarm) sends the caller to the exact grouping of the ids."""
        return id_screen.ids_distinct(self.con, raw, idc, n_rows, self.threads)

    def _local(self, table: str, col: str) -> str:
        tz = self.sources[table].tz
        return f"timezone({_q(tz)}, {col})" if tz else col

    # ------------------------------------------------------------------ exemptions
    def _collect_windows(self) -> None:
        rows: list[dict[str, Any]] = []
        for k, e in enumerate(self.framework.exemptions):
            rows.append({"start": e.start, "end": e.end, "scope": e.scope, "action": e.action,
                         "where": f"framework exemptions[{k}]"})
        if "exemptions" in self.sources:
            df = self.con.execute(
                "SELECT start, \"end\", scope, action, _row AS row_no FROM _b_exemptions WHERE _reason0 IS NULL "
                "ORDER BY _row"
            ).df()
            for r in df.itertuples(index=False):
                rows.append({"start": r.start, "end": r.end, "scope": r.scope, "action": r.action,
                             "where": f"exemptions table row {r.row_no}"})
        for r in rows:
            scope = str(r["scope"] or "all").strip()
            kind, _, val = scope.partition(":")
            if not (scope == "all" or (kind in ("team", "queue") and val)):
                raise SchemaError(
                    f"Exemption scope {scope!r} ({r['where']}) must be 'all', 'team:<name>' or 'queue:<name>'.",
                    table="exemptions", column="scope")
            r["kind"], r["value"] = ("all", None) if scope == "all" else (kind, val)
        self.windows = rows
        self.relax = any(r["action"] == "relax_target" for r in rows)

    def _exempt_sql(self, table: str, t: str, has_team: bool, has_queue: bool) -> str:
        if not self.windows:
            return "CAST(NULL AS VARCHAR)"
        tz = self.sources[table].tz
        parts = []
        for action in ("exclude", "relax_target"):
            for w in self.windows:
                if w["action"] != action:
                    continue
                lo, hi = pd.Timestamp(w["start"]), pd.Timestamp(w["end"])
                if lo.tzinfo is not None:
                    lo = (lo.tz_convert(tz) if tz else lo).tz_localize(None)
                if hi.tzinfo is not None:
                    hi = (hi.tz_convert(tz) if tz else hi).tz_localize(None)
                cond = f"{t} >= {_ts_literal(lo)} AND {t} < {_ts_literal(hi)}"
                if w["kind"] == "team":
                    cond += f" AND team = {_q(w['value'])}" if has_team else " AND FALSE"
                elif w["kind"] == "queue":
                    cond += f" AND queue = {_q(w['value'])}" if has_queue else " AND FALSE"
                parts.append(f"WHEN {cond} THEN {_q(action)}")
        return "CASE " + " ".join(parts) + " END"

    def _outside_sql(self, t: str) -> str:
        conds = []
        if self.start is not None:
            conds.append(f"{t} < {_ts_literal(self.start)}")
        if self.end is not None:
            conds.append(f"{t} >= {_ts_literal(self.end)}")
        return " OR ".join(conds) if conds else "FALSE"

    # ------------------------------------------------------------------ prepared views
    def prepare(self, needs: dict[str, set[str]]) -> None:
        for s in self.sources.values():
            self._register_raw(s)
        if "agents" in self.sources:
            self.con.execute("CREATE VIEW _agents_ok AS SELECT agent_id, team, role, site FROM _b_agents "
                             "WHERE _reason0 IS NULL")
        else:
            self.con.execute("CREATE VIEW _agents_ok AS SELECT CAST(NULL AS VARCHAR) AS agent_id, "
                             "CAST(NULL AS VARCHAR) AS team, CAST(NULL AS VARCHAR) AS role, "
                             "CAST(NULL AS VARCHAR) AS site WHERE FALSE")
        self._collect_windows()
        if "contacts" in self.sources:
            self._prepare_contacts(needs.get("contacts", set()))
        if "surveys" in self.sources:
            self._prepare_surveys()
        for name in ("qa_reviews", "tickets"):
            if name in self.sources:
                self._prepare_simple(name)

    def _window_fits(self, need: set[str]) -> bool:
        """Whether the repeat-contact window may sort the valid rows whole (with the base columns the
        aggregation reads) rather than their keys alone.

        Sorting whole rows is one pass and no join (about a sixth less time at 10M rows with the
        repeat-contact FCR alone); but its sort holds every valid row with every column the indicators
        read, which for the whole catalogue (15M rows at 5,000 agents) spilled gigabytes and took a
        third longer than the keys-only window joined back by row number. So whole rows only when their
        columns' estimated size (:data:`_SORT_WIDTH` bytes per value, plus the part of longer text stored
        apart, averaged over the first rows) is within DuckDB's memory limit: 570 MB against 690 MB for
        the 10M-row benchmark's FCR, 1.9 GB against 1.4 GB for the 5,000-agent review's panel; with
        UUIDs for contact and customer ids the benchmark's would be 1.3 GB.
        """
        spec = {c.name: c.kind for c in TABLES["contacts"].columns}
        cols = {"agent_id", "arrived_at", "customer_id", "contact_id"} | (need & set(spec))
        for word, base in _DERIVED_COLUMNS.items():
            if word in need:
                cols |= base
        if any("topic" in w for w in need if w.endswith("_s")):
            cols.add("topic")
        if self.windows:  # exemption scopes name a team or a queue
            cols.add("queue")
        cols &= self.present.get("contacts", set())
        width = float(sum(_SORT_WIDTH[spec[c]] for c in cols))
        texts = sorted(c for c in cols if spec[c] == STR)
        if texts:  # text longer than 12 bytes is stored outside the value (a UUID adds 36): from the first rows
            longer = self.con.execute(
                "SELECT " + ", ".join(f"COALESCE(avg(CASE WHEN strlen({_ident(c)}) > 12 THEN strlen({_ident(c)}) "
                                      "ELSE 0 END), 0)" for c in texts)
                + f" FROM (SELECT {', '.join(_ident(c) for c in texts)} FROM _raw_contacts LIMIT 4096)").fetchone()
            width += sum(float(x) for x in longer)
        limit = size_bytes(self.con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return limit is None or self.sources["contacts"].n_rows * width <= limit

    def _final_reason(self, t: str, exempt: str) -> str:
        return (f"CASE WHEN _reason0 IS NOT NULL THEN _reason0 WHEN ({self._outside_sql(t)}) "
                f"THEN 'outside the periods' WHEN {exempt} = 'exclude' THEN 'exempted' END")

    def _prepare_contacts(self, need: set[str]) -> None:
        t = self._local("contacts", "c.arrived_at")
        ab = "c.abandoned" if "abandoned" in self.not_null.get("contacts", ()) else "COALESCE(c.abandoned, FALSE)"
        derived = [
            f"NOT {ab} AS answered",
            # an abandon's wait is unknown (NULL, never a short abandon) when the export has no moment of
            # abandonment: ended_at missing, or written as the arrival time (a 0 s wait, as the PwC export does)
            f"CASE WHEN {ab} THEN NULLIF(epoch(c.ended_at) - epoch(c.arrived_at), 0) "
            "ELSE epoch(c.answered_at) - epoch(c.arrived_at) END AS wait_s",
            # a missing talk time makes handle time unknown (AHT, cost exclude the contact); a missing
            # hold or ACW counts 0 (logs often leave them empty when there was none)
            "CASE WHEN c.talk_s IS NULL THEN NULL ELSE c.talk_s + COALESCE(c.hold_s, 0) + COALESCE(c.acw_s, 0) END "
            "AS handle_s",
        ]
        # observed span of the data (min..max arrived_at of the whole contacts table, not the start/end
        # filter): follow-up windows that run past it are censored ('window not observed')
        if need & {"_obs_after_s", "_obs_before_s"}:
            lo, hi = self.con.execute(
                "SELECT min(epoch(arrived_at)), max(epoch(arrived_at)) FROM _b_contacts").fetchone()
            lo, hi = (float(lo), float(hi)) if lo is not None else (0.0, 0.0)
            derived += [f"{hi!r} - epoch(c.arrived_at) AS _obs_after_s", f"epoch(c.arrived_at) - {lo!r} AS _obs_before_s"]
            self.span = (lo, hi)
        else:
            derived += ["CAST(NULL AS DOUBLE) AS _obs_after_s", "CAST(NULL AS DOUBLE) AS _obs_before_s"]
        costs = self.framework.costs.channel_per_contact
        if costs:
            cost = "CASE " + " ".join(f"WHEN c.channel = {_q(k)} THEN {float(v)!r}" for k, v in costs.items()) + \
                " ELSE 0.0 END"
        else:
            cost = "0.0"
        derived.append(f"{cost} AS channel_cost")
        team = ("COALESCE(a.team, CASE WHEN c.agent_id IS NULL AND c.queue IN (SELECT team FROM _agents_ok "
                "WHERE team IS NOT NULL) THEN c.queue END)")
        exempt = self._exempt_sql("contacts", "_t", True, True)
        # seconds to the same customer's next / previous contact (repeat-contact FCR), optionally same topic,
        # over the valid rows (no row reason, not exempted)
        # gap column -> (its expression with {w} for the window, the partition), for the gaps definitions read
        windows: dict[str, tuple[str, str]] = {}
        for suffix, partition in (("", "customer_id"), ("_topic", "customer_id, topic")):
            for name, expr in ((f"next_gap{suffix}_s", "epoch(LEAD(arrived_at) {w}) - epoch(arrived_at)"),
                               (f"prev_gap{suffix}_s", "epoch(arrived_at) - epoch(LAG(arrived_at) {w})")):
                if name in need:
                    windows[name] = (expr, partition)

        def window(g: str, extra: str = "") -> str:
            """Gap ``g`` as a window over each customer's (and topic's) rows, partitioned by ``extra`` too."""
            expr, partition = windows[g]
            return expr.format(w=f"OVER (PARTITION BY {partition}{extra} ORDER BY arrived_at, contact_id)")

        def gap_columns(column: Any) -> list[str]:
            """Every gap column: ``column(g)`` for the gaps definitions read, NULL for the others."""
            return [f"{column(g)} AS {g}" if g in windows else f"CAST(NULL AS DOUBLE) AS {g}" for g in _GAP_COLUMNS]

        gaps = gap_columns(lambda g: window(g, ", _valid"))
        # Without 'exclude' exemptions a row is valid exactly when it has no row reason (_reason0), so the
        # window runs on the base rows, before the derived, unit and reason columns exist: the rows it sorts
        # carry only the base columns the aggregation reads. With 'exclude' windows (which need the team)
        # it runs last, as the same window over the same rows.
        early = bool(windows) and not any(w["action"] == "exclude" for w in self.windows)
        base = "_b_contacts"
        if early and self._window_fits(need):
            # one pass: the valid rows with their gaps, then the others with NULL gaps (no aggregate reads a
            # gap of a row with a row reason: every statistic is over _ok rows); the window sorts the valid
            # rows with the base columns the aggregation reads (DuckDB prunes the others)
            self.con.execute(
                "CREATE VIEW _bw_contacts AS SELECT * REPLACE (CAST(NULL AS VARCHAR) AS _reason0, FALSE AS _dup, "
                f"FALSE AS _duprow), TRUE AS _valid, {', '.join(gap_columns(window))} "
                "FROM _b_contacts WHERE _reason0 IS NULL UNION ALL BY NAME "
                f"SELECT *, FALSE AS _valid, {', '.join(f'CAST(NULL AS DOUBLE) AS {g}' for g in _GAP_COLUMNS)} "
                "FROM _b_contacts WHERE _reason0 IS NOT NULL")
            base = "_bw_contacts"
        elif early:
            # too wide to sort whole: the window sorts only the valid rows' keys (row number, customer,
            # topic, arrival, contact id) into a table of gaps by row, joined back by row number (sorting
            # whole rows spilled gigabytes at 15M rows). Rows with a row reason get NULL gaps.
            keys = "_row, customer_id, arrived_at, contact_id" + (", topic" if any("topic" in g for g in windows) else "")
            # only rows with a gap are kept (a row left out joins to NULL gaps, as it has): a smaller join
            self.con.execute(
                f"CREATE TEMP TABLE _gaps_contacts AS SELECT * FROM (SELECT _row, "
                f"{', '.join(f'{window(g)} AS {g}' for g in windows)} FROM "
                f"(SELECT {keys} FROM _b_contacts WHERE _reason0 IS NULL)) "
                f"WHERE {' OR '.join(f'{g} IS NOT NULL' for g in windows)}")
            self.con.execute(
                f"CREATE VIEW _bw_contacts AS SELECT b.*, b._reason0 IS NULL AS _valid, "
                f"{', '.join(gap_columns(lambda g: f'g.{g}'))} FROM _b_contacts b LEFT JOIN _gaps_contacts g ON b._row = g._row")
            base = "_bw_contacts"
        # surveys read the contacts' units, time and reason, never the gaps: without a window their own chain
        chains = [("_p_contacts", base)] + ([("_p0_contacts", "_b_contacts")] if windows else [])
        for view, src in chains:
            if "agents" in self.sources:
                self.con.execute(
                    f"CREATE VIEW {view} AS SELECT c.*, {', '.join(derived)}, {team} AS team, a.role AS role, "
                    f"a.site AS site, {t} AS _t, (a.agent_id IS NULL AND c.agent_id IS NOT NULL) AS _unknown_agent "
                    f"FROM {src} c LEFT JOIN _agents_ok a ON c.agent_id = a.agent_id"
                )
            else:  # no agents table: no join
                self.con.execute(
                    f"CREATE VIEW {view} AS SELECT c.*, {', '.join(derived)}, {_NO_UNITS}, {t} AS _t, "
                    f"FALSE AS _unknown_agent FROM {src} c"
                )
        reason = self._final_reason("_t", "_exempt")
        sel = ["*"] + ([] if early else gaps)
        if "has_survey" in need and "surveys" in self.sources:
            sel.append("contact_id IN (SELECT contact_id FROM _b_surveys WHERE _reason0 IS NULL AND "
                       "(responded_at IS NOT NULL OR csat IS NOT NULL OR nps IS NOT NULL OR ces IS NOT NULL)) "
                       "AS has_survey")
        else:
            sel.append("CAST(NULL AS BOOLEAN) AS has_survey")
        self.con.execute(
            f"CREATE VIEW _q_contacts AS SELECT *, {exempt} AS _exempt FROM _p_contacts"
        )
        self.con.execute(
            f"CREATE VIEW _r_contacts AS SELECT *, {reason} AS _reason FROM _q_contacts"
        )
        self.con.execute(
            f"CREATE VIEW _v_contacts AS SELECT {', '.join(sel)}, _reason IS NULL AS _ok, "
            f"COALESCE(_exempt = 'relax_target', FALSE) AS _relax, "
            f"CASE WHEN _reason IS NULL THEN {_period_sql(self.period, '_t')} END AS _period, "
            f"CASE WHEN _reason IS NULL THEN {_period_key_sql(self.period, '_t')} END AS _pkey "
            + ("FROM _r_contacts" if early else "FROM (SELECT *, (_reason0 IS NULL AND _exempt IS DISTINCT FROM "
                                                 "'exclude') AS _valid FROM _r_contacts)")
        )
        self.views["contacts"] = "_v_contacts"
        self.contacts_for_surveys = "_v_contacts"
        if windows:
            self.con.execute(
                f"CREATE VIEW _s_contacts AS SELECT *, {reason} AS _reason, "
                "COALESCE(_exempt = 'relax_target', FALSE) AS _relax "
                f"FROM (SELECT *, {exempt} AS _exempt FROM _p0_contacts)")
            self.contacts_for_surveys = "_s_contacts"

    def _prepare_surveys(self) -> None:
        if "contacts" in self.views:
            self.con.execute(
                "CREATE VIEW _v_surveys AS SELECT s.*, "
                "(s.responded_at IS NOT NULL OR s.csat IS NOT NULL OR s.nps IS NOT NULL OR s.ces IS NOT NULL) "
                "AS responded, c.agent_id, c.team, c.role, c.site, c.channel, c.queue, c.topic, c._t, "
                "CASE WHEN s._reason0 IS NOT NULL THEN s._reason0 "
                "WHEN c.contact_id IS NULL THEN 'survey for an unknown contact' "
                "WHEN c._reason IN ('outside the periods', 'exempted') THEN c._reason "
                "WHEN c._reason IS NOT NULL THEN 'survey of an excluded contact' END AS _reason, "
                "COALESCE(c._relax, FALSE) AS _relax "
                f"FROM _b_surveys s LEFT JOIN (SELECT * FROM {self.contacts_for_surveys} WHERE NOT _dup) c "
                "ON s.contact_id = c.contact_id"
            )
        else:
            self.con.execute(
                "CREATE VIEW _v_surveys AS SELECT s.*, FALSE AS responded, CAST(NULL AS VARCHAR) AS agent_id, "
                "CAST(NULL AS VARCHAR) AS team, CAST(NULL AS VARCHAR) AS role, CAST(NULL AS VARCHAR) AS site, "
                "CAST(NULL AS VARCHAR) AS channel, CAST(NULL AS VARCHAR) AS queue, CAST(NULL AS VARCHAR) AS topic, "
                "CAST(NULL AS TIMESTAMP) AS _t, COALESCE(s._reason0, 'no contacts table to attribute the survey') "
                "AS _reason, FALSE AS _relax FROM _b_surveys s"
            )
        self.con.execute(
            f"CREATE VIEW _w_surveys AS SELECT *, _reason IS NULL AS _ok, "
            f"CASE WHEN _reason IS NULL THEN {_period_sql(self.period, '_t')} END AS _period, "
            f"CASE WHEN _reason IS NULL THEN {_period_key_sql(self.period, '_t')} END AS _pkey FROM _v_surveys"
        )
        self.views["surveys"] = "_w_surveys"

    def _prepare_simple(self, name: str) -> None:
        t = self._local(name, f"x.{SOURCE_TIME[name]}")
        join = ""
        if name == "qa_reviews" and "contacts" in self.sources:
            # A review scores the agent's work on the reviewed contact, so it belongs to the period of
            # that contact, not to the (often later) review date; unknown contacts fall back to it.
            t = f"COALESCE({self._local('contacts', 'rc.arrived_at')}, {t})"
            join = (" LEFT JOIN (SELECT contact_id, arrived_at FROM _b_contacts WHERE _reason0 IS NULL) rc"
                    " ON x.contact_id = rc.contact_id")
        derived = ""
        if name == "tickets":
            derived = (", epoch(x.first_reply_at) - epoch(x.created_at) AS first_response_s, "
                       "epoch(x.solved_at) - epoch(x.created_at) AS resolution_s, x.solved_at IS NOT NULL AS solved")
        if "agents" in self.sources:
            self.con.execute(
                f"CREATE VIEW _p_{name} AS SELECT x.*{derived}, a.team AS team, a.role AS role, a.site AS site, "
                f"{t} AS _t, (a.agent_id IS NULL AND x.agent_id IS NOT NULL) AS _unknown_agent "
                f"FROM _b_{name} x LEFT JOIN _agents_ok a ON x.agent_id = a.agent_id{join}"
            )
        else:
            self.con.execute(
                f"CREATE VIEW _p_{name} AS SELECT x.*{derived}, {_NO_UNITS}, {t} AS _t, FALSE AS _unknown_agent "
                f"FROM _b_{name} x{join}"
            )
        exempt = self._exempt_sql(name, "_t", True, False)
        self.con.execute(
            f"CREATE VIEW _q_{name} AS SELECT *, {exempt} AS _exempt FROM _p_{name}"
        )
        reason = self._final_reason("_t", "_exempt")
        self.con.execute(
            f"CREATE VIEW _v_{name} AS SELECT *, _reason IS NULL AS _ok, "
            f"COALESCE(_exempt = 'relax_target', FALSE) AS _relax, "
            f"CASE WHEN _reason IS NULL THEN {_period_sql(self.period, '_t')} END AS _period, "
            f"CASE WHEN _reason IS NULL THEN {_period_key_sql(self.period, '_t')} END AS _pkey "
            f"FROM (SELECT *, {reason} AS _reason FROM _q_{name})"
        )
        self.views[name] = f"_v_{name}"

    # ------------------------------------------------------------------ checks
    def check_definitions(self, table: str, defs: list[Definition]) -> None:
        """Bind every expression of the table's definitions (one DESCRIBE; per expression only on failure)."""
        view = self.views[table]
        exprs = [(d, key, getattr(d, key)) for d in defs
                 for key in ("where", "condition", "value", "numerator", "denominator") if getattr(d, key) is not None]
        exprs += [(d, f"exclude.{reason}", cond) for d in defs for cond, reason in d.exclude]
        if not exprs:
            return
        try:
            self.con.execute(f"DESCRIBE SELECT {', '.join(f'({e})' for _, _, e in exprs)} FROM {view}")
            return
        except duckdb.Error:
            pass
        for d, key, expr in exprs:
            try:
                self.con.execute(f"DESCRIBE SELECT ({expr}) FROM {view}")
            except duckdb.Error as exc:
                first = str(exc).strip().splitlines()[0]
                raise FrameworkError(
                    f"indicators.{d.code}.compute.{key}: {expr!r} is not a valid expression over table "
                    f"{d.table!r} ({first})."
                ) from None
        raise FrameworkError(f"The {table} indicator definitions do not bind together; check their compute: "
                             "expressions.")  # pragma: no cover - each binds alone

    # ------------------------------------------------------------------ aggregation
    @staticmethod
    def _aggs(d: Definition, relax: bool, *, days_by_agent: bool = False,
              derivable: list[tuple[str, str, str, list[str]]] | None = None) -> list[str]:
        """SQL aggregates of one indicator: its kind's sufficient statistics over its population
        (``where``, channels, minus its exclusions), one count per exclusion reason, the relax count.

        ``days_by_agent``: the grouping holds one agent and one period (``_pkey``) per group, so a
        per_day indicator's agent-days are counted by :meth:`PerDay.days_by_agent` (no DISTINCT).
        ``derivable`` (when given) receives, for an indicator with exclusions whose ``n`` counts
        exactly its population, ``(last exclusion's column, the count of the rows before the
        exclusions, n's column, the other exclusions' columns)``: the last exclusion count is the
        rows before the exclusions less n and the others (see :func:`_plan_aggregates`)."""
        c = d.code
        base = [f"_ok AND ({d.where or 'TRUE'})"]
        if d.channels is not None:
            base.append(f"channel IN ({', '.join(_q(ch) for ch in d.channels)})")
        before = f"COUNT(*) FILTER (WHERE {' AND '.join(base)})"
        a: list[str] = []
        excl: list[str] = []
        for i, (cond, _reason) in enumerate(_exclusions(d)):
            # a NULL test is never NULL itself: no COALESCE, which DuckDB evaluates (and keeps) per row
            hit = f"({cond})" if _NULL_TEST.fullmatch(cond) else f"COALESCE(({cond}), FALSE)"
            excl.append(_ident(f"{c}__e{i}"))
            a.append(f"COUNT(*) FILTER (WHERE {' AND '.join([*base, hit])}) AS {excl[-1]}")
            base.append(f"NOT {hit}")
        w = " AND ".join(base)
        kind = get_kind(d.kind)
        stats = kind.aggregates(c, w, d)
        if kind.needs_value:
            # the rows of w have a value (its 'missing value' exclusion): counting them is COUNT(*), not a
            # count of the non-NULL values
            counted = f"COUNT(CAST(({d.value}) AS DOUBLE)) FILTER (WHERE {w}) AS "
            stats = [f"COUNT(*) FILTER (WHERE {w}) AS " + x[len(counted):] if x.startswith(counted) else x
                     for x in stats]
        if days_by_agent and d.kind == "per_day":
            days = _ident(c + "__days")
            stats = [PerDay.days_by_agent(c, w, "_pkey") if x.endswith(f" AS {days}") else x for x in stats]
        a += stats
        if relax:
            a.append(f"COUNT(*) FILTER (WHERE {w} AND _relax) AS {_ident(c + '__x')}")
        if derivable is not None and excl and d.kind in _N_IS_POPULATION:
            derivable.append((excl[-1], before, _ident(c + "__n"), excl[:-1]))
        return a

    def aggregate(self, table: str, defs: list[Definition], levels: list[str],
                  level: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
        """Cells of every level, the table's rows per reason, and the per-indicator exclusions."""
        view = self.views[table]
        keys = [_UNIT_COL[lv] for lv in levels if lv != "centre"]
        # _reason is in every set: one pass gives the cells (rows with no reason) and, from the first set,
        # the row accounting (rows per reason) without a second grouping
        # grouped by the DATE key _pkey; the text period is formatted on the aggregated cells
        sets = [f"(_pkey, {k}, _reason)" for k in keys]
        if "centre" in levels:
            sets.append("(_pkey, _reason)")
        aggs = ["COUNT(*) AS _rows",
                "COUNT(*) FILTER (WHERE _ok AND _relax) AS _rows_relax",
                f"COUNT(*) FILTER (WHERE _ok AND {self._unknown(table)}) AS _rows_unknown"]
        if table == "contacts" and any("wait_s" in _words(d.where) | _words(d.condition) | _words(d.value)
                                       for d in defs):
            aggs.append("COUNT(*) FILTER (WHERE _ok AND abandoned AND wait_s IS NULL) AS _rows_wait_unknown")
        cross = any(k in ("queue", "channel") for k in keys)
        additive = all(d.kind in _ADDITIVE and not (cross and d.kind == "per_day") for d in defs)
        # agent-days of a per_day indicator in a plain grouping by agent and period: a bit mask of the days
        # (no DISTINCT aggregate, which costs a second grouping of the rows); DuckDB only
        by_agent = additive and "agent_id" in keys and self.day_bitmask and self.period in _BITMASK_PERIODS
        derivable: list[tuple[str, str, str, list[str]]] = []
        for d in defs:
            aggs += self._aggs(d, self.relax, days_by_agent=by_agent, derivable=derivable)
        # no relax window, no agents table: their counts are zero
        zero = ({"_rows_relax"} if not self.relax else set()) | (
            {"_rows_unknown"} if self._unknown(table) == "FALSE" else set())
        aggs, complete, same = _plan_aggregates(aggs, zero, derivable)
        gcols = ["_pkey", *keys, "_reason"]
        grouping = ", ".join(f"GROUPING({g}) AS {_ident('_g_' + ('_period' if g == '_pkey' else g))}"
                             for g in gcols)
        out_cols = ", ".join(["strftime(_pkey, '%Y-%m-%d') AS _period", *keys, "_reason"])
        # each quantile's sorted values (one list per distinct value and population: a median and a p90 of
        # the same column share theirs)
        xs_of = {d.code: same.get(f"{d.code}__xs", f"{d.code}__xs") for d in defs if d.kind == "quantile"}
        lists = list(dict.fromkeys(xs_of.values()))
        if additive and len(sets) == 1:
            # one grouping set (one unit level): the plain GROUP BY is the answer, no roll-up to take
            zeros = ", ".join(f"0 AS {_ident('_g_' + ('_period' if g == '_pkey' else g))}" for g in gcols)
            sql = f"SELECT {out_cols}, {zeros}, {', '.join(aggs)} FROM {view} GROUP BY _pkey, {', '.join(gcols[1:])}"
        elif additive:
            # counts and sums only: one plain GROUP BY over the source at the finest keys (cheaper than
            # GROUPING SETS on the big table), then the roll-ups as sums over that small aggregate
            names = [re.search(r"AS (\S+)$", a).group(1) for a in aggs]
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE _agg_{table} AS SELECT {', '.join(gcols)}, {', '.join(aggs)} "
                f"FROM {view} GROUP BY ALL")
            sums = ", ".join(f"SUM({n}) AS {n}" for n in names)
            sql = (f"SELECT {out_cols}, {grouping}, {sums} FROM _agg_{table} "
                   f"GROUP BY GROUPING SETS ({', '.join(sets)})")
        else:  # quantiles / distinct counts must see the rows of every level
            sql = (f"SELECT {out_cols}, {grouping}, {', '.join(aggs)} FROM {view} "
                   f"GROUP BY GROUPING SETS ({', '.join(sets)})")
        if lists:
            # quantiles: each cell's sorted values stay inside DuckDB; only the order statistics at the
            # exact ranks of the interval (which depend on the cell's n) come back
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE _cells_{table} AS "
                             f"SELECT row_number() OVER () AS _cell, * FROM ({sql})")
            res = complete(self.con.execute(f"SELECT * EXCLUDE ({', '.join(_ident(x) for x in lists)}) "
                                            f"FROM _cells_{table}").df())
            for d in defs:
                if d.kind == "quantile":
                    res = self._order_statistics(table, d, res, level, xs_of[d.code])
        else:
            res = complete(self.con.execute(sql).df())
        res["_rows_ok"] = np.where(res["_reason"].isna(), res["_rows"], 0)  # _reason is a grouping key
        if "agent_id" in keys:  # every row of the table is in a group (_reason is a key): all its agent ids
            self.agent_ids[table] = res["agent_id"]
        first = (res[f"_g_{keys[0]}"] == 0) if keys else pd.Series(True, index=res.index)
        acct = res.loc[first, ["_reason", "_rows", "_rows_relax", "_rows_unknown"]]
        cells = res[res["_reason"].isna()]
        if "_rows_wait_unknown" in cells.columns:
            self.wait_unknown = int(cells.loc[first[cells.index], "_rows_wait_unknown"].fillna(0).sum())
        excluded = []
        for d in defs:
            for i, (_cond, reason) in enumerate(_exclusions(d)):
                rows = int(cells.loc[first[cells.index], f"{d.code}__e{i}"].fillna(0).sum())
                if rows:
                    excluded.append({"table": table, "indicator": d.code, "reason": reason, "rows": rows})
        return cells, acct, excluded

    def _order_statistics(self, table: str, d: Definition, res: pd.DataFrame, level: float,
                          xs_column: str) -> pd.DataFrame:
        """Add ``<code>__lo`` / ``__hi``: the order statistics bounding the exact interval of each cell."""
        n_col = f"{d.code}__n"
        ok = res["_reason"].isna() & (res[n_col].fillna(0) > 0)
        lo_rank, hi_rank = quantile_order_ranks(float(d.quantile), res.loc[ok, n_col].to_numpy(), level)
        ranks = pd.DataFrame({"_cell": res.loc[ok, "_cell"].to_numpy(dtype=np.int64),
                              "l": lo_rank.astype(np.int64), "u": hi_rank.astype(np.int64)})
        xs = _ident(xs_column)
        self.con.register("_ranks", ranks)
        try:
            got = self.con.execute(
                f"SELECT r._cell, CASE WHEN r.l > 0 THEN c.{xs}[r.l] END AS lo, "
                f"CASE WHEN r.u > 0 THEN c.{xs}[r.u] END AS hi FROM _ranks r JOIN _cells_{table} c USING (_cell)"
            ).df().set_index("_cell")
        finally:
            self.con.unregister("_ranks")
        res[f"{d.code}__lo"] = res["_cell"].map(got["lo"]).astype(float)
        res[f"{d.code}__hi"] = res["_cell"].map(got["hi"]).astype(float)
        return res

    def _unknown(self, table: str) -> str:
        return "_unknown_agent" if table in ("contacts", "qa_reviews", "tickets") and "agents" in self.sources \
            else "FALSE"

    def reason_counts(self, table: str) -> pd.DataFrame:
        """Rows per exclusion reason (None = used), with used rows flagged relax / with an unknown agent."""
        if table in self.views:
            return self.con.execute(
                f"SELECT _reason, COUNT(*) AS _rows, COUNT(*) FILTER (WHERE _ok AND _relax) AS _rows_relax, "
                f"COUNT(*) FILTER (WHERE _ok AND {self._unknown(table)}) AS _rows_unknown "
                f"FROM {self.views[table]} GROUP BY 1").df()
        return self.con.execute(
            f"SELECT _reason0 AS _reason, COUNT(*) AS _rows, 0 AS _rows_relax, 0 AS _rows_unknown "
            f"FROM _b_{table} GROUP BY 1").df()

    def close(self) -> None:
        """Close the connection (DuckDB's, or a subclass's own) and remove the DuckDB spill folder."""
        try:
            if self.con is not self._duckdb:
                self.con.close()
        finally:
            # freeing DuckDB's memory takes a while: in a thread, which compute_panel waits for at its end
            disconnect_duckdb(self._duckdb, background=True)


# ============================================================================ cells -> panel
def _exclusions(d: Definition) -> list[tuple[str, str]]:
    """The indicator's exclusion rules, then (kinds with a value) rows whose value is NULL, unless the
    value cannot be NULL (``COALESCE(acw_s, 0)``): a rule that never holds would still cost a count
    and a test in every filter of the indicator, row by row."""
    rules = list(d.exclude)
    if get_kind(d.kind).needs_value and not _never_null(d.value):
        rules.append((f"({d.value}) IS NULL", "missing value"))
    return rules


_LITERAL = re.compile(r"\s*(-?\d+(\.\d*)?([eE][-+]?\d+)?|'([^']|'')*'|TRUE|FALSE)\s*", re.I)


def _never_null(expr: str | None) -> bool:
    """Whether ``expr`` is ``COALESCE(..., <literal>)`` as a whole (its last argument a number, text or
    boolean literal), hence never NULL."""
    m = re.match(r"\s*COALESCE\s*\(", expr or "", re.I)
    if m is None:
        return False
    depth, quoted, last = 1, False, m.end()
    for i in range(m.end(), len(expr)):
        ch = expr[i]
        if ch == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:  # the COALESCE closes here: the whole expression, with a literal last?
                return not expr[i + 1:].strip() and bool(_LITERAL.fullmatch(expr[last:i]))
        elif ch == "," and depth == 1:
            last = i + 1
    return False


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _plan_aggregates(aggs: list[str], zero: set[str], derivable: list[tuple[str, str, str, list[str]]]
                     ) -> tuple[list[str], Any, dict[str, str]]:
    """The aggregates DuckDB must compute, a function completing its result with the others, and the
    column computing each repeated one (unquoted names).

    Each aggregate is a row-by-row cost over the whole table, so three kinds are left to the small
    result: ``zero`` (counts known to be 0), exact repeats of an aggregate computed already (two
    indicators over the same population, e.g. ``COUNT(*) FILTER (WHERE _ok AND (answered))``), and
    the last exclusion count of an indicator (``derivable``, from :meth:`_Engine._aggs`) when the
    count of its rows before the exclusions is computed anyway: then it is that count less ``n``
    and the other exclusion counts (every row before the exclusions is excluded for one reason or
    counted in ``n``). Every column is the same number as before; they are additive, so the
    completion holds for roll-ups too.
    """
    bodies: dict[str, str] = {}  # expression -> the column computing it
    copies: list[tuple[str, str]] = []
    keep: list[str] = []
    for a in aggs:
        body, name = a.rsplit(" AS ", 1)
        if name in zero:
            continue
        if body in bodies:
            copies.append((name, bodies[body]))
        else:
            bodies[body] = name
            keep.append(a)
    copied = {old for _, old in copies}
    derived = [(last, bodies[before], n, others) for last, before, n, others in derivable
               if before in bodies and bodies[before] != last and last not in copied]
    dropped = {d[0] for d in derived}
    keep = [a for a in keep if a.rsplit(" AS ", 1)[1] not in dropped]

    def complete(res: pd.DataFrame) -> pd.DataFrame:
        # (a quantile's sorted values stay in DuckDB: their copies are left to the caller)
        out = res.assign(**{_unquote(z): 0 for z in zero}, **{_unquote(new): res[_unquote(old)]
                                                              for new, old in copies if _unquote(old) in res})
        for last, before, n, others in derived:
            col = out[_unquote(before)].fillna(0) - out[_unquote(n)].fillna(0)
            for o in others:
                col = col - out[_unquote(o)].fillna(0)
            out[_unquote(last)] = col
        return out

    return keep, complete, {_unquote(new): _unquote(old) for new, old in copies}


def _table_levels(table: str, levels: list[str], present: set[str]) -> list[str]:
    """The requested levels a table's rows can be grouped by (qa_reviews have no queue or channel)."""
    out = []
    for lv in levels:
        if lv in _LEVEL_TABLES:
            if table not in _LEVEL_TABLES[lv] or (table == "tickets" and lv not in present):
                continue
        out.append(lv)
    return out


def _split_levels(cells: pd.DataFrame, levels: list[str]) -> dict[str, np.ndarray]:
    """The cells of each unit level one after the other, as arrays (converted once per table, then read by
    every indicator): ``unit_id``, ``unit_level``, ``_period``, ``_rows_ok``, ``_unknown`` (the unit is
    unknown: a NULL key) and each ``<code>__<stat>`` column as float."""
    unit_flags = [c for c in cells.columns if c.startswith("_g_") and c not in ("_g__period", "_g__reason")]
    stats = [c for c in cells.columns if not c.startswith("_") and "__" in c]
    parts: list[tuple[str, pd.DataFrame, np.ndarray, np.ndarray]] = []
    for lv in levels:
        if lv == "centre":
            sub = cells[cells[unit_flags].eq(1).all(axis=1) & (cells["_g__period"] == 0)]
            unit = np.full(len(sub), "centre", dtype=object)
            unknown = np.zeros(len(sub), dtype=bool)
        else:
            col = _UNIT_COL[lv]
            sub = cells[cells[f"_g_{col}"] == 0]
            unknown = sub[col].isna().to_numpy()
            unit = sub[col].astype(str).to_numpy(dtype=object)
        keep = sub["_period"].notna().to_numpy()
        parts.append((lv, sub[keep], unit[keep], unknown[keep]))
    out: dict[str, np.ndarray] = {
        "unit_id": np.concatenate([p[2] for p in parts]) if parts else np.empty(0, dtype=object),
        "unit_level": np.concatenate([np.full(len(p[1]), p[0], dtype=object) for p in parts])
        if parts else np.empty(0, dtype=object),
        "_unknown": np.concatenate([p[3] for p in parts]) if parts else np.empty(0, dtype=bool),
        "_levels": np.array(levels, dtype=object),
    }
    for c in ["_period", "_rows_ok", *stats]:
        vals = [p[1][c].astype(str).to_numpy(dtype=object) if c == "_period" else p[1][c].to_numpy(dtype=float)
                for p in parts]
        out[c] = np.concatenate(vals) if vals else np.empty(0)
    return out


def _flags(*named: tuple[str, np.ndarray]) -> np.ndarray:
    """';'-joined flag names per row (empty when none applies)."""
    size = len(named[0][1])
    out = np.full(size, "", dtype=object)
    for name, mask in named:
        hit = np.asarray(mask, dtype=bool)
        out[hit] = np.where(out[hit] == "", name, out[hit] + ";" + name)
    return out


def _cells_to_rows(split: dict[str, np.ndarray], d: Definition, min_n: int,
                   level: float) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Panel rows of one indicator from the aggregated cells (:func:`_split_levels`), as arrays by column
    (the panel's columns and ``_var``; empty when the indicator has no row at these levels); also the
    counted rows dropped, per level, for want of a known unit at that level.

    The value, counts and interval of each cell come from its kind (:mod:`kpilab.indicators.kinds`).
    """
    c = d.code
    lvl = split["unit_level"]
    sel = np.ones(len(lvl), dtype=bool)
    if d.level == "queue":  # an indicator of the queue has no agent, role or site rows
        if np.isin(split["_levels"], ["agent", "role", "site"]).all():
            return {}, {}
        sel &= ~np.isin(lvl, ["agent", "role", "site"])
    dropped: dict[str, int] = {}
    unknown = split["_unknown"] & sel
    if unknown.any():
        n_all = split[f"{c}__n"]
        for lv in dict.fromkeys(lvl[unknown]):
            lost = int(np.nan_to_num(n_all[unknown & (lvl == lv)]).sum())
            if lost:
                dropped[lv] = lost
    sel &= ~split["_unknown"]
    size = int(sel.sum())
    kind = get_kind(d.kind)
    st = {name: split[f"{c}__{name}"][sel] if f"{c}__{name}" in split else np.full(size, np.nan)
          for name in kind.stats_}
    cs = kind.cell(st, d, level)
    scale = kind.base_scale * d.scale
    lo, hi = cs.ci_low * scale, cs.ci_high * scale
    if scale < 0:
        lo, hi = hi, lo
    n = cs.n
    small = (n < min_n) if d.kind != "count" else np.zeros(size, dtype=bool)
    relax = split[f"{c}__x"][sel] if f"{c}__x" in split else np.zeros(size)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, relax / np.where(n > 0, n, 1), 0.0)
    no_ci = kind.has_interval & (n > 0) & (np.isnan(lo) | np.isnan(hi))
    out = {
        "unit_id": split["unit_id"][sel], "unit_level": lvl[sel], "period": split["_period"][sel],
        "indicator": np.full(size, c, dtype=object), "value": cs.value * scale, "numerator": cs.numerator,
        "denominator": cs.denominator, "n": n, "ci_low": lo, "ci_high": hi,
        "flag": _flags(("small_n", small), ("no_ci", no_ci), ("exempted", share > EXEMPTED_FLAG_SHARE)),
        "kind": np.full(size, d.kind, dtype=object), "scale": np.full(size, float(scale)),
        "exempted_share": share, "_var": cs.var,
    }
    keep = (split["_rows_ok"][sel] > 0) if d.kind == "count" else (n > 0)
    return {k: np.asarray(v, dtype=float if k in _FLOAT_COLUMNS else None)[keep] for k, v in out.items()}, dropped


_FLOAT_COLUMNS = ("value", "numerator", "denominator", "n", "ci_low", "ci_high", "scale", "exempted_share", "_var")


def _sorted_ranks(codes: np.ndarray, uniques: Any) -> np.ndarray:
    """Each value's rank among the distinct values in code-point order (what sorting the text gives),
    from ``pandas.factorize``'s codes and distinct values: only the distinct values are sorted."""
    order = np.argsort(np.asarray(uniques, dtype=str), kind="stable")
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[order] = np.arange(len(uniques))
    return rank[codes]


def _shrink(panel: pd.DataFrame, agent_team: pd.Series, notices: list[str]) -> pd.Series:
    """value_shrunk: agent rows shrunk toward their team within (indicator, period) by their kind's rule;
    other rows copy value. Groups left with no between-agent variance (complete pooling) are noticed."""
    out = panel["value"].copy()
    is_agent = panel["unit_level"] == "agent"
    team = panel["unit_id"].map(agent_team).fillna("(no team)").astype(str)
    for (code, kind), idx in panel[is_agent].groupby(["indicator", "kind"], sort=True).groups.items():
        rows = panel.loc[idx]
        vals, info = get_kind(kind).shrink(rows, rows["period"] + "|" + team.loc[idx])
        out.loc[idx] = vals
        if info and info["complete_pooling"]:
            notices.append(
                f"{code}: shrinkage found no between-agent variance in {info['complete_pooling']:,} of "
                f"{info['groups']:,} team-period group(s); every agent there gets the team value (complete "
                "pooling: the data cannot tell those agents apart).")
    return out


# ============================================================================ public API
@functools.lru_cache(maxsize=1)
def _default_framework() -> Framework:
    """The shipped framework, parsed once per process (it is immutable)."""
    return load_framework(None)


def compute_panel(
    data: Any,
    *,
    period: str = "month",
    unit: str | list[str] = "agent",
    framework: Framework | str | Path | Mapping[str, Any] | None = None,
    indicators: list[str] | None = None,
    min_n: int | None = None,
    shrinkage: bool = False,
    start: Any = None,
    end: Any = None,
    level: float = 0.95,
    threads: int | None = None,
    memory_limit: str | None = "1GB",
    check_duplicate_ids: bool = True,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> PanelResult:
    r"""Compute the long indicator panel from canonical tables.

    One DuckDB query per source table computes every requested indicator of
    that table at every requested unit level (``GROUPING SETS``) for every
    period; roll-ups sum counts and sums, quantiles are taken over each
    level's own rows.

    Parameters
    ----------
    data : folder path or dict
        A folder of canonical tables (``contacts.parquet``, ``surveys.csv``...)
        or ``{table name: DataFrame or file path}``.
    period : {"day", "week", "month", "quarter"}
        Period length; weeks start on Monday; ``period`` holds the first day (YYYY-MM-DD).
    unit : str or list of str
        Unit level(s) among agent, team, role, site, queue, channel, centre
        (queue and channel: contacts and surveys; channel also tickets).
    framework : Framework, path, mapping or None
        Indicator definitions (params, compute), costs, exemptions and min_n;
        the default framework when None.
    indicators : list of str, optional
        Indicator codes (framework or catalogue); default: every framework indicator.
    min_n : int, optional
        Cells with ``n < min_n`` get ``flag = small_n`` (default ``framework.min_n``).
    shrinkage : bool
        Add ``value_shrunk``: agent proportions shrunk toward their team
        (beta-binomial, method of moments), means by normal-normal shrinkage
        with the team's pooled within-agent variance; other rows copy ``value``.
        Team-periods with no between-agent variance (complete pooling) are
        counted in the notices.
    start, end : date-like, optional
        Keep events from ``start`` through ``end`` (inclusive days, local time).
    level : float
        Confidence level of the intervals.
    threads : int, optional
        DuckDB threads (default: the cores, at most 4).
    memory_limit : str, optional
        Memory budget of the computation, e.g. ``"1GB"``: DuckDB's limit is this less what the
        process already holds and a tenth for DuckDB's own overhead (at least a quarter of it), so
        the process as a whole stays near it; DuckDB spills to disk beyond its limit. Other forms
        (``"80%"``) go to DuckDB as given; None: DuckDB's default.
    check_duplicate_ids : bool, default True
        Exclude repeated ids (``duplicate id``). The check is one extra scan of each id
        column (:mod:`kpilab.id_screen`: about 0.3 s per 10 million integer ids, 0.5 s for
        text ids on two cores; the exact grouping runs only when the screen finds a
        repeat); pass False only when the source guarantees unique ids (e.g. a warehouse
        primary key). The choice is recorded in ``params`` and in a notice.
    engine : {"duckdb", "spark"}, default "duckdb"
        Where the rows are aggregated. ``"spark"`` runs the same generated SQL on Apache Spark
        (:mod:`kpilab.indicators.spark_engine`; needs ``pip install 'kpilab[spark]'`` and Java);
        ``data`` may then also be a URI Spark reads (``s3a://...``, ``hdfs://...``). The panel,
        accounting and notices are the same as with DuckDB.
    spark_master : str, optional
        Spark master URL for ``engine="spark"`` (default: an active session, else ``local[*]``).

    Returns
    -------
    PanelResult

    Notes
    -----
    Proportions carry Wilson intervals, means Student-t intervals, NPS the
    interval with :math:`SE = 100\sqrt{(p_P + p_D - (p_P - p_D)^2)/n}`,
    quantiles the exact distribution-free order-statistic interval
    (:func:`kpilab.indicators.stats.quantile_order_ranks`; a bound that does not
    exist at the cell's n is NaN, flag ``no_ci``). How each kind computes,
    shrinks and pools is defined once in :mod:`kpilab.indicators.kinds`.
    Every input row is used or excluded with one reason
    (:attr:`PanelResult.accounting`); used rows left out of one indicator
    (``missing talk_s``, ``window not observed``, ``unknown wait``) are counted
    per indicator there too.

    Flags: ``small_n`` (n < min_n), ``no_ci`` (no interval at this n),
    ``exempted`` (more than half of the cell's rows lie inside ``relax_target``
    exemption windows; the share itself is in ``exempted_share``).

    References
    ----------
    ``shared/domain/kpi-standards.md`` (definitions, variants, statistics).

    Raises
    ------
    ParameterError, FrameworkError, SchemaError, DataError
    """
    preload()  # the interval functions' import runs while the data are read
    units = [unit] if isinstance(unit, str) else list(unit)
    check_params({"period": period, "min_n": min_n, "shrinkage": shrinkage, "level": level,
                  "check_duplicate_ids": check_duplicate_ids},
                 {"period": Options(*PERIODS), "min_n": (Interval(1, None, integer=True), None),
                  "shrinkage": Options(True, False), "level": Interval(0, 1, closed="neither"),
                  "check_duplicate_ids": Options(True, False)},
                 caller="compute_panel")
    if not units:
        check_param("unit", unit, Options(*UNIT_LEVELS), caller="compute_panel")
    for u in units:
        check_param("unit", u, Options(*UNIT_LEVELS), caller="compute_panel")
    check_param("engine", engine, Options("duckdb", "spark"), caller="compute_panel")
    if spark_master is not None and engine != "spark":
        raise ParameterError(f"compute_panel: spark_master={spark_master!r} needs engine='spark'.")
    units = list(dict.fromkeys(units))
    fw = framework if isinstance(framework, Framework) else (
        _default_framework() if framework is None else load_framework(framework))
    min_n = int(min_n if min_n is not None else fw.min_n)
    notices: list[str] = []
    defs = resolve_definitions(fw, indicators, notices)
    if engine == "spark":  # the engine-specific part: a Spark session and Spark-readable sources
        from kpilab.indicators import spark_engine

        spark = spark_engine.get_spark(spark_master)
        sources = spark_engine.load_spark_sources(data, notices, spark)
    else:
        sources = _load_sources(data, notices)

    # which tables / columns each definition needs
    by_table: dict[str, list[Definition]] = {}
    needs: dict[str, set[str]] = {}
    present_cols = {n: set(s.columns) for n, s in sources.items()}
    for d in defs.values():
        skipped, words = _unavailable(d, present_cols)
        if skipped:
            notices.append(skipped)
            continue
        by_table.setdefault(d.table, []).append(d)
        needs.setdefault(d.table, set()).update(words)

    levels = list(units)
    if any(u in ("team", "role", "site") for u in units):
        if "agents" not in sources:
            lost = [u for u in units if u in ("team", "role", "site")]
            notices.append(f"unit level(s) {', '.join(lost)} skipped: no agents table to map agents to them.")
            levels = [u for u in units if u not in lost]
        else:
            for u in ("role", "site"):
                if u in units and u not in present_cols["agents"]:
                    notices.append(f"unit level {u!r} skipped: the agents table has no {u!r} column.")
                    levels.remove(u)
    if not levels:
        raise DataError(f"No unit level left to compute (asked for {', '.join(units)}); add an agents table "
                        "with team/role/site, or use unit='agent' or 'centre'.")

    if "contacts" in needs:  # the unit columns contacts are grouped by (a team falls back on the queue)
        needs["contacts"] |= {_UNIT_COL[lv] for lv in levels if lv in ("queue", "channel")} | (
            {"queue"} if "team" in levels else set())
    if not check_duplicate_ids:
        notices.append("duplicate ids were not checked (check_duplicate_ids=False): the source is trusted "
                       "to have unique contact, ticket and agent ids.")
    eng_kw = {"spark": spark} if engine == "spark" else {}
    eng = (spark_engine.SparkEngine if engine == "spark" else _Engine)(
        sources, fw, period=period, start=start, end=end, threads=threads, memory_limit=memory_limit,
        notices=notices, check_duplicate_ids=check_duplicate_ids, **eng_kw)
    try:
        eng.prepare(needs)
        for table, table_defs in by_table.items():
            eng.check_definitions(table, table_defs)
        rows: list[dict[str, np.ndarray]] = []
        acct_counts: dict[str, pd.DataFrame] = {}
        ind_excluded: list[dict[str, Any]] = []
        for table, table_defs in by_table.items():
            tlevels = _table_levels(table, levels, eng.present.get(table, set()))
            lost = [lv for lv in levels if lv not in tlevels]
            if lost:
                notices.append(f"{table} indicators ({', '.join(d.code for d in table_defs)}) have no "
                               f"{'/'.join(lost)} rows: the table does not record a {'/'.join(lost)}.")
            if not tlevels:
                continue
            try:
                cells, acct, excluded = eng.aggregate(table, table_defs, tlevels, level)
            except duckdb.OutOfMemoryException:
                raise  # not a definition's fault: said below with the budget
            except duckdb.Error as exc:
                first = str(exc).strip().splitlines()[0]
                raise DataError(f"Computing the {table} indicators failed in {getattr(eng, 'label', 'DuckDB')} ({first}); "
                                f"check the compute: expressions of {', '.join(d.code for d in table_defs)}.") from None
            acct_counts[table] = acct
            ind_excluded += excluded
            for e in excluded:
                notices.append(f"{e['indicator']}: {e['rows']:,} {table} row(s) left out of this indicator "
                               f"({e['reason']}); see the accounting (kind indicator_excluded).")
            split = _split_levels(cells, tlevels)
            for d in table_defs:
                r, dropped = _cells_to_rows(split, d, min_n, level)
                for lv, lost in dropped.items():
                    notices.append(f"{d.code}: {lost:,} counted row(s) have no known {lv}: they are missing from "
                                   f"the {lv} rows (the centre counts them).")
                if r:
                    rows.append(r)
        from kpilab.ingest import deferred_spelling_notice

        for table, src in sources.items():
            loaded = getattr(src, "loaded", None)
            for column in getattr(loaded, "unchecked_spelling", ()):
                note = deferred_spelling_notice(loaded, column, eng.id_values(table, column))
                if note:
                    notices.append(note)
        flagged = {}
        for table in sources:
            if table not in acct_counts:
                acct_counts[table] = eng.reason_counts(table)
            if sources[table].n_rows == 0:
                notices.append(f"table {table!r} has zero rows.")
            unknown = int(acct_counts[table]["_rows_unknown"].sum())
            if unknown:
                notices.append(f"{table}: {unknown:,} used row(s) name an agent_id absent from the agents table "
                               "(no team/role/site for them).")
            flagged[table] = int(acct_counts[table]["_rows_relax"].sum())
        if eng.wait_unknown:
            notices.append(f"contacts: {eng.wait_unknown:,} abandoned contact(s) have no recorded wait (ended_at "
                           "missing or equal to arrived_at): their wait is unknown, never a short abandon; they "
                           "count in abandonment and service level, not in wait averages ('unknown wait').")
        agent_team = (eng.con.execute("SELECT agent_id, team FROM _agents_ok").df().drop_duplicates("agent_id")
                      .set_index("agent_id")["team"]) if shrinkage else None
    except duckdb.OutOfMemoryException as exc:
        raise _out_of_memory(exc, memory_limit) from None
    finally:
        eng.close()

    # canonical table order, whatever order the folder listing or the dict gave
    ordered = [t for t in TABLES if t in sources]
    accounting = build_accounting({t: sources[t].n_rows for t in ordered}, acct_counts, flagged, ind_excluded)
    live = sorted(d.code for d in defs.values() if d.channels is not None and d.table in by_table
                  and d in by_table[d.table])
    if live:
        by_ch: dict[tuple[str, ...], list[str]] = {}
        for code in live:
            by_ch.setdefault(defs[code].channels, []).append(code)
        for chans, codes in by_ch.items():
            notices.append(f"{', '.join(codes)}: computed on channel(s) {', '.join(chans)} only "
                           "(params.channels; 'live' = the framework's live_channels).")
    if any(d.kind == "quantile" for d in defs.values()):
        notices.append("quantile intervals are exact order-statistic bounds; a bound that no order statistic can "
                       "give at a cell's n (e.g. the upper bound of a p90 below n = 36 at 95 %) is NaN and the "
                       "cell is flagged no_ci.")
    for t in sources:
        counted = int(acct_counts[t]["_rows"].sum()) if len(acct_counts[t]) else 0
        if counted != sources[t].n_rows and not check_duplicate_ids:
            raise DataError(f"Row accounting for {t!r} does not add up ({counted} counted, {sources[t].n_rows} "
                            "read): ids are not unique after all. Rerun with check_duplicate_ids=True, which "
                            "excludes and reports the repeated ids.")
        if counted != sources[t].n_rows:  # pragma: no cover - invariant of the engine
            raise KpilabError(f"Row accounting for {t!r} does not add up ({counted} counted, "
                              f"{sources[t].n_rows} read); please report this.")

    if rows:
        # one frame from the indicators' arrays, in the panel's order (unit level, unit, period, indicator)
        arrays = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
        # text columns as codes into their distinct values: sorted and converted once per distinct value
        text = {k: pd.factorize(v) for k, v in arrays.items() if v.dtype == object}
        lv_codes, lv_names = text["unit_level"]
        lv_rank = np.array([UNIT_LEVELS.index(v) for v in lv_names], dtype=np.int64)[lv_codes]
        idx = np.lexsort((*(_sorted_ranks(*text[k]) for k in ("indicator", "period", "unit_id")), lv_rank))
        panel = pd.DataFrame({k: pd.Index(text[k][1]).take(text[k][0][idx]).array if k in text else v[idx]
                              for k, v in arrays.items()})
    else:
        panel = pd.DataFrame(columns=[*PANEL_COLUMNS, "_var"])
    if panel.empty:
        used = accounting.groupby("table")["rows_used"].first().to_dict()
        raise DataError(
            f"No panel rows: nothing to compute for indicators {', '.join(defs) or 'none'} at {', '.join(levels)} "
            f"level (rows used per table: {used}). Check the tables, the start/end window and the notices: "
            + " | ".join(notices[:5])
        )
    if shrinkage:
        panel["value_shrunk"] = _shrink(panel, agent_team, notices)
    cols = PANEL_COLUMNS + ["kind", "scale", "exempted_share"] + (["value_shrunk"] if shrinkage else [])
    panel = panel[cols]  # numeric columns are float already (_FLOAT_COLUMNS; value_shrunk copies value)
    params = {
        "period": period, "unit": levels, "min_n": min_n, "shrinkage": shrinkage, "level": level,
        "start": None if start is None else str(start), "end": None if end is None else str(end),
        "check_duplicate_ids": check_duplicate_ids, "engine": engine, "framework": fw.name, "indicators": sorted(panel["indicator"].unique()),
        "definitions": {d.code: {**d.to_dict(), "params": d.params, "level": d.level} for d in defs.values()
                        if d.table in by_table and d in by_table[d.table]},
    }
    wait_closed()  # the connections closed in the background: no spill folder outlives the call
    return PanelResult(panel=panel, accounting=accounting, notices=notices, params=params)


def wait_profile(data: Any, *, framework: Framework | str | Path | None = None, start: Any = None,
                 end: Any = None, channels: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
    """Mean queue wait of answered contacts by weekday (0 = Monday) and hour (local time).

    ``channels`` restricts it to live channels (e.g. ``["phone", "chat"]``): e-mail waits
    are hours, not seconds, and would swamp the map. Returns columns
    ``weekday, hour, n, mean_wait_s`` (the response-time heat map's data).
    """
    fw = framework if isinstance(framework, Framework) else (
        _default_framework() if framework is None else load_framework(framework))
    sources = _load_sources(data)
    if "contacts" not in sources:
        raise DataError("wait_profile needs a contacts table.")
    eng = _Engine(sources, fw, period="day", start=start, end=end, threads=None, memory_limit="1GB", notices=[])
    try:
        eng.prepare({})
        where, args = "", []
        if channels:
            where = f" AND channel IN ({', '.join('?' for _ in channels)})"
            args = list(channels)
        return eng.con.execute(
            "SELECT isodow(_t) - 1 AS weekday, hour(_t) AS hour, COUNT(*) AS n, AVG(wait_s) AS mean_wait_s "
            f"FROM _v_contacts WHERE _ok AND answered{where} GROUP BY 1, 2 ORDER BY 1, 2", args
        ).df()
    finally:
        eng.close()
        wait_closed()
