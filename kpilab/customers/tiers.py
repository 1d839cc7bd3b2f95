"""Customer value tiers with their own service targets: assignment, a per-tier panel, scoring.

A framework's ``customer_tiers:`` lists tiers in priority order, each with a rule (RFM class,
segment, value quantile, an explicit column, or the rest) and targets. :func:`assign_tiers` gives
every customer the first tier whose rule it meets. :func:`tier_panel` splits the canonical tables
by the tier of each row's customer and runs :func:`kpilab.indicators.compute_panel` once per tier at
centre level, relabelled ``unit_level = "tier"``, ``unit_id = <tier>``: the tier's indicators are
those of all its customers' contacts, with the same definitions, intervals and row accounting as
every other panel. :func:`score_tiers` compares each tier's values with its own targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import DataError, FrameworkError, ParameterError, SchemaError
from kpilab.framework import CUSTOMER_MEASURES, CustomerTier, Framework, load_framework

__all__ = ["assign_tiers", "tier_panel", "TierPanelResult", "tier_customer_measures", "score_tiers",
           "TierScores", "TARGET_COLUMNS", "NO_TIER"]

NO_TIER = "no customer tier"
ASSIGN_COLUMNS = ["customer_id", "tier", "rule"]
SIZE_COLUMNS = ["tier", "n_customers", "customer_share", "value", "value_share", "n_churned", "churn_rate"]
MEASURE_COLUMNS = ["tier", "measure", "value", "n", "ci_low", "ci_high", "flag"]
TARGET_COLUMNS = ["tier", "indicator", "period", "value", "n", "ci_low", "ci_high", "target_min", "target_max",
                  "target_source", "met", "status", "flag"]
# tables split by the tier of their customer; the others (agents, exemptions) go whole to every tier
_SPLIT = ("contacts", "surveys", "qa_reviews", "tickets")


def _framework(framework: Framework | str | Path | Mapping[str, Any] | None) -> Framework:
    return framework if isinstance(framework, Framework) else load_framework(framework)


def _tiers_of(tiers: Framework | Sequence[CustomerTier]) -> list[CustomerTier]:
    out = list(tiers.customer_tiers) if isinstance(tiers, Framework) else list(tiers)
    if not out:
        raise FrameworkError("The framework has no 'customer_tiers:'; add tiers with a rule and targets "
                             "(see data/framework_customer_tiers_example.yaml).")
    return out


def _value_column(customers: pd.DataFrame, column: str | None) -> str:
    if column is not None:
        return column
    for c in ("revenue", "monthly_charges"):
        if c in customers.columns:
            return c
    raise SchemaError("customers: a 'by: value_quantile' tier needs 'revenue' or 'monthly_charges' (or name a "
                      "column in the rule).", table="customers", column="revenue")


def _rule_text(t: CustomerTier, customers: pd.DataFrame) -> str:
    r = t.rule
    if r.by in ("segment", "rfm_class"):
        return f"{r.by} in {', '.join(r.values or [])}"
    if r.by == "rest":
        return "every other customer"
    col = _value_column(customers, r.column) if r.by == "value_quantile" else r.column
    if r.values:
        return f"{col} in {', '.join(r.values)}"
    what = f"{col} quantile" if r.by == "value_quantile" else col
    lo = "" if r.min is None else f"{r.min:g} <= "
    hi = "" if r.max is None else (f" < {r.max:g}" if r.by == "value_quantile" and r.max < 1 else f" <= {r.max:g}")
    return f"{lo}{what}{hi}"


def assign_tiers(customers: pd.DataFrame, tiers: Framework | Sequence[CustomerTier], *,
                 rfm_classes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Give each customer the first tier (in framework order) whose rule it meets.

    Parameters
    ----------
    customers : pandas.DataFrame
        The ``customers`` table (:func:`kpilab.customers.validate_customers`).
    tiers : Framework or list of CustomerTier
        The tiers (``framework.customer_tiers``).
    rfm_classes : pandas.DataFrame, optional
        ``customer_id`` and ``rfm_class`` (``RFMResult.customers``); needed by ``by: rfm_class`` rules.
        Customers without an RFM class (no contact) do not meet such a rule.

    Returns
    -------
    pandas.DataFrame
        One row per customer, columns ``customer_id``, ``tier`` (None when no tier's rule holds and
        there is no ``by: rest`` tier) and ``rule`` (the rule that placed it, as text).

    Raises
    ------
    SchemaError
        A rule names a column the customers table lacks.
    ParameterError
        A ``by: rfm_class`` rule without ``rfm_classes``.

    Notes
    -----
    ``value_quantile`` bounds are empirical quantiles :math:`Q(q)` of the value column over the
    customers with a value (``numpy.quantile``, linear interpolation): a customer with value
    :math:`v` meets ``[min, max]`` when :math:`Q(\\text{min}) \\le v < Q(\\text{max})`, the upper
    bound included when ``max = 1``. Explicit ``column`` bounds include both ends.
    """
    tl = _tiers_of(tiers)
    ids = customers["customer_id"].astype(str).reset_index(drop=True)
    tier = pd.Series(None, index=ids.index, dtype=object)
    rule = pd.Series(None, index=ids.index, dtype=object)
    for t in tl:
        r = t.rule
        if r.by == "rest":
            hit = pd.Series(True, index=ids.index)
        elif r.by == "segment":
            if "segment" not in customers.columns:
                raise SchemaError(f"customer_tiers ({t.tier}): rule 'by: segment' but the customers table has no "
                                  "segment column.", table="customers", column="segment")
            seg = customers["segment"].reset_index(drop=True)
            hit = seg.astype(str).isin(r.values or []) & seg.notna()
        elif r.by == "rfm_class":
            if rfm_classes is None:
                raise ParameterError(f"customer_tiers ({t.tier}): rule 'by: rfm_class' needs the RFM classes; pass "
                                     "rfm_classes=rfm(contacts, customers).customers.")
            cls = rfm_classes.assign(customer_id=rfm_classes["customer_id"].astype(str)).set_index("customer_id")
            hit = ids.map(cls["rfm_class"]).isin(r.values or []).fillna(False)
        else:
            col = _value_column(customers, r.column) if r.by == "value_quantile" else r.column
            if col not in customers.columns:
                raise SchemaError(f"customer_tiers ({t.tier}): rule column {col!r} is not in the customers table "
                                  f"(columns: {', '.join(map(str, customers.columns[:10]))}).", table="customers",
                                  column=col)
            v = customers[col].reset_index(drop=True)
            if r.values:
                hit = v.astype(str).isin(r.values) & v.notna()
            else:
                x = pd.to_numeric(v, errors="coerce").astype(float)
                if x.notna().sum() == 0:
                    raise SchemaError(f"customer_tiers ({t.tier}): column {col!r} has no numeric value.",
                                      table="customers", column=col)
                lo, hi = r.min, r.max
                if r.by == "value_quantile":
                    q = x.dropna().to_numpy()
                    lo_v = -np.inf if lo is None else float(np.quantile(q, lo))
                    hi_v = np.inf if hi is None or hi == 1 else float(np.quantile(q, hi))
                    hit = (x >= lo_v) & ((x < hi_v) if hi is not None and hi < 1 else x.notna())
                else:
                    hit = x.notna() & (x >= (-np.inf if lo is None else lo)) & (x <= (np.inf if hi is None else hi))
        new = hit.to_numpy(bool) & tier.isna().to_numpy()
        tier[new] = t.tier
        rule[new] = _rule_text(t, customers)
    tier = tier.astype(object).where(tier.notna(), None)
    rule = rule.astype(object).where(rule.notna(), None)
    out = pd.DataFrame({"customer_id": ids, "tier": tier, "rule": rule}, columns=ASSIGN_COLUMNS)
    out.attrs["tiers"] = [t.tier for t in tl]  # framework order, empty tiers included
    return out


