r"""Triangulation of resolution sources: the phone system's log, the agent's closure, the customer and QA.

The articles ask supervisors to cross-check the ACD log against customer callbacks and QA.
For every answered contact up to four sources say whether the problem was solved:

* ``repeat_contact`` - the system log: no further contact by the same customer within
  ``window_days`` (unknown when the customer id is missing or the window runs past the data);
* ``agent_flag`` - the closure the agent records (``contacts.resolved``);
* ``customer`` - the customer's survey answer (``surveys.resolved``);
* ``qa`` - the QA verdict on the reviewed contact: passed (score >= ``qa_pass`` and no critical
  fail), the closest the canonical ``qa_reviews`` table comes to a resolution verdict.

:func:`triangulate` reports per agent and for the centre the agreement rate and Cohen's kappa
[1]_ of every pair of sources (with an interval), and flags agents whose claimed resolution
(``agent_flag``) exceeds what the references (customer, repeat contacts) show by more than a
threshold: closing contacts that are not resolved is a known form of gaming.

References
----------
.. [1] Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and
   Psychological Measurement* 20(1), 37-46.
.. [2] Fleiss, J. L., Cohen, J. and Everitt, B. S. (1969). Large sample standard errors of kappa
   and weighted kappa. *Psychological Bulletin* 72(5), 323-327.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from kpilab._validation import Interval, Options, check_params
from kpilab.errors import DataError
from kpilab.indicators.stats import wilson_interval
from kpilab.operations._data import SourceTables, open_tables

__all__ = ["SOURCES", "resolution_sources", "kappa_table", "TriangulationResult", "triangulate"]

SOURCES = ("repeat_contact", "agent_flag", "customer", "qa")
AGREEMENT_COLUMNS = ["unit_id", "source_x", "source_y", "n", "agreement", "kappa", "kappa_low", "kappa_high",
                     "rate_x", "rate_y", "flag"]
AGENT_COLUMNS = ["unit_id", "n_contacts", "rate_agent_flag", "rate_repeat_contact", "rate_customer", "rate_qa",
                 "n_paired_customer", "gap_customer", "gap_low", "gap_high", "n_reference_unresolved",
                 "false_close", "false_close_low", "false_close_high", "excess", "flagged", "flag"]


def resolution_sources(data: Any, *, window_days: float = 7, qa_pass: float = 80.0) -> pd.DataFrame:
    """One row per answered contact with what each source says about its resolution.

    Parameters
    ----------
    data : folder, dict of DataFrames or SourceTables (:func:`kpilab.operations.open_tables`)
        Canonical tables: ``contacts`` (required), ``surveys`` and ``qa_reviews`` (optional).
    window_days : float, default 7
        Repeat-contact window of the ``repeat_contact`` source.
    qa_pass : float, default 80
        QA score (0-100) from which a review counts as passed (and no critical fail).

    Returns
    -------
    pandas.DataFrame
        * ``contact_id``, ``agent_id``, ``arrived_at``
        * ``repeat_contact``, ``agent_flag``, ``customer``, ``qa`` - nullable booleans (``<NA>``: the
          source says nothing about this contact). QA uses the earliest review of a contact.
    """
    check_params({"window_days": window_days, "qa_pass": qa_pass},
                 {"window_days": Interval(0, None, closed="neither"), "qa_pass": Interval(0, 100)},
                 caller="resolution_sources")
    t = _sources_table(data, window_days, qa_pass)
    out = t.sql("SELECT contact_id, agent_id, arrived_at, repeat_contact, agent_flag, customer, qa FROM _src "
                "ORDER BY arrived_at, contact_id", nullable=True)
    out["arrived_at"] = t.to_time(out["arrived_at"], "contacts")
    for s_ in SOURCES:
        out[s_] = out[s_].astype("boolean")
    return out[["contact_id", "agent_id", "arrived_at", *SOURCES]]


def _sources_table(data: Any, window_days: float, qa_pass: float) -> SourceTables:
    """Tables with the view ``_src``: what each source says about every answered contact (DuckDB, not pandas)."""
    t = open_tables(data, names=("contacts", "surveys", "qa_reviews"))
    t.require(["contacts"])
    c = t.valid("contacts")
    if not t.scalar(f"SELECT count(*) FROM {c}"):
        raise DataError("The contacts table has no rows: there is nothing to triangulate.")
    window = pd.Timedelta(days=window_days).value  # ns, compared with microsecond timestamps as pandas does
    w_floor, w_ceil = window // 1000, -(-window // 1000)
    if t.has("contacts", "customer_id"):
        # the next contact of the same customer within the window (any channel, answered or not)
        nxt = "lead(arrived_at) OVER (PARTITION BY customer_id ORDER BY arrived_at, contact_id)"
        rep = (f"CASE WHEN customer_id IS NULL THEN NULL "
               f"WHEN _nxt IS NOT NULL AND epoch_us(_nxt) - epoch_us(arrived_at) <= {w_floor} THEN FALSE "
               f"WHEN epoch_us(_last) - epoch_us(arrived_at) >= {w_ceil} THEN TRUE END")
        cust = "customer_id"
    else:
        nxt, rep, cust = "NULL", "CAST(NULL AS BOOLEAN)", "NULL AS customer_id"
    flag = "resolved" if t.has("contacts", "resolved") else "CAST(NULL AS BOOLEAN)"
    if t.has("surveys", "resolved"):
        customer = (f"LEFT JOIN (SELECT contact_id, resolved AS customer, row_number() OVER (PARTITION BY contact_id "
                    f"ORDER BY _row) AS _n FROM {t.valid('surveys')} WHERE resolved IS NOT NULL) s "
                    "ON s.contact_id = a.contact_id AND s._n = 1")
        customer_col = "s.customer"
    else:
        customer, customer_col = "", "CAST(NULL AS BOOLEAN)"
    if "qa_reviews" in t and t.n_rows("qa_reviews"):
        crit = "COALESCE(critical_fail, FALSE)" if t.has("qa_reviews", "critical_fail") else "FALSE"
        qa = (f"LEFT JOIN (SELECT contact_id, score >= {float(qa_pass)!r} AND NOT {crit} AS qa, row_number() OVER "
              f"(PARTITION BY contact_id ORDER BY reviewed_at, _row) AS _n FROM {t.valid('qa_reviews')}) q "
              "ON q.contact_id = a.contact_id AND q._n = 1")
        qa_col = "q.qa"
    else:
        qa, qa_col = "", "CAST(NULL AS BOOLEAN)"
    t.con.execute(f"""CREATE OR REPLACE TEMP VIEW _src AS
        WITH c AS (SELECT contact_id, agent_id, arrived_at, {cust}, abandoned, {flag} AS agent_flag,
                          {nxt} AS _nxt, (SELECT max(arrived_at) FROM {c}) AS _last FROM {c}),
        a AS (SELECT contact_id, agent_id, arrived_at, {rep} AS repeat_contact, agent_flag FROM c
              WHERE NOT abandoned AND agent_id IS NOT NULL)
        SELECT a.contact_id, a.agent_id, a.arrived_at, a.repeat_contact, a.agent_flag,
               {customer_col} AS customer, {qa_col} AS qa
        FROM a {customer} {qa}""")
    return t


def _kappa_se(table: np.ndarray) -> tuple[float, float]:
    """Cohen's kappa of a square agreement table and its large-sample standard error.

    The Fleiss, Cohen and Everitt (1969) variance, as in ``statsmodels.stats.inter_rater.cohens_kappa``
    (``std_kappa``), written out so the per-agent loop does not pay for a results object per call:

    .. math::
        \\widehat{var}(\\kappa) = \\frac{\\sum_i p_{ii}[1 - (p_{i.} + p_{.i})(1 - \\kappa)]^2
        + (1 - \\kappa)^2 \\sum_{i \\ne j} p_{ij}(p_{.i} + p_{j.})^2 - [\\kappa - p_e(1 - \\kappa)]^2}
        {(1 - p_e)^2\\, n}
    """
    n = table.sum()
    probs = table / n
    row, col = table.sum(1) / n, table.sum(0) / n
    pe = float(row @ col)
    kappa = (float(np.trace(probs)) - pe) / (1 - pe)
    term_a = float((np.diag(probs) * (1 - (row + col) * (1 - kappa)) ** 2).sum())
    term_b = probs * (col[:, None] + row) ** 2
    np.fill_diagonal(term_b, 0.0)
    term_b = (1 - kappa) ** 2 * float(term_b.sum())
    term_c = (kappa - pe * (1 - kappa)) ** 2
    var = (term_a + term_b - term_c) / (1 - pe) ** 2 / n
    return kappa, float(np.sqrt(var)) if var >= 0 else float("nan")


def _kappa(x: np.ndarray, y: np.ndarray, z: float) -> tuple[float, float, float, str]:
    """Cohen's kappa of two boolean arrays with its Fleiss-Cohen-Everitt (1969) large-sample interval."""
    return _kappa_counts(int(np.sum(x & y)), int(np.sum(x & ~y)), int(np.sum(~x & y)), int(np.sum(~x & ~y)), z)


