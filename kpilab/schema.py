"""The canonical input tables and their validation.

Column names are fixed (``../shared/design.md``); extra columns are kept and
ignored. Timestamps are all timezone-aware or all naive, durations are seconds.

Two levels of checks:

* **structural** (missing required column, a column of the wrong type, a table
  that is not a DataFrame, mixed naive and aware timestamps) always raises a
  :class:`~kpilab.errors.SchemaError`: nothing sensible can be computed.
* **row-level** (negative durations, times running backwards, scores out of
  range, duplicated ids, answered contact without an agent) raises in
  ``strict`` mode, which is the default of :func:`validate_table`; in lenient
  mode the offending rows are returned in :attr:`ValidationReport.issues` (one
  reason per row) so the panel engine can exclude them and account for them.

Extension to the design sketch: ``contacts`` may carry an optional ``retained``
boolean (the customer was still active some fixed time after the contact),
the customer outcome the health and weight reviews correlate indicators with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpilab.errors import SchemaError, format_ids

__all__ = [
    "Column",
    "TableSpec",
    "TABLES",
    "ValidationReport",
    "validate_table",
    "validate_tables",
    "row_rules_sql",
    "coerce_table",
    "table_timezone",
]

STR, TIME, FLOAT, INT, BOOL, DATE = "str", "timestamp", "float", "int", "bool", "date"


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    kind: str
    required: bool = True
    nullable: bool = False
    low: float | None = None
    high: float | None = None
    note: str = ""


@dataclass(frozen=True)
class TableSpec:
    """A canonical table: its columns, its id column and its time-order rules."""

    name: str
    columns: tuple[Column, ...]
    id_column: str | None = None
    # (earlier, later): later must not precede earlier when both are present
    time_order: tuple[tuple[str, str], ...] = ()

    @property
    def required(self) -> list[str]:
        """Names of the required columns."""
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        """The column spec called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


TABLES: dict[str, TableSpec] = {
    "contacts": TableSpec(
        "contacts",
        (
            Column("contact_id", STR),
            Column("channel", STR),
            Column("queue", STR, required=False, nullable=True),
            Column("customer_id", STR, required=False, nullable=True),
            Column("agent_id", STR, nullable=True, note="null when not answered"),
            Column("arrived_at", TIME),
            Column("answered_at", TIME, nullable=True),
            Column("ended_at", TIME),
            Column("talk_s", FLOAT, nullable=True, low=0),
            Column("hold_s", FLOAT, required=False, nullable=True, low=0),
            Column("acw_s", FLOAT, required=False, nullable=True, low=0),
            Column("abandoned", BOOL),
            Column("resolved", BOOL, required=False, nullable=True),
            Column("topic", STR, required=False, nullable=True),
            Column("retained", BOOL, required=False, nullable=True),
        ),
        id_column="contact_id",
        time_order=(("arrived_at", "answered_at"), ("answered_at", "ended_at"), ("arrived_at", "ended_at")),
    ),
    "surveys": TableSpec(
        "surveys",
        (
            Column("contact_id", STR),
            Column("csat", FLOAT, nullable=True, low=1, high=5),
            Column("nps", FLOAT, required=False, nullable=True, low=0, high=10),
            Column("ces", FLOAT, required=False, nullable=True, low=1, high=7),
            Column("resolved", BOOL, required=False, nullable=True),
            Column("responded_at", TIME, nullable=True),
        ),
        id_column="contact_id",
    ),
    "qa_reviews": TableSpec(
        "qa_reviews",
        (
            Column("contact_id", STR),
            Column("agent_id", STR),
            Column("reviewer_id", STR, required=False, nullable=True),
            Column("score", FLOAT, low=0, high=100),
            Column("critical_fail", BOOL, required=False, nullable=True),
            Column("reviewed_at", TIME),
        ),
        id_column=None,  # a contact may be reviewed twice (calibration sessions)
    ),
    "tickets": TableSpec(
        "tickets",
        (
            Column("ticket_id", STR),
            Column("agent_id", STR, nullable=True),
            Column("customer_id", STR, required=False, nullable=True),
            Column("channel", STR, required=False, nullable=True),
            Column("created_at", TIME),
            Column("first_reply_at", TIME, nullable=True),
            Column("solved_at", TIME, nullable=True),
            Column("reopens", INT, required=False, nullable=True, low=0),
            Column("replies", INT, required=False, nullable=True, low=0),
        ),
        id_column="ticket_id",
        time_order=(("created_at", "first_reply_at"), ("created_at", "solved_at")),
    ),
    "agents": TableSpec(
        "agents",
        (
            Column("agent_id", STR),
            Column("team", STR, nullable=True),
            Column("role", STR, required=False, nullable=True),
            Column("site", STR, required=False, nullable=True),
            Column("hire_date", DATE, required=False, nullable=True),
        ),
        id_column="agent_id",
    ),
    "exemptions": TableSpec(
        "exemptions",
        (
            Column("start", TIME),
            Column("end", TIME),
            Column("scope", STR, note="all, team:<name> or queue:<name>"),
            Column("reason", STR),
            Column("action", STR, note="exclude or relax_target"),
        ),
        time_order=(("start", "end"),),
    ),
}

