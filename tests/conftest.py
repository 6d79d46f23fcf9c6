"""Shared fixtures: a tiny randomly initialised chat model, and a minimal workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from journey.train.tokenizer import train_tokenizer

TINY_TEXT = [
    "Returns are accepted within 41 days of delivery.",
    "Standard shipping costs 4.85 and takes three working days.",
    "Your order has been shipped with a tracking code.",
    "I'm handing this conversation to a member of our support team, who will reply here shortly.",
    "Hello! Thanks for contacting us. How can I help you today?",
] * 20


def build_tiny_model(folder: Path, *, seed: int = 0) -> Path:
    """Save a ~100k-parameter Llama with a trained BPE tokenizer and ChatML template to `folder`."""
    tokenizer = train_tokenizer(TINY_TEXT, vocab_size=400)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        initializer_range=0.5,  # larger random weights: greedy decoding says words, not only whitespace
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_random_adapter(base: Path, folder: Path) -> Path:
    """Save a LoRA adapter for `base` with random (non-zero) weights, so merging it changes what the model says."""
    torch.manual_seed(1)
    config = LoraConfig(r=4, lora_alpha=32, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(base), config).save_pretrained(folder)
    return folder


def build_gpt2(folder: Path, tokenizer_source: Path) -> Path:
    """Save a tiny GPT-2, an architecture journey's ONNX and GGUF conversions do not write, to `folder`."""
    GPT2LMHeadModel(GPT2Config(n_embd=32, n_layer=1, n_head=2, vocab_size=400, n_positions=64)).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tokenizer_source).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture
def tiny_workspace(tmp_path: Path, tiny_model_dir: Path) -> Path:
    """A workspace whose base model is the tiny model, with one escalation rule."""
    (tmp_path / "journey.toml").write_text(
        f"""
[project]
name = "Testshop"
[model]
base = "{tiny_model_dir}"
max_new_tokens = 12
dtype = "float32"  # generation compared exactly: not the bf16 that auto picks on AMX CPUs
[[assistant.escalation]]
name = "legal"
keywords = ["lawyer", "legal action"]
""",
        encoding="utf-8",
    )
    return tmp_path


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """For a test module of the tiny model: its matmuls are too small to share out, so one thread is many
    times faster on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
