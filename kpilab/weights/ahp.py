r"""Analytic Hierarchy Process (AHP) weights from a pairwise comparison matrix.

:math:`a_{ij}` says how much more important indicator :math:`i` is than
:math:`j` on Saaty's 1-9 scale, with :math:`a_{ji} = 1/a_{ij}` and
:math:`a_{ii} = 1`. The weights are the principal (Perron) eigenvector:

.. math::

    A w = \lambda_{\max} w, \quad \sum_i w_i = 1, \qquad
    CI = \frac{\lambda_{\max} - n}{n - 1}, \qquad CR = \frac{CI}{RI_n}

with Saaty's random indices :math:`RI_n` (:data:`SAATY_RI`). :math:`CR \ge 0.1`
is reported as inconsistent; the judgements that contribute most are those
with the largest :math:`|\ln(a_{ij} w_j / w_i)|` (Saaty's rule: revise the
judgement furthest from the ratio the weights imply).

Input files
-----------
* CSV: a header row of codes, the codes in the first column, values as numbers
  or fractions (``1/3``).
* YAML: ``codes: [a, b, c]`` with ``matrix: [[1, 3, 5], ...]``; or
  ``matrix: {a: {b: 3, c: 5}, b: {c: 2}}`` / ``judgements: {"a:b": 3, "a:c": 5, "b:c": 2}``
  giving each pair once (the reciprocal is filled in; diagonal 1).

References
----------
.. [1] Saaty, T. L. (1980). The Analytic Hierarchy Process. McGraw-Hill.
.. [2] Saaty, T. L. (1990). How to make a decision: the analytic hierarchy process. European
   Journal of Operational Research 48, 9-26.
.. [3] Saaty, T. L. (2012). Decision Making for Leaders, 3rd ed., RWS (random index table, n <= 15).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilab._validation import Interval, check_params
from kpilab._yaml import read_yaml_mapping
from kpilab.errors import DataError, ParameterError
from kpilab.weights._base import NotFittedError
from kpilab.weights._matrix import fingerprint
from kpilab.weights.result import WeightResult

__all__ = ["SAATY_RI", "AHPWeights", "ahp_weights", "read_pairwise", "validate_pairwise", "pairwise_from_judgements"]

#: Saaty's random consistency index by matrix size n (1..15).
SAATY_RI = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
            11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}


def _number(v: Any, where: str) -> float:
    if isinstance(v, bool):
        raise DataError(f"Pairwise matrix {where}: {v!r} is not a number.")
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    try:
        return float(Fraction(str(v).strip()))
    except (ValueError, ZeroDivisionError):
        raise DataError(f"Pairwise matrix {where}: {v!r} is not a number or a fraction like 1/3.") from None


def pairwise_from_judgements(judgements: dict[str, Any], codes: list[str] | None = None) -> pd.DataFrame:
    """Full reciprocal matrix from one judgement per pair, keys ``"a:b"`` (a over b) or nested ``{a: {b: v}}``."""
    pairs: dict[tuple[str, str], float] = {}
    for key, val in judgements.items():
        if isinstance(val, dict):
            for other, v in val.items():
                pairs[(str(key), str(other))] = _number(v, f"judgement {key}:{other}")
        else:
            a, sep, b = str(key).partition(":")
            if not sep:
                raise DataError(f"Pairwise judgement key {key!r} must look like 'a:b' (a compared with b).")
            pairs[(a.strip(), b.strip())] = _number(val, f"judgement {key}")
    if codes is None:
        codes = list(dict.fromkeys([c for pair in pairs for c in pair]))
    M = pd.DataFrame(np.nan, index=codes, columns=codes)
    for c in codes:
        M.loc[c, c] = 1.0
    for (a, b), v in pairs.items():
        if a not in M.index or b not in M.index:
            raise DataError(f"Pairwise judgement {a}:{b} names an indicator not in {codes}.")
        if a == b:
            if v != 1:
                raise DataError(f"Pairwise judgement {a}:{a} must be 1 (an indicator compared with itself), got {v:g}.")
            continue
        if v <= 0:
            raise DataError(f"Pairwise judgement {a}:{b} must be positive, got {v:g}.")
        for (r, c), val in (((a, b), v), ((b, a), 1.0 / v)):
            if not np.isnan(M.loc[r, c]) and not np.isclose(M.loc[r, c], val, rtol=1e-2):
                raise DataError(f"Pairwise judgements {a}:{b} and {b}:{a} contradict each other ({v:g} vs {M.loc[b, a]:g}).")
            M.loc[r, c] = val
    missing = [(r, c) for r in codes for c in codes if np.isnan(M.loc[r, c])]
    if missing:
        r, c = missing[0]
        raise DataError(f"Pairwise judgements: no judgement for {r}:{c} ({len(missing) // 2} pair(s) missing).")
    M.index.name = None
    return M


def read_pairwise(path: str | Path) -> pd.DataFrame:
    """Read a pairwise comparison matrix from CSV or YAML (see the module docstring for the forms)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Pairwise comparison file {path} does not exist.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = pd.read_csv(path, index_col=0, dtype=str)
        raw.index = raw.index.map(lambda s: str(s).strip())
        raw.columns = [str(c).strip() for c in raw.columns]
        M = pd.DataFrame(
            [[_number(raw.iat[i, j], f"{path.name} cell ({raw.index[i]}, {raw.columns[j]})")
              for j in range(raw.shape[1])] for i in range(raw.shape[0])],
            index=list(raw.index), columns=list(raw.columns),
        )
    elif suffix in (".yaml", ".yml"):
        data = read_yaml_mapping(path, "Pairwise comparison file", DataError)
        if "judgements" in data:
            M = pairwise_from_judgements(dict(data["judgements"]), data.get("codes"))
        elif isinstance(data.get("matrix"), dict):
            M = pairwise_from_judgements(dict(data["matrix"]), data.get("codes"))
        elif isinstance(data.get("matrix"), list) and isinstance(data.get("codes"), list):
            codes = [str(c) for c in data["codes"]]
            rows = data["matrix"]
            if len(rows) != len(codes) or any(len(r) != len(codes) for r in rows):
                raise DataError(f"{path.name}: 'matrix' must be {len(codes)} rows of {len(codes)} values (one per code).")
            M = pd.DataFrame(
                [[_number(v, f"{path.name} cell ({codes[i]}, {codes[j]})") for j, v in enumerate(r)]
                 for i, r in enumerate(rows)], index=codes, columns=codes,
            )
        else:
            raise DataError(f"{path.name}: give 'codes' + 'matrix' (list of rows), 'matrix' as a mapping, or 'judgements'.")
    else:
        raise DataError(f"Pairwise comparison file {path} must end in .csv, .yaml or .yml.")
    return validate_pairwise(M, source=path.name)


