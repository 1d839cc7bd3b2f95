"""Service -> outcome at customer level: does a customer served well churn less?

:func:`customer_service` turns the contacts (and surveys) into one row per customer describing the
service received: first-contact resolution, waits, CSAT and the number of contacts, with the agent of
the first answered contact. :func:`service_link` fits a logistic regression of churn on those
measures with standard errors clustered by that agent and reports odds ratios with intervals: the
customer-level evidence behind the health review's outcome links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpilab.errors import DataError, InsufficientDataError, ParameterError, SchemaError

__all__ = ["customer_service", "service_link", "ServiceLinkResult", "SERVICE_COLUMNS", "COVARIATES",
           "ODDS_COLUMNS"]

#: service measures :func:`service_link` can use, with the unit of their odds ratio
COVARIATES = {
    "first_contact_resolved": "first answered contact resolved (yes vs no)",
    "mean_wait_min": "per minute of mean queue wait",
    "mean_csat": "per CSAT point (1-5)",
    "n_contacts": "per contact",
}
SERVICE_COLUMNS = ["customer_id", "agent_id", "n_contacts", "n_answered", "first_contact_resolved",
                   "mean_wait_min", "n_surveys", "mean_csat", "churned"]
ODDS_COLUMNS = ["term", "unit", "odds_ratio", "ci_low", "ci_high", "coef", "se", "z", "p_value", "n", "n_events",
                "n_clusters"]


def customer_service(contacts: pd.DataFrame, customers: pd.DataFrame, surveys: pd.DataFrame | None = None, *,
                     fcr_method: str = "repeat_contact", window_days: float = 7,
                     wait_channels: Sequence[str] | None = ("phone", "chat"), min_match: float = 0.5) -> pd.DataFrame:
    r"""One row per customer: the service received and whether the customer churned.

    Parameters
    ----------
    contacts : pandas.DataFrame
        The ``contacts`` table (``customer_id``, ``agent_id``, ``arrived_at``, ``answered_at``,
        ``abandoned``; ``resolved`` for ``fcr_method="agent_flag"``).
    customers : pandas.DataFrame
        The ``customers`` table with ``churned``.
    surveys : pandas.DataFrame, optional
        The ``surveys`` table (``contact_id``, ``csat``); without it ``mean_csat`` is missing.
    fcr_method : {"repeat_contact", "agent_flag"}
        ``repeat_contact`` (the framework's FCR): the customer's first answered contact was not
        followed by another contact of the customer within ``window_days``; missing when that
        window runs past the last contact in the data. ``agent_flag``: its ``resolved`` flag.
    window_days : float, default 7
        Repeat-contact window.
    wait_channels : list of str or None, default ("phone", "chat")
        Channels whose waits enter ``mean_wait_min`` (the framework's live channels: an e-mail
        waits hours and would swamp a phone wait of seconds); None takes every channel.
    min_match : float
        See :func:`kpilab.customers.table.match_customer_ids`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SERVICE_COLUMNS`, one row per customer of the customers table with at least
        one answered contact: ``agent_id`` (agent of the first answered contact, the cluster),
        ``n_contacts`` (all contacts, abandoned included), ``n_answered``,
        ``first_contact_resolved`` (1/0, NaN when unknown), ``mean_wait_min`` (mean wait of the
        answered contacts on ``wait_channels``, :math:`(\text{answered\_at} - \text{arrived\_at})/60`;
        NaN without one), ``n_surveys``,
        ``mean_csat`` (NaN without a survey), ``churned`` (1/0, NaN when unknown).
        ``attrs["accounting"]`` counts the customers left out and why.

    Raises
    ------
    SchemaError
        A needed column is missing.
    CustomerIdMismatchError
        The contacts' customer ids do not match the customers table.
    """
    from kpilab.customers.table import match_customer_ids, validate_customers

    if fcr_method not in ("repeat_contact", "agent_flag"):
        raise ParameterError("The 'fcr_method' parameter of customer_service must be 'repeat_contact' or "
                             f"'agent_flag'. Got {fcr_method!r} instead.")
    need = ["customer_id", "agent_id", "arrived_at", "answered_at", "abandoned"]
    need += ["resolved"] if fcr_method == "agent_flag" else []
    miss = [c for c in need if c not in contacts.columns]
    if miss:
        raise SchemaError(f"Table 'contacts' has no column(s) {', '.join(miss)}, needed for the customer-level "
                          "service measures.", table="contacts", column=miss[0])
    customers = validate_customers(customers)
    if "churned" not in customers.columns:
        raise SchemaError("Table 'customers' has no 'churned' column: the service -> churn link needs the outcome.",
                          table="customers", column="churned")
    match_customer_ids(contacts, customers, table="contacts", min_share=min_match)
    c = contacts[contacts["customer_id"].notna()].copy()
    c["customer_id"] = c["customer_id"].astype(str)
    c["arrived_at"] = pd.to_datetime(c["arrived_at"])
    c["answered_at"] = pd.to_datetime(c["answered_at"])
    c = c.sort_values(["customer_id", "arrived_at"], kind="mergesort")
    # the customer's next contact after each one (any channel, answered or not): a repeat
    c["_next"] = c.groupby("customer_id")["arrived_at"].shift(-1)
    answered = c[~c["abandoned"].fillna(False).astype(bool) & c["agent_id"].notna()].copy()
    answered["wait_min"] = (answered["answered_at"] - answered["arrived_at"]).dt.total_seconds() / 60
    first = answered.groupby("customer_id", sort=True).head(1).set_index("customer_id")
    live = answered if wait_channels is None or "channel" not in answered.columns else \
        answered[answered["channel"].isin(list(wait_channels))]
    if fcr_method == "agent_flag":
        fcr = first["resolved"].astype("boolean").astype("Float64").astype(float)
    else:
        window = pd.Timedelta(days=window_days)
        repeat = first["_next"].notna() & (first["_next"] - first["arrived_at"] <= window)
        observed = c["arrived_at"].max() - first["arrived_at"] >= window
        # no repeat seen but the window runs past the data: unknown, not resolved
        fcr = pd.Series(np.where(repeat, 0.0, np.where(observed, 1.0, np.nan)), index=first.index)
    out = pd.DataFrame({
        "agent_id": first["agent_id"].astype(str),
        "n_contacts": c.groupby("customer_id").size().reindex(first.index).astype(int),
        "n_answered": answered.groupby("customer_id").size().reindex(first.index).astype(int),
        "first_contact_resolved": fcr.reindex(first.index),
        "mean_wait_min": live.groupby("customer_id")["wait_min"].mean().reindex(first.index),
    })
    if surveys is not None and len(surveys) and "csat" in surveys.columns:
        sv = surveys[["contact_id", "csat"]].dropna().astype({"contact_id": str}).merge(
            answered[["contact_id", "customer_id"]].astype({"contact_id": str}), on="contact_id")
        gs = sv.groupby("customer_id")["csat"]
        out["n_surveys"] = gs.size().reindex(first.index).fillna(0).astype(int)
        out["mean_csat"] = gs.mean().reindex(first.index)
    else:
        out["n_surveys"], out["mean_csat"] = 0, np.nan
    cust = customers.assign(customer_id=customers["customer_id"].astype(str)).set_index("customer_id")
    known = pd.Index(cust.index.to_numpy(dtype=object), dtype=object).get_indexer(
        out.index.to_numpy(dtype=object)) >= 0  # hash lookup; Arrow-string isin loops in Python
    out = out[known]
    out["churned"] = cust["churned"].reindex(out.index).astype("Float64").astype(float)
    out = out.reset_index()[SERVICE_COLUMNS]
    out.attrs["accounting"] = {
        "customers": len(cust),
        "no answered contact": int(len(cust) - len(out)),
        "with service measures": int(len(out)),
    }
    return out


@dataclass(frozen=True)
class ServiceLinkResult:
    """Result of :func:`service_link`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per covariate (intercept excluded), columns :data:`ODDS_COLUMNS`: ``odds_ratio =
        exp(coef)`` for the covariate's ``unit``, its interval ``exp(coef +- z se)`` with the
        cluster-robust ``se``, the Wald ``z`` and ``p_value``, ``n`` customers, ``n_events`` churners
        and ``n_clusters`` agents.
    accounting : pandas.DataFrame
        ``reason, customers``: customers used and left out (no answered contact, churn unknown, a
        covariate missing).
    notices : list of str
        Covariates dropped for low coverage, few clusters, few events per covariate.
    model : object
        The fitted ``statsmodels`` Logit results.
    options : dict
        ``covariates, cluster, level, min_coverage``.
    """

    table: pd.DataFrame
    accounting: pd.DataFrame
    notices: list = field(default_factory=list)
    model: object = None
    options: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The odds-ratio table."""
        return self.table

    def summary(self) -> str:
        """Odds ratios with intervals, for people."""
        t = self.table
        lvl = self.options.get("level", 0.95)
        lines = [f"Churn on service received: logistic regression, {int(t['n'].iloc[0]):,} customers, "
                 f"{int(t['n_events'].iloc[0]):,} churned, errors clustered by {self.options.get('cluster')} "
                 f"({int(t['n_clusters'].iloc[0])} clusters); odds ratios with {lvl:.0%} intervals"]
        for r in t.itertuples():
            lines.append(f"  {r.term:<24} OR {r.odds_ratio:6.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]  p={r.p_value:.3g}"
                         f"  ({r.unit})")
        lines += [f"  note: {n}" for n in self.notices]
        return "\n".join(lines)

    def report_markdown(self) -> str:
        """The odds ratios whose interval excludes 1, in plain language, for the client report."""
        from kpilab.formatting import format_count, format_number

        t = self.table
        if t.empty:
            return "The service -> churn model could not be fitted."
        lvl = round(float(self.options.get("level", 0.95)) * 100)
        clear = t[(t["ci_low"] > 1) | (t["ci_high"] < 1)]
        lead = (f"Across {format_count(t['n'].iloc[0])} customers ({format_count(t['n_events'].iloc[0])} churned), "
                "a logistic regression of churn on the service received, with errors clustered by agent, ")
        if clear.empty:
            return lead + f"finds no service measure clearly linked to churn (every {lvl} % interval includes an odds ratio of 1)."
        items = [f"{r.term.replace('_', ' ')} (odds ratio {format_number(r.odds_ratio, 2)} per {r.unit}, "
                 f"{lvl} % interval {format_number(r.ci_low, 2)} to {format_number(r.ci_high, 2)})"
                 for r in clear.itertuples()]
        return (lead + "links churn to " + "; ".join(items) + ". An odds ratio below 1 means less churn. This "
                "is an association across customers, not a controlled experiment.")

    def __str__(self) -> str:
        return self.summary()


def service_link(service: pd.DataFrame, *, covariates: Sequence[str] | None = None, cluster: str = "agent_id",
                 level: float = 0.95, min_coverage: float = 0.5, min_clusters: int = 20) -> ServiceLinkResult:
    r"""Logistic regression of churn on the service a customer received, errors clustered by agent.

    Parameters
    ----------
    service : pandas.DataFrame
        :func:`customer_service` output (or any frame with ``churned``, the covariates and
        ``cluster``).
    covariates : list of str, optional
        Among :data:`COVARIATES`. None: each of them known for at least ``min_coverage`` of the
        customers (CSAT is often answered by a minority; using it would silently restrict the model
        to surveyed customers) and not constant; the dropped ones are named in the notices.
    cluster : str, default "agent_id"
        Cluster column (the agent of the first answered contact).
    level : float
        Confidence level of the odds-ratio intervals.
    min_coverage : float
        Coverage threshold of the automatic covariate choice.
    min_clusters : int
        Fewer clusters than this are flagged: cluster-robust errors are too small with few clusters.

    Returns
    -------
    ServiceLinkResult

    Raises
    ------
    InsufficientDataError
        The outcome has one class among the customers used, or fewer customers than covariates + 2.
    DataError
        A covariate separates churners perfectly (the logistic MLE does not exist).
    SchemaError
        ``churned``, ``cluster`` or a covariate is not a column.

    Notes
    -----
    The model is :math:`\operatorname{logit} P(\text{churn}_i) = \beta_0 + \sum_k \beta_k x_{ik}`,
    fitted by maximum likelihood (``statsmodels`` ``Logit``). The covariance is the cluster-robust
    sandwich [1]_ with clusters :math:`g` (agents),

    .. math::

       \hat V = \frac{G}{G-1}\frac{N-1}{N-K}\,(X'WX)^{-1}\Big(\sum_g X_g' u_g u_g' X_g\Big)(X'WX)^{-1},

    :math:`u_i = y_i - \hat p_i` (statsmodels' small-sample correction). Odds ratio
    :math:`e^{\hat\beta_k}` with interval :math:`e^{\hat\beta_k \pm z_{1-\alpha/2}\,\widehat{se}_k}`.
    Customers served by the same agent share that agent's manner and skill, so their outcomes are
    not independent; clustering keeps the intervals honest. The association is observational:
    customers with harder problems wait longer and are resolved less often [2]_.

    References
    ----------
    .. [1] Cameron, A. C., and Miller, D. L. (2015). "A practitioner's guide to cluster-robust
       inference." *Journal of Human Resources* 50(2), 317-372.
    .. [2] Hosmer, D. W., Lemeshow, S., and Sturdivant, R. X. (2013). *Applied Logistic Regression*,
       3rd ed. Wiley (odds ratios of continuous covariates, events per variable).
    """
    import statsmodels.api as sm
    from scipy import stats

    for col in ("churned", cluster):
        if col not in service.columns:
            raise SchemaError(f"service_link: column {col!r} is missing (columns: {', '.join(service.columns)}).",
                              column=col)
    notices: list[str] = []
    acc = dict(service.attrs.get("accounting", {}))
    df = service[service["churned"].notna()]
    n_unknown = len(service) - len(df)
    if covariates is None:
        covs = []
        for k in COVARIATES:
            if k not in df.columns:
                continue
            cov = df[k].notna().mean() if len(df) else 0.0
            if cov < min_coverage:
                notices.append(f"{k} left out: known for {cov:.0%} of the customers (< {min_coverage:.0%}); pass "
                               f"covariates=[..., {k!r}] to fit on that subset.")
            elif df[k].nunique(dropna=True) < 2:
                notices.append(f"{k} left out: constant.")
            else:
                covs.append(k)
    else:
        covs = list(covariates)
        bad = [k for k in covs if k not in df.columns]
        if bad:
            raise SchemaError(f"service_link: covariate column(s) {', '.join(map(repr, bad))} missing "
                              f"(known: {', '.join(COVARIATES)}).", column=bad[0])
    if not covs:
        raise InsufficientDataError("service_link: no covariate left (see the notices: " + " ".join(notices) + ").")
    rows = {"used": 0}
    keep = df[covs + [cluster]].notna().all(axis=1)
    for k in covs + [cluster]:
        miss = df[k].isna() & df[covs + [cluster]].notna().drop(columns=k).all(axis=1)
        if miss.any():
            rows[f"missing {k}"] = int(miss.sum())
    several = int((df[covs + [cluster]].isna().sum(axis=1) > 1).sum())
    if several:
        rows["missing several covariates"] = several
    d = df[keep]
    rows["used"] = len(d)
    accounting = pd.DataFrame([{"reason": k, "customers": v} for k, v in acc.items()]
                              + [{"reason": "churn unknown", "customers": n_unknown}]
                              + [{"reason": k, "customers": v} for k, v in rows.items()])
    y = d["churned"].astype(float).to_numpy()
    if len(d) < len(covs) + 2 or len(np.unique(y)) < 2:
        one = "" if len(d) == 0 else f"; all {len(d)} are {'churned' if y.mean() == 1 else 'retained'}"
        raise InsufficientDataError(f"service_link: {len(d)} customer(s) with every covariate, {int(y.sum())} "
                                    f"churned{one if len(np.unique(y)) < 2 else ''}: a churn model needs churners and "
                                    "non-churners and more customers than covariates.")
    X = sm.add_constant(d[covs].astype(float).to_numpy(), has_constant="add")
    groups = pd.factorize(d[cluster].astype(str))[0]
    n_cl = int(groups.max() + 1)
    if n_cl < min_clusters:
        notices.append(f"only {n_cl} {cluster} clusters (< {min_clusters}): cluster-robust intervals are too "
                       "narrow with few clusters; read them with care.")
    epv = min(y.sum(), len(y) - y.sum()) / len(covs)
    if epv < 10:
        notices.append(f"{epv:.1f} events per covariate (< 10): estimates may be unstable (Hosmer et al. 2013).")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", category=sm.tools.sm_exceptions.PerfectSeparationWarning)
        try:
            fit = sm.Logit(y, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups}, maxiter=200)
        except (sm.tools.sm_exceptions.PerfectSeparationError, sm.tools.sm_exceptions.PerfectSeparationWarning,
                np.linalg.LinAlgError) as exc:
            raise DataError(f"service_link: the model cannot be fitted ({exc}); a covariate separates churners "
                            "perfectly or covariates are collinear. Drop it or pass fewer covariates.") from None
    z = stats.norm.ppf(0.5 + level / 2)
    b, se = np.asarray(fit.params)[1:], np.asarray(fit.bse)[1:]
    table = pd.DataFrame({"term": covs, "unit": [COVARIATES.get(k, "per unit") for k in covs],
                          "odds_ratio": np.exp(b), "ci_low": np.exp(b - z * se), "ci_high": np.exp(b + z * se),
                          "coef": b, "se": se, "z": b / se, "p_value": np.asarray(fit.pvalues)[1:],
                          "n": len(d), "n_events": int(y.sum()), "n_clusters": n_cl}, columns=ODDS_COLUMNS)
    return ServiceLinkResult(table=table, accounting=accounting, notices=notices, model=fit,
                             options={"covariates": covs, "cluster": cluster, "level": level,
                                      "min_coverage": min_coverage})
