"""The support-centre simulation: calibrated baseline, determinism, and that bot outcomes drive it."""

from __future__ import annotations

import pytest

from journey.evaluate.simulation import Outcome, assumptions, simulate
from journey.workspace import SimulationSettings


def test_human_only_baseline_reproduces_the_seed_with_default_settings() -> None:
    baseline = simulate(SimulationSettings(), None)
    assert baseline.avg_response_min == pytest.approx(20, abs=1.5)
    assert baseline.satisfaction == pytest.approx(0.80, abs=0.015)
    assert baseline.human_share == 1.0
    assert 0.85 < baseline.agent_utilisation < 1.0


def test_same_seed_same_result_other_seed_other_result() -> None:
    settings = SimulationSettings(days=10)
    assert simulate(settings, None) == simulate(settings, None)
    assert simulate(settings, None) != simulate(settings.model_copy(update={"seed": 1}), None)


def test_bot_outcomes_drive_response_time_workload_and_satisfaction() -> None:
    settings = SimulationSettings(days=20)
    resolved, handover, wrong = Outcome("resolved", 0.02), Outcome("handover", 0.02), Outcome("wrong", 0.02)
    perfect = simulate(settings, [resolved], name="perfect")
    assert perfect.avg_response_min == pytest.approx(0.02)
    assert perfect.satisfaction == pytest.approx(settings.csat_bot_resolved)
    assert perfect.human_share == 0 and perfect.agent_utilisation == 0
    half = simulate(settings, [resolved, handover], name="half")
    misleading = simulate(settings, [resolved, wrong], name="misleading")
    baseline = simulate(settings, None)
    assert half.avg_response_min < baseline.avg_response_min
    assert 0.4 < half.human_share < 0.6
    assert misleading.avg_response_min > half.avg_response_min  # wrong answers cost time first
    assert misleading.satisfaction < half.satisfaction
    # the same customers arrive whatever the set-up (common random numbers)
    assert half.customers == baseline.customers == misleading.customers


def test_assumptions_are_spelled_out() -> None:
    text = " ".join(assumptions(SimulationSettings(agents=3)))
    assert "3 human agents" in text and "P(satisfied)" in text
    assert "eval mix = traffic mix" in text
