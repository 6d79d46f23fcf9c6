"""`journey merge`: fold the LoRA adapter into its base model and write a plain model folder.

The folder (safetensors weights, config, generation config, tokenizer) loads with
`AutoModelForCausalLM.from_pretrained` alone, and serves with vLLM, TGI or llama.cpp
(after conversion) like any Hugging Face model. Every check runs before the model loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from journey.errors import UserError
from journey.finetune.output import check_output
from journey.models.adapters import ADAPTER_CONFIG, attach_adapter, check_adapter, check_model_folder, training_info
from journey.training.output import save_model_folder
from journey.workspace import Workspace

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def merge(workspace: Workspace, output: Path, *, adapter: Path | None = None, force: bool = False) -> Path:
    """Merge `adapter` (default: the workspace's) into model.base; write the result to `output`.

    `output` may not hold the workspace or the adapter; an existing folder journey did not write
    is replaced only with `force`.
    """
    adapter = adapter or workspace.adapter_dir
    full = (adapter / "config.json").is_file()  # a full fine-tune is already a model folder
    if full:
        check_model_folder(adapter)
    elif (adapter / ADAPTER_CONFIG).is_file():
        check_adapter(adapter)
    else:
        raise UserError(f"No adapter in {adapter}: run `journey finetune` first, or pass --adapter.")
    check_output(workspace, output, force=force, keep=(adapter,))
    model, tokenizer = merged_model(workspace.settings.model.base, adapter)
    info = {**training_info(adapter), "merged_from": str(adapter)}
    save_model_folder(model, tokenizer, output, info, retry="Free some disk space and run `journey merge` again.")
    return output


def merged_model(base: str, adapter: Path | None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """One plain transformers model (float32): `base`, a full fine-tune's folder, or `base` with the LoRA merged in."""
    from journey.models.loading import load_model  # torch and transformers: only once every check passed

    if adapter is None:
        return load_model(base)
    if (adapter / "config.json").is_file():  # a full fine-tune is already a model folder
        check_model_folder(adapter)
        return load_model(str(adapter))
    model, tokenizer = load_model(base)
    return attach_adapter(model, adapter, base=base).merge_and_unload(), tokenizer
