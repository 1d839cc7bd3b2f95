"""The framework file: one YAML document describing a KPI system.

A framework lists the indicators (code, name, pillar, direction, unit, target
and where the target comes from, definition), the hierarchy indicator ->
pillar -> index, named weight sets (per role, or any scorecard), grade bands,
career tiers, cost parameters and exemption windows. It is validated on load;
every error names the key path (``indicators[3].direction``) and the problem.

The default framework (:func:`default_framework`) is built from the
commissioning articles (``shared/domain/seed-digest.md``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kpilab._yaml import read_yaml_mapping
from kpilab.errors import FrameworkError

__all__ = [
    "Alert",
    "Indicator",
    "Pillar",
    "WeightSet",
    "GradeBand",
    "Tier",
    "Exemption",
    "TierRule",
    "TierTarget",
    "CustomerTier",
    "CUSTOMER_MEASURES",
    "Framework",
    "load_framework",
    "default_framework",
    "DEFAULT_FRAMEWORK_PATH",
    "resolve_directions",
    "align_direction",
    "parse_direction_overrides",
]

DirectionKind = Literal["higher", "lower", "band"]
#: customer-level measures a customer tier's targets may name besides panel indicators
#: (computed from the customers table by :func:`kpilab.customers.tiers.tier_customer_measures`)
CUSTOMER_MEASURES = ("churn_risk", "churn_rate")
DEFAULT_FRAMEWORK_PATH = Path(str(resources.files("kpilab") / "frameworks" / "contact_centre.yaml"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Alert(_Model):
    """A threshold alert: ``above`` and/or ``below`` (both: alert outside ``[below, above]``).

    Evaluated per unit and period by :func:`kpilab.operations.threshold_alerts`: ``confirmed`` when the
    whole confidence interval is past the threshold, ``possible`` when only the value is.
    """

    above: float | None = None
    below: float | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one_side(self) -> Alert:
        if self.above is None and self.below is None:
            raise ValueError("an alert needs 'above', 'below' or both")
        if self.above is not None and self.below is not None and not self.below < self.above:
            raise ValueError(f"alert 'below' ({self.below}) must be under 'above' ({self.above})")
        return self


class Indicator(_Model):
    """One indicator of the framework.

    ``direction`` says which values are desirable: ``higher``, ``lower`` or
    ``band`` (inside ``[band[0], band[1]]``; distance outside the band is
    undesirable). ``outcome: true`` marks a customer outcome (e.g. retention)
    that reviews correlate indicators with; outcomes are not scored.
    """

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    pillar: str
    direction: DirectionKind
    band: tuple[float, float] | None = None
    unit: str = ""
    target: float | None = None
    target_source: str = ""
    definition: str = ""
    outcome: bool = False
    level: Literal["agent", "queue"] = "agent"
    params: dict[str, Any] = Field(default_factory=dict)
    compute: dict[str, Any] | None = None
    floor: float | None = None
    normalise: dict[str, Any] | None = None
    alert: Alert | None = None

    @model_validator(mode="after")
    def _band_matches_direction(self) -> Indicator:
        if self.direction == "band":
            if self.band is None:
                raise ValueError("direction 'band' needs 'band: [low, high]'")
            if not self.band[0] < self.band[1]:
                raise ValueError(f"band low must be below band high, got {list(self.band)}")
        elif self.band is not None:
            raise ValueError(f"'band' is only allowed with direction 'band' (direction is {self.direction!r})")
        return self


class Pillar(_Model):
    """A group of indicators (indicator -> pillar -> index)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str = ""


class WeightSet(_Model):
    """Named weights at ``pillar`` or ``indicator`` level (normalised to sum to 1)."""

    description: str = ""
    level: Literal["pillar", "indicator"]
    weights: dict[str, float]
    source: str = ""

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: w for k, w in v.items() if not (w >= 0 and math.isfinite(w))}
        if bad:
            raise ValueError(f"weights must be finite and >= 0, got {bad}")
        if sum(v.values()) <= 0:
            raise ValueError("weights must not all be zero")
        return v


