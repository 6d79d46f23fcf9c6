"""Write a transformers Llama model and its tokenizer as one GGUF file, and the Ollama Modelfile beside it.

The file is laid out as llama.cpp's `convert_hf_to_gguf.py` lays out the llama architecture, with the
`gguf` package's writer: its tensor names (gguf-py's tensor map), the query and key rows permuted
for its rotary layout, 1-D tensors (norms) kept in F32, the vocabulary with its token types, the merges,
the special token ids and `tokenizer.chat_template`. transformers' GGUF loader (`gguf_file=`) undoes
exactly this, which is how `journey export` checks a file it wrote. The file is written under a temporary
name in the target's folder and renamed into place: an interrupted export leaves no half file.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import gguf
import numpy as np

from journey.errors import UserError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

OutType = Literal["f32", "f16", "q8_0"]
# What each --outtype stores the 2-D weights as, and the file type llama.cpp records for it.
OUTTYPES: dict[str, tuple[gguf.GGMLQuantizationType, gguf.LlamaFileType]] = {
    "f32": (gguf.GGMLQuantizationType.F32, gguf.LlamaFileType.ALL_F32),
    "f16": (gguf.GGMLQuantizationType.F16, gguf.LlamaFileType.MOSTLY_F16),
    "q8_0": (gguf.GGMLQuantizationType.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
}
# Ollama's ChatML template (what `ollama show --template` prints for ChatML models), in Go template syntax.
CHATML_OLLAMA = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
)
MODELFILE_HEADER = "# Ollama Modelfile written by `journey export`"  # how a rerun knows the file is its own
_TEMPLATE_PROBE = [  # a conversation both templates must render alike
    {"role": "system", "content": "S"},
    {"role": "user", "content": "Q1"},
    {"role": "assistant", "content": "A1"},
    {"role": "user", "content": "Q2"},
]


@dataclass(frozen=True)
class SourceInfo:
    """What the export carries over from where the base model came: the GGUF file it was converted from, if any."""

    general: dict[str, object] = field(default_factory=dict)  # that file's general.* metadata
    pre_tokenizer: str | None = None  # its tokenizer.ggml.pre: how llama.cpp splits text before the merges

    @classmethod
    def from_gguf(cls, path: Path) -> SourceInfo:
        reader = gguf.GGUFReader(path)
        values = {key: reader.fields[key].contents() for key in reader.fields if key.startswith("general.")}
        pre = reader.fields["tokenizer.ggml.pre"].contents() if "tokenizer.ggml.pre" in reader.fields else None
        return cls(general=values, pre_tokenizer=pre)


def write_gguf(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    path: Path,
    *,
    outtype: OutType = "f16",
    name: str,
    finetune: str | None = None,
    source: SourceInfo | None = None,
) -> None:
    """Write `model` (a plain, unwrapped Llama) and `tokenizer` to the GGUF file `path`, atomically."""
    check_exportable(model, tokenizer)
    source = source or SourceInfo()
    weight_type, file_type = OUTTYPES[outtype]
    writer = gguf.GGUFWriter(None, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    writer.add_type(gguf.GGUFType.MODEL)
    _metadata(model, name, finetune, source).set_gguf_meta_model(writer)
    _hyperparameters(writer, model.config, file_type)
    _vocabulary(writer, tokenizer, model.config.vocab_size, source)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for tensor_name, array, tensor_type in _tensors(model, weight_type):
        writer.add_tensor(tensor_name, array, raw_dtype=tensor_type)
    _write_atomically(writer, path)


def check_exportable(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
    """One sentence when this model or tokenizer is one the GGUF writer does not handle (yet)."""
    config = model.config
    if config.model_type != "llama":
        raise UserError(f"journey exports Llama-architecture models to GGUF; this one is '{config.model_type}'.")
    rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    if (scaling := rope.get("rope_type", rope.get("type", "default"))) != "default":
        raise UserError(f"journey does not export a model with '{scaling}' RoPE scaling to GGUF yet.")
    backend = json.loads(tokenizer.backend_tokenizer.to_str()) if tokenizer.is_fast else {}
    if backend.get("model", {}).get("type") != "BPE" or (backend.get("decoder") or {}).get("type") != "ByteLevel":
        raise UserError("journey exports byte-level BPE tokenizers (SmolLM2's, its own) to GGUF; not this one.")


def _metadata(model: PreTrainedModel, name: str, finetune: str | None, source: SourceInfo) -> gguf.Metadata:
    """general.*: this model's name, and the base model's as the model it was fine-tuned from."""
    general = source.general
    parameters = sum(p.numel() for p in model.parameters())
    base_name = general.get("general.name") or _model_name(model.config.name_or_path)
    return gguf.Metadata(
        name=name,
        finetune=finetune,
        basename=general.get("general.basename"),
        size_label=gguf.size_label(parameters, 0, 0, 0),
        license=general.get("general.license"),
        languages=general.get("general.languages"),
        base_models=[{"name": base_name, "organization": general.get("general.organization")}] if base_name else None,
    )


def _model_name(name_or_path: str) -> str | None:
    """A hub id as it is; a local folder by its name only (the file should not carry this machine's paths)."""
    return Path(name_or_path).name if name_or_path and Path(name_or_path).exists() else name_or_path or None


def _hyperparameters(writer: gguf.GGUFWriter, config, file_type: gguf.LlamaFileType) -> None:
    """llama.* keys, as convert_hf_to_gguf.py writes them for LlamaForCausalLM."""
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    rope = getattr(config, "rope_parameters", None) or {}
    writer.add_block_count(config.num_hidden_layers)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_freq_base(rope.get("rope_theta", getattr(config, "rope_theta", 10000.0)))
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_file_type(file_type)
    writer.add_vocab_size(config.vocab_size)
    writer.add_rope_dimension_count(head_dim)
    if head_dim != config.hidden_size // config.num_attention_heads:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)


def _vocabulary(writer: gguf.GGUFWriter, tokenizer: PreTrainedTokenizerBase, size: int, source: SourceInfo) -> None:
    """tokenizer.*: every token with its type, the merges, the special ids and flags, the chat template."""
    by_id = {index: token for token, index in tokenizer.get_vocab().items()}
    added = tokenizer.added_tokens_decoder
    tokens, types = [], []
    for index in range(size):  # an embedding wider than the vocabulary is padded as llama.cpp pads it
        if index not in by_id:
            tokens.append(f"[PAD{index}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        tokens.append(by_id[index])
        if index in added:
            types.append(gguf.TokenType.CONTROL if added[index].special else gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(source.pre_tokenizer or _pre_tokenizer(tokenizer))
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    with tempfile.TemporaryDirectory() as folder:  # the gguf package reads merges and special ids from files
        tokenizer.save_pretrained(folder)
        special = gguf.SpecialVocab(folder, load_merges=True, n_vocab=size)
    probe = tokenizer("a")["input_ids"]  # what the tokenizer adds around a text, as it behaves, not as configured
    special.add_special_token.setdefault("bos", bool(probe) and probe[0] == tokenizer.bos_token_id)
    special.add_special_token.setdefault("eos", bool(probe) and probe[-1] == tokenizer.eos_token_id)
    special.chat_template = special.chat_template or tokenizer.chat_template
    special.add_to_gguf(writer, quiet=True)
    writer.add_add_space_prefix(bool(_backend_part(tokenizer, "pre_tokenizer").get("add_prefix_space", False)))


def _pre_tokenizer(tokenizer: PreTrainedTokenizerBase) -> str:
    """llama.cpp's name for how text is split before the merges: GPT-2's regex for a plain byte-level one."""
    pre = _backend_part(tokenizer, "pre_tokenizer")
    if pre.get("type") == "ByteLevel" and pre.get("use_regex", True):
        return "gpt-2"
    log.warning("Unknown pre-tokenizer %s: llama.cpp will split text with its default rules.", pre.get("type"))
    return "default"


def _backend_part(tokenizer: PreTrainedTokenizerBase, part: str) -> dict:
    return json.loads(tokenizer.backend_tokenizer.to_str()).get(part) or {}


def _tensors(model: PreTrainedModel, weight_type: gguf.GGMLQuantizationType):
    """(GGUF name, data, type) of every weight, in llama.cpp's names and layout."""
    config = model.config
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    for hf_name, tensor in model.state_dict().items():
        if hf_name == "lm_head.weight" and config.tie_word_embeddings:
            continue  # a tied output layer is the embedding: llama.cpp writes no output.weight then
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise UserError(f"journey does not know the GGUF name of the weight '{hf_name}'.")
        data = tensor.detach().float().cpu().numpy()
        if ".q_proj." in hf_name:
            data = _permute(data, config.num_attention_heads)
        elif ".k_proj." in hf_name:
            data = _permute(data, config.num_key_value_heads)
        yield name, *_encode(name, data, weight_type)


def _permute(weights: np.ndarray, heads: int) -> np.ndarray:
    """Interleave each head's two rotary halves, as llama.cpp's rotary embedding reads them (LlamaModel.permute)."""
    shaped = weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:])
    return shaped.swapaxes(1, 2).reshape(weights.shape)


def _encode(name: str, data: np.ndarray, weight_type: gguf.GGMLQuantizationType):
    """The stored data and its type: norms and other 1-D tensors stay F32; a row Q8_0 cannot split goes F16."""
    if data.ndim <= 1 or name.endswith("_norm.weight"):
        return data.astype(np.float32), gguf.GGMLQuantizationType.F32
    try:
        return gguf.quantize(data, weight_type), weight_type
    except gguf.QuantError:
        return data.astype(np.float16), gguf.GGMLQuantizationType.F16


def _write_atomically(writer: gguf.GGUFWriter, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        writer.write_header_to_file(path=Path(tmp))
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file(progress=False)
        writer.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        writer.close()
        Path(tmp).unlink(missing_ok=True)
        raise


def modelfile(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, gguf_name: str, *, system: str) -> str:
    """An Ollama Modelfile for the GGUF file `gguf_name` beside it: greedy, stopping where journey stops.

    TEMPLATE is written when the tokenizer's chat template renders as ChatML (checked on a conversation);
    for another template Ollama reads `tokenizer.chat_template` from the file itself.
    """
    from journey.models.loading import token_id_list  # torch and transformers: not for the checks before a load

    stops = [tokenizer.convert_ids_to_tokens(i) for i in token_id_list(model.generation_config.eos_token_id)]
    lines = [MODELFILE_HEADER, f"FROM ./{gguf_name}", ""]
    if is_chatml(tokenizer):
        lines += [f'TEMPLATE """{CHATML_OLLAMA}"""', ""]
    else:
        lines += ["# No TEMPLATE: the chat template is not ChatML; Ollama takes it from the GGUF file.", ""]
    lines += [f'SYSTEM """{system.replace(chr(34) * 3, chr(39) * 3)}"""', ""]
    lines += [f'PARAMETER stop "{stop}"' for stop in dict.fromkeys(stops)]
    lines += ["PARAMETER temperature 0", ""]
    return "\n".join(lines)


def is_chatml(tokenizer: PreTrainedTokenizerBase) -> bool:
    """Whether the tokenizer's chat template renders a conversation exactly as ChatML (what CHATML_OLLAMA writes)."""
    turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in _TEMPLATE_PROBE)
    try:
        rendered = tokenizer.apply_chat_template(_TEMPLATE_PROBE, tokenize=False, add_generation_prompt=True)
    except Exception:  # a template that cannot render this conversation is not ChatML
        return False
    return rendered == turns + "<|im_start|>assistant\n"
