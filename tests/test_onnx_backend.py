"""The ONNX Runtime GenAI backend on the tiny random Llama: the real model builder, the real runtime.

fp32 conversions, so greedy decoding must give the very tokens transformers gives; int4 (the
default) is measured on SmolLM2 in benchmarks/bench_onnx.py, not asserted here.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

from conftest import build_gpt2, build_random_adapter
from journey.models import load_backend
from journey.models.backends import TransformersBackend, encode_chat
from journey.models.onnx import MARKER, OnnxBackend, OnnxUnsupported, converted_model
from journey.models.prefix_cache import MIN_TOKENS, shared_start
from journey.workspace import ModelSettings

MESSAGES = [{"role": "user", "content": "Where is my order?"}]
NEW_TOKENS = 12


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """The tiny test Llama's shape with 16-wide attention heads, the narrowest ONNX Runtime's kernel runs."""
    folder = tmp_path_factory.mktemp("small-model")
    config = LlamaConfig.from_pretrained(tiny_model_dir)
    config.hidden_size, config.intermediate_size, config.head_dim = 64, 128, 16
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(folder)
    return folder


@pytest.fixture(autouse=True)
def cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "journey-cache"))


def greedy(folder: Path, adapter: Path | None = None) -> list[int]:
    """transformers' greedy tokens for MESSAGES, up to the end of turn."""
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    ids, _ = encode_chat(tokenizer, MESSAGES, 256, NEW_TOKENS)
    out = model.generate(torch.tensor([ids]), max_new_tokens=NEW_TOKENS, do_sample=False)[0, len(ids) :].tolist()
    return out[: out.index(tokenizer.eos_token_id)] if tokenizer.eos_token_id in out else out


def onnx_tokens(converted: Path, source: Path) -> list[int]:
    backend = OnnxBackend(converted, AutoTokenizer.from_pretrained(source), threads=1)
    ids, _ = encode_chat(backend.tokenizer, MESSAGES, backend.context_window, NEW_TOKENS)
    return list(backend.complete(ids, max_new_tokens=NEW_TOKENS))


@pytest.fixture(scope="module")
def adapter(tmp_path_factory: pytest.TempPathFactory, small_model: Path) -> Path:
    return build_random_adapter(small_model, tmp_path_factory.mktemp("adapter"))


def test_greedy_onnx_says_what_transformers_says(small_model: Path) -> None:
    converted = converted_model(small_model, None, precision="fp32")
    expected = greedy(small_model)
    assert expected, "the tiny model says something"
    assert onnx_tokens(converted, small_model) == expected


