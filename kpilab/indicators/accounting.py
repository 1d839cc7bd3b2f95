"""Row accounting: every input row is used or excluded with exactly one reason.

For each table: ``rows_read = rows_used + rows_excluded``. Reasons come from
the canonical-table contract (the same rules and wording as
:func:`kpilab.schema.validate_table`: ``missing <column>``, ``negative
<column>``, ``<late> before <early>``, ``answered without agent``,
``duplicate id``...) and from the panel itself (``outside the periods``,
``exempted``, ``survey for an unknown contact``, ``survey of an excluded
contact``, ``no contacts table to attribute the survey``). Rows kept inside a
``relax_target`` exemption window are counted as used and reported in a
``flagged`` row.

Rows of kind ``indicator_excluded`` (column ``indicator``) count *used* rows
left out of one indicator's population: ``missing talk_s`` (AHT, cost per
contact, talk time), ``unknown wait`` (average wait time of abandons whose
moment of abandonment is unknown), ``window not observed`` (repeat-contact FCR
and repeat rate when the follow-up window runs past the observed data),
``missing value``. They are not part of the table identity: a row can be used
by one indicator and left out of another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

__all__ = ["ACCOUNTING_COLUMNS", "build_accounting", "check_accounting"]

ACCOUNTING_COLUMNS = ["table", "indicator", "kind", "reason", "rows", "rows_read", "rows_used", "rows_excluded"]


def build_accounting(
    rows_read: Mapping[str, int],
    reason_counts: Mapping[str, pd.DataFrame],
    flagged: Mapping[str, int],
    indicator_excluded: Iterable[Mapping[str, object]] = (),
) -> pd.DataFrame:
    """Assemble the accounting table.

    Parameters
    ----------
    rows_read : {table: int}
        Rows in each input table.
    reason_counts : {table: DataFrame}
        Columns ``_reason`` (None = used) and ``_rows``.
    flagged : {table: int}
        Used rows inside relax_target exemption windows.
    indicator_excluded : iterable of mappings
        ``{table, indicator, reason, rows}``: used rows left out of one indicator.

    Returns
    -------
    DataFrame
        Columns :data:`ACCOUNTING_COLUMNS`: ``table``; ``indicator`` (empty except for
        ``indicator_excluded`` rows); ``kind`` (``used``, ``excluded``, ``flagged``,
        ``indicator_excluded``); ``reason``; ``rows``; and the table's ``rows_read``,
        ``rows_used``, ``rows_excluded`` repeated on each of its rows.
    """
    out = []
    for table, n_read in rows_read.items():
        counts = reason_counts.get(table, pd.DataFrame({"_reason": [], "_rows": []}))
        counts = counts.groupby(counts["_reason"].fillna("__used__"), dropna=False)["_rows"].sum()
        used = int(counts.get("__used__", 0))
        excluded = {str(r): int(v) for r, v in counts.items() if r != "__used__" and int(v) > 0}
        n_exc = sum(excluded.values())
        base = {"table": table, "indicator": "", "rows_read": int(n_read), "rows_used": used,
                "rows_excluded": n_exc}
        out.append({**base, "kind": "used", "reason": "", "rows": used})
        for reason, v in sorted(excluded.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append({**base, "kind": "excluded", "reason": reason, "rows": v})
        if flagged.get(table):
            out.append({**base, "kind": "flagged", "reason": "exempted (relax_target): kept, share in "
                        "exempted_share", "rows": int(flagged[table])})
        for e in indicator_excluded:
            if e["table"] == table and int(e["rows"]) > 0:
                out.append({**base, "indicator": str(e["indicator"]), "kind": "indicator_excluded",
                            "reason": str(e["reason"]), "rows": int(e["rows"])})
    df = pd.DataFrame(out, columns=ACCOUNTING_COLUMNS)
    return df.astype({"rows": "int64", "rows_read": "int64", "rows_used": "int64", "rows_excluded": "int64"})


def check_accounting(accounting: pd.DataFrame) -> bool:
    """True when, for every table, rows_read = rows_used + rows_excluded = used + sum of excluded reasons."""
    for _table, g in accounting.groupby("table"):
        first = g.iloc[0]
        if first.rows_read != first.rows_used + first.rows_excluded:
            return False
        if g.loc[g["kind"] == "used", "rows"].sum() != first.rows_used:
            return False
        if g.loc[g["kind"] == "excluded", "rows"].sum() != first.rows_excluded:
            return False
    return True
