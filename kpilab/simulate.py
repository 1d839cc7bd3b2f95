"""A synthetic contact centre with planted truth.

:func:`simulate` builds the six canonical tables (contacts, surveys,
qa_reviews, tickets, agents, exemptions) of a contact centre whose agents have
known latent traits, so that every later statistic (indicator health, weights,
driver analysis) can be checked against the truth it should recover.

Times are naive local timestamps (Asia/Shanghai wall clock, which has no
daylight-saving changes), whole seconds; durations are seconds.
``realism="messy"`` adds the defects of real exports (tz-aware Europe/London
timestamps, missing talk times, duplicate rows, unknown abandon waits, e-mails
in phone queues, negative durations, out-of-range survey codes), each listed in
``truth["defects"]`` (format in :func:`simulate`).

Mechanisms (all vectorised with numpy; the loops run over hours, days,
months, generations of repeat contacts and queue pools, never over contacts):

* **Agents.** About ten per team (at least two teams); every third team
  (the second, fifth, ...) is ``technical_support``, the others ``front_line``;
  teams alternate the sites ``Shanghai`` and ``Chengdu``; 80 % full time. A general
  skill :math:`g \\sim N(0,1)` and specific traits
  :math:`t_k = \\sqrt{\\rho}\\,g + \\sqrt{1-\\rho}\\,u_k` with :math:`\\rho = 0.25`
  (``resolve``, ``empathy``, ``diligence``, ``speed``); pure-noise habits
  (``hold_habit``, ``acw_habit``, ``shift_length``, ``responsiveness``) are
  independent of everything. New hires ramp up: every trait is lowered by
  :math:`0.8\\,e^{-\\text{tenure days}/90}`.
* **Arrivals.** Poisson counts per day, hour, queue pool and channel:
  weekday and hour profiles (08:00-22:00 for phone and chat, lunch and evening
  peaks; e-mail arrives round the clock), a yearly seasonality, the 11.11
  shopping-festival peak and a two-week product-recall window.
* **Staffing and waits.** Each role is a queue pool. Full-time (7-10 h with a
  lunch hour) and part-time (3-6 h) shifts are re-drawn monthly by a greedy rota
  that follows the hourly profile (long shifts first), with weekly days off
  (mostly at weekends) and 4 % absence. The planned load of an hour follows
  square-root staffing, occupancy :math:`1 - 1.2/\\sqrt{n}` (at most 0.8), and
  the customers' own profile pulls demand away from the rota, so peaks
  outrun staffing. Per hour and pool an Erlang-C queue
  (probability of waiting and exponential conditional wait
  :math:`W \\mid W>0 \\sim \\mathrm{Exp}((N-A)/\\bar h)`) plus a fluid backlog
  carried across the hours of a day when arrivals outrun capacity. Patience is
  exponential; a caller abandons when patience < wait; 1.5 % hang up within
  5 s. E-mail never abandons and waits minutes to hours.
* **Handling.** Lognormal talk time (medians phone 300 s, chat 450 s, e-mail
  600 s) shortened by ``speed`` and ``g``; hold from ``hold_habit``; ACW from
  ``acw_habit``.
* **Outcomes.** True resolution
  :math:`P = \\mathrm{logistic}(1.3 + d_{topic} + 0.9\\,resolve + team - 0.3\\,recall)`;
  the agent flag overstates it (about half the unresolved are flagged resolved).
  Unresolved contacts bring the same customer back (same topic) within 1-5
  days with probability 0.6, abandoned ones call back within the hour with
  probability 0.4. CSAT/NPS/CES from ``empathy``, resolution and wait; about
  16 % answer the survey, happier customers more often. QA reviews a 5 %
  random sample, score from ``diligence``. One ticket per e-mail; resolved
  tickets are solved in about 10 h, unresolved ones take days.
* **Gaming agents.** :data:`GAMING_SHARE` of the agents (3 of 60) close contacts that are not
  resolved: they flag :data:`GAMING_FLAG_P` of their unresolved contacts resolved, so their
  agent-flag resolution exceeds what their customers report and what the repeat contacts show
  (``truth["gaming"]``, ``truth["agents"][id]["gaming"]``; own random stream, nothing else moves).
* **Measurement methods.** Measures of one construct by different methods
  (repeat contacts, the agent's flag, the customer's answer, tickets) do not
  agree perfectly in a real centre: each related indicator has its own
  agent-level effect (:data:`METHOD_EFFECTS`: ``flag_leniency``,
  ``survey_framing``, ``follow_up_ownership``, ``closing_care``,
  ``ticket_speed``, ``nps_tilt``, ``effort_ease``, ``survey_ask``,
  ``compliance``), independent of the traits and of the outcome. Pooled over
  12 months across 60 agents, related measures correlate at about 0.5-0.85 and
  only the planted near-copies (``csat_top2``, ``resolved_within_24h``,
  ``cost_per_contact``) exceed 0.9 (truth.json ``correlation_structure``).
  Since version 1.2.0; the demo data of 1.1 had every resolution and survey
  measure at |r| 0.94-0.99.
* **Customer outcome.**
  :math:`P(\\text{retained}) = \\mathrm{logistic}(a + 0.50\\,resolve + 0.30\\,empathy
  + 0.22\\,diligence - 0.35\\,unresolved - 0.30\\,[wait > 120 s] - 0.40\\,recall)`.

References
----------
.. [1] Gans, N., Koole, G. and Mandelbaum, A. (2003). Telephone call centers:
   tutorial, review, and research prospects. *Manufacturing & Service
   Operations Management* 5(2), 79-141 (Erlang C, abandonment, arrival profiles).
.. [2] Brown, L. et al. (2005). Statistical analysis of a telephone call center:
   a queueing-science perspective. *JASA* 100(469), 36-50 (lognormal service
   times, exponential patience).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kpilab._validation import Interval, Options, check_params
from kpilab.errors import ParameterError

__all__ = [
    "SIMULATOR_VERSION",
    "SimParams",
    "check_simulation_params",
    "Simulation",
    "simulate",
    "write_simulation",
    "read_manifest",
    "manifest_matches",
    "TABLE_NAMES",
    "BETAS",
]

SIMULATOR_VERSION = "1.2.0"
TABLE_NAMES = ("contacts", "surveys", "qa_reviews", "tickets", "agents", "exemptions")
TIMEZONE = "Asia/Shanghai (naive local time)"
REALISM = ("clean", "messy")
MESSY_ZONE = "Europe/London"
MESSY_TIMEZONE = (f"{MESSY_ZONE} (tz-aware; the simulated wall clock localised, so the UTC offset is +00:00 "
                  "in winter and +01:00 in summer)")

# ---------------------------------------------------------------------------
# constants of the model (documented in truth.json under "mechanisms")
# ---------------------------------------------------------------------------
OPEN_H, CLOSE_H = 8, 22
N_BH = CLOSE_H - OPEN_H
LIVE_PROFILE = np.array([0.45, 0.75, 0.95, 1.0, 1.2, 1.1, 0.9, 0.85, 0.85, 0.9, 0.95, 1.15, 1.2, 0.8])
EMAIL_PROFILE = np.array([0.15] * 7 + [0.4] + [1.0] * 14 + [0.6, 0.4])
DOW_FACTOR = np.array([1.15, 1.05, 1.0, 1.0, 1.0, 0.8, 0.75])  # Mon..Sun
CHANNELS = ("phone", "chat", "email")
LIVE_SPLIT = np.array([0.62, 0.38])  # phone, chat among live contacts
EMAIL_SHARE = 0.13
TALK_MEDIAN = np.array([300.0, 450.0, 600.0])
TALK_SIGMA = 0.5
# ACW and the hold probability are the same on every channel on purpose: an agent's channel mix
# depends on the hours worked (overnight e-mail is answered in the morning), and channel-specific
# levels would turn the pure-noise habits into proxies of the shift, hence of waits and retention.
ACW_MEDIAN = np.array([50.0, 50.0, 50.0])
HOLD_BASE = np.array([0.2, 0.2, 0.2])  # e-mail "hold": parked while consulting a colleague
HOLD_MEDIAN = 45.0
CHAT_CONCURRENCY = 2.0
PATIENCE_MEAN = np.array([420.0, 600.0])
SHORT_ABANDON_P = 0.015
LIVE_FRACTION = 0.65  # share of on-shift time available to the live queue
PROFILE_WEIGHT = 0.2  # how much of the customers' hourly profile the rota fails to follow
SQRT_STAFFING_BETA = 1.2
MAX_OCCUPANCY = 0.8
REPEAT_INFLATION = 1.2  # expected volume incl. repeat contacts / first contacts
RHO = 0.25
RAMP_PENALTY, RAMP_DAYS = 0.8, 90.0
TRAITS = ("resolve", "empathy", "diligence", "speed")
HABITS = ("hold_habit", "acw_habit", "shift_length", "responsiveness")
# Well separated so that regression on the agent panel can rank the drivers by importance in every
# seed (0.40/0.30/0.20 let csat and fcr swap in about a third of 50-agent centres: csat also carries
# resolution and wait effects), while the weakest driver still correlates >= ~0.4 with retention.
BETAS = {"resolve": 0.50, "empathy": 0.30, "diligence": 0.22}
CONTACT_EFFECTS = {"unresolved": -0.35, "long_wait": -0.30, "recall": -0.40}
LONG_WAIT_S = 120.0
BASE_RETENTION = 0.85
RECALL_MULT = {"front_line": 1.7, "technical_support": 1.3}
HOLIDAY_MULT, HOLIDAY_PRE_MULT = 1.5, 1.15
REPEAT_P_UNRESOLVED, REPEAT_P_RESOLVED, CALLBACK_P_ABANDONED = 0.6, 0.04, 0.4
# Gaming agents close contacts that are not resolved: they flag GAMING_FLAG_P of their unresolved
# contacts resolved (instead of their flag_leniency share), so their system (agent-flag) resolution
# exceeds what their customers report. Drawn from their own random stream ("gaming"), so every other
# table value of a seed is unchanged; only contacts.resolved of these agents' contacts moves.
GAMING_SHARE, GAMING_FLAG_P = 0.05, 0.95
STICKY_ROUTING = 0.6  # share of follow-ups scheduled with the previous agent (when they work that day)
TOPICS = {
    "front_line": (
        ("order_status", 0.30, 0.7),
        ("delivery", 0.25, 0.3),
        ("refund", 0.20, -0.1),
        ("billing", 0.15, -0.3),
        ("complaint", 0.10, -0.7),
    ),
    "technical_support": (
        ("account_access", 0.30, 0.4),
        ("device_setup", 0.30, 0.0),
        ("fault", 0.25, -0.4),
        ("app_bug", 0.15, -0.6),
    ),
}
RECALL_TOPIC, RECALL_DIFFICULTY = "product_recall", -0.4
ROLES = ("front_line", "technical_support")
SITES = ("Shanghai", "Chengdu")

# Measurement-method effects: one agent-level N(0, 1) draw per related indicator, independent of the
# traits, the habits and the customer outcome. Each moves only its own indicator, the way an agent's
# flagging habit, survey framing or ticket routine moves one measure of a construct and not the others,
# so measures of the same construct by different methods agree at |r| ~0.5-0.85 across agents instead
# of ~0.97 (``CORRELATION_GROUPS``). Keys: effect -> (indicator it moves, coefficient, scale).
METHOD_EFFECTS = {
    "flag_leniency": ("fcr_agent", 0.95, "logit of flagging an unresolved contact resolved (base 0.5)"),
    "survey_framing": ("fcr_survey", 0.8, "logit of a customer reporting resolution (base 90 % accurate)"),
    "follow_up_ownership": ("repeat_contact_rate", 1.0,
                            "logit of a follow-up being scheduled with the same agent (base 0.6)"),
    "closing_care": ("reopen_rate", 0.35, "minus logit of a reopen"),
    "ticket_speed": ("time_to_resolution", 0.55, "minus log of the solve time of resolved tickets"),
    "nps_tilt": ("nps", 0.45, "points on the 0-10 recommend scale (the agent's customer segment mix)"),
    "effort_ease": ("ces", 0.33, "points on the 1-7 effort scale (transfers, repeated questions)"),
    "survey_ask": ("survey_response_rate", 0.18, "logit of answering the survey (the agent invites it)"),
    "compliance": ("qa_critical_fail_rate", 0.8, "minus logit of a critical fail"),
}

# Training programme (``simulate(training=True)``): staggered cohorts trained on the Monday nearest
# before these fractions of the span, a quarter of the agents never trained, and an effect on the QA
# score that differs by cohort (earlier cohorts gain more) and grows with the days since training:
# effect(d) = points_k * (1 - exp(-(d + 1) / ramp)), d >= 0 days since training (0 before).
TRAINING_COURSE = "quality_and_compliance"
TRAINING_INDICATOR = "qa_score"
TRAINING_COHORT_AT = (0.3, 0.5, 0.7)
TRAINING_POINTS = (6.0, 4.0, 2.5)
TRAINING_RAMP_DAYS = 28.0
TRAINING_NEVER_SHARE = 0.25
TRAINING_RATING = (4.0, 0.8)  # course rating 1-5: rounded N(mean, sd), clipped

_COMPONENTS = (
    "agents", "staffing", "arrivals", "queue", "handling", "outcomes", "repeats",
    "surveys", "qa", "tickets", "retention", "customers",
    # appended, so the streams above are unchanged (SeedSequence.spawn keys children by position)
    "methods", "defects", "gaming", "training",
)


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


# ---------------------------------------------------------------------------
# parameters and result
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SimParams:
    """Parameters of one simulation (recorded in the manifest)."""

    agents: int = 60
    months: int = 12
    seed: int = 42
    start: str = "2025-01-01"
    realism: str = "clean"
    training: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not self.training:  # manifests of simulations without a training programme stay as they were
            d.pop("training")
        return d


@dataclass(frozen=True)
class Simulation:
    """Result of :func:`simulate`.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        The canonical tables ``contacts, surveys, qa_reviews, tickets, agents,
        exemptions`` (see :mod:`kpilab.schema`).
    truth : dict
        The planted truth (content of ``truth.json``): agents' traits, the role of
        every framework indicator, the betas of the customer outcome, event dates.
    params : SimParams
        The parameters used.
    training : pandas.DataFrame or None
        With ``training=True``: the training table (agent_id, course, trained_at, rating), kept
        apart from the canonical ``tables`` (the panel engine reads those) and written as
        ``training.parquet``.
    """

    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any]
    params: SimParams
    version: str = SIMULATOR_VERSION
    row_counts: dict[str, int] = field(default_factory=dict)
    training: pd.DataFrame | None = None

    def summary(self) -> str:
        """One line per table with its row count, plus the planted events."""
        lines = [f"kpilab simulation v{self.version}: {self.params.to_dict()}"]
        for name, df in self.tables.items():
            lines.append(f"  {name:<11} {len(df):>10,d} rows")
        if self.training is not None:
            lines.append(f"  {'training':<11} {len(self.training):>10,d} rows (planted effect on "
                         f"{TRAINING_INDICATOR}: truth['training'])")
        for d in self.truth.get("defects", []):
            if d["count"] and d["rows"] is not None:
                lines.append(f"  defect {d['kind']} {d['table']}.{d['column'] or '*'}: {d['count']:,d} rows")
        ev = self.truth["events"]
        lines.append(f"  recall {ev['recall']['start']} .. {ev['recall']['end']}")
        for h in ev["holiday_peaks"]:
            lines.append(f"  holiday peak {h['name']} {h['start']} .. {h['end']}")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table ``table, rows``."""
        return pd.DataFrame({"table": list(self.tables), "rows": [len(d) for d in self.tables.values()]})


