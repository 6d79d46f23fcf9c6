"""`journey export` on the tiny model with a random LoRA adapter: the GGUF file, read back three ways, its Modelfile,
its refusals, its atomic write, and the verb with its parity check."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import gguf
import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

from cli_runner import run_main
from journey.errors import UserError
from journey.evaluate.export_check import Answered, parity_table
from journey.finetune.export import export
from journey.models import TransformersBackend
from journey.models.export import CHATML_OLLAMA, MODELFILE_HEADER, is_chatml
from journey.models.loading import load_gguf
from journey.workspace import Workspace

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QUESTIONS = [
    ("q1", "How long do I have to return it?", ["41 days"]),
    ("q2", "What does shipping cost?", ["4.85"]),
    ("q3", "Where is my order?", []),
]
CHATS = [
    [{"role": "system", "content": "You help Testshop's customers."}, {"role": "user", "content": q}]
    for _, q, _ in QUESTIONS
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Workspace:
    """A workspace on the tiny model: a random (not zero) LoRA adapter as its fine-tune, and 3 eval questions."""
    root = tmp_path_factory.mktemp("export-ws")
    (root / "journey.toml").write_text(
        f'[project]\nname = "Testshop"\n[model]\nbase = "{tiny_model_dir}"\nmax_new_tokens = 12\n', encoding="utf-8"
    )
    (root / "data").mkdir()
    lines = [json.dumps({"id": i, "question": q, "facts": f}) for i, q, f in QUESTIONS]
    (root / "data" / "eval.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws = Workspace.load(root)
    torch.manual_seed(1)
    modules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=modules, init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir), lora).save_pretrained(ws.adapter_dir)
    (ws.adapter_dir / "journey_training.json").write_text(json.dumps({"base": str(tiny_model_dir)}), encoding="utf-8")
    return ws


@pytest.fixture(scope="module")
def exported(workspace: Workspace, tmp_path_factory: pytest.TempPathFactory):
    """The fine-tuned set-up exported once per weight type."""
    return {
        outtype: export(workspace, out=tmp_path_factory.mktemp(outtype), outtype=outtype)
        for outtype in ("f32", "f16", "q8_0")
    }


def _logits(model: torch.nn.Module, tokenizer, text: str) -> torch.Tensor:
    with torch.inference_mode():
        return model(torch.tensor([tokenizer(text)["input_ids"]])).logits[0]


def test_the_file_states_llama_its_vocabulary_and_chat_template(exported) -> None:
    result = exported["f16"]
    reader = gguf.GGUFReader(result.gguf_path)
    field = lambda key: reader.fields[key].contents()  # noqa: E731
    tokenizer = result.tokenizer
    assert field("general.architecture") == "llama" and field("general.name") == "Testshop finetuned"
    assert field("general.base_model.0.name") == result.model.config.name_or_path.rsplit("/", 1)[-1]
    assert field("tokenizer.chat_template") == tokenizer.chat_template
    assert field("tokenizer.ggml.model") == "gpt2" and field("tokenizer.ggml.pre") == "gpt-2"
    by_id = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    assert field("tokenizer.ggml.tokens") == [token for token, _ in by_id]
    types = field("tokenizer.ggml.token_type")
    assert types[tokenizer.convert_tokens_to_ids("<|im_end|>")] == gguf.TokenType.CONTROL
    assert types[tokenizer("Returns")["input_ids"][0]] == gguf.TokenType.NORMAL
    assert field("tokenizer.ggml.eos_token_id") == tokenizer.eos_token_id
    assert len(field("tokenizer.ggml.merges")) > 100
    config = result.model.config
    assert field("llama.block_count") == config.num_hidden_layers
    assert field("llama.attention.head_count_kv") == config.num_key_value_heads
    names = {t.name: t.tensor_type for t in reader.tensors}
    assert "output.weight" not in names  # tied embeddings: llama.cpp reuses token_embd
    assert names["blk.1.attn_q.weight"] == gguf.GGMLQuantizationType.F16
    assert names["blk.1.attn_norm.weight"] == names["output_norm.weight"] == gguf.GGMLQuantizationType.F32
    assert len(names) == 1 + 9 * config.num_hidden_layers + 1


@pytest.mark.parametrize(("outtype", "stored"), [("f32", torch.float32), ("f16", torch.float16)])
def test_transformers_loads_the_file_back_as_the_merged_model_in_its_weight_type(
    exported, tiny_model_dir: Path, outtype: str, stored: torch.dtype
) -> None:
    result = exported[outtype]
    model, tokenizer = load_gguf(result.gguf_path)
    text = "Returns are accepted within 41 days of delivery."
    assert tokenizer(text)["input_ids"] == result.tokenizer(text)["input_ids"]
    rounded = copy.deepcopy(result.model)  # the merged model with its matrices stored as the file stores them
    with torch.no_grad():
        for parameter in rounded.parameters():
            if parameter.ndim > 1:
                parameter.copy_(parameter.to(stored).float())
    merged, reloaded = _logits(result.model, result.tokenizer, text), _logits(model, tokenizer, text)
    base = _logits(AutoModelForCausalLM.from_pretrained(tiny_model_dir), result.tokenizer, text)
    assert (merged - base).abs().max() > 0.1  # the adapter changed the model: the comparison is not vacuous
    assert torch.allclose(reloaded, _logits(rounded, result.tokenizer, text), atol=1e-5)
    assert (merged - reloaded).abs().max() <= (0 if outtype == "f32" else 0.03) * merged.abs().max()
    ours = TransformersBackend(rounded, result.tokenizer).generate(CHATS, max_new_tokens=12)
    theirs = TransformersBackend(model, tokenizer).generate(CHATS, max_new_tokens=12)
    assert [g.text for g in theirs] == [g.text for g in ours]
    assert tokenizer.apply_chat_template(CHATS[0], tokenize=False) == result.tokenizer.apply_chat_template(
        CHATS[0], tokenize=False
    )


def test_q8_0_quantises_the_matrices_and_still_loads(exported) -> None:
    result = exported["q8_0"]
    names = {t.name: t.tensor_type for t in gguf.GGUFReader(result.gguf_path).tensors}
    assert names["token_embd.weight"] == names["blk.0.ffn_down.weight"] == gguf.GGMLQuantizationType.Q8_0
    assert names["blk.0.ffn_norm.weight"] == gguf.GGMLQuantizationType.F32
    assert result.gguf_path.stat().st_size < exported["f16"].gguf_path.stat().st_size
    model, tokenizer = load_gguf(result.gguf_path)
    text = "Standard shipping costs 4.85."
    merged, reloaded = _logits(result.model, result.tokenizer, text), _logits(model, tokenizer, text)
    assert torch.corrcoef(torch.stack([merged.flatten(), reloaded.flatten()]))[0, 1] > 0.99


def test_llama_cpp_reads_the_file_with_its_chat_template_when_it_is_installed(exported) -> None:
    pytest.importorskip("llama_cpp")
    from journey.models.llamacpp import LlamaCppBackend

    result = exported["f32"]
    _, file_tokenizer = load_gguf(result.gguf_path)
    generation = LlamaCppBackend(result.gguf_path, file_tokenizer).generate(CHATS[:1], max_new_tokens=12)[0]
    ids, _ = TransformersBackend(result.model, result.tokenizer).encode(CHATS[0], max_new_tokens=12)
    assert generation.prompt_tokens == len(ids) and generation.completion_tokens > 0


def test_the_modelfile_points_at_the_file_and_speaks_its_template(exported) -> None:
    result = exported["f16"]
    text = result.modelfile_path.read_text(encoding="utf-8")
    assert result.modelfile_path.parent == result.gguf_path.parent
    assert text.startswith(f"{MODELFILE_HEADER}\nFROM ./{result.gguf_path.name}\n")
    assert f'TEMPLATE """{CHATML_OLLAMA}"""' in text
    assert 'PARAMETER stop "<|im_end|>"' in text and "PARAMETER temperature 0" in text
    assert 'SYSTEM """You are the customer-support assistant of Testshop.' in text
    assert is_chatml(result.tokenizer)


