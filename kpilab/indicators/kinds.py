r"""Indicator kinds: one definition per kind of how a cell is computed, bounded, shrunk and pooled.

Every indicator has a *kind* (:data:`KINDS`). This module is the single place that says, for
each kind,

* which sufficient statistics the engine aggregates in SQL (:meth:`Kind.aggregates`);
* how a cell's value, numerator, denominator and interval follow from them (:meth:`Kind.cell`);
* how its agent cells are shrunk toward their team (:meth:`Kind.shrink`);
* how cells of several periods (or units) pool into one value, with its interval
  (:meth:`Kind.pool`).

The engine (:func:`kpilab.indicators.compute_panel`) and :func:`kpilab.panel.pool_periods` both
use it, so a panel cell and a pooled value can never disagree on what an indicator *is*.

Panel conventions (``value = scale * numerator / denominator`` for the ratio-like kinds):

============  ======================  ==============  ================================
kind          numerator               denominator     interval
============  ======================  ==============  ================================
proportion    successes :math:`k`     population n    Wilson score
mean          :math:`\sum x`          n               Student t
quantile      (none)                  n               exact order statistics
ratio         :math:`\sum` numerator  :math:`\sum` den  none
per_day       rows                    agent-days      none
count         rows                    (none)          none
nps           promoters - detractors  n               normal (SE of a difference)
============  ======================  ==============  ================================

``scale`` multiplies value and interval (NPS: 100, points; any kind: the definition's
``scale``). It is stored in the panel's optional ``scale`` column with the ``kind``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpilab._duckdb import quote_ident as _ident
from kpilab.indicators.stats import (
    _z,
    nps_interval,
    shrink_beta_binomial,
    shrink_normal,
    t_interval,
    t_quantile,
    wilson_interval,
)

__all__ = ["Kind", "KINDS", "CellStats", "get_kind", "pool_cells"]


@dataclass(frozen=True)
class CellStats:
    """Unscaled cell statistics of one indicator (one element per cell).

    ``var`` is the within-cell sample variance (means only; used by shrinkage).
    """

    value: np.ndarray
    numerator: np.ndarray
    denominator: np.ndarray
    n: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    var: np.ndarray


def _f(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b != 0, a / np.where(b != 0, b, 1), np.nan)


class Kind:
    """Base class; one subclass per kind. Subclasses are stateless singletons in :data:`KINDS`."""

    name: str = ""
    #: statistics the SQL aggregation produces (column suffixes ``<code>__<stat>``)
    stats_: tuple[str, ...] = ("n",)
    #: multiplies the definition's scale (NPS is in points: 100)
    base_scale: float = 1.0
    #: whether a cell has an interval at all (``no_ci`` flags cells where it is missing)
    has_interval: bool = False
    #: pooling label used in :attr:`kpilab.panel.PooledPanel.method`
    pooling: str = "pooled_ratio"
    #: whether a value exists per row (``value`` expression; NULL values are excluded with a reason)
    needs_value: bool = False

    # ----------------------------------------------------------------- SQL
    def aggregates(self, code: str, w: str, d: Any) -> list[str]:
        """SQL aggregate expressions (``... AS "<code>__<stat>"``) over the rows satisfying ``w``."""
        return [f"COUNT(*) FILTER (WHERE {w}) AS {_ident(code + '__n')}"]

    # ----------------------------------------------------------------- cells
    def cell(self, s: Mapping[str, np.ndarray], d: Any, level: float) -> CellStats:  # pragma: no cover
        raise NotImplementedError

    # ----------------------------------------------------------------- shrinkage
    def shrink(self, rows: pd.DataFrame, groups: pd.Series) -> tuple[np.ndarray, dict[str, int] | None]:
        """Shrunk values (scaled) of agent rows toward their group; default: no shrinkage."""
        return rows["value"].to_numpy(dtype=float), None

    # ----------------------------------------------------------------- pooling
    def pool(self, g: pd.DataFrame, level: float) -> pd.DataFrame:
        r"""Pool panel rows by ``unit_id``: value = scale * sum(numerator) / sum(denominator), no interval.

        ``g`` holds ``unit_id, value, numerator, denominator, n, ci_low, ci_high, scale``.
        Returns columns ``value, n, ci_low, ci_high`` indexed by ``unit_id``.
        """
        sums = g.groupby("unit_id")[["numerator", "denominator", "n"]].sum(min_count=1)
        scale = g.groupby("unit_id")["scale"].first()
        out = pd.DataFrame({"value": scale * _div(sums["numerator"].to_numpy(float),
                                                  sums["denominator"].to_numpy(float)),
                            "n": sums["n"]}, index=sums.index)
        out["ci_low"] = np.nan
        out["ci_high"] = np.nan
        return out


def _scaled_interval(lo: np.ndarray, hi: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = lo * scale, hi * scale
    neg = scale < 0
    return np.where(neg, hi, lo), np.where(neg, lo, hi)


class Proportion(Kind):
    r"""value = k / n; Wilson interval; beta-binomial shrinkage; pools :math:`\sum k / \sum n` with Wilson."""

    name = "proportion"
    stats_ = ("n", "k")
    has_interval = True

    def aggregates(self, code: str, w: str, d: Any) -> list[str]:
        return [f"COUNT(*) FILTER (WHERE {w}) AS {_ident(code + '__n')}",
                f"COUNT(*) FILTER (WHERE {w} AND ({d.condition})) AS {_ident(code + '__k')}"]

    def cell(self, s, d, level):
        n, k = _f(s["n"]), _f(s["k"])
        lo, hi = wilson_interval(k, n, level)
        return CellStats(_div(k, n), k, n, n, lo, hi, np.full(len(n), np.nan))

    def shrink(self, rows, groups):
        scale = rows["scale"].to_numpy(float)
        out, info = shrink_beta_binomial(rows["numerator"], rows["n"], groups, return_info=True)
        return out * scale, info

    def pool(self, g, level):
        out = super().pool(g, level)
        sums = g.groupby("unit_id")[["numerator", "denominator"]].sum(min_count=1).reindex(out.index)
        lo, hi = wilson_interval(sums["numerator"], sums["denominator"], level)
        scale = g.groupby("unit_id")["scale"].first().reindex(out.index).to_numpy(float)
        out["ci_low"], out["ci_high"] = _scaled_interval(lo, hi, scale)
        return out


class Mean(Kind):
    r"""value = :math:`\sum x / n`; t interval; normal-normal shrinkage; pools exactly.

    Pooling recovers each cell's sum of squares from its t interval at the panel's level,
    :math:`\sum x^2 = (n-1)s^2 + n\bar x^2` with :math:`s = h\sqrt n / t_{n-1,1-\alpha/2}`
    (:math:`h` the half-width; :math:`n = 1`: :math:`x^2`), then gives the t interval of the
    pooled sample. A cell with ``n > 1`` and no interval leaves the pooled interval NaN.
    """

    name = "mean"
    stats_ = ("n", "s", "ss")
    has_interval = True
    needs_value = True

    def aggregates(self, code, w, d):
        v = f"CAST(({d.value}) AS DOUBLE)"
        return [f"COUNT({v}) FILTER (WHERE {w}) AS {_ident(code + '__n')}",
                f"SUM({v}) FILTER (WHERE {w}) AS {_ident(code + '__s')}",
                f"SUM({v} * {v}) FILTER (WHERE {w}) AS {_ident(code + '__ss')}"]

    def cell(self, s, d, level):
        n, tot, ss = _f(s["n"]), _f(s["s"]), _f(s["ss"])
        with np.errstate(invalid="ignore", divide="ignore"):
            var = np.where(n > 1, np.maximum(ss - tot * tot / n, 0) / (n - 1), np.nan)
        lo, hi = t_interval(tot, ss, n, level)
        return CellStats(_div(tot, n), tot, n, n, lo, hi, var)

    def shrink(self, rows, groups):
        scale = rows["scale"].to_numpy(float)
        x = rows["value"].to_numpy(float) / scale
        out, info = shrink_normal(x, rows["_var"], rows["n"], groups, return_info=True)
        return out * scale, info

    def pool(self, g, level):
        out = super().pool(g, level)
        scale = g["scale"].to_numpy(float)
        n = g["denominator"].to_numpy(float)
        tot = g["numerator"].to_numpy(float)
        half = np.abs(g["ci_high"].to_numpy(float) - g["ci_low"].to_numpy(float)) / 2 / np.abs(scale)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = tot / n
            tq = t_quantile(0.5 + level / 2, np.where(n > 1, n - 1, np.nan))
            sd = half * np.sqrt(n) / tq
            ss = np.where(n > 1, (n - 1) * sd * sd + n * m * m, m * m)
        tmp = pd.DataFrame({"unit_id": g["unit_id"].to_numpy(), "s": tot, "ss": ss, "n": n})
        sums = tmp.groupby("unit_id")[["s", "ss", "n"]].sum(min_count=1).reindex(out.index)
        lo, hi = t_interval(sums["s"], sums["ss"], sums["n"], level)
        sc = g.groupby("unit_id")["scale"].first().reindex(out.index).to_numpy(float)
        out["ci_low"], out["ci_high"] = _scaled_interval(lo, hi, sc)
        return out


class Quantile(Kind):
    r"""Sample quantile (linear interpolation) of the cell's own rows; exact order-statistic interval.

    The interval is :math:`[x_{(l)}, x_{(u)}]` with ranks from
    :func:`kpilab.indicators.stats.quantile_order_ranks`; a bound that does not exist at the
    cell's ``n`` is NaN (flag ``no_ci``). Quantiles do not pool from summaries: pooling gives the
    n-weighted mean of the period quantiles, labelled as an approximation, with no interval.
    """

    name = "quantile"
    stats_ = ("n", "v", "lo", "hi")
    has_interval = True
    needs_value = True
    pooling = "n_weighted_mean (approximation: quantiles do not pool from summaries)"

    def aggregates(self, code, w, d):
        v = f"CAST(({d.value}) AS DOUBLE)"
        return [f"COUNT({v}) FILTER (WHERE {w}) AS {_ident(code + '__n')}",
                f"quantile_cont({v}, {float(d.quantile)!r}) FILTER (WHERE {w}) AS {_ident(code + '__v')}",
                f"list({v} ORDER BY {v}) FILTER (WHERE {w}) AS {_ident(code + '__xs')}"]

    def cell(self, s, d, level):
        n = _f(s["n"])
        nan = np.full(len(n), np.nan)
        value = np.where(n > 0, _f(s["v"]), np.nan)
        return CellStats(value, nan, n, n, _f(s["lo"]), _f(s["hi"]), nan)

    def pool(self, g, level):
        n = g["n"].fillna(0)
        w = n.where(n > 0, 1.0) if g["n"].notna().all() else pd.Series(1.0, index=g.index)
        tmp = pd.DataFrame({"unit_id": g["unit_id"], "wv": w * g["value"], "w": w, "n": g["n"]})
        agg = tmp.groupby("unit_id")[["wv", "w", "n"]].sum(min_count=1)
        return pd.DataFrame({"value": agg["wv"] / agg["w"], "n": agg["n"], "ci_low": np.nan, "ci_high": np.nan},
                            index=agg.index)


class Ratio(Kind):
    r"""value = :math:`\sum` numerator / :math:`\sum` denominator; no interval; pools the sums."""

    name = "ratio"
    stats_ = ("n", "num", "den")

    def aggregates(self, code, w, d):
        return [f"COUNT(*) FILTER (WHERE {w}) AS {_ident(code + '__n')}",
                f"SUM(CAST(({d.numerator}) AS DOUBLE)) FILTER (WHERE {w}) AS {_ident(code + '__num')}",
                f"SUM(CAST(({d.denominator}) AS DOUBLE)) FILTER (WHERE {w}) AS {_ident(code + '__den')}"]

    def cell(self, s, d, level):
        n, num, den = _f(s["n"]), _f(s["num"]), _f(s["den"])
        nan = np.full(len(n), np.nan)
        return CellStats(_div(num, den), num, den, n, nan, nan, nan)


class PerDay(Kind):
    r"""value = rows / agent-days with at least one row; no interval; pools the sums (days are disjoint)."""

    name = "per_day"
    stats_ = ("n", "days")

    def aggregates(self, code, w, d):
        w2 = f"{w} AND agent_id IS NOT NULL"
        return [f"COUNT(*) FILTER (WHERE {w2}) AS {_ident(code + '__n')}",
                f"COUNT(DISTINCT (agent_id, CAST(_t AS DATE))) FILTER (WHERE {w2}) AS {_ident(code + '__days')}"]

    @staticmethod
    def days_by_agent(code: str, w: str, period_start: str) -> str:
        """The ``__days`` aggregate for cells grouped by agent and period (one agent per group).

        Within one agent's period the agent-days are the distinct days since the period's first day
        ``period_start`` (0..91 for a quarter): one bit each of a 128-bit mask, OR-ed over the rows and
        counted, instead of ``COUNT(DISTINCT (agent_id, day))`` (which makes DuckDB materialise the
        rows and group them a second time). Equal to it when the group holds one agent and one period.
        """
        w2 = f"{w} AND agent_id IS NOT NULL"
        bit = f"(CAST(1 AS HUGEINT) << CAST(date_diff('day', {period_start}, CAST(_t AS DATE)) AS INTEGER))"
        return f"CAST(COALESCE(bit_count(bit_or({bit}) FILTER (WHERE {w2})), 0) AS BIGINT) AS {_ident(code + '__days')}"

    def cell(self, s, d, level):
        n, days = _f(s["n"]), _f(s["days"])
        nan = np.full(len(n), np.nan)
        return CellStats(_div(n, days), n, days, n, nan, nan, nan)


class Count(Kind):
    r"""value = number of rows; no interval; pools as the total :math:`\sum` value over the periods."""

    name = "count"
    pooling = "sum"

    def cell(self, s, d, level):
        n = _f(s["n"])
        nan = np.full(len(n), np.nan)
        return CellStats(n.copy(), n.copy(), nan, n, nan, nan, nan)

    def pool(self, g, level):
        agg = g.groupby("unit_id")[["value", "n"]].sum(min_count=1)
        return pd.DataFrame({"value": agg["value"], "n": agg["n"], "ci_low": np.nan, "ci_high": np.nan},
                            index=agg.index)


class NPS(Kind):
    r"""NPS = 100 (P - D) / n with the normal interval of a difference of multinomial shares.

    Pooling sums P - D and n. Its interval needs P and D separately; they are recovered from each
    cell's interval (:math:`p_P + p_D = n\,SE^2 + (p_P - p_D)^2`, with the unclipped side when the
    interval was clipped at +-100) and checked to be whole counts; when that fails for any cell of
    a unit (both sides clipped, or no interval) the pooled interval is NaN.
    """

    name = "nps"
    stats_ = ("n", "p", "d")
    base_scale = 100.0
    has_interval = True
    needs_value = True

    def aggregates(self, code, w, d):
        v = f"CAST(({d.value}) AS DOUBLE)"
        return [f"COUNT({v}) FILTER (WHERE {w}) AS {_ident(code + '__n')}",
                f"COUNT(*) FILTER (WHERE {w} AND {v} >= 9) AS {_ident(code + '__p')}",
                f"COUNT(*) FILTER (WHERE {w} AND {v} <= 6) AS {_ident(code + '__d')}"]

    def cell(self, s, d, level):
        n, p, dd = _f(s["n"]), _f(s["p"]), _f(s["d"])
        value, lo, hi = nps_interval(p, dd, n, level)  # points
        return CellStats(value / 100, p - dd, n, n, lo / 100, hi / 100, np.full(len(n), np.nan))

    @staticmethod
    def recover(g: pd.DataFrame, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Promoters and detractors of each row from its value, n and interval (NaN when not derivable)."""
        scale = g["scale"].to_numpy(float)
        n = g["denominator"].to_numpy(float)
        v = g["numerator"].to_numpy(float) / n
        lo = g["ci_low"].to_numpy(float) / scale
        hi = g["ci_high"].to_numpy(float) / scale
        lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
        eps = 1e-12
        lo_clip, hi_clip = lo <= -1 + eps, hi >= 1 - eps
        half = np.where(~lo_clip & ~hi_clip, (hi - lo) / 2,
                        np.where(lo_clip & ~hi_clip, hi - v, np.where(hi_clip & ~lo_clip, v - lo, np.nan)))
        z = _z(level)
        se = half / z
        a = n * se * se + v * v
        p, d = n * (a + v) / 2, n * (a - v) / 2
        pr, dr = np.round(p), np.round(d)
        good = (np.abs(p - pr) < 0.05) & (np.abs(d - dr) < 0.05) & (pr >= 0) & (dr >= 0) & (pr + dr <= n + 0.5)
        return np.where(good, pr, np.nan), np.where(good, dr, np.nan)

    def pool(self, g, level):
        out = super().pool(g, level)
        p, d = self.recover(g, level)
        tmp = pd.DataFrame({"unit_id": g["unit_id"].to_numpy(), "p": p, "d": d,
                            "n": g["denominator"].to_numpy(float)})
        sums = tmp.groupby("unit_id")[["p", "d", "n"]].sum(min_count=1).reindex(out.index)
        bad = tmp.assign(b=np.isnan(p)).groupby("unit_id")["b"].any().reindex(out.index).to_numpy()
        _, lo, hi = nps_interval(sums["p"], sums["d"], sums["n"], level)
        sc = g.groupby("unit_id")["scale"].first().reindex(out.index).to_numpy(float) / 100
        lo, hi = _scaled_interval(lo, hi, sc)
        out["ci_low"] = np.where(bad, np.nan, lo)
        out["ci_high"] = np.where(bad, np.nan, hi)
        return out


KINDS: dict[str, Kind] = {k.name: k for k in (Proportion(), Mean(), Quantile(), Ratio(), PerDay(), Count(), NPS())}


def get_kind(name: str) -> Kind:
    """The :class:`Kind` called ``name`` (KeyError naming the known kinds otherwise)."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown indicator kind {name!r}; known: {', '.join(KINDS)}") from None


def pool_cells(g: pd.DataFrame, kind: str, level: float = 0.95) -> pd.DataFrame:
    """Pool panel rows of one indicator by ``unit_id`` with the rule of its ``kind`` (see :meth:`Kind.pool`)."""
    return get_kind(kind).pool(g, level)