def check_simulation_params(agents: Any, months: Any, seed: Any, start: Any,
                            realism: Any = "clean") -> pd.Timestamp:
    """Validate the parameters of :func:`simulate` early; return ``start`` as a Timestamp.

    Raises
    ------
    ParameterError
        Naming the parameter, what it accepts and what it got: ``agents`` an integer
        >= 2, ``months`` an integer in [1, 36], ``seed`` an integer >= 0, ``start`` a
        date string ``YYYY-MM-DD``, ``realism`` ``"clean"`` or ``"messy"``.
    """
    check_params(
        {"agents": agents, "months": months, "seed": seed, "realism": realism},
        {
            "agents": Interval(2, None, integer=True),
            "months": Interval(1, 36, integer=True),
            "seed": Interval(0, None, integer=True),
            "realism": Options(*REALISM),
        },
        caller="simulate",
    )
    try:
        ts = pd.Timestamp(start)
    except (ValueError, TypeError):
        ts = None
    if ts is None or ts is pd.NaT or not isinstance(start, str):
        raise ParameterError(
            f"The 'start' parameter of simulate must be a date string YYYY-MM-DD. Got {start!r} instead."
        )
    if ts.tzinfo is not None or ts != ts.normalize():
        raise ParameterError(
            f"The 'start' parameter of simulate must be a plain date YYYY-MM-DD (no time, no zone). "
            f"Got {start!r} instead."
        )
    return ts


# ---------------------------------------------------------------------------
# calendar
# ---------------------------------------------------------------------------
@dataclass
class _Calendar:
    start: pd.Timestamp
    days: pd.DatetimeIndex
    n_days: int
    dow: np.ndarray
    month_idx: np.ndarray
    base_mult: np.ndarray  # seasonality x weekday
    holiday: np.ndarray  # multiplier (1 outside)
    recall: np.ndarray  # bool per day
    recall_start: pd.Timestamp
    recall_end: pd.Timestamp  # exclusive
    holidays: list[dict[str, str]]