def _kappa_counts(tt: int, tf: int, ft: int, ff: int, z: float) -> tuple[float, float, float, str]:
    """Cohen's kappa and its interval from the 2x2 agreement counts (x resolved / not by y resolved / not)."""
    n = tt + tf + ft + ff
    table = np.array([[tt, tf], [ft, ff]], dtype=float)
    pe = (table.sum(1) / n) @ (table.sum(0) / n)
    if pe >= 1 - 1e-12:
        return np.nan, np.nan, np.nan, "no_variation"
    k, se = _kappa_se(table)
    if not np.isfinite(se):
        return k, np.nan, np.nan, "no_ci"
    return k, max(-1.0, k - z * se), min(1.0, k + z * se), ""


def _pair_row(unit: Any, sx: str, sy: str, tt: int, tf: int, ft: int, ff: int, z: float, min_n: int) -> list:
    """One row of :data:`AGREEMENT_COLUMNS` from the pair's 2x2 counts on the contacts both speak about."""
    n = tt + tf + ft + ff
    if n == 0:
        return [unit, sx, sy, 0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, "no_data"]
    k, lo, hi, flag = _kappa_counts(tt, tf, ft, ff, z)
    if not flag and n < min_n:
        flag = "small_n"
    return [unit, sx, sy, n, (tt + ff) / n, k, lo, hi, (tt + tf) / n, (tt + ft) / n, flag]


