"""The OpenAI-compatible backend against real servers on 127.0.0.1: a `journey serve` process with the tiny
model, and a fault-injecting FastAPI server that answers as a test scripts it (429 then 200, 500s, too slow),
or a closed port. Checked: retries and their back-off, the one-sentence error, overlapping requests up to
`model.concurrency`, token usage (also streamed), the served name of each set-up, the API key kept out of
logs, and `journey evaluate` keeping its finished answers and resuming after the server failed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from rich.console import Console

from journey.assistant import load_assistant
from journey.errors import UserError
from journey.evaluate.runner import evaluate
from journey.evaluate.runs import find_run
from journey.models.openai_backend import OpenAIBackend
from journey.serve import BackgroundServer
from journey.workspace import Workspace

KEY_ENV = "JOURNEY_TEST_MODEL_KEY"
KEY = "sk-test-5e1f0c9a77"
SERVE_KEY = "test-api-key-0a6b3d"
QUESTIONS = [f"How long do I have to return item {i}?" for i in range(6)]


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FaultServer:
    """An OpenAI-compatible chat endpoint whose answers a test scripts. Each request takes the next outcome
    from `plan` (then `then`) after `delay` seconds: 200, an error status, "slow" (longer than any test's
    timeout) or "junk" (a 200 that is no chat completion). The reply echoes the question and `usage` counts
    words. It records every request it saw and the most it had in flight at once."""

    SLOW_S = 5.0

    def __init__(self) -> None:
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self.complete)
        self.reset()

    def reset(self) -> None:
        self.plan: list[int | str] = []
        self.then: int | str = 200
        self.delay = 0.0
        self.seen: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0

    async def complete(self, request: Request) -> Any:
        body = await request.json()
        self.seen.append({"body": body, "headers": dict(request.headers), "at": time.monotonic()})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            outcome = self.plan.pop(0) if self.plan else self.then
            await asyncio.sleep(self.SLOW_S if outcome == "slow" else self.delay)
        finally:
            self.in_flight -= 1
        if outcome == "junk":
            return {"status": "ok"}  # a 200 that is not a chat completion: some other service on the port
        if outcome not in (200, "slow"):
            headers = {"retry-after-ms": "20"} if outcome == 429 else {}  # 5xx: the client's own back-off
            return JSONResponse({"error": {"message": "scripted failure"}}, status_code=int(outcome), headers=headers)
        answer = "Echo: " + body["messages"][-1]["content"]
        usage = {
            "prompt_tokens": sum(len(m["content"].split()) for m in body["messages"]),
            "completion_tokens": len(answer.split()),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        head = {"id": "chatcmpl-fault", "created": 0, "model": body["model"]}
        if not body.get("stream"):
            message = {"role": "assistant", "content": answer}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return head | {"object": "chat.completion", "choices": [choice], "usage": usage}
        with_usage = (body.get("stream_options") or {}).get("include_usage", False)
        return StreamingResponse(
            self._chunks(head, answer, usage if with_usage else None), media_type="text/event-stream"
        )

    @staticmethod
    async def _chunks(head: dict, answer: str, usage: dict | None) -> Any:
        def event(choices: list, **extra: Any) -> str:
            return (
                "data: " + json.dumps(head | {"object": "chat.completion.chunk", "choices": choices, **extra}) + "\n\n"
            )

        yield event([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        for word in answer.split(" "):
            yield event([{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}])
        yield event([{"index": 0, "delta": {}, "finish_reason": "stop"}])
        if usage:
            yield event([], usage=usage)
        yield "data: [DONE]\n\n"


@pytest.fixture(scope="module")
def fault_server() -> Iterator[tuple[FaultServer, str]]:
    fault = FaultServer()
    with BackgroundServer(fault.app) as server:
        yield fault, f"{server.url}/v1"


@pytest.fixture
def fault(fault_server: tuple[FaultServer, str], monkeypatch: pytest.MonkeyPatch) -> FaultServer:
    monkeypatch.setenv(KEY_ENV, KEY)
    fault_server[0].reset()
    return fault_server[0]


@pytest.fixture
def fault_url(fault_server: tuple[FaultServer, str]) -> str:
    return fault_server[1]


def backend(url: str, **options: Any) -> OpenAIBackend:
    return OpenAIBackend(url, "served-model", api_key_env=KEY_ENV, **options)


# -- retries, time-outs and the error a user reads ------------------------------------------------------
def test_429s_are_retried_until_the_server_answers(fault: FaultServer, fault_url: str) -> None:
    fault.plan = [429, 429]
    generation = backend(fault_url, max_retries=2).generate([ask("Where is my order?")], max_new_tokens=8)[0]
    assert generation.text == "Echo: Where is my order?"
    assert [seen["headers"]["x-stainless-retry-count"] for seen in fault.seen] == ["0", "1", "2"]


def test_a_server_that_keeps_failing_ends_in_one_sentence_after_exponential_back_off(
    fault: FaultServer, fault_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    fault.then = 500
    caplog.set_level(logging.DEBUG)
    with pytest.raises(UserError) as caught:
        backend(fault_url, max_retries=2).generate([ask("Where is my order?")], max_new_tokens=8)
    assert str(caught.value) == (
        f"The model server at {fault_url} failed after 3 attempts, the last with status 500 (Internal Server Error)."
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no chained traceback
    gaps = [later["at"] - earlier["at"] for earlier, later in zip(fault.seen, fault.seen[1:], strict=False)]
    assert len(fault.seen) == 3 and gaps[0] >= 0.35 and gaps[1] >= 0.7  # 0.5 s then 1 s, less up to 25 % jitter
    assert all(seen["headers"]["authorization"] == f"Bearer {KEY}" for seen in fault.seen)
    assert KEY not in caplog.text and "Retrying request" in caplog.text  # the client logs retries, not the key


def test_a_server_too_slow_for_the_timeout_is_given_up_on(fault: FaultServer, fault_url: str) -> None:
    fault.then = "slow"
    start = time.monotonic()
    with pytest.raises(UserError, match=r"did not reply within 0\.3 s after 2 attempts \(raise model\.openai_timeout"):
        backend(fault_url, timeout=0.3, max_retries=1).generate([ask("Hello?")], max_new_tokens=8)
    assert len(fault.seen) == 2 and time.monotonic() - start < FaultServer.SLOW_S


def test_a_200_that_is_not_a_chat_completion_is_said_so(fault: FaultServer, fault_url: str) -> None:
    fault.then = "junk"
    with pytest.raises(UserError, match=r"answered with no reply in it: is model\.openai_base_url an OpenAI-compat"):
        backend(fault_url).generate([ask("Hello?")], max_new_tokens=8)


def test_a_closed_port_is_one_sentence_naming_the_url_after_the_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(UserError) as caught:
        backend(url, max_retries=1).generate([ask("Hello?")], max_new_tokens=8)
    assert str(caught.value) == (
        f"The model server at {url} could not be reached after 2 attempts: "
        "is it running, and is model.openai_base_url right?"
    )


def test_without_its_key_variable_no_other_key_is_sent(
    fault: FaultServer, fault_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key-never-send")
    backend(fault_url).generate([ask("Hello?")], max_new_tokens=8)
    assert fault.seen[0]["headers"]["authorization"] == "Bearer EMPTY"


# -- concurrency, order and usage ------------------------------------------------------------------------
@pytest.mark.parametrize("concurrency", [1, 4])
def test_generate_keeps_up_to_concurrency_requests_in_flight_and_returns_replies_in_order(
    fault: FaultServer, fault_url: str, concurrency: int
) -> None:
    fault.delay = 0.6 if concurrency > 1 else 0.05  # long enough to overlap on a busy machine
    replies = backend(fault_url, concurrency=concurrency).generate([ask(q) for q in QUESTIONS], max_new_tokens=8)
    assert [r.text for r in replies] == [f"Echo: {q}" for q in QUESTIONS]
    assert fault.max_in_flight == concurrency
    assert [(r.prompt_tokens, r.completion_tokens) for r in replies] == [(9, 10)] * len(QUESTIONS)
    assert {seen["body"]["max_tokens"] for seen in fault.seen} == {8}


def test_the_limit_holds_across_threads_sharing_a_backend(fault: FaultServer, fault_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fault.delay = 0.6
    shared = backend(fault_url, concurrency=3)
    with ThreadPoolExecutor(6) as callers:
        list(callers.map(lambda q: shared.generate([ask(q)], max_new_tokens=8), QUESTIONS))
    assert fault.max_in_flight == 3 and len(fault.seen) == len(QUESTIONS)


def test_streaming_yields_the_pieces_and_records_the_servers_usage(fault: FaultServer, fault_url: str) -> None:
    stream = backend(fault_url).stream(ask("Where is my order?"), max_new_tokens=8)
    pieces = list(stream)
    assert pieces == ["Echo: ", "Where ", "is ", "my ", "order? "]
    assert fault.seen[0]["body"]["stream_options"] == {"include_usage": True}
    assert stream.generation is not None
    assert (stream.generation.text, stream.generation.prompt_tokens, stream.generation.completion_tokens) == (
        "Echo: Where is my order?",
        4,
        5,
    )


def test_a_streamed_reply_failing_after_its_retries_is_one_sentence(fault: FaultServer, fault_url: str) -> None:
    fault.plan = [503]
    fault.then = 502
    with pytest.raises(UserError, match=r"failed after 1 attempt, the last with status 503 \(Service Unavailable\)"):
        list(backend(fault_url, max_retries=0).stream(ask("Hi"), max_new_tokens=8))


# -- set-ups: the model name the server serves each under ----------------------------------------------
def openai_workspace(root: Path, url: str, model: str = "") -> Path:
    """A workspace whose model is the server at `url` (`model`: more [model] lines), with QUESTIONS to evaluate."""
    (root / "journey.toml").write_text(
        f'[project]\nname = "Testshop"\n[model]\nbackend = "openai"\nopenai_base_url = "{url}"\n'
        f'openai_api_key_env = "{KEY_ENV}"\nmax_new_tokens = 8\n{model}\n[simulation]\ndays = 3\n',
        encoding="utf-8",
    )
    lines = [
        {"id": f"q{i}", "question": q, "facts": ["41 days"], "reference": "41 days"} for i, q in enumerate(QUESTIONS)
    ]
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "eval.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("served", "expected"),
    [
        ("", {"as-is": "base-7b", "finetuned": "journey-finetuned"}),
        (
            'openai_served_models = {finetuned = "support-lora-v2"}',
            {"as-is": "base-7b", "finetuned": "support-lora-v2"},
        ),
    ],
)
def test_each_setup_asks_for_the_name_the_server_serves_it_under(
    tmp_path: Path, fault: FaultServer, fault_url: str, served: str, expected: dict[str, str]
) -> None:
    workspace = Workspace.load(openai_workspace(tmp_path, fault_url, f'openai_model = "base-7b"\n{served}'))
    workspace.adapter_dir.mkdir(parents=True)  # fine-tuned here; the server serves it (vLLM: a LoRA module)
    (workspace.adapter_dir / "adapter_config.json").write_text("{}")
    for setup in expected:
        load_assistant(workspace, setup).answer("Where is my order?")
    assert [seen["body"]["model"] for seen in fault.seen] == list(expected.values())


def test_a_served_name_for_an_unknown_setup_is_refused(tmp_path: Path) -> None:
    openai_workspace(tmp_path, "http://127.0.0.1:1/v1", 'openai_served_models = {magic = "x"}')
    with pytest.raises(UserError, match=r"openai_served_models: Value error, unknown set-up\(s\) \['magic'\]"):
        Workspace.load(tmp_path)


# -- journey evaluate: concurrent, keeps finished answers, resumes -------------------------------------
def test_evaluate_overlaps_requests_keeps_finished_answers_when_the_server_fails_and_resumes(
    tmp_path: Path, fault: FaultServer, fault_url: str
) -> None:
    workspace = Workspace.load(openai_workspace(tmp_path, fault_url, "concurrency = 3\nopenai_max_retries = 0"))
    fault.delay = 0.6
    fault.plan = [200] * 4
    fault.then = 500
    with pytest.raises(UserError, match="failed after 1 attempt, the last with status 500"):
        evaluate(workspace, ["as-is"], console=Console(quiet=True))
    run = find_run(workspace, None)
    kept = {record.id for record in run.records()}
    assert len(kept) == 4 and fault.max_in_flight == 3  # every answer that came back is on disk
    assert not run.manifest()["finished"]

    fault.reset()
    fault.delay = 0.05
    changed = Workspace.load(openai_workspace(tmp_path, fault_url, "concurrency = 2\nopenai_max_retries = 3"))
    results = evaluate(changed, ["as-is"], console=Console(quiet=True))  # resumes: pace settings keep answers
    assert results.run.id == run.id and len(fault.seen) == len(QUESTIONS) - 4
    records = results.run.records()
    assert len(records) == len(QUESTIONS) and all(r.answer.startswith("Echo: ") for r in records)
    assert all(r.prompt_tokens > 0 and r.completion_tokens == len(r.answer.split()) for r in records)
    assert results.metrics["as-is"].overall.questions_per_min is not None


def test_journey_evaluate_against_a_closed_port_prints_one_line_and_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    root = openai_workspace(tmp_path, url, "openai_max_retries = 0")
    from journey.cli import main

    monkeypatch.setattr("sys.argv", ["journey", "evaluate", "--setups", "as-is", "-w", str(root)])
    with pytest.raises(SystemExit) as exited:
        main()
    output = " ".join(capsys.readouterr().err.split())
    assert exited.value.code == 2 and "Traceback" not in output
    assert f"error: The model server at {url} could not be reached after 1 attempt" in output


# -- against a real `journey serve` process ---------------------------------------------------------------
@pytest.fixture(scope="module")
def journey_server(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Iterator[tuple[str, Path]]:
    """`journey serve --setup as-is` with the tiny model in its own process; its /v1 URL and workspace."""
    root = tmp_path_factory.mktemp("served")
    (root / "journey.toml").write_text(
        f'[project]\nname = "Testshop"\n[model]\nbase = "{tiny_model_dir}"\nmax_new_tokens = 8\n'
        "[serve]\nrate_limit_per_minute = 1000\n",
        encoding="utf-8",
    )
    port = free_port()
    env = {**os.environ, "JOURNEY_API_KEYS": SERVE_KEY, "JOURNEY_AGENT_KEY": "agent-key-unused"}
    command = [sys.executable, "-m", "journey", "serve", "-w", str(root), "--setup", "as-is", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not _healthy(port):
            assert process.poll() is None and time.monotonic() < deadline, "journey serve did not start"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1", root
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_against_journey_serve_replies_usage_and_streaming_match_the_in_process_assistant(
    journey_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = journey_server
    monkeypatch.setenv(KEY_ENV, SERVE_KEY)
    served = OpenAIBackend(url, "as-is", api_key_env=KEY_ENV, concurrency=4)
    questions = QUESTIONS[:3]
    replies = served.generate([ask(q) for q in questions], max_new_tokens=8)
    local = load_assistant(Workspace.load(root), "as-is")
    expected = [local.answer(q) for q in questions]
    assert [r.text for r in replies] == [e.answer for e in expected]
    assert [(r.prompt_tokens, r.completion_tokens) for r in replies] == [
        (e.prompt_tokens, e.completion_tokens) for e in expected
    ]
    assert all(r.prompt_tokens > 0 for r in replies)
    stream = served.stream(ask(questions[0]), max_new_tokens=8)
    assert "".join(stream).strip() == expected[0].answer
    assert stream.generation is not None and stream.generation.text == expected[0].answer


def test_against_journey_serve_a_wrong_key_says_which_variable_to_check(
    journey_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = journey_server
    monkeypatch.setenv(KEY_ENV, "not-the-key")
    with pytest.raises(UserError) as caught:
        OpenAIBackend(url, "as-is", api_key_env=KEY_ENV).generate([ask("Hello?")], max_new_tokens=8)
    assert str(caught.value) == (
        f"The model server at {url} failed after 1 attempt, the last with status 401 (Unauthorized): "
        f"check the key in ${KEY_ENV}."
    )
    assert "not-the-key" not in str(caught.value)


def test_the_judge_grades_concurrency_answers_at_once(tmp_path: Path, fault: FaultServer, fault_url: str) -> None:
    from journey.evaluate.evalset import EvalItem
    from journey.evaluate.judge import judge_run, load_judgements
    from journey.evaluate.runs import AnswerRecord, create_run

    run = create_run(Workspace.load(openai_workspace(tmp_path, fault_url)), "judged")
    items = [EvalItem(f"q{i}", q, reference="41 days") for i, q in enumerate(QUESTIONS)]
    records = [
        AnswerRecord(id=i.id, setup="as-is", fingerprint="f", question=i.question, answer="41 days", handed_over=False)
        for i in items
    ]
    fault.delay = 0.6
    assert judge_run(backend(fault_url, concurrency=3), run, items, records) == len(QUESTIONS)
    assert fault.max_in_flight == 3
    # the grade is the echo's first digit 1-5: the question's item number (item 0: the 4 of "41 days"),
    # so each grade is its own question's
    expected = {(f"q{i}", "as-is", "f"): (i - 1) / 4 for i in range(1, 6)} | {("q0", "as-is", "f"): 0.75}
    assert load_judgements(run) == expected