EXEMPTION_ACTIONS = ("exclude", "relax_target")


@dataclass
class ValidationReport:
    """What :func:`validate_table` found.

    Attributes
    ----------
    table : str
        Table name.
    n_rows : int
        Rows read.
    issues : pandas.DataFrame
        One row per offending input row, columns ``row, id, column, reason``
        (``row`` is the positional row number). A row with several problems
        appears once, with the first reason found, so counts add up.
    """

    table: str
    n_rows: int
    issues: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["row", "id", "column", "reason"])
    )

    @property
    def ok(self) -> bool:
        """True when no row has a problem."""
        return self.issues.empty

    def excluded_mask(self) -> np.ndarray:
        """Boolean mask over the table's rows: True where the row has an issue."""
        mask = np.zeros(self.n_rows, dtype=bool)
        mask[self.issues["row"].to_numpy(dtype=int)] = True
        return mask


def _kind_ok(series: pd.Series, kind: str) -> bool:
    s = series.dropna()
    if kind == STR:
        return pd.api.types.is_string_dtype(series) or pd.api.types.is_object_dtype(series) and all(
            isinstance(v, str) for v in s.head(1000)
        )
    if kind == TIME:
        return pd.api.types.is_datetime64_any_dtype(series)
    if kind == DATE:
        return pd.api.types.is_datetime64_any_dtype(series) or all(
            hasattr(v, "year") for v in s.head(1000)
        )
    if kind == BOOL:
        return pd.api.types.is_bool_dtype(series) or (
            s.isin([True, False]).all() if len(s) else True
        )
    if kind in (FLOAT, INT):
        return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    raise AssertionError(kind)


_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False,
               "y": True, "n": False, "yes": True, "no": False}


def table_timezone(df: pd.DataFrame, table: str) -> str | None:
    """The time zone of the first timezone-aware time column of a canonical table (None: all naive)."""
    for c in TABLES[table].columns:
        if c.kind == TIME and c.name in df.columns:
            tz = getattr(df[c.name].dtype, "tz", None)
            if tz is not None:
                return str(tz)
    return None