def validate_pairwise(M: pd.DataFrame | np.ndarray, *, source: str = "pairwise matrix", rtol: float = 0.01) -> pd.DataFrame:
    """Check a pairwise comparison matrix: square, same codes on both axes, positive, unit diagonal, reciprocal.

    ``rtol`` is the relative tolerance for :math:`a_{ij} a_{ji} = 1` (so ``0.333`` for 1/3 passes).

    Raises
    ------
    DataError
        Naming the first offending cell, e.g. ``cell (csat, aht) = 3 but (aht, csat) = 0.5, expected 0.333``.
    """
    if isinstance(M, np.ndarray):
        M = pd.DataFrame(M, index=[f"x{i}" for i in range(len(M))], columns=[f"x{i}" for i in range(M.shape[1])])
    M = M.copy()
    M.index = M.index.map(str)
    M.columns = M.columns.map(str)
    if M.shape[0] != M.shape[1]:
        raise DataError(f"{source}: a pairwise matrix must be square, got {M.shape[0]} rows and {M.shape[1]} columns.")
    if list(M.index) != list(M.columns):
        if set(M.index) == set(M.columns):
            M = M.loc[:, list(M.index)]
        else:
            raise DataError(
                f"{source}: row codes {list(M.index)} and column codes {list(M.columns)} differ; the first column "
                "must list the same codes as the header row."
            )
    if len(M) < 1:
        raise DataError(f"{source}: the pairwise matrix is empty.")
    A = M.to_numpy(dtype=float)
    codes = list(M.index)
    for i in range(len(A)):
        for j in range(len(A)):
            if not np.isfinite(A[i, j]) or A[i, j] <= 0:
                raise DataError(f"{source}: cell ({codes[i]}, {codes[j]}) = {A[i, j]:g}; every judgement must be positive.")
    for i in range(len(A)):
        if not np.isclose(A[i, i], 1.0):
            raise DataError(f"{source}: diagonal cell ({codes[i]}, {codes[i]}) = {A[i, i]:g}; it must be 1.")
    for i in range(len(A)):
        for j in range(i + 1, len(A)):
            if not np.isclose(A[i, j] * A[j, i], 1.0, rtol=rtol):
                raise DataError(
                    f"{source}: cell ({codes[i]}, {codes[j]}) = {A[i, j]:g} but ({codes[j]}, {codes[i]}) = "
                    f"{A[j, i]:g}, expected {1 / A[i, j]:.4g}; the matrix must be reciprocal (a_ji = 1/a_ij)."
                )
    return pd.DataFrame(A, index=codes, columns=codes)


