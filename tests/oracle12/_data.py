"""Reading the canonical tables an operations function needs (folder or dict), rows with schema issues left out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kpilab.errors import DataError, SchemaError
from kpilab.schema import coerce_table, validate_table


def load(data: Any, names: Iterable[str], *, required: Iterable[str] = ()) -> dict[str, pd.DataFrame]:
    """``{name: DataFrame}`` for the tables in ``names`` that ``data`` has (a folder or a mapping).

    Rows that break the canonical table's row rules (the panel engine excludes them too) are
    dropped; structural problems raise :class:`~kpilab.errors.SchemaError`. A table named in
    ``required`` that is absent raises :class:`~kpilab.errors.DataError` naming it.
    """
    names, required = list(names), list(required)
    out: dict[str, pd.DataFrame] = {}
    if isinstance(data, Mapping):
        for name in names:
            if name in data and data[name] is not None:
                df = data[name]
                if isinstance(df, str | Path):
                    from kpilab.ingest import read_table

                    df = read_table(df, name)
                out[name] = coerce_table(df.copy(), name)
    elif isinstance(data, str | Path):
        from kpilab.ingest import find_tables, read_table

        found = find_tables(data)
        for name in names:
            if name in found:
                out[name] = read_table(found[name], name)
    else:
        raise SchemaError(f"data must be a folder of canonical tables or a dict of DataFrames, got "
                          f"{type(data).__name__}.")
    missing = [n for n in required if n not in out]
    if missing:
        raise DataError(f"Table(s) {', '.join(missing)} missing from {data if isinstance(data, str | Path) else 'data'}"
                        f": this analysis needs them (canonical names: {', '.join(missing)}.parquet or .csv).")
    for name, df in out.items():
        report = validate_table(df, name, strict=False)
        if not report.ok:
            out[name] = df.loc[~report.excluded_mask()].reset_index(drop=True)
    return out
