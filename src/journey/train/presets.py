"""Model sizes: presets and explicit dimensions, turned into a transformers `LlamaConfig`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

from journey.errors import UserError
from journey.workspace import TrainSettings


@dataclass(frozen=True)
class ModelDims:
    """The numbers that fix a model's shape; a checkpoint only resumes into the same ones."""

    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int = 4096
    context_length: int = 512

    def describe(self) -> dict[str, int]:
        return asdict(self)


# Parameter counts at the default 4096-token vocabulary (embeddings tied to the output layer):
# tiny ≈ 5.0M, small ≈ 27.4M, base ≈ 116M.
PRESETS: dict[str, ModelDims] = {
    "tiny": ModelDims(hidden_size=256, num_layers=5, num_heads=4, intermediate_size=688),
    "small": ModelDims(hidden_size=512, num_layers=8, num_heads=8, intermediate_size=1376),
    "base": ModelDims(hidden_size=768, num_layers=16, num_heads=12, intermediate_size=2048),
}


def model_dims(settings: TrainSettings) -> ModelDims:
    """The preset's dimensions, with any explicitly set in the settings taking precedence."""
    explicit = {
        name: getattr(settings, name)
        for name in ("hidden_size", "num_layers", "num_heads", "intermediate_size")
        if getattr(settings, name) is not None
    }
    dims = replace(PRESETS[settings.preset], vocab_size=settings.vocab_size, context_length=settings.seq_len)
    dims = replace(dims, **explicit)
    if dims.hidden_size % dims.num_heads:
        raise UserError(
            f"train.hidden_size ({dims.hidden_size}) must be a multiple of train.num_heads ({dims.num_heads})."
        )
    return dims


def llama_config(dims: ModelDims, tokenizer: PreTrainedTokenizerBase) -> LlamaConfig:
    """A Llama configuration of `dims` whose special tokens are the tokenizer's."""
    return LlamaConfig(
        vocab_size=dims.vocab_size,
        hidden_size=dims.hidden_size,
        intermediate_size=dims.intermediate_size,
        num_hidden_layers=dims.num_layers,
        num_attention_heads=dims.num_heads,
        num_key_value_heads=dims.num_heads,
        max_position_embeddings=dims.context_length,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )


def parameter_count(config: LlamaConfig) -> int:
    """Parameters of a model of this configuration, counted without allocating its weights."""
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    return sum(p.numel() for p in model.parameters())


def changed_dims(saved: dict[str, int], dims: ModelDims) -> list[str]:
    """`name: old -> new` for every dimension that differs from a checkpoint's."""
    current = dims.describe()
    return [f"{name}: {saved.get(name)} -> {value}" for name, value in current.items() if saved.get(name) != value]