def test_a_conversion_is_cached_and_an_adapter_gets_its_own(
    small_model: Path, adapter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = converted_model(small_model, None, precision="fp32")
    merged = converted_model(small_model, adapter, precision="fp32")
    assert merged != base and (merged / MARKER).is_file()
    assert onnx_tokens(merged, small_model) == greedy(small_model, adapter) != greedy(small_model)
    monkeypatch.setattr("journey.models.onnx._build", lambda *a: pytest.fail("converted again"))
    assert converted_model(small_model, adapter, precision="fp32") == merged


def test_a_changed_adapter_is_converted_again(small_model: Path, adapter: Path, tmp_path: Path) -> None:
    before = converted_model(small_model, adapter, precision="fp32")
    changed = tmp_path / "adapter"
    changed.mkdir()
    for file in adapter.iterdir():
        (changed / file.name).write_bytes(file.read_bytes())
    assert converted_model(small_model, changed, precision="fp32") != before
    (adapter / "adapter_config.json").touch()  # rewritten in place: a new modification time
    assert converted_model(small_model, adapter, precision="fp32") != before


def test_streaming_and_batched_generation_agree(small_model: Path) -> None:
    backend = OnnxBackend(
        converted_model(small_model, None, precision="fp32"), AutoTokenizer.from_pretrained(small_model)
    )
    [generation] = backend.generate([MESSAGES], max_new_tokens=NEW_TOKENS)
    assert "".join(backend.stream(MESSAGES, max_new_tokens=NEW_TOKENS)).strip() == generation.text
    assert generation.completion_tokens == len(greedy(small_model))


def test_a_model_it_cannot_convert_or_run_falls_back_to_transformers(
    tmp_path: Path, tiny_model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gpt2 = build_gpt2(tmp_path / "gpt2", tiny_model_dir)
    with pytest.raises(OnnxUnsupported, match="cannot convert GPT2LMHeadModel models"):
        converted_model(gpt2, None, precision="fp32")
    settings = ModelSettings(backend="onnx", onnx_precision="fp32")
    for folder, reason in ((gpt2, "cannot convert GPT2LMHeadModel"), (tiny_model_dir, "head_size shall be a multiple")):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            backend = load_backend(settings, base=str(folder), name="as-is")
        assert isinstance(backend, TransformersBackend)
        assert reason in caplog.text and "Generating with transformers instead" in caplog.text


def test_grounded_facts_apply_as_in_transformers(small_model: Path) -> None:
    """The same processor on each step's logits: the very tokens transformers' grounded greedy decoding gives."""
    conversations = [
        [{"role": "user", "content": f"Order {n} costs 4.85 and ships in 3 days. 0123456789?"}] for n in (41, 7)
    ]
    converted = converted_model(small_model, None, precision="fp32")
    tokenizer = AutoTokenizer.from_pretrained(small_model)
    model = AutoModelForCausalLM.from_pretrained(small_model, dtype=torch.float32)
    for grounded in (False, True):
        onnx = OnnxBackend(converted, tokenizer, grounded=grounded).generate(conversations, max_new_tokens=40)
        torch_backend = TransformersBackend(model, tokenizer, grounded=grounded)
        expected = [torch_backend.generate([c], max_new_tokens=40)[0].text for c in conversations]
        assert [g.text for g in onnx] == expected
    free = OnnxBackend(converted, tokenizer).generate(conversations, max_new_tokens=40)
    assert [g.text for g in free] != [g.text for g in onnx]  # grounding changed what was said


def test_a_prompt_sharing_the_last_ones_start_reuses_its_keys_and_values(small_model: Path) -> None:
    """The kept generator, rewound to the start the prompts share, says what a fresh generator says."""
    converted = converted_model(small_model, None, precision="fp32")
    tokenizer = AutoTokenizer.from_pretrained(small_model)
    reusing, fresh = OnnxBackend(converted, tokenizer, threads=1), OnnxBackend(converted, tokenizer, threads=1)
    system = {"role": "system", "content": "You are the support assistant of Testshop. Returns: 41 days. Be brief."}
    questions = ["Where is my order?", "What does shipping cost?", "Where is my order?"]
    for question in questions:
        ids, _ = encode_chat(tokenizer, [system, {"role": "user", "content": question}], 256, NEW_TOKENS)
        ours = list(reusing.complete(ids, max_new_tokens=NEW_TOKENS))
        fresh._generator = None  # a new generator every time: the whole prompt prefilled
        assert ours == list(fresh.complete(ids, max_new_tokens=NEW_TOKENS))
        assert reusing._held[: len(ids)] == ids  # what the kept generator holds: this prompt, then the reply
    first = encode_chat(tokenizer, [system, {"role": "user", "content": questions[0]}], 256, NEW_TOKENS)[0]
    assert shared_start(reusing._held, first) >= MIN_TOKENS


def test_an_adapter_trained_on_a_named_base_merges_onto_its_resolved_folder(
    small_model: Path, adapter: Path, tmp_path: Path
) -> None:
    """An embedded base is named (smollm2-135m-instruct) in the adapter's provenance but converted from its
    cached folder: the name, not the folder, is what the adapter is checked against."""
    from journey.errors import UserError
    from journey.models.adapters import TRAINING_INFO

    named = tmp_path / "named-adapter"
    named.mkdir()
    for file in adapter.iterdir():
        (named / file.name).write_bytes(file.read_bytes())
    (named / TRAINING_INFO).write_text('{"base": "tiny-embedded"}', encoding="utf-8")
    with pytest.raises(UserError, match="trained on base model 'tiny-embedded'"):
        converted_model(small_model, named, precision="fp32")
    merged = converted_model(small_model, named, precision="fp32", base="tiny-embedded")
    assert onnx_tokens(merged, small_model) == greedy(small_model, adapter)
