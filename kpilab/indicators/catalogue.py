"""The indicator catalogue: declarative definitions, no Python per indicator.

Each indicator is data: a source table, a *kind* (how cells aggregate) and
SQL expressions over the columns of that table's prepared view. Expressions
may use ``${param}`` placeholders filled from the indicator's parameters (the
catalogue default, overridden by ``params`` in the framework file). The same
shape is accepted in a framework file under ``compute:``, so a user can add or
change an indicator without writing Python::

    - code: long_hold_rate
      name: Share of answered calls held over 60 s
      pillar: cost_control
      direction: lower
      unit: share
      params: {limit_s: 60}
      compute:
        table: contacts
        kind: proportion
        where: "answered"
        condition: "hold_s > ${limit_s}"

Kinds and the keys they use (all other keys optional):

``proportion``
    ``where`` (population), ``condition`` (success). value = k/n, Wilson CI.
``mean``
    ``where``, ``value``. value = mean, t interval.
``quantile``
    ``where``, ``value``, ``quantile`` (0..1). Sample quantile computed from
    the rows of each unit (never averaged), order-statistic CI.
``ratio``
    ``where``, ``numerator``, ``denominator`` (summed expressions). No CI.
``per_day``
    ``where``. Rows per agent-day on which the unit had any such row.
``count``
    ``where``. Number of rows.
``nps``
    ``where``, ``value`` (0-10 score). % 9-10 minus % 0-6, normal CI.

Optional ``scale`` multiplies value and interval (e.g. 100 for percent).

Optional ``exclude`` (``{reason: condition}``) removes rows of the population
from this indicator and reports them, per reason, in the per-indicator
accounting (``kind = indicator_excluded``); mean, quantile and NPS rows whose
value is NULL are always excluded that way (``missing value`` unless a
condition names them first). The parameter ``channels`` restricts any contacts
or surveys indicator to some channels: a list (``[phone, chat]``), ``all``, or
``live`` (the framework's ``live_channels``, by default phone and chat; the
default of the queue-speed indicators).
Expressions are portable SQL (comparisons, arithmetic, CASE, COALESCE, AND/OR,
IS NULL); they are checked against an empty copy of the table's view when the
panel is computed, and errors name ``indicators.<code>.compute.<key>``.

Columns of the prepared views (besides the canonical ones, see
:mod:`kpilab.schema`):

* contacts: ``answered`` (NOT abandoned), ``wait_s`` (answered_at - arrived_at,
  or ended_at - arrived_at when abandoned; NULL -- unknown, never a short
  abandon -- when an abandon's ended_at is missing or equals arrived_at, the way
  exports without a moment of abandonment write it), ``handle_s`` (talk + hold + acw; NULL when talk_s is missing,
  a missing hold/acw counts 0), ``channel_cost`` (framework.costs), ``next_gap_s`` /
  ``prev_gap_s`` (seconds to the same customer's next / since the previous
  contact), ``next_gap_topic_s`` / ``prev_gap_topic_s`` (same customer and topic),
  ``has_survey`` (a survey response exists for the contact), ``_obs_after_s`` /
  ``_obs_before_s`` (seconds of observed data after / before the contact: the
  span is min..max arrived_at of the contacts table, used to exclude follow-up
  windows that run past the data).
* surveys: the contact's ``agent_id``, ``channel``, ``queue``, ``topic``;
  ``responded`` (any score or a response time).
* tickets: ``first_response_s``, ``resolution_s``, ``solved``.
* qa_reviews: as canonical.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kpilab.errors import FrameworkError

__all__ = ["Definition", "CATALOGUE", "KINDS", "SOURCE_TABLES", "definition_from_compute", "catalogue_frame"]

KINDS: dict[str, tuple[str, ...]] = {
    "proportion": ("condition",),
    "mean": ("value",),
    "quantile": ("value", "quantile"),
    "ratio": ("numerator", "denominator"),
    "per_day": (),
    "count": (),
    "nps": ("value",),
}
SOURCE_TABLES = ("contacts", "surveys", "qa_reviews", "tickets")
COMPUTE_KEYS = {
    "table", "kind", "where", "condition", "value", "numerator", "denominator", "quantile", "scale", "exclude",
}
#: the framework's default live channels (``live_channels``); ``channels: live`` means these
DEFAULT_LIVE_CHANNELS = ("phone", "chat")
_EXPR_KEYS = ("where", "condition", "value", "numerator", "denominator")
_FORBIDDEN = re.compile(r";|--|/\*|\b(select|from|insert|update|delete|drop|create|attach|copy|pragma|install|load)\b",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Definition:
    """One indicator's declarative definition.

    Attributes
    ----------
    code, name, direction, unit : str
        Identity and meaning (direction ``higher``/``lower``/``band``).
    table : str
        Source table (contacts, surveys, qa_reviews, tickets).
    kind : str
        One of :data:`KINDS`.
    where, condition, value, numerator, denominator : str or None
        SQL expressions over the table's prepared view, with ``${param}`` placeholders.
    quantile : float or None
        For ``kind='quantile'``.
    scale : float
        Multiplies value and interval.
    exclude : tuple of (condition, reason)
        Rows of the population excluded from this indicator, reported per reason.
    channels : tuple of str or None
        Channels the indicator is restricted to (None: every channel).
    level : str
        ``agent`` or ``queue`` (queue indicators have no agent, role or site rows).
    params : dict
        Variant parameters and their defaults.
    variant_param : str or None
        Name of the parameter that selects a variant in ``variants``.
    variants : dict
        ``{variant value: {key: replacement}}``.
    definition, source : str
        Formula in words and where it comes from.
    """

    code: str
    name: str
    direction: str
    unit: str
    table: str
    kind: str
    where: str | None = None
    condition: str | None = None
    value: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    quantile: float | None = None
    scale: float = 1.0
    exclude: tuple[tuple[str, str], ...] = ()
    channels: tuple[str, ...] | None = None
    level: str = "agent"
    params: dict[str, Any] = field(default_factory=dict)
    variant_param: str | None = None
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    definition: str = ""
    source: str = ""

    def resolve(self, params: Mapping[str, Any] | None = None, *,
                live_channels: tuple[str, ...] | list[str] = DEFAULT_LIVE_CHANNELS) -> Definition:
        """The definition with its variant applied and placeholders filled.

        ``params['channels']`` (``all``, ``live``, one channel or a list) sets
        :attr:`channels`; ``live`` means ``live_channels``.

        Raises
        ------
        FrameworkError
            Unknown variant, a placeholder with no parameter, or a non-scalar parameter.
        """
        merged = {**self.params, **(params or {})}
        d = self
        if self.variant_param:
            choice = merged.get(self.variant_param)
            if choice == "repeat_contact" and merged.get("same_topic") is True:
                choice = "repeat_contact_same_topic"  # FCR: same customer *and* topic within the window
            if choice not in self.variants:
                raise FrameworkError(
                    f"indicators.{self.code}.params.{self.variant_param}: {choice!r} is not a known variant; "
                    f"use one of {', '.join(map(repr, self.variants))}."
                )
            d = replace(d, **self.variants[choice])
        channels = d.channels
        if "channels" in merged:
            channels = _channels(self.code, merged["channels"], live_channels)
            merged["channels"] = "all" if channels is None else list(channels)
        for key, val in merged.items():
            if key == "channels":
                continue
            if not isinstance(val, bool | int | float | str) or (
                isinstance(val, str) and not re.fullmatch(r"[A-Za-z0-9_ .:\-]*", val)
            ):
                raise FrameworkError(
                    f"indicators.{self.code}.params.{key}: parameters must be numbers, booleans or plain "
                    f"words, got {val!r}."
                )
        subs = {k: (("TRUE" if v else "FALSE") if isinstance(v, bool) else str(v)) for k, v in merged.items()
                if k != "channels"}

        def fill(key: str, expr: str) -> str:
            try:
                return string.Template(str(expr)).substitute(subs)
            except KeyError as exc:
                raise FrameworkError(
                    f"indicators.{self.code}.compute.{key}: placeholder ${{{exc.args[0]}}} has no parameter; "
                    f"add it under params (known: {', '.join(sorted(subs)) or 'none'})."
                ) from None
            except ValueError as exc:
                raise FrameworkError(f"indicators.{self.code}.compute.{key}: bad placeholder ({exc}).") from None

        filled = {key: fill(key, getattr(d, key)) for key in _EXPR_KEYS if getattr(d, key) is not None}
        exclude = tuple((fill(f"exclude.{reason}", cond), reason) for cond, reason in d.exclude)
        q = d.quantile
        if isinstance(q, str):
            q = float(string.Template(q).substitute(subs))
        return replace(d, params=merged, quantile=q, exclude=exclude, channels=channels, **filled)

    def to_dict(self) -> dict[str, Any]:
        """The ``compute:`` mapping equivalent to this definition (resolved variant)."""
        out = {"table": self.table, "kind": self.kind}
        for key in ("where", "condition", "value", "numerator", "denominator", "quantile"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.scale != 1:
            out["scale"] = self.scale
        if self.exclude:
            out["exclude"] = {reason: cond for cond, reason in self.exclude}
        if self.channels is not None:
            out["channels"] = list(self.channels)
        return out


def definition_from_compute(
    code: str,
    compute: Mapping[str, Any],
    *,
    name: str = "",
    direction: str = "higher",
    unit: str = "",
    level: str = "agent",
    params: Mapping[str, Any] | None = None,
    definition: str = "",
) -> Definition:
    """Build (and check the shape of) a user definition from a framework ``compute:`` mapping.

    Raises
    ------
    FrameworkError
        Naming ``indicators.<code>.compute.<key>``: not a mapping, unknown keys,
        unknown table or kind, a missing key the kind needs, a non-string
        expression, a quantile outside (0, 1), or a forbidden SQL token.
    """
    where = f"indicators.{code}.compute"
    if not isinstance(compute, Mapping):
        raise FrameworkError(f"{where}: must be a mapping with table, kind and expressions, got {compute!r}.")
    unknown = sorted(set(compute) - COMPUTE_KEYS)
    if unknown:
        raise FrameworkError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(COMPUTE_KEYS))}.")
    table = compute.get("table")
    if table not in SOURCE_TABLES:
        raise FrameworkError(f"{where}.table: must be one of {', '.join(SOURCE_TABLES)}, got {table!r}.")
    kind = compute.get("kind")
    if kind not in KINDS:
        raise FrameworkError(f"{where}.kind: must be one of {', '.join(KINDS)}, got {kind!r}.")
    for key in KINDS[kind]:
        if compute.get(key) is None:
            raise FrameworkError(f"{where}.{key}: kind {kind!r} needs {', '.join(KINDS[kind])}; {key!r} is missing.")
    for key in ("where", "condition", "value", "numerator", "denominator"):
        expr = compute.get(key)
        if expr is None:
            continue
        if not isinstance(expr, str | int | float) or isinstance(expr, bool):
            raise FrameworkError(f"{where}.{key}: must be an SQL expression (text), got {expr!r}.")
        if _FORBIDDEN.search(str(expr)):
            raise FrameworkError(
                f"{where}.{key}: {expr!r} must be a single expression over the table's columns "
                "(no ';', comments, sub-queries or statements)."
            )
    q = compute.get("quantile")
    if kind == "quantile" and not (isinstance(q, int | float) and not isinstance(q, bool) and 0 < q < 1):
        raise FrameworkError(f"{where}.quantile: must be a number in (0, 1), got {q!r}.")
    scale = compute.get("scale", 1.0)
    if not isinstance(scale, int | float) or isinstance(scale, bool) or scale == 0:
        raise FrameworkError(f"{where}.scale: must be a non-zero number, got {scale!r}.")
    exclude = compute.get("exclude") or {}
    if not isinstance(exclude, Mapping) or not all(
            isinstance(r, str) and isinstance(c, str) and not _FORBIDDEN.search(c) for r, c in exclude.items()):
        raise FrameworkError(f"{where}.exclude: must map a reason (text) to a single SQL condition, "
                             f"e.g. {{missing talk_s: talk_s IS NULL}}; got {exclude!r}.")
    return Definition(
        code=code, name=name or code, direction=direction, unit=unit, table=table, kind=kind,
        where=_str(compute.get("where")), condition=_str(compute.get("condition")),
        value=_str(compute.get("value")), numerator=_str(compute.get("numerator")),
        denominator=_str(compute.get("denominator")), quantile=q, scale=float(scale), level=level,
        exclude=tuple((c, r) for r, c in exclude.items()),
        params=dict(params or {}), definition=definition, source="framework file",
    )


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def _channels(code: str, value: Any, live: tuple[str, ...] | list[str]) -> tuple[str, ...] | None:
    """``params.channels`` as a tuple of channel names (None = every channel)."""
    if value in (None, "all"):
        return None
    if value == "live":
        return tuple(live)
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items or not all(
            isinstance(c, str) and re.fullmatch(r"[A-Za-z0-9_ .:\-]+", c) for c in items):
        raise FrameworkError(
            f"indicators.{code}.params.channels: must be 'all', 'live' or a list of channel names "
            f"(e.g. [phone, chat]), got {value!r}."
        )
    return tuple(dict.fromkeys(items))


# ---------------------------------------------------------------------------- the catalogue
_SL = "(answered AND wait_s <= ${threshold_s})"
# an abandon whose wait is unknown (NULL wait_s) is never short
_SHORT_AB = "(abandoned AND COALESCE(wait_s < ${short_abandon_s}, FALSE))"
_MISSING_TALK = (("talk_s IS NULL", "missing talk_s"),)
_WINDOW_AFTER = (("_obs_after_s < ${window_days} * 86400", "window not observed"),)
_WINDOW_BEFORE = (("_obs_before_s < ${window_days} * 86400", "window not observed"),)
_LIVE = "live channels only (params.channels, default the framework's live_channels: phone, chat)"
_STAT = {
    "median": {"kind": "quantile", "quantile": 0.5},
    "p90": {"kind": "quantile", "quantile": 0.9},
    "mean": {"kind": "mean"},
}
KS = "shared/domain/kpi-standards.md"

_ENTRIES: list[dict[str, Any]] = [
    # ---- contacts: queue level
    dict(code="service_level", name="Service level (answered within T)", direction="higher", unit="share",
         table="contacts", kind="proportion", level="queue",
         params={"threshold_s": 20, "short_abandon_s": 5, "variant": "short_abandon_excluded", "channels": "live"},
         variant_param="variant",
         variants={
             "short_abandon_excluded": {"where": f"NOT {_SHORT_AB}", "condition": _SL},
             "only_handled": {"where": "answered", "condition": _SL},
             "negative_abandon": {"where": "TRUE", "condition": _SL},
             "positive_abandon": {"where": "TRUE", "condition": "(wait_s <= ${threshold_s})"},
             "abandon_within_threshold_excluded": {
                 "where": "NOT (abandoned AND COALESCE(wait_s <= ${threshold_s}, FALSE))", "condition": _SL},
         },
         definition="answered with wait <= T / (offered - abandoned with wait < short_abandon_s); variants "
                    "only_handled (ans_in/ans), negative_abandon (ans_in/offered), positive_abandon "
                    "((ans_in + ab_in)/offered), abandon_within_threshold_excluded (ans_in/(offered - ab_in)); "
                    f"an abandon with unknown wait is never short or within T; {_LIVE}.",
         source=f"{KS} 1.1 (Cisco UCCX variants; Talkdesk short-abandon form)"),
    dict(code="abandon_rate", name="Abandonment rate", direction="lower", unit="share", table="contacts",
         kind="proportion", level="queue", params={"short_abandon_s": 5, "channels": "live"},
         where=f"NOT {_SHORT_AB}", condition="abandoned",
         definition="(abandoned - short abandoned) / (offered - short abandoned); offered = answered + abandoned; "
                    f"an abandon with unknown wait is never short; {_LIVE}.",
         source=f"{KS} 1.2 (Google CCAI, NICE long abandons)"),
    dict(code="asa", name="Average speed of answer", direction="lower", unit="seconds", table="contacts",
         kind="mean", level="queue", where="answered", value="wait_s", params={"channels": "live"},
         definition=f"Mean queue wait (answered_at - arrived_at) of answered contacts; {_LIVE}.",
         source=f"{KS} 1.2"),
    dict(code="average_wait_time", name="Average wait time (all offered)", direction="lower", unit="seconds",
         table="contacts", kind="mean", level="queue", where="TRUE", value="wait_s", params={"channels": "live"},
         exclude=(("wait_s IS NULL", "unknown wait"),),
         definition="Mean wait of all offered contacts, abandoned ones included (abandons with unknown wait "
                    f"excluded and counted); {_LIVE}.", source=f"{KS} 1.2"),
    dict(code="email_response_time", name="E-mail response time (median)", direction="lower", unit="seconds",
         table="contacts", kind="quantile", quantile=0.5, level="queue", where="answered", value="wait_s",
         params={"channels": ["email"], "statistic": "median"}, variant_param="statistic", variants=_STAT,
         definition="Median (or p90/mean) of answered_at - arrived_at over answered e-mail contacts "
                    "(params.channels names the e-mail channel(s)).", source=f"{KS} 1.2 (response time)"),
    dict(code="email_answered_within", name="E-mails answered within N hours", direction="higher", unit="share",
         table="contacts", kind="proportion", level="queue", where="TRUE",
         condition="answered AND wait_s <= ${hours} * 3600", params={"channels": ["email"], "hours": 24},
         definition="E-mail contacts answered within `hours` of arrival / e-mail contacts received.",
         source=f"{KS} 1.4 (response-time targets)"),
    dict(code="offered_contacts", name="Contacts offered", direction="higher", unit="contacts",
         table="contacts", kind="count", level="queue", where="TRUE",
         definition="Contacts that entered the queue (answered + abandoned).", source=f"{KS} 1.1"),
    dict(code="abandoned_contacts", name="Contacts abandoned", direction="lower", unit="contacts",
         table="contacts", kind="count", level="queue", where="abandoned",
         definition="Contacts abandoned in queue (all, short abandons included).", source=f"{KS} 1.2"),
    dict(code="resolved_of_offered", name="Resolved share of offered contacts", direction="higher",
         unit="share", table="contacts", kind="proportion", level="queue", where="TRUE",
         condition="COALESCE(resolved, FALSE)",
         definition="Contacts flagged resolved / all offered contacts (unanswered count as unresolved).",
         source="PwC call-centre dashboard convention (72.9 % resolved of all calls)"),
    # ---- contacts: agent level
    dict(code="answered_contacts", name="Contacts answered", direction="higher", unit="contacts",
         table="contacts", kind="count", where="answered",
         definition="Answered (handled) contacts.", source=f"{KS} 1.2"),
    dict(code="aht", name="Average handle time", direction="lower", unit="seconds", table="contacts",
         kind="mean", where="answered", value="handle_s", exclude=_MISSING_TALK,
         definition="Mean of talk_s + hold_s + acw_s over answered contacts; a missing hold/ACW counts 0, a "
                    "missing talk_s excludes the contact (reason 'missing talk_s').",
         source=f"{KS} 1.2 (Genesys AHT)"),
    dict(code="talk_time", name="Average talk time", direction="lower", unit="seconds", table="contacts",
         kind="mean", where="answered", value="talk_s", exclude=_MISSING_TALK,
         definition="Mean talk seconds over answered contacts with a talk time.", source=f"{KS} 1.2"),
    dict(code="acw_time", name="After-contact work time", direction="lower", unit="seconds", table="contacts",
         kind="mean", where="answered", value="COALESCE(acw_s, 0)",
         definition="Sum of ACW seconds / answered contacts (a missing value counts 0; skipped when the log has no acw_s column).", source=f"{KS} 1.2"),
    dict(code="hold_rate", name="Hold rate", direction="lower", unit="share", table="contacts",
         kind="proportion", where="answered", condition="COALESCE(hold_s, 0) > 0",
         definition="Share of answered contacts with hold_s > 0.", source=f"{KS} 4 (hold abuse)"),
    dict(code="short_call_rate", name="Short-contact rate", direction="lower", unit="share", table="contacts",
         kind="proportion", where="answered", condition="talk_s < ${short_s}", exclude=_MISSING_TALK,
         params={"short_s": 10},
         definition="Share of answered contacts with talk under short_s seconds (gaming check paired with AHT).",
         source=f"{KS} 4 (short-call rate < 10 s)"),
    dict(code="fcr", name="First contact resolution", direction="higher", unit="share", table="contacts",
         kind="proportion", params={"method": "repeat_contact", "window_days": 7, "same_topic": False},
         variant_param="method",
         variants={
             "repeat_contact": {"where": "answered AND customer_id IS NOT NULL",
                                "condition": "next_gap_s IS NULL OR next_gap_s > ${window_days} * 86400",
                                "exclude": _WINDOW_AFTER},
             "repeat_contact_same_topic": {
                 "where": "answered AND customer_id IS NOT NULL",
                 "condition": "next_gap_topic_s IS NULL OR next_gap_topic_s > ${window_days} * 86400",
                 "exclude": _WINDOW_AFTER},
             "agent_flag": {"where": "answered AND resolved IS NOT NULL", "condition": "resolved", "exclude": ()},
             "survey": {"table": "surveys", "where": "resolved IS NOT NULL", "condition": "resolved",
                        "exclude": ()},
         },
         definition="repeat_contact: answered contacts with no further contact by the same customer within "
                    "window_days (optionally same topic) / answered contacts with a customer id whose whole "
                    "window lies inside the data (others: 'window not observed'); agent_flag: "
                    "share flagged resolved; survey: share of survey answers saying resolved.",
         source=f"{KS} 1.4 (SQM, ASQ)"),
    dict(code="fcr_agent", name="Resolution rate (agent-flagged)", direction="higher", unit="share",
         table="contacts", kind="proportion", params={"method": "agent_flag"}, variant_param="method",
         variants={"agent_flag": {"where": "answered AND resolved IS NOT NULL", "condition": "resolved"}},
         definition="Answered contacts flagged resolved / answered contacts with a flag.", source=f"{KS} 1.4"),
    dict(code="fcr_survey", name="Resolution rate (customer-reported)", direction="higher", unit="share",
         table="surveys", kind="proportion", params={"method": "survey"}, variant_param="method",
         variants={"survey": {"where": "resolved IS NOT NULL", "condition": "resolved"}},
         definition="Survey answers saying resolved / survey answers to the question.", source=f"{KS} 1.4"),
    dict(code="repeat_contact_rate", name="Repeat contact rate", direction="lower", unit="share",
         table="contacts", kind="proportion", params={"window_days": 7},
         where="answered AND customer_id IS NOT NULL",
         condition="prev_gap_s IS NOT NULL AND prev_gap_s <= ${window_days} * 86400", exclude=_WINDOW_BEFORE,
         definition="Answered contacts whose customer contacted the centre in the previous window_days / "
                    "answered contacts with a customer id whose previous window lies inside the data (others: "
                    "'window not observed').", source=f"{KS} 1.4"),
    dict(code="contacts_per_day", name="Contacts handled per working day", direction="band",
         unit="contacts/day", table="contacts", kind="per_day", where="answered",
         definition="Answered contacts / agent-days with at least one answered contact.",
         source="course article (> 30 a day is a trap)"),
    dict(code="cost_per_contact", name="Cost per contact", direction="lower", unit="currency",
         table="contacts", kind="mean", where="answered",
         value="handle_s / 3600.0 * ${labour_per_hour} + channel_cost", params={"labour_per_hour": 60},
         exclude=_MISSING_TALK,
         definition="Mean of (handle hours x labour_per_hour + channel cost) over answered contacts "
                    "(framework.costs); a missing talk_s excludes the contact ('missing talk_s').",
         source=f"{KS} 1.4 (cost per contact)"),
    dict(code="retention_rate", name="Customer retention after contact", direction="higher", unit="share",
         table="contacts", kind="proportion", where="answered AND retained IS NOT NULL", condition="retained",
         definition="Mean of contacts.retained over answered contacts with a known outcome.",
         source="kpilab outcome (customer still active 90 days later)"),
    dict(code="survey_response_rate", name="Survey response rate", direction="higher", unit="share",
         table="contacts", kind="proportion", where="answered", condition="has_survey",
         definition="Answered contacts with a survey response / answered contacts.", source=f"{KS} 4"),
    # ---- surveys
    dict(code="csat", name="CSAT (mean score, 1-5)", direction="higher", unit="score 1-5", table="surveys",
         kind="mean", where="csat IS NOT NULL", value="csat",
         definition="Mean 1-5 survey score over answered surveys.", source=f"{KS} 1.5"),
    dict(code="csat_top2", name="CSAT (% satisfied, top-2 box)", direction="higher", unit="share",
         table="surveys", kind="proportion", where="csat IS NOT NULL", condition="csat >= ${top_from}",
         params={"top_from": 4},
         definition="Responses of 4-5 on the 1-5 scale / all CSAT responses.", source=f"{KS} 1.5"),
    dict(code="nps", name="Net Promoter Score", direction="higher", unit="points -100..100", table="surveys",
         kind="nps", where="nps IS NOT NULL", value="nps",
         definition="% promoters (9-10) - % detractors (0-6); SE = 100 sqrt((pP + pD - (pP - pD)^2)/n).",
         source=f"{KS} 1.5 (Reichheld)"),
    dict(code="ces", name="Customer effort score (1-7)", direction="higher", unit="score 1-7", table="surveys",
         kind="mean", where="ces IS NOT NULL", value="ces",
         definition="Mean CES 2.0 agreement (1-7, higher = easier).", source=f"{KS} 1.5 (CEB/Gartner)"),
    # ---- qa
    dict(code="qa_score", name="QA score (0-100)", direction="higher", unit="points 0-100",
         table="qa_reviews", kind="mean", where="score IS NOT NULL", value="score",
         definition="Mean score of quality reviews (period of the reviewed contact).", source=f"{KS} 1.6"),
    dict(code="qa_critical_fail_rate", name="QA critical-fail rate", direction="lower", unit="share",
         table="qa_reviews", kind="proportion", where="critical_fail IS NOT NULL", condition="critical_fail",
         definition="Reviews with a critical (auto-fail) error / reviews.", source=f"{KS} 1.6"),
    # ---- tickets
    dict(code="first_response_time", name="First response time (tickets)", direction="lower", unit="seconds",
         table="tickets", kind="quantile", quantile=0.5, where="first_response_s IS NOT NULL",
         value="first_response_s", params={"statistic": "median"}, variant_param="statistic", variants=_STAT,
         definition="Median (or p90/mean) of first_reply_at - created_at over replied tickets, by creation period.",
         source=f"{KS} 1.4 (Zendesk first reply time)"),
    dict(code="first_response_time_p90", name="First response time (tickets, p90)", direction="lower",
         unit="seconds", table="tickets", kind="quantile", quantile=0.9, where="first_response_s IS NOT NULL",
         value="first_response_s", params={"statistic": "p90"}, variant_param="statistic", variants=_STAT,
         definition="90th percentile of first_reply_at - created_at.", source=f"{KS} 1.4 (Plain p90)"),
    dict(code="time_to_resolution", name="Time to resolution (tickets)", direction="lower", unit="seconds",
         table="tickets", kind="quantile", quantile=0.5, where="solved", value="resolution_s",
         params={"statistic": "median"}, variant_param="statistic", variants=_STAT,
         definition="Median (or p90/mean) of solved_at - created_at over solved tickets, by creation period.",
         source=f"{KS} 1.4 (Zendesk first resolution time)"),
    dict(code="time_to_resolution_p90", name="Time to resolution (tickets, p90)", direction="lower",
         unit="seconds", table="tickets", kind="quantile", quantile=0.9, where="solved", value="resolution_s",
         params={"statistic": "p90"}, variant_param="statistic", variants=_STAT,
         definition="90th percentile of solved_at - created_at.", source=f"{KS} 1.4"),
    dict(code="resolved_within_24h", name="Tickets resolved within 24 h", direction="higher", unit="share",
         table="tickets", kind="proportion", where="TRUE",
         condition="solved AND resolution_s <= ${hours} * 3600", params={"hours": 24},
         definition="Tickets solved within `hours` of creation / tickets created.", source="customer-service article"),
    dict(code="reopen_rate", name="Ticket reopen rate", direction="lower", unit="share", table="tickets",
         kind="proportion", where="solved AND reopens IS NOT NULL", condition="reopens >= 1",
         definition="Solved tickets reopened at least once / solved tickets.", source=f"{KS} 1.4 (Zendesk reopens)"),
    dict(code="one_touch_rate", name="One-touch resolution (tickets)", direction="higher", unit="share",
         table="tickets", kind="proportion", where="solved AND replies IS NOT NULL",
         condition="replies = 1 AND COALESCE(reopens, 0) = 0",
         definition="Solved tickets with exactly one agent reply and no reopen / solved tickets.",
         source=f"{KS} 1.4 (Zendesk one-touch, Zoho FCR tickets)"),
    dict(code="tickets_per_day", name="Tickets handled per working day", direction="higher",
         unit="tickets/day", table="tickets", kind="per_day", where="TRUE",
         definition="Tickets / agent-days with at least one ticket created.", source="kpilab"),
    dict(code="tickets_created", name="Tickets created", direction="higher", unit="tickets", table="tickets",
         kind="count", where="TRUE", definition="Tickets created in the period.", source="kpilab"),
]


def _build() -> dict[str, Definition]:
    out = {}
    for e in _ENTRIES:
        d = Definition(**e)
        d.resolve()  # check every default resolves
        out[d.code] = d
    return out


CATALOGUE: dict[str, Definition] = _build()


def catalogue_frame() -> Any:
    """The catalogue as a table (code, name, direction, unit, table, kind, level, params, definition, source)."""
    import pandas as pd

    rows = []
    for d in CATALOGUE.values():
        r = d.resolve()
        rows.append({
            "code": d.code, "name": d.name, "direction": d.direction, "unit": d.unit, "table": r.table,
            "kind": r.kind, "level": d.level, "params": ", ".join(f"{k}={v}" for k, v in d.params.items()),
            "definition": d.definition, "source": d.source,
        })
    return pd.DataFrame(rows)
