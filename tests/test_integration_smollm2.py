"""Integration: the real embedded SmolLM2-135M-Instruct (GGUF → cached safetensors)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from journey.models import TransformersBackend, load_model
from journey.models.loading import resolve_base

pytestmark = pytest.mark.integration
BASE = "smollm2-135m-instruct"
QUESTION = [
    {"role": "system", "content": "You are a concise customer-support assistant."},
    {"role": "user", "content": "Hello! Can you help me with my order?"},
]


@pytest.fixture(scope="module")
def backend() -> TransformersBackend:
    model, tokenizer = load_model(BASE)
    return TransformersBackend(model, tokenizer)


def test_the_cached_conversion_loads_in_seconds(backend: TransformersBackend) -> None:
    folder = resolve_base(BASE)  # converted by the fixture if it was not cached yet
    assert (Path(folder) / "model.safetensors").is_file()
    start = time.perf_counter()
    load_model(BASE)
    assert time.perf_counter() - start < 30  # generous: a loaded CI machine; benchmarks/ has the real figure


def test_chat_template_is_chatml_with_an_assistant_prompt(backend: TransformersBackend) -> None:
    prompt = backend.tokenizer.apply_chat_template(QUESTION, add_generation_prompt=True, tokenize=False)
    assert prompt.startswith("<|im_start|>system\nYou are a concise")
    assert prompt.endswith("<|im_start|>assistant\n")
    end_of_turn = backend.tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert end_of_turn in backend.model.generation_config.eos_token_id


def test_greedy_answers_stop_at_end_of_turn_and_repeat_exactly(backend: TransformersBackend) -> None:
    first, second = backend.generate([QUESTION, QUESTION], max_new_tokens=200)
    assert first.text == second.text and len(first.text) > 10
    assert first.completion_tokens < 200, "the model never produced its end-of-turn token"
    assert "<|im_end|>" not in first.text and "<|im_start|>" not in first.text
    again = backend.generate([QUESTION], max_new_tokens=200)[0]
    assert again.text == first.text
