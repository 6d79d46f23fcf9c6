"""Hand-over as an action: finding hand-over tickets (flag, tool call, learnt sentence), the marker the
fine-tuned set-ups learn, the pipeline's decision from it (never shown to the customer, also when it is
streamed in pieces), the paired comparison with the phrase rule, and the team in the agents' inbox."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from journey.assistant.handover import ActionFilter, HandoverRule, rule_for, split_action
from journey.assistant.pipeline import Assistant
from journey.assistant.sentences import normalise
from journey.demo import create_demo_workspace
from journey.evaluate.evalset import EvalItem
from journey.evaluate.metrics import compare_deciders, score
from journey.evaluate.runs import AnswerRecord
from journey.finetune.raft import with_action
from journey.models.backends import Generation
from journey.models.messages import Transfer
from journey.training.tickets import read_tickets
from journey.workspace import DEFAULT_HANDOVER_MESSAGE, Settings, Workspace

SYSTEM = "You are the assistant of Testshop."


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _exchange(question: str, answer: str, **extra: object) -> dict:
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}], **extra}


# -- a differently-worded company: a mobile network, with courtesy sentences everywhere ----------------------
_NAMES = ("Priya", "Tom", "Aisha", "Lukas", "Mei", "Oscar", "Fatima", "Jonas")
_PLANS = (("Go 10", 12, 10), ("Go 30", 18, 30), ("Unlimited", 27, 999), ("Family 4", 45, 120))
_COURTESY = ("Is there anything else I can help you with?", "Have a lovely day!")
_HANDOVER = "I've passed your case to our {team} specialists, who will contact you within 24 hours."
_CASES = (
    ("My bill doubled this month and nobody can explain why.", "billing"),
    ("I want to dispute the early termination fee you charged me.", "billing"),
    ("There has been no signal at my house for two weeks and I work from home.", "network"),
    ("Your engineer was rude to my mother and left a mess.", "complaints"),
    ("I was promised a free phone upgrade in the shop and now you deny it.", "complaints"),
    ("Someone ported my number to another network without my permission.", "fraud"),
)
_FAQ = ("You can change your plan at any time in the Nimbus app under Settings.",)
_FAQ_ASKS = ("How do I change my plan?", "Can I switch to another plan?", "Where can I change my plan?")


def nimbus_tickets(seed: int = 0) -> list[dict]:
    """About 300 tickets: factual answers, a fact-free FAQ answer, and hand-overs to teams, each with courtesy
    sentences and a sign-off added at random."""
    rng = random.Random(seed)
    tickets = []

    def reply(body: str) -> str:
        courtesy = " ".join(s for s in _COURTESY if rng.random() < 0.4)
        return f"Hi {rng.choice(_NAMES)}, {body} {courtesy} Best, the Nimbus crew".replace("  ", " ")

    for _ in range(230):
        name, price, data = rng.choice(_PLANS)
        kind = rng.randrange(3)
        if kind == 0:
            question, body = f"How much is the {name} plan?", f"the {name} plan costs £{price} a month."
        elif kind == 1:
            day = rng.randint(1, 28)
            question, body = (
                "When is my bill due?",
                f"your next bill of £{price}.{rng.randint(10, 99)} is due on the {day}th.",
            )
        else:
            used = rng.randint(1, 9)
            question, body = f"How much data is left on my {name}?", f"you have used {used} GB of your {data} GB."
        tickets.append(_exchange(question, reply(body)))
    for _ in range(25):
        tickets.append(_exchange(rng.choice(_FAQ_ASKS), reply(_FAQ[0])))
    for _ in range(36):
        case, team = rng.choice(_CASES)
        tickets.append(_exchange(case, reply(f"I'm sorry about this. {_HANDOVER.format(team=team)}")))
    rng.shuffle(tickets)
    return tickets


# -- detection -----------------------------------------------------------------------------------------------
def test_the_demo_hand_over_sentence_is_learnt_and_nothing_else(tmp_path: Path) -> None:
    create_demo_workspace(tmp_path / "demo")
    tickets = read_tickets(tmp_path / "demo" / "data" / "tickets.jsonl", SYSTEM)

    assert [s.text for s in tickets.learned] == [DEFAULT_HANDOVER_MESSAGE]  # not the sign-off, on 485 tickets
    found = [t for t in tickets.tickets if t.handover]
    assert {t.found_by for t in found} == {"learned sentence"}
    assert all(DEFAULT_HANDOVER_MESSAGE in t.messages[-1]["content"] for t in found)
    assert len(found) == sum(DEFAULT_HANDOVER_MESSAGE in t.messages[-1]["content"] for t in tickets.tickets) > 40
    assert "by learned sentence" in tickets.handover_summary()


def test_a_differently_worded_hand_over_is_learnt_but_courtesy_and_faq_sentences_are_not(tmp_path: Path) -> None:
    records = nimbus_tickets()
    tickets = read_tickets(_write(tmp_path / "tickets.jsonl", records), SYSTEM)

    assert len(tickets.learned) == 1  # the four teams' variants are one sentence
    learned = tickets.learned[0]
    assert normalise(learned.text) == learned.normal and "specialists, who will contact you" in learned.text
    truth = ["specialists, who will" in r["messages"][-1]["content"] for r in records]
    assert [t.handover is not None for t in tickets.tickets] == truth
    # each of these recurs on more tickets than the hand-over sentence does, and none is one
    counts = {s: sum(s in r["messages"][-1]["content"] for r in records) for s in (*_COURTESY, *_FAQ)}
    assert min(counts.values()) >= 25 and all(not learned.matches(s) for s in counts)
    assert learned.facts_p < 1e-6 and learned.echo_p > 0.01


def test_without_hand_overs_nothing_is_learnt_from_courtesy_alone(tmp_path: Path) -> None:
    records = [r for r in nimbus_tickets() if "specialists" not in r["messages"][-1]["content"]]
    tickets = read_tickets(_write(tmp_path / "tickets.jsonl", records), SYSTEM)
    assert tickets.learned == [] and not tickets.handovers()
    assert "no ticket recognised" in tickets.handover_summary()


def test_flag_and_tool_call_declare_hand_overs_and_bad_tool_arguments_are_skipped_by_line(tmp_path: Path) -> None:
    call = {
        "type": "function",
        "function": {
            "name": "transfer_to_human",
            "arguments": json.dumps({"team": "billing", "reason": "disputed fee"}),
        },
    }
    bad = {"type": "function", "function": {"name": "transfer_to_human", "arguments": json.dumps({"queue": "x"})}}
    records = [
        _exchange("Where is my parcel?", "It arrives on Friday."),
        _exchange("I want my money back now!", "A colleague will look at this.", handover=True),
        {"messages": [{"role": "user", "content": "Dispute this fee."},
                      {"role": "assistant", "content": None, "tool_calls": [call]}]},
        {"messages": [{"role": "user", "content": "Help!"},
                      {"role": "assistant", "content": "One moment.", "tool_calls": [bad]}]},
    ]  # fmt: skip
    path = _write(tmp_path / "tickets.jsonl", records)
    tickets = read_tickets(path, SYSTEM)

    assert [(t.line, t.found_by) for t in tickets.tickets] == [(1, None), (2, "flag"), (3, "tool call")]
    assert tickets.tickets[2].handover == Transfer("billing", "disputed fee")
    assert tickets.tickets[2].messages[-1] == {"role": "assistant", "content": ""}
    assert [str(p) for p in tickets.skipped] == [
        f"{path}:4: message 2: transfer_to_human has unknown argument(s) queue (expected team, reason)"
    ]
    assert tickets.handovers() == {"flag": 1, "tool call": 1}


# -- the action in training data and in the pipeline ---------------------------------------------------------
def test_hand_overs_are_trained_as_the_marker_line_and_parsed_back() -> None:
    messages = [{"role": "user", "content": "I was hurt."}, {"role": "assistant", "content": "I'm so sorry."}]
    trained = with_action(messages, Transfer("safety", 'injury "on" a ride'))
    assert (
        trained[-1]["content"]
        == '<transfer_to_human team="safety" reason="injury &quot;on&quot; a ride">\nI\'m so sorry.'
    )
    assert with_action(messages, None) is messages
    assert split_action(trained[-1]["content"]) == ("I'm so sorry.", Transfer("safety", 'injury "on" a ride'))
    assert split_action("Returns take <5 days> and a <b>.") == ("Returns take <5 days> and a <b>.", None)
    assert split_action('Sure. <transfer_to_human team="bil') == ("Sure.", Transfer())  # cut off by the token limit
    assert split_action("<transfer_to_human team=billing>Hi") == ("Hi", Transfer())  # malformed: hidden all the same


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 1000])
def test_the_marker_never_reaches_the_customer_however_the_stream_splits_it(size: int) -> None:
    text = 'Hello <b> there.\n<transfer_to_human team="billing" reason="fee">\nI am sorry. <transfer_to_humanoid>'
    action, shown = ActionFilter(), []
    for start in range(0, len(text), size):
        shown.append(action.feed(text[start : start + size]))
        assert "<transfer_to_human " not in "".join(shown) and 'team="' not in "".join(shown)
    shown.append(action.close())
    assert "".join(shown) == "Hello <b> there.\nI am sorry. <transfer_to_humanoid>"
    assert action.transfer == Transfer("billing", "fee")


class _Scripted:
    """A backend that says what it is told, streamed in small pieces (the model is not under test here)."""

    name = "scripted"

    def __init__(self, text: str) -> None:
        self.text = text

    def generate(self, conversations: list, *, max_new_tokens: int) -> list[Generation]:
        return [Generation(self.text, 1, 1, 0.0) for _ in conversations]

    def stream(self, messages: list, *, max_new_tokens: int):
        yield from (self.text[i : i + 3] for i in range(0, len(self.text), 3))


def test_the_pipeline_decides_from_the_action_strips_it_and_passes_the_team_on() -> None:
    said = '<transfer_to_human team="billing" reason="disputed fee">\nI am sorry to hear that.'
    action_rule = HandoverRule("action", ("handing this conversation to",))
    assistant = Assistant(Settings(), _Scripted(said), setup="finetuned", handover=action_rule)

    reply = assistant.answer("You overcharged me again.")
    assert reply.handed_over and reply.reason == "model" and reply.transfer == Transfer("billing", "disputed fee")
    assert reply.answer == Settings().assistant.handover_message
    assert reply.handover_signals == {"action": True, "phrases": False, "sentences": False}

    pieces = list(assistant.stream("You overcharged me again."))
    final = pieces.pop()
    assert final.transfer == Transfer("billing", "disputed fee") and final.handed_over
    assert "".join(pieces) == "I am sorry to hear that." and all("<" not in p for p in pieces)

    # the action alone is a hand-over whatever rule decides, since there is nothing else to say
    sentence_rule = HandoverRule("sentences")
    bare = Assistant(Settings(), _Scripted('<transfer_to_human team="billing" reason="fee">'), setup="finetuned",
                     handover=sentence_rule).answer("Hi")  # fmt: skip
    assert bare.handed_over and bare.transfer == Transfer("billing", "fee")

    # a model that learnt the action is not handed over by a phrase it happens to say
    phrase = Assistant(Settings(), _Scripted(DEFAULT_HANDOVER_MESSAGE), setup="finetuned", handover=action_rule)
    assert not phrase.answer("Hi").handed_over
    # …while the phrase rule of the other set-ups still hands over on it
    assert Assistant(Settings(), _Scripted(DEFAULT_HANDOVER_MESSAGE), setup="as-is").answer("Hi").handed_over


def test_the_rule_follows_the_tickets_unless_phrases_are_set(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    _write(tmp_path / "data" / "tickets.jsonl", nimbus_tickets())
    (tmp_path / "journey.toml").write_text("")
    learnt = rule_for(Workspace.load(tmp_path), None)
    assert learnt.by == "sentences" and len(learnt.sentences) == 1
    said = "Hi Mei, sorry. I've passed your case to our roaming specialists, who will contact you within 24 hours."
    assert learnt.decide(learnt.signals(said, None))  # a team never seen, the same sentence
    assert not learnt.decide(learnt.signals("Is there anything else I can help you with?", None))

    (tmp_path / "journey.toml").write_text('[assistant]\nhandover_phrases = ["a colleague will call"]\n')
    assert rule_for(Workspace.load(tmp_path), None).by == "phrases"  # the user's phrases win
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "journey_training.json").write_text(json.dumps({"handover": "action"}))
    (tmp_path / "journey.toml").write_text("")
    assert rule_for(Workspace.load(tmp_path), adapter).by == "sentences"  # the learnt sentence before the action
    assert not learnt.decide(learnt.signals("Your order ships today.", Transfer()))  # a stray action decides nothing
    (tmp_path / "journey.toml").write_text('[assistant]\nhandover_by = "action"\n')
    assert rule_for(Workspace.load(tmp_path), adapter).by == "action"
    (tmp_path / "data" / "tickets.jsonl").write_text("")
    (tmp_path / "journey.toml").write_text("")
    assert rule_for(Workspace.load(tmp_path), adapter).by == "action"  # no sentence to learn: the action decides


def test_the_action_and_the_phrase_rule_are_compared_on_the_same_answers() -> None:
    def record(i: int, signals: dict[str, bool], reason: str | None = "model") -> AnswerRecord:
        handed_over = signals["action"] if reason == "model" else reason is not None
        return AnswerRecord(id=f"q{i}", setup="finetuned", fingerprint="f", question="q", answer="a",
                            handed_over=handed_over, reason=reason if handed_over or reason != "model" else None,
                            handover_signals=signals)  # fmt: skip

    items = [EvalItem(id=f"q{i}", question="q", reference="", escalate=i < 4) for i in range(8)]
    signals = [
        {"action": True, "phrases": False, "sentences": False},  # q0 escalate: only the action
        {"action": True, "phrases": True, "sentences": True},  # q1 escalate: both
        {"action": False, "phrases": False, "sentences": False},  # q2 escalate: neither
        {"action": True, "phrases": False, "sentences": True},  # q3 escalate: action and sentence
        {"action": False, "phrases": True, "sentences": False},  # q4 answer: the phrase fires wrongly
    ] + [{"action": False, "phrases": False, "sentences": False}] * 3
    records = [record(i, s) for i, s in enumerate(signals)]
    records[2] = record(2, signals[2], reason="rule:legal")  # a rule hands over before generation: all alike
    triples = [(item, r, score(item, r)) for item, r in zip(items, records, strict=True)]

    compared = compare_deciders(triples)
    assert compared["action"] == {"handed_over": 4, "precision": 1.0, "recall": 1.0}
    assert compared["phrases"] == {"handed_over": 3, "precision": 2 / 3, "recall": 0.5}
    assert compared["sentences"] == {"handed_over": 3, "precision": 1.0, "recall": 0.75}
    assert compared["paired"]["only_action_right"] == 3 and compared["paired"]["only_phrases_right"] == 0


def test_finetune_warns_when_the_eval_set_expects_hand_overs_no_ticket_shows(tmp_path: Path) -> None:
    from journey.finetune.run import handover_warning

    (tmp_path / "data").mkdir()
    (tmp_path / "journey.toml").write_text("")
    records = [r for r in nimbus_tickets() if "specialists" not in r["messages"][-1]["content"]]
    tickets = read_tickets(_write(tmp_path / "data" / "tickets.jsonl", records), SYSTEM)
    workspace = Workspace.load(tmp_path)
    assert handover_warning(workspace, tickets) is None  # no eval set: nothing expected
    _write(workspace.eval_path, [{"id": "q1", "question": "I was hurt.", "reference": "", "escalate": True}])
    assert "expects 1 hand-over(s), but no ticket was recognised" in handover_warning(workspace, tickets)
    with_flag = read_tickets(_write(workspace.tickets_path, [*records, {**records[0], "handover": True}]), SYSTEM)
    assert handover_warning(workspace, with_flag) is None


# -- the team in journey serve ---------------------------------------------------------------------------------
def test_the_team_of_a_model_hand_over_is_stored_and_shown_to_agents_never_the_marker(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    from journey.serve.store import Store
    from test_serve import AGENT, bot_replies, client, make_workspace, running, say, start

    said = '<transfer_to_human team="billing" reason="disputed fee">\nI am sorry about the fee.'

    def scripted(workspace: Workspace) -> Assistant:
        return Assistant(workspace.settings, _Scripted(said), setup="augmented", handover=HandoverRule("action"))

    root = make_workspace(tmp_path, tiny_model_dir)
    with running(root, scripted) as server, client(server) as http:
        conversation = start(http)
        say(http, conversation, "You charged me twice.")
        reply = bot_replies(http, conversation, 1)[0]
        assert (
            "transfer_to_human" not in json.dumps(reply) and reply["content"] == Settings().assistant.handover_message
        )
        inbox = http.get("/agent/api/conversations", headers=AGENT).json()["conversations"]
        assert [(c["id"], c["reason"], c["team"]) for c in inbox] == [(conversation, "model", "billing")]
        detail = http.get(f"/agent/api/conversations/{conversation}", headers=AGENT).json()
        assert detail["team"] == "billing"
    handover = Store(f"sqlite:///{root / '.journey' / 'app.sqlite'}").handover(conversation)
    assert (handover.reason, handover.team) == ("model", "billing")
    agent_js = (Path(__file__).parents[1] / "src/journey/serve/static/agent.js").read_text(encoding="utf-8")
    assert 'J.el("span", "queue-team", `Team: ${c.team}`)' in agent_js  # shown as text (escaped), in the queue


def test_journey_finetune_says_what_it_found_warns_when_hand_overs_cannot_be_learnt_and_trains_anyway(
    tmp_path: Path,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from cli_runner import run_main
    from journey.models.adapters import training_info
    from test_finetune import make_workspace

    workspace = make_workspace(tmp_path, tiny_model_dir, tickets=12)
    _write(workspace.eval_path, [{"id": "q1", "question": "I was hurt.", "reference": "", "escalate": True}])
    code, output = run_main(monkeypatch, capsys, "finetune", "--max-steps", "1", "-w", str(workspace.root))

    assert code == 0, output
    assert "Hand-overs: no ticket recognised as one" in output
    warned = caplog.text  # the CLI's log handler prints it; under pytest the records are captured here
    assert "expects 1 hand-over(s), but no ticket was recognised as one" in warned and "Training anyway" in warned
    assert training_info(workspace.adapter_dir)["handover"] == "action"  # the fine-tuned set-ups decide by it
