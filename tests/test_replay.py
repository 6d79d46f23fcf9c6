"""`journey replay` against a real `journey serve` app on loopback: customers, ratings, agents.

The model is a test double that knows the eval set: it answers some questions with their
reference (so the rating rule must see all facts) and others vaguely (so it must see none);
the server, the store, the HTTP API and the replay's clients are the real ones.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from journey.assistant import Assistant
from journey.errors import UserError
from journey.evaluate.evalset import EvalItem
from journey.evaluate.replay import AGENT_CSAT, WRONG_COMMENT, ReplayPlan, bot_was_right, call, run_replay
from journey.models.backends import Generation
from journey.workspace import Workspace
from test_serve import AGENT, AGENT_KEY, SENSITIVE, FixedKnowledge, make_workspace, running

ITEMS = [
    EvalItem("q1", "How long do I have to return an item?", "You have 41 days.", ("41 days",)),
    EvalItem("q2", "What does shipping to Spain cost?", "Shipping to Spain costs €7.90.", ("7.90",)),
    EvalItem("q3", SENSITIVE, "I have passed this to our legal team.", escalate=True),
]
VAGUE = {"q2"}  # the double answers these without their facts


class KnowingModel:
    """Test double: the reference answer for each question, except a vague one for those in VAGUE."""

    name = "knowing"

    def _answer(self, messages: list[dict]) -> str:
        asked = messages[-1]["content"]
        item = next(i for i in ITEMS if i.question in asked)
        return "Let me see, it depends." if item.id in VAGUE else item.reference

    def generate(self, conversations: list, *, max_new_tokens: int) -> list[Generation]:
        return [Generation(self._answer(messages), 1, 1, 0.0) for messages in conversations]

    def stream(self, messages: list, *, max_new_tokens: int) -> Iterator[str]:
        yield from re.split(r"(?<= )", self._answer(messages))


def knowing_assistant(workspace: Workspace) -> Assistant:
    return Assistant(workspace.settings, KnowingModel(), setup="augmented", knowledge=FixedKnowledge())


def test_the_rating_rule_needs_every_fact_and_no_needed_person() -> None:
    assert bot_was_right(ITEMS[0], "Within 41 days, yes.")
    assert not bot_was_right(ITEMS[1], "It costs a few euros.")
    assert not bot_was_right(ITEMS[2], "Sure, I can help with that.")


def test_a_replay_rates_resolves_and_hands_over_through_the_api(tmp_path: Path, tiny_model_dir: Path) -> None:
    root = make_workspace(tmp_path, tiny_model_dir, rate_limit_per_minute=1000)
    with running(root, knowing_assistant) as server:
        plan = ReplayPlan(server.url, AGENT_KEY, conversations=6, concurrency=3, agent_delay_s=0.0, reply_timeout_s=60)
        report = asyncio.run(run_replay(plan, ITEMS))
        with httpx.Client(base_url=server.url, headers=AGENT, timeout=30) as http:
            listed = http.get("/agent/api/conversations", params={"status": "all"}).json()["conversations"]
            views = {c["id"]: http.get(f"/agent/api/conversations/{c['id']}").json() for c in listed}
    assert report.errors == []
    assert report.conversations == 6
    assert report.outcomes == {"bot-resolved": 2, "asked-for-person": 2, "handed-over": 2}
    assert len(report.first_reply_s) == 6
    by_customer: dict[str, list[dict]] = {}
    for view in views.values():
        by_customer.setdefault(view["customer"], []).append(view)
    assert set(by_customer) == {"replay-q2", "replay-q3"}  # only these reached an agent
    assert all(view["status"] == "resolved" for view in views.values())
    assert {view["reason"] for view in by_customer["replay-q2"]} == {"customer"}
    messages = [m for view in by_customer["replay-q2"] for m in view["messages"]]
    agent_replies = [m["content"] for m in messages if m["role"] == "agent"]
    assert agent_replies == [ITEMS[1].reference] * 2
    ratings = [m["rating"] for m in messages if m["role"] == "bot"]
    assert [(r["value"], r["comment"]) for r in ratings] == [(-1, WRONG_COMMENT)] * 2
    assert all(view["satisfaction"]["score"] in AGENT_CSAT for view in views.values())


def test_no_server_is_one_clear_sentence(tmp_path: Path) -> None:
    plan = ReplayPlan("http://127.0.0.1:9", AGENT_KEY, conversations=1)
    with pytest.raises(UserError, match=r"No journey server answers at http://127\.0\.0\.1:9"):
        asyncio.run(run_replay(plan, ITEMS))


class SlowKnowingModel(KnowingModel):
    """The same answers, each after a pause: a replay that takes long enough to be stopped halfway."""

    def generate(self, conversations: list, *, max_new_tokens: int) -> list[Generation]:
        time.sleep(0.2)
        return super().generate(conversations, max_new_tokens=max_new_tokens)

    def stream(self, messages: list, *, max_new_tokens: int) -> Iterator[str]:
        time.sleep(0.2)
        yield from super().stream(messages, max_new_tokens=max_new_tokens)


def test_a_replay_stopped_by_sigterm_has_printed_progress_and_says_what_it_did(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    """`timeout` or a supervisor stops a replay with SIGTERM: the lines it printed so far and a last summary
    remain (a progress bar alone would leave nothing in a log)."""
    root = make_workspace(tmp_path, tiny_model_dir, rate_limit_per_minute=10_000)
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"id": "q1", "question": ITEMS[0].question, "facts": ["41 days"]}) + "\n")

    def slow(workspace: Workspace) -> Assistant:
        return Assistant(workspace.settings, SlowKnowingModel(), setup="augmented", knowledge=FixedKnowledge())

    with running(root, slow) as server:
        command = [sys.executable, "-m", "journey", "replay", "--url", server.url, "--conversations", "50"]
        command += ["--concurrency", "1", "--questions", str(questions), "-w", str(root)]
        env = os.environ | {"JOURNEY_AGENT_KEY": AGENT_KEY, "PYTHONPATH": os.pathsep.join(sys.path)}
        replay = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        lines = []
        while not any(line.startswith("replay: ") for line in lines):
            line = replay.stdout.readline()
            assert line, "".join(lines)  # ended before its first progress line
            lines.append(line)
        replay.send_signal(signal.SIGTERM)
        rest, _ = replay.communicate(timeout=60)
    output = "".join(lines) + rest
    assert "replay: 5 conversations: bot-resolved 5; first reply p50" in output  # every tenth of the 50
    stopped = re.search(r"Replay stopped after (\d+) conversations: bot-resolved (\d+)", output)
    assert stopped and int(stopped[1]) >= 5 and stopped[1] == stopped[2], output
    assert "Traceback" not in output


def test_a_dropped_connection_is_retried_only_where_a_second_send_is_harmless() -> None:
    """The server closing a reused keep-alive connection (httpx ReadError) costs a GET one retry, not the
    conversation; a POST that is not idempotent is never sent twice."""
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        if len(sent) % 2:  # every first try: the connection is gone
            raise httpx.ReadError("connection closed", request=request)
        return httpx.Response(200, json={"ok": True})

    async def calls() -> None:
        async with httpx.AsyncClient(base_url="http://replay.test", transport=httpx.MockTransport(handler)) as http:
            assert (await call(http.get, "/api/conversations/c")).json() == {"ok": True}
            assert (await call(http.post, "/messages", json={}, idempotent=True)).status_code == 200
            with pytest.raises(httpx.ReadError):
                await call(http.post, "/api/conversations", json={})

    asyncio.run(calls())
    assert sent == ["GET", "GET", "POST", "POST", "POST"]
