"""The shared training loop: it learns, resumes exactly, refuses a changed run, and records its curve."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from journey.errors import UserError
from journey.training.loop import LoopConfig, fit


def _data(n: int = 24, length: int = 16) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    pattern = torch.randint(5, 60, (length,), generator=generator)
    return [torch.roll(pattern, i % 4) for i in range(n)]


def _collate(rows: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    ids = torch.stack(rows)
    return {"input_ids": ids, "labels": ids.clone()}


CONFIG = LoopConfig(max_steps=8, learning_rate=3e-3, batch_size=4, warmup_steps=1, eval_every=4, checkpoint_every=4)


def _model(folder: Path) -> torch.nn.Module:
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_pretrained(folder)


def test_fit_lowers_the_loss_and_writes_the_curve(
    tiny_model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = _model(tiny_model_dir)
    data = _data()
    before = model(**_collate(data[:4])).loss.item()
    result = fit(model, data, _collate, CONFIG, tmp_path, val_data=data[:8])
    assert result.steps == 8 and result.tokens == 8 * 4 * 16
    assert result.final_val_loss is not None and result.final_val_loss < before
    rows = (tmp_path / "loss.csv").read_text().splitlines()
    assert rows[0].startswith("step,train_loss") and len(rows) == 9
    assert [row.split(",")[0] for row in rows[1:] if row.split(",")[2]] == ["4", "8"]  # validated steps only
    assert (tmp_path / "loss.png").stat().st_size > 1000
    # the tiny model ties its embeddings; saving them once is right and is not worth a warning per checkpoint
    assert not [r for r in caplog.records if "shared tensor" in r.getMessage()]


def test_resume_continues_exactly_where_it_stopped(tiny_model_dir: Path, tmp_path: Path) -> None:
    straight = _model(tiny_model_dir)
    fit(straight, _data(), _collate, CONFIG, tmp_path / "straight")

    def ctrl_c(step: int, model: torch.nn.Module) -> None:
        raise KeyboardInterrupt

    data = _data()
    stopped = fit(_model(tiny_model_dir), data, _collate, CONFIG, tmp_path / "halves", val_data=data, on_eval=ctrl_c)
    assert stopped.interrupted and stopped.steps == 4
    resumed = _model(tiny_model_dir)  # a fresh process starts from the base weights again
    result = fit(resumed, data, _collate, CONFIG, tmp_path / "halves", resume=True)

    assert result.steps == 8 and not result.interrupted
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name
    steps = [line.split(",")[0] for line in (tmp_path / "halves" / "loss.csv").read_text().splitlines()[1:]]
    assert steps == [str(step) for step in range(1, 9)]


def test_a_crash_while_checkpointing_leaves_the_last_checkpoint_whole(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accelerate import Accelerator

    save_state = Accelerator.save_state
    saves = []

    def disk_full_on_second_save(self: Accelerator, output_dir: str) -> None:
        saves.append(output_dir)
        save_state(self, output_dir)
        if len(saves) == 2:
            Path(output_dir, "model.safetensors").write_bytes(b"half")
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(Accelerator, "save_state", disk_full_on_second_save)
    with pytest.raises(OSError, match="No space"):
        fit(_model(tiny_model_dir), _data(), _collate, CONFIG, tmp_path)  # checkpoints at steps 4 and 8
    monkeypatch.setattr(Accelerator, "save_state", save_state)

    result = fit(_model(tiny_model_dir), _data(), _collate, CONFIG, tmp_path, resume=True)
    assert result.steps == 8 and result.tokens == 4 * 4 * 16  # resumed from step 4: the last whole checkpoint


def test_resume_refuses_changed_settings_and_missing_checkpoints(tiny_model_dir: Path, tmp_path: Path) -> None:
    fit(_model(tiny_model_dir), _data(), _collate, replace(CONFIG, max_steps=4), tmp_path)
    with pytest.raises(UserError, match="learning_rate"):
        fit(_model(tiny_model_dir), _data(), _collate, replace(CONFIG, learning_rate=1.0), tmp_path, resume=True)
    with pytest.raises(UserError, match="Nothing to resume"):
        fit(_model(tiny_model_dir), _data(), _collate, CONFIG, tmp_path / "other", resume=True)


def test_a_time_budget_stops_early_and_says_so(
    tiny_model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def slow_collate(rows: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        time.sleep(0.25)  # a machine where a step takes at least a quarter of a second
        return _collate(rows)

    config = replace(CONFIG, max_steps=40, checkpoint_every=1000)
    with caplog.at_level(logging.WARNING, logger="journey.training.loop"):
        result = fit(_model(tiny_model_dir), _data(), slow_collate, config, tmp_path, budget_s=2.0)
    assert result.budget_limited and 2 <= result.steps < 10
    assert any("over the" in r.getMessage() and "time budget" in r.getMessage() for r in caplog.records)

    unlimited = fit(
        _model(tiny_model_dir), _data(), _collate, replace(CONFIG, max_steps=3), tmp_path / "b", budget_s=600
    )
    assert unlimited.steps == 3 and not unlimited.budget_limited
