"""Fine-tuning data: ticket validation, assistant-only labels, packing without leakage, RAFT mixing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from journey.assistant.handover import marker
from journey.errors import UserError
from journey.finetune.encode import IGNORE, encode
from journey.finetune.packing import PackedCollator, pack
from journey.finetune.raft import facts, mix, pick, with_action
from journey.finetune.run import split
from journey.knowledge import Context, LookupResult, Passage
from journey.models.messages import Transfer
from journey.training.tickets import read_tickets

SYSTEM = "You are the assistant of Testshop."


def _conversation(question: str, answer: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer},
    ]


def _write(path: Path, lines: list[object]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


def test_tickets_are_validated_by_line_and_get_the_system_prompt(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "tickets.jsonl",
        [
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]},
            {"prompt": "Shipping?", "completion": "It costs 4.85."},
            {"messages": [{"role": "tool", "content": "x"}, {"role": "assistant", "content": "y"}]},
            {"messages": [{"role": "user", "content": "Anyone there?"}]},
            "{not json",
            {"messages": [{"role": "system", "content": "Own prompt"}, {"role": "user", "content": "a"},
                          {"role": "assistant", "content": "b"}, {"role": "user", "content": "trailing"}]},
        ],
    )  # fmt: skip
    tickets = read_tickets(path, SYSTEM)

    assert [t.line for t in tickets.tickets] == [1, 2, 6]
    assert tickets.tickets[0].messages[0] == {"role": "system", "content": SYSTEM}
    assert tickets.tickets[1].messages[1:] == [
        {"role": "user", "content": "Shipping?"},
        {"role": "assistant", "content": "It costs 4.85."},
    ]
    assert tickets.tickets[2].messages[0]["content"] == "Own prompt"  # kept, not replaced
    assert tickets.tickets[2].messages[-1]["role"] == "assistant"  # the unanswered turn is cut
    reasons = {p.line: p.reason for p in tickets.skipped}
    assert "unknown role 'tool'" in reasons[3]
    assert "no assistant turn" in reasons[4]
    assert "not valid JSON" in reasons[5]


def test_empty_or_unusable_data_and_too_small_a_split_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        read_tickets(tmp_path / "missing.jsonl", SYSTEM)
    with pytest.raises(UserError, match="the file is empty"):
        read_tickets(_write(tmp_path / "empty.jsonl", []), SYSTEM)
    with pytest.raises(UserError, match=r"1 line\(s\) skipped.*no assistant turn"):
        read_tickets(_write(tmp_path / "bad.jsonl", [{"messages": [{"role": "user", "content": "x"}]}]), SYSTEM)
    with pytest.raises(UserError, match=r"Only 1 usable conversation.*validation split of 5% \(1\)"):
        split(["only one"], 0.05, seed=0)
    train, val = split(list(range(40)), 0.1, seed=0)
    assert len(val) == 4 and sorted(train + val) == list(range(40))


def test_labels_cover_assistant_replies_and_their_end_of_turn_token_only(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    conversation = _conversation("Where is my order?", "Your order has been shipped.")
    conversation += [{"role": "user", "content": "Thanks"}, {"role": "assistant", "content": "Hello!"}]
    example = encode(tokenizer, conversation, seq_len=512)

    learnt = [token for token in example.labels if token != IGNORE]
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert tokenizer.decode([t for t in learnt if t != end_of_turn]) == "Your order has been shipped.Hello!"
    assert learnt.count(end_of_turn) == 2 and learnt[-1] == end_of_turn
    assert example.input_ids[-1] != end_of_turn  # the newline after it is not learnt
    assert not example.truncated

    cut = encode(tokenizer, conversation, seq_len=len(example.input_ids) - 8)
    assert cut is not None and cut.truncated and len(cut.input_ids) == len(example.input_ids) - 8
    assert encode(tokenizer, conversation, seq_len=12) is None  # no assistant token left


def test_the_hand_over_action_is_learnt_from_its_first_token(tiny_model_dir: Path) -> None:
    """The marker is plain text in the assistant turn: every token of it is labelled, the "<" that decides
    between handing over and answering first of all."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    transfer = Transfer("billing", "refund dispute")
    example = encode(tokenizer, with_action(_conversation("Refund me!", "A colleague will reply."), transfer), 512)

    learnt = [token for token in example.labels if token != IGNORE]
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    said = tokenizer.decode([t for t in learnt if t != end_of_turn])
    assert said == f"{marker(transfer)}\nA colleague will reply."
    assert tokenizer.decode(learnt[:1]).startswith("<")