class GradeBand(_Model):
    """A grade given to 0-100 scores of at least ``min`` (listed best first)."""

    grade: str
    min: float
    label: str = ""


class Tier(_Model):
    """A career tier: scores of at least ``min`` for ``consecutive_periods`` periods in a row."""

    tier: str
    min: float
    consecutive_periods: int = 1
    label: str = ""


class Exemption(_Model):
    """A window whose contacts are excluded or kept with relaxed targets (scope all, team:X, queue:X)."""

    start: datetime
    end: datetime
    scope: str = "all"
    reason: str
    action: Literal["exclude", "relax_target"]
    target_relief: dict[str, float] = Field(default_factory=dict)

    @field_validator("target_relief")
    @classmethod
    def _relief_share(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: r for k, r in v.items() if not (0 <= r < 1)}
        if bad:
            raise ValueError(f"target_relief shares must be in [0, 1) (0.10 = target lowered by 10 %), got {bad}")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> Exemption:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class TierRule(_Model):
    """Which customers belong to a customer tier (``customer_tiers[k].rule``).

    ``by`` picks the rule: ``segment`` or ``rfm_class`` (customers whose segment or RFM class is in
    ``values``), ``value_quantile`` (customers whose value, ``column`` or else revenue / monthly charges,
    lies between the ``min`` and ``max`` quantiles, e.g. ``min: 0.8`` for the top 20 %), ``column`` (an
    explicit column of the customers table within ``[min, max]`` or in ``values``, e.g. ``tenure`` up to
    6 months for new customers) or ``rest`` (every customer no earlier tier took).
    """

    by: Literal["segment", "rfm_class", "value_quantile", "column", "rest"]
    column: str | None = None
    values: list[str] | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _complete(self) -> TierRule:
        has_range = self.min is not None or self.max is not None
        if self.by in ("segment", "rfm_class"):
            if not self.values or self.column is not None or has_range:
                raise ValueError(f"rule 'by: {self.by}' takes 'values: [...]' only")
            if self.by == "rfm_class":
                from kpilab.customers.rfm import CLASS_NAMES

                bad = sorted(set(self.values) - set(CLASS_NAMES.values()))
                if bad:
                    raise ValueError(f"unknown RFM class(es) {bad}; classes are {sorted(CLASS_NAMES.values())}")
        elif self.by == "value_quantile":
            if not has_range or self.values is not None:
                raise ValueError("rule 'by: value_quantile' needs 'min' and/or 'max' (quantiles in [0, 1])")
            for q in (self.min, self.max):
                if q is not None and not 0 <= q <= 1:
                    raise ValueError(f"value_quantile bounds are quantiles in [0, 1], got {q}")
        elif self.by == "column":
            if not self.column or not (has_range or self.values):
                raise ValueError("rule 'by: column' needs 'column' and 'min'/'max' or 'values'")
            if has_range and self.values:
                raise ValueError("rule 'by: column' takes either 'min'/'max' or 'values', not both")
        elif self.column is not None or self.values is not None or has_range:
            raise ValueError("rule 'by: rest' takes no other key")
        if self.min is not None and self.max is not None and not self.min < self.max:
            raise ValueError(f"'min' ({self.min}) must be below 'max' ({self.max})")
        return self


class TierTarget(_Model):
    """A service target of one customer tier: the tier's value must be ``>= min`` and/or ``<= max``."""

    min: float | None = None
    max: float | None = None
    source: str = ""

    @model_validator(mode="after")
    def _one_side(self) -> TierTarget:
        if self.min is None and self.max is None:
            raise ValueError("a tier target needs 'min', 'max' or both")
        if self.min is not None and self.max is not None and not self.min <= self.max:
            raise ValueError(f"target 'min' ({self.min}) must not exceed 'max' ({self.max})")
        return self