class AHPWeights:
    """AHP principal-eigenvector weights with Saaty's consistency ratio (module docstring).

    Parameters
    ----------
    cr_threshold : float, default 0.1
        ``CR >= cr_threshold`` is reported as inconsistent (a notice and ``diagnostics_['consistent']``).
    n_worst : int, default 3
        How many judgements to name when inconsistent.

    Attributes
    ----------
    weights_ : Series
    diagnostics_ : dict
        ``lambda_max``, ``ci``, ``ri``, ``cr``, ``consistent``, ``n``.
    result_ : WeightResult
        ``tables["judgements"]``: ``row, column, judgement, implied, deviation`` (largest deviation first).
    """

    method = "ahp"

    def __init__(self, cr_threshold: float = 0.1, n_worst: int = 3) -> None:
        self.cr_threshold = cr_threshold
        self.n_worst = n_worst

    def get_params(self) -> dict[str, Any]:
        return {"cr_threshold": self.cr_threshold, "n_worst": self.n_worst}

    def __getattr__(self, name: str) -> Any:
        if name.endswith("_") and not name.startswith("_"):
            raise NotFittedError(f"AHPWeights has no {name!r} yet: call .fit(matrix) first.")
        raise AttributeError(name)

    def fit(self, matrix: pd.DataFrame | np.ndarray | str | Path, *, pillars: dict[str, str] | None = None) -> AHPWeights:
        """Compute the weights from a matrix (DataFrame/array) or a CSV/YAML file path."""
        check_params(self.get_params(), {"cr_threshold": Interval(0, None, closed="neither"),
                                         "n_worst": Interval(1, None, integer=True)}, caller="AHPWeights")
        if isinstance(matrix, (str, Path)):
            M = read_pairwise(matrix)
            source = Path(matrix).name
        else:
            M = validate_pairwise(matrix)
            source = "matrix"
        A = M.to_numpy(dtype=float)
        codes = list(M.index)
        n = len(A)
        if n > max(SAATY_RI):
            raise ParameterError(f"AHPWeights: Saaty's random index is tabulated up to n = {max(SAATY_RI)}; got {n} criteria. "
                                 "Group the indicators (AHP per pillar, then across pillars).")
        eigval, eigvec = np.linalg.eig(A)
        k = int(np.argmax(eigval.real))
        lam = float(eigval[k].real)
        w = np.abs(eigvec[:, k].real)
        w = w / w.sum()
        ci = (lam - n) / (n - 1) if n > 2 else 0.0
        ci = max(ci, 0.0)
        ri = SAATY_RI[n]
        cr = ci / ri if ri > 0 else 0.0
        rows = []
        for i in range(n):
            for j in range(i + 1, n):
                implied = w[i] / w[j]
                rows.append({"row": codes[i], "column": codes[j], "judgement": A[i, j], "implied": implied,
                             "deviation": abs(np.log(A[i, j] / implied))})
        judg = pd.DataFrame(rows, columns=["row", "column", "judgement", "implied", "deviation"])
        judg = judg.sort_values("deviation", ascending=False, ignore_index=True)
        consistent = cr < self.cr_threshold
        notices = []
        if not consistent:
            worst = "; ".join(
                f"{r.row} vs {r.column}: judged {r.judgement:.3g}, the weights imply {r.implied:.3g}"
                for r in judg.head(self.n_worst).itertuples()
            )
            notices.append(
                f"AHP judgements are inconsistent: CR = {cr:.3f} >= {self.cr_threshold:g}. Revise first: {worst}."
            )
        self.weights_ = pd.Series(w, index=pd.Index(codes, name="indicator"), name="weight")
        self.diagnostics_ = {"lambda_max": lam, "ci": ci, "ri": ri, "cr": cr, "consistent": bool(consistent), "n": n}
        self.notices_ = notices
        self.result_ = WeightResult(
            weights=self.weights_, method="ahp", params={**self.get_params(), "source": source},
            fingerprint=fingerprint(M), n_rows=0, pillars=dict(pillars or {}), diagnostics=self.diagnostics_,
            tables={"judgements": judg, "matrix": M}, notices=tuple(notices),
        )
        return self


def ahp_weights(matrix: pd.DataFrame | np.ndarray | str | Path, **params: Any) -> WeightResult:
    """AHP weights and consistency (see :class:`AHPWeights`); returns the :class:`WeightResult`."""
    return AHPWeights(**params).fit(matrix).result_
