"""Grounded generation: facts the model writes are copied from its prompt (models/grounding.py).

The processor is driven two ways: by hand, with scores that make the "model" want a given
text token by token, and inside `generate` on the tiny random model with its logits biased
toward a wrong number. Marked integration: the same with the real SmolLM2, whose
tokenizer writes every digit as its own token and a space before a number as one more.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from journey.facts import stated_facts, ungrounded
from journey.models import TransformersBackend, load_backend, load_model
from journey.models.grounding import FactTrie, GroundedFacts, TokenClasses, prompt_facts
from journey.workspace import ModelSettings

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path) -> TransformersBackend:
    model, tokenizer = load_model(str(tiny_model_dir))
    return TransformersBackend(model, tokenizer, grounded=True)


def classes_of(backend: TransformersBackend) -> TokenClasses:
    return TokenClasses.of(backend.tokenizer, backend.model.config.vocab_size)


def want(backend: TransformersBackend, facts: set[str], wanted: str) -> str:
    """Decode with scores that put the next token of `wanted` first at each step, the rest fixed noise."""
    tokenizer, classes = backend.tokenizer, classes_of(backend)
    processor = GroundedFacts([FactTrie.build(facts, tokenizer, classes)], classes)
    noise = torch.rand(backend.model.config.vocab_size, generator=torch.Generator().manual_seed(0))
    ids = torch.tensor([[tokenizer.bos_token_id]])
    for token in tokenizer.encode(wanted, add_special_tokens=False):
        scores = noise.clone()[None]
        scores[0, token] += 10.0
        chosen = int(processor(ids, scores).argmax())
        ids = torch.cat([ids, torch.tensor([[chosen]])], dim=1)
    return tokenizer.decode(ids[0, 1:])


def numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


@contextmanager
def biased(backend: TransformersBackend, text: str, bias: float = 40.0) -> Iterator[None]:
    """Make the model want every token of `text` (each one alone) far above anything else."""
    ids = backend.tokenizer.encode(text, add_special_tokens=False)
    backend.model.generation_config.sequence_bias = [[[token], bias] for token in set(ids)]
    try:
        yield
    finally:
        backend.model.generation_config.sequence_bias = None


def test_token_classes_mark_tokens_with_a_digit_or_an_at_sign(tiny: TransformersBackend) -> None:
    classes = classes_of(tiny)
    tokenizer = tiny.tokenizer
    for text, fact_like in ((" 41", True), ("85", True), ("7", True), (" days", False), ("Hello", False)):
        (token,) = tokenizer.encode(text, add_special_tokens=False)
        assert bool(classes.fact_like[token]) is fact_like, text
    assert classes.fact_like.shape[0] == tiny.model.config.vocab_size


def test_a_fact_split_over_tokens_is_completed(tiny: TransformersBackend) -> None:
    assert tiny.tokenizer.tokenize(" 4.85") == ["Ġ4", ".", "85"]  # three tokens in the tiny vocabulary
    out = want(tiny, {"4.85"}, " 4 days and more days")  # the model wants to stop after " 4"
    assert out.startswith(" 4.85"), out
    assert numbers(out) == {"4.85"}


def test_overlapping_facts_share_a_path_and_each_may_end_it(tiny: TransformersBackend) -> None:
    assert want(tiny, {"12", "125"}, " 12 days").startswith(" 12 ")
    assert want(tiny, {"12", "125"}, " 125 days").startswith(" 125 ")
    out = want(tiny, {"125"}, " 12 days and days")  # "12" is no fact here: the path must go on to "125"
    assert out.startswith(" 125"), out
    assert numbers(out) == {"125"}
    assert numbers(want(tiny, {"12"}, " 1259 days")) == {"12"}  # no digit glued onto a finished fact


def test_a_wrong_number_is_left_out_and_a_glued_digit_cannot_start_one(tiny: TransformersBackend) -> None:
    out = want(tiny, {"41"}, " 77 days, not hi7")
    assert "7" not in out and "days, not hi" in out, out


def test_an_email_is_copied_or_not_written(tiny: TransformersBackend) -> None:
    facts = stated_facts("Write to shop@shipping.com")
    assert want(tiny, facts, " shop@shipping.com").startswith(" shop@shipping.com")
    assert "@" not in want(tiny, facts, " you@you.com")


def test_generate_copies_facts_when_the_model_wants_a_wrong_number(tiny: TransformersBackend) -> None:
    question = [{"role": "user", "content": "Returns are accepted within 41 days; shipping costs 4.85."}]
    with biased(tiny, "7"):
        free = TransformersBackend(tiny.model, tiny.tokenizer).generate([question], max_new_tokens=20)[0].text
        grounded = tiny.generate([question], max_new_tokens=20)[0].text
    assert "7777" in free  # the bias works: ungrounded, the model writes its wrong number
    assert "7" not in grounded
    assert numbers(grounded) <= {"41", "4.85"}
    assert ungrounded(grounded, question[0]["content"]) == []


def test_without_facts_in_the_prompt_the_reply_has_no_digits(tiny: TransformersBackend) -> None:
    question = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "How long do returns take?"}]
    assert prompt_facts(question) == set()
    with biased(tiny, "0123456789 41 4"):
        text = tiny.generate([question], max_new_tokens=24)[0].text
        streamed = "".join(tiny.stream(question, max_new_tokens=24)).strip()
    assert text and not re.search(r"\d", text), text
    assert streamed == text


def test_batched_rows_each_keep_to_their_own_facts(tiny: TransformersBackend) -> None:
    rows = [
        [{"role": "user", "content": "Returns are accepted within 41 days."}],
        [{"role": "user", "content": "Standard shipping costs 4.85."}],
    ]
    with biased(tiny, " 41 4"):  # the tokens " 41" and " 4", which starts " 4.85": 15 tokens hold five of each
        batched = [g.text for g in tiny.generate(rows, max_new_tokens=15)]
        single = [tiny.generate([row], max_new_tokens=15)[0].text for row in rows]
    assert batched == single
    assert numbers(batched[0]) == {"41"}, batched
    assert numbers(batched[1]) == {"4.85"}, batched


def test_grounding_is_on_by_default_where_knowledge_is(tiny_model_dir: Path) -> None:
    def grounded(knowledge: bool, **setting: object) -> bool:
        settings = ModelSettings(base=str(tiny_model_dir), **setting)
        return load_backend(settings, base=settings.base, name="t", knowledge=knowledge).grounded

    assert grounded(True) and not grounded(False)
    assert grounded(False, grounded_facts=True) and not grounded(True, grounded_facts=False)


@pytest.mark.integration
def test_smollm2_copies_a_price_digit_by_digit_instead_of_inventing_one() -> None:
    model, tokenizer = load_model("smollm2-135m-instruct")
    backend = TransformersBackend(model, tokenizer, grounded=True)
    assert tokenizer.tokenize(" 49.90") == ["Ġ", "4", "9", ".", "9", "0"]
    question = [
        {"role": "system", "content": "You are a concise customer-support assistant."},
        {"role": "user", "content": "The Trail Jacket costs €49.90 and ships in 3 working days. What does it cost?"},
    ]
    with biased(backend, "7", bias=12.0):
        free = TransformersBackend(model, tokenizer).generate([question], max_new_tokens=40)[0].text
        text = backend.generate([question], max_new_tokens=40)[0].text
    assert "7" in free and "7" not in text, (free, text)
    assert numbers(text) <= {"49.90", "3"} and ungrounded(text, question[1]["content"]) == []
    assert numbers(want(backend, {"49.90"}, " 4 euros, thanks for asking")) == {"49.90"}
