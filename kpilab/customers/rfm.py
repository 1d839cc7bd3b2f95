"""RFM (recency, frequency, monetary) scores, the 8 high/low classes and the named segments.

Recency is measured from dated events (contacts or purchases). The Telco churn
sample has no event dates, so RFM is not computed on it: tenure measures how
long a customer has stayed, not how recently they were in touch, and using it
as recency would label long-standing customers "recent". Issue 15 defines
recency as days since the last contact or purchase; kpilab keeps that meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpilab.errors import DataError, InsufficientDataError, ParameterError, SchemaError

__all__ = ["rfm", "RFMResult", "rfm_score", "CLASS_NAMES", "SEGMENT_GRID"]

# (R high, F high, M high) -> class name, the 8-class scheme of the articles
CLASS_NAMES: dict[tuple[bool, bool, bool], str] = {
    (True, True, True): "important value",
    (True, False, True): "important development",
    (False, True, True): "important retention",
    (False, False, True): "important win-back",
    (True, True, False): "general value",
    (True, False, False): "general development",
    (False, True, False): "general retention",
    (False, False, False): "general win-back",
}

# The usual named segments on the recency x frequency grid of quintile scores (1-5).
SEGMENT_GRID: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("champions", (5,), (4, 5)),
    ("loyal", (3, 4), (4, 5)),
    ("potential loyalist", (4, 5), (2, 3)),
    ("new", (5,), (1,)),
    ("promising", (4,), (1,)),
    ("need attention", (3,), (3,)),
    ("about to sleep", (3,), (1, 2)),
    ("at risk", (1, 2), (3, 4)),
    ("cannot lose", (1, 2), (5,)),
    ("hibernating", (1, 2), (1, 2)),
)

CUSTOMER_COLUMNS = ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
                    "rfm_code", "r_high", "f_high", "m_high", "rfm_class", "segment", "churned"]
SUMMARY_COLUMNS = ["scheme", "group", "n_customers", "customer_share", "value", "value_share", "n_churned",
                   "churn_rate", "n_churn_known", "churn_ci_low", "churn_ci_high", "flag"]


def rfm_score(values: pd.Series, n_bins: int = 5, *, higher_is_better: bool = True) -> pd.Series:
    r"""Quantile score 1..``n_bins`` of each value, tied values sharing one score.

    Parameters
    ----------
    values : pandas.Series
        One value per customer (no missing values).
    n_bins : int, default 5
        Number of quantile classes (5: quintiles).
    higher_is_better : bool, default True
        False for recency (fewer days since the last contact scores higher).

    Returns
    -------
    pandas.Series of int
        The score, same index as ``values``.

    Notes
    -----
    With mid-ranks :math:`r_i` (ties get the average of their ranks) among
    :math:`n` customers,

    .. math::

       s_i = \min\left(k, \max\left(1, \left\lceil k\,\frac{r_i - 1/2}{n} \right\rceil\right)\right)

    Without ties this gives equal classes of :math:`n/k` customers. Tied
    customers always share a score (unlike ``qcut`` on ``rank(method="first")``,
    which splits them by row order), so with heavy ties (most customers have
    one contact) classes are unequal and some scores may be empty.
    """
    n = len(values)
    r = values.rank(method="average", ascending=higher_is_better)
    s = np.ceil(n_bins * (r - 0.5) / n).clip(1, n_bins)
    return s.astype(int)


@dataclass(frozen=True)
class RFMResult:
    """Result of :func:`rfm`.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer, columns ``customer_id, recency_days, frequency,
        monetary, r_score, f_score, m_score, rfm_code`` (e.g. ``"545"``),
        ``r_high, f_high, m_high`` (score above the mean score), ``rfm_class``
        (one of the 8 names of :data:`CLASS_NAMES`), ``segment`` (named
        segment of :data:`SEGMENT_GRID`; missing unless ``n_bins == 5``),
        ``churned`` (nullable boolean; missing without a customers table).
    as_of : pandas.Timestamp
        Reference time of recency.
    n_bins : int
        Number of quantile classes used.
    options : dict
        The other options used (``time_col``, ``value_col``, ``value_source``,
        ``min_n``) and what was left out: ``customers_without_events`` (customers
        of the customers table never seen in the events) and
        ``event_customers_unknown`` (event customers the table does not know;
        their churn status is missing).
    """

    customers: pd.DataFrame
    as_of: pd.Timestamp
    n_bins: int
    options: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Class and segment sizes, value shares and churn rates (tidy, long).

        Returns
        -------
        pandas.DataFrame
            Columns ``scheme`` (``"class"`` or ``"segment"``), ``group``,
            ``n_customers``, ``customer_share``, ``value`` (sum of monetary),
            ``value_share``, ``n_churned``, ``churn_rate`` (NaN without
            churn data), ``n_churn_known`` (customers with a known churn
            status, the rate's denominator), ``churn_ci_low``,
            ``churn_ci_high`` (Wilson interval, Wilson 1927) and ``flag``
            (``small_n`` below ``min_n`` customers with a known status).
            Every one of the 8 classes appears, empty ones with zeros and a
            NaN churn rate.
        """
        from kpilab.indicators.stats import wilson_interval

        df = self.customers
        total_n, total_v = len(df), df["monetary"].sum()
        has_churn = df["churned"].notna().any()
        rows = []
        schemes = [("class", "rfm_class", list(CLASS_NAMES.values()))]
        if df["segment"].notna().any():
            schemes.append(("segment", "segment", [s[0] for s in SEGMENT_GRID]))
        for scheme, col, groups in schemes:
            for g in groups:
                sub = df[df[col] == g]
                ch = sub["churned"].dropna().astype(bool)
                rows.append({
                    "scheme": scheme, "group": g, "n_customers": len(sub),
                    "customer_share": len(sub) / total_n,
                    "value": float(sub["monetary"].sum()),
                    "value_share": float(sub["monetary"].sum() / total_v) if total_v > 0 else np.nan,
                    "n_churned": int(ch.sum()) if has_churn else pd.NA,
                    "churn_rate": float(ch.mean()) if has_churn and len(ch) else np.nan,
                    "n_churn_known": len(ch) if has_churn else 0,
                    "churn_ci_low": float(wilson_interval(ch.sum(), len(ch))[0]) if has_churn else np.nan,
                    "churn_ci_high": float(wilson_interval(ch.sum(), len(ch))[1]) if has_churn else np.nan,
                    "flag": "small_n" if has_churn and len(ch) < self.options.get("min_n", 30) else "",
                })
        return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

    def summary(self) -> str:
        """A short text table of the 8 classes for people."""
        t = self.to_frame()
        t = t[t["scheme"] == "class"]
        left = self.options.get("customers_without_events", 0)
        lines = [f"RFM on {len(self.customers)} customers, {self.n_bins} quantile classes, as of "
                 f"{self.as_of:%Y-%m-%d}" + (f" ({left} customer(s) without events left out: no recency)"
                                             if left else ""),
                 f"{'class':<24}{'n':>7}{'share':>8}{'value':>8}{'churn':>8}"]
        for _, r in t.iterrows():
            churn = "" if pd.isna(r["churn_rate"]) else f"{r['churn_rate']:.1%}"
            lines.append(f"{r['group']:<24}{r['n_customers']:>7}{r['customer_share']:>8.1%}"
                         f"{r['value_share']:>8.1%}{churn:>8}")
        return "\n".join(lines)

    def report_markdown(self) -> str:
        """The RFM result in plain language for the client report (largest value class, churn contrast)."""
        from kpilab.formatting import format_count, format_share

        t = self.to_frame()
        t = t[(t["scheme"] == "class") & (t["n_customers"] > 0)]
        if t.empty:
            return "No customer could be placed in an RFM class."
        top = t.sort_values("value_share", ascending=False).iloc[0]
        text = (f"{format_count(len(self.customers))} customers are split into {len(t)} RFM classes (recency, "
                f"frequency and monetary value scored by {self.n_bins} quantiles). The class "
                f"**{top['group']}** holds {format_share(top['customer_share'])} of customers and "
                f"{format_share(top['value_share'])} of the value.")
        churn = t.dropna(subset=["churn_rate"])
        churn = churn[churn["flag"].fillna("") != "small_n"] if "flag" in churn else churn
        if len(churn) >= 2:
            hi, lo = churn.loc[churn["churn_rate"].idxmax()], churn.loc[churn["churn_rate"].idxmin()]
            text += (f" Churn ranges from {format_share(lo['churn_rate'])} ({lo['group']}) to "
                     f"{format_share(hi['churn_rate'])} ({hi['group']}); classes with fewer than "
                     f"{self.options.get('min_n', 30)} customers of known status are not compared.")
        return text

    def __str__(self) -> str:
        return self.summary()