def tier_customer_measures(customers: pd.DataFrame, assignment: pd.DataFrame, *, level: float = 0.95,
                           min_n: int = 30) -> tuple[pd.DataFrame, pd.DataFrame]:
    r"""Size, value share and churn of each tier, and the customer measures tier targets may name.

    Parameters
    ----------
    customers : pandas.DataFrame
        The ``customers`` table; ``churned`` and a ``churn_risk`` column (from ``kpilab churn
        score``) are used when present.
    assignment : pandas.DataFrame
        :func:`assign_tiers` output.
    level : float
        Confidence level of the intervals.
    min_n : int
        Measures on fewer customers are flagged ``small_n``.

    Returns
    -------
    sizes : pandas.DataFrame
        Columns ``tier, n_customers, customer_share, value, value_share, n_churned, churn_rate``
        (value = revenue, else monthly charges; NaN without one).
        ``churn_risk`` intervals are clipped to [0, 1] (a mean of probabilities).
    measures : pandas.DataFrame
        Columns ``tier, measure, value, n, ci_low, ci_high, flag``: ``churn_rate`` (share churned,
        Wilson interval) and ``churn_risk`` (mean predicted risk, Student-t interval).

    Notes
    -----
    Wilson (1927) for proportions, Student (1908) for means, as in the panel
    (:func:`kpilab.indicators.stats.wilson_interval`, :func:`~kpilab.indicators.stats.t_interval`).
    """
    from kpilab.indicators.stats import t_interval, wilson_interval

    df = customers.assign(customer_id=customers["customer_id"].astype(str)).merge(
        assignment[["customer_id", "tier"]], on="customer_id", how="left")
    df["tier"] = df["tier"].fillna(NO_TIER)
    vcol = next((c for c in ("revenue", "monthly_charges") if c in df.columns), None)
    total_v = float(df[vcol].sum()) if vcol else np.nan
    sizes, measures = [], []
    seen = list(dict.fromkeys(assignment["tier"].dropna()))
    tiers = list(assignment.attrs.get("tiers", seen)) + [t for t in seen if t not in assignment.attrs.get("tiers", [])]
    order = tiers + ([NO_TIER] if (df["tier"] == NO_TIER).any() else [])
    for t in order:
        sub = df[df["tier"] == t]
        churn = sub["churned"].dropna().astype(bool) if "churned" in sub.columns else pd.Series([], dtype=bool)
        v = float(sub[vcol].sum()) if vcol else np.nan
        sizes.append({"tier": t, "n_customers": len(sub), "customer_share": len(sub) / len(df), "value": v,
                      "value_share": v / total_v if vcol and total_v > 0 else np.nan,
                      "n_churned": int(churn.sum()), "churn_rate": float(churn.mean()) if len(churn) else np.nan})
        if len(churn):
            lo, hi = wilson_interval(churn.sum(), len(churn), level)
            measures.append({"tier": t, "measure": "churn_rate", "value": float(churn.mean()), "n": len(churn),
                             "ci_low": float(lo), "ci_high": float(hi)})
        if "churn_risk" in sub.columns:
            r = pd.to_numeric(sub["churn_risk"], errors="coerce").dropna()
            if len(r):
                lo, hi = np.clip(t_interval(r.sum(), (r ** 2).sum(), len(r), level), 0, 1)  # a mean probability
                measures.append({"tier": t, "measure": "churn_risk", "value": float(r.mean()), "n": len(r),
                                 "ci_low": float(lo), "ci_high": float(hi)})
    m = pd.DataFrame(measures, columns=MEASURE_COLUMNS)
    m["flag"] = np.where(m["n"] < min_n, "small_n", "")
    return pd.DataFrame(sizes, columns=SIZE_COLUMNS), m


