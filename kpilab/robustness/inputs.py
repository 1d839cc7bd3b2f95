r"""The uncertain inputs of a composite score and their map from the unit hypercube.

Every uncertain input is driven by one uniform number :math:`u \in [0, 1)`,
so the same model serves the Monte Carlo draws (independent uniforms) and the
Saltelli design of the Sobol analysis (SALib's quasi-random uniforms). Discrete
choices become uniform inputs mapped to categories, as COINr does.

========================  =========================================================  ==========================
input (name)              map from :math:`u`                                         switch
========================  =========================================================  ==========================
``weight:<code>``         ``uniform``: factor :math:`1 + p_i(2u - 1)` on the nominal   ``weights=None``
                          weight, then renormalised; ``dirichlet``: gamma quantile
                          :math:`G^{-1}(u; c\,w_i)` then renormalised (a Dirichlet
                          draw with mean :math:`w`)
``weight_set``            set :math:`\lfloor uK \rfloor` of :math:`K` named sets       ``weights="sets"``
``normalisation``         method :math:`\lfloor uM \rfloor` of the list               ``normalisations=None``
``aggregation``           method :math:`\lfloor uA \rfloor` of the list               ``aggregations=None``
``exclusion``             indicator :math:`\lfloor uI/q \rfloor` when :math:`u < q`,    ``exclude=0``
                          else none
``noise``                 one realisation of every cell's sampling distribution,       ``noise=False``
                          keyed by :math:`\lfloor u\,2^{52} \rfloor`
========================  =========================================================  ==========================

References
----------
.. [1] Saisana, M., Saltelli, A. and Tarantola, S. (2005). Uncertainty and sensitivity
   analysis techniques as tools for the quality assessment of composite indicators.
   *J. R. Stat. Soc. A* 168(2), 307-323 (trigger variables for discrete choices).
.. [2] OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and
   User Guide*, step 7 (robustness and sensitivity). OECD Publishing.
.. [3] Becker, W. et al. (2022). COINr: An R package for developing composite indicators.
   *Journal of Open Source Software* 7(78), 4567 (``get_sensitivity``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from kpilab.errors import ParameterError

__all__ = ["Uncertainty", "WEIGHT_MODES", "DEFAULT_NORMALISATIONS", "DEFAULT_AGGREGATIONS", "Design", "Plan"]

WEIGHT_MODES = ("uniform", "dirichlet", "sets")
DEFAULT_NORMALISATIONS = ("minmax", "zscore", "goalposts")
DEFAULT_AGGREGATIONS = ("arithmetic", "geometric")
_NOISE_BITS = 52


@dataclass(frozen=True)
class Uncertainty:
    """Which design choices are uncertain, and how (each input switchable).

    Parameters
    ----------
    weights : {"uniform", "dirichlet", "sets"} or None, default "uniform"
        ``uniform``: each nominal weight times :math:`1 \\pm` ``weight_range``
        (uniformly), renormalised; ``dirichlet``: a Dirichlet draw with mean the
        nominal weights and concentration ``concentration``; ``sets``: a random
        choice among ``weight_sets``; None: nominal weights.
    weight_range : float, default 0.25
        Half-width :math:`p` of the uniform factor (0.25 = +-25 %), in [0, 1).
    weight_overrides : mapping, optional
        Per-indicator half-widths ``{code: p}`` (0 holds that weight fixed).
    concentration : float, optional
        Dirichlet concentration :math:`c` (larger = closer to nominal); default
        matched to ``weight_range``: :math:`c = \\overline{(1 - w_i)/w_i}\\,/\\,(p^2/3) - 1`,
        so the mean relative sd equals the uniform factor's :math:`p/\\sqrt3`.
    weight_sets : sequence of str, or mapping of name to weights
        The named sets for ``weights="sets"`` (framework set names, ``"equal"``,
        or indicator-weight Series).
    normalisations : sequence of str or None, default ("minmax", "zscore", "goalposts")
        Global normalisation methods drawn from (framework per-indicator
        exceptions stay); None: the nominal method only.
    aggregations : sequence or None, default ("arithmetic", "geometric")
        Aggregation methods drawn from (a name for both levels, or
        ``{"pillar": ..., "index": ...}``); None: the nominal method only.
    exclude : float, default 0.5
        Probability :math:`q` that a draw drops one indicator (chosen uniformly
        among the weighted ones); 0 switches it off.
    noise : bool, default True
        Redraw every cell from its sampling distribution (measurement noise).
    """

    weights: str | None = "uniform"
    weight_range: float = 0.25
    weight_overrides: Mapping[str, float] = field(default_factory=dict)
    concentration: float | None = None
    weight_sets: Sequence[Any] | Mapping[str, Any] = ()
    normalisations: Sequence[str] | None = DEFAULT_NORMALISATIONS
    aggregations: Sequence[Any] | None = DEFAULT_AGGREGATIONS
    exclude: float = 0.5
    noise: bool = True

    def check(self) -> None:
        """Refuse bad options early, naming the parameter, what it accepts and what it got."""
        if self.weights is not None and self.weights not in WEIGHT_MODES:
            raise ParameterError(f"The 'weights' uncertainty must be one of {', '.join(WEIGHT_MODES)} or None. "
                                 f"Got {self.weights!r} instead.")
        for name, p in [("weight_range", self.weight_range), *((f"weight_overrides[{k!r}]", v)
                                                               for k, v in dict(self.weight_overrides).items())]:
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
                raise ParameterError(f"The {name!r} parameter must be a number in [0, 1) (a perturbation of "
                                     f"less than 100 %). Got {p!r} instead.")
        if self.concentration is not None and not (isinstance(self.concentration, (int, float))
                                                   and self.concentration > 0):
            raise ParameterError(f"The 'concentration' parameter must be a positive number or None. "
                                 f"Got {self.concentration!r} instead.")
        if self.weights == "sets" and len(self.weight_sets) < 2:
            raise ParameterError("weights='sets' needs at least two named weight sets in 'weight_sets'. "
                                 f"Got {list(self.weight_sets)!r} instead.")
        for name in ("normalisations", "aggregations"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, (str, Mapping)) or len(v) == 0):
                raise ParameterError(f"The {name!r} parameter must be a non-empty list of methods or None "
                                     f"(nominal method only). Got {v!r} instead.")
        if isinstance(self.exclude, bool) or not isinstance(self.exclude, (int, float)) or not 0 <= self.exclude <= 1:
            raise ParameterError(f"The 'exclude' parameter must be a probability in [0, 1]. Got {self.exclude!r}.")
        if not isinstance(self.noise, (bool, np.bool_)):
            raise ParameterError(f"The 'noise' parameter must be True or False. Got {self.noise!r} instead.")

    def describe(self) -> dict[str, Any]:
        """JSON-friendly record of the options (for ``draws_meta.json``)."""
        sets = list(self.weight_sets) if not isinstance(self.weight_sets, Mapping) else list(self.weight_sets)
        return {"weights": self.weights, "weight_range": self.weight_range,
                "weight_overrides": dict(self.weight_overrides), "concentration": self.concentration,
                "weight_sets": [s if isinstance(s, str) else getattr(s, "name", "series") for s in sets],
                "normalisations": None if self.normalisations is None else list(self.normalisations),
                "aggregations": None if self.aggregations is None else [a if isinstance(a, str) else dict(a)
                                                                         for a in self.aggregations],
                "exclude": self.exclude, "noise": bool(self.noise)}


@dataclass(frozen=True)
class Plan:
    """Decoded inputs of ``n`` model runs.

    Attributes
    ----------
    weights : ndarray (n, R, I)
        Indicator weights per run and role (rows need not sum to 1).
    norm : ndarray (n,) of int
        Normalisation variant: 0 nominal, ``1 + k`` the k-th method of the list.
    agg : ndarray (n,) of int
        Aggregation variant: 0 nominal, ``1 + k`` the k-th method of the list.
    excluded : ndarray (n,) of int
        Indicator dropped (-1: none).
    noise_key : ndarray (n,) of uint64, or None
        Key of each run's measurement-noise realisation (None: no noise).
    """

    weights: np.ndarray
    norm: np.ndarray
    agg: np.ndarray
    excluded: np.ndarray
    noise_key: np.ndarray | None


@dataclass(frozen=True)
class Design:
    """The inputs resolved against the data: names, groups and the map from :math:`[0, 1)^k`.

    Attributes
    ----------
    names : list of str
        Input names in column order of the hypercube.
    groups : list of str
        ``weights``, ``normalisation``, ``aggregation``, ``exclusion`` or ``noise`` per input.
    nominal_weights : ndarray (R, I)
    mode : str or None
        Weight uncertainty mode.
    half_width : ndarray (I,)
        Uniform half-widths (``uniform``).
    concentration : float or None
        Dirichlet concentration (``dirichlet``).
    set_weights : ndarray (K, R, I) or None
        Named sets (``sets``), broadcast to every role.
    n_norm, n_agg : int
        Methods in each list (0: the nominal method only; 1: that one method, not uncertain).
    exclude : float
    candidates : ndarray of int
        Indicators an exclusion may drop.
    noise : bool
    """

    names: list[str]
    groups: list[str]
    nominal_weights: np.ndarray
    mode: str | None
    half_width: np.ndarray
    concentration: float | None
    set_weights: np.ndarray | None
    n_norm: int
    n_agg: int
    exclude: float
    candidates: np.ndarray
    noise: bool
    weight_cols: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @property
    def k(self) -> int:
        """Number of uncertain inputs."""
        return len(self.names)

    def nominal(self) -> Plan:
        """The nominal run: nominal weights and methods (position 0), no exclusion, no noise."""
        return Plan(self.nominal_weights[None].copy(), np.zeros(1, int), np.zeros(1, int), np.full(1, -1), None)

    def decode(self, u: np.ndarray) -> Plan:
        """Map uniforms ``u`` of shape ``(n, k)`` to a :class:`Plan`.

        Method positions count from 1 (position 0 is the nominal method, used when
        the list is not uncertain).
        """
        u = np.asarray(u, dtype=float)
        n = u.shape[0]
        col = {g: [j for j, gg in enumerate(self.groups) if gg == g] for g in set(self.groups)}
        W = np.broadcast_to(self.nominal_weights, (n, *self.nominal_weights.shape)).copy()
        if self.mode == "uniform" and self.weight_cols.size:
            f = 1.0 + self.half_width[self.weight_cols][None, :] * (2 * u[:, col["weights"]] - 1)
            W[:, :, self.weight_cols] *= f[:, None, :]
        elif self.mode == "dirichlet" and self.weight_cols.size:
            a = self.concentration * self.nominal_weights[:, self.weight_cols]  # (R, m)
            uu = np.clip(u[:, col["weights"]], 1e-12, 1 - 1e-12)[:, None, :]
            with np.errstate(all="ignore"):
                g = np.where(a[None] > 0, special.gammaincinv(np.where(a > 0, a, 1.0)[None], uu), 0.0)
            W[:, :, self.weight_cols] = g
        elif self.mode == "sets":
            K = self.set_weights.shape[0]
            k = np.minimum((u[:, col["weights"][0]] * K).astype(int), K - 1)
            W = self.set_weights[k].copy()
        norm = 1 + np.minimum((u[:, col["normalisation"][0]] * self.n_norm).astype(int), self.n_norm - 1) \
            if "normalisation" in col else np.full(n, min(self.n_norm, 1))
        agg = 1 + np.minimum((u[:, col["aggregation"][0]] * self.n_agg).astype(int), self.n_agg - 1) \
            if "aggregation" in col else np.full(n, min(self.n_agg, 1))
        excluded = np.full(n, -1)
        if "exclusion" in col:
            ue = u[:, col["exclusion"][0]]
            hit = ue < self.exclude
            pick = np.minimum((ue / max(self.exclude, 1e-300) * len(self.candidates)).astype(int),
                              len(self.candidates) - 1)
            excluded = np.where(hit, self.candidates[np.clip(pick, 0, None)], -1)
        key = None
        if "noise" in col:
            key = np.floor(u[:, col["noise"][0]] * 2.0**_NOISE_BITS).astype(np.uint64)
        return Plan(W, norm, agg, excluded, key)


def make_design(spec: Uncertainty, codes: list[str], nominal_weights: np.ndarray, *,
                set_weights: np.ndarray | None, set_names: list[str], norm_names: list[str],
                agg_names: list[str], noise: bool) -> Design:
    """Resolve ``spec`` against the indicators and nominal weights ``(R, I)``."""
    n_ind = len(codes)
    names: list[str] = []
    groups: list[str] = []
    half = np.full(n_ind, float(spec.weight_range))
    for c, p in dict(spec.weight_overrides).items():
        if c not in codes:
            raise ParameterError(f"weight_overrides names indicator {c!r}, which is not scored (scored: "
                                 f"{', '.join(codes)}).")
        half[codes.index(c)] = float(p)
    weighted = (nominal_weights > 0).any(axis=0)
    cols = np.zeros(0, dtype=int)
    conc = None
    if spec.weights == "uniform":
        cols = np.flatnonzero(weighted & (half > 0))
    elif spec.weights == "dirichlet":
        cols = np.flatnonzero(weighted)
        if spec.concentration is not None:
            conc = float(spec.concentration)
        else:
            w = nominal_weights[nominal_weights > 0]
            w = w / nominal_weights.sum(axis=1).mean()
            p = max(float(spec.weight_range), 1e-6)
            conc = max(float(np.mean((1 - w) / w)) / (p * p / 3) - 1, 1.0)
    if spec.weights in ("uniform", "dirichlet"):
        names += [f"weight:{codes[j]}" for j in cols]
        groups += ["weights"] * len(cols)
    elif spec.weights == "sets":
        names.append("weight_set")
        groups.append("weights")
    if len(norm_names) > 1:
        names.append("normalisation")
        groups.append("normalisation")
    if len(agg_names) > 1:
        names.append("aggregation")
        groups.append("aggregation")
    candidates = np.flatnonzero(weighted)
    if spec.exclude > 0 and len(candidates) > 1:
        names.append("exclusion")
        groups.append("exclusion")
    if noise:
        names.append("noise")
        groups.append("noise")
    return Design(names, groups, nominal_weights, spec.weights, half, conc, set_weights, len(norm_names),
                  len(agg_names), float(spec.exclude), candidates, bool(noise), cols)