def kappa_table(sources: pd.DataFrame, *, by: str | None = "agent_id", level: float = 0.95,
                min_n: int = 30) -> pd.DataFrame:
    r"""Agreement rate and Cohen's kappa of every pair of sources, per unit and for the centre.

    Parameters
    ----------
    sources : pandas.DataFrame
        :func:`resolution_sources` output.
    by : str or None, default "agent_id"
        Column of the units; None gives only the centre rows.
    level : float, default 0.95
        Confidence level of the kappa interval.
    min_n : int, default 30
        Pairs with fewer contacts both sources speak about get ``flag = small_n``.

    Returns
    -------
    pandas.DataFrame
        * ``unit_id`` - the unit (``"centre"`` for all contacts)
        * ``source_x``, ``source_y`` - the pair (order of :data:`SOURCES`)
        * ``n`` - contacts both sources speak about
        * ``agreement`` - share on which they agree
        * ``kappa``, ``kappa_low``, ``kappa_high`` - Cohen's kappa and its interval
        * ``rate_x``, ``rate_y`` - share resolved by each source on those contacts
        * ``flag`` - ``small_n``, ``no_variation`` (a source constant: kappa undefined), ``no_data``

    Notes
    -----
    .. math:: \kappa = \frac{p_o - p_e}{1 - p_e},\quad p_e = p_x p_y + (1 - p_x)(1 - p_y)

    with the large-sample standard error of Fleiss, Cohen and Everitt (1969) [2]_ as computed by
    ``statsmodels.stats.inter_rater.cohens_kappa``; the interval is :math:`\kappa \pm z\,SE`
    clipped to [-1, 1].

    References
    ----------
    .. [1] Cohen, J. (1960). *Educational and Psychological Measurement* 20(1), 37-46.
    .. [2] Fleiss, Cohen and Everitt (1969). *Psychological Bulletin* 72(5), 323-327.
    """
    z = float(norm.ppf(0.5 + level / 2))
    # numpy arrays once, units as contiguous slices of one stable sort: pandas indexing per unit and
    # pair cost ~9 s at 500 agents; the arithmetic per slice is the same
    present = {s_: sources[s_].notna().to_numpy() for s_ in SOURCES}
    value = {s_: sources[s_].fillna(False).to_numpy(dtype=bool) for s_ in SOURCES}
    groups: list[tuple[Any, np.ndarray]] = [("centre", np.arange(len(sources)))]
    if by is not None:
        codes, units = pd.factorize(sources[by], sort=True)
        order = np.argsort(codes, kind="stable")
        order = order[codes[order] >= 0]  # rows without a unit count for the centre only (as groupby drops them)
        bounds = np.searchsorted(codes[order], np.arange(len(units) + 1))
        groups += [(units[i], order[bounds[i]:bounds[i + 1]]) for i in range(len(units))]
    rows = []
    for unit, idx in groups:
        for sx, sy in itertools.combinations(SOURCES, 2):
            both = present[sx][idx] & present[sy][idx]
            x = value[sx][idx][both]
            y = value[sy][idx][both]
            rows.append(_pair_row(unit, sx, sy, int(np.sum(x & y)), int(np.sum(x & ~y)), int(np.sum(~x & y)),
                                  int(np.sum(~x & ~y)), z, min_n))
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


