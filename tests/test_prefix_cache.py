"""Prompt reuse: a single conversation starts from the cached keys and values of the start recent prompts
shared, prefills only the rest, and gets the very tokens a full prefill gives (tiny model, greedy, fp32)."""

from __future__ import annotations

from pathlib import Path

import pytest

from journey.models.backends import TransformersBackend
from journey.models.loading import load_model
from journey.models.prefix_cache import MIN_TOKENS

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SYSTEM = "You are the support assistant of Testshop. Returns are accepted within 41 days of delivery. Be brief."
QUESTIONS = ["Where is my order?", "What does shipping cost?", "How can I help you today?"]


@pytest.fixture
def backend(tiny_model_dir: Path) -> TransformersBackend:
    model, tokenizer = load_model(str(tiny_model_dir))
    return TransformersBackend(model, tokenizer, grounded=True)


def chat(question: str, system: str = SYSTEM) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def reply(backend: TransformersBackend, messages: list[dict[str, str]]) -> tuple[str, int, int]:
    generation = backend.generate([messages], max_new_tokens=20)[0]
    return generation.text, generation.prompt_tokens, generation.completion_tokens


def first_forward_width(backend: TransformersBackend, messages: list[dict[str, str]], *, stream: bool) -> int:
    """How many prompt tokens the first forward pass of a generation of `messages` was given."""
    widths: list[int] = []
    hook = backend.model.register_forward_pre_hook(
        lambda module, args, kwargs: widths.append(kwargs["input_ids"].shape[1]), with_kwargs=True
    )
    try:
        if stream:
            "".join(backend.stream(messages, max_new_tokens=8))
        else:
            backend.generate([messages], max_new_tokens=8)
    finally:
        hook.remove()
    return widths[0]


def shared(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def test_reused_prefix_gives_the_same_replies_as_a_full_prefill(backend: TransformersBackend) -> None:
    full = TransformersBackend(backend.model, backend.tokenizer, grounded=True, reuse_prefix=False)
    for question in QUESTIONS:
        conversation = chat(question)
        expected = reply(full, conversation)
        assert reply(backend, conversation) == expected
        assert "".join(backend.stream(conversation, max_new_tokens=20)).strip() == expected[0]


def test_only_the_part_after_the_shared_start_is_prefilled(backend: TransformersBackend) -> None:
    conversations = [chat(q) for q in QUESTIONS]
    ids = [backend.encode(m, max_new_tokens=8)[0] for m in conversations]
    start = shared(ids[0], ids[1])
    assert start >= MIN_TOKENS
    assert first_forward_width(backend, conversations[0], stream=False) == len(ids[0])  # nothing cached yet
    assert first_forward_width(backend, conversations[1], stream=False) == len(ids[1]) - start
    assert backend.prefix.ids == ids[0][:start]  # the cache keeps only what the two prompts shared
    assert first_forward_width(backend, conversations[2], stream=True) == len(ids[2]) - shared(ids[0][:start], ids[2])


def test_a_prompt_that_shares_too_little_is_prefilled_whole_and_becomes_the_cached_one(backend) -> None:
    backend.generate([chat(QUESTIONS[0])], max_new_tokens=4)
    other = chat(QUESTIONS[0], system="Reply in French.")
    other_ids = backend.encode(other, max_new_tokens=8)[0]
    assert first_forward_width(backend, other, stream=False) == len(other_ids)
    assert backend.prefix.ids == other_ids


def test_batches_and_a_backend_without_reuse_prefill_everything(backend: TransformersBackend) -> None:
    backend.generate([chat(q) for q in QUESTIONS[:2]], max_new_tokens=4)
    assert backend.prefix.ids == []  # a batch neither uses nor fills the cache
    full = TransformersBackend(backend.model, backend.tokenizer, reuse_prefix=False)
    full.generate([chat(QUESTIONS[0])], max_new_tokens=4)
    ids = full.encode(chat(QUESTIONS[1]), max_new_tokens=8)[0]
    assert first_forward_width(full, chat(QUESTIONS[1]), stream=False) == len(ids)
