"""DuckDB SQL -> Spark SQL, for the panel engine's generated statements.

The panel engine (:mod:`kpilab.indicators.engine`) writes its views and
aggregations in DuckDB SQL, from the catalogue's definitions. The Spark back end
(:mod:`kpilab.indicators.spark_engine`) runs the *same* statements after this
module translates them: sqlglot (https://github.com/tobymao/sqlglot) parses the
DuckDB dialect and writes the Spark dialect, and the rewrites below fix the
constructs whose meaning sqlglot does not carry over (checked against DuckDB in
``tests/test_spark_engine.py``):

========================================  ==================================================
DuckDB                                    Spark
========================================  ==================================================
``epoch(t)`` (seconds, with fraction)     ``unix_micros(t) / 1e6`` (sqlglot's
                                          ``unix_timestamp`` drops the fraction)
``timezone('Zone', t)`` (UTC -> local)    ``from_utc_timestamp(t, 'Zone')``
``list(v ORDER BY v)``                    ``sort_array(collect_list(v))`` (both leave NULLs
                                          out of positions 1..n)
``xs[i]`` (1-based)                       ``element_at(xs, CAST(i AS INT))`` (1-based)
``COUNT(DISTINCT (a, b))`` (a row)        ``COUNT(DISTINCT struct(a, b))``
``row_number() OVER ()``                  ``monotonically_increasing_id()`` (a unique id)
``hash(x)`` (64 bit)                      ``xxhash64(x)``
``quantile_cont(v, q)``                   ``percentile(v, q)`` (both interpolate linearly)
``TIMESTAMP`` (naive)                     ``TIMESTAMP`` (the Spark session runs in UTC, so a
                                          naive value is its UTC reading)
``SELECT * EXCLUDE (a) FROM x``           the columns of ``x`` but ``a``
========================================  ==================================================
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["to_spark", "TranspileError"]


class TranspileError(ValueError):
    """A DuckDB statement that could not be written in Spark SQL."""


def _rewrite(node):  # noqa: ANN001, ANN202 - sqlglot nodes
    from sqlglot import exp

    if isinstance(node, exp.TimeToUnix):
        ts = exp.Cast(this=node.this, to=exp.DataType.build("TIMESTAMPTZ"))
        micros = exp.Anonymous(this="unix_micros", expressions=[ts])
        return exp.Div(this=exp.Cast(this=micros, to=exp.DataType.build("DOUBLE")),
                       expression=exp.Literal.number("1000000.0"))
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name == "timezone" and len(node.expressions) == 2:
            zone, t = node.expressions
            return exp.Anonymous(this="from_utc_timestamp", expressions=[t, zone])
        if name == "hash":
            return exp.Anonymous(this="xxhash64", expressions=list(node.expressions))
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg):
        # the FILTER belongs to the aggregate, inside the sort
        inner = node.this.this.this if isinstance(node.this.this, exp.Order) else node.this.this
        agg = exp.Filter(this=exp.Anonymous(this="collect_list", expressions=[inner]), expression=node.expression)
        return exp.Anonymous(this="sort_array", expressions=[agg])
    if isinstance(node, exp.ArrayAgg):
        inner = node.this.this if isinstance(node.this, exp.Order) else node.this
        return exp.Anonymous(this="sort_array", expressions=[exp.Anonymous(this="collect_list", expressions=[inner])])
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        idx = exp.Cast(this=node.expressions[0], to=exp.DataType.build("INT"))
        return exp.Anonymous(this="element_at", expressions=[node.this, idx])
    if isinstance(node, exp.Distinct) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Tuple):
        return exp.Distinct(expressions=[exp.Anonymous(this="struct", expressions=node.expressions[0].expressions)])
    if isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber) and not node.args.get("order") \
            and not node.args.get("partition_by"):
        return exp.Anonymous(this="monotonically_increasing_id", expressions=[])
    if isinstance(node, exp.PercentileCont) and not isinstance(node.parent, exp.WithinGroup):
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    if isinstance(node, exp.DataType) and node.this in (exp.DataType.Type.TIMESTAMPNTZ, exp.DataType.Type.TIMESTAMP):
        return exp.DataType.build("TIMESTAMPTZ")
    return node


def _except(star) -> list:  # noqa: ANN001
    # the key is "except" in older sqlglot releases, "except_" in newer ones
    return star.args.get("except_") or star.args.get("except") or []


def _expand_star_except(select, columns_of: Callable[[str], list[str]]) -> None:  # noqa: ANN001
    """``SELECT * EXCLUDE (a, b) FROM src`` -> the columns of ``src`` but a and b (Spark has no EXCLUDE)."""
    from sqlglot import exp

    stars = [e for e in select.expressions if isinstance(e, exp.Star) and _except(e)]
    if not stars:
        return
    src = select.args.get("from") or select.args.get("from_")
    if src is None or select.args.get("joins"):
        raise TranspileError("SELECT * EXCLUDE needs a single source to expand in Spark")
    source = src.this
    sql = source.this.sql(dialect="spark") if isinstance(source, exp.Subquery) else source.sql(dialect="spark")
    cols = columns_of(sql if isinstance(source, exp.Subquery) else f"SELECT * FROM {sql}")
    new = []
    for e in select.expressions:
        if isinstance(e, exp.Star) and _except(e):
            drop = {c.name.lower() for c in _except(e)}
            new += [exp.column(c, quoted=True) for c in cols if c.lower() not in drop]
        else:
            new.append(e)
    select.set("expressions", new)


def to_spark(sql: str, columns_of: Callable[[str], list[str]] | None = None) -> str:
    """Translate one DuckDB statement (a query) to Spark SQL.

    Parameters
    ----------
    sql : str
        A DuckDB ``SELECT`` statement as the panel engine writes it.
    columns_of : callable, optional
        ``columns_of(spark_sql_query) -> column names``; needed to expand ``* EXCLUDE``.

    Returns
    -------
    str
        The Spark SQL statement.

    Raises
    ------
    TranspileError
        sqlglot cannot parse the statement or write it in Spark SQL.
    """
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
        # inner selects first, so an outer * EXCLUDE sees the already-translated source
        tree = tree.transform(_rewrite)
        if columns_of is not None:
            for sel in reversed(list(tree.find_all(sqlglot.exp.Select))):
                _expand_star_except(sel, columns_of)
        return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise TranspileError(" ".join(str(exc).split())[:300]) from None