@dataclass(frozen=True)
class TierPanelResult:
    """Result of :func:`tier_panel`.

    Attributes
    ----------
    panel : pandas.DataFrame
        Long panel (:data:`kpilab.panel.PANEL_COLUMNS` and the optional columns), ``unit_level =
        "tier"``, ``unit_id`` the tier.
    accounting : pandas.DataFrame
        Row accounting (:data:`kpilab.indicators.ACCOUNTING_COLUMNS`) of the whole input: per split
        table the tiers' used and excluded rows summed, plus rows with no tier, excluded with the
        reason ``no customer tier (...)``; ``rows_read = rows_used + rows_excluded``.
    assignment : pandas.DataFrame
        :func:`assign_tiers` output.
    sizes, measures : pandas.DataFrame
        :func:`tier_customer_measures` output.
    notices : list of str
        What was skipped or worth knowing (each tier's panel notices prefixed with the tier).
    params : dict
        Options used.
    """

    panel: pd.DataFrame
    accounting: pd.DataFrame
    assignment: pd.DataFrame
    sizes: pd.DataFrame
    measures: pd.DataFrame
    notices: list = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The tier panel."""
        return self.panel

    def summary(self) -> str:
        """Tier sizes and the row accounting, for people."""
        lines = [f"Tier panel: {self.panel['unit_id'].nunique()} tiers, {self.panel['indicator'].nunique()} "
                 f"indicators, period={self.params.get('period')}, {len(self.panel):,} cells"]
        for r in self.sizes.itertuples():
            churn = "" if pd.isna(r.churn_rate) else f", churn {r.churn_rate:.1%}"
            share = "" if pd.isna(r.value_share) else f", value share {r.value_share:.1%}"
            lines.append(f"  {r.tier}: {r.n_customers:,} customers ({r.customer_share:.1%}){share}{churn}")
        lines.append("Row accounting:")
        for table, g in self.accounting.groupby("table", sort=False):
            f = g.iloc[0]
            lines.append(f"  {table}: read {f.rows_read:,} = used {f.rows_used:,} + excluded {f.rows_excluded:,}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _load(data: Any) -> dict[str, pd.DataFrame]:
    from kpilab.ingest import load_tables

    if isinstance(data, str | Path):
        return load_tables(data)
    if isinstance(data, Mapping):
        out = {}
        for k, v in data.items():
            if k == "customers":
                continue
            if not isinstance(v, pd.DataFrame):
                raise DataError(f"tier_panel: table {k!r} must be a DataFrame when data is a dict (or pass a folder).")
            out[k] = v
        return out
    raise DataError(f"tier_panel: data must be a folder of canonical tables or a dict of DataFrames, got "
                    f"{type(data).__name__}.")


def _split(tables: dict[str, pd.DataFrame], cust_tier: pd.Series) -> tuple[dict[str, pd.Series], dict[str, str]]:
    """Tier of each row of the split tables (NaN: no tier) and, per table, why rows have none."""
    c = tables["contacts"]
    cid = c["customer_id"].astype("string")
    contact_tier = cid.map(cust_tier).astype(object)
    by_row = {"contacts": contact_tier}
    why = {"contacts": "no customer id, or a customer not in the customers table or in no tier"}
    ct = pd.Series(contact_tier.to_numpy(), index=c["contact_id"].astype(str))
    ct = ct[~ct.index.duplicated(keep="first")]
    for name in ("surveys", "qa_reviews"):
        if name in tables:
            by_row[name] = tables[name]["contact_id"].astype(str).map(ct)
            why[name] = "the contact has no customer tier (or is unknown)"
    if "tickets" in tables:
        t = tables["tickets"]
        by_row["tickets"] = (t["customer_id"].astype("string").map(cust_tier).astype(object)
                             if "customer_id" in t.columns else pd.Series(np.nan, index=t.index, dtype=object))
        why["tickets"] = "no customer id, or a customer not in the customers table or in no tier"
    return by_row, why


def _combine_accounting(parts: list[pd.DataFrame], unsplit: dict[str, pd.DataFrame],
                        no_tier: dict[str, int], why: dict[str, str], order: list[str]) -> pd.DataFrame:
    from kpilab.indicators.accounting import ACCOUNTING_COLUMNS

    rows = []
    for table in order:
        if table in unsplit:  # given whole to every tier: its accounting is the same in each run
            rows.append(unsplit[table])
            continue
        g = pd.concat([p[p["table"] == table] for p in parts], ignore_index=True) if parts else pd.DataFrame(
            columns=ACCOUNTING_COLUMNS)
        agg = (g.groupby(["kind", "reason", "indicator"], sort=False, dropna=False)["rows"].sum().reset_index()
               if len(g) else pd.DataFrame(columns=["kind", "reason", "indicator", "rows"]))
        used = int(agg.loc[agg["kind"] == "used", "rows"].sum())
        if not (agg["kind"] == "used").any():
            agg = pd.concat([pd.DataFrame([{"kind": "used", "reason": "", "indicator": "", "rows": 0}]), agg])
        if no_tier.get(table):
            agg = pd.concat([agg, pd.DataFrame([{"kind": "excluded", "reason": f"{NO_TIER} ({why[table]})",
                                                 "indicator": "", "rows": no_tier[table]}])], ignore_index=True)
        excluded = int(agg.loc[agg["kind"] == "excluded", "rows"].sum())
        agg = agg.assign(table=table, rows_read=used + excluded, rows_used=used, rows_excluded=excluded)
        rank = agg["kind"].map({"used": 0, "excluded": 1, "flagged": 2, "indicator_excluded": 3})
        agg = agg.assign(_r=rank, _n=-agg["rows"]).sort_values(["_r", "_n"], kind="mergesort")
        rows.append(agg[ACCOUNTING_COLUMNS])
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=ACCOUNTING_COLUMNS)
    return out.astype({"rows": "int64", "rows_read": "int64", "rows_used": "int64", "rows_excluded": "int64"})


def tier_panel(data: Any, customers: pd.DataFrame, framework: Framework | str | Path | Mapping[str, Any] | None
               = None, *, period: str = "month", indicators: Sequence[str] | None = None,
               rfm_classes: pd.DataFrame | None = None, start: Any = None, end: Any = None,
               min_n: int | None = None, level: float = 0.95, min_match: float = 0.5) -> TierPanelResult:
    """Indicator panel per customer tier (``unit_level = "tier"``).

    Parameters
    ----------
    data : folder or dict of DataFrames
        The canonical tables (``contacts`` with ``customer_id`` required).
    customers : pandas.DataFrame
        The ``customers`` table.
    framework : Framework, path, mapping or None
        Framework with ``customer_tiers`` (and the indicator definitions); default framework when None.
    period : {"day", "week", "month", "quarter"}
        Panel period.
    indicators : list of str, optional
        Indicator codes; default every indicator a tier target names (else the framework's).
    rfm_classes : pandas.DataFrame, optional
        RFM classes for ``by: rfm_class`` rules; computed from the contacts when needed and not given.
    start, end, min_n, level :
        As in :func:`kpilab.indicators.compute_panel`.
    min_match : float, default 0.5
        Smallest share of contacts (with a customer id) whose customer the customers table must know
        (:func:`kpilab.customers.table.match_customer_ids`).

    Returns
    -------
    TierPanelResult

    Raises
    ------
    CustomerIdMismatchError
        The contacts' customer ids do not match the customers table (with counts).
    FrameworkError
        No ``customer_tiers`` in the framework.
    DataError, SchemaError
        No contacts table, no ``customer_id`` column, or no tier with data.

    Notes
    -----
    Each tier's panel is :func:`kpilab.indicators.compute_panel` on the rows of its customers at
    centre level; surveys and QA reviews follow their contact, tickets their customer, agents and
    exemptions go whole to every tier. A customer's contacts all fall in one tier, so repeat-contact
    FCR sees the same follow-ups as in the full panel, except that the observed end of the data is
    each tier's last contact (reported when it is more than a day before the overall last contact).
    """
    from kpilab.customers.table import match_customer_ids, validate_customers
    from kpilab.indicators import compute_panel

    fw = _framework(framework)
    tl = _tiers_of(fw)
    tables = _load(data)
    if "contacts" not in tables:
        raise DataError("tier_panel: no contacts table; tiers are computed from the contacts of their customers.")
    if "customer_id" not in tables["contacts"].columns:
        raise SchemaError("Table 'contacts' has no customer_id column: contacts cannot be given a customer tier.",
                          table="contacts", column="customer_id")
    customers = validate_customers(customers)
    counts = match_customer_ids(tables["contacts"], customers, table="contacts", min_share=min_match)
    notices: list[str] = []
    if counts["n_rows_matched"] < counts["n_rows"]:
        notices.append(f"contacts: {counts['n_rows'] - counts['n_rows_matched']:,} of {counts['n_rows']:,} rows with "
                       "a customer id name a customer not in the customers table (no tier).")
    if rfm_classes is None and any(t.rule.by == "rfm_class" for t in tl):
        from kpilab.customers.rfm import rfm

        rfm_classes = rfm(tables["contacts"], customers).customers
        notices.append("RFM classes computed from the contacts (recency and frequency of contacts, monetary "
                       "value from the customers table) for the 'by: rfm_class' tier rule(s).")
    assignment = assign_tiers(customers, tl, rfm_classes=rfm_classes)
    n_none = int(assignment["tier"].isna().sum())
    if n_none:
        notices.append(f"{n_none:,} customer(s) meet no tier rule (add a 'by: rest' tier to cover them).")
    if indicators is None:
        named = [c for t in tl for c in t.targets if c not in CUSTOMER_MEASURES]
        indicators = list(dict.fromkeys(named)) or None
    cust_tier = assignment.set_index("customer_id")["tier"].dropna()
    by_row, why = _split(tables, cust_tier)
    order = [t for t in ("contacts", "surveys", "qa_reviews", "tickets", "agents", "exemptions") if t in tables]
    order += [t for t in tables if t not in order]
    no_tier = {t: int(s.isna().sum()) for t, s in by_row.items()}
    overall_last = pd.to_datetime(tables["contacts"]["arrived_at"]).max()
    panels, parts, unsplit = [], [], {}
    for t in tl:
        sub = {name: (df[(by_row[name] == t.tier).to_numpy()].reset_index(drop=True) if name in by_row else df)
               for name, df in tables.items()}
        if sub["contacts"].empty:
            notices.append(f"tier {t.tier}: no contacts; no panel rows.")
            for name in by_row:
                parts.append(_empty_accounting(name, len(sub[name])))
            continue
        try:
            res = compute_panel(sub, period=period, unit="centre", framework=fw, indicators=indicators,
                                min_n=min_n, start=start, end=end, level=level, shrinkage=False)
        except DataError as exc:
            notices.append(f"tier {t.tier}: no panel ({exc}).")
            for name in by_row:
                parts.append(_empty_accounting(name, len(sub[name])))
            continue
        last = pd.to_datetime(sub["contacts"]["arrived_at"]).max()
        if overall_last - last > pd.Timedelta(days=1):
            notices.append(f"tier {t.tier}: its last contact is {(overall_last - last).days} day(s) before the data's "
                           "last contact; repeat-contact windows near the end are censored earlier for it.")
        notices += [f"tier {t.tier}: {n}" for n in res.notices]
        panels.append(res.panel.assign(unit_id=t.tier, unit_level="tier"))
        acc = res.accounting
        parts.append(acc[acc["table"].isin(list(by_row))])
        for name in tables:
            if name not in by_row and name not in unsplit:
                unsplit[name] = acc[acc["table"] == name]
    if not panels:
        raise DataError(f"tier_panel: no tier has panel rows ({'; '.join(notices[-3:])}).")
    for name in tables:  # an unsplit table seen by no successful tier run: all its rows read, none used
        if name not in by_row and name not in unsplit:
            unsplit[name] = _empty_accounting(name, len(tables[name]))
    accounting = _combine_accounting(parts, unsplit, no_tier, why, order)
    for table, n in ((t, len(df)) for t, df in tables.items()):
        got = int(accounting.loc[accounting["table"] == table, "rows_read"].iloc[0])
        if got != n:  # pragma: no cover - invariant
            raise DataError(f"tier_panel: row accounting for {table!r} does not add up ({got} counted, {n} read).")
    sizes, measures = tier_customer_measures(customers, assignment, level=level,
                                             min_n=int(min_n if min_n is not None else fw.min_n))
    panel = pd.concat(panels, ignore_index=True)
    params = {"period": period, "tiers": [t.tier for t in tl], "indicators": sorted(panel["indicator"].unique()),
              "start": None if start is None else str(start), "end": None if end is None else str(end), "level": level,
              "min_match": min_match, "framework": fw.name, "id_match": counts}
    return TierPanelResult(panel=panel, accounting=accounting, assignment=assignment, sizes=sizes,
                           measures=measures, notices=notices, params=params)


def _empty_accounting(table: str, n: int) -> pd.DataFrame:
    from kpilab.indicators.accounting import build_accounting

    counts = pd.DataFrame({"_reason": ["no panel for this tier"], "_rows": [n]}) if n else None
    return build_accounting({table: n}, {table: counts} if counts is not None else {}, {})


@dataclass(frozen=True)
class TierScores:
    """Result of :func:`score_tiers`.

    Attributes
    ----------
    targets : pandas.DataFrame
        One row per tier, target and period (customer measures: period empty), columns
        :data:`TARGET_COLUMNS`. ``met`` compares the value with the target; ``status`` is ``met`` or
        ``missed`` when the whole confidence interval lies on one side of the target, ``not settled``
        when the interval straddles it (or there is no interval), ``no data`` without a value.
    """

    targets: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The target table."""
        return self.targets

    def by_tier(self) -> pd.DataFrame:
        """Per tier on the latest period of each target: ``tier, n_targets, n_met, share_met, n_missed,
        n_not_settled, n_no_data`` (met/missed by the interval, see :attr:`targets`)."""
        t = self.targets
        if t.empty:
            return pd.DataFrame(columns=["tier", "n_targets", "n_met", "share_met", "n_missed", "n_not_settled",
                                         "n_no_data"])
        last = t.sort_values("period", kind="mergesort").groupby(["tier", "indicator"], sort=False).tail(1)
        last = last.assign(tier=pd.Categorical(last["tier"], categories=list(dict.fromkeys(t["tier"]))))
        g = last.groupby("tier", sort=True, observed=True)
        out = pd.DataFrame({"n_targets": g.size(), "n_met": g["met"].apply(lambda s: int(s.eq(True).sum())),
                            "n_missed": g["status"].apply(lambda s: int((s == "missed").sum())),
                            "n_not_settled": g["status"].apply(lambda s: int((s == "not settled").sum())),
                            "n_no_data": g["status"].apply(lambda s: int((s == "no data").sum()))}).reset_index()
        out.insert(3, "share_met", out["n_met"] / out["n_targets"])
        return out

    def summary(self) -> str:
        """Targets met per tier (latest period) for people."""
        lines = ["Customer tiers against their own targets (latest period; met/missed = whole 95 % interval):"]
        for r in self.by_tier().itertuples():
            lines.append(f"  {r.tier}: {r.n_met} of {r.n_targets} targets met by value ({r.n_missed} missed, "
                         f"{r.n_not_settled} not settled, {r.n_no_data} without data)")
        return "\n".join(lines)

    def report_markdown(self) -> str:
        """Targets met per tier in plain language for the client report."""
        bt = self.by_tier()
        if bt.empty:
            return "No tier target could be checked."
        parts = [f"{r.tier}: {r.n_met} of {r.n_targets} targets met" + (
            f", {r.n_missed} missed" if r.n_missed else "") + (
            f", {r.n_not_settled} not settled" if r.n_not_settled else "") for r in bt.itertuples()]
        return ("Each value tier is held to its own service targets (latest period; a target counts as met or "
                "missed only when its whole 95 % interval lies on one side): " + "; ".join(parts) + ".")

    def __str__(self) -> str:
        return self.summary()


def score_tiers(result: TierPanelResult, framework: Framework | str | Path | Mapping[str, Any] | None = None
                ) -> TierScores:
    """Score each tier against its own targets (``customer_tiers[k].targets``).

    Parameters
    ----------
    result : TierPanelResult
        From :func:`tier_panel`.
    framework : Framework, path, mapping or None
        The framework with the tiers (the default framework when None).

    Returns
    -------
    TierScores
        ``.targets`` (one row per tier, target and period) and ``.by_tier()``.

    Notes
    -----
    A target ``{min: a}`` is met when the value :math:`v \\ge a`, ``{max: b}`` when :math:`v \\le b`.
    The interval decides the status: ``met`` when :math:`[l, u]` lies inside the target range,
    ``missed`` when it lies wholly outside, else ``not settled`` (the same reading as the confirmed
    and possible alerts of :func:`kpilab.operations.threshold_alerts`).
    """
    fw = _framework(framework)
    rows = []
    panel = result.panel
    meas = result.measures
    for t in _tiers_of(fw):
        for code, tgt in t.targets.items():
            if code in CUSTOMER_MEASURES:
                sub = meas[(meas["tier"] == t.tier) & (meas["measure"] == code)]
                cells = [(("", r.value, r.n, r.ci_low, r.ci_high, r.flag)) for r in sub.itertuples()]
            else:
                sub = panel[(panel["unit_id"] == t.tier) & (panel["indicator"] == code)]
                cells = [(r.period, r.value, r.n, r.ci_low, r.ci_high, r.flag) for r in sub.itertuples()]
            if not cells:
                cells = [("", np.nan, 0, np.nan, np.nan, "no data")]
            for period, v, n, lo, hi, flag in cells:
                lo_t = -np.inf if tgt.min is None else tgt.min
                hi_t = np.inf if tgt.max is None else tgt.max
                if pd.isna(v):
                    met, status = None, "no data"
                else:
                    met = bool(lo_t <= v <= hi_t)
                    if pd.notna(lo) and pd.notna(hi) and lo_t <= lo and hi <= hi_t:
                        status = "met"
                    elif pd.notna(lo) and pd.notna(hi) and (hi < lo_t or lo > hi_t):
                        status = "missed"
                    else:
                        status = "not settled"
                rows.append({"tier": t.tier, "indicator": code, "period": period, "value": v, "n": n,
                             "ci_low": lo, "ci_high": hi, "target_min": tgt.min, "target_max": tgt.max,
                             "target_source": tgt.source, "met": met, "status": status,
                             "flag": "" if pd.isna(flag) else flag})
    return TierScores(targets=pd.DataFrame(rows, columns=TARGET_COLUMNS))