@dataclass(frozen=True, slots=True, kw_only=True)
class TriangulationResult:
    """What :func:`triangulate` found.

    Attributes
    ----------
    sources : pandas.DataFrame or None
        Contact-level sources (:func:`resolution_sources`); None with ``triangulate(keep_sources=False)``.
    agreement : pandas.DataFrame
        Pairwise agreement and kappa per agent and for the centre (:func:`kappa_table`).
    agents : pandas.DataFrame
        One row per agent (columns in :data:`AGENT_COLUMNS`, documented in :func:`triangulate`).
    params : dict
        The options used (``window_days``, ``qa_pass``, ``claimed``, ``references``, ``threshold``,
        ``min_n``, ``level``).
    """

    sources: pd.DataFrame | None
    agreement: pd.DataFrame
    agents: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> list[str]:
        """Agents flagged for a claimed resolution above what the references show."""
        return self.agents.loc[self.agents["flagged"], "unit_id"].tolist()

    def summary(self) -> str:
        """A few lines for people."""
        centre = self.agreement[self.agreement["unit_id"] == "centre"]
        pairs = "; ".join(f"{r.source_x}~{r.source_y} kappa {r.kappa:.2f} [{r.kappa_low:.2f}, {r.kappa_high:.2f}] "
                          f"(n={r.n})" for r in centre.itertuples() if r.n)
        p = self.params
        n = p.get("n_contacts", len(self.sources) if self.sources is not None else 0)
        return (f"Triangulation of {n} answered contacts, {len(self.agents)} agents. Centre: {pairs}. "
                f"Flagged ({p['claimed']} resolved where {' or '.join(p['references'])} says unresolved, more than "
                f"{p['threshold']:.0%} above the median agent at the lower {p['level']:.0%} bound): "
                f"{', '.join(self.flagged) or 'none'}.")

    def __str__(self) -> str:
        return self.summary()

    def to_frame(self) -> pd.DataFrame:
        """The per-agent table (for CSV)."""
        return self.agents.copy()


def _paired_gap(x: np.ndarray, y: np.ndarray, z: float) -> tuple[float, float, float]:
    """Difference of paired proportions mean(x) - mean(y) with its Wald interval."""
    return _paired_gap_counts(len(x), int(np.sum(x & ~y)), int(np.sum(~x & y)), z)


def _paired_gap_counts(n: int, b: int, c: int, z: float) -> tuple[float, float, float]:
    """:func:`_paired_gap` from the counts: ``n`` pairs, ``b`` x only resolved, ``c`` y only resolved."""
    if n == 0:
        return np.nan, np.nan, np.nan
    b, c = float(b), float(c)
    d = (b - c) / n
    se = np.sqrt(max((b + c) / n - d * d, 0.0) / n)
    return d, d - z * se, d + z * se


