"""`journey serve` over real HTTP: the OpenAI client, the chat API and its event stream, the agent inbox,
hand-over rules, persistence across restarts, bad input and the operational guards.

Every test starts uvicorn on a free loopback port with the tiny test model. The knowledge
index is not needed here: `FixedKnowledge` is a test double that gives every question the
same passage, so answers carry a citation.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import openai
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from journey import cli
from journey.assistant import Assistant, load_assistant
from journey.errors import UserError
from journey.knowledge.context import Context, Passage
from journey.knowledge.identity import Identity
from journey.serve import BackgroundServer, create_app
from journey.serve.logs import JsonFormatter, request_id
from journey.serve.ratelimit import RateLimiter
from journey.serve.store import Base, Conflict, Store
from journey.workspace import DEFAULT_HANDOVER_MESSAGE, Workspace

AGENT_KEY = "test-agent-key-7d41a9"
AGENT = {"Authorization": f"Bearer {AGENT_KEY}"}
API_KEY = "test-api-key-3f9c1e"
DATA_KEY = "test-data-key-81b2d0"
API = {"Authorization": f"Bearer {API_KEY}"}
QUESTION = "How long do I have to return an item?"
SENSITIVE = "I will take legal action about my refund."
CITATION = "Returns policy [kb-returns#1]"
CONTEXT = Context([Passage("kb-returns#1", "Returns policy", "knowledge/returns.md", "Returns: 41 days.", 0.9)])


class FixedKnowledge:
    """Test double for the knowledge index: every question gets the same passage."""

    def gather(self, question: str, history: list[dict[str, str]] | None = None, *, identity: Identity) -> Context:
        return CONTEXT


def cited_assistant(workspace: Workspace) -> Assistant:
    """The tiny model with knowledge on (the double above), served as the `augmented` set-up."""
    backend = load_assistant(workspace, "as-is").backend
    return Assistant(workspace.settings, backend, setup="augmented", knowledge=FixedKnowledge())


def make_workspace(root: Path, model_dir: Path, **serve: Any) -> Path:
    """A workspace serving the tiny model, with a `legal` escalation rule and the given [serve] settings."""
    lines = [
        f'[project]\nname = "Testshop"\n[model]\nbase = "{model_dir}"\nmax_new_tokens = 8\n',
        '[[assistant.escalation]]\nname = "legal"\nkeywords = ["lawyer", "legal action"]\n',
        "[serve]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in serve.items()),
    ]
    (root / "journey.toml").write_text("".join(lines), encoding="utf-8")
    return root


@contextmanager
def running(
    root: Path,
    assistant: Callable[[Workspace], Assistant] = cited_assistant,
    *,
    agent_key: str | None = AGENT_KEY,
    setups: str = "augmented",
    env: dict[str, str] | None = None,
) -> Iterator[BackgroundServer]:
    """Serve `setups` (the first by `assistant`) with the test keys and the environment variables `env`."""
    workspace = Workspace.load(root)
    variables = {"JOURNEY_API_KEYS": API_KEY, "JOURNEY_DATA_KEYS": DATA_KEY, "JOURNEY_AGENT_KEY": agent_key}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (variables | (env or {})).items():
            if value:
                patch.setenv(name, value)
            else:
                patch.delenv(name, raising=False)
        app = create_app(workspace, setups, assistant=assistant(workspace))
    with BackgroundServer(app) as server:
        yield server


@pytest.fixture
def workspace(tmp_path: Path, tiny_model_dir: Path) -> Path:
    return make_workspace(tmp_path, tiny_model_dir)


@pytest.fixture
def server(workspace: Path) -> Iterator[BackgroundServer]:
    """A fresh server for tests that change state."""
    with running(workspace) as server:
        yield server


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Iterator[BackgroundServer]:
    """One server for the tests that only read or are refused."""
    with running(make_workspace(tmp_path_factory.mktemp("serve"), tiny_model_dir)) as server:
        yield server


def client(server: BackgroundServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30)


@pytest.fixture
def http(server: BackgroundServer) -> Iterator[httpx.Client]:
    with client(server) as http:
        yield http


@pytest.fixture
def shared_http(shared: BackgroundServer) -> Iterator[httpx.Client]:
    with client(shared) as http:
        yield http


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def start(http: httpx.Client, customer: str = "Ada") -> str:
    response = http.post("/api/conversations", json={"customer": customer})
    assert response.status_code == 201
    return response.json()["id"]


def say(http: httpx.Client, conversation: str, text: str, client_id: str | None = None) -> dict:
    response = http.post(f"/api/conversations/{conversation}/messages", json={"content": text, "client_id": client_id})
    assert response.status_code == 202, response.text
    return response.json()


def transcript(http: httpx.Client, conversation: str) -> list[dict]:
    return http.get(f"/api/conversations/{conversation}").json()["messages"]


def bot_replies(http: httpx.Client, conversation: str, count: int) -> list[dict]:
    """Wait until the conversation holds `count` bot messages; return them."""
    return wait_for(
        lambda: (b := [m for m in transcript(http, conversation) if m["role"] == "bot"]) and len(b) >= count and b
    )


def idle(http: httpx.Client) -> None:
    """Wait until no generation is queued or running, then a little longer for its reply to be stored."""
    wait_for(lambda: http.get("/healthz").json()["pending"] == 0)
    time.sleep(0.3)


def inbox_action(http: httpx.Client, conversation: str, action: str, agent: str = "Sam", **body: str) -> httpx.Response:
    return http.post(f"/agent/api/conversations/{conversation}/{action}", json={"agent": agent, **body}, headers=AGENT)


# -- OpenAI-compatible API ------------------------------------------------------------------------
def test_openai_client_lists_the_setups_and_answers_with_citations(workspace: Path) -> None:
    with running(workspace, setups="augmented,as-is") as server:
        _answers_with_citations(server)


def _answers_with_citations(server: BackgroundServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY)
    assert [model.id for model in client.models.list()] == ["augmented", "as-is"]

    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    completion = client.chat.completions.create(model="augmented", messages=messages)
    choice = completion.choices[0]
    assert (completion.object, choice.message.role, choice.finish_reason) == ("chat.completion", "assistant", "stop")
    assert completion.usage.prompt_tokens > 0
    extra = completion.model_extra["journey"]
    assert extra["handed_over"] is False
    assert extra["citations"] == [CITATION]
    assert extra["passages"] == [
        {"id": "kb-returns#1", "title": "Returns policy", "source": "knowledge/returns.md", "score": 0.9}
    ]  # named, not quoted: the texts go to data keys only
    data = openai.OpenAI(base_url=f"{server.url}/v1", api_key=DATA_KEY)
    raw = data.chat.completions.create(model="augmented", messages=messages).model_extra["journey"]
    assert raw["passages"][0]["text"] == "Returns: 41 days."

    chunks = list(client.chat.completions.create(model="augmented", messages=messages, stream=True))
    assert all(chunk.object == "chat.completion.chunk" and chunk.id == chunks[0].id for chunk in chunks)
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert streamed.strip() == choice.message.content  # greedy decoding: the same text either way
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["journey"]["citations"] == [CITATION]

    # The other set-up the server was started with; `as-is` has no knowledge, so no citations.
    plain = client.chat.completions.create(model="as-is", messages=[{"role": "user", "content": "hello"}])
    assert plain.model_extra["journey"]["citations"] == []


def test_openai_stream_carries_the_hand_over_decision(server: BackgroundServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY)
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!"}]
    stream = client.chat.completions.create(
        model="augmented", messages=[*history, {"role": "user", "content": SENSITIVE}], stream=True
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == DEFAULT_HANDOVER_MESSAGE
    extra = chunks[-1].model_extra["journey"]
    assert (extra["handed_over"], extra["reason"], extra["answer"]) == (True, "rule:legal", DEFAULT_HANDOVER_MESSAGE)


def test_a_model_not_served_is_a_404_in_openais_error_shape(server: BackgroundServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0)
    for model in ("gpt-4o", "as-is", "scratch"):  # unknown, and set-ups this server was not started with
        with pytest.raises(openai.NotFoundError, match=r"not served here \(served: augmented\)") as caught:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        assert caught.value.code == "model_not_found"


# -- bad input ---------------------------------------------------------------------------------------
HUGE = "x" * 5000
BAD_REQUESTS = [
    ("POST", "/v1/chat/completions", {"content": b'{"model": "augmented", "messages": ['}, 400),
    ("POST", "/v1/chat/completions", {"json": ["not", "an", "object"]}, 400),
    ("POST", "/v1/chat/completions", {"json": {"model": "augmented", "messages": []}}, 400),
    (
        "POST",
        "/v1/chat/completions",
        {"json": {"model": "augmented", "messages": [{"role": "user", "content": " "}]}},
        400,
    ),
    (
        "POST",
        "/v1/chat/completions",
        {"json": {"model": "augmented", "messages": [{"role": "tool", "content": "x"}]}},
        400,
    ),
    (
        "POST",
        "/v1/chat/completions",
        {"json": {"model": "augmented", "messages": [{"role": "assistant", "content": "x"}]}},
        400,
    ),
    (
        "POST",
        "/v1/chat/completions",
        {"json": {"model": "augmented", "messages": [{"role": "user", "content": HUGE}]}},
        413,
    ),
    ("POST", "/v1/chat/completions", {"content": b"{" + b" " * 300_000 + b"}"}, 413),
    ("POST", "/api/conversations", {"content": b"{oops"}, 400),
    ("POST", "/api/conversations/does-not-exist/messages", {"json": {"content": "hello"}}, 404),
    ("GET", "/api/conversations/does-not-exist", {}, 404),
    ("GET", "/api/conversations/does-not-exist/events", {}, 404),
    ("GET", "/no/such/page", {}, 404),
    ("DELETE", "/v1/models", {}, 405),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), BAD_REQUESTS)
def test_bad_requests_get_the_right_status_and_a_json_error(
    shared_http: httpx.Client, method: str, path: str, kwargs: dict, status: int
) -> None:
    headers = {"Content-Type": "application/json"} if "content" in kwargs else {}
    response = shared_http.request(method, path, headers=headers | API, **kwargs)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["message"] and error["type"] and error["code"]
    assert "Traceback" not in response.text and 'File "' not in response.text


def test_a_body_sent_in_chunks_is_limited_too(shared_http: httpx.Client) -> None:
    chunks = (b"x" * 65_536 for _ in range(8))  # no Content-Length: the server counts as it reads
    response = shared_http.post("/api/conversations", content=chunks, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"


def test_customer_messages_are_checked_for_emptiness_size_and_id_format(shared_http: httpx.Client) -> None:
    conversation = start(shared_http)
    url = f"/api/conversations/{conversation}/messages"
    assert shared_http.post(url, json={"content": "   "}).status_code == 400
    assert shared_http.post(url, json={"content": HUGE}).json()["error"]["code"] == "message_too_long"
    assert shared_http.post(url, json={"content": "hi", "client_id": "../../etc"}).status_code == 400
    assert shared_http.post("/api/conversations", json={"customer": "x" * 500}).status_code == 400


@pytest.mark.parametrize(
    "path",
    ["/static/../store.py", "/static/%2e%2e/store.py", "/static/..%2fapp.py", "/static/%2e%2e%2fmigrations%2fenv.py"],
)
def test_static_files_do_not_leak_the_package(shared: BackgroundServer, path: str) -> None:
    address = urlsplit(shared.url)
    connection = HTTPConnection(address.hostname, address.port, timeout=10)
    connection.request("GET", path)  # sent as written, not normalised by the client
    response = connection.getresponse()
    body = response.read().decode()
    assert response.status == 404 and json.loads(body)["error"]["code"] == "not_found"
    assert "import" not in body


def test_the_pages_and_their_assets_are_served_with_a_strict_content_policy(shared_http: httpx.Client) -> None:
    for path, kind in [
        ("/", "text/html"),
        ("/agent", "text/html"),
        ("/static/chat.js", "javascript"),
        ("/static/style.css", "text/css"),
    ]:
        response = shared_http.get(path)
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "innerHTML" not in shared_http.get("/static/chat.js").text + shared_http.get("/static/agent.js").text


# -- the agent key ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": AGENT_KEY}, {"Authorization": f"Basic {AGENT_KEY}"}],
)
def test_the_inbox_api_needs_the_agent_key(shared_http: httpx.Client, headers: dict[str, str]) -> None:
    for method, path in [("GET", "/agent/api/conversations"), ("POST", "/agent/api/conversations/x/claim")]:
        response = shared_http.request(method, path, headers=headers, json={"agent": "Sam"})
        assert response.status_code == 401
        assert response.json()["error"] == {
            "message": "Missing or invalid agent key.",
            "type": "authentication_error",
            "param": None,
            "code": "invalid_agent_key",
        }
        assert response.headers["www-authenticate"] == "Bearer"
    assert shared_http.get("/agent/api/conversations", headers=AGENT).status_code == 200


def test_without_a_configured_key_the_inbox_api_refuses_everyone(workspace: Path) -> None:
    with running(workspace, agent_key=None) as server, client(server) as http:
        assert http.get("/agent/api/conversations", headers={"Authorization": "Bearer"}).status_code == 401
        assert http.get("/agent/api/conversations", headers={"Authorization": "Bearer None"}).status_code == 401


# -- conversations, hand-over and the inbox ---------------------------------------------------------------------
def test_the_event_stream_delivers_the_bot_tokens_the_cited_answer_and_agent_replies_live(http: httpx.Client) -> None:
    conversation = start(http)
    events: list[tuple[str, dict]] = []

    def listen() -> None:
        with http.stream("GET", f"/api/conversations/{conversation}/events") as stream:
            name = None
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name:
                    events.append((name, json.loads(line[6:])))
                    if name == "message" and events[-1][1]["role"] == "agent":
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    wait_for(lambda: events)  # subscribed: the stream opens with the status
    asked = say(http, conversation, QUESTION, client_id="q1")
    wait_for(lambda: any(name == "message" and data["role"] == "bot" for name, data in events))
    say(http, conversation, SENSITIVE)
    wait_for(lambda: any(e == ("status", {"status": "waiting", "agent": None}) for e in events))
    assert inbox_action(http, conversation, "claim").status_code == 200
    assert inbox_action(http, conversation, "messages", content="Hello, Sam here.").status_code == 201
    listener.join(timeout=20)

    names = [name for name, _ in events]
    assert names[0] == "status" and "delta" in names
    messages = [data for name, data in events if name == "message"]
    assert [m["role"] for m in messages] == ["customer", "bot", "customer", "bot", "agent"]
    assert messages[0] == asked and messages[0]["client_id"] == "q1"
    assert messages[1]["sources"] == [CITATION] and "passages" not in messages[1]  # customers see citations only
    assert messages[3]["handed_over"] and messages[3]["content"] == DEFAULT_HANDOVER_MESSAGE
    assert ("status", {"status": "agent", "agent": "Sam"}) in events
    assert messages[4]["author"] == "Sam" and messages[4]["content"] == "Hello, Sam here."


def test_a_hand_over_waits_in_the_inbox_and_the_bot_stays_silent_until_handed_back(http: httpx.Client) -> None:
    conversation = start(http, "Grace")
    say(http, conversation, QUESTION)
    bot_replies(http, conversation, 1)
    say(http, conversation, SENSITIVE)
    say(http, conversation, "Hello? Anyone there?")  # queued behind the hand-over: must stay unanswered
    bot_replies(http, conversation, 2)
    idle(http)
    assert [m["role"] for m in transcript(http, conversation)] == ["customer", "bot", "customer", "bot", "customer"]

    inbox = http.get("/agent/api/conversations", headers=AGENT).json()["conversations"]
    assert [(c["id"], c["customer"], c["status"], c["reason"]) for c in inbox] == [
        (conversation, "Grace", "waiting", "rule:legal")
    ]
    assert inbox[0]["waiting_s"] >= 0 and inbox[0]["last_message"]["content"] == "Hello? Anyone there?"
    detail = http.get(f"/agent/api/conversations/{conversation}", headers=AGENT).json()
    first_answer = detail["messages"][1]
    assert first_answer["passages"][0]["text"] == "Returns: 41 days." and first_answer["sources"] == [CITATION]
    assert detail["messages"][3]["reason"] == "rule:legal"

    assert inbox_action(http, conversation, "messages", content="hi").status_code == 409  # claim first
    assert inbox_action(http, conversation, "claim").json()["agent"] == "Sam"
    assert inbox_action(http, conversation, "claim", agent="Kim").status_code == 409
    assert inbox_action(http, conversation, "resolve", agent="Kim").status_code == 409
    inbox_action(http, conversation, "messages", content="Sorry to hear that. Let me check.")
    say(http, conversation, "Thanks, I'll wait.")
    idle(http)
    assert [m["role"] for m in transcript(http, conversation)][-2:] == ["agent", "customer"]  # still no bot

    assert inbox_action(http, conversation, "handback").json()["status"] == "bot"
    assert http.get("/agent/api/conversations", headers=AGENT).json()["conversations"] == []
    say(http, conversation, QUESTION)
    assert len(bot_replies(http, conversation, 3)) == 3  # the bot answers again


def test_resolving_closes_the_case_and_a_new_message_goes_to_the_bot(http: httpx.Client) -> None:
    conversation = start(http)
    say(http, conversation, SENSITIVE)
    bot_replies(http, conversation, 1)
    assert inbox_action(http, conversation, "resolve").json()["status"] == "resolved"  # also without claiming
    assert inbox_action(http, conversation, "claim").status_code == 409
    resolved = http.get("/agent/api/conversations?status=resolved", headers=AGENT).json()["conversations"]
    assert [c["id"] for c in resolved] == [conversation]
    say(http, conversation, QUESTION)
    bot_replies(http, conversation, 2)
    assert http.get(f"/api/conversations/{conversation}").json()["status"] == "bot"


def test_a_repeated_client_id_stores_the_message_once(http: httpx.Client) -> None:
    conversation = start(http)
    first = say(http, conversation, QUESTION, client_id="retry-1")
    again = say(http, conversation, QUESTION, client_id="retry-1")
    assert first == again
    bot_replies(http, conversation, 1)
    idle(http)
    assert [m["role"] for m in transcript(http, conversation)] == ["customer", "bot"]


def test_the_bot_cannot_write_into_a_handed_over_conversation(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'app.sqlite'}")
    conversation = store.create_conversation("Ada", "as-is")
    store.add_customer_message(conversation.id, SENSITIVE, None)
    store.add_bot_reply(conversation.id, DEFAULT_HANDOVER_MESSAGE, {}, "rule:legal")
    with pytest.raises(Conflict):
        store.add_bot_reply(conversation.id, "I can help!", {}, None)


# -- persistence -------------------------------------------------------------------------------------------------
def test_a_restart_loses_nothing_and_answers_what_was_left_unanswered(workspace: Path) -> None:
    with running(workspace) as server, client(server) as http:
        conversation = start(http, "Lin")
        say(http, conversation, QUESTION)
        bot_replies(http, conversation, 1)
        say(http, conversation, SENSITIVE)
        bot_replies(http, conversation, 2)
        inbox_action(http, conversation, "claim")
        inbox_action(http, conversation, "messages", content="I'm on it.")
        other = start(http, "Mo")
        before = transcript(http, conversation)

    # While the server is down, a customer message arrives in the database (as if the server
    # stopped before answering it): the next start answers it.
    store = Store(f"sqlite:///{workspace / '.journey' / 'app.sqlite'}")
    store.add_customer_message(other, QUESTION, None)
    store.close()

    with running(workspace) as server, client(server) as http:
        assert transcript(http, conversation) == before
        inbox = http.get("/agent/api/conversations", headers=AGENT).json()["conversations"]
        assert [(c["id"], c["status"], c["agent"]) for c in inbox] == [(conversation, "agent", "Sam")]
        assert bot_replies(http, other, 1)[0]["sources"] == [CITATION]
    actions = Store(f"sqlite:///{workspace / '.journey' / 'app.sqlite'}").actions(conversation)
    assert [(a.agent, a.action) for a in actions] == [("Sam", "claim"), ("Sam", "reply")]


def test_the_migrations_build_exactly_the_models_schema(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'nested' / 'app.sqlite'}")
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    Store(f"sqlite:///{tmp_path / 'nested' / 'app.sqlite'}")  # a second start migrates nothing and fails nothing


# -- operations -------------------------------------------------------------------------------------------------------
def test_healthz_and_request_ids(shared_http: httpx.Client) -> None:
    health = shared_http.get("/healthz")
    assert health.json() == {"status": "ok", "setup": "augmented", "pending": 0}
    assert len(health.headers["x-request-id"]) == 32
    assert shared_http.get("/healthz", headers={"X-Request-ID": "trace-42"}).headers["x-request-id"] == "trace-42"
    assert shared_http.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["x-request-id"] != "<script>"


def test_access_logs_are_json_with_request_ids_and_never_the_agent_key(
    shared_http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="journey.serve"):
        shared_http.get("/agent/api/conversations", headers={**AGENT, "X-Request-ID": "req-1"})
        shared_http.get("/agent/api/conversations", headers={"Authorization": "Bearer guess"})
    records = [r for r in caplog.records if r.name == "journey.serve.access"]
    assert [(r.path, r.status) for r in records] == [
        ("/agent/api/conversations", 200),
        ("/agent/api/conversations", 401),
    ]
    token = request_id.set("req-1")
    line = json.loads(JsonFormatter().format(records[0]))
    request_id.reset(token)
    assert line["request_id"] == "req-1" and line["status"] == 200 and line["method"] == "GET"
    assert AGENT_KEY not in caplog.text and "guess" not in caplog.text


def test_generation_runs_off_the_event_loop_and_the_queue_is_bounded(tmp_path: Path, tiny_model_dir: Path) -> None:
    release = threading.Event()

    class GatedBackend:
        """Blocks every generation until released, to hold requests in the queue."""

        name = "gated"

        def generate(self, conversations: list, *, max_new_tokens: int) -> list:
            raise NotImplementedError

        def stream(self, messages: list, *, max_new_tokens: int) -> Iterator[str]:
            release.wait(30)
            yield "Done."

    def gated(workspace: Workspace) -> Assistant:
        return Assistant(workspace.settings, GatedBackend(), setup="augmented", knowledge=FixedKnowledge())

    root = make_workspace(tmp_path, tiny_model_dir, max_pending=2)
    with running(root, gated) as server, client(server) as http:
        conversations = [start(http, name) for name in ("A", "B", "C")]
        say(http, conversations[0], QUESTION)
        say(http, conversations[1], QUESTION)
        wait_for(lambda: http.get("/healthz").json()["pending"] == 2)
        began = time.perf_counter()
        assert http.get("/healthz").status_code == 200  # the loop answers while the model is busy
        assert time.perf_counter() - began < 1.0
        busy = http.post(f"/api/conversations/{conversations[2]}/messages", json={"content": QUESTION})
        assert busy.status_code == 503 and busy.headers["retry-after"]
        release.set()
        assert all(bot_replies(http, c, 1)[0]["content"] == "Done." for c in conversations[:2])


def test_each_client_is_rate_limited(tmp_path: Path, tiny_model_dir: Path) -> None:
    root = make_workspace(tmp_path, tiny_model_dir, rate_limit_per_minute=3)
    with running(root) as server, client(server) as http:
        statuses = [http.post("/api/conversations", json={}).status_code for _ in range(4)]
        assert statuses == [201, 201, 201, 429]
        limited = http.post("/api/conversations", json={})
        assert limited.json()["error"]["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
        assert http.get("/healthz").status_code == 200  # reading is not limited
        failures = [http.get("/agent/api/conversations").status_code for _ in range(4)]
        assert failures == [401, 401, 401, 429]  # guessing the agent key is limited too


def test_feedback_has_its_own_allowance(tmp_path: Path, tiny_model_dir: Path) -> None:
    root = make_workspace(tmp_path, tiny_model_dir, rate_limit_per_minute=2, feedback_rate_limit_per_minute=3)
    with running(root) as server, client(server) as http:
        conversation = start(http)
        say(http, conversation, QUESTION)  # the second generating request: that allowance is spent
        [reply] = bot_replies(http, conversation, 1)
        assert http.post("/api/conversations", json={}).status_code == 429
        rating = f"/api/conversations/{conversation}/messages/{reply['id']}/rating"
        statuses = [http.put(rating, json={"value": value}).status_code for value in (1, -1, 1, -1)]
        assert statuses == [200, 200, 200, 429]  # the customer can still rate, up to the feedback allowance


def test_the_token_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.take("a"), limiter.take("a")] == [0.0, 0.0]
    assert limiter.take("a") == pytest.approx(30.0)
    assert limiter.take("b") == 0.0
    now[0] = 30.0
    assert limiter.take("a") == 0.0


def test_cors_allows_only_the_configured_origins(tmp_path: Path, tiny_model_dir: Path) -> None:
    root = make_workspace(tmp_path, tiny_model_dir, cors_origins=["https://shop.example"])
    with running(root) as server, client(server) as http:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
        allowed = http.options("/v1/chat/completions", headers={"Origin": "https://shop.example", **preflight})
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        refused = http.get("/v1/models", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in refused.headers


class BrokenModel:
    """Test double for a model that fails."""

    name = "broken"

    def generate(self, conversations: list, *, max_new_tokens: int) -> list:
        raise RuntimeError("CUDA out of memory at /secret/path")

    def stream(self, messages: list, *, max_new_tokens: int) -> Iterator[str]:
        raise RuntimeError("CUDA out of memory at /secret/path")
        yield ""


def broken_assistant(workspace: Workspace) -> Assistant:
    return Assistant(workspace.settings, BrokenModel(), setup="augmented", knowledge=FixedKnowledge())


def test_a_failing_model_gives_json_errors_and_hands_customers_to_a_person(workspace: Path) -> None:
    with running(workspace, broken_assistant) as server, client(server) as http:
        api = openai.OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0)
        with pytest.raises(openai.InternalServerError) as caught:
            api.chat.completions.create(model="augmented", messages=[{"role": "user", "content": QUESTION}])
        assert caught.value.code == "internal_error" and "secret" not in str(caught.value.body)
        with pytest.raises(openai.APIError, match="failed to answer"):
            list(
                api.chat.completions.create(
                    model="augmented", messages=[{"role": "user", "content": QUESTION}], stream=True
                )
            )

        conversation = start(http)
        say(http, conversation, QUESTION)
        reply = bot_replies(http, conversation, 1)[0]
        assert reply["handed_over"] and reply["content"] == DEFAULT_HANDOVER_MESSAGE
        inbox = http.get("/agent/api/conversations", headers=AGENT).json()["conversations"]
        assert [(c["id"], c["reason"]) for c in inbox] == [(conversation, "error")]


def test_journey_serve_runs_until_interrupted_and_logs_json_lines(workspace: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "JOURNEY_AGENT_KEY": AGENT_KEY, "JOURNEY_API_KEYS": API_KEY}
    command = [sys.executable, "-m", "journey", "serve", "-w", str(workspace), "--setup", "as-is", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            wait_for(lambda: _answers(http), timeout=120)
            http.get("/agent/api/conversations", headers={**AGENT, "X-Request-ID": "cli-check"})
            assert http.get("/v1/models", headers=API).json()["data"][0]["id"] == "as-is"
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("request_id") == "cli-check"]
    assert access and access[0]["path"] == "/agent/api/conversations" and access[0]["status"] == 200
    assert AGENT_KEY not in stderr and API_KEY not in stderr and "Traceback" not in stderr


def _answers(http: httpx.Client) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False


def test_journey_serve_refuses_an_unknown_setup_clearly(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_API_KEYS", API_KEY)
    for setups in ("magic", "augmented,magic"):
        result = CliRunner().invoke(cli.app, ["serve", "-w", str(workspace), "--setup", setups])
        assert isinstance(result.exception, UserError) and "Unknown set-up 'magic'" in str(result.exception)


def test_journey_serve_without_keys_refuses_to_start_saying_what_to_set(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOURNEY_API_KEYS", raising=False)
    monkeypatch.delenv("JOURNEY_DATA_KEYS", raising=False)
    result = CliRunner().invoke(cli.app, ["serve", "-w", str(workspace), "--setup", "as-is"])
    assert isinstance(result.exception, UserError)
    assert str(result.exception) == (
        "No API keys: set JOURNEY_API_KEYS to the comma-separated keys of the /v1 API "
        "(or set serve.allow_anonymous = true in journey.toml to serve /v1 without keys)."
    )