class CustomerTier(_Model):
    """A customer value tier with its own service targets (``customer_tiers:``, first matching tier wins).

    ``targets`` maps an indicator code (of the framework or the catalogue; computed on the tier's
    contacts) or a customer measure (:data:`CUSTOMER_MEASURES`) to a :class:`TierTarget`.
    """

    tier: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = ""
    rule: TierRule
    targets: dict[str, TierTarget] = Field(default_factory=dict)


class Costs(_Model):
    """Cost parameters for ``cost_per_contact`` (currency per hour / per contact)."""

    currency: str = "CNY"
    labour_per_hour: float = Field(default=60.0, ge=0)
    channel_per_contact: dict[str, float] = Field(default_factory=dict)


class Framework(_Model):
    """A validated KPI system. Load with :func:`load_framework`."""

    name: str
    version: str = "1"
    description: str = ""
    index: str = "index"
    pillars: list[Pillar]
    indicators: list[Indicator]
    weight_sets: dict[str, WeightSet] = Field(default_factory=dict)
    grades: list[GradeBand] = Field(default_factory=list)
    tiers: list[Tier] = Field(default_factory=list)
    costs: Costs = Field(default_factory=Costs)
    exemptions: list[Exemption] = Field(default_factory=list)
    min_n: int = Field(default=30, ge=1)
    # channels whose contacts queue in real time; queue-speed indicators (service level, ASA,
    # abandonment, wait) use them unless an indicator's params.channels says otherwise
    live_channels: list[str] = Field(default_factory=lambda: ["phone", "chat"], min_length=1)
    normalise: dict[str, Any] = Field(default_factory=dict)
    role_weights: dict[str, str] = Field(default_factory=dict)
    # alerts on operational measures that are not panel indicators (e.g. occupancy from the staffing check)
    alerts: dict[str, Alert] = Field(default_factory=dict)
    # customer value tiers with their own service targets (kpilab.customers.tiers)
    customer_tiers: list[CustomerTier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _scoring_keys(self) -> Framework:
        unknown = {r: s for r, s in self.role_weights.items() if s not in self.weight_sets}
        if unknown:
            raise ValueError(f"role_weights: weight set(s) {unknown} not in weight_sets ({sorted(self.weight_sets)})")
        codes = {i.code for i in self.indicators}
        for k, e in enumerate(self.exemptions):
            bad = sorted(set(e.target_relief) - codes)
            if bad:
                raise ValueError(f"exemptions[{k}].target_relief: unknown indicator code(s) {bad}")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Framework:
        codes = [i.code for i in self.indicators]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"indicator codes must be unique; repeated: {dup}")
        pillar_codes = {p.code for p in self.pillars}
        for k, ind in enumerate(self.indicators):
            if ind.pillar not in pillar_codes and not ind.outcome:
                raise ValueError(
                    f"indicators[{k}] ({ind.code}): pillar {ind.pillar!r} is not declared in 'pillars' "
                    f"({sorted(pillar_codes)})"
                )
        for name, ws in self.weight_sets.items():
            known = pillar_codes if ws.level == "pillar" else set(codes)
            unknown = sorted(set(ws.weights) - known)
            if unknown:
                raise ValueError(f"weight_sets.{name}: unknown {ws.level} code(s) {unknown}")
        self._check_customer_tiers(codes)
        mins = [g.min for g in self.grades]
        if mins != sorted(mins, reverse=True):
            raise ValueError("grades must be listed from the best (highest min) to the worst")
        return self

    def _check_customer_tiers(self, codes: list[str]) -> None:
        from kpilab.indicators.catalogue import CATALOGUE

        names = [t.tier for t in self.customer_tiers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"customer_tiers: tier names must be unique; repeated: {dup}")
        for k, t in enumerate(self.customer_tiers):
            if t.rule.by == "rest" and k != len(self.customer_tiers) - 1:
                raise ValueError(f"customer_tiers[{k}] ({t.tier}): 'by: rest' must be the last tier "
                                 "(tiers are matched in order; later tiers would be empty)")
            known = set(codes) | set(CATALOGUE) | set(CUSTOMER_MEASURES)
            bad = sorted(set(t.targets) - known)
            if bad:
                raise ValueError(f"customer_tiers[{k}] ({t.tier}).targets: unknown indicator or measure {bad} "
                                 f"(framework or catalogue indicators, or {', '.join(CUSTOMER_MEASURES)})")

    # ------------------------------------------------------------------ access
    @property
    def codes(self) -> list[str]:
        """Every indicator code, in framework order."""
        return [i.code for i in self.indicators]

    def indicator(self, code: str) -> Indicator:
        """The indicator with this code (FrameworkError naming the known codes if absent)."""
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise FrameworkError(f"Indicator {code!r} is not in framework {self.name!r}; known: {', '.join(self.codes)}.")

    def directions(self) -> dict[str, str]:
        """``{code: 'higher'|'lower'|'band'}`` for every indicator."""
        return {i.code: i.direction for i in self.indicators}

    def outcomes(self) -> list[str]:
        """Codes of the outcome indicators (not scored)."""
        return [i.code for i in self.indicators if i.outcome]

    def scored(self) -> list[str]:
        """Codes of the indicators that enter the index (all but outcomes)."""
        return [i.code for i in self.indicators if not i.outcome]

    def to_frame(self) -> pd.DataFrame:
        """One row per indicator: the table ``kpilab framework show`` prints."""
        rows = []
        for i in self.indicators:
            rows.append(
                {
                    "code": i.code,
                    "name": i.name,
                    "pillar": i.pillar,
                    "direction": i.direction if i.direction != "band" else f"band {i.band[0]:g}-{i.band[1]:g}",
                    "unit": i.unit,
                    "target": i.target,
                    "target_source": i.target_source,
                    "outcome": i.outcome,
                    "level": i.level,
                }
            )
        return pd.DataFrame(rows)

    def weight_set(self, name: str, indicators: Iterable[str] | None = None) -> pd.Series:
        """Indicator-level weights of a named set, summing to 1.

        A pillar-level set shares each pillar's weight equally among its scored
        indicators (restricted to ``indicators`` when given, e.g. the
        indicators present in a panel). Pillars left without indicators drop
        out and the remaining weights are renormalised, which is reported in
        the Series' ``attrs['dropped']``.
        """
        if name not in self.weight_sets:
            raise FrameworkError(
                f"Weight set {name!r} is not in framework {self.name!r}; known: {', '.join(self.weight_sets) or 'none'}."
            )
        ws = self.weight_sets[name]
        avail = set(self.scored() if indicators is None else indicators) & set(self.scored())
        dropped: list[str] = []
        w: dict[str, float] = {}
        if ws.level == "indicator":
            for code, val in ws.weights.items():
                if code in avail:
                    w[code] = val
                else:
                    dropped.append(code)
        else:
            for pillar, val in ws.weights.items():
                members = [i.code for i in self.indicators if i.pillar == pillar and i.code in avail]
                if not members:
                    dropped.append(pillar)
                    continue
                for code in members:
                    w[code] = val / len(members)
        total = sum(w.values())
        if total <= 0:
            raise FrameworkError(
                f"Weight set {name!r} puts no weight on the available indicators ({', '.join(sorted(avail))})."
            )
        out = pd.Series({k: v / total for k, v in w.items()}, name=name, dtype=float)
        out.index.name = "indicator"
        out.attrs["dropped"] = dropped
        return out

    def grade(self, score: float) -> str | None:
        """Grade band of a 0-100 score (None for NaN)."""
        if score is None or (isinstance(score, float) and math.isnan(score)):
            return None
        for g in self.grades:
            if score >= g.min:
                return g.grade
        return self.grades[-1].grade if self.grades else None