def _calendar(start: pd.Timestamp, months: int) -> _Calendar:
    end = start + pd.DateOffset(months=months)
    days = pd.date_range(start, end - pd.Timedelta(days=1), freq="D")
    n = len(days)
    dow = days.day_of_week.to_numpy()
    doy = days.day_of_year.to_numpy()
    month_idx = ((days.year - start.year) * 12 + days.month - start.month).to_numpy()
    season = 1.0 + 0.10 * np.cos(2 * np.pi * (doy - 20) / 365.25)
    base = season * DOW_FACTOR[dow]
    holiday = np.ones(n)
    holidays = []
    for year in range(days[0].year, days[-1].year + 1):
        pre0, h0, h1 = pd.Timestamp(year, 11, 1), pd.Timestamp(year, 11, 11), pd.Timestamp(year, 11, 17)
        pre = (days >= pre0) & (days < h0)
        peak = (days >= h0) & (days <= h1)
        holiday[pre] = HOLIDAY_PRE_MULT
        holiday[peak] = HOLIDAY_MULT
        if peak.any():
            holidays.append(
                {"name": f"11.11 shopping festival {year}", "start": str(h0.date()), "end": str(h1.date()),
                 "multiplier": HOLIDAY_MULT}
            )
    # recall: 14 days starting at 45 % of the span, kept inside it
    length = min(14, max(1, n // 4))
    first = min(int(n * 0.45), n - length)
    recall = np.zeros(n, dtype=bool)
    recall[first:first + length] = True
    return _Calendar(
        start=start, days=days, n_days=n, dow=dow, month_idx=month_idx, base_mult=base, holiday=holiday,
        recall=recall, recall_start=days[first], recall_end=days[first + length - 1] + pd.Timedelta(days=1),
        holidays=holidays,
    )


# ---------------------------------------------------------------------------
# agents
# ---------------------------------------------------------------------------
def _make_agents(n: int, start: pd.Timestamp, rng: np.random.Generator) -> dict[str, Any]:
    n_teams = max(2, int(round(n / 10)))
    team_of = np.sort(np.arange(n) % n_teams)
    team_role = np.array([ROLES[1] if t % 3 == 1 else ROLES[0] for t in range(n_teams)])
    team_site = np.array([SITES[t % 2] for t in range(n_teams)])
    k_lat = 1 + len(TRAITS) + len(HABITS)
    Z = rng.standard_normal((n, k_lat))  # columns: g, specific parts u_k, habits
    orthogonal = n >= 3 * k_lat
    if orthogonal:
        # make the latent draws exactly uncorrelated in the sample (centred QR, unit SD), so the
        # planted structure (traits related only through g, habits unrelated to anything) holds
        # in this sample too and not only in expectation
        q, r = np.linalg.qr(Z - Z.mean(axis=0))
        Z = q * np.sign(np.diag(r)) * math.sqrt(n)
    g = Z[:, 0]
    traits = {k: math.sqrt(RHO) * g + math.sqrt(1 - RHO) * Z[:, 1 + i] for i, k in enumerate(TRAITS)}
    habits = {k: Z[:, 1 + len(TRAITS) + i] for i, k in enumerate(HABITS)}
    team_effect = rng.normal(0.0, 0.25, n_teams)
    full_time = rng.random(n) < 0.8
    # tenure: 15 % hired in the 120 days before the start, the rest 0.3-8 years before
    recent = rng.random(n) < 0.15
    tenure_days = np.where(recent, rng.uniform(0, 120, n), 110 + rng.exponential(700, n))
    tenure_days = np.minimum(tenure_days, 8 * 365).astype(int)
    hire = (start - pd.to_timedelta(tenure_days, unit="D")).to_numpy()
    ids = np.array([f"A{i + 1:04d}" for i in range(n)])
    return {
        "n": n, "ids": ids, "team": team_of, "team_names": np.array([f"T{t + 1:02d}" for t in range(n_teams)]),
        "role": team_role[team_of], "site": team_site[team_of], "g": g, "traits": traits, "habits": habits,
        "team_effect": team_effect, "full_time": full_time, "hire": hire,
        "hire_day": ((hire - start.to_datetime64()) / np.timedelta64(1, "D")).astype(int),
        "orthogonal": bool(orthogonal), "latent": Z,
    }


def _method_effects(ag: dict[str, Any], rng: np.random.Generator) -> tuple[dict[str, np.ndarray], bool]:
    """Agent-level measurement-method effects (``METHOD_EFFECTS``), N(0, 1) each.

    When the centre is large enough (and the traits were orthogonalised) the draws are made
    exactly uncorrelated in the sample with the traits, the habits and each other (QR of the
    joint centred matrix), as :func:`_make_agents` does for the traits.
    """
    n = ag["n"]
    k = len(METHOD_EFFECTS)
    M = rng.standard_normal((n, k))
    lat = ag["latent"]
    orthogonal = bool(ag["orthogonal"]) and n >= 3 * (lat.shape[1] + k)
    if orthogonal:
        q, r = np.linalg.qr(np.column_stack([lat - lat.mean(axis=0), M - M.mean(axis=0)]))
        M = (q * np.sign(np.diag(r)))[:, lat.shape[1]:] * math.sqrt(n)
    return {name: M[:, i] for i, name in enumerate(METHOD_EFFECTS)}, orthogonal


def _training_programme(ag: dict[str, Any], cal: _Calendar, rng: np.random.Generator) -> dict[str, Any]:
    """Cohort, training day (day index, -1 never) and course rating of every agent.

    The cohorts are trained on Mondays (so a week panel's training week is wholly treated), at
    :data:`TRAINING_COHORT_AT` of the span; :data:`TRAINING_NEVER_SHARE` of the agents (at least one)
    are never trained and the others are split evenly over the cohorts at random.
    """
    n = ag["n"]
    days: list[int] = []
    for f in TRAINING_COHORT_AT:
        d = int(f * cal.n_days)
        d -= int(cal.dow[d])  # back to the Monday of that week
        if d <= 0:  # a very short span: the first Monday after the start
            d = int((7 - cal.dow[0]) % 7) or 7
        if d < cal.n_days and d not in days:
            days.append(d)
    perm = rng.permutation(n)
    n_never = max(1, int(round(TRAINING_NEVER_SHARE * n)))
    cohort = np.full(n, -1)
    trained = perm[n_never:]
    cohort[trained] = np.arange(len(trained)) % len(days)
    rating = np.clip(np.round(rng.normal(*TRAINING_RATING, n)), 1, 5)
    day = np.where(cohort >= 0, np.asarray(days)[np.maximum(cohort, 0)], -1)
    points = np.asarray(TRAINING_POINTS[:len(days)])
    return {"cohort": cohort, "day": day, "cohort_days": days, "points": points, "rating": rating}


def _training_effect(train: dict[str, Any], agent: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Planted effect (QA points) on work done by ``agent`` on ``day``.

    .. math::
        \\delta_{k}(d) = p_k\\,\\bigl(1 - e^{-(d + 1)/28}\\bigr),\\quad d = \\text{day} - \\text{day}_k \\ge 0

    with :math:`p_k` the cohort's full effect (:data:`TRAINING_POINTS`), 0 before training and for
    agents never trained.
    """
    k = train["cohort"][agent]
    since = day - train["day"][agent]
    full = train["points"][np.maximum(k, 0)]
    eff = full * (1.0 - np.exp(-(since + 1.0) / TRAINING_RAMP_DAYS))
    return np.where((k >= 0) & (since >= 0), eff, 0.0)


def _period_start(dates: pd.DatetimeIndex, period: str) -> pd.DatetimeIndex:
    """First day of the week (Monday) or month of each date: the panel's period labels."""
    if period == "week":
        return dates - pd.to_timedelta(dates.day_of_week, unit="D")
    return dates.to_period("M").to_timestamp()


def _training_truth(ag: dict[str, Any], cal: _Calendar, qa: dict[str, np.ndarray]) -> dict[str, Any]:
    """The ``training`` section of truth.json: the programme and the realised effect on the QA score.

    The true ATT of a period type is the mean, over the treated agent-periods from the training
    period on that hold at least one QA review, of the cell's mean realised effect (final score
    with the effect minus without): the estimand of a difference-in-differences on the agent x
    period panel of ``qa_score`` (equal weight per agent-period). Relative period 0 is the period
    that contains the training day.
    """
    train = ag["training"]
    r6 = lambda x: round(float(x), 6)  # noqa: E731
    dates = cal.start + pd.to_timedelta(qa["day"], unit="D")
    cohorts = []
    for k, d in enumerate(train["cohort_days"]):
        members = np.flatnonzero(train["cohort"] == k)
        cohorts.append({"cohort": k + 1, "trained_at": str((cal.start + pd.Timedelta(days=d)).date()),
                        "agents": [str(a) for a in ag["ids"][members]],
                        "full_effect_points": float(train["points"][k]),
                        "mean_rating": r6(train["rating"][members].mean()) if len(members) else None})
    by_period = {}
    for period, per_quarter, two_weeks in (("week", 13, 2), ("month", 3, 0)):
        p_start = _period_start(pd.DatetimeIndex(dates), period)
        df = pd.DataFrame({"agent": qa["agent"], "period": p_start, "effect": qa["effect"]})
        cells = df.groupby(["agent", "period"], as_index=False)["effect"].mean()
        k = train["cohort"][cells["agent"].to_numpy()]
        cells = cells[k >= 0].copy()
        tday = cal.start + pd.to_timedelta(train["day"][cells["agent"].to_numpy()], unit="D")
        g = _period_start(pd.DatetimeIndex(tday), period)
        if period == "week":
            e = (cells["period"].to_numpy() - g.to_numpy()) // np.timedelta64(7, "D")
        else:
            e = ((cells["period"].dt.year.to_numpy() - g.year.to_numpy()) * 12
                 + cells["period"].dt.month.to_numpy() - g.month.to_numpy())
        cells["e"] = e.astype(int)
        cells["cohort"] = train["cohort"][cells["agent"].to_numpy()] + 1
        post = cells[cells["e"] >= 0]
        by_period[period] = {
            "att": r6(post["effect"].mean()),
            "att_quarter": r6(post.loc[post["e"] < per_quarter, "effect"].mean()),
            "quarter_relative_periods": [0, per_quarter - 1],
            "two_weeks_relative_period": two_weeks,
            "att_two_weeks": r6(post.loc[post["e"] == two_weeks, "effect"].mean()),
            "treated_cells": int(len(post)),
            "by_cohort": {str(c): r6(v) for c, v in post.groupby("cohort")["effect"].mean().items()},
            "by_relative_period": {str(int(e_)): r6(v)
                                   for e_, v in post.groupby("e")["effect"].mean().items()},
        }
    return {
        "indicator": TRAINING_INDICATOR,
        "course": TRAINING_COURSE,
        "effect": "points_k * (1 - exp(-(days since training + 1) / ramp_days)) added to the QA score of "
                  "work "
                  "done from the training day on (after a critical fail halves the score; rounded, 0-100)",
        "ramp_days": TRAINING_RAMP_DAYS,
        "never_trained": [str(a) for a in ag["ids"][train["cohort"] < 0]],
        "cohorts": cohorts,
        "estimand": "mean over treated agent-periods from the training period on (with >= 1 QA review) of "
                    "the "
                    "cell's mean realised effect; relative period 0 contains the training day",
        "by_period": by_period,
    }


# ---------------------------------------------------------------------------
# staffing: on_shift[day, business hour, agent]
# ---------------------------------------------------------------------------
def _shift_cover(start: int, length: int) -> np.ndarray:
    """Business hours (0..13) covered by a shift starting at business hour ``start``, lunch excluded."""
    cover = np.zeros(N_BH)
    cover[start:start + length] = 1.0
    if length >= 7:
        cover[start + length // 2] = 0.0
    return cover


def _staffing(ag: dict[str, Any], cal: _Calendar, rng: np.random.Generator) -> np.ndarray:
    n, nd = ag["n"], cal.n_days
    n_months = int(cal.month_idx.max()) + 1
    sh = ag["habits"]["shift_length"]
    length = np.where(ag["full_time"], np.clip(np.round(9 + 0.8 * sh), 7, 10),
                      np.clip(np.round(4.5 + 0.6 * sh), 3, 6)).astype(int)
    off_w = 1.0 / DOW_FACTOR**4
    off_w /= off_w.sum()
    n_off = np.where(ag["full_time"], 2, 3)
    start_h = np.empty((n_months, n), dtype=int)
    off = np.zeros((n_months, n, 7), dtype=bool)
    covers = {int(L): np.array([_shift_cover(s, int(L)) for s in range(N_BH - int(L) + 1)])
              for L in np.unique(length)}
    for m in range(n_months):  # loop over months x agents: cheap
        for role in ROLES:
            members = np.flatnonzero(ag["role"] == role)
            if not len(members):
                continue
            total = sum(covers[int(length[a])][0].sum() for a in members)
            target = LIVE_PROFILE / LIVE_PROFILE.sum() * total
            deficit = target.copy()
            perm = rng.permutation(members)
            for a in perm[np.argsort(-length[perm], kind="stable")]:  # long shifts first, short ones fill gaps
                # greedy: the start covering the largest relative shortfall (with a little noise)
                cv = covers[int(length[a])]
                score = (cv @ (deficit / target)) / cv.sum() + rng.gumbel(0.0, 0.05, len(cv))
                s0 = int(np.argmax(score))
                start_h[m, a] = OPEN_H + s0
                deficit = deficit - cv[s0]
        for a in range(n):
            off[m, a, rng.choice(7, size=n_off[a], replace=False, p=off_w)] = True
    day_m = cal.month_idx
    works = ~off[day_m[:, None], np.arange(n)[None, :], cal.dow[:, None]]  # (days, agents)
    works &= rng.random((nd, n)) >= 0.04  # absence
    works &= np.arange(nd)[:, None] >= ag["hire_day"][None, :]
    hours = np.arange(OPEN_H, CLOSE_H)[None, :, None]
    s = start_h[day_m][:, None, :]
    L = length[None, None, :]
    lunch = np.where(L >= 7, s + L // 2, -1)
    on = works[:, None, :] & (hours >= s) & (hours < s + L) & (hours != lunch)
    # every pool needs two agents (one when it has one member) in every open hour: overtime
    for role in ROLES:
        members = np.flatnonzero(ag["role"] == role)
        if not len(members):
            continue
        for _ in range(min(2, len(members))):
            short = on[:, :, members].sum(axis=2) < min(2, len(members))
            if not short.any():
                break
            di, hi = np.nonzero(short)
            pick = members[rng.integers(0, len(members), size=len(di))]
            on[di, hi, pick] = True
    return on


# ---------------------------------------------------------------------------
# queue model per pool: Erlang C + fluid backlog
# ---------------------------------------------------------------------------
def _erlang_c(a: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Probability of waiting, Erlang C, vectorised (a < n required).

    .. math:: B_k = \\frac{a B_{k-1}}{k + a B_{k-1}},\\quad C = \\frac{n B_n}{n - a (1 - B_n)}
    """
    b = np.ones_like(a)
    for k in range(1, int(n.max()) + 1):
        upd = k <= n
        b = np.where(upd, a * b / (k + a * b), b)
    return n * b / (n - a * (1 - b))


def _target_occupancy(n_servers: np.ndarray) -> np.ndarray:
    """Planned occupancy of a pool of ``n_servers`` (array): square-root staffing.

    .. math:: n = a + \\beta\\sqrt{a} \\Rightarrow \\text{occupancy} = a/n \\approx 1 - \\beta/\\sqrt{n},\\ \\beta = 1.2, clipped to [0.25, 0.8]

    (Halfin-Whitt regime; Gans, Koole and Mandelbaum 2003, section 4.1.)
    """
    n = np.maximum(np.asarray(n_servers, dtype=float), 1.0)
    return np.clip(1.0 - SQRT_STAFFING_BETA / np.sqrt(n), 0.25, MAX_OCCUPANCY)


def _queue(lam: np.ndarray, staff: np.ndarray, work_s: float, patience: float) -> dict[str, np.ndarray]:
    """Hourly queue state for one pool; ``lam`` and ``staff`` are (days, business hours)."""
    n_live = np.maximum(1, np.round(staff * LIVE_FRACTION)).astype(int)
    a = lam * work_s / 3600.0
    a_c = np.minimum(a, 0.95 * n_live)
    pw = _erlang_c(a_c, n_live)
    cond_mean = work_s / (n_live - a_c)
    cap = 0.95 * n_live * 3600.0 / work_s  # contacts per hour
    backlog_w = np.zeros_like(lam)
    b = np.zeros(lam.shape[0])
    w_prev = np.zeros(lam.shape[0])
    for h in range(lam.shape[1]):  # loop over the hours of the day, vectorised over days
        inflow = lam[:, h] * (1 - w_prev / (w_prev + patience))
        b_end = np.maximum(0.0, b + inflow - cap[:, h])
        w = 0.5 * (b + b_end) / cap[:, h] * 3600.0
        backlog_w[:, h] = w
        b, w_prev = b_end, w
    return {"pw": pw, "cond_mean": cond_mean, "backlog_w": backlog_w, "n_live": n_live, "load": a / n_live}


# ---------------------------------------------------------------------------
# the simulation
# ---------------------------------------------------------------------------
def _pick_agents(on_pool: np.ndarray, members: np.ndarray, cell: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Uniform pick among the pool's on-shift agents of each contact's cell."""
    flat = on_pool.reshape(-1, on_pool.shape[-1])
    rows, cols = np.nonzero(flat)
    counts = np.bincount(rows, minlength=flat.shape[0])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    k = counts[cell]
    idx = starts[cell] + np.minimum((u * k).astype(int), k - 1)
    return members[cols[idx]]


def simulate(agents: int = 60, months: int = 12, seed: int = 42, start: str = "2025-01-01",
             realism: str = "clean", training: bool = False) -> Simulation:
    """Simulate a contact centre with planted truth.

    Parameters
    ----------
    agents : int, default 60
        Number of agents (>= 2); about ten per team.
    months : int, default 12
        Length of the simulated period, 1 to 36 months.
    seed : int, default 42
        Seed of the single :func:`numpy.random.default_rng`; each component draws
        from its own spawned child generator.
    start : str, default "2025-01-01"
        First day, ``YYYY-MM-DD``.
    realism : {"clean", "messy"}, default "clean"
        ``"messy"`` adds the defects of real exports to the clean tables of the same
        seed (drawn from a separate generator, so nothing else changes) and lists
        every one in ``truth["defects"]`` (see Notes).
    training : bool, default False
        Add a staggered training programme with a planted effect on the QA score
        (:func:`_training_programme`): a ``training`` table (agent_id, course, trained_at,
        rating), ``agents.trained_at`` and ``truth["training"]`` (true ATT overall, over the
        quarter after training, per cohort and per relative week and month). Drawn from its own
        random stream, so with ``training=False`` every table and truth.json are as before.

    Returns
    -------
    Simulation
        ``.tables`` (canonical tables, rows sorted, fixed dtypes), ``.truth``,
        ``.params``. Same parameters give identical tables.

    Raises
    ------
    ParameterError
        When a parameter is out of range.

    Notes
    -----
    The customer outcome of an answered contact is

    .. math::
        P(\\text{retained}) = \\mathrm{logistic}\\big(a + 0.50\\,resolve_e + 0.30\\,empathy_e
        + 0.22\\,diligence_e - 0.35\\,\\text{unresolved} - 0.30\\,[W > 120\\,s]
        - 0.40\\,\\text{recall}\\big)

    with the agent's ramped-up traits (SD units) and :math:`a` set so the base rate is
    about 0.85. The queue uses Erlang C per hour [1]_ with lognormal service times and
    exponential patience [2]_.

    **Correlation structure.** ``truth["correlation_structure"]`` states what a health
    review should find across agents (values pooled over the months): ``groups`` of
    related measures of one construct with the intended ``r_range`` of their pairwise
    |r| (near-copy pairs excepted), the ``near_copies`` (|r| > 0.9, the only pairs that
    exceed it), ``between_groups_max_r``, the ``noise`` indicators' largest |r| with the
    outcome, the drivers' smallest r with it, and the ``method_effects`` (agent-level
    draws, one per related indicator, recorded per agent in ``truth["agents"]``).

    **Defects** (``realism="messy"``; ``[]`` when clean). ``truth["defects"]`` is a
    list of entries, each with the keys, in this order:

    * ``kind`` - ``missing_value`` (answered contacts with ``talk_s`` NULL),
      ``negative_duration`` (``acw_s`` negated), ``abandon_wait_unknown`` (abandoned
      contacts written with ``ended_at = arrived_at``, i.e. a 0 s wait: ``ended_at`` is
      required, so the unknown wait cannot be NULL; ``detail.scheme`` says so),
      ``mixed_channel_queue`` (e-mails logged in the pool's ``_phone`` queue),
      ``out_of_range`` (surveys: ``csat`` coded 0, ``nps`` coded 99; ``detail.value``),
      ``tz_aware`` (every timestamp of the table is ``datetime64[us, Europe/London]``: the
      simulated wall clock localised, so periods fall on the same local days and the UTC
      offset is +00:00 in winter, +01:00 in summer; ``detail.columns``, ``detail.zone``),
      ``dst_nonexistent`` (a wall time in the spring-forward gap, moved on by
      ``detail.shift_s``), ``dst_ambiguous`` (a wall time in the repeated autumn hour,
      read as the summer-time occurrence), ``dst_elapsed`` (``column - detail.from_column``
      as elapsed time differs from the wall-clock difference; ``detail.seconds`` =
      elapsed - wall clock, parallel to ``ids``), ``duplicate_row`` (an exact copy
      inserted right after its original: contacts repeat the ``contact_id``; QA reviews
      have no id).
    * ``table``, ``column`` - where (``column`` None for whole-row defects without an id).
    * ``count`` - rows affected in the returned table (for ``duplicate_row``: the copies).
    * ``id_column``, ``ids`` - the id of each affected row (``contact_id``, ``ticket_id``;
      for QA reviews the reviewed ``contact_id``), None for bulk entries and exemptions.
    * ``rows`` - 0-based positions of the affected rows in the returned table (the
      copies for ``duplicate_row``; the first occurrence otherwise), None for bulk entries.
    * ``where`` - for bulk entries (``tz_aware``, ``mixed_channel_queue``), the rows as a
      pandas query (``"all rows"``, ``"channel == 'email'"``); None otherwise.
    * ``expected_reason`` - the reason :func:`kpilab.schema.validate_table` (and the panel
      engine) gives when it excludes the row (``"negative acw_s"``, ``"below 1 csat"``,
      ``"nps above 10"``, ``"duplicate id"``, ``"duplicate row"``), None when the row is valid as it stands.
    * ``detail`` - kind-specific values (above); ``note`` - a sentence for people.

    Every kind is always listed (``count`` may be 0, e.g. no daylight-saving switch in
    the window). A row carries at most one of the row-level defects ``missing_value``,
    ``negative_duration``, ``abandon_wait_unknown``, the survey codes, or
    ``duplicate_row``; rows touched by a daylight-saving switch are never duplicated. So
    the rows a panel excludes are exactly those with an ``expected_reason``, and the
    messy tables equal the clean ones of the same seed except where an entry says.
    Rates: :data:`DEFECT_RATES` of the eligible rows (at least one row each).

    References
    ----------
    .. [1] Gans, Koole and Mandelbaum (2003), *M&SOM* 5(2), 79-141.
    .. [2] Brown et al. (2005), *JASA* 100(469), 36-50.
    """
    ts = check_simulation_params(agents, months, seed, start, realism)
    if not isinstance(training, bool | np.bool_):
        raise ParameterError(f"The 'training' parameter of simulate must be True or False. "
                             f"Got {training!r} instead.")
    params = SimParams(int(agents), int(months), int(seed), str(ts.date()), str(realism), bool(training))
    root = np.random.default_rng(params.seed)
    rng = dict(zip(_COMPONENTS, root.spawn(len(_COMPONENTS)), strict=True))

    cal = _calendar(ts, params.months)
    ag = _make_agents(params.agents, ts, rng["agents"])
    ag["methods"], ag["methods_orthogonal"] = _method_effects(ag, rng["methods"])
    rg = rng["gaming"]
    ag["gaming"] = np.zeros(params.agents, dtype=bool)
    ag["gaming"][rg.choice(params.agents, size=round(GAMING_SHARE * params.agents), replace=False)] = True
    on = _staffing(ag, cal, rng["staffing"])
    nd = cal.n_days
    ag["training"] = _training_programme(ag, cal, rng["training"]) if params.training else None

    # expected work per live contact (seconds of agent time)
    ln_mean = math.exp(TALK_SIGMA**2 / 2)
    hold_mean = HOLD_BASE[:2] * HOLD_MEDIAN * math.exp(0.18)
    acw_mean = ACW_MEDIAN[:2] * math.exp(0.45**2 / 2)
    work = TALK_MEDIAN[:2] * ln_mean + hold_mean + acw_mean
    work[1] /= CHAT_CONCURRENCY
    live_work = float(LIVE_SPLIT @ work)
    patience = float(LIVE_SPLIT @ PATIENCE_MEAN)

    # ---- arrivals (generation 0) -------------------------------------------
    ra = rng["arrivals"]
    prof = LIVE_PROFILE / LIVE_PROFILE.sum()
    eprof = EMAIL_PROFILE / EMAIL_PROFILE.sum()
    arr_parts = []
    queues = {}
    pool_members = {}
    lam_day_norm = {}
    for p, role in enumerate(ROLES):
        members = np.flatnonzero(ag["role"] == role)
        pool_members[role] = members
        if len(members) == 0:
            continue
        staff = on[:, :, members].sum(axis=2).astype(float)
        # calibrate: normal-day live load = planned occupancy x live capacity
        n_live = np.maximum(1, np.round(staff * LIVE_FRACTION))
        # demand shape per weekday and hour: the customers' profile, partly met by the rota
        # (planners staff to the forecast, imperfectly: peaks outrun staffing)
        rota = np.array([n_live[cal.dow == d].mean(axis=0) if (cal.dow == d).any() else n_live.mean(axis=0)
                         for d in range(7)])
        planned = rota * _target_occupancy(rota)  # Erlangs the rota can carry, per weekday and hour
        cust = DOW_FACTOR[:, None] * prof[None, :]
        shape_dh = (planned / planned.mean()) ** (1 - PROFILE_WEIGHT) * (cust / cust.mean()) ** PROFILE_WEIGHT
        season = cal.base_mult / DOW_FACTOR[cal.dow]
        shape = season[:, None] * shape_dh[cal.dow]
        base = planned[cal.dow].sum() * 3600.0 / live_work / shape.sum() / REPEAT_INFLATION
        rmult = np.where(cal.recall, RECALL_MULT[role], 1.0)
        day_mult = cal.holiday * rmult
        lam_live = base * day_mult[:, None] * shape
        lam_day_norm[role] = cal.holiday * rmult
        # queue state uses the expected volume incl. repeat contacts (~+20 %)
        queues[role] = _queue(lam_live * REPEAT_INFLATION, staff, live_work, patience)
        cnt_live = ra.poisson(lam_live[:, :, None] * LIVE_SPLIT[None, None, :])  # (days, hours, 2)
        d_i, h_i, c_i = np.nonzero(cnt_live)
        rep = cnt_live[d_i, h_i, c_i]
        d_l = np.repeat(d_i, rep)
        h_l = np.repeat(h_i + OPEN_H, rep)
        c_l = np.repeat(c_i, rep)
        e_day = base * shape.sum(axis=1) * day_mult * EMAIL_SHARE / (1 - EMAIL_SHARE)
        cnt_e = ra.poisson(e_day[:, None] * eprof[None, :])  # (days, 24)
        d_e, h_e = np.nonzero(cnt_e)
        rep_e = cnt_e[d_e, h_e]
        d_e = np.repeat(d_e, rep_e)
        h_e = np.repeat(h_e, rep_e)
        d_all = np.concatenate([d_l, d_e])
        h_all = np.concatenate([h_l, h_e])
        c_all = np.concatenate([c_l, np.full(len(d_e), 2)])
        t = d_all * 86400.0 + h_all * 3600.0 + np.floor(ra.random(len(d_all)) * 3600.0)
        arr_parts.append((t, np.full(len(t), p), c_all))
    t0 = np.concatenate([x[0] for x in arr_parts])
    pool0 = np.concatenate([x[1] for x in arr_parts])
    ch0 = np.concatenate([x[2] for x in arr_parts])
    n0 = len(t0)
    # topics
    topic_names = [name for role in ROLES for name, _, _ in TOPICS[role]] + [RECALL_TOPIC]
    topic_diff = np.array([d for role in ROLES for _, _, d in TOPICS[role]] + [RECALL_DIFFICULTY])
    topic0 = np.empty(n0, dtype=int)
    offset = 0
    for p, role in enumerate(ROLES):
        sel = np.flatnonzero(pool0 == p)
        probs = np.array([w for _, w, _ in TOPICS[role]])
        topic0[sel] = offset + ra.choice(len(probs), size=len(sel), p=probs)
        offset += len(probs)
        day = (t0[sel] // 86400).astype(int)
        extra = (RECALL_MULT[role] - 1) / RECALL_MULT[role]
        is_recall = cal.recall[day] & (ra.random(len(sel)) < extra)
        if role == "front_line":
            topic0[sel[is_recall]] = len(topic_names) - 1
    # customers
    rc = rng["customers"]
    n_customers = max(1000, 3 * n0)
    cust0 = rc.integers(0, n_customers, size=n0)

    # ---- process generations -----------------------------------------------
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "t", "pool", "ch", "topic", "cust", "gen", "wait", "abandoned", "patience", "agent", "talk", "hold",
        "acw", "true_res", "flag_res", "recall")}
    t, pool, ch, topic, cust = t0, pool0, ch0, topic0, cust0
    prev_agent = np.full(n0, -1)  # agent of the contact a repeat follows up (-1: none)
    gen = 0
    rq, rh, ro, rr = rng["queue"], rng["handling"], rng["outcomes"], rng["repeats"]
    horizon = nd * 86400.0
    while len(t) and gen < 6:
        m = len(t)
        day = (t // 86400).astype(int)
        hour = ((t % 86400) // 3600).astype(int)
        live = ch < 2
        wait = np.zeros(m)
        abandoned = np.zeros(m, dtype=bool)
        pat = np.full(m, np.nan)
        # live waits
        bh = np.clip(hour - OPEN_H, 0, N_BH - 1)
        for p, role in enumerate(ROLES):
            sel = np.flatnonzero(live & (pool == p))
            if not len(sel):
                continue
            q = queues[role]
            dd, hh = day[sel], bh[sel]
            w = q["backlog_w"][dd, hh] * rq.uniform(0.7, 1.3, len(sel))
            waits_c = rq.random(len(sel)) < q["pw"][dd, hh]
            w += waits_c * rq.exponential(1.0, len(sel)) * q["cond_mean"][dd, hh]
            wait[sel] = np.round(w)
        pl = np.flatnonzero(live)
        pmean = PATIENCE_MEAN[ch[pl]]
        pt = np.maximum(1.0, np.round(rq.exponential(1.0, len(pl)) * pmean))
        short = rq.random(len(pl)) < SHORT_ABANDON_P
        pt[short] = rq.integers(1, 5, short.sum())
        pat[pl] = pt
        abandoned[pl] = (pt < wait[pl]) | short
        # e-mail waits: gap to opening + queue time depending on the day's load
        pe = np.flatnonzero(~live)
        if len(pe):
            te = t[pe]
            de, he = day[pe], hour[pe]
            open_t = np.where(he < OPEN_H, de * 86400.0 + OPEN_H * 3600,
                              np.where(he >= CLOSE_H, (de + 1) * 86400.0 + OPEN_H * 3600, te))
            load = _email_load(lam_day_norm, pool[pe], np.minimum(de, nd - 1))
            qwait = rq.exponential(1.0, len(pe)) * 2400.0 * load**3 + rq.uniform(60, 600, len(pe))
            ans = open_t + qwait
            for _ in range(4):  # push past-closing answers to the next morning
                dd = ans // 86400
                late = (ans - dd * 86400) >= CLOSE_H * 3600
                ans = np.where(late, ans + (24 - CLOSE_H + OPEN_H) * 3600.0, ans)
            wait[pe] = np.round(ans - te)
        answered = ~abandoned
        # agents: by the cell in which the contact is answered
        agent = np.full(m, -1)
        ans_t = t + wait
        a_day = np.minimum((ans_t // 86400).astype(int), nd - 1)
        a_hour = np.clip(((ans_t % 86400) // 3600).astype(int) - OPEN_H, 0, N_BH - 1)
        a_hour = np.where((ans_t // 86400) > nd - 1, N_BH - 1, a_hour)
        for p, role in enumerate(ROLES):
            sel = np.flatnonzero(answered & (pool == p))
            if not len(sel):
                continue
            members = pool_members[role]
            cell = a_day[sel] * N_BH + a_hour[sel]
            agent[sel] = _pick_agents(on[:, :, members], members, cell, rh.random(len(sel)))
        # last-agent routing: a scheduled follow-up goes to the previous agent when on shift then
        pa_ = prev_agent
        sticky = answered & (pa_ >= 0)
        sticky[sticky] = on[a_day[sticky], a_hour[sticky], pa_[sticky]]
        agent[sticky] = pa_[sticky]
        # handling
        ia = np.flatnonzero(answered)
        aa = agent[ia]
        tenure = day[ia] - ag["hire_day"][aa]
        ramp = RAMP_PENALTY * np.exp(-np.maximum(tenure, 0) / RAMP_DAYS)
        g_e = ag["g"][aa] - ramp
        sp_e = ag["traits"]["speed"][aa] - ramp
        cha = ch[ia]
        talk = np.round(TALK_MEDIAN[cha] * np.exp(-0.18 * sp_e - 0.08 * g_e + TALK_SIGMA * rh.standard_normal(len(ia))))
        hh_ = ag["habits"]["hold_habit"][aa]
        has_hold = rh.random(len(ia)) < _logistic(np.log(HOLD_BASE[cha] / (1 - HOLD_BASE[cha])) + 0.9 * hh_)
        hold = np.where(has_hold, np.round(HOLD_MEDIAN * np.exp(0.2 * hh_ + 0.6 * rh.standard_normal(len(ia)))), 0.0)
        acw = np.round(ACW_MEDIAN[cha] * np.exp(0.35 * ag["habits"]["acw_habit"][aa]
                                                + 0.45 * rh.standard_normal(len(ia))))
        # resolution
        in_recall = cal.recall[np.minimum(day, nd - 1)]
        res_logit = (1.3 + topic_diff[topic[ia]] + 0.9 * (ag["traits"]["resolve"][aa] - ramp)
                     + ag["team_effect"][ag["team"][aa]] - 0.3 * in_recall[ia])
        true_res = ro.random(len(ia)) < _logistic(res_logit)
        # the agent flag overstates resolution; how much is the agent's own habit (flag_leniency)
        lenient = _logistic(METHOD_EFFECTS["flag_leniency"][1] * ag["methods"]["flag_leniency"][aa])
        flag = true_res | (ro.random(len(ia)) < lenient)
        flag |= ag["gaming"][aa] & (rg.random(len(ia)) < GAMING_FLAG_P)  # gaming: closes unresolved contacts
        # store
        full = {
            "talk": np.full(m, np.nan), "hold": np.full(m, np.nan), "acw": np.full(m, np.nan),
            "true_res": np.zeros(m, dtype=np.int8) - 1, "flag_res": np.zeros(m, dtype=np.int8) - 1,
        }
        full["talk"][ia], full["hold"][ia], full["acw"][ia] = talk, hold, acw
        full["true_res"][ia], full["flag_res"][ia] = true_res, flag
        for k, v in (("t", t), ("pool", pool), ("ch", ch), ("topic", topic), ("cust", cust),
                     ("gen", np.full(m, gen)), ("wait", wait), ("abandoned", abandoned), ("patience", pat),
                     ("agent", agent), ("recall", in_recall)):
            cols[k].append(v)
        for k, v in full.items():
            cols[k].append(v)
        # repeats of this generation
        tr = full["true_res"]
        p_rep = np.where(tr == 0, REPEAT_P_UNRESOLVED, np.where(tr == 1, REPEAT_P_RESOLVED, 0.0))
        p_rep = np.where(abandoned & (pat >= 5), CALLBACK_P_ABANDONED, p_rep)
        go = rr.random(m) < p_rep
        idx = np.flatnonzero(go)
        is_cb = abandoned[idx]
        new_ch = np.where(rr.random(len(idx)) < 0.75, ch[idx], 0)
        new_ch = np.where(is_cb, ch[idx], new_ch)
        base_day = day[idx] + rr.integers(1, 6, len(idx))
        base_day = np.where(tr[idx] == 1, day[idx] + rr.integers(1, 11, len(idx)), base_day)
        hour_new = np.where(new_ch < 2, OPEN_H + rr.choice(N_BH, len(idx), p=prof),
                            rr.choice(24, len(idx), p=eprof))
        # last-agent routing: a share of follow-ups is scheduled with the previous agent, in an hour
        # that agent works on that day (when they work it); the others go to whoever is free
        # (the share is the agent's own habit around STICKY_ROUTING: follow_up_ownership)
        own = ag["methods"]["follow_up_ownership"][np.maximum(agent[idx], 0)]
        p_sticky = _logistic(_logit(STICKY_ROUTING) + METHOD_EFFECTS["follow_up_ownership"][1] * own)
        sticky_new = (agent[idx] >= 0) & (rr.random(len(idx)) < p_sticky) & (base_day < nd)
        si_ = np.flatnonzero(sticky_new)
        shift = on[base_day[si_], :, agent[idx][si_]]  # (k, business hours)
        works = shift.any(axis=1)
        pick_h = np.argmax(shift * rr.random(shift.shape), axis=1)
        hour_new[si_[works]] = OPEN_H + pick_h[works]
        sticky_new[si_[~works]] = False
        t_new = base_day * 86400.0 + hour_new * 3600.0 + np.floor(rr.random(len(idx)) * 3600.0)
        # callbacks after an abandon: 1-60 min later, next morning when closed
        t_cb = t[idx] + pat[idx] + np.floor(rr.uniform(60, 3600, len(idx)))
        sod = t_cb % 86400
        t_cb = np.where(sod >= CLOSE_H * 3600, (t_cb // 86400 + 1) * 86400 + OPEN_H * 3600 + (sod % 1800), t_cb)
        t_new = np.where(is_cb, t_cb, t_new)
        keep = t_new < horizon
        idx, t_new, new_ch, sticky_new = idx[keep], t_new[keep], new_ch[keep], sticky_new[keep]
        t, pool, ch, topic, cust = t_new, pool[idx], new_ch, topic[idx], cust[idx]
        prev_agent = np.where(sticky_new, agent[idx], -1)
        gen += 1

    # one sorted copy of every column (rows sorted by arrival, customer, generation)
    key = (np.concatenate(cols["t"]).astype(np.int64) << 34) | (np.concatenate(cols["cust"]).astype(np.int64) << 3)
    key |= np.concatenate(cols["gen"]).astype(np.int64)
    order = np.argsort(key, kind="stable")
    del key
    C = {}
    for k in list(cols):
        C[k] = np.concatenate(cols.pop(k))[order]
    del order
    tables, extra = _build_tables(C, ag, cal, params, rng, topic_names, queues)
    qa_training = extra.pop("qa_training", None)
    training_table = extra.pop("training_table", None)
    truth = _truth(ag, cal, params, extra)
    if ag["training"] is not None:
        truth["training"] = _training_truth(ag, cal, qa_training)
    for name in TABLE_NAMES:
        tables[name] = tables[name].reset_index(drop=True)
    if params.realism == "messy":
        tables, truth["defects"] = _messy(tables, rng["defects"])
        truth["timezone"] = MESSY_TIMEZONE
    return Simulation(tables=tables, truth=truth, params=params,
                      row_counts={k: len(v) for k, v in tables.items()}, training=training_table)


def _email_load(lam_day_norm: dict[str, np.ndarray], pool: np.ndarray, day: np.ndarray) -> np.ndarray:
    out = np.empty(len(pool))
    for p, role in enumerate(ROLES):
        sel = pool == p
        if sel.any():
            out[sel] = lam_day_norm[role][day[sel]]
    return out


def _ts(start: pd.Timestamp, seconds: np.ndarray) -> pd.Series:
    base = start.to_datetime64().astype("datetime64[s]")
    out = np.full(len(seconds), np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~np.isnan(seconds)
    out[ok] = base + seconds[ok].astype("int64").astype("timedelta64[s]")
    return pd.Series(out.astype("datetime64[us]"))


def _fmt_ids(prefix: str, nums: np.ndarray, width: int) -> pd.Series:
    """``prefix`` + zero-padded ``nums`` as a pandas string Series (vectorised, no Python loop)."""
    nums = np.asarray(nums, dtype=np.int64)
    n, w = len(nums), len(prefix) + width
    m = np.empty((n, w), dtype=np.uint8)
    m[:, :len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    for k in range(width):
        m[:, w - 1 - k] = 48 + (nums // 10**k) % 10
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(m.tobytes()))
    return pd.Series(arr.cast(pa.string()).to_pandas(), dtype="str")


def _ids(prefix: str, n: int, width: int = 9) -> pd.Series:
    return _fmt_ids(prefix, np.arange(1, n + 1), width)


def _take(labels: Any, idx: np.ndarray, mask: np.ndarray | None = None) -> pd.Series:
    """Labels picked by integer codes (null where ``mask``), as a pandas string Series."""
    dictionary = pa.array([str(x) for x in labels], type=pa.string())
    arr = dictionary.take(pa.array(np.asarray(idx, dtype=np.int64), mask=mask))
    return pd.Series(arr.to_pandas(), dtype="str")


def _str(values: Any) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def _build_tables(C, ag, cal, params, rng, topic_names, queues):  # noqa: ANN001, ANN202
    start = cal.start
    n = len(C["t"])
    answered = ~C["abandoned"]
    ia = np.flatnonzero(answered)
    agent = C["agent"]
    arrived = C["t"]
    ans_s = np.where(answered, arrived + C["wait"], np.nan)
    end_s = np.where(answered, ans_s + C["talk"] + C["hold"], arrived + C["patience"])
    contact_id = _ids("c", n)
    cust_id = _fmt_ids("u", C["cust"], 8)
    queue_names = [f"{r}_{c}" for r in ROLES for c in CHANNELS]
    day = np.minimum((arrived // 86400).astype(int), cal.n_days - 1)

    # ---- outcomes per answered contact ------------------------------------
    aa = agent[ia]
    tenure = day[ia] - ag["hire_day"][aa]
    ramp = RAMP_PENALTY * np.exp(-np.maximum(tenure, 0) / RAMP_DAYS)
    tr = {k: ag["traits"][k][aa] - ramp for k in TRAITS}
    true_res = C["true_res"][ia] == 1
    live = C["ch"][ia] < 2
    wait = C["wait"][ia]
    long_wait = live & (wait > LONG_WAIT_S)
    recall = C["recall"][ia]
    team_eff = ag["team_effect"][ag["team"][aa]]

    def meth(name: str) -> np.ndarray:
        """Measurement-method effect ``name`` (coefficient x agent draw) per answered contact."""
        return METHOD_EFFECTS[name][1] * ag["methods"][name][aa]
    # retention
    rr = rng["retention"]
    beta_logit = sum(BETAS[k] * tr[k] for k in BETAS)
    ctx = (CONTACT_EFFECTS["unresolved"] * ~true_res + CONTACT_EFFECTS["long_wait"] * long_wait
           + CONTACT_EFFECTS["recall"] * recall)
    a0 = _logit(BASE_RETENTION) - CONTACT_EFFECTS["unresolved"] * 0.27 - CONTACT_EFFECTS["long_wait"] * 0.15
    retained = rr.random(len(ia)) < _logistic(a0 + beta_logit + ctx)
    retained_col = pd.array(np.full(n, pd.NA), dtype="boolean")
    retained_col[ia] = retained

    res_col = pd.array(np.full(n, pd.NA), dtype="boolean")
    res_col[ia] = C["flag_res"][ia] == 1

    contacts = pd.DataFrame({
        "contact_id": contact_id,
        "channel": _take(CHANNELS, C["ch"]),
        "queue": _take(queue_names, C["pool"] * 3 + C["ch"]),
        "customer_id": cust_id,
        "agent_id": _take(ag["ids"], np.maximum(agent, 0), mask=agent < 0),
        "arrived_at": _ts(start, arrived),
        "answered_at": _ts(start, ans_s),
        "ended_at": _ts(start, end_s),
        "talk_s": C["talk"],
        "hold_s": C["hold"],
        "acw_s": C["acw"],
        "abandoned": C["abandoned"].astype(bool),
        "resolved": res_col,
        "topic": _take(topic_names, C["topic"]),
        "retained": retained_col,
    })
    email_answered = C["ch"][ia] == 2
    C.clear()  # free the working columns before the other tables are built

    # ---- surveys -------------------------------------------------------------
    rs = rng["surveys"]
    m = len(ia)
    wait_pen = np.where(live, 0.35 * np.log1p(wait / 60.0), 0.15 * np.log1p(wait / 3600.0))
    latent = (0.45 * tr["empathy"] + 0.9 * (true_res - 0.75) - wait_pen - 0.5 * recall + 0.3 * team_eff
              + 0.9 * rs.standard_normal(m))
    csat = 1.0 + np.searchsorted(np.array([-2.0, -1.3, -0.6, 0.4]), latent).astype(float)
    nps = np.clip(np.round(7.6 + 1.7 * (0.8 * latent + 0.5 * rs.standard_normal(m)) + meth("nps_tilt")),
                  0, 10)
    ces = np.clip(np.round(5.3 + 0.45 * tr["empathy"] + 0.6 * (true_res - 0.75) - wait_pen
                           + meth("effort_ease") + 1.0 * rs.standard_normal(m)), 1, 7)
    respond = rs.random(m) < _logistic(-1.7 + 0.5 * latent + meth("survey_ask"))
    # customer-reported resolution: 90 % accurate, tilted by how the agent frames the outcome
    sres = rs.random(m) < _logistic(np.where(true_res, 2.2, -2.2) + meth("survey_framing"))
    nps_missing = rs.random(m) < 0.1
    ces_missing = rs.random(m) < 0.15
    delay = np.round(rs.exponential(2 * 3600.0, m)) + 60
    si = np.flatnonzero(respond)
    surveys = pd.DataFrame({
        "contact_id": contact_id.iloc[ia[si]].reset_index(drop=True),
        "csat": csat[si],
        "nps": np.where(nps_missing[si], np.nan, nps[si]),
        "ces": np.where(ces_missing[si], np.nan, ces[si]),
        "resolved": pd.array(sres[si], dtype="boolean"),
        "responded_at": _ts(start, end_s[ia[si]] + delay[si]),
    })

    # ---- QA reviews ------------------------------------------------------------
    rqa = rng["qa"]
    pick = np.flatnonzero(rqa.random(m) < 0.05)
    calib = pick[rqa.random(len(pick)) < 0.02]  # calibration sessions: reviewed twice
    rows = np.concatenate([pick, calib])
    k = len(rows)
    first_reviewer = rqa.integers(0, 4, len(pick))
    calib_reviewer = (first_reviewer[np.searchsorted(pick, calib)] + rqa.integers(1, 4, len(calib))) % 4
    reviewer = np.concatenate([first_reviewer, calib_reviewer])  # a second, different reviewer
    reviewer_eff = np.array([-2.0, 0.0, 1.0, 2.5])
    dil = tr["diligence"][rows]
    score = 82 + 6.0 * dil + reviewer_eff[reviewer] + 5.0 * rqa.standard_normal(k)
    crit = rqa.random(k) < _logistic(-3.3 - 0.8 * dil - meth("compliance")[rows])
    score = np.where(crit, score * 0.5, score)
    qa_training = None
    if ag["training"] is not None:
        # the planted training effect is added to the reviewed work (after a critical fail halves it); the
        # truth is the realised difference of the final scores (rounding and the 0-100 bounds included)
        score0 = np.clip(np.round(score, 1), 0, 100)
        score = score + _training_effect(ag["training"], aa[rows], day[ia[rows]])
        score = np.clip(np.round(score, 1), 0, 100)
        qa_training = {"agent": aa[rows], "day": day[ia[rows]], "effect": score - score0}
    else:
        score = np.clip(np.round(score, 1), 0, 100)
    rev_s = end_s[ia[rows]] + np.round(rqa.uniform(1, 10, k)) * 86400.0
    qa = pd.DataFrame({
        "contact_id": contact_id.iloc[ia[rows]].reset_index(drop=True),
        "agent_id": _take(ag["ids"], aa[rows]),
        "reviewer_id": _take(["qa1", "qa2", "qa3", "qa4"], reviewer),
        "score": score,
        "critical_fail": crit.astype(bool),
        "reviewed_at": _ts(start, np.floor(rev_s / 86400) * 86400 + 10 * 3600 + (rows % 28800)),
    })
    qa = qa.sort_values(["reviewed_at", "contact_id", "reviewer_id"], kind="stable").reset_index(drop=True)

    # ---- tickets: one per e-mail -------------------------------------------------
    rt = rng["tickets"]
    ei = np.flatnonzero(email_answered)
    te = len(ei)
    ea = aa[ei]
    resp = ag["habits"]["responsiveness"][ea]
    first_reply = ans_s[ia[ei]] + np.round(900.0 * np.exp(0.6 * resp + 0.5 * rt.standard_normal(te)))
    eres = true_res[ei]
    res_e = tr["resolve"][ei]
    # resolved tickets: median 10 h, faster for high-resolve agents and with the agent's own routine
    # (ticket_speed), so the 24 h mark cuts the distribution and speed shows in both ticket measures
    solve_gap = np.where(
        eres,
        np.round(10 * 3600.0 * np.exp(-0.3 * res_e - meth("ticket_speed")[ei] + 0.8 * rt.standard_normal(te))),
        np.round(rt.uniform(1, 5, te) * 86400.0),
    )
    solved = first_reply + solve_gap
    never = (~eres) & (rt.random(te) < 0.3)
    solved = np.where(never, np.nan, solved)
    # P(reopened at least once) = 0.05 when truly resolved, 0.35 when not (logit shifted by the agent's
    # closing_care); then 1 + Poisson(0.3) reopens
    p_reopen = _logistic(np.where(eres, _logit(0.05), _logit(0.35)) - meth("closing_care")[ei])
    reopened = (rt.random(te) < p_reopen) & ~never
    reopens = np.where(reopened, 1 + np.minimum(rt.poisson(0.3, te), 2), 0).astype("int64")
    replies = (1 + rt.poisson(np.where(eres, 0.6, 1.8), te) + reopens).astype("int64")
    tickets = pd.DataFrame({
        "ticket_id": _ids("t", te),
        "agent_id": _take(ag["ids"], ea),
        "customer_id": cust_id.iloc[ia[ei]].reset_index(drop=True),
        "channel": _take(["email"], np.zeros(te, dtype=np.int64)),
        "created_at": _ts(start, arrived[ia[ei]]),
        "first_reply_at": _ts(start, first_reply),
        "solved_at": _ts(start, solved),
        "reopens": pd.array(reopens, dtype="Int64"),
        "replies": pd.array(replies, dtype="Int64"),
    })
    tickets.insert(1, "contact_id", contact_id.iloc[ia[ei]].reset_index(drop=True))

    agents_df = pd.DataFrame({
        "agent_id": _str(ag["ids"]),
        "team": _str(ag["team_names"][ag["team"]]),
        "role": _str(ag["role"]),
        "site": _str(ag["site"]),
        "hire_date": pd.Series(ag["hire"].astype("datetime64[us]")),
    })
    training_df = None
    if ag["training"] is not None:
        tr_ = ag["training"]
        trained_at = pd.Series(start + pd.to_timedelta(np.where(tr_["day"] >= 0, tr_["day"], 0), unit="D"))
        agents_df["trained_at"] = trained_at.where(tr_["day"] >= 0).astype("datetime64[us]")
        who = np.flatnonzero(tr_["day"] >= 0)
        training_df = pd.DataFrame({
            "agent_id": _str(ag["ids"][who]),
            "course": _str(np.full(len(who), TRAINING_COURSE)),
            "trained_at": trained_at.iloc[who].astype("datetime64[us]").reset_index(drop=True),
            "rating": tr_["rating"][who],
        }).sort_values(["trained_at", "agent_id"], kind="stable").reset_index(drop=True)
    exemptions = pd.DataFrame({
        "start": pd.Series([cal.recall_start.to_datetime64()]).astype("datetime64[us]"),
        "end": pd.Series([cal.recall_end.to_datetime64()]).astype("datetime64[us]"),
        "scope": _str(np.array(["all"])),
        "reason": _str(np.array(["product recall"])),
        "action": _str(np.array(["relax_target"])),
    })
    extra = {
        "n_contacts": n, "n_answered": int(len(ia)), "abandon_rate": float(contacts["abandoned"].mean()),
        "mean_retention": float(retained.mean()), "true_resolution_rate": float(true_res.mean()),
        "agent_flag_resolution_rate": float(contacts["resolved"].mean()),
        "survey_response_rate": float(respond.mean()), "intercept": a0,
    }
    tables = {"contacts": contacts, "surveys": surveys, "qa_reviews": qa, "tickets": tickets,
              "agents": agents_df, "exemptions": exemptions}
    if training_df is not None:
        extra["qa_training"] = qa_training
        extra["training_table"] = training_df
    return tables, extra


# ---------------------------------------------------------------------------
# realism="messy": the defects of real exports, each recorded in truth.json
# ---------------------------------------------------------------------------
#: Share of the eligible rows given each defect (at least one row when any row is eligible).
DEFECT_RATES = {
    "missing_talk_time": 0.003,  # answered contacts: talk_s NULL
    "negative_duration": 0.0005,  # answered contacts: acw_s negative
    "abandon_wait_unknown": 0.05,  # abandoned contacts: ended_at = arrived_at
    "duplicate_contact": 0.001,  # contacts: exact duplicate row
    "csat_coded_0": 0.003,  # surveys: csat 0 ("no answer")
    "nps_coded_99": 0.003,  # surveys with an nps: nps 99 ("no answer")
    "duplicate_qa_review": 0.01,  # QA reviews: exact duplicate row
}
#: Durations the panel derives from two timestamps: (table, earlier, later).
_DERIVED = (("contacts", "arrived_at", "answered_at"), ("contacts", "answered_at", "ended_at"),
            ("contacts", "arrived_at", "ended_at"), ("tickets", "created_at", "first_reply_at"),
            ("tickets", "created_at", "solved_at"))
_ID_COLUMN = {"contacts": "contact_id", "surveys": "contact_id", "qa_reviews": "contact_id",
              "tickets": "ticket_id", "exemptions": None}
_TIME_COLUMNS = {"contacts": ("arrived_at", "answered_at", "ended_at"), "surveys": ("responded_at",),
                 "qa_reviews": ("reviewed_at",), "tickets": ("created_at", "first_reply_at", "solved_at"),
                 "exemptions": ("start", "end")}


def _defect(kind: str, table: str, column: str | None, idx: np.ndarray | None, df: pd.DataFrame, *,
            note: str, expected_reason: str | None = None, where: str | None = None,
            count: int | None = None, **detail: Any) -> dict[str, Any]:
    """One entry of truth.json ``defects``; ``idx`` are row positions in ``df`` (before duplication)."""
    idc = _ID_COLUMN[table]
    ids = None if idx is None or idc is None else df[idc].iloc[idx].tolist()
    return {"kind": kind, "table": table, "column": column,
            "count": int(len(idx)) if idx is not None else int(count or 0),
            "id_column": idc if ids is not None else None, "ids": ids,
            "rows": None if idx is None else np.asarray(idx, dtype=np.int64),  # made final in _messy
            "where": where, "expected_reason": expected_reason, "detail": detail, "note": note}


def _pick(rng: np.random.Generator, eligible: np.ndarray, rate: float) -> np.ndarray:
    """Sorted positions: ``rate`` of the eligible rows (at least one when any), without replacement."""
    pool = np.flatnonzero(eligible)
    if not len(pool):
        return pool
    k = min(len(pool), max(1, int(round(rate * len(pool)))))
    return np.sort(rng.choice(pool, size=k, replace=False))


def _localise(s: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """``s`` (naive wall clock) as tz-aware :data:`MESSY_ZONE` time; positions moved or ambiguous.

    A wall time in the spring-forward gap does not exist; it is moved on by one hour (the same
    instant as the wall clock read with the winter offset). A wall time in the repeated autumn
    hour is ambiguous; it is read as the first (summer-time) occurrence.
    """
    aware = s.dt.tz_localize(MESSY_ZONE, ambiguous=np.ones(len(s), dtype=bool), nonexistent=pd.Timedelta(hours=1))
    probe = s.dt.tz_localize(MESSY_ZONE, ambiguous="NaT", nonexistent="NaT")
    odd = np.flatnonzero((probe.isna() & s.notna()).to_numpy())
    moved = (aware.iloc[odd].dt.tz_localize(None) != s.iloc[odd]).to_numpy()
    return aware, odd[moved], odd[~moved]


def _messy(tables: dict[str, pd.DataFrame], rng: np.random.Generator) -> tuple[dict[str, pd.DataFrame], list]:
    """Apply the defects of real exports to clean tables; return the tables and the ``defects`` list.

    Every defect is drawn from ``rng`` alone (the clean simulation is untouched), so the messy
    tables equal the clean tables of the same seed except where an entry of the list says.
    """
    t = {k: v.copy() for k, v in tables.items()}
    c, sv = t["contacts"], t["surveys"]
    defects: list[dict[str, Any]] = []
    answered = ~c["abandoned"].to_numpy()
    used = np.zeros(len(c), dtype=bool)  # a contact row gets at most one row-level defect

    # ---- contacts: values ---------------------------------------------------------------
    miss = _pick(rng, answered & ~used, DEFECT_RATES["missing_talk_time"])
    used[miss] = True
    c.loc[miss, "talk_s"] = np.nan
    defects.append(_defect("missing_value", "contacts", "talk_s", miss, c,
                           note="answered contact whose talk time the switch did not record (talk_s NULL); "
                                "valid under the schema (talk_s is nullable)"))
    neg = _pick(rng, answered & ~used, DEFECT_RATES["negative_duration"])
    used[neg] = True
    c.loc[neg, "acw_s"] = -np.maximum(c["acw_s"].to_numpy()[neg], 1.0)
    defects.append(_defect("negative_duration", "contacts", "acw_s", neg, c, expected_reason="negative acw_s",
                           note="wrap-up time from a status log with skewed clocks: acw_s negated"))
    unk = _pick(rng, ~answered & ~used, DEFECT_RATES["abandon_wait_unknown"])
    used[unk] = True
    c["ended_at"] = c["ended_at"].mask(pd.Series(np.isin(np.arange(len(c)), unk)), c["arrived_at"])
    defects.append(_defect("abandon_wait_unknown", "contacts", "ended_at", unk, c,
                           scheme="ended_at = arrived_at",
                           note="abandoned contact whose wait the export did not know, written as ended_at = "
                                "arrived_at (a 0 s wait, as the PwC call-centre export does); ended_at is a "
                                "required column, so it cannot be NULL. Valid under the schema; the 0 s wait "
                                "makes it a short abandon"))
    email = (c["channel"] == "email").to_numpy()
    c.loc[email, "queue"] = c.loc[email, "queue"].str.replace("_email", "_phone", regex=False)
    defects.append(_defect("mixed_channel_queue", "contacts", "queue", None, c, where="channel == 'email'",
                           count=int(email.sum()),  # recounted on the final table below
                           note="e-mails (waits of minutes to hours) logged in the pool's phone queue "
                                "(<pool>_phone), so a queue mixes phone and e-mail contacts; the channel "
                                "column still tells them apart"))

    # ---- surveys: out-of-range codes ------------------------------------------------------
    s_used = np.zeros(len(sv), dtype=bool)
    z = _pick(rng, sv["csat"].notna().to_numpy(), DEFECT_RATES["csat_coded_0"])
    s_used[z] = True
    sv.loc[z, "csat"] = 0.0
    defects.append(_defect("out_of_range", "surveys", "csat", z, sv, expected_reason="below 1 csat", value=0,
                           note="unanswered CSAT question coded 0 instead of NULL"))
    n99 = _pick(rng, sv["nps"].notna().to_numpy() & ~s_used, DEFECT_RATES["nps_coded_99"])
    sv.loc[n99, "nps"] = 99.0
    defects.append(_defect("out_of_range", "surveys", "nps", n99, sv, expected_reason="nps above 10", value=99,
                           note="unanswered recommend question coded 99 (SPSS-style missing code)"))

    # ---- time zone: every timestamp tz-aware, wall clock kept --------------------------------
    naive = {name: {col: t[name][col].copy() for col in cols} for name, cols in _TIME_COLUMNS.items()}
    qa_odd = np.zeros(len(t["qa_reviews"]), dtype=bool)
    for name, cols in _TIME_COLUMNS.items():
        df = t[name]
        odd_rows = np.zeros(len(df), dtype=bool)
        entries = []
        for col in cols:
            aware, moved, ambiguous = _localise(df[col])
            df[col] = aware
            odd_rows[moved] = odd_rows[ambiguous] = True
            entries.append(_defect("dst_nonexistent", name, col, moved, df, shift_s=3600,
                                   note="wall time in the spring-forward gap (it does not exist in "
                                        f"{MESSY_ZONE}); moved on by one hour"))
            entries.append(_defect("dst_ambiguous", name, col, ambiguous, df,
                                   note="wall time in the repeated autumn hour; read as the first "
                                        "(summer-time) occurrence"))
        defects.append(_defect("tz_aware", name, None, None, df, where="all rows", count=len(df),
                               zone=MESSY_ZONE, columns=list(cols),
                               note="timestamps are tz-aware local times (datetime64[us, Europe/London]): the "
                                    "simulated wall clock, so periods fall on the same local days; the UTC "
                                    "offset changes at the daylight-saving switches"))
        defects.extend(entries)
        if name == "contacts":
            used |= odd_rows
        elif name == "qa_reviews":
            qa_odd = odd_rows
    for name, early, late in _DERIVED:
        df = t[name]
        wall = (naive[name][late] - naive[name][early]).dt.total_seconds().to_numpy()
        elapsed = (df[late] - df[early]).dt.total_seconds().to_numpy()
        with np.errstate(invalid="ignore"):
            idx = np.flatnonzero(~np.isnan(wall) & ~np.isnan(elapsed) & (elapsed != wall))
        if name == "contacts":
            used[idx] = True
        defects.append(_defect("dst_elapsed", name, late, idx, df, from_column=early,
                               seconds=(elapsed[idx] - wall[idx]).astype(int).tolist(),
                               note=f"{late} - {early} as elapsed time differs from the wall-clock "
                                    "difference (the interval spans a daylight-saving switch); seconds = "
                                    "elapsed - wall clock, per id"))

    # ---- exact duplicate rows (inserted right after the original, as overlapping export pages do) ----
    dup_c = _pick(rng, ~used, DEFECT_RATES["duplicate_contact"])
    dup_q = _pick(rng, ~qa_odd, DEFECT_RATES["duplicate_qa_review"])
    moves = {}
    for name, dup in (("contacts", dup_c), ("qa_reviews", dup_q)):
        df = t[name]
        times = np.ones(len(df), dtype=np.int64)
        times[dup] = 2
        t[name] = df.iloc[np.repeat(np.arange(len(df)), times)].reset_index(drop=True)
        new_pos = np.cumsum(times) - times  # position of each original row in the new table
        moves[name] = new_pos
        defects.append(_defect("duplicate_row", name, _ID_COLUMN[name] if name == "contacts" else None,
                               dup, df, expected_reason="duplicate id" if name == "contacts" else "duplicate row",
                               note=("exact copy of the row just above (same contact_id)" if name == "contacts"
                                     else "exact copy of the review just above; the QA table has no id, so "
                                          "only an exact repeat of every column marks it")))
        defects[-1]["rows"] = new_pos[dup] + 1  # the copies
    # ---- final row positions and bulk counts ------------------------------------------------------------
    for d in defects:
        if d["rows"] is not None:
            rows = d["rows"]
            if d["kind"] != "duplicate_row" and d["table"] in moves:
                rows = moves[d["table"]][rows]
            d["rows"] = [int(r) for r in rows]
        if d["kind"] == "mixed_channel_queue":
            d["count"] = int((t["contacts"]["channel"] == "email").sum())
        if d["kind"] == "tz_aware":
            d["count"] = len(t[d["table"]])
    return t, defects


INDICATOR_ROLES: dict[str, dict[str, Any]] = {
    "csat": {"role": "driver", "trait": "empathy",
             "note": "survey score from empathy, true resolution and wait; empathy has a direct effect on retention"},
    "csat_top2": {"role": "near_copy", "copy_of": "csat", "trait": "empathy",
                  "note": "share of 4-5 of the same csat answers"},
    "nps": {"role": "correlate", "trait": "empathy",
            "note": "from the csat latent plus noise and the agent's nps_tilt; no direct effect"},
    "ces": {"role": "correlate", "trait": "empathy",
            "note": "from empathy, resolution, wait and the agent's effort_ease; no direct effect"},
    "fcr": {"role": "driver", "trait": "resolve",
            "note": "unresolved contacts bring the customer back within 1-5 days; resolve has a direct effect"},
    "fcr_survey": {"role": "correlate", "trait": "resolve",
                   "note": "customer-reported resolution (90 % accurate, tilted by the agent's survey_framing), "
                           "on survey responders only; a different method, not a copy of fcr"},
    "fcr_agent": {"role": "correlate", "trait": "resolve",
                  "note": "agent flag: true resolution plus a share of the unresolved that is the agent's own "
                          "flag_leniency (biased upward, about half on average); not a copy of fcr"},
    "repeat_contact_rate": {"role": "correlate", "trait": "resolve",
                            "note": "mirror image of fcr (previous 7 days), attributed to the agent who takes "
                                    "the repeat; related to the agent's own fcr only because follow-ups are "
                                    "scheduled with the previous agent when they work that day (60 % on average, "
                                    "the agent's follow_up_ownership)"},
    "qa_score": {"role": "driver", "trait": "diligence",
                 "note": "5 % sample, score 82 + 6 diligence + reviewer effect + noise; diligence has a direct effect"},
    "qa_critical_fail_rate": {"role": "correlate", "trait": "diligence",
                              "note": "critical fails rarer for diligent agents and for the agent's own compliance; "
                                      "a fail halves the score"},
    "reopen_rate": {"role": "correlate", "trait": "resolve",
                    "note": "reopens likelier when not truly resolved and for careless closers (closing_care)"},
    "service_level": {"role": "context", "note": "queue-level: staffing vs arrivals"},
    "abandon_rate": {"role": "context", "note": "queue-level: patience vs wait"},
    "asa": {"role": "context", "note": "queue-level: Erlang C plus backlog"},
    "first_response_time": {"role": "noise", "trait": "responsiveness",
                            "note": "queue wait plus a pure-noise responsiveness habit"},
    "time_to_resolution": {"role": "correlate", "trait": "resolve",
                           "note": "resolved tickets take about 10 h, faster for high-resolve agents and with the "
                                   "agent's ticket_speed; unresolved tickets take days"},
    "resolved_within_24h": {"role": "near_copy", "copy_of": "time_to_resolution", "trait": "resolve",
                            "note": "threshold of the same tickets' solve times"},
    "aht": {"role": "correlate", "trait": "speed", "note": "talk time from speed and g; no direct effect"},
    "acw_time": {"role": "noise", "trait": "acw_habit", "note": "pure-noise habit"},
    "hold_rate": {"role": "noise", "trait": "hold_habit", "note": "pure-noise habit"},
    "contacts_per_day": {"role": "noise", "trait": "shift_length",
                         "note": "contacts are spread evenly over on-shift agents; depends on shift length"},
    "cost_per_contact": {"role": "near_copy", "copy_of": "aht", "trait": "speed",
                         "note": "handle time x labour cost plus channel cost"},
    "survey_response_rate": {"role": "correlate", "trait": "empathy",
                             "note": "happier customers answer more often, and more when the agent invites it "
                                     "(survey_ask)"},
    "retention_rate": {"role": "outcome", "note": "share of answered contacts whose customer is retained"},
}


#: Intended correlation structure across agents (values pooled over the simulated months with
#: :func:`kpilab.panel.pool_periods`, Pearson), recorded in truth.json as ``correlation_structure``.
CORRELATION_GROUPS: tuple[dict[str, Any], ...] = (
    {"name": "resolution", "construct": "resolve",
     "indicators": ["fcr", "fcr_agent", "fcr_survey", "repeat_contact_rate", "reopen_rate", "time_to_resolution",
                    "resolved_within_24h"],
     "r_range": [0.5, 0.85],
     "note": "repeat-contact, agent-flag, survey and ticket measures of resolution; each has its own method "
             "effect, so they agree at 0.5-0.85 (fcr, the driver, is the closest to the trait)"},
    {"name": "satisfaction", "construct": "empathy",
     "indicators": ["csat", "csat_top2", "nps", "ces", "survey_response_rate"],
     "r_range": [0.55, 0.85],
     "note": "survey scores and the response rate; nps, ces and the response rate have their own agent effects"},
    {"name": "quality", "construct": "diligence",
     "indicators": ["qa_score", "qa_critical_fail_rate"],
     "r_range": [0.6, 0.85],
     "note": "the same reviews, but critical fails also follow the agent's own compliance"},
)
NEAR_COPY_MIN_R = 0.9
BETWEEN_GROUPS_MAX_R = 0.65
NOISE_MAX_R_OUTCOME = 0.3
DRIVER_MIN_R_OUTCOME = 0.4


def _correlation_structure() -> dict[str, Any]:
    """The ``correlation_structure`` section of truth.json."""
    return {
        "level": "agent",
        "statistic": "Pearson r across agents of indicator values pooled over all simulated months "
                     "(kpilab.indicators.compute_panel(period='month') then kpilab.panel.pool_periods)",
        "reference_size": "60 agents x 12 months; with fewer agents or months sampling noise widens the "
                          "spread and pulls every |r| towards 0",
        "groups": [dict(g) for g in CORRELATION_GROUPS],
        "group_rule": "r_range bounds |r| of every pair of indicators of a group except near-copy pairs",
        "near_copies": [{"indicator": c, "copy_of": v["copy_of"], "r_min": NEAR_COPY_MIN_R}
                        for c, v in INDICATOR_ROLES.items() if v["role"] == "near_copy"],
        "near_copy_rule": "only near-copy pairs exceed |r| = 0.9",
        "between_groups_max_r": BETWEEN_GROUPS_MAX_R,
        "noise": {"indicators": [c for c, v in INDICATOR_ROLES.items() if v["role"] == "noise"],
                  "max_abs_r_outcome": NOISE_MAX_R_OUTCOME},
        "drivers": {"indicators": [c for c, v in INDICATOR_ROLES.items() if v["role"] == "driver"],
                    "min_r_outcome": DRIVER_MIN_R_OUTCOME},
        "method_effects": {name: {"indicator": ind, "coefficient": coef, "scale": scale}
                           for name, (ind, coef, scale) in METHOD_EFFECTS.items()},
    }


def _mechanisms() -> dict[str, Any]:
    """The constants of the model, recorded in truth.json."""
    return {
        "opening_hours": [OPEN_H, CLOSE_H],
        "channels": list(CHANNELS),
        "live_split_phone_chat": LIVE_SPLIT.tolist(),
        "email_share": EMAIL_SHARE,
        "talk_median_s": dict(zip(CHANNELS, TALK_MEDIAN.tolist(), strict=True)),
        "acw_median_s": dict(zip(CHANNELS, ACW_MEDIAN.tolist(), strict=True)),
        "hold_probability_base": dict(zip(CHANNELS, HOLD_BASE.tolist(), strict=True)),
        "patience_mean_s": dict(zip(CHANNELS[:2], PATIENCE_MEAN.tolist(), strict=True)),
        "short_abandon_probability": SHORT_ABANDON_P,
        "chat_concurrency": CHAT_CONCURRENCY,
        "live_fraction_of_shift": LIVE_FRACTION,
        "sqrt_staffing_beta": SQRT_STAFFING_BETA,
        "max_occupancy": MAX_OCCUPANCY,
        "profile_weight": PROFILE_WEIGHT,
        "repeat_probability": {"unresolved": REPEAT_P_UNRESOLVED, "resolved": REPEAT_P_RESOLVED,
                               "abandoned_callback": CALLBACK_P_ABANDONED},
        "sticky_routing": STICKY_ROUTING,
        "long_wait_s": LONG_WAIT_S,
        "base_retention": BASE_RETENTION,
        "topics": {role: {name: {"share": w, "difficulty": d} for name, w, d in t} for role, t in TOPICS.items()},
        "recall_topic": RECALL_TOPIC,
        "survey_sample": "responses only; P(respond) = logistic(-1.7 + 0.5 * csat latent)",
        "qa_sample": "5 % of answered contacts, 2 % of them reviewed again by another reviewer",
        "tickets": "one per answered e-mail (extra column contact_id links them)",
    }


def _truth(ag, cal, params, extra) -> dict[str, Any]:  # noqa: ANN001
    r6 = lambda x: round(float(x), 6)  # noqa: E731
    agents = {}
    for i, aid in enumerate(ag["ids"]):
        agents[str(aid)] = {
            "skill": r6(ag["g"][i]),
            **{k: r6(ag["traits"][k][i]) for k in TRAITS},
            **{k: r6(ag["habits"][k][i]) for k in HABITS},
            **{k: r6(ag["methods"][k][i]) for k in METHOD_EFFECTS},
            "team_effect": r6(ag["team_effect"][ag["team"][i]]),
            "team": str(ag["team_names"][ag["team"][i]]),
            "role": str(ag["role"][i]),
            "site": str(ag["site"][i]),
            "full_time": bool(ag["full_time"][i]),
            "hire_date": str(pd.Timestamp(ag["hire"][i]).date()),
            "gaming": bool(ag["gaming"][i]),
        }
    indicators = {}
    for code, spec in INDICATOR_ROLES.items():
        entry = dict(spec)
        if spec["role"] == "driver":
            entry["importance"] = BETAS[spec["trait"]]
        for m, (ind, _, _) in METHOD_EFFECTS.items():
            if ind == code:
                entry["method_effect"] = m
        indicators[code] = entry
    return {
        "simulator_version": SIMULATOR_VERSION,
        "params": params.to_dict(),
        "realism": params.realism,
        "timezone": TIMEZONE,
        "outcome": "retention_rate",
        "betas": {**BETAS, **CONTACT_EFFECTS, "intercept": r6(extra["intercept"])},
        "rho": RHO,
        "ramp_up": {"penalty": RAMP_PENALTY, "scale_days": RAMP_DAYS},
        "latent_orthogonalised": ag["orthogonal"],
        "method_effects_orthogonalised": ag["methods_orthogonal"],
        "events": {
            "recall": {"start": str(cal.recall_start.date()),
                       "end": str((cal.recall_end - pd.Timedelta(days=1)).date()),
                       "multiplier": RECALL_MULT,
                       "note": "dates inclusive; the exemptions row runs to 00:00 after the last day"},
            "holiday_peaks": cal.holidays,
        },
        "indicators": indicators,
        "correlation_structure": _correlation_structure(),
        "mechanisms": _mechanisms(),
        "agents": agents,
        "summary": {k: (r6(v) if isinstance(v, float) else v) for k, v in extra.items() if k != "intercept"},
        "gaming": {"agents": [str(a) for a in ag["ids"][ag["gaming"]]], "share": GAMING_SHARE,
                   "flag_unresolved_p": GAMING_FLAG_P, "indicator": "fcr_agent",
                   "note": "gaming agents flag this share of their unresolved contacts resolved (others: their "
                           "flag_leniency share), so fcr_agent exceeds fcr_survey on the same contacts; "
                           "true resolution, repeats, surveys and QA are unchanged"},
        "defects": [],
    }


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, compression="zstd", write_statistics=True)


def _table_names(params: SimParams) -> tuple[str, ...]:
    """The tables a simulation writes: the canonical six, plus ``training`` when the programme is on."""
    return TABLE_NAMES + (("training",) if params.training else ())


def _manifest(sim: Simulation, files: dict[str, Path]) -> dict[str, Any]:
    from kpilab import __version__

    return {
        "simulator": "kpilab.simulate",
        "simulator_version": SIMULATOR_VERSION,
        "kpilab_version": __version__,
        "params": sim.params.to_dict(),
        "tables": {name: len(sim.training if name == "training" else sim.tables[name])
                   for name in _table_names(sim.params)},
        "files": {p.name: {"sha256": _sha256(p), "bytes": p.stat().st_size} for p in files.values()},
    }


def write_simulation(sim: Simulation, out_dir: str | os.PathLike) -> list[Path]:
    """Write the tables (Parquet), ``truth.json`` and ``manifest.json`` to ``out_dir``.

    The files are written to a temporary folder beside ``out_dir`` and then moved
    in (a new folder is renamed whole; in an existing folder the old manifest is
    removed first and written last), so a crash never leaves a folder whose
    manifest describes files that are not there. Same simulation, same bytes.

    Returns
    -------
    list of pathlib.Path
        The written files, manifest last.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"The output folder {str(out)!r} exists and is not a folder; choose another --out.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        files: dict[str, Path] = {}
        for name in _table_names(sim.params):
            p = tmp / f"{name}.parquet"
            _write_parquet(sim.training if name == "training" else sim.tables[name], p)
            files[name] = p
        tp = tmp / "truth.json"
        tp.write_text(json.dumps(sim.truth, indent=2) + "\n", encoding="utf-8")
        files["truth"] = tp
        mp = tmp / "manifest.json"
        mp.write_text(json.dumps(_manifest(sim, files), indent=2) + "\n", encoding="utf-8")
        names = [p.name for p in files.values()] + [mp.name]
        if not out.exists():
            os.replace(tmp, out)
        else:
            (out / "manifest.json").unlink(missing_ok=True)
            # A table an earlier simulation wrote and this one does not (training) would
            # otherwise be read as part of this simulation by every notebook.
            for stale in set(_table_names(replace(sim.params, training=True))) - set(files):
                (out / f"{stale}.parquet").unlink(missing_ok=True)
            for nm in names:
                os.replace(tmp / nm, out / nm)
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / nm for nm in names]


def read_manifest(out_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The manifest of a simulation folder, or None when absent or unreadable."""
    p = Path(out_dir) / "manifest.json"
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def manifest_matches(out_dir: str | os.PathLike, params: SimParams) -> bool:
    """True when ``out_dir`` holds a complete simulation of ``params`` by this simulator version.

    Checks the parameters, the simulator version, that every table and
    ``truth.json`` is present and that each file's sha256 matches the manifest.
    """
    man = read_manifest(out_dir)
    if not man or man.get("simulator_version") != SIMULATOR_VERSION or man.get("params") != params.to_dict():
        return False
    files = man.get("files", {})
    expected = {f"{t}.parquet" for t in _table_names(params)} | {"truth.json"}
    if set(files) != expected:
        return False
    for name, info in files.items():
        p = Path(out_dir) / name
        if not p.is_file() or _sha256(p) != info.get("sha256"):
            return False
    return True