def coerce_table(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Return a copy with canonical dtypes where conversion is lossless.

    Strings that parse as timestamps become timestamps; 0/1 and "true"/"false"
    become booleans; ids become strings. Conversions that would lose
    information are left alone so :func:`validate_table` can name them.
    """
    spec = _spec(table)
    out = df.copy()
    for col in spec.columns:
        if col.name not in out.columns:
            continue
        s = out[col.name]
        if col.kind == STR and not pd.api.types.is_string_dtype(s):
            if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_object_dtype(s):
                out[col.name] = s.astype("string").astype(object).where(s.notna(), None)
        elif col.kind in (TIME, DATE) and not pd.api.types.is_datetime64_any_dtype(s):
            if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
                try:
                    out[col.name] = pd.to_datetime(s, format="mixed")
                except (ValueError, TypeError):
                    pass  # mixed naive/aware or garbage: validate_table names it
        elif col.kind == BOOL and not pd.api.types.is_bool_dtype(s):
            lowered = s.map(lambda v: _BOOL_WORDS.get(str(v).strip().lower(), v) if pd.notna(v) else v)
            if lowered.dropna().isin([True, False]).all():
                out[col.name] = lowered.astype("boolean") if lowered.isna().any() else lowered.astype(bool)
    return out


def _spec(table: str) -> TableSpec:
    try:
        return TABLES[table]
    except KeyError:
        raise SchemaError(
            f"Unknown table {table!r}: canonical tables are {', '.join(TABLES)}.", table=table
        ) from None


def _ids(df: pd.DataFrame, spec: TableSpec, mask: np.ndarray) -> list:
    if spec.id_column and spec.id_column in df.columns:
        return df.loc[mask, spec.id_column].tolist()
    return [f"row {i}" for i in np.flatnonzero(mask)]


def validate_table(df: pd.DataFrame, table: str, *, strict: bool = True) -> ValidationReport:
    """Check one canonical table against its contract.

    Parameters
    ----------
    df : pandas.DataFrame
        The table, ideally after :func:`coerce_table`.
    table : str
        One of :data:`TABLES`.
    strict : bool, default True
        Raise on the first row-level problem. With ``False``, row-level
        problems are collected in the report instead (structural problems
        always raise).

    Returns
    -------
    ValidationReport

    Raises
    ------
    SchemaError
        Naming the table, the column, how many rows, the first offending ids
        and what to do.
    """
    spec = _spec(table)
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"Table {table!r} must be a pandas DataFrame, got {type(df).__name__}.", table=table)

    missing = [c for c in spec.required if c not in df.columns]
    if missing:
        raise SchemaError(
            f"Table {table!r} is missing required column(s) {', '.join(map(repr, missing))}; "
            f"it has {', '.join(map(repr, df.columns[:12]))}. Rename the source columns "
            "(a column-mapping file does this without code) or add them.",
            table=table,
            column=missing[0],
        )

    tz_state: dict[str, bool] = {}
    for col in spec.columns:
        if col.name not in df.columns:
            continue
        s = df[col.name]
        if not _kind_ok(s, col.kind):
            bad_examples = s.dropna().head(3).tolist()
            raise SchemaError(
                f"Table {table!r}, column {col.name!r} must hold {col.kind} values but has dtype "
                f"{s.dtype} (e.g. {bad_examples!r}). Convert it (kpilab.schema.coerce_table "
                "handles ISO timestamps, 0/1 booleans and numeric ids).",
                table=table,
                column=col.name,
                n_rows=int(s.notna().sum()),
            )
        if col.kind == TIME:
            tz_state[col.name] = getattr(s.dtype, "tz", None) is not None
    if len(set(tz_state.values())) > 1:
        aware = [c for c, a in tz_state.items() if a]
        naive = [c for c, a in tz_state.items() if not a]
        raise SchemaError(
            f"Table {table!r} mixes timezone-aware columns ({', '.join(aware)}) with naive ones "
            f"({', '.join(naive)}). Localise the naive ones (Series.dt.tz_localize) or make all naive.",
            table=table,
            column=naive[0],
        )

    n = len(df)
    reason = np.full(n, None, dtype=object)
    where = np.full(n, None, dtype=object)

    def mark(mask: np.ndarray, column: str, why: str) -> None:
        new = mask & (reason == None)  # noqa: E711 (elementwise)
        reason[new] = why
        where[new] = column

    # nulls in non-nullable columns
    for col in spec.columns:
        if col.name in df.columns and not col.nullable:
            null = df[col.name].isna().to_numpy()
            if table == "contacts" and col.name == "ended_at" and "abandoned" in df.columns:
                # an abandon whose moment is not recorded (PwC export): its wait is unknown, the row still counts
                null = null & ~df["abandoned"].fillna(False).astype(bool).to_numpy()
            mark(null, col.name, f"missing {col.name}")
    # ranges
    for col in spec.columns:
        if col.name not in df.columns or (col.low is None and col.high is None):
            continue
        v = pd.to_numeric(df[col.name], errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            if col.low is not None:
                below = v < col.low
                label = "negative" if col.low == 0 else f"below {col.low:g}"
                mark(below, col.name, f"{label} {col.name}")
            if col.high is not None:
                mark(v > col.high, col.name, f"{col.name} above {col.high:g}")
    # time order
    for early, late in spec.time_order:
        if early in df.columns and late in df.columns:
            a, b = df[early], df[late]
            backwards = (b < a).fillna(False).to_numpy(dtype=bool)
            mark(backwards, late, f"{late} before {early}")
    # table-specific rules
    if table == "contacts":
        answered = ~df["abandoned"].fillna(False).astype(bool).to_numpy()
        mark(answered & df["agent_id"].isna().to_numpy(), "agent_id", "answered without agent")
        mark(answered & df["answered_at"].isna().to_numpy(), "answered_at", "answered without answered_at")
        mark(~answered & df["answered_at"].notna().to_numpy(), "answered_at", "abandoned but answered_at set")
    if table == "exemptions":
        mark(~df["action"].isin(EXEMPTION_ACTIONS).to_numpy(), "action", "unknown exemption action")
    # duplicated ids: keep the first occurrence, the rest are issues
    if spec.id_column:
        dup = df[spec.id_column].duplicated(keep="first").to_numpy()
        mark(dup, spec.id_column, "duplicate id")
    elif n > 1:  # no id (qa_reviews): an exact repeat of an earlier row is the same review exported twice
        mark(df.duplicated(keep="first").to_numpy(), str(df.columns[0]), "duplicate row")

    bad = reason != None  # noqa: E711 (elementwise)
    issues = pd.DataFrame(
        {
            "row": np.flatnonzero(bad),
            "id": _ids(df, spec, bad),
            "column": where[bad],
            "reason": reason[bad],
        }
    )
    report = ValidationReport(table, n, issues)
    if strict and not issues.empty:
        first = issues["reason"].iloc[0]
        same = issues[issues["reason"] == first]
        raise SchemaError(
            f"Table {table!r}, column {same['column'].iloc[0]!r}: {len(same)} row(s) with {first} "
            f"(first: {format_ids(same['id'])})"
            + (f"; {len(issues) - len(same)} more row(s) with other problems" if len(issues) > len(same) else "")
            + ". Fix the source rows, or compute the panel, which excludes and reports them.",
            table=table,
            column=same["column"].iloc[0],
            n_rows=len(same),
            example_ids=same["id"].head(5),
        )
    return report


def row_rules_sql(name: str, present: set[str] | frozenset[str], *,
                  not_null: set[str] | frozenset[str] = frozenset(),
                  ranges: dict[str, tuple[float, float | None]] | None = None) -> list[tuple[str, str]]:
    """The row rules of :func:`validate_table` as SQL: ``(condition, reason)`` pairs in its order.

    The first pair whose condition holds gives a row's reason (a SQL ``CASE``). Duplicate ids and
    duplicate rows are not row-local and are left to the caller. ``present``: the table's columns.
    ``not_null`` (columns known to hold no NULL) and ``ranges`` (``{column: (min, max)}``, e.g. from a
    Parquet file's statistics) leave out rules that cannot fire; every row still meets the same first
    rule. An abandoned contact may lack ``ended_at`` (its wait is unknown, never a short abandon).
    """
    def ident(col: str) -> str:
        return '"' + col.replace('"', '""') + '"'

    spec = TABLES[name]
    ranges = ranges or {}
    rules: list[tuple[str, str]] = []
    abandoned = "abandoned" if "abandoned" in not_null else "COALESCE(abandoned, FALSE)"
    for c in spec.columns:
        if c.name in present and not c.nullable and c.name not in not_null:
            cond = f"{ident(c.name)} IS NULL"
            if name == "contacts" and c.name == "ended_at" and "abandoned" in present:
                cond += f" AND NOT {abandoned}"
            rules.append((cond, f"missing {c.name}"))
    for c in spec.columns:
        if c.name not in present or (c.low is None and c.high is None):
            continue
        lo, hi = ranges.get(c.name, (None, None))
        if c.low is not None and not (lo is not None and lo >= c.low):
            label = "negative" if c.low == 0 else f"below {c.low:g}"
            rules.append((f"{ident(c.name)} < {c.low!r}", f"{label} {c.name}"))
        if c.high is not None and not (hi is not None and hi <= c.high):
            rules.append((f"{ident(c.name)} > {c.high!r}", f"{c.name} above {c.high:g}"))
    for early, late in spec.time_order:
        if early in present and late in present:
            rules.append((f"{ident(late)} < {ident(early)}", f"{late} before {early}"))
    if name == "contacts":
        ans = f"NOT {abandoned}"
        rules.append((f"{ans} AND agent_id IS NULL", "answered without agent"))
        rules.append((f"{ans} AND answered_at IS NULL", "answered without answered_at"))
        rules.append((f"NOT ({ans}) AND answered_at IS NOT NULL", "abandoned but answered_at set"))
    if name == "exemptions":
        acts = ", ".join("'" + a + "'" for a in EXEMPTION_ACTIONS)
        rules.append((f"action IS NULL OR action NOT IN ({acts})", "unknown exemption action"))
    return rules


def validate_tables(tables: dict[str, pd.DataFrame], *, strict: bool = True) -> dict[str, ValidationReport]:
    """Validate every canonical table in ``tables`` (unknown names raise)."""
    return {name: validate_table(df, name, strict=strict) for name, df in tables.items()}