def _format_validation_error(err: ValidationError, source: str) -> str:
    parts = []
    for e in err.errors()[:5]:
        path = ""
        for p in e["loc"]:
            path += f"[{p}]" if isinstance(p, int) else (f".{p}" if path else str(p))
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{path or '(top level)'}: {msg}")
    more = f" (+{err.error_count() - 5} more)" if err.error_count() > 5 else ""
    return f"Framework {source} is invalid: " + "; ".join(parts) + more


def load_framework(source: str | Path | Mapping[str, Any] | None = None) -> Framework:
    """Load and validate a framework.

    Parameters
    ----------
    source : path, mapping or None
        A YAML file, an already-parsed mapping, or None for the default.

    Raises
    ------
    FrameworkError
        The file is missing or not YAML, or a key is invalid; the message names
        the key path, e.g. ``indicators[3].direction: Input should be 'higher',
        'lower' or 'band'``.
    """
    if source is None:
        source = DEFAULT_FRAMEWORK_PATH
    if isinstance(source, Mapping):
        data, label = dict(source), "(mapping)"
    else:
        label = str(source)
        data = read_yaml_mapping(source, "Framework file", FrameworkError,
                                 hint="Pass a YAML file, or omit it for the default.")
    try:
        return Framework.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(_format_validation_error(exc, label)) from None


