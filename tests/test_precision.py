"""Precision by capability: `auto` follows what the hardware executes natively, for every job."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch

from journey.models import precision
from journey.models.precision import Bf16Support, choose_precision

NATIVE = Bf16Support(True, "CPU executes AMX/AVX512-BF16")
AVX2_ONLY = Bf16Support(False, "CPU without AVX512-BF16 or AMX (AVX2)")


@pytest.fixture
def cpu(monkeypatch: pytest.MonkeyPatch):
    """Set the probe's answer: `cpu(NATIVE)` or `cpu(AVX2_ONLY)`."""
    return lambda support: monkeypatch.setattr(precision, "bf16_support", lambda device_type="cpu": support)


def test_auto_trains_in_bf16_only_where_the_hardware_has_it(cpu) -> None:
    cpu(NATIVE)
    assert choose_precision("auto", job="fine-tuning").dtype == "bfloat16"
    assert choose_precision("auto", job="training").dtype == "bfloat16"
    cpu(AVX2_ONLY)
    chosen = choose_precision("auto", job="fine-tuning")
    assert chosen.dtype == "float32" and "AVX2" in chosen.reason
    assert choose_precision("auto", job="training").dtype == "float32"


def test_cpu_generation_is_bf16_only_where_its_matmuls_measure_faster(cpu, monkeypatch: pytest.MonkeyPatch) -> None:
    cpu(NATIVE)
    monkeypatch.setattr(precision, "bf16_matmul_gain", lambda device_type: 3.1)
    chosen = choose_precision("auto", job="generation")
    assert chosen.dtype == "bfloat16" and "x3.1" in chosen.reason
    monkeypatch.setattr(precision, "bf16_matmul_gain", lambda device_type: 1.1)
    assert choose_precision("auto", job="generation").dtype == "float32"
    monkeypatch.setattr(precision, "bf16_matmul_gain", lambda device_type: pytest.fail("measured without bf16"))
    cpu(AVX2_ONLY)
    assert choose_precision("auto", job="generation").dtype == "float32"
    assert choose_precision("bfloat16", job="generation").dtype == "bfloat16"
    assert choose_precision(False, job="fine-tuning").dtype == "float32"


def test_the_bf16_matmul_gain_is_measured_here() -> None:
    assert precision.bf16_matmul_gain.__wrapped__("cpu") > 0


def test_forcing_bf16_without_it_warns_with_the_measured_slowdown(cpu, caplog: pytest.LogCaptureFixture) -> None:
    cpu(AVX2_ONLY)
    with caplog.at_level(logging.WARNING, logger="journey.models.precision"):
        chosen = choose_precision(True, job="fine-tuning")
    assert chosen.dtype == "bfloat16"  # the user's word stands
    assert "no native bf16" in caplog.text and "GFLOP/s" in caplog.text
    caplog.clear()
    cpu(NATIVE)
    with caplog.at_level(logging.WARNING, logger="journey.models.precision"):
        choose_precision(True, job="fine-tuning")
    assert caplog.text == ""


def test_onednn_limited_to_avx2_is_seen_as_no_native_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()):
        pytest.skip("this CPU has no bf16 instructions to hide")
    precision.bf16_support.cache_clear()
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    try:
        support = precision.bf16_support("cpu")
    finally:
        precision.bf16_support.cache_clear()
    assert not support.native and "ONEDNN_MAX_CPU_ISA" in support.evidence


def test_finetune_records_the_choice_in_its_report_and_run_json(cpu, tmp_path: Path, tiny_model_dir: Path) -> None:
    from journey.finetune import finetune
    from journey.workspace import Workspace
    from test_finetune import make_workspace

    cpu(AVX2_ONLY)
    config = make_workspace(tmp_path, tiny_model_dir, tickets=8).root / "journey.toml"
    config.write_text(config.read_text().replace("bf16 = false", 'bf16 = "auto"'), encoding="utf-8")
    report = finetune(Workspace.load(tmp_path), max_steps=1, progress=False)
    assert report.precision.startswith("float32; auto: CPU without AVX512-BF16")
    assert json.loads((report.run_dir / "run.json").read_text())["precision"] == report.precision
