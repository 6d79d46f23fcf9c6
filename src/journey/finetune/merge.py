"""`journey merge`: fold the LoRA adapter into its base model and write a plain model folder.

The folder (safetensors weights, config, generation config, tokenizer) loads with
`AutoModelForCausalLM.from_pretrained` alone, and serves with vLLM, TGI or llama.cpp
(after conversion) like any Hugging Face model.
"""

from __future__ import annotations

from pathlib import Path

from journey.errors import UserError
from journey.finetune.adapters import TRAINING_INFO, attach_adapter, training_info
from journey.io import atomic_directory, atomic_write_json
from journey.models.loading import load_model
from journey.workspace import Workspace


def merge(workspace: Workspace, output: Path, *, adapter: Path | None = None) -> Path:
    """Merge `adapter` (default: the workspace's) into model.base; write the result to `output`."""
    adapter = adapter or workspace.adapter_dir
    base = workspace.settings.model.base
    if (adapter / "config.json").is_file():  # a full fine-tune is already a model folder
        model, tokenizer = load_model(str(adapter))
    elif (adapter / "adapter_config.json").is_file():
        model, tokenizer = load_model(base)
        model = attach_adapter(model, adapter, base=base).merge_and_unload()
    else:
        raise UserError(f"No adapter in {adapter}: run `journey finetune` first, or pass --adapter.")
    if output.resolve() == adapter.resolve():
        raise UserError("Write the merged model to another folder than the adapter's.")
    with atomic_directory(output) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        atomic_write_json(tmp / TRAINING_INFO, {**training_info(adapter), "merged_from": str(adapter)})
    return output