def test_a_template_that_is_not_chatml_is_left_to_ollama(exported) -> None:
    from journey.models.export import modelfile

    result = exported["f16"]
    tokenizer = result.tokenizer
    chatml = tokenizer.chat_template
    tokenizer.chat_template = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
    try:
        text = modelfile(result.model, tokenizer, "x.gguf", system="Hi")
    finally:
        tokenizer.chat_template = chatml
    assert "TEMPLATE" not in text.replace("# No TEMPLATE", "") and "FROM ./x.gguf" in text


def test_an_existing_export_is_replaced_only_with_force_and_nothing_else_is_touched(
    workspace: Workspace, tmp_path: Path
) -> None:
    first = export(workspace, out=tmp_path, outtype="f32")
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UserError, match="already exists: pass --force to replace it"):
        export(workspace, out=tmp_path, outtype="f32")
    again = export(workspace, out=tmp_path, outtype="f32", force=True)
    assert again.gguf_path == first.gguf_path and (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    other = export(workspace, out=tmp_path, outtype="f16")  # another weight type beside it: its own Modelfile now
    assert f"FROM ./{other.gguf_path.name}" in other.modelfile_path.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [first.gguf_path.name, other.gguf_path.name, "Modelfile", "notes.txt"]
    )


def test_a_modelfile_journey_did_not_write_is_replaced_only_with_force(workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "Modelfile").write_text("FROM llama3\n", encoding="utf-8")
    with pytest.raises(UserError, match="Modelfile was not written by journey: pass --force to replace it"):
        export(workspace, out=tmp_path, outtype="f32")
    assert not list(tmp_path.glob("*.gguf"))  # refused before anything was written
    export(workspace, out=tmp_path, outtype="f32", force=True)
    assert (tmp_path / "Modelfile").read_text(encoding="utf-8").startswith(MODELFILE_HEADER)