def test_packed_conversations_do_not_see_each_other(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    examples = [
        encode(tokenizer, _conversation("Where is my order?", "Your order has been shipped."), 256),
        encode(tokenizer, _conversation("Shipping?", "Standard shipping costs 4.85."), 256),
    ]
    rows = pack(examples, seq_len=256)
    assert len(rows) == 1 and sorted(rows[0]["seq_lengths"]) == sorted(len(e.input_ids) for e in examples)
    batch = PackedCollator(tokenizer.pad_token_id)([rows[0]])
    first = rows[0]["seq_lengths"][0]
    second = rows[0]["input_ids"][first : sum(rows[0]["seq_lengths"])]

    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits
        alone = model(input_ids=torch.tensor([second])).logits
        loss = model(**batch, use_cache=False).loss
    assert torch.allclose(packed[0, first : first + len(second)], alone[0], atol=1e-5)

    # no label crosses a boundary: the token before each conversation start never predicts it
    starts = (batch["position_ids"][0] == 0).nonzero().flatten()
    assert all(batch["labels"][0, s] == IGNORE for s in starts)
    # the loss is the same as for the conversations one by one (weighted by learnt tokens)
    separate = [model(input_ids=torch.tensor([e.input_ids]), labels=torch.tensor([e.labels])) for e in examples]
    weights = [sum(label != IGNORE for label in e.labels[1:]) for e in examples]
    expected = sum(o.loss.item() * w for o, w in zip(separate, weights, strict=True)) / sum(weights)
    assert loss.item() == pytest.approx(expected, rel=1e-4)
    assert batch["input_ids"].shape[1] % 64 == 0 and batch["logits_to_keep"].numel() % 64 == 0


def _passage(pid: str, text: str) -> Passage:
    return Passage(id=pid, title=f"Article {pid}", source=f"{pid}.md", text=text, score=0.5)


def test_raft_mix_drops_the_oracle_but_keeps_distractors() -> None:
    conversations = [_conversation(f"Question {i}?", "Returns are accepted within 41 days.") for i in range(200)]
    oracle = _passage("returns", "You can return items within 41 days of delivery.")
    noise = [_passage(f"n{i}", f"Shipping zone {i} takes three days.") for i in range(6)]
    lookup = LookupResult(name="order", params={"id": "LK-1"}, rows=[{"days": 41}])
    chosen = pick(len(conversations), 0.5, seed=0)
    contexts = {i: Context(passages=[oracle, noise[i % 6]], lookups=[lookup]) for i in chosen}

    mixed, counts = mix(conversations, contexts, oracle_drop=0.3, seed=0)

    assert 70 < len(chosen) < 130 and counts.with_context == len(chosen)
    assert counts.without_context == 200 - len(chosen)
    assert 0.15 < counts.oracle_dropped / counts.with_context < 0.45
    user_turns = [m[-2]["content"] for m in mixed]
    assert sum("<data>" in t for t in user_turns) == len(chosen)
    assert all(mixed[i] == conversations[i] for i in range(200) if i not in contexts)
    dropped = [t for t in user_turns if "<data>" in t and "41 days of delivery" not in t]
    assert len(dropped) == counts.oracle_dropped
    assert all(t.count("Shipping zone") == 2 and "Live record" not in t for t in dropped)  # distractor refilled
    assert all(m[-1] == conversations[0][-1] for m in mixed)  # answers are never changed
    assert facts("It costs €4.85, order LK-12, 30 days.") == {"€4.85", "LK-12", "30"}


def test_hand_overs_are_trained_with_and_without_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from journey.finetune import run as finetune_run
    from journey.workspace import DEFAULT_HANDOVER_MESSAGE, Workspace

    (tmp_path / "journey.toml").write_text("")
    workspace = Workspace.load(tmp_path)
    conversations = [_conversation(f"Question {i}?", "It costs 4.85.") for i in range(40)]
    conversations += [_conversation(f"Complaint {i}!", DEFAULT_HANDOVER_MESSAGE) for i in range(20)]
    passage = _passage("p", "The item costs 4.85.")
    asked = []

    def contexts(workspace: Workspace, batch: list, *, progress: bool) -> list[Context]:
        asked.extend(m[1]["content"] for m in batch)
        return [Context() if m[1]["content"] == "Complaint 7!" else Context(passages=[passage]) for m in batch]

    monkeypatch.setattr(finetune_run, "gather_contexts", contexts)
    forms, counts = finetune_run.augmentation_aware_forms(
        workspace, conversations, list(range(40, 60)), workspace.settings.finetune, progress=False
    )

    assert len(forms) == 60 and all(f[0][-1] == c[-1] for f, c in zip(forms, conversations, strict=True))
    assert all(len(f) == 1 for f in forms[:40])  # answers: one form, with or without context as picked
    assert all(f"Complaint {i}!" in asked for i in range(20))  # every hand-over's context was looked up
    for i, ticket_forms in enumerate(forms[40:]):
        with_data = sorted("<data>" in m[-2]["content"] for m in ticket_forms)
        # both forms, except where retrieval found nothing to answer from (the pipeline would not answer)
        assert with_data == ([False] if i == 7 else [False, True]), i
    assert counts.handover_twins == 19


def test_both_forms_of_a_ticket_fall_on_the_same_side_of_the_split() -> None:
    groups = [[f"t{i}-a", f"t{i}-b"] for i in range(50)]
    train, val = split(groups, 0.2, seed=0)
    assert len(val) == 10 and not {x for g in train for x in g} & {x for g in val for x in g}
