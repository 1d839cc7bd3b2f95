r"""Variance-based sensitivity (Sobol') indices with SALib: Saltelli sampling, Jansen/Saltelli estimators.

A model :math:`Y = f(u_1, \dots, u_k)` of independent uniform inputs on
:math:`[0, 1)` (discrete choices mapped to categories) is run on SALib's
Saltelli design of :math:`N(k + 2)` points, and :func:`SALib.analyze.sobol.analyze`
returns, for each input,

.. math::

   S_i = \frac{V[E(Y \mid u_i)]}{V(Y)}, \qquad
   S_{Ti} = \frac{E[V(Y \mid u_{\sim i})]}{V(Y)},

the first-order index (share of the output variance that input alone explains)
and the total index (its share including every interaction), with bootstrap
confidence intervals. SALib estimates :math:`S_i` with Saltelli et al. (2010)
and :math:`S_{Ti}` with Jansen (1999):

.. math::

   \hat V_i = \frac1N \sum_j f(B)_j \big(f(A_B^i)_j - f(A)_j\big),\qquad
   \hat V_{Ti} = \frac1{2N} \sum_j \big(f(A)_j - f(A_B^i)_j\big)^2 .

References
----------
.. [1] Saltelli, A. (2002). Making best use of model evaluations to compute
   sensitivity indices. *Computer Physics Communications* 145(2), 280-297.
.. [2] Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M. and Tarantola, S.
   (2010). Variance based sensitivity analysis of model output. Design and estimator
   for the total sensitivity index. *Computer Physics Communications* 181(2), 259-270.
.. [3] Jansen, M. J. W. (1999). Analysis of variance designs for model output.
   *Computer Physics Communications* 117(1-2), 35-43.
.. [4] Herman, J. and Usher, W. (2017). SALib: An open-source Python library for
   sensitivity analysis. *Journal of Open Source Software* 2(9), 97.
.. [5] Ishigami, T. and Homma, T. (1990). An importance quantification technique in
   uncertainty analysis for computer models. *Proc. ISUMA '90*, 398-403.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from kpilab.errors import ParameterError

__all__ = ["SENSITIVITY_COLUMNS", "check_sobol_n", "sobol_indices", "ishigami", "ISHIGAMI_S1", "ISHIGAMI_ST"]

#: Column order of the sensitivity table.
SENSITIVITY_COLUMNS = ["output", "input", "group", "S1", "S1_conf", "ST", "ST_conf", "n_base", "n_runs", "flag"]

#: Analytic first-order and total indices of the Ishigami function (a = 7, b = 0.1).
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def check_sobol_n(n: object, name: str = "sobol") -> int:
    """The Saltelli base sample size: 0 (off) or a power of 2 (the Sobol' sequence's balance needs one)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ParameterError(f"The {name!r} parameter must be 0 (no sensitivity analysis) or a power of 2 "
                             f"(e.g. 512, 1024). Got {n!r} instead.")
    n = int(n)
    if n and (n & (n - 1) or n < 2):
        lo = 1 << (n.bit_length() - 1)
        raise ParameterError(f"The {name!r} parameter must be a power of 2 (SALib's Saltelli sampling of the "
                             f"Sobol' sequence needs one), e.g. {max(lo, 2)} or {lo * 2}. Got {n} instead.")
    return n


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    r"""Ishigami test function on :math:`[-\pi, \pi]^3`.

    .. math:: f(x) = \sin x_1 + a \sin^2 x_2 + b x_3^4 \sin x_1

    Examples
    --------
    >>> float(ishigami(np.zeros((1, 3)))[0])
    0.0
    """
    x = np.asarray(x, dtype=float)
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def sobol_indices(
    model: Callable[[np.ndarray], np.ndarray],
    names: Sequence[str],
    n: int,
    *,
    groups: Sequence[str] | None = None,
    seed: int = 0,
    num_resamples: int = 200,
    conf_level: float = 0.95,
    output: str = "y",
) -> pd.DataFrame:
    """First-order and total Sobol' indices of ``model`` over uniform inputs on [0, 1).

    Parameters
    ----------
    model : callable
        ``u (runs, k) -> y (runs,)``, vectorised over runs.
    names : sequence of str
        Input names (``k`` of them).
    n : int
        Saltelli base sample size, a power of 2; the model runs ``n (k + 2)`` times.
    groups : sequence of str, optional
        A label per input for the table (``group`` column).
    seed : int
        Seed of the scrambled Sobol' sequence and of the bootstrap.
    num_resamples : int, default 200
        Bootstrap resamples for the confidence intervals.
    conf_level : float, default 0.95
    output : str
        Name of the output, for the table.

    Returns
    -------
    DataFrame
        :data:`SENSITIVITY_COLUMNS`: ``output``; ``input``; ``group``; ``S1`` and
        ``ST`` (first-order and total index); ``S1_conf`` and ``ST_conf`` (half-width
        of SALib's bootstrap interval at ``conf_level``); ``n_base`` (:math:`N`);
        ``n_runs`` (:math:`N(k + 2)`); ``flag`` (``constant_output`` when the output
        does not vary: indices NaN).

    Raises
    ------
    ParameterError
        ``n`` not a power of 2, no inputs.

    References
    ----------
    .. [1] Saltelli, A. (2002). *Comput. Phys. Commun.* 145(2), 280-297.
    .. [2] Saltelli, A. et al. (2010). *Comput. Phys. Commun.* 181(2), 259-270.
    .. [3] Jansen, M. J. W. (1999). *Comput. Phys. Commun.* 117(1-2), 35-43.

    Examples
    --------
    >>> t = sobol_indices(lambda u: ishigami(-np.pi + 2 * np.pi * u), ["x1", "x2", "x3"], 1024)
    >>> t["ST"].round(1).tolist()
    [0.6, 0.4, 0.2]
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    n = check_sobol_n(n)
    if n == 0:
        raise ParameterError("The 'sobol' base sample size must be a power of 2 for an analysis. Got 0 instead.")
    k = len(names)
    if k == 0:
        raise ParameterError("No uncertain inputs to analyse: switch at least one input on.")
    groups = list(groups) if groups is not None else list(names)
    problem = {"num_vars": k, "names": list(names), "bounds": [[0.0, 1.0]] * k}
    x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    x = np.clip(x, 0.0, np.nextafter(1.0, 0.0))
    y = np.asarray(model(x), dtype=float)
    rows = {"output": output, "input": list(names), "group": groups, "n_base": n, "n_runs": len(x)}
    if not np.all(np.isfinite(y)) or np.ptp(y) == 0:
        flag = "constant_output" if np.all(np.isfinite(y)) else "non_finite_output"
        nan = [np.nan] * k
        return pd.DataFrame({**rows, "S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan,
                             "flag": flag})[SENSITIVITY_COLUMNS]
    # SALib seeds its bootstrap only for a truthy seed (seed=0 would draw from the global state)
    boot_seed = int(np.random.SeedSequence(seed).generate_state(1)[0]) | 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, num_resamples=num_resamples,
                                   conf_level=conf_level, seed=boot_seed)
    return pd.DataFrame({**rows, "S1": si["S1"], "S1_conf": si["S1_conf"], "ST": si["ST"], "ST_conf": si["ST_conf"],
                         "flag": ""})[SENSITIVITY_COLUMNS]