def default_framework() -> Framework:
    """The shipped contact-centre framework built from the seed articles."""
    return load_framework(DEFAULT_FRAMEWORK_PATH)


# ---------------------------------------------------------------- directions
def parse_direction_overrides(items: Iterable[str] | None) -> dict[str, str]:
    """Parse ``['aht=lower', 'csat=higher']`` (the CLI's ``--direction``)."""
    out: dict[str, str] = {}
    for item in items or ():
        code, sep, direction = item.partition("=")
        if not sep or direction not in ("higher", "lower"):
            raise FrameworkError(
                f"--direction {item!r} must look like CODE=higher or CODE=lower."
            )
        out[code.strip()] = direction
    return out


def resolve_directions(
    indicators: Iterable[str],
    framework: Framework | None = None,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Direction of each indicator: the framework's, else the indicator catalogue's, replaced by ``overrides``.

    An indicator the framework does not list (``answered_contacts``) takes the direction of
    :data:`kpilab.indicators.CATALOGUE`, which defines every indicator the panel computes.

    Raises
    ------
    FrameworkError
        Naming every indicator with no known direction and how to give one.
    """
    from kpilab.indicators.catalogue import CATALOGUE

    indicators = list(indicators)
    known = {c: CATALOGUE[c].direction for c in indicators if c in CATALOGUE}
    known.update(framework.directions() if framework is not None else {})
    known.update(overrides or {})
    unknown = [c for c in indicators if c not in known]
    if unknown:
        raise FrameworkError(
            f"No direction known for indicator(s) {', '.join(unknown)}: add them to the framework file "
            f"or pass --direction {unknown[0]}=higher|lower."
        )
    return {c: known[c] for c in indicators}


def align_direction(
    values: pd.Series | np.ndarray, direction: str, band: tuple[float, float] | None = None
) -> pd.Series | np.ndarray:
    """Direction-aligned values: higher is always better.

    ``higher`` -> x, ``lower`` -> -x, ``band`` -> minus the distance to the
    band ``[low, high]`` (0 inside it).
    """
    if direction == "higher":
        return values
    if direction == "lower":
        return -values
    if direction == "band":
        if band is None:
            raise FrameworkError("direction 'band' needs band limits (low, high).")
        low, high = band
        return -(np.maximum(low - values, 0) + np.maximum(values - high, 0))
    raise FrameworkError(f"Unknown direction {direction!r}: use higher, lower or band.")
