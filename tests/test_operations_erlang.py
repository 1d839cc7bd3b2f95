"""Erlang C and Erlang A against published numbers and an independent exact implementation."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from kpilab.errors import KpilabError, ParameterError
from kpilab.operations import UnstableQueueError, agents_needed, erlang_a, erlang_b, erlang_c


def _erlang_c_exact(a: Fraction, n: int) -> float:
    """P_w from the textbook factorial form, in exact rational arithmetic (an independent implementation)."""
    top = a**n / math.factorial(n) * Fraction(n) / (n - a)
    bottom = sum(a**k / math.factorial(k) for k in range(n)) + top
    return float(top / bottom)


# pyworkforce documentation example (shared/domain/kpi-standards.md, verified there):
# 100 contacts in 30 min, AHT 3 min, T = 20 s -> 200 calls/h, 180 s, A = 10 Erlangs
@pytest.mark.parametrize(("agents", "p_wait", "sl"), [(13, 0.285270, 0.795595), (14, 0.1741319336, 0.8883500192)])
def test_erlang_c_matches_pyworkforce_docs(agents, p_wait, sl):
    r = erlang_c(200, 180, agents, 20)
    digits = len(str(p_wait).split(".")[1])
    assert r.p_wait == pytest.approx(p_wait, abs=0.6 * 10**-digits)
    assert r.service_level == pytest.approx(sl, abs=0.6 * 10**-digits)
    assert r.load == pytest.approx(10.0)
    if agents == 14:
        assert r.occupancy == pytest.approx(0.714286, abs=1e-6)
        assert r.asa / 60 == pytest.approx(0.130599, abs=1e-6)


def test_erlang_c_classic_teaching_example():
    r = erlang_c(720, 240, 55, 15)  # 360 calls / 30 min, AHT 240 s -> A = 48
    assert r.p_wait == pytest.approx(0.238701, abs=1e-6)
    assert r.service_level == pytest.approx(0.845883, abs=1e-6)
    assert r.asa == pytest.approx(8.184, abs=1e-3)
    assert r.occupancy == pytest.approx(48 / 55)
    assert agents_needed(720, 240, 0.8, 20) == 54
    assert erlang_c(720, 240, 54, 20).service_level == pytest.approx(0.81725, abs=1e-5)


@pytest.mark.parametrize("calls,aht,agents", [(10, 300, 1), (30, 240, 3), (200, 180, 11), (500, 420, 70),
                                              (1234, 95, 40), (3000, 300, 260)])
def test_erlang_c_equals_exact_factorial_form(calls, aht, agents):
    a = Fraction(calls) * Fraction(aht) / 3600
    r = erlang_c(calls, aht, agents, 20)
    pw = _erlang_c_exact(a, agents)
    assert r.p_wait == pytest.approx(pw, abs=1e-12)
    assert r.service_level == pytest.approx(1 - pw * math.exp(-(agents - float(a)) * 20 / aht), abs=1e-12)
    assert r.asa == pytest.approx(pw * aht / (agents - float(a)), rel=1e-10)


def test_erlang_b_small_cases():
    assert erlang_b(1.0, 1) == pytest.approx(0.5)
    assert erlang_b(2.0, 2) == pytest.approx(2 / 5)  # (A^2/2) / (1 + A + A^2/2)


def test_erlang_c_against_pyworkforce_when_installed():
    pwf = pytest.importorskip("pyworkforce.queuing")
    for calls, aht, t in [(100, 3, 20 / 60), (360, 4, 15 / 60), (55, 6.5, 1 / 3)]:  # per 30 min, minutes
        ref = pwf.ErlangC(transactions=calls, aht=aht, asa=t, interval=30)
        for n in range(math.floor(ref.intensity) + 1, math.floor(ref.intensity) + 6):
            ours = erlang_c(calls * 2, aht * 60, n, t * 60)
            assert ours.p_wait == pytest.approx(ref.waiting_probability(n), abs=1e-6)
            assert ours.service_level == pytest.approx(ref.service_level(n), abs=1e-6)
            assert ours.occupancy == pytest.approx(ref.achieved_occupancy(n), abs=1e-6)


def test_erlang_a_matches_published_example():
    # pyworkforce ErlangA docs: 100 / 30 min, AHT 3 min, patience 5 min, 13 agents
    r = erlang_a(200, 180, 13, 20, patience_s=300)
    assert r.p_wait == pytest.approx(0.225797, abs=1e-6)
    assert r.abandon_rate == pytest.approx(0.024963, abs=1e-6)
    assert r.asa / 60 == pytest.approx(0.124817, abs=1e-6)
    assert r.service_level == pytest.approx(0.858, abs=5e-4)
    assert r.occupancy == pytest.approx(10 * (1 - r.abandon_rate) / 13)


def test_erlang_a_tends_to_erlang_c_with_infinite_patience():
    c = erlang_c(200, 180, 13, 20)
    a = erlang_a(200, 180, 13, 20, patience_s=1e9)
    for f in ("p_wait", "service_level", "asa", "occupancy"):
        assert getattr(a, f) == pytest.approx(getattr(c, f), rel=1e-6, abs=1e-6), f


def test_erlang_a_is_defined_when_overloaded_and_abandonment_balances():
    r = erlang_a(2000, 180, 50, 20, patience_s=300)  # A = 100 Erlangs on 50 agents
    # flow balance: answered = lambda (1 - P_ab) = N mu when every agent is busy
    assert r.occupancy == pytest.approx(1.0, abs=1e-3)
    assert r.abandon_rate == pytest.approx(0.5, abs=1e-3)
    assert 0 <= r.service_level < 0.05


def test_erlang_a_needs_fewer_agents_than_erlang_c():
    assert agents_needed(200, 180, 0.8, 20, patience_s=300) < agents_needed(200, 180, 0.8, 20)


def test_agents_needed_occupancy_cap_and_pyworkforce_shrinkage_example():
    assert agents_needed(200, 180, 0.8, 20, max_occupancy=0.85) == 14
    assert math.ceil(agents_needed(200, 180, 0.8, 20, max_occupancy=0.85) / (1 - 0.3)) == 20
    assert agents_needed(200, 180, 0.5, 20, max_occupancy=0.7) == 15  # ceil(10 / 0.7)


def test_unstable_queue_is_refused_with_a_reason():
    with pytest.raises(UnstableQueueError, match=r"10 Erlangs on 10 agent.*Staff at least 11"):
        erlang_c(200, 180, 10, 20)
    assert issubclass(UnstableQueueError, KpilabError)


@pytest.mark.parametrize("kwargs,match", [
    ({"calls_per_hour": 0}, "calls_per_hour"), ({"aht_s": -1}, "aht_s"), ({"agents": 2.5}, "agents"),
    ({"agents": 0}, "agents"), ({"threshold_s": float("nan")}, "threshold_s"), ({"calls_per_hour": True}, "calls"),
])
def test_bad_inputs_name_the_parameter(kwargs, match):
    args = {"calls_per_hour": 200, "aht_s": 180, "agents": 14, "threshold_s": 20, **kwargs}
    with pytest.raises(ParameterError, match=match):
        erlang_c(**args)


@pytest.mark.parametrize("target", [0, 1, 1.2, -0.1])
def test_agents_needed_refuses_impossible_targets(target):
    with pytest.raises(ParameterError, match="target_sl"):
        agents_needed(200, 180, target, 20)


def test_result_summary_and_frame():
    r = erlang_a(200, 180, 13, 20, 300)
    assert "erlang_a" in r.summary() and "abandon" in str(r)
    f = r.to_frame()
    assert list(f.columns)[:3] == ["model", "calls_per_hour", "aht_s"] and len(f) == 1
