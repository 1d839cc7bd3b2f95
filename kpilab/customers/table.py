"""The canonical ``customers`` table and its column-mapping reader.

The table is one row per customer and joins the contact tables through
``customer_id``. Only ``customer_id`` is required; every other canonical column
is optional and extra columns are kept unchanged (a churn model uses them as
features). It is a separate spec, not an entry of :data:`kpilab.schema.TABLES`,
because the panel engine iterates that dict and has no use for customers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilab._yaml import parse_yaml
from kpilab.errors import DataError, SchemaError, format_ids
from kpilab.schema import BOOL, DATE, FLOAT, STR, Column, TableSpec

__all__ = ["CUSTOMERS", "validate_customers", "read_customers", "load_customers", "find_customers",
           "CustomerIdMismatchError", "match_customer_ids"]

CUSTOMERS = TableSpec(
    "customers",
    (
        Column("customer_id", STR),
        Column("segment", STR, required=False, nullable=True),
        Column("monthly_charges", FLOAT, required=False, nullable=True, low=0, note="recurring revenue per month"),
        Column("revenue", FLOAT, required=False, nullable=True, low=0, note="revenue over the period studied"),
        Column("tenure", FLOAT, required=False, nullable=True, low=0, note="months as a customer"),
        Column("churned", BOOL, required=False, nullable=True),
        Column("churned_at", DATE, required=False, nullable=True, note="only when churned"),
    ),
    id_column="customer_id",
)

_TRUE = {"yes", "y", "true", "t", "1", "churned"}
_FALSE = {"no", "n", "false", "f", "0", "active"}


def _to_bool(s: pd.Series, label: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    txt = s.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[txt.isin(_TRUE).fillna(False)] = True
    out[txt.isin(_FALSE).fillna(False)] = False
    bad = txt.notna() & (txt != "") & out.isna()
    if bad.any():
        raise SchemaError(f"{label}, column 'churned': {int(bad.sum())} value(s) are not yes/no "
                          f"(e.g. {format_ids(s[bad].unique(), 3)}); map them under 'values: churned:'.",
                          table="customers", column="churned", n_rows=int(bad.sum()))
    return out


def _to_float(s: pd.Series, col: str, label: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    txt = s.astype("string").str.strip()
    num = pd.to_numeric(txt.replace("", pd.NA), errors="coerce").astype(float)
    bad = txt.notna() & (txt != "") & num.isna()
    if bad.any():
        raise SchemaError(f"{label}, column {col!r}: {int(bad.sum())} value(s) are not numbers "
                          f"(e.g. {format_ids(s[bad].unique(), 3)}).", table="customers", column=col,
                          n_rows=int(bad.sum()))
    return num  # blanks (e.g. the Telco file's TotalCharges for tenure 0) become NaN, never 0


def validate_customers(df: pd.DataFrame, *, label: str = "customers") -> pd.DataFrame:
    """Check and coerce a ``customers`` table; return a typed copy (extra columns kept).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per customer with at least ``customer_id``.
    label : str
        Name used in error messages (a file name).

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` as text, numbers as float (blank text becomes NaN),
        ``churned`` as nullable boolean, ``churned_at`` as datetime; canonical
        columns first in spec order, then the extra columns in input order.

    Raises
    ------
    SchemaError
        Not a DataFrame, no ``customer_id``, missing or duplicated ids,
        non-numeric text in a numeric column, negative numbers, unreadable
        yes/no values, or ``churned_at`` on a customer not churned.
    """
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"{label}: expected a DataFrame, got {type(df).__name__}.", table="customers")
    if "customer_id" not in df.columns:
        raise SchemaError(f"{label}: required column 'customer_id' is missing (columns: "
                          f"{', '.join(map(str, df.columns[:8]))}...); map the id column to customer_id.",
                          table="customers", column="customer_id")
    out = df.copy()
    ids = out["customer_id"].astype("string").str.strip()
    if ids.isna().any() or (ids == "").any():
        n = int((ids.isna() | (ids == "")).sum())
        raise SchemaError(f"{label}, column 'customer_id': {n} row(s) without an id.", table="customers",
                          column="customer_id", n_rows=n)
    dup = ids[ids.duplicated()]
    if len(dup):
        raise SchemaError(f"{label}, column 'customer_id': {len(dup)} duplicated id(s) ({format_ids(dup.unique())}); "
                          "the table has one row per customer.", table="customers", column="customer_id",
                          n_rows=len(dup), example_ids=dup.unique())
    out["customer_id"] = ids.astype(object)
    for c in CUSTOMERS.columns:
        if c.name not in out.columns or c.name == "customer_id":
            continue
        if c.kind == FLOAT:
            out[c.name] = _to_float(out[c.name], c.name, label)
            neg = out[c.name] < (c.low if c.low is not None else -np.inf)
            if neg.any():
                raise SchemaError(f"{label}, column {c.name!r}: {int(neg.sum())} negative value(s) "
                                  f"(customers {format_ids(out.loc[neg, 'customer_id'])}).", table="customers",
                                  column=c.name, n_rows=int(neg.sum()))
        elif c.kind == BOOL:
            out[c.name] = _to_bool(out[c.name], label)
        elif c.kind == DATE:
            out[c.name] = pd.to_datetime(out[c.name], errors="raise")
        elif c.kind == STR:
            out[c.name] = out[c.name].astype(object).where(out[c.name].notna(), None)
    if "churned_at" in out.columns and "churned" in out.columns:
        wrong = out["churned_at"].notna() & ~out["churned"].fillna(False).astype(bool)
        if wrong.any():
            raise SchemaError(f"{label}: {int(wrong.sum())} customer(s) have churned_at but churned is not true "
                              f"({format_ids(out.loc[wrong, 'customer_id'])}).", table="customers",
                              column="churned_at", n_rows=int(wrong.sum()))
    canon = [c.name for c in CUSTOMERS.columns if c.name in out.columns]
    return out[canon + [c for c in out.columns if c not in canon]]


def read_customers(mapping: str | Path | Mapping[str, Any], source: str | Path | None = None) -> pd.DataFrame:
    """Read a customer export through a column-mapping file into the ``customers`` table.

    The mapping has the keys of the contact mappings that make sense for a
    customer list: ``table: customers``, ``source`` (relative to the mapping
    file), ``columns`` (export column -> canonical column), ``values``
    (canonical column -> {export value: canonical value}) and ``constants``.
    Unlike the contact mappings, unmapped export columns are *kept* under their
    own names: they are the features of a churn model.

    Parameters
    ----------
    mapping : path or mapping
        The YAML file (or its parsed content).
    source : path, optional
        The CSV export; defaults to the mapping's ``source``.

    Returns
    -------
    pandas.DataFrame
        The validated table (see :func:`validate_customers`).

    Examples
    --------
    >>> from kpilab.customers import read_customers
    >>> df = read_customers("data/telco_customers_mapping.yaml",
    ...                     "../shared/data/telco-churn/Telco-Customer-Churn.csv")  # doctest: +SKIP
    """
    if isinstance(mapping, Mapping):
        spec, base, label = dict(mapping), Path.cwd(), "column mapping"
    else:
        path = Path(mapping)
        if not path.is_file():
            raise SchemaError(f"Column-mapping file {path} does not exist.", table="customers")
        spec = parse_yaml(path.read_text(encoding="utf-8"), path.name, "Column-mapping file", SchemaError)
        base, label = path.parent, path.name
    if not isinstance(spec, Mapping):
        raise SchemaError(f"Column-mapping {label}: expected a mapping of keys, got {type(spec).__name__}.",
                          table="customers")
    if spec.get("table", "customers") != "customers":
        raise SchemaError(f"Column-mapping {label}, key 'table': must be 'customers', got {spec.get('table')!r}.",
                          table="customers")
    unknown = set(spec) - {"table", "source", "columns", "values", "constants", "encoding"}
    if unknown:
        raise SchemaError(f"Column-mapping {label}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                          "(accepted: table, source, columns, values, constants, encoding).", table="customers")
    src = Path(source) if source is not None else (base / spec["source"] if spec.get("source") else None)
    if src is None:
        raise SchemaError(f"Column-mapping {label}: no 'source' key and no source file given.", table="customers")
    if not src.is_file():
        raise SchemaError(f"Customer export {src} does not exist.", table="customers")
    raw = pd.read_csv(src, dtype=str, keep_default_na=False, encoding=spec.get("encoding", "utf-8"))
    cols = dict(spec.get("columns") or {})
    missing = [c for c in cols if c not in raw.columns]
    if missing:
        raise SchemaError(f"{src.name}: mapped column(s) {', '.join(map(repr, missing))} not in the export "
                          f"(it has {', '.join(raw.columns[:8])}...).", table="customers")
    known = {c.name for c in CUSTOMERS.columns}
    bad = [v for v in cols.values() if v not in known]
    if bad:
        raise SchemaError(f"Column-mapping {label}, key 'columns': {', '.join(map(repr, bad))} not canonical "
                          f"customers column(s) ({', '.join(sorted(known))}).", table="customers")
    df = raw.rename(columns=cols)
    for col, table in (spec.get("values") or {}).items():
        if col in df.columns:
            mapped = df[col].map(lambda v, t=table: t.get(v, v))
            df[col] = mapped
    for col, val in (spec.get("constants") or {}).items():
        df[col] = val
    # numeric text columns among the extras (SeniorCitizen, tenure-like counts) become numbers
    for c in df.columns:
        if c in known:
            continue
        txt = df[c].astype("string").str.strip().replace("", pd.NA)
        num = pd.to_numeric(txt, errors="coerce")
        if txt.notna().any() and num[txt.notna()].notna().all():
            df[c] = num.astype(float)
    return validate_customers(df, label=src.name)


class CustomerIdMismatchError(DataError):
    """The customers table and a contact table do not share their ``customer_id`` values.

    Attributes
    ----------
    table : str
        The contact table compared (``contacts``, ``tickets``...).
    n_ids, n_matched : int
        Distinct customer ids in that table, and how many of them the customers table has.
    n_rows, n_rows_matched : int
        Rows of that table with a customer id, and how many of them match.
    example_ids : list
        A few unmatched ids.
    """

    def __init__(self, message: str, *, table: str, n_ids: int, n_matched: int, n_rows: int, n_rows_matched: int,
                 example_ids: list) -> None:
        super().__init__(message)
        self.table, self.n_ids, self.n_matched = table, n_ids, n_matched
        self.n_rows, self.n_rows_matched, self.example_ids = n_rows, n_rows_matched, example_ids


def match_customer_ids(events: pd.DataFrame, customers: pd.DataFrame, *, table: str = "contacts",
                       min_share: float = 0.5) -> dict[str, int]:
    """Count how many customer ids of ``events`` the customers table knows; refuse a mismatch.

    Parameters
    ----------
    events : pandas.DataFrame
        A table with ``customer_id`` (contacts, tickets, purchases); rows without an id are ignored.
    customers : pandas.DataFrame
        The ``customers`` table.
    table : str
        Name of ``events`` in messages.
    min_share : float, default 0.5
        Smallest share of the event rows (with an id) whose customer must be known. Below it the two
        tables most likely use different ids (a CRM number against a phone number), and every
        customer-level result would rest on a minority of the contacts.

    Returns
    -------
    dict
        ``n_rows`` (rows with an id), ``n_rows_matched``, ``n_ids``, ``n_ids_matched`` and
        ``n_customers_without_events`` (customers the events never mention).

    Raises
    ------
    SchemaError
        ``customer_id`` is missing from either table.
    CustomerIdMismatchError
        Fewer than ``min_share`` of the rows match (no match at all included), with the counts and
        the first unmatched ids.
    """
    for name, df in ((table, events), ("customers", customers)):
        if "customer_id" not in df.columns:
            raise SchemaError(f"Table {name!r} has no customer_id column; customer-level analyses join the "
                              "customers table to the contacts through it.", table=name, column="customer_id")
    # object-dtype hash lookups: Series.isin on Arrow-backed strings loops in Python (seconds per 100k rows)
    ev = pd.Series(events["customer_id"].dropna().astype(str).to_numpy(dtype=object))
    known = pd.Index(customers["customer_id"].astype(str).to_numpy(dtype=object), dtype=object).unique()
    hit = pd.Series(known.get_indexer(ev.to_numpy()) >= 0)
    ids = pd.Index(pd.unique(ev.to_numpy()), dtype=object)
    ids_hit = known.get_indexer(ids) >= 0
    counts = {"n_rows": int(len(ev)), "n_rows_matched": int(hit.sum()), "n_ids": int(len(ids)),
              "n_ids_matched": int(ids_hit.sum()),
              "n_customers_without_events": int((ids.get_indexer(known) < 0).sum())}
    if not len(ev) or hit.mean() < min_share:
        share = hit.mean() if len(ev) else 0.0
        raise CustomerIdMismatchError(
            f"Table {table!r}, column 'customer_id': {counts['n_rows_matched']:,} of {counts['n_rows']:,} rows "
            f"({share:.0%}; {counts['n_ids_matched']:,} of {counts['n_ids']:,} distinct ids) name a customer of "
            f"the customers table, fewer than the {min_share:.0%} required (unmatched e.g. "
            f"{format_ids(ids[~ids_hit], 3)}; customers e.g. {format_ids(sorted(known[:50])[:3], 3)}). "
            "Check that both tables use the same customer ids (map the right column to customer_id).",
            table=table, n_ids=counts["n_ids"], n_matched=counts["n_ids_matched"], n_rows=counts["n_rows"],
            n_rows_matched=counts["n_rows_matched"], example_ids=list(ids[~ids_hit][:5]))
    return counts


def load_customers(path: str | Path) -> pd.DataFrame:
    """The ``customers`` table from a CSV, Parquet or Excel file, or a column-mapping YAML.

    Parameters
    ----------
    path : path
        ``*.yaml``/``*.yml``: a mapping read by :func:`read_customers`; otherwise a file holding the
        canonical columns (``customer_id`` ...; extra columns kept).

    Returns
    -------
    pandas.DataFrame
        The validated table (:func:`validate_customers`).

    Raises
    ------
    InputFileError
        The file is missing or unreadable.
    SchemaError
        The table breaks the customers contract.
    """
    from kpilab.errors import InputFileError

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"Customers file {path} does not exist; give the customers CSV, Parquet or its "
                             "column-mapping YAML.")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        spec = parse_yaml(path.read_text(encoding="utf-8"), path.name, "Column-mapping file", SchemaError)
        sibling = path.parent / "customers.csv" if (path.parent / "customers.csv").is_file() else None
        # like the contact tables' <name>.mapping.yaml: without 'source:' it maps the export beside it
        no_source = isinstance(spec, Mapping) and not spec.get("source")
        return read_customers(path, sibling if no_source else None)
    try:
        if suffix == ".parquet":
            df = pd.read_parquet(path)
        elif suffix in (".xlsx", ".xls"):
            df = pd.read_excel(path, dtype={"customer_id": str})
        else:
            df = pd.read_csv(path, dtype={"customer_id": str})
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(f"Customers file {path}: cannot be read ({' '.join(str(exc).split())[:200]}).") from None
    return validate_customers(df, label=path.name)


def find_customers(folder: str | Path) -> Path | None:
    """The customers file of a data folder, or None.

    Looks for ``customers.mapping.yaml`` (a column mapping whose ``source`` is the export), then
    ``customers.parquet``, ``customers.csv``, ``customers.xlsx``: the canonical tables' naming.
    """
    folder = Path(folder)
    for name in ("customers.mapping.yaml", "customers.parquet", "customers.csv", "customers.xlsx"):
        if (folder / name).is_file():
            return folder / name
    return None
