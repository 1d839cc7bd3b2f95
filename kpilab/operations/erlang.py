r"""Queueing formulas for staffing checks: Erlang C (M/M/N) and Erlang A (M/M/N+M).

Every function takes the arrival rate in contacts per hour, the average handle time
(AHT) and the service-level threshold in seconds, and returns a :class:`QueueResult`
(service level, ASA in seconds, occupancy, probability of waiting, abandonment).

* **Erlang C** [1]_ assumes callers wait for ever. The offered load is
  :math:`A = \lambda\,\overline{h}` Erlangs; the queue is stable only when :math:`A < N`
  agents (otherwise it grows without bound and :class:`UnstableQueueError` says so).
* **Erlang A** [2]_ [3]_ adds exponential patience with mean :math:`1/\theta`: a waiting
  caller abandons at rate :math:`\theta`. It is stable at every load and fits real
  centres better, because abandonment relieves the queue (Erlang C over-staffs).

Numerics: the Erlang B recursion (no factorials), the Erlang A stationary distribution
grown until its tail is below 1e-16 of its mass, and the Erlang A service level by the
matrix exponential of the tagged caller's absorbing chain.

References
----------
.. [1] Erlang, A. K. (1917). Solution of some problems in the theory of probabilities of
   significance in automatic telephone exchanges. *Elektroteknikeren* 13, 5-13.
.. [2] Palm, C. (1943). Intensitätsschwankungen im Fernsprechverkehr. *Ericsson Technics* 44,
   1-189 (the M/M/N+M queue with impatient callers).
.. [3] Garnett, O., Mandelbaum, A. and Reiman, M. (2002). Designing a call center with
   impatient customers. *Manufacturing & Service Operations Management* 4(3), 208-227.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import poisson

from kpilab.errors import ParameterError

__all__ = [
    "QueueResult",
    "UnstableQueueError",
    "erlang_b",
    "erlang_c",
    "erlang_a",
    "agents_needed",
]


class UnstableQueueError(ParameterError):
    """Erlang C was asked about a queue whose load is at least the number of agents (it never empties)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueResult:
    """Steady-state performance of one queue (:func:`erlang_c`, :func:`erlang_a`).

    Attributes
    ----------
    model : {"erlang_c", "erlang_a"}
        The model used.
    calls_per_hour, aht_s, agents, threshold_s : float, float, int, float
        The inputs: arrival rate, average handle time (s), agents on the queue, SL threshold (s).
    patience_s : float
        Mean patience (s) for Erlang A; ``inf`` for Erlang C (nobody abandons).
    load : float
        Offered load :math:`A = \\lambda \\bar h` in Erlangs.
    p_wait : float
        Probability that an arriving caller has to wait.
    service_level : float
        Share of arriving callers answered within ``threshold_s`` (Erlang A: abandoned callers
        count as not answered, the negative-abandon convention).
    asa : float
        Mean queue time in seconds. Erlang C: mean wait of all callers (answered ones, since nobody
        abandons). Erlang A: mean queue time of all arriving callers, abandoned ones included
        (:math:`L_q/\\lambda`, Little's law), as in pyworkforce's ``ErlangA``.
    occupancy : float
        Share of agent time busy: :math:`A/N` (Erlang C), :math:`\\lambda(1 - P_{ab})\\bar h / N` (Erlang A).
    abandon_rate : float
        Share of arriving callers who abandon (0 for Erlang C).
    """

    model: str
    calls_per_hour: float
    aht_s: float
    agents: int
    threshold_s: float
    patience_s: float
    load: float
    p_wait: float
    service_level: float
    asa: float
    occupancy: float
    abandon_rate: float

    def summary(self) -> str:
        """One line for people."""
        ab = f", abandon {self.abandon_rate:.1%}" if self.model == "erlang_a" else ""
        return (f"{self.model}: {self.calls_per_hour:g} calls/h x AHT {self.aht_s:g} s = {self.load:.2f} Erlangs "
                f"on {self.agents} agents -> SL({self.threshold_s:g} s) {self.service_level:.1%}, "
                f"ASA {self.asa:.1f} s, occupancy {self.occupancy:.1%}{ab}")

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, float | int | str]:
        """The fields as a dict (one row of a staffing table)."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """The fields as a one-row DataFrame."""
        return pd.DataFrame([self.to_dict()])


# --------------------------------------------------------------------------- validation
def _positive(name: str, value: float, caller: str, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        what = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise ParameterError(f"The {name!r} parameter of {caller} must be {what}. Got {value!r} instead.")
    return value


def _agents(agents: int, caller: str) -> int:
    if isinstance(agents, bool) or not isinstance(agents, int | np.integer) or agents < 1:
        raise ParameterError(f"The 'agents' parameter of {caller} must be an integer >= 1. Got {agents!r} instead.")
    return int(agents)


def _load(calls_per_hour: float, aht_s: float, caller: str) -> float:
    lam = _positive("calls_per_hour", calls_per_hour, caller)
    h = _positive("aht_s", aht_s, caller)
    return lam * h / 3600.0


# --------------------------------------------------------------------------- Erlang B and C
def erlang_b(load: float, agents: int) -> float:
    r"""Erlang B blocking probability by the stable recursion.

    .. math:: B(0) = 1,\qquad B(k) = \frac{A\,B(k-1)}{k + A\,B(k-1)}

    Parameters
    ----------
    load : float
        Offered load :math:`A` in Erlangs (> 0).
    agents : int
        Servers :math:`N` (>= 1).

    Returns
    -------
    float
        :math:`B(N, A)`, the share of calls lost when there is no queue.

    References
    ----------
    .. [1] Erlang (1917), *Elektroteknikeren* 13, 5-13.

    Examples
    --------
    >>> round(erlang_b(10.0, 13), 6)
    0.084339
    """
    a = _positive("load", load, "erlang_b")
    n = _agents(agents, "erlang_b")
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def _check_stable(load: float, agents: int, caller: str) -> None:
    if load >= agents:
        raise UnstableQueueError(
            f"{caller}: the offered load is {load:.3g} Erlangs on {agents} agent(s), so the queue never empties "
            f"(Erlang C needs load < agents and has no finite answer). Staff at least {math.floor(load) + 1} "
            "agents, or use erlang_a, which lets callers abandon."
        )


def erlang_c(calls_per_hour: float, aht_s: float, agents: int, threshold_s: float = 20.0) -> QueueResult:
    r"""Erlang C (M/M/N): service level, ASA and occupancy of a queue whose callers never abandon.

    Parameters
    ----------
    calls_per_hour : float
        Arrival rate :math:`\lambda` (contacts per hour, > 0).
    aht_s : float
        Average handle time :math:`\bar h` in seconds (> 0).
    agents : int
        Agents :math:`N` on the queue (>= 1).
    threshold_s : float, default 20
        Service-level threshold :math:`T` in seconds (>= 0).

    Returns
    -------
    QueueResult
        ``model="erlang_c"``, ``abandon_rate = 0``, ``patience_s = inf``.

    Raises
    ------
    UnstableQueueError
        When :math:`A \ge N` (the queue is unstable; no number is returned).
    ParameterError
        A non-positive or non-finite input.

    See Also
    --------
    erlang_a : the same queue with abandonment.
    agents_needed : the inverse (agents for a target service level).

    Notes
    -----
    With :math:`A = \lambda\bar h` and the Erlang B probability :math:`B = B(N, A)`:

    .. math::
        P_w = C(N, A) = \frac{N B}{N - A(1 - B)},\qquad
        SL(T) = 1 - P_w\,e^{-(N - A)\,T/\bar h},\qquad
        ASA = \frac{P_w\,\bar h}{N - A},\qquad \text{occupancy} = A/N.

    References
    ----------
    .. [1] Erlang, A. K. (1917). *Elektroteknikeren* 13, 5-13.
    .. [2] Gans, N., Koole, G. and Mandelbaum, A. (2003). Telephone call centers: tutorial,
       review, and research prospects. *M&SOM* 5(2), 79-141.

    Examples
    --------
    >>> r = erlang_c(calls_per_hour=200, aht_s=180, agents=14, threshold_s=20)
    >>> round(r.p_wait, 10), round(r.service_level, 10)
    (0.1741319336, 0.8883500192)
    """
    caller = "erlang_c"
    a = _load(calls_per_hour, aht_s, caller)
    n = _agents(agents, caller)
    t = _positive("threshold_s", threshold_s, caller, allow_zero=True)
    _check_stable(a, n, caller)
    b = erlang_b(a, n)
    pw = n * b / (n - a * (1.0 - b))
    sl = 1.0 - pw * math.exp(-(n - a) * t / aht_s)
    asa = pw * aht_s / (n - a)
    return QueueResult(model="erlang_c", calls_per_hour=float(calls_per_hour), aht_s=float(aht_s), agents=n,
                       threshold_s=t, patience_s=math.inf, load=a, p_wait=pw, service_level=sl, asa=asa,
                       occupancy=a / n, abandon_rate=0.0)


# --------------------------------------------------------------------------- Erlang A
def _erlang_a_distribution(lam: float, mu: float, theta: float, n: int) -> np.ndarray:
    """Stationary distribution p_0..p_K of the M/M/n+M birth-death chain (tail < 1e-16 of the mass)."""
    logs = [0.0]  # log of the unnormalised p_k
    k = 0
    while True:
        k += 1
        death = min(k, n) * mu + max(k - n, 0) * theta
        logs.append(logs[-1] + math.log(lam / death))
        if k > n and logs[-1] < max(logs) - 37.0 and lam < death:  # e^-37 ~ 1e-16, and falling
            break
        if k > n + 200_000:  # pragma: no cover - guarded by theta > 0
            break
    lp = np.asarray(logs)
    p = np.exp(lp - lp.max())
    return p / p.sum()


def _served_within(n: int, mu: float, theta: float, max_ahead: int, t: float) -> np.ndarray:
    r"""P(a caller who finds j callers ahead in queue is answered within t), j = 0..max_ahead.

    With j ahead the caller moves up at rate :math:`N\mu + j\theta` and abandons at rate :math:`\theta`;
    from position 0 it is answered at rate :math:`N\mu`. States 0..J transient, J+1 = answered.
    """
    move = n * mu + np.arange(max_ahead + 1) * theta
    out_rate = move + theta
    lam_u = float(out_rate.max())
    if t <= 0 or lam_u <= 0:
        return np.zeros(max_ahead + 1)
    # The generator is bidiagonal (position j -> j-1, position 0 -> answered), so the answered
    # column of exp(Qt) follows by uniformisation (Jensen 1953; Grassmann 1977): with
    # P = I + Q/L, exp(Qt) e = sum_m Pois(m; Lt) P^m e, each P^m e one O(J) vector step.
    # A dense expm costs O(J^3) and made long queues (loads above ~100 Erlangs) take minutes.
    lt = lam_u * t
    m_max = int(poisson.isf(1e-16, lt)) + 1
    weights = poisson.pmf(np.arange(m_max + 1), lt)
    stay = 1.0 - out_rate / lam_u
    step = move / lam_u
    w = np.zeros(max_ahead + 1)  # P^m e on the transient states; the answered state stays 1
    acc = weights[0] * w
    for m in range(1, m_max + 1):
        ahead = np.empty_like(w)
        ahead[0] = 1.0
        ahead[1:] = w[:-1]
        w = stay * w + step * ahead
        acc += weights[m] * w
    return np.clip(acc, 0.0, 1.0)


def erlang_a(calls_per_hour: float, aht_s: float, agents: int, threshold_s: float = 20.0,
             patience_s: float = 300.0) -> QueueResult:
    r"""Erlang A (M/M/N+M, Palm's queue with impatient callers): SL, ASA, occupancy and abandonment.

    Parameters
    ----------
    calls_per_hour : float
        Arrival rate :math:`\lambda` (contacts per hour, > 0).
    aht_s : float
        Average handle time :math:`1/\mu` in seconds (> 0).
    agents : int
        Agents :math:`N` (>= 1).
    threshold_s : float, default 20
        Service-level threshold :math:`T` in seconds (>= 0).
    patience_s : float, default 300
        Mean patience :math:`1/\theta` in seconds (> 0). Estimate it from data as total queue time
        of all callers (answered and abandoned) divided by the number of abandons.

    Returns
    -------
    QueueResult
        ``model="erlang_a"``. Defined at any load: abandonment keeps the queue finite.

    See Also
    --------
    erlang_c : the limit of infinite patience (for a stable queue).

    Notes
    -----
    The number of callers in the system is a birth-death chain with birth rate :math:`\lambda` and
    death rate :math:`\min(k, N)\mu + \max(k - N, 0)\theta`; from its stationary distribution
    :math:`p_k`:

    .. math::
        P_w = \sum_{k \ge N} p_k,\quad L_q = \sum_{k > N} (k - N) p_k,\quad
        P_{ab} = \frac{\theta L_q}{\lambda},\quad ASA = \frac{L_q}{\lambda},\quad
        \text{occupancy} = \frac{\lambda (1 - P_{ab})}{N\mu}.

    The service level is the share of arrivals answered within :math:`T` (PASTA):

    .. math::
        SL(T) = \sum_{k < N} p_k + \sum_{k \ge N} p_k\, G_{k - N}(T),

    where :math:`G_j(T)` is the probability that a caller with :math:`j` callers ahead is answered
    within :math:`T`: the absorption probability of the chain in which position :math:`j` moves up at
    rate :math:`N\mu + j\theta` and the caller leaves at rate :math:`\theta`, computed as a matrix
    exponential. Abandoned callers count as not answered.

    References
    ----------
    .. [1] Palm, C. (1943). Intensitätsschwankungen im Fernsprechverkehr. *Ericsson Technics* 44.
    .. [2] Garnett, O., Mandelbaum, A. and Reiman, M. (2002). Designing a call center with impatient
       customers. *M&SOM* 4(3), 208-227.

    Examples
    --------
    >>> r = erlang_a(calls_per_hour=200, aht_s=180, agents=13, threshold_s=20, patience_s=300)
    >>> round(r.p_wait, 6), round(r.abandon_rate, 6), round(r.asa / 60, 6)
    (0.225797, 0.024963, 0.124817)
    """
    caller = "erlang_a"
    a = _load(calls_per_hour, aht_s, caller)
    n = _agents(agents, caller)
    t = _positive("threshold_s", threshold_s, caller, allow_zero=True)
    pat = _positive("patience_s", patience_s, caller)
    lam = float(calls_per_hour) / 3600.0
    mu = 1.0 / float(aht_s)
    theta = 1.0 / pat
    p = _erlang_a_distribution(lam, mu, theta, n)
    k = np.arange(len(p))
    pw = float(p[n:].sum())
    lq = float(((k - n).clip(min=0) * p).sum())
    pab = theta * lq / lam
    served = _served_within(n, mu, theta, len(p) - 1 - n, t) if len(p) > n else np.zeros(0)
    sl = float(p[:n].sum() + (p[n:] * served).sum())
    return QueueResult(model="erlang_a", calls_per_hour=float(calls_per_hour), aht_s=float(aht_s), agents=n,
                       threshold_s=t, patience_s=pat, load=a, p_wait=pw, service_level=min(sl, 1.0),
                       asa=lq / lam, occupancy=lam * (1.0 - pab) / (n * mu), abandon_rate=pab)


# --------------------------------------------------------------------------- inverse
def agents_needed(calls_per_hour: float, aht_s: float, target_sl: float = 0.8, threshold_s: float = 20.0, *,
                  patience_s: float | None = None, max_occupancy: float = 1.0) -> int:
    r"""Smallest number of agents whose service level meets ``target_sl`` (and the occupancy cap).

    Parameters
    ----------
    calls_per_hour, aht_s, threshold_s :
        As in :func:`erlang_c`.
    target_sl : float, default 0.8
        Target share answered within ``threshold_s``, in (0, 1).
    patience_s : float, optional
        Mean patience in seconds: use Erlang A; None (default) uses Erlang C.
    max_occupancy : float, default 1.0
        Occupancy cap in (0, 1]: the answer is at least :math:`\lceil A/\text{max\_occupancy}\rceil`
        (e.g. 0.8 for the burn-out bound the course article gives).

    Returns
    -------
    int
        Agents on the queue (before shrinkage: schedule :math:`\lceil N/(1 - s)\rceil` for shrinkage s).

    Notes
    -----
    The service level rises with :math:`N`, so the search starts at the smallest stable count
    (:math:`\lfloor A\rfloor + 1` for Erlang C, 1 for Erlang A) and steps up. The staffing rule is
    :math:`N^* = \max(\min\{N : SL(N) \ge \text{target}\},\ \lceil A/\text{max\_occ}\rceil)`.

    References
    ----------
    .. [1] Gans, Koole and Mandelbaum (2003), *M&SOM* 5(2), 79-141, section 4.

    Examples
    --------
    >>> agents_needed(calls_per_hour=720, aht_s=240, target_sl=0.8, threshold_s=20)
    54
    """
    caller = "agents_needed"
    a = _load(calls_per_hour, aht_s, caller)
    t = _positive("threshold_s", threshold_s, caller, allow_zero=True)
    if isinstance(target_sl, bool) or not isinstance(target_sl, int | float) or not 0 < target_sl < 1:
        raise ParameterError(f"The 'target_sl' parameter of {caller} must be a share in (0, 1) "
                             f"(0.8 = 80 % answered within threshold_s). Got {target_sl!r} instead.")
    if isinstance(max_occupancy, bool) or not isinstance(max_occupancy, int | float) or not 0 < max_occupancy <= 1:
        raise ParameterError(f"The 'max_occupancy' parameter of {caller} must be in (0, 1]. "
                             f"Got {max_occupancy!r} instead.")
    if patience_s is None:
        n = math.floor(a) + 1
        model = lambda k: erlang_c(calls_per_hour, aht_s, k, t)  # noqa: E731
    else:
        n = 1
        model = lambda k: erlang_a(calls_per_hour, aht_s, k, t, patience_s)  # noqa: E731
    # SL rises with N: gallop up from the start to a count that meets the target, then bisect.
    # Same answer as stepping up one agent at a time, in O(log N) queue evaluations.
    if model(n).service_level < target_sl:
        lo, hi = n, max(n + 1, math.ceil(a))
        while model(hi).service_level < target_sl:
            lo, hi = hi, hi * 2
        while hi - lo > 1:  # invariant: SL(lo) < target <= SL(hi)
            mid = (lo + hi) // 2
            if model(mid).service_level < target_sl:
                lo = mid
            else:
                hi = mid
        n = hi
    cap = math.ceil(a / max_occupancy - 1e-12)
    return max(n, cap)