def test_ctrl_c_while_writing_leaves_no_half_file(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = export(workspace, out=tmp_path, outtype="f32").gguf_path.read_bytes()

    def ctrl_c(self, *args, **kwargs) -> None:
        self.fout[0].write(b"half a tensor")
        raise KeyboardInterrupt

    monkeypatch.setattr(gguf.GGUFWriter, "write_tensors_to_file", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        export(workspace, out=tmp_path, outtype="f32", force=True)
    (path,) = [p for p in tmp_path.iterdir() if p.suffix == ".gguf"]
    assert path.read_bytes() == before  # the previous export, whole; no temporary file left beside it
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_set_up_without_adapter_exports_its_model_as_it_is(
    workspace: Workspace, tmp_path: Path, tiny_model_dir: Path
) -> None:
    result = export(workspace, "as-is", out=tmp_path, outtype="f32")
    assert result.gguf_path.name == "Testshop-as-is-F32.gguf"
    model, tokenizer = load_gguf(result.gguf_path)
    text = "Your order has been shipped."
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert torch.equal(_logits(model, tokenizer, text), _logits(base, tokenizer, text))


def test_a_model_the_writer_does_not_handle_is_one_sentence_and_no_file(exported, tmp_path: Path) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    from journey.models.export import write_gguf

    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=400))
    with pytest.raises(UserError, match="journey exports Llama-architecture models to GGUF; this one is 'gpt2'"):
        write_gguf(model, exported["f16"].tokenizer, tmp_path / "x.gguf", name="x")
    assert not list(tmp_path.iterdir())


