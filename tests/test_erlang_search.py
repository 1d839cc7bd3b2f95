"""The fast Erlang A paths agree with the slow, obvious ones they replaced."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from kpilab.operations.erlang import _served_within, agents_needed, erlang_a, erlang_c


def _dense_served_within(n, mu, theta, max_ahead, t):
    size = max_ahead + 2
    q = np.zeros((size, size))
    for j in range(max_ahead + 1):
        move = n * mu + j * theta
        q[j, j] = -(move + theta)
        q[j, size - 1 if j == 0 else j - 1] = move
    return expm(q * t)[: max_ahead + 1, size - 1]


@pytest.mark.parametrize(("n", "mu", "theta", "ahead", "t"),
                         [(1, 1 / 180, 1 / 300, 5, 20), (13, 1 / 180, 1 / 300, 60, 20), (40, 1 / 300, 1 / 90, 150, 30),
                          (5, 1 / 240, 1 / 600, 0, 20), (8, 1 / 200, 1 / 100, 30, 0.0)])
def test_answered_within_matches_dense_matrix_exponential(n, mu, theta, ahead, t):
    np.testing.assert_allclose(_served_within(n, mu, theta, ahead, t), _dense_served_within(n, mu, theta, ahead, t),
                               atol=1e-12)


def _linear_agents_needed(calls, aht, target, threshold, patience):
    n = int(np.floor(calls * aht / 3600)) + 1 if patience is None else 1
    model = (lambda k: erlang_c(calls, aht, k, threshold)) if patience is None else (
        lambda k: erlang_a(calls, aht, k, threshold, patience))
    while model(n).service_level < target:
        n += 1
    return max(n, int(np.ceil(calls * aht / 3600 - 1e-12)))  # the occupancy cap at max_occupancy = 1


@settings(max_examples=30, deadline=None)
@given(calls=st.floats(5, 900), aht=st.floats(60, 600), target=st.floats(0.5, 0.95),
       patience=st.one_of(st.none(), st.floats(30, 900)))
def test_bisection_gives_the_smallest_count_a_linear_search_gives(calls, aht, target, patience):
    assert agents_needed(calls, aht, target, 20, patience_s=patience) == _linear_agents_needed(
        calls, aht, target, 20, patience)
