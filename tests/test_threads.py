"""journey decides the server's torch threads itself, from the cores it may use."""

from __future__ import annotations

import logging

import torch

from journey.models import threads


def test_a_server_leaves_one_core_to_its_event_loop() -> None:
    assert threads.serving_plan(None, cores=2, environ={}).threads == 1
    assert threads.serving_plan(None, cores=16, environ={}).threads == 15
    assert threads.serving_plan(None, cores=1, environ={}).threads == 1


def test_the_setting_wins_then_the_users_environment() -> None:
    assert threads.serving_plan(3, cores=8, environ={"OMP_NUM_THREADS": "2"}) == threads.ThreadPlan(
        3, 8, "serve.threads"
    )
    assert threads.serving_plan(None, cores=8, environ={"OMP_NUM_THREADS": "2"}).threads == 2
    assert threads.serving_plan(None, cores=8, environ={"OMP_NUM_THREADS": "junk"}).threads == 7


def test_usable_cores_is_within_what_the_machine_has() -> None:
    import os

    assert 1 <= threads.usable_cores() <= (os.cpu_count() or 1)


def test_apply_sets_torch_and_logs_the_decision(caplog) -> None:
    before = torch.get_num_threads()
    try:
        with caplog.at_level(logging.INFO, logger="journey.models.threads"):
            threads.apply(threads.ThreadPlan(1, 2, "one core left for the web server"))
        assert torch.get_num_threads() == 1
        record = next(r for r in caplog.records if hasattr(r, "torch_threads"))
        assert (record.torch_threads, record.usable_cores) == (1, 2)
    finally:
        torch.set_num_threads(before)