def rfm(events: pd.DataFrame, customers: pd.DataFrame | None = None, *, time_col: str = "arrived_at",
        value_col: str | None = None, as_of: str | pd.Timestamp | None = None, n_bins: int = 5,
        min_match: float = 0.5, min_n: int = 30) -> RFMResult:
    r"""Recency, frequency and monetary value per customer, scored and classed.

    Parameters
    ----------
    events : pandas.DataFrame
        Dated events with ``customer_id`` and ``time_col`` (the ``contacts``
        table, or purchases). Rows without a customer id are ignored.
    customers : pandas.DataFrame, optional
        The ``customers`` table: gives ``monetary`` (``revenue``, else
        ``monthly_charges``) when ``value_col`` is None, and ``churned``.
        Customers without events are left out (they have no recency).
    time_col : str, default "arrived_at"
        Event time column.
    value_col : str, optional
        Event value column summed into ``monetary`` (purchases); None takes
        the value from ``customers``.
    as_of : timestamp, optional
        Reference time of recency; default the last event time.
    n_bins : int, default 5
        Quantile classes of each score (2 to 10).
    min_match : float, default 0.5
        Smallest share of event rows whose customer the customers table must know
        (:func:`kpilab.customers.table.match_customer_ids`).
    min_n : int, default 30
        Classes whose churn rate rests on fewer customers are flagged ``small_n``.

    Returns
    -------
    RFMResult
        ``.customers`` (one row per customer), ``.to_frame()`` (size, value
        share and churn rate per class and segment), ``.summary()``.

    Raises
    ------
    SchemaError
        A required column is missing.
    CustomerIdMismatchError
        Fewer than ``min_match`` of the event rows name a customer of ``customers`` (with counts).
    DataError
        No monetary value.
    InsufficientDataError
        Fewer customers than ``n_bins``.
    ParameterError
        ``n_bins`` outside 2..10.

    Notes
    -----
    For customer :math:`i` with event times :math:`t_{ij}` and values :math:`v_{ij}`,

    .. math::

       R_i = \lfloor (t_{\text{as of}} - \max_j t_{ij}) / 1\,\text{day} \rfloor,\quad
       F_i = \#\{j\},\quad M_i = \textstyle\sum_j v_{ij}

    (or the customer's revenue). Each is scored 1..k by :func:`rfm_score`
    (recency reversed: recent is high). A dimension is *high* when the
    customer's score is above the mean score of all customers, the rule of the
    8-class scheme (with quintiles and no ties, scores 4-5 are high); the
    classes cross the three high/low flags. Named segments use the recency x
    frequency grid of quintile scores (:data:`SEGMENT_GRID`), as in the usual
    RFM segment maps [2]_. Ties share a score (see :func:`rfm_score`).

    References
    ----------
    .. [1] Hughes, A. M. (1994). *Strategic Database Marketing*. Chicago: Probus.
    .. [2] Fader, P. S., Hardie, B. G. S., and Lee, K. L. (2005). "RFM and CLV:
       Using iso-value curves for customer base analysis." *Journal of
       Marketing Research* 42(4), 415-430.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"customer_id": list("aabbbcd"),
    ...                    "arrived_at": pd.to_datetime(["2025-01-01", "2025-01-30", "2025-01-10",
    ...                        "2025-01-20", "2025-01-31", "2025-01-05", "2025-01-15"]),
    ...                    "amount": [10, 10, 5, 5, 5, 100, 1]})
    >>> r = rfm(ev, value_col="amount", n_bins=2)
    >>> r.customers[["customer_id", "recency_days", "frequency", "monetary", "rfm_code"]]
      customer_id  recency_days  frequency  monetary rfm_code
    0           a             1          2      20.0      222
    1           b             0          3      15.0      221
    2           c            26          1     100.0      112
    3           d            16          1       1.0      111
    """
    if not isinstance(n_bins, int | np.integer) or isinstance(n_bins, bool) or not 2 <= n_bins <= 10:
        raise ParameterError(f"The 'n_bins' parameter of rfm must be an int in [2, 10]. Got {n_bins!r} instead.")
    for col in ("customer_id", time_col) + ((value_col,) if value_col else ()):
        if col not in events.columns:
            raise SchemaError(f"rfm: events have no column {col!r} (columns: {', '.join(map(str, events.columns))}).",
                              column=col)
    ev = events[events["customer_id"].notna()].copy()
    ev["customer_id"] = ev["customer_id"].astype(str)
    ev[time_col] = pd.to_datetime(ev[time_col])
    ref = pd.Timestamp(as_of) if as_of is not None else ev[time_col].max()
    if ref.tzinfo is None and ev[time_col].dt.tz is not None:
        ref = ref.tz_localize(ev[time_col].dt.tz)
    g = ev.groupby("customer_id", sort=True)
    out = pd.DataFrame({
        "recency_days": ((ref - g[time_col].max()) / pd.Timedelta(days=1)).apply(np.floor).astype(int),
        "frequency": g.size().astype(int),
    })
    if (out["recency_days"] < 0).any():
        raise ParameterError(f"The 'as_of' parameter of rfm must not precede the last event "
                             f"({ev[time_col].max()}). Got {ref} instead.")
    churned = pd.Series(pd.NA, index=out.index, dtype="boolean")
    source = value_col
    id_counts: dict = {}
    if customers is not None:
        cust = customers.assign(customer_id=customers["customer_id"].astype(str)).set_index("customer_id")
        from kpilab.customers.table import match_customer_ids

        id_counts = match_customer_ids(ev, customers, table="events", min_share=min_match)
        if "churned" in cust.columns:
            churned = cust["churned"].reindex(out.index).astype("boolean")
    if value_col:
        out["monetary"] = g[value_col].sum().astype(float)
    else:
        vcol = next((c for c in ("revenue", "monthly_charges") if customers is not None and c in customers.columns),
                    None)
        if vcol is None:
            raise DataError("rfm: no monetary value: give value_col (a value per event) or a customers table with "
                            "'revenue' or 'monthly_charges'.")
        out["monetary"] = cust[vcol].reindex(out.index).astype(float)
        source = f"customers.{vcol}"
        if out["monetary"].isna().any():
            n = int(out["monetary"].isna().sum())
            raise DataError(f"rfm: {n} customer(s) with events have no {vcol} in the customers table "
                            f"(e.g. {list(out.index[out['monetary'].isna()][:3])}).")
    if len(out) < n_bins:
        raise InsufficientDataError(f"rfm: {len(out)} customer(s) with events, fewer than n_bins={n_bins}.")
    out["r_score"] = rfm_score(out["recency_days"], n_bins, higher_is_better=False)
    out["f_score"] = rfm_score(out["frequency"], n_bins)
    out["m_score"] = rfm_score(out["monetary"], n_bins)
    out["rfm_code"] = (out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str))
    for d in "rfm":
        s = out[f"{d}_score"]
        out[f"{d}_high"] = s > s.mean()
    out["rfm_class"] = [CLASS_NAMES[(r, f, m)] for r, f, m in zip(out["r_high"], out["f_high"], out["m_high"],
                                                                   strict=True)]
    seg = pd.Series(None, index=out.index, dtype=object)
    if n_bins == 5:
        for name, rs, fs in SEGMENT_GRID:
            seg[out["r_score"].isin(rs) & out["f_score"].isin(fs)] = name
    out["segment"] = seg
    out["churned"] = churned
    out = out.reset_index()[CUSTOMER_COLUMNS]
    return RFMResult(customers=out, as_of=ref, n_bins=n_bins,
                     options={"time_col": time_col, "value_col": value_col, "value_source": source,
                              "min_n": min_n, "customers_without_events": id_counts.get("n_customers_without_events", 0),
                              "event_customers_unknown": id_counts.get("n_ids", 0) - id_counts.get("n_ids_matched", 0)})