def test_no_adapter_says_to_fine_tune_first(tmp_path: Path, tiny_model_dir: Path) -> None:
    (tmp_path / "journey.toml").write_text(f'[model]\nbase = "{tiny_model_dir}"\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"no adapter yet: run `journey finetune` first"):
        export(Workspace.load(tmp_path))


def test_the_parity_table_counts_same_answers_and_the_paired_test() -> None:
    merged = Answered("merged", ["a", "b", "c", "d"], [True, True, False, False])
    copy = Answered("file", ["a", "b", "c", "x"], [True, False, False, True])
    table = parity_table([merged, copy])
    assert table.rows[1][0] == "file" and table.rows[1][2] == "75%"
    assert table.rows[1][3:] == ["1", "1", "1"]  # gained 1, lost 1: no evidence either way
    assert "file: 3 of 4 answers identical; correctness within the noise (p = 1)." in table.notes
    broken = Answered("broken", ["x"] * 4, [False] * 4)
    many = Answered("merged", ["a"] * 8, [True] * 8)
    assert "NOT within the noise (p = 0.0078)" in parity_table([many, Answered("b", ["x"] * 8, [False] * 8)]).notes[0]
    assert parity_table([merged, broken]).rows[1][3:5] == ["0", "2"]


def test_the_verb_exports_checks_parity_and_refuses_to_overwrite(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["export", "-w", str(workspace.root), "--out", str(tmp_path), "--outtype", "f32", "--questions", "3"]
    code, output = run_main(monkeypatch, capsys, *args)
    assert code == 0, output
    assert "Does the exported file answer as the merged model?" in output
    assert "transformers' GGUF loader" in output and "100%" in output  # f32: the very same answers
    assert "ollama create journey-finetuned -f Modelfile" in output
    code, output = run_main(monkeypatch, capsys, *args)
    assert code == 2 and "already exists: pass --force to replace it." in output
    code, output = run_main(monkeypatch, capsys, *args[:-2], "--force", "--no-check")
    assert code == 0 and "Does the exported" not in output


def test_the_check_needs_eval_questions(tmp_path: Path, monkeypatch, capsys, tiny_model_dir: Path) -> None:
    (tmp_path / "journey.toml").write_text(f'[model]\nbase = "{tiny_model_dir}"\n', encoding="utf-8")
    code, output = run_main(monkeypatch, capsys, "export", "-w", str(tmp_path))
    assert code == 2 and "eval.jsonl, which does not exist; add it or pass --no-check" in output
    code, output = run_main(monkeypatch, capsys, "export", "-w", str(tmp_path), "--no-check")
    assert code == 2 and "run `journey finetune` first" in output


@pytest.mark.integration
def test_the_real_smollm2_exports_with_the_embedded_files_layout_and_answers(tmp_path: Path) -> None:
    """A random adapter on the real SmolLM2: the file has the embedded GGUF's metadata and tensors; answers alike."""
    from journey.models.loading import EMBEDDED, embedded_gguf_path, resolve_base

    (tmp_path / "journey.toml").write_text('[project]\nname = "Testshop"\n', encoding="utf-8")
    ws = Workspace.load(tmp_path)
    base = ws.settings.model.base
    torch.manual_seed(0)
    lora = LoraConfig(r=4, lora_alpha=1, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(resolve_base(base)), lora).save_pretrained(ws.adapter_dir)
    (ws.adapter_dir / "journey_training.json").write_text(json.dumps({"base": base}), encoding="utf-8")
    result = export(ws, out=tmp_path / "out", outtype="f16")

    source, ours = (gguf.GGUFReader(p) for p in (embedded_gguf_path(EMBEDDED[base]), result.gguf_path))
    for key, field in source.fields.items():
        if key.startswith(("llama.", "tokenizer.")) or key == "general.architecture":
            assert ours.fields[key].contents() == field.contents(), key
    layout = lambda reader: sorted((t.name, list(t.shape)) for t in reader.tensors)  # noqa: E731
    assert layout(ours) == layout(source)

    model, tokenizer = load_gguf(result.gguf_path)
    chats = [[{"role": "system", "content": "You are a support assistant."}, {"role": "user", "content": "Hello!"}]]
    ours_text = TransformersBackend(result.model, result.tokenizer).generate(chats, max_new_tokens=16)[0].text
    assert TransformersBackend(model, tokenizer).generate(chats, max_new_tokens=16)[0].text == ours_text