def triangulate(data: Any, *, window_days: float = 7, qa_pass: float = 80.0, claimed: str = "agent_flag",
                references: tuple[str, ...] = ("customer", "repeat_contact"), threshold: float = 0.25,
                min_n: int = 30, level: float = 0.95, keep_sources: bool = True) -> TriangulationResult:
    r"""Compare resolution sources per agent and flag agents who claim more than the references show.

    Parameters
    ----------
    data : folder, dict of DataFrames or SourceTables (:func:`kpilab.operations.open_tables`)
        Canonical tables (``contacts``; ``surveys`` and ``qa_reviews`` when present).
    window_days, qa_pass :
        See :func:`resolution_sources`.
    claimed : str, default "agent_flag"
        The source that can be gamed (the agent's closure).
    references : tuple of str, default ("customer", "repeat_contact")
        Independent sources; a contact is *reference-unresolved* when any of them says unresolved.
    threshold : float, default 0.25
        How far an agent's false-close rate must exceed the median agent's (at its lower bound).
    min_n : int, default 30
        Agents with fewer reference-unresolved contacts are not judged (``flag = small_n``).
    level : float, default 0.95
        Confidence level of every interval.
    keep_sources : bool, default True
        Return the contact-level sources (:attr:`TriangulationResult.sources`, one row per answered
        contact, a pandas frame as large as the contacts table); False leaves it None and keeps the
        work in DuckDB (only per-agent counts come back).

    Returns
    -------
    TriangulationResult
        ``agents`` has one row per agent:

        * ``unit_id``, ``n_contacts`` - the agent and its answered contacts
        * ``rate_agent_flag``, ``rate_repeat_contact``, ``rate_customer``, ``rate_qa`` - share resolved by
          each source over the contacts it speaks about
        * ``n_paired_customer``, ``gap_customer``, ``gap_low``, ``gap_high`` - claimed minus customer-reported
          resolution on the same contacts, with its interval (the issue's "system FCR exceeds customer FCR")
        * ``n_reference_unresolved`` - contacts a reference says are unresolved
        * ``false_close``, ``false_close_low``, ``false_close_high`` - share of those the claimed source calls
          resolved (Wilson interval)
        * ``excess`` - ``false_close_low`` minus the median agent's ``false_close``
        * ``flagged`` - ``excess > threshold``
        * ``flag`` - ``small_n`` when the agent was not judged

    Notes
    -----
    The raw gap :math:`\hat p_{claimed} - \hat p_{customer}` mixes gaming with the agent's true
    resolution rate (only unresolved contacts can be over-claimed) and with how customers of that agent
    answer surveys. The judged statistic conditions on the references instead:

    .. math::
        FC_i = P(\text{claimed resolved} \mid \text{a reference says unresolved}),\qquad
        \text{flagged} \iff L_i - \operatorname{median}_j FC_j > \text{threshold}

    with :math:`L_i` the lower Wilson bound of :math:`FC_i`. Comparing with the median agent, not
    with zero, keeps a centre-wide lenient flag (agent flags overstate resolution everywhere [1]_)
    from flagging everybody. On the simulator (3 gaming agents of 60 per seed) this recovers the
    planted gaming agents (tests/test_operations_triangulation.py reports precision and recall).

    References
    ----------
    .. [1] SQM Group, "Agents accountable: call resolution index" (internal FCR measures overstate
       resolution); shared/domain/kpi-standards.md 1.4.
    .. [2] Cohen, J. (1960). *Educational and Psychological Measurement* 20(1), 37-46.
    """
    check_params(
        {"claimed": claimed, "threshold": threshold, "min_n": min_n, "level": level},
        {"claimed": Options(*SOURCES), "threshold": Interval(0, 1, closed="left"),
         "min_n": Interval(1, None, integer=True), "level": Interval(0, 1, closed="neither")},
        caller="triangulate",
    )
    references = tuple(references)
    bad = [r for r in references if r not in SOURCES or r == claimed]
    if not references or bad:
        raise DataError(f"The 'references' parameter of triangulate must name sources among "
                        f"{', '.join(s for s in SOURCES if s != claimed)} (not the claimed one). Got {references!r}.")
    z = float(norm.ppf(0.5 + level / 2))
    t = _sources_table(data, window_days, qa_pass)
    # per agent, in SQL: what each source says, the 2x2 counts of every pair, the paired gap and false closes
    pairs = list(itertools.combinations(SOURCES, 2))
    cols = [f"count({s_}) AS p_{s_}, count(*) FILTER (WHERE {s_}) AS k_{s_}" for s_ in SOURCES]
    for i, (sx, sy) in enumerate(pairs):
        cols.append(f"count(*) FILTER (WHERE {sx} AND {sy}) AS tt{i}, count(*) FILTER (WHERE {sx} AND NOT {sy}) AS tf{i}, "
                    f"count(*) FILTER (WHERE NOT {sx} AND {sy}) AS ft{i}, "
                    f"count(*) FILTER (WHERE NOT {sx} AND NOT {sy}) AS ff{i}")
    unres = " OR ".join(f"{r} = FALSE" for r in references)
    cols.append(f"count(*) FILTER (WHERE {claimed} IS NOT NULL AND customer IS NOT NULL) AS n_both, "
                f"count(*) FILTER (WHERE {claimed} AND NOT customer) AS gap_b, "
                f"count(*) FILTER (WHERE NOT {claimed} AND customer) AS gap_c, "
                f"count(*) FILTER (WHERE COALESCE({unres}, FALSE) AND {claimed} IS NOT NULL) AS u_n, "
                f"count(*) FILTER (WHERE COALESCE({unres}, FALSE) AND {claimed}) AS u_k")
    counts = t.sql(f"SELECT agent_id, count(*) AS n_contacts, {', '.join(cols)} FROM _src GROUP BY agent_id "
                   "ORDER BY agent_id")
    if int(counts[f"p_{claimed}"].sum()) == 0:
        raise DataError(f"No contact has a {claimed!r} resolution (contacts.resolved for agent_flag): "
                        "nothing to triangulate.")
    agree_rows = []
    centre = counts.drop(columns=["agent_id"]).sum()
    for unit, r in [("centre", centre), *((a, r) for a, (_, r) in zip(counts["agent_id"], counts.iterrows(),
                                                                         strict=True))]:
        for i, (sx, sy) in enumerate(pairs):
            agree_rows.append(_pair_row(unit, sx, sy, int(r[f"tt{i}"]), int(r[f"tf{i}"]), int(r[f"ft{i}"]),
                                        int(r[f"ff{i}"]), z, min_n))
    agree = pd.DataFrame(agree_rows, columns=AGREEMENT_COLUMNS)
    rows = []
    for r in counts.itertuples(index=False):
        rates = {s_: getattr(r, f"k_{s_}") / getattr(r, f"p_{s_}") if getattr(r, f"p_{s_}") else np.nan
                 for s_ in SOURCES}
        gap = _paired_gap_counts(int(r.n_both), int(r.gap_b), int(r.gap_c), z)
        k, n = int(r.u_k), int(r.u_n)
        rows.append([r.agent_id, int(r.n_contacts), rates["agent_flag"], rates["repeat_contact"], rates["customer"],
                     rates["qa"], int(r.n_both), *gap, n, k / n if n else np.nan, k, n])
    ag = pd.DataFrame(rows, columns=[*AGENT_COLUMNS[:10], "n_reference_unresolved", "false_close", "_k", "_n"])
    lo, hi = wilson_interval(ag["_k"], ag["_n"], level=level)
    ag["false_close_low"], ag["false_close_high"] = lo, hi
    judged = ag["_n"] >= min_n
    median = float(ag.loc[judged, "false_close"].median()) if judged.any() else np.nan
    ag["excess"] = np.where(judged, ag["false_close_low"] - median, np.nan)
    ag["flagged"] = judged & (ag["excess"] > threshold)
    ag["flag"] = np.where(judged, "", "small_n")
    ag = ag[AGENT_COLUMNS]
    params = {"window_days": window_days, "qa_pass": qa_pass, "claimed": claimed, "references": list(references),
              "threshold": threshold, "min_n": min_n, "level": level, "median_false_close": median,
              "n_contacts": int(counts["n_contacts"].sum())}
    src = None
    if keep_sources:
        src = resolution_sources(t, window_days=window_days, qa_pass=qa_pass)
    return TriangulationResult(sources=src, agreement=agree, agents=ag, params=params)
