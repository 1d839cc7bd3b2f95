"""Churn-warning accuracy: an indicator a manager can be scored on.

Last quarter's warnings (customers flagged at risk) are checked against this quarter's churn:
precision (share of warned customers who churned) and recall (share of churners who were warned),
each with its n and a Wilson interval, overall or per manager, team or tier.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilab.errors import DataError, ParameterError, SchemaError

__all__ = ["warning_accuracy", "ACCURACY_COLUMNS"]

ACCURACY_COLUMNS = ["group", "n_customers", "n_warned", "n_churned", "true_positives", "precision",
                    "precision_ci_low", "precision_ci_high", "recall", "recall_ci_low", "recall_ci_high", "flag"]


def _flag(s: pd.Series, name: str, table: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype(bool)
    txt = s.astype("string").str.strip().str.lower()
    out = txt.map({"true": True, "yes": True, "1": True, "1.0": True, "false": False, "no": False, "0": False,
                   "0.0": False})
    bad = out.isna() & s.notna()
    if bad.any():
        raise SchemaError(f"Table {table!r}, column {name!r}: {int(bad.sum())} value(s) are not yes/no "
                          f"(e.g. {list(s[bad].unique()[:3])}).", table=table, column=name, n_rows=int(bad.sum()))
    return out


def warning_accuracy(warnings: pd.DataFrame, outcomes: pd.DataFrame, *, warned: str = "warned",
                     risk: str = "churn_risk", threshold: float | None = None, churned: str = "churned",
                     by: str | None = None, level: float = 0.95, min_n: int = 30) -> pd.DataFrame:
    r"""Precision and recall of last quarter's churn warnings against this quarter's churn.

    Parameters
    ----------
    warnings : pandas.DataFrame
        Last quarter's warnings: ``customer_id`` (or ``id``, as ``kpilab churn score`` writes it)
        and either a yes/no column ``warned`` or a
        probability column ``risk`` with ``threshold`` (warned = risk >= threshold); optionally the
        ``by`` column (the manager or team who owned the warning).
    outcomes : pandas.DataFrame
        This quarter's outcome: ``customer_id`` and ``churned`` (yes/no).
    warned, risk, churned : str
        Column names.
    threshold : float, optional
        Risk at or above which a customer counts as warned (used when ``warned`` is absent).
    by : str, optional
        Group column of ``warnings`` (manager, team, tier): one row per group plus ``all``.
    level : float
        Confidence level of the Wilson intervals.
    min_n : int
        A precision or recall on fewer than ``min_n`` customers is flagged (``small_n_precision``,
        ``small_n_recall``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ACCURACY_COLUMNS`, one row per group (``all`` first): customers matched,
        warned, churned, true positives, precision and recall with their intervals (NaN when
        nothing was warned, or nobody churned). ``attrs["excluded"]`` counts warned customers with
        no outcome and outcome customers with no warning record (both left out).

    Raises
    ------
    SchemaError
        A column is missing or a yes/no column holds other values.
    ParameterError
        Neither ``warned`` nor ``risk`` with ``threshold``, or a threshold outside [0, 1].
    DataError
        No customer appears in both tables.

    Notes
    -----
    With :math:`TP` warned customers who churned, :math:`W` warned and :math:`C` churners,

    .. math::

       \text{precision} = TP / W, \qquad \text{recall} = TP / C,

    each with the Wilson score interval [1]_ on its own denominator (the customers it is a share
    of). A warning list can buy recall with a long list; reading the two together, with their n,
    keeps a manager from being scored on a list nobody could act on [2]_.

    References
    ----------
    .. [1] Wilson, E. B. (1927). "Probable inference, the law of succession, and statistical
       inference." *JASA* 22, 209-212.
    .. [2] Saito, T., and Rehmsmeier, M. (2015). "The precision-recall plot is more informative
       than the ROC plot when evaluating binary classifiers on imbalanced datasets." *PLoS ONE*
       10(3), e0118432.

    Examples
    --------
    >>> w = pd.DataFrame({"customer_id": list("abcdef"), "warned": [1, 1, 1, 0, 0, 0]})
    >>> o = pd.DataFrame({"customer_id": list("abcdef"), "churned": [1, 1, 0, 1, 0, 0]})
    >>> warning_accuracy(w, o, min_n=1)[["group", "precision", "recall"]].round(3)
      group  precision  recall
    0   all      0.667   0.667
    """
    from kpilab.indicators.stats import wilson_interval

    if "customer_id" not in warnings.columns and "id" in warnings.columns:  # the output of 'kpilab churn score'
        warnings = warnings.rename(columns={"id": "customer_id"})
    for tbl, df, cols in (("warnings", warnings, ["customer_id"] + ([by] if by else [])),
                          ("outcomes", outcomes, ["customer_id", churned])):
        miss = [c for c in cols if c not in df.columns]
        if miss:
            raise SchemaError(f"Table {tbl!r} has no column(s) {', '.join(map(repr, miss))} (columns: "
                              f"{', '.join(map(str, df.columns))}).", table=tbl, column=miss[0])
    w = warnings.assign(customer_id=warnings["customer_id"].astype(str))
    if warned in w.columns:
        w["_warned"] = _flag(w[warned], warned, "warnings")
        basis = f"column {warned!r}"
    elif risk in w.columns and threshold is not None:
        if not 0 <= threshold <= 1:
            raise ParameterError(f"The 'threshold' parameter of warning_accuracy must be in [0, 1]. Got {threshold!r}.")
        r = pd.to_numeric(w[risk], errors="coerce")
        w["_warned"] = (r >= threshold).where(r.notna())
        basis = f"{risk} >= {threshold:g}"
    else:
        raise ParameterError(f"warning_accuracy needs a yes/no column {warned!r} in the warnings, or a {risk!r} "
                             "column with threshold=...; got neither.")
    o = outcomes.assign(customer_id=outcomes["customer_id"].astype(str))
    o["_churned"] = _flag(o[churned], churned, "outcomes")
    for tbl, df in (("warnings", w), ("outcomes", o)):
        dup = df["customer_id"].duplicated()
        if dup.any():
            raise SchemaError(f"Table {tbl!r}: {int(dup.sum())} duplicated customer_id(s) (e.g. "
                              f"{list(df.loc[dup, 'customer_id'][:3])}); one row per customer.", table=tbl,
                              column="customer_id", n_rows=int(dup.sum()))
    m = w.merge(o[["customer_id", "_churned"]], on="customer_id", how="inner")
    m = m[m["_warned"].notna() & m["_churned"].notna()]
    if m.empty:
        raise DataError("warning_accuracy: no customer is in both the warnings and the outcomes (with known "
                        f"values); warnings e.g. {list(w['customer_id'][:3])}, outcomes e.g. "
                        f"{list(o['customer_id'][:3])}.")
    excluded = {"warned, no outcome": int((~w["customer_id"].isin(o["customer_id"]) & w["_warned"].eq(True)).sum()),
                "not warned, no outcome": int((~w["customer_id"].isin(o["customer_id"])
                                               & w["_warned"].eq(False)).sum()),
                "outcome, no warning record": int((~o["customer_id"].isin(w["customer_id"])).sum()),
                "unknown warning or outcome": int(len(w.merge(o[["customer_id"]], on="customer_id")) - len(m))}
    groups = [("all", m)] + ([(str(g), sub) for g, sub in m.groupby(by, sort=True)] if by else [])
    rows = []
    for g, sub in groups:
        wv, cv = sub["_warned"].astype(bool).to_numpy(), sub["_churned"].astype(bool).to_numpy()
        tp, nw, nc = int((wv & cv).sum()), int(wv.sum()), int(cv.sum())
        plo, phi = wilson_interval(tp, nw, level)
        rlo, rhi = wilson_interval(tp, nc, level)
        flags = [f for f, n in (("small_n_precision", nw), ("small_n_recall", nc)) if n < min_n]
        rows.append({"group": g, "n_customers": len(sub), "n_warned": nw, "n_churned": nc, "true_positives": tp,
                     "precision": tp / nw if nw else np.nan, "precision_ci_low": float(plo),
                     "precision_ci_high": float(phi), "recall": tp / nc if nc else np.nan,
                     "recall_ci_low": float(rlo), "recall_ci_high": float(rhi), "flag": ";".join(flags)})
    out = pd.DataFrame(rows, columns=ACCURACY_COLUMNS)
    out.attrs["excluded"] = excluded
    out.attrs["basis"] = basis
    return out
