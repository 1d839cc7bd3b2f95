r"""Daily stratified QA sampling plans with Horvitz-Thompson weights.

The articles: supervisors review 5 % of the day's recordings, stratified, against the script.
:func:`qa_sample` draws a reproducible stratified random sample of one day's answered contacts
(strata such as agent x channel), with proportional allocation and a per-agent minimum, or
Neyman allocation by the past spread of QA scores. Every sampled contact carries its sampling
``weight`` = 1 / inclusion probability, so the weights of a day's sample add up to that day's
answered contacts and a weighted mean of the QA scores is unbiased for the day's mean
(Horvitz-Thompson [1]_). :meth:`QASample.margins` tells a supervisor what that rate buys: the
expected margin of error of each agent's monthly QA score.

References
----------
.. [1] Horvitz, D. G. and Thompson, D. J. (1952). A generalization of sampling without replacement
   from a finite universe. *JASA* 47(260), 663-685.
.. [2] Neyman, J. (1934). On the two different aspects of the representative method. *Journal of
   the Royal Statistical Society* 97(4), 558-625.
.. [3] Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., Wiley, chapter 5 (stratified random
   sampling, proportional and optimum allocation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from kpilab._validation import Interval, Options, check_params
from kpilab.errors import DataError, ParameterError
from kpilab.operations._data import _ts, open_tables

__all__ = ["QASample", "qa_sample", "ht_estimate", "SAMPLE_COLUMNS", "PLAN_COLUMNS", "MARGIN_COLUMNS"]

SAMPLE_COLUMNS = ["contact_id", "agent_id", "stratum", "inclusion_probability", "weight"]
PLAN_COLUMNS = ["stratum", "population", "sample", "inclusion_probability", "weight", "score_sd", "note"]
MARGIN_COLUMNS = ["agent_id", "contacts_today", "reviews_today", "days_per_month", "reviews_per_month",
                  "score_sd", "margin_points"]
_AGENT_COLUMNS = ("team", "role", "site")
DEFAULT_SCORE_SD = 10.0  # QA points, used when there is no review history


def _largest_remainder(quota: np.ndarray, total: int) -> np.ndarray:
    """Integers summing to ``total`` that round ``quota`` (Hamilton's method)."""
    base = np.floor(quota).astype(int)
    rest = total - base.sum()
    if rest > 0:
        order = np.argsort(-(quota - base), kind="stable")
        base[order[:rest]] += 1
    return base


def ht_estimate(scores: pd.Series, sample: pd.DataFrame, plan: pd.DataFrame, *, level: float = 0.95
                ) -> dict[str, float]:
    r"""Horvitz-Thompson estimate of the day's mean QA score from a scored sample.

    Parameters
    ----------
    scores : pandas.Series
        QA scores indexed by ``contact_id`` (sampled contacts without a score are left out, which
        biases the estimate if reviews are skipped selectively; ``n_missing`` counts them).
    sample, plan : pandas.DataFrame
        :attr:`QASample.sample` and :attr:`QASample.plan`.
    level : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    dict
        ``mean``, ``se``, ``ci_low``, ``ci_high``, ``n``, ``n_missing``, ``population``.

    Notes
    -----
    With :math:`N` contacts in strata of sizes :math:`N_h` and :math:`n_h` sampled by simple random
    sampling without replacement, the weight of a sampled contact is :math:`w_i = N_h/n_h = 1/\pi_i` and

    .. math::
        \hat{\bar Y} = \frac{1}{N}\sum_{i \in s} w_i y_i,\qquad
        \widehat{V} = \sum_h \Big(\frac{N_h}{N}\Big)^2 \Big(1 - \frac{n_h}{N_h}\Big) \frac{s_h^2}{n_h}.

    A stratum with a single scored contact has no :math:`s_h^2`; it uses the pooled within-stratum
    variance of the others.

    References
    ----------
    .. [1] Horvitz and Thompson (1952), *JASA* 47(260), 663-685.
    .. [2] Cochran (1977), *Sampling Techniques*, eq. 5.7.
    """
    s = sample[["contact_id", "stratum", "weight"]].copy()
    s["y"] = s["contact_id"].map(scores)
    n_missing = int(s["y"].isna().sum())
    s = s.dropna(subset=["y"])
    pop = plan.set_index("stratum")["population"]
    big_n = float(pop.sum())
    g = s.groupby("stratum")["y"]
    n_h, var_h = g.size(), g.var(ddof=1)
    with_var = n_h[n_h >= 2]
    pooled = (float(((with_var - 1) * var_h[with_var.index]).sum() / (with_var - 1).sum())
              if len(with_var) else np.nan)
    var_h = var_h.fillna(pooled)
    n_pop = pop.loc[n_h.index].astype(float)
    # strata whose sampled contacts all lack scores are reweighted onto the scored ones in the same stratum only
    mean = float((n_pop * g.mean()).sum() / n_pop.sum())
    v = float((((n_pop / n_pop.sum()) ** 2) * (1 - n_h / n_pop) * var_h / n_h).sum())
    se = math.sqrt(v) if v >= 0 else np.nan
    z = float(norm.ppf(0.5 + level / 2))
    return {"mean": mean, "se": se, "ci_low": mean - z * se, "ci_high": mean + z * se, "n": int(len(s)),
            "n_missing": n_missing, "population": big_n}


@dataclass(frozen=True, slots=True, kw_only=True)
class QASample:
    """A day's QA sampling plan and sample (:func:`qa_sample`).

    Attributes
    ----------
    sample : pandas.DataFrame
        One row per sampled contact: ``contact_id``, ``agent_id``, ``stratum``, the strata columns,
        ``inclusion_probability`` and ``weight`` (= 1 / inclusion probability; the weights add up to
        the day's answered contacts).
    plan : pandas.DataFrame
        One row per stratum (:data:`PLAN_COLUMNS`): ``population`` (answered contacts that day),
        ``sample`` (contacts drawn), ``inclusion_probability``, ``weight``, ``score_sd`` (past QA score
        SD used by Neyman allocation and the margins), ``note`` (``census`` when every contact of the
        stratum is reviewed; ``collapsed`` for a stratum merged from strata too small for one review
        at this rate, e.g. ``A0001 | (other)``).
    agent_margins : pandas.DataFrame
        :data:`MARGIN_COLUMNS`, see :meth:`margins`.
    params : dict
        The options used (``date``, ``rate``, ``strata``, ``min_per_agent``, ``allocation``, ``seed``,
        ``level``) and ``population`` and ``sample_size``.
    """

    sample: pd.DataFrame
    plan: pd.DataFrame
    agent_margins: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    def margins(self) -> pd.DataFrame:
        r"""Expected margin of error of each agent's QA score over a month at this plan.

        ``reviews_per_month`` = reviews today x the agent's working days per month (days with
        answered contacts in the 28 days before the date, scaled to 30.4 days; 21 when unknown);
        ``margin_points`` = :math:`z\,s/\sqrt{m}` with :math:`s` the agent's past within-agent QA score
        SD (the centre's pooled SD when the agent has fewer than 5 past reviews, 10 points without any
        history).
        """
        return self.agent_margins.copy()

    def summary(self) -> str:
        """Two lines for people."""
        p = self.params
        m = self.agent_margins["margin_points"]
        return (f"QA sample for {p['date']}: {p['sample_size']} of {p['population']} answered contacts "
                f"({p['sample_size'] / p['population']:.1%}; rate {p['rate']:.1%}, {p['allocation']} allocation, "
                f"strata {'x'.join(p['strata']) or 'none'}, at least {p['min_per_agent']} per agent, seed {p['seed']}). "
                f"Over a month this gives each agent's QA score a margin of about +/- {m.median():.1f} points "
                f"(median; {m.min():.1f}-{m.max():.1f}) at {p['level']:.0%}.")

    def __str__(self) -> str:
        return self.summary()

    def to_frame(self) -> pd.DataFrame:
        """The sample (one row per contact, for CSV)."""
        return self.sample.copy()

    def estimate(self, scores: pd.Series, *, level: float | None = None) -> dict[str, float]:
        """Horvitz-Thompson mean of ``scores`` (indexed by contact_id) over the day (:func:`ht_estimate`)."""
        return ht_estimate(scores, self.sample, self.plan, level=level or self.params["level"])


def _score_sd(qa: pd.DataFrame | None, contacts: pd.DataFrame, keys: list[str]
              ) -> tuple[pd.Series | None, float, pd.Series | None]:
    """Past QA score SD per stratum, the pooled within-agent SD, and per-agent SD (agents with >= 5 reviews).

    ``qa``: the reviews before the day; ``contacts``: the contacts' id and strata columns.
    """
    if qa is None or qa.empty:
        return None, DEFAULT_SCORE_SD, None
    q = qa.drop_duplicates(["contact_id", "agent_id", "reviewed_at"])
    if len(q) < 2:
        return None, DEFAULT_SCORE_SD, None
    q = q.merge(contacts.drop(columns=["agent_id"], errors="ignore"), on="contact_id", how="left")
    g = q.groupby("agent_id")["score"]
    n, var = g.size(), g.var(ddof=1)
    ok = n >= 2
    pooled = float(np.sqrt(((n[ok] - 1) * var[ok]).sum() / (n[ok] - 1).sum())) if ok.any() else float(q["score"].std())
    per_agent = np.sqrt(var[n >= 5])
    by_stratum = None
    if keys and all(k in q.columns for k in keys):
        gs = q.dropna(subset=keys).groupby(keys)["score"]
        sd = gs.std(ddof=1)[gs.size() >= 5]
        by_stratum = sd
    return by_stratum, pooled, per_agent


def qa_sample(data: Any, date: Any, *, rate: float = 0.05, strata: tuple[str, ...] | list[str] = ("agent", "channel"),
              min_per_agent: int = 2, allocation: str = "proportional", seed: int = 0, level: float = 0.95
              ) -> QASample:
    r"""Draw a day's stratified random QA sample with Horvitz-Thompson weights.

    Parameters
    ----------
    data : folder, dict of DataFrames or SourceTables (:func:`kpilab.operations.open_tables`)
        Canonical tables: ``contacts`` (required); ``qa_reviews`` (past score spread, for Neyman
        allocation and the margins) and ``agents`` (strata team, role, site) when present.
    date : date-like
        The day (local date of ``answered_at``) whose answered contacts are sampled.
    rate : float, default 0.05
        Share of the day's answered contacts to review, in (0, 1].
    strata : list of str, default ("agent", "channel")
        Columns that define the strata: ``agent``, ``channel``, ``queue``, ``topic`` or ``team``, ``role``,
        ``site`` (from the agents table); empty for a simple random sample.
    min_per_agent : int, default 2
        Reviews each agent gets at least (all of them when the agent answered fewer; the plan notes
        ``census``).
    allocation : {"proportional", "neyman"}, default "proportional"
        Proportional: :math:`n_h \propto N_h`. Neyman: :math:`n_h \propto N_h S_h` with :math:`S_h` the
        stratum's past QA score SD (the pooled within-agent SD where a stratum has fewer than 5 past
        reviews).
    seed : int, default 0
        Seed of the draw: the same data, date and options give the same sample.
    level : float, default 0.95
        Confidence level of the margins.

    Returns
    -------
    QASample
        ``sample``, ``plan``, ``agent_margins`` (see :class:`QASample`).

    Raises
    ------
    ParameterError
        ``rate`` outside (0, 1], an unknown stratum column, a negative minimum.
    DataError
        The day has no answered contacts (names the days the data covers).

    Notes
    -----
    The total is :math:`n = \lceil r N \rceil`. Strata whose proportional share is below one review
    are merged within their first key (``A0001 | (other)``), then the total is allocated to strata by
    largest remainders. Every
    stratum then gets at least one contact (so that every contact has a positive inclusion probability
    and the estimate is unbiased) and every agent at least ``min_per_agent`` (added to the agent's
    largest strata), capped at the stratum size; the realised rate can therefore exceed ``rate`` when
    strata are many and small. Within a stratum :math:`n_h` contacts are drawn without replacement, so
    :math:`\pi_i = n_h/N_h` and :math:`w_i = N_h/n_h`; :math:`\sum_{i\in s} w_i = \sum_h N_h = N`.

    References
    ----------
    .. [1] Horvitz and Thompson (1952), *JASA* 47(260), 663-685.
    .. [2] Neyman (1934), *JRSS* 97(4), 558-625.
    .. [3] Cochran (1977), *Sampling Techniques*, sections 5.5 and 5.9.

    Examples
    --------
    >>> from kpilab.simulate import simulate
    >>> sim = simulate(agents=12, months=1, seed=1)
    >>> s = qa_sample(sim.tables, "2025-01-15", rate=0.05, seed=3)
    >>> n_day = int((sim.tables["contacts"]["answered_at"].dt.date.astype(str) == "2025-01-15").sum())
    >>> round(s.sample["weight"].sum()) == n_day
    True
    """
    strata = [strata] if isinstance(strata, str) else list(strata)
    check_params({"rate": rate, "min_per_agent": min_per_agent, "allocation": allocation, "seed": seed, "level": level},
                 {"rate": Interval(0, 1, closed="right"), "min_per_agent": Interval(0, None, integer=True),
                  "allocation": Options("proportional", "neyman"), "seed": Interval(0, None, integer=True),
                  "level": Interval(0, 1, closed="neither")}, caller="qa_sample")
    allowed = ("agent", "channel", "queue", "topic", *_AGENT_COLUMNS)
    bad = [s for s in strata if s not in allowed]
    if bad:
        raise ParameterError(f"The 'strata' parameter of qa_sample must list columns among {', '.join(allowed)}. "
                             f"Got {bad!r}.")
    try:
        day = pd.Timestamp(date).normalize()
    except (ValueError, TypeError):
        raise ParameterError(f"The 'date' parameter of qa_sample must be a date (YYYY-MM-DD). Got {date!r}.") from None
    t = open_tables(data, names=("contacts", "qa_reviews", "agents"))
    t.require(["contacts"])
    day = day.tz_localize(None) if day.tzinfo else day  # days are local wall-clock dates
    # answered contacts by the local date of answered_at; only the day's rows come back to pandas
    local = f"CAST({t.local('contacts', 'answered_at')} AS DATE)"
    answered = "NOT abandoned AND agent_id IS NOT NULL AND answered_at IS NOT NULL"
    on_day = f"{answered} AND {local} = DATE '{day:%Y-%m-%d}'"
    pop = t.frame("contacts", where=on_day)
    if isinstance(pop["answered_at"].dtype, pd.DatetimeTZDtype):
        pop["answered_at"] = pop["answered_at"].dt.tz_localize(None)  # the local wall clock
    if pop.empty:
        first, last, n = t.con.execute(f"SELECT min({local}), max({local}), count(*) FROM {t.valid('contacts')} "
                                       f"WHERE {answered}").fetchall()[0]
        span = f"{first} to {last}" if n else "no answered contacts at all"
        raise DataError(f"No answered contacts on {day.date()} (the contacts table covers {span}): "
                        "choose a day inside the data.")
    keys = []
    for s_ in strata:
        col = "agent_id" if s_ == "agent" else s_
        if s_ in _AGENT_COLUMNS:
            ag = t.frame("agents") if "agents" in t else None
            if ag is None or s_ not in ag.columns:
                raise DataError(f"Stratum {s_!r} needs the agents table with a {s_!r} column.")
            pop = pop.merge(ag[["agent_id", s_]], on="agent_id", how="left")
        elif col not in pop.columns:
            raise DataError(f"Stratum {s_!r}: the contacts table has no {col!r} column.")
        pop[col] = pop[col].astype("string").fillna("(missing)")
        keys.append(col)
    pop = pop.sort_values("contact_id", kind="stable").reset_index(drop=True)
    label = pd.Series("all", index=pop.index, dtype=object)
    for j, k in enumerate(keys):
        label = pop[k].astype(str) if j == 0 else label + " | " + pop[k].astype(str)
    pop["stratum"] = label
    n_total = math.ceil(rate * len(pop) - 1e-9)
    collapsed = np.zeros(len(pop), dtype=bool)
    if len(keys) > 1:  # strata too small for one review at this rate merge into their first key's "(other)"
        share = pop.groupby("stratum")["contact_id"].transform("size") * n_total / len(pop)
        collapsed = (share < 1).to_numpy()
        pop.loc[collapsed, "stratum"] = pop.loc[collapsed, keys[0]].astype(str) + " | (other)"
    pop["_collapsed"] = collapsed
    plan = pop.groupby("stratum", sort=True).agg(population=("contact_id", "size"),
                                                 agent_id=("agent_id", "first"),
                                                 collapsed=("_collapsed", "any")).reset_index()
    qa = None
    if "qa_reviews" in t:  # reviews before the day (local time), with the contacts' strata columns they need
        qa = t.frame("qa_reviews", where=f"{t.local('qa_reviews', 'reviewed_at')} < {_ts(day)}")
    ckeys = ["contact_id", *[k for k in keys if t.has("contacts", k)]]
    cq = t.frame("contacts", ckeys, where=f"contact_id IN (SELECT contact_id FROM {t.valid('qa_reviews')})"
                 if qa is not None else "FALSE")
    sd_stratum, sd_pooled, sd_agent = _score_sd(qa, cq, keys)
    sd = pd.Series(sd_pooled, index=plan.index, dtype=float)
    if sd_stratum is not None and len(keys):
        key_frame = pop.drop_duplicates("stratum").set_index("stratum")[keys]
        idx = pd.MultiIndex.from_frame(key_frame.loc[plan["stratum"]]) if len(keys) > 1 else key_frame.loc[
            plan["stratum"], keys[0]]
        looked = pd.Series(sd_stratum.reindex(idx).to_numpy(), index=plan.index)
        sd = looked.fillna(sd_pooled)
    plan["score_sd"] = sd
    big_n = int(plan["population"].sum())
    size = plan["population"].to_numpy()
    quota = size * (plan["score_sd"].to_numpy() if allocation == "neyman" else 1.0)
    quota = n_total * quota / quota.sum() if quota.sum() > 0 else n_total * size / size.sum()
    n_h = np.minimum(_largest_remainder(quota, n_total), size)
    n_h = np.maximum(n_h, 1)
    # per-agent minimum (only meaningful when every stratum belongs to one agent)
    note = np.where(plan["collapsed"], "collapsed", "").astype(object)
    if min_per_agent and "agent_id" in keys:
        for _agent, rows in plan.groupby("agent_id").groups.items():
            rows = np.asarray(list(rows))
            need = min_per_agent - n_h[rows].sum()
            while need > 0 and (n_h[rows] < size[rows]).any():
                room = size[rows] - n_h[rows]
                j = rows[np.argmax(room)]
                n_h[j] += 1
                need -= 1
            if size[rows].sum() <= min_per_agent:
                note[rows] = "census"
    plan["sample"] = n_h
    plan["inclusion_probability"] = n_h / size
    plan["weight"] = size / n_h
    plan["note"] = np.where(n_h == size, np.where(note == "", "census", note + ", census"), note)
    rng = np.random.default_rng(seed)
    picked = []
    groups = pop.groupby("stratum", sort=True).indices
    for stratum, k in zip(plan["stratum"], n_h, strict=True):
        rows = groups[stratum]
        picked.append(np.sort(rng.choice(rows, size=int(k), replace=False)))
    sample = pop.loc[np.concatenate(picked)].copy() if picked else pop.iloc[:0].copy()
    sample = sample.merge(plan[["stratum", "inclusion_probability", "weight"]], on="stratum", how="left")
    extra = [k for k in keys if k != "agent_id"]
    sample = sample[["contact_id", "agent_id", "stratum", *extra, "inclusion_probability", "weight"]]
    plan = plan[PLAN_COLUMNS]
    # margins: reviews per month per agent at this plan
    per_agent = sample.groupby("agent_id").size()
    contacts_today = pop.groupby("agent_id").size()
    lo = (day - pd.Timedelta(days=28)).strftime("%Y-%m-%d")
    worked = t.sql(f"SELECT agent_id, count(DISTINCT {local}) AS d, count(*) AS n FROM {t.valid('contacts')} "
                   f"WHERE {answered} AND {local} < DATE '{day:%Y-%m-%d}' AND {local} >= DATE '{lo}' GROUP BY agent_id")
    days_worked = worked.set_index("agent_id")["d"]
    m = pd.DataFrame({"agent_id": contacts_today.index, "contacts_today": contacts_today.to_numpy()})
    m["reviews_today"] = m["agent_id"].map(per_agent).fillna(0).astype(int)
    m["days_per_month"] = m["agent_id"].map(days_worked * 30.4 / 28).fillna(21.0) if worked["n"].sum() else 21.0
    m["reviews_per_month"] = m["reviews_today"] * m["days_per_month"]
    m["score_sd"] = m["agent_id"].map(sd_agent).fillna(sd_pooled) if sd_agent is not None else sd_pooled
    z = float(norm.ppf(0.5 + level / 2))
    with np.errstate(divide="ignore"):
        m["margin_points"] = z * m["score_sd"] / np.sqrt(m["reviews_per_month"])
    params = {"date": str(day.date()), "rate": rate, "strata": list(strata), "min_per_agent": min_per_agent,
              "allocation": allocation, "seed": seed, "level": level, "population": big_n,
              "sample_size": int(len(sample))}
    return QASample(sample=sample.reset_index(drop=True), plan=plan, agent_margins=m[MARGIN_COLUMNS], params=params)
