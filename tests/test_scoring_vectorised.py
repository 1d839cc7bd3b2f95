"""The vectorised tier streaks and grade-by-team tables equal the straightforward per-unit loops they replaced."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kpilab.framework import Tier, default_framework
from kpilab.scoring import assign_tiers
from kpilab.scoring.core import TEAM_COLUMNS, _grades_by_team


def _tiers_loop(scores, tiers, covered, order):
    """The per-unit loop of kpilab 0.x (the oracle): one unit, one period at a time."""
    out = scores.copy()
    out["tier"], out["streak"], out["tier_since"] = "", 0, ""
    for uid, g in out.groupby("unit_id", sort=False):
        by_period = dict(zip(g["period"].astype(str), g["index"].astype(float), strict=True))
        rows = dict(zip(g["period"].astype(str), g.index, strict=True))
        streak = np.zeros(len(tiers), dtype=int)
        current, since = "", ""
        for p in order:
            s = by_period.get(p, np.nan)
            if np.isnan(s):
                if not bool(covered.get((uid, p), False)):
                    streak[:] = 0
                    current, since = "", ""
                continue
            for k, t in enumerate(tiers):
                streak[k] = streak[k] + 1 if s >= t.min else 0
            k_best = next((k for k, t in enumerate(tiers) if streak[k] >= t.consecutive_periods), len(tiers) - 1)
            if tiers[k_best].tier != current:
                current, since = tiers[k_best].tier, p
            i = rows[p]
            out.at[i, "tier"], out.at[i, "streak"], out.at[i, "tier_since"] = current, int(streak[k_best]), since
    return out


@st.composite
def tier_cases(draw):
    n_units = draw(st.integers(1, 6))
    n_periods = draw(st.integers(1, 7))
    order = [f"2025-{m:02d}" for m in range(1, n_periods + 1)]
    rows, covered = [], {}
    for u in range(n_units):
        for p in order:
            state = draw(st.sampled_from(["score", "score", "nan", "missing"]))
            if state != "missing":
                rows.append({"unit_id": f"u{u}", "period": p,
                             "index": np.nan if state == "nan" else draw(st.floats(40, 100))})
            if draw(st.booleans()) and draw(st.booleans()):
                covered[(f"u{u}", p)] = True
    mins = sorted(draw(st.lists(st.floats(40, 100), min_size=1, max_size=4, unique=True)), reverse=True)
    tiers = [Tier(tier=f"t{k}", min=m, consecutive_periods=draw(st.integers(1, 3))) for k, m in enumerate(mins)]
    df = pd.DataFrame(rows, columns=["unit_id", "period", "index"])
    return df.sample(frac=1, random_state=draw(st.integers(0, 99))), tiers, pd.Series(covered, dtype=bool), order


@settings(max_examples=150, deadline=None)
@given(tier_cases())
def test_vectorised_tiers_equal_the_per_unit_loop(case):
    df, tiers, covered, order = case
    fw = default_framework().model_copy(update={"tiers": tiers})
    got = assign_tiers(df, fw, covered=covered, periods=order)
    want = _tiers_loop(df, tiers, covered, order)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def _grades_loop(scores, glabels, small_e):
    df = scores.assign(small_n_e=small_e)
    df = df[df["grade"] != ""]
    rows = []
    for (period, team), g in df.groupby(["period", "team"], sort=True):
        for lab in glabels:
            sel = g["grade"] == lab
            pcol = f"p_{lab}"
            rows.append({"period": period, "team": team, "grade": lab, "agents": int(sel.sum()),
                         "share": sel.mean(), "expected_agents": g[pcol].sum(min_count=1) if pcol in g else np.nan,
                         "small_n_e": int(g.loc[sel, "small_n_e"].sum())})
    return pd.DataFrame(rows, columns=TEAM_COLUMNS)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 60), st.integers(0, 10_000), st.booleans())
def test_grades_by_team_equal_the_group_loop(n, seed, with_probabilities):
    rng = np.random.default_rng(seed)
    glabels = ["top", "good", "fair", "low", "E"]  # not in sorted order
    scores = pd.DataFrame({"period": rng.choice(["2025-01", "2025-02"], n), "team": rng.choice(["T1", "T2", "T3"], n),
                           "grade": rng.choice(glabels + [""], n)})
    if with_probabilities:
        p = rng.dirichlet(np.ones(5), n)
        p[rng.random(n) < 0.2] = np.nan  # rows without draws
        for k, lab in enumerate(glabels[:4]):  # no p_E column: expected agents unknown for E
            scores[f"p_{lab}"] = p[:, k]
    small_e = rng.random(n) < 0.3
    got = _grades_by_team(scores, glabels, small_e)
    want = _grades_loop(scores, glabels, small_e)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)
