r"""Normalisation: put every indicator on a common 0-100 "points" scale, higher is better.

Every method is direction-aware: ``lower`` indicators are reversed and ``band``
indicators get full marks inside their band. Each method is a plain function on
arrays (documented with its formula and source) and :func:`normalise`
dispatches by name over a wide table, with one global spec and per-indicator
exceptions, as COINr's ``Normalise(global_specs=, indiv_specs=)`` does.

Methods
-------
========== ================================================== =====================
name       score                                              data-dependent bounds
========== ================================================== =====================
minmax     (x - min)/(max - min) (u - l) + l                   min, max
zscore     (x - mean)/sd (sample sd), optionally m + s z       mean, sd
rank       fractional rank 1..N (ties averaged)                 the reference values
percentile (rank - 1)/(N - 1) 100                              the reference values
target     min(x/target, 1) 100 (lower: min(target/x, 1) 100)  none
goalposts  linear from floor (0) to target (100), capped        none
band       100 inside, linear to 0 at ``distance`` outside      none
threshold  100 when the target is met, else 0                   none
========== ================================================== =====================

The data-dependent bounds are learnt from a *reference* table (by default the
table being normalised) and can be held fixed: :func:`fit_normalisation`
returns them and :func:`apply_normalisation` applies them to any values, e.g.
to simulated draws, so that only a unit's own measurement noise moves its
score (see :mod:`kpilab.scoring.uncertainty`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kpilab.errors import ParameterError
from kpilab.framework import Framework

__all__ = [
    "METHODS",
    "RELATIVE_METHODS",
    "NormSpec",
    "minmax",
    "zscore",
    "rank",
    "percentile",
    "target_score",
    "goalposts",
    "band_score",
    "threshold",
    "resolve_specs",
    "fit_normalisation",
    "apply_normalisation",
    "linear_form",
    "normalise",
]

#: Normalisation methods :func:`normalise` knows.
METHODS = ("minmax", "zscore", "rank", "percentile", "target", "goalposts", "band", "threshold")
#: Methods whose bounds come from the data (the others use the framework's targets only).
RELATIVE_METHODS = ("minmax", "zscore", "rank", "percentile")
_PARAMS = {
    "minmax": {"lower", "upper"},
    "zscore": {"mean", "sd"},
    "rank": set(),
    "percentile": set(),
    "target": {"target"},
    "goalposts": {"floor", "target"},
    "band": {"band", "distance"},
    "threshold": {"target"},
}


def _aligned(x: np.ndarray, direction: str, band: tuple[float, float] | None = None) -> np.ndarray:
    if direction == "higher":
        return x
    if direction == "lower":
        return -x
    if direction == "band":
        low, high = band  # type: ignore[misc]
        return -(np.maximum(low - x, 0) + np.maximum(x - high, 0))
    raise ParameterError(f"direction must be one of 'higher', 'lower', 'band'. Got {direction!r} instead.")


# ---------------------------------------------------------------------------- methods
def minmax(
    x: Any, direction: str = "higher", *, lower: float = 0.0, upper: float = 100.0,
    xmin: float | None = None, xmax: float | None = None, band: tuple[float, float] | None = None,
) -> np.ndarray:
    r"""Min-max rescaling to ``[lower, upper]``.

    Parameters
    ----------
    x : array-like
        Raw indicator values (NaN allowed, kept).
    direction : {"higher", "lower", "band"}
        ``lower`` reverses the scale; ``band`` rescales minus the distance to the band.
    lower, upper : float, default 0 and 100
        The target interval :math:`[l, u]`.
    xmin, xmax : float, optional
        Fixed bounds (of the direction-aligned values); default the observed range.
    band : (low, high), optional
        The band, for ``direction="band"``.

    Returns
    -------
    ndarray
        Scores in ``[lower, upper]`` (outside it only for values beyond fixed bounds).

    Notes
    -----
    .. math::

       y = \frac{x - \min x}{\max x - \min x}(u - l) + l \quad\text{(higher)},\qquad
       y = \frac{\max x - x}{\max x - \min x}(u - l) + l \quad\text{(lower)}.

    A constant indicator (:math:`\max = \min`) has no scale and is refused.

    References
    ----------
    .. [1] OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology
       and User Guide*, section 5 (min-max). OECD Publishing.
    .. [2] Becker, W. et al. (2022). COINr: An R package for developing composite
       indicators. *Journal of Open Source Software* 7(78), 4567 (``n_minx``).

    Examples
    --------
    >>> minmax([1.0, 2.0, 3.0]).tolist()
    [0.0, 50.0, 100.0]
    >>> minmax([1.0, 2.0, 3.0], "lower").tolist()
    [100.0, 50.0, 0.0]
    """
    a = _aligned(np.asarray(x, dtype=float), direction, band)
    lo = np.nanmin(a) if xmin is None else xmin
    hi = np.nanmax(a) if xmax is None else xmax
    if not hi > lo:
        raise ParameterError("minmax: the indicator is constant (max = min); it cannot be rescaled.")
    return (a - lo) / (hi - lo) * (upper - lower) + lower


def zscore(
    x: Any, direction: str = "higher", *, mean: float | None = None, sd: float | None = None,
    loc: float | None = None, scale: float | None = None, band: tuple[float, float] | None = None,
) -> np.ndarray:
    r"""Standardisation with the sample standard deviation, optionally rescaled.

    Parameters
    ----------
    x : array-like
        Raw values.
    direction : {"higher", "lower", "band"}
        Direction of the indicator (``lower``: sign reversed).
    mean, sd : float, optional
        Rescale to this mean and standard deviation (:math:`m + s z`); default plain z.
    loc, scale : float, optional
        Fixed centre and sample sd of the direction-aligned values; default the data's.
    band : (low, high), optional
        The band, for ``direction="band"``.

    Returns
    -------
    ndarray

    Notes
    -----
    .. math::

       z = \frac{x - \bar x}{s},\quad s = \sqrt{\tfrac{1}{n-1}\sum (x_i - \bar x)^2},
       \qquad y = m + s_y z .

    References
    ----------
    .. [1] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*, section 5
       (standardisation or z-scores).

    Examples
    --------
    >>> zscore([1.0, 2.0, 3.0]).tolist()
    [-1.0, 0.0, 1.0]
    """
    a = _aligned(np.asarray(x, dtype=float), direction, band)
    mu = np.nanmean(a) if loc is None else loc
    s = np.nanstd(a, ddof=1) if scale is None else scale
    if not s > 0:
        raise ParameterError("zscore: the indicator is constant (sd = 0); it cannot be standardised.")
    z = (a - mu) / s
    if mean is not None or sd is not None:
        z = (0.0 if mean is None else mean) + (1.0 if sd is None else sd) * z
    return z


def _frac_rank(a: np.ndarray, ref_sorted: np.ndarray) -> np.ndarray:
    left = np.searchsorted(ref_sorted, a, side="left")
    right = np.searchsorted(ref_sorted, a, side="right")
    r = left + (right - left + 1) / 2.0
    return np.where(np.isnan(a), np.nan, r)


def rank(x: Any, direction: str = "higher", *, reference: Any = None,
         band: tuple[float, float] | None = None) -> np.ndarray:
    r"""Fractional rank, 1 = worst, N = best, ties get the average of their ranks.

    Parameters
    ----------
    x : array-like
        Raw values.
    direction : {"higher", "lower", "band"}
    reference : array-like, optional
        Values that define the ranking (default ``x`` itself); a value between two
        reference values gets the rank halfway between.
    band : (low, high), optional

    Returns
    -------
    ndarray

    Notes
    -----
    With :math:`L = \#\{r < x\}` and :math:`E = \#\{r = x\}` in the reference set,

    .. math:: \operatorname{rank}(x) = L + \frac{E + 1}{2},

    which is the tie-averaged ("fractional") rank when :math:`x` is in the set.

    References
    ----------
    .. [1] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*, section 5 (ranking).

    Examples
    --------
    >>> rank([10.0, 20.0, 20.0, 30.0]).tolist()
    [1.0, 2.5, 2.5, 4.0]
    """
    a = _aligned(np.asarray(x, dtype=float), direction, band)
    ref = a if reference is None else _aligned(np.asarray(reference, dtype=float), direction, band)
    ref_sorted = np.sort(ref[~np.isnan(ref)])
    return _frac_rank(a, ref_sorted)


def percentile(x: Any, direction: str = "higher", *, reference: Any = None,
               band: tuple[float, float] | None = None) -> np.ndarray:
    r"""Percentile rank on 0-100: the worst unit 0, the best 100, ties averaged.

    Notes
    -----
    .. math:: y = 100\,\frac{\operatorname{rank}(x) - 1}{N - 1}

    with the fractional rank of :func:`rank` among :math:`N` reference values
    (clipped to [0, 100] for values outside the reference range).

    References
    ----------
    .. [1] Becker, W. et al. (2022). COINr (``n_prank``, percentile ranks). JOSS 7(78), 4567.

    Examples
    --------
    >>> percentile([10.0, 20.0, 30.0]).tolist()
    [0.0, 50.0, 100.0]
    """
    a = _aligned(np.asarray(x, dtype=float), direction, band)
    ref = a if reference is None else _aligned(np.asarray(reference, dtype=float), direction, band)
    ref_sorted = np.sort(ref[~np.isnan(ref)])
    n = len(ref_sorted)
    if n < 2:
        raise ParameterError("percentile: needs at least two reference values.")
    return np.clip((_frac_rank(a, ref_sorted) - 1) / (n - 1) * 100, 0, 100)


def target_score(x: Any, target: float, direction: str = "higher") -> np.ndarray:
    r"""Distance to target: the share of the target achieved, capped at 100.

    Notes
    -----
    .. math::

       y = 100 \min\!\left(\frac{x}{t}, 1\right) \text{ (higher)},\qquad
       y = 100 \min\!\left(\frac{t}{x}, 1\right) \text{ (lower; } x = 0 \text{ scores } 100).

    Scores are clipped to [0, 100] (a negative NPS scores 0). The target must be
    positive.

    References
    ----------
    .. [1] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*, section 5
       (distance to a reference / target).

    Examples
    --------
    >>> float(target_score(0.83, 0.80)[()])
    100.0
    >>> round(float(target_score(330.0, 300.0, "lower")[()]), 4)
    90.9091
    """
    xa = np.asarray(x, dtype=float)
    if not np.all(np.asarray(target, dtype=float) > 0):
        raise ParameterError(f"target: the target must be positive for the target method, got {target!r}.")
    if direction == "higher":
        y = xa / target
    elif direction == "lower":
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(xa <= 0, 1.0, target / np.where(xa <= 0, 1.0, xa))
        y = np.where(np.isnan(xa), np.nan, y)
    else:
        raise ParameterError(f"target: direction must be 'higher' or 'lower' (use band for bands), got {direction!r}.")
    return np.clip(np.minimum(y, 1.0) * 100, 0, 100)


def goalposts(x: Any, floor: float, target: float, direction: str = "higher") -> np.ndarray:
    r"""Goalposts: 0 points at the floor, 100 at the target, linear between, capped at both ends.

    The usual contact-centre scorecard rule (e.g. AHT: 100 points at or under
    5 minutes, 0 at or over 8 minutes).

    Notes
    -----
    .. math:: y = 100\,\min\!\left(1, \max\!\left(0, \frac{x - f}{t - f}\right)\right)

    for both directions: a ``lower`` indicator has its floor above its target
    (:math:`f > t`), a ``higher`` one below. A floor on the wrong side is refused.

    References
    ----------
    .. [1] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*, section 5
       (goalposts / distance to a reference).
    .. [2] UNDP (2010). *Human Development Report*, technical note 1 (fixed minimum
       and maximum goalposts).

    Examples
    --------
    >>> round(float(goalposts(330.0, floor=480.0, target=300.0, direction="lower")[()]), 4)
    83.3333
    """
    xa = np.asarray(x, dtype=float)
    f, t = np.asarray(floor, dtype=float), np.asarray(target, dtype=float)
    if np.any(f == t):
        raise ParameterError("goalposts: floor equals target; there is no range to score.")
    if direction == "higher" and not np.all(f < t):
        raise ParameterError(f"goalposts: a 'higher' indicator needs floor < target, got floor {floor} "
                             f"and target {target}.")
    if direction == "lower" and not np.all(f > t):
        raise ParameterError(f"goalposts: a 'lower' indicator needs floor > target, got floor {floor} "
                             f"and target {target}.")
    return np.clip((xa - floor) / (target - floor), 0.0, 1.0) * 100


def band_score(x: Any, low: float, high: float, distance: float | None = None) -> np.ndarray:
    r"""Band: 100 inside ``[low, high]``, falling linearly to 0 at ``distance`` outside it.

    Notes
    -----
    .. math:: y = 100 \max\!\left(0, 1 - \frac{\max(l - x, 0) + \max(x - h, 0)}{d}\right)

    with :math:`d` = ``distance`` (default the band's own width :math:`h - l`).

    References
    ----------
    .. [1] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*, section 5
       (distance to a reference); the occupancy band 60-80 % is the course article's
       (``shared/domain/seed-digest.md``).

    Examples
    --------
    >>> round(float(band_score(0.85, 0.60, 0.80, distance=0.10)[()]), 6)
    50.0
    """
    xa = np.asarray(x, dtype=float)
    if not low < high:
        raise ParameterError(f"band: low must be below high, got [{low}, {high}].")
    d = (high - low) if distance is None else distance
    if not d > 0:
        raise ParameterError(f"band: distance must be positive, got {distance!r}.")
    gap = np.maximum(low - xa, 0) + np.maximum(xa - high, 0)
    return np.maximum(0.0, 1.0 - gap / d) * 100


def threshold(x: Any, target: float, direction: str = "higher",
              band: tuple[float, float] | None = None) -> np.ndarray:
    r"""Pass/fail: 100 when the target is met (``>=`` higher, ``<=`` lower, inside a band), else 0.

    Notes
    -----
    .. math:: y = 100\,\mathbb{1}[x \ge t] \text{ (higher)},\qquad y = 100\,\mathbb{1}[x \le t] \text{ (lower)}

    References
    ----------
    .. [1] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*, section 5
       (categorical scales / indicators above or below the mean).

    Examples
    --------
    >>> threshold([0.79, 0.80], 0.80).tolist()
    [0.0, 100.0]
    """
    xa = np.asarray(x, dtype=float)
    if direction == "higher":
        y = xa >= target
    elif direction == "lower":
        y = xa <= target
    else:
        low, high = band  # type: ignore[misc]
        y = (xa >= low) & (xa <= high)
    return np.where(np.isnan(xa), np.nan, y * 100.0)


# ------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class NormSpec:
    """How one indicator is normalised: method, direction and parameters (targets, floors, band)."""

    code: str
    method: str
    direction: str
    params: Mapping[str, Any] = field(default_factory=dict)
    band: tuple[float, float] | None = None
    target: float | None = None
    floor: float | None = None

    def describe(self) -> dict[str, Any]:
        """JSON-friendly record of the spec (for the run log)."""
        return {"method": self.method, "direction": self.direction, **dict(self.params),
                **({"band": list(self.band)} if self.band else {}),
                **({"target": self.target} if self.target is not None else {}),
                **({"floor": self.floor} if self.floor is not None else {})}


def _split_spec(spec: Mapping[str, Any] | str | None) -> tuple[str | None, dict[str, Any]]:
    if spec is None:
        return None, {}
    if isinstance(spec, str):
        return spec, {}
    spec = dict(spec)
    return spec.pop("method", None), spec


def resolve_specs(
    codes: list[str],
    method: str | None = None,
    *,
    framework: Framework | None = None,
    directions: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any] | str] | None = None,
    params: Mapping[str, Any] | None = None,
) -> dict[str, NormSpec]:
    """The normalisation spec of each indicator: global spec, then framework exceptions, then ``overrides``.

    Precedence (lowest first): ``method``/``params`` given here, or when ``method``
    is None the framework's global ``normalise:`` (else ``minmax``); the
    indicator's own ``normalise:`` in the framework; ``overrides[code]``. An
    explicit ``method`` here replaces the framework's global spec but not its
    per-indicator exceptions. Targets, floors and bands come from the framework
    (an override may set ``target``, ``floor``, ``band``).

    Raises
    ------
    ParameterError
        Unknown method or parameter, or a method missing what it needs (the
        message names the indicator and the missing key).
    """
    fw_global_method, fw_global_params = _split_spec(framework.normalise if framework is not None else None)
    g_method = method or fw_global_method or "minmax"
    g_params = dict(params or {}) if method else {**fw_global_params, **dict(params or {})}
    out: dict[str, NormSpec] = {}
    for code in codes:
        ind = None
        if framework is not None and code in framework.codes:
            ind = framework.indicator(code)
        direction = (directions or {}).get(code) or (ind.direction if ind is not None else None)
        if direction is None:
            raise ParameterError(f"Indicator {code!r}: no direction known; add it to the framework file "
                                 "or pass directions={code: 'higher'|'lower'}.")
        m, p = g_method, dict(g_params)
        fm, fp = _split_spec(ind.normalise if ind is not None else None)
        if fm is not None or fp:
            m, p = (fm or m), ({**p, **fp} if fm in (None, m) else fp)
        om, op = _split_spec((overrides or {}).get(code))
        if om is not None or op:
            m, p = (om or m), ({**p, **op} if om in (None, m) else op)
        if m not in METHODS:
            raise ParameterError(f"Indicator {code!r}: normalisation method must be one of "
                                 f"{', '.join(METHODS)}. Got {m!r} instead.")
        band = p.pop("band", None) or (ind.band if ind is not None else None)
        target = p.pop("target", None)
        target = target if target is not None else (ind.target if ind is not None else None)
        floor = p.pop("floor", None)
        floor = floor if floor is not None else (ind.floor if ind is not None else None)
        unknown = sorted(set(p) - _PARAMS[m])
        if unknown:
            raise ParameterError(f"Indicator {code!r}: unknown parameter(s) {unknown} for method {m!r} "
                                 f"(it takes {sorted(_PARAMS[m] - {'target', 'floor', 'band'}) or 'none'}).")
        spec = NormSpec(code, m, direction, p, tuple(band) if band is not None else None,
                        None if target is None else float(target), None if floor is None else float(floor))
        _check_spec(spec)
        out[code] = spec
    return out


def _check_spec(s: NormSpec) -> None:
    if s.direction == "band" and s.band is None:
        raise ParameterError(f"Indicator {s.code!r}: direction 'band' needs the key 'band' ([low, high]).")
    if s.method == "band" and s.band is None:
        raise ParameterError(f"Indicator {s.code!r}: method 'band' needs the key 'band' ([low, high]) in the "
                             "framework or the override.")
    if s.direction == "band":
        return  # target, goalposts and threshold use the band itself
    if s.method in ("target", "goalposts", "threshold") and s.target is None:
        raise ParameterError(f"Indicator {s.code!r}: method {s.method!r} needs the key 'target' "
                             "(set it in the framework, or override the method for this indicator).")
    if s.method == "goalposts" and s.floor is None:
        raise ParameterError(f"Indicator {s.code!r}: method 'goalposts' needs the key 'floor' (the value "
                             "that scores 0 points) in the framework or the override.")
    if s.method == "goalposts" and s.floor == s.target:
        raise ParameterError(f"Indicator {s.code!r}: method 'goalposts' needs 'floor' different from "
                             f"'target' (both {s.target:g}).")
    if s.method == "target" and not (s.target or 0) > 0:
        raise ParameterError(f"Indicator {s.code!r}: method 'target' needs a positive 'target', got {s.target}.")


# ------------------------------------------------------------------ fit / apply
def fit_normalisation(values: np.ndarray, spec: NormSpec) -> dict[str, Any]:
    """Learn the data-dependent bounds of one indicator from its reference values.

    Returns ``{}`` for target-based methods; ``{"xmin", "xmax"}`` (minmax),
    ``{"loc", "scale"}`` (zscore) or ``{"sorted"}`` (rank, percentile), all on
    direction-aligned values.

    Raises
    ------
    ParameterError
        A constant indicator under minmax or zscore, or no values at all.
    """
    if spec.method not in RELATIVE_METHODS:
        return {}
    a = _aligned(np.asarray(values, dtype=float), spec.direction, spec.band)
    a = a[~np.isnan(a)]
    if a.size == 0:
        raise ParameterError(f"Indicator {spec.code!r}: no values to normalise.")
    if spec.method == "minmax":
        lo, hi = float(a.min()), float(a.max())
        if not hi > lo:
            raise ParameterError(f"Indicator {spec.code!r} is constant ({lo:g} in every row): method 'minmax' "
                                 "cannot rescale it (key 'max' = 'min'); drop it or use a target-based method.")
        return {"xmin": lo, "xmax": hi}
    if spec.method == "zscore":
        sd = float(np.std(a, ddof=1)) if a.size > 1 else 0.0
        if not sd > 0:
            raise ParameterError(f"Indicator {spec.code!r} is constant: method 'zscore' needs a positive "
                                 "standard deviation (key 'sd' = 0); drop it or use a target-based method.")
        return {"loc": float(a.mean()), "scale": sd}
    srt = np.sort(a)
    if spec.method == "percentile" and srt.size < 2:
        raise ParameterError(f"Indicator {spec.code!r}: method 'percentile' needs at least two values.")
    if srt[0] == srt[-1]:
        raise ParameterError(f"Indicator {spec.code!r} is constant: method {spec.method!r} cannot rank it.")
    return {"sorted": srt}


def apply_normalisation(x: np.ndarray, spec: NormSpec, fitted: Mapping[str, Any]) -> np.ndarray:
    """Score values ``x`` (any shape) with one indicator's spec and fixed bounds from :func:`fit_normalisation`.

    ``fitted`` may carry ``target``: an array of per-row targets (relieved targets).
    """
    try:
        return _apply(x, spec, fitted)
    except ParameterError as exc:
        msg = str(exc)
        raise ParameterError(msg if msg.startswith("Indicator") else f"Indicator {spec.code!r}: {msg}") from None


def _apply(x: np.ndarray, spec: NormSpec, fitted: Mapping[str, Any]) -> np.ndarray:
    m, p, d = spec.method, spec.params, spec.direction
    if m == "minmax":  # values beyond the reference range (draws, intervals) are capped at [lower, upper]
        lo, hi = p.get("lower", 0.0), p.get("upper", 100.0)
        y = minmax(x, d, lower=lo, upper=hi, xmin=fitted["xmin"], xmax=fitted["xmax"], band=spec.band)
        return np.clip(y, min(lo, hi), max(lo, hi))
    if m == "zscore":
        return zscore(x, d, mean=p.get("mean"), sd=p.get("sd"), loc=fitted["loc"], scale=fitted["scale"],
                      band=spec.band)
    if m in ("rank", "percentile"):
        a = _aligned(np.asarray(x, dtype=float), d, spec.band)
        r = _frac_rank(a, fitted["sorted"])
        if m == "rank":
            return r
        return np.clip((r - 1) / (len(fitted["sorted"]) - 1) * 100, 0, 100)
    if d == "band" or m == "band":
        low, high = spec.band  # type: ignore[misc]
        if m == "threshold":
            return threshold(x, 0.0, "band", band=spec.band)
        return band_score(x, low, high, p.get("distance"))
    if m == "target":
        return target_score(x, fitted.get("target", spec.target), d)
    if m == "goalposts":
        return goalposts(x, spec.floor, fitted.get("target", spec.target), d)  # type: ignore[arg-type]
    return threshold(x, fitted.get("target", spec.target), d)


def linear_form(spec: NormSpec, fitted: Mapping[str, Any]) -> tuple[Any, Any, float, float] | None:
    """``(a, b, lo, hi)`` with score = clip(a + b x, lo, hi) when the method is linear in x, else None.

    minmax, zscore and goalposts are (capped) linear maps of the raw value;
    the draws use this form to fuse normalisation with aggregation.
    ``a``/``b`` are arrays when targets vary by row (target relief).
    """
    m, p, d = spec.method, spec.params, spec.direction
    if d == "band" or m not in ("minmax", "zscore", "goalposts"):
        return None
    sign = -1.0 if d == "lower" else 1.0
    if m == "minmax":
        lo, hi = p.get("lower", 0.0), p.get("upper", 100.0)
        k = (hi - lo) / (fitted["xmax"] - fitted["xmin"])
        return lo - fitted["xmin"] * k, sign * k, min(lo, hi), max(lo, hi)
    if m == "zscore":
        mean = 0.0 if p.get("mean") is None else p["mean"]
        sd = 1.0 if p.get("sd") is None else p["sd"]
        k = sd / fitted["scale"]
        return mean - fitted["loc"] * k, sign * k, -np.inf, np.inf
    t = np.asarray(fitted.get("target", spec.target), dtype=float)
    f = float(spec.floor)  # type: ignore[arg-type]
    k = 100.0 / (t - f)
    return -f * k, k, 0.0, 100.0


def normalise(
    wide: pd.DataFrame,
    method: str | None = None,
    *,
    framework: Framework | None = None,
    directions: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any] | str] | None = None,
    reference: pd.DataFrame | None = None,
    **params: Any,
) -> pd.DataFrame:
    r"""Normalise every column of a wide table to points (higher = better).

    Parameters
    ----------
    wide : DataFrame
        One row per unit (and period), one numeric column per indicator code.
    method : str, optional
        Global method (one of :data:`METHODS`); default the framework's
        ``normalise:`` spec, else ``minmax``.
    framework : Framework, optional
        Directions, bands, targets, floors and per-indicator ``normalise:`` exceptions.
    directions : mapping, optional
        ``{code: "higher" | "lower" | "band"}`` for indicators not in the framework.
    overrides : mapping, optional
        Per-indicator exceptions, ``{"aht": {"method": "goalposts", "floor": 480}}``.
    reference : DataFrame, optional
        Table whose values fix the data-dependent bounds (min/max, mean/sd,
        ranks); default ``wide`` itself.
    **params
        Global method parameters (``lower``/``upper`` for minmax, ``mean``/``sd``
        for zscore, ``distance`` for band).

    Returns
    -------
    DataFrame
        Same index and columns as ``wide``; NaN stays NaN.

    Raises
    ------
    ParameterError
        Unknown method, a constant indicator, or a method missing a key
        (``target`` without a target, goalposts with floor = target, a band
        without bounds), naming the indicator and the key.

    See Also
    --------
    minmax, zscore, rank, percentile, target_score, goalposts, band_score, threshold

    Notes
    -----
    Each column is normalised independently with its spec from
    :func:`resolve_specs`; formulas are in each method's docstring.

    References
    ----------
    .. [1] OECD/JRC (2008). *Handbook on Constructing Composite Indicators*, section 5.
    .. [2] Becker, W. et al. (2022). COINr. JOSS 7(78), 4567 (global and individual specs).

    Examples
    --------
    >>> w = pd.DataFrame({"fcr": [0.7, 0.8, 0.9], "aht": [400.0, 300.0, 350.0]})
    >>> normalise(w, "minmax", directions={"fcr": "higher", "aht": "lower"}).round(1).to_dict("list")
    {'fcr': [0.0, 50.0, 100.0], 'aht': [0.0, 100.0, 50.0]}
    """
    codes = [str(c) for c in wide.columns]
    specs = resolve_specs(codes, method, framework=framework, directions=directions, overrides=overrides,
                          params=params)
    ref = wide if reference is None else reference
    out = {}
    for code, col in zip(codes, wide.columns, strict=True):
        vals = wide[col].to_numpy(dtype=float)
        fitted = fit_normalisation(ref[col].to_numpy(dtype=float), specs[code])
        out[col] = apply_normalisation(vals, specs[code], fitted)
    return pd.DataFrame(out, index=wide.index, columns=wide.columns)
