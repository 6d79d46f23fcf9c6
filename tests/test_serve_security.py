"""Customer data over HTTP: keys, identity and what leaves the server, on the demo company's workspace.

The server (real uvicorn on loopback) answers with the demo's own lookups (`requires = ["email"]`)
on the demo's own database, through the real `Knowledge.gather` and pipeline. Two test doubles:
`EchoModel` answers with its whole prompt, so whatever reached the model would leave in the answer
(and it records the prompts), and `PublicIndex` stands in for the vector index with one public
passage, so that the model runs even when no lookup does.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from journey.assistant import Assistant
from journey.demo import create_demo_workspace
from journey.errors import UserError
from journey.knowledge.context import Passage
from journey.knowledge.lookups import load_lookups
from journey.knowledge.retrieval import Knowledge
from journey.models.backends import Generation
from journey.serve import BackgroundServer, create_app
from journey.serve import app as app_module
from journey.serve.identity import MAX_LIFETIME_S, IdentityRefused, payload, sign, verify
from journey.workspace import Workspace
from test_serve import API, API_KEY, DATA_KEY, bot_replies, running, say, transcript

SECRET = "test-identity-secret-5e0c"
PUBLIC = Passage("kb-returns#1", "Returns policy", "knowledge/returns.md", "Returns: 30 days.", 0.9)


class EchoModel:
    """Test double for the model: its answer is its whole prompt; every prompt is kept in `prompts`."""

    name = "echo"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def _echo(self, messages: list[dict[str, str]]) -> str:
        text = "\n".join(m["content"] for m in messages)
        self.prompts.append(text)
        return text

    def generate(self, conversations: list, *, max_new_tokens: int) -> list[Generation]:
        return [Generation(self._echo(messages), 1, 1, 0.0) for messages in conversations]

    def stream(self, messages: list, *, max_new_tokens: int) -> Iterator[str]:
        yield self._echo(messages)


class PublicIndex(Knowledge):
    """The real knowledge (its lookups, its gather) over a stand-in index holding one public passage."""

    def search(
        self, query: str, k: int | None = None, mode: str = "hybrid", history: list[dict] | None = None
    ) -> list[Passage]:
        return [PUBLIC]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    create_demo_workspace(root)
    return root


@pytest.fixture(scope="module")
def customer(demo: Path) -> dict[str, Any]:
    """A customer of the demo with a shipped order: what must not leave the server for anyone else."""
    with sqlite3.connect(demo / "data" / "shop.sqlite") as db:
        db.row_factory = sqlite3.Row
        row = db.execute(
            """SELECT o.order_id, c.customer_number, c.email, c.first_name, c.loyalty_tier, c.points,
                      o.tracking_code, p.name AS item
                 FROM orders o JOIN customers c USING (customer_number)
                 JOIN order_items i ON i.order_id = o.order_id JOIN products p ON p.sku = i.sku
                WHERE o.tracking_code IS NOT NULL AND c.points > 999 LIMIT 1"""
        ).fetchone()
        other = db.execute("SELECT email FROM customers WHERE email != ? LIMIT 1", (row["email"],)).fetchone()[0]
    return dict(row) | {"other_email": other}


def question(customer: dict[str, Any]) -> str:
    return f"Where is my order {customer['order_id']}? My customer number is {customer['customer_number']}."


def personal(customer: dict[str, Any]) -> list[str]:
    """The fields of the order and account lookups that identify or describe the customer."""
    keys = ("email", "first_name", "loyalty_tier", "points", "tracking_code", "item")
    return [str(customer[key]) for key in keys]


@pytest.fixture(scope="module")
def echo() -> EchoModel:
    return EchoModel()


def echoing(echo: EchoModel) -> Callable[[Workspace], Assistant]:
    """The `augmented` assistant of a workspace: its real lookups, the public index and the echoing model."""

    def assistant(workspace: Workspace) -> Assistant:
        knowledge = PublicIndex(workspace.settings.knowledge, None, load_lookups(workspace))
        return Assistant(workspace.settings, echo, setup="augmented", knowledge=knowledge)

    return assistant


@pytest.fixture(scope="module")
def server(demo: Path, echo: EchoModel) -> Iterator[BackgroundServer]:
    with running(demo, echoing(echo), env={"JOURNEY_IDENTITY_SECRET": SECRET}) as server:
        yield server


@pytest.fixture
def http(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def complete(http: httpx.Client, text: str, *, key: str | None = API_KEY, **extra: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {"model": "augmented", "messages": [{"role": "user", "content": text}], **extra}
    return http.post("/v1/chat/completions", json=body, headers=headers)


def leaving(response: httpx.Response) -> str:
    """Everything a reply tells the caller, JSON decoded (no \\u escapes), less its random id and time."""
    if response.headers["content-type"].startswith("text/event-stream"):
        bodies = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")]
    else:
        bodies = [response.json()]
    return "\n".join(json.dumps({k: v for k, v in b.items() if k not in ("id", "created")}, ensure_ascii=False)
                     for b in bodies)  # fmt: skip


# -- keys -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}, {"Authorization": f"Basic {API_KEY}"}],
)
def test_the_api_needs_a_key(http: httpx.Client, customer: dict, headers: dict[str, str]) -> None:
    for response in (
        http.get("/v1/models", headers=headers),
        http.post("/v1/chat/completions", headers=headers, json={"model": "augmented", "messages": [
            {"role": "user", "content": question(customer)}]}),
    ):  # fmt: skip
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert response.json() == {"error": {
            "message": "Missing or invalid API key: send Authorization: Bearer <key>.",
            "type": "authentication_error", "param": None, "code": "invalid_api_key"}}  # fmt: skip
        assert not any(value in response.text for value in personal(customer))
    assert http.get("/v1/models", headers=API).json()["data"][0]["id"] == "augmented"


def test_the_openai_client_with_a_wrong_key_gets_an_authentication_error(server: BackgroundServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="guess", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_keys_are_never_logged(http: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="journey"):
        http.get("/v1/models", headers=API)
        http.get("/v1/models", headers={"Authorization": "Bearer a-guessed-key"})
    assert [r.status for r in caplog.records if r.name == "journey.serve.access"] == [200, 401]
    assert API_KEY not in caplog.text and "a-guessed-key" not in caplog.text


# -- /v1: what leaves the server ----------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
def test_without_the_customers_identity_no_personal_field_leaves_the_server(
    http: httpx.Client, echo: EchoModel, customer: dict, stream: bool
) -> None:
    echo.prompts.clear()
    for key in (API_KEY, DATA_KEY):  # a data key gets raw rows, but no lookup ran to give any
        response = complete(http, question(customer), key=key, stream=stream)
        assert response.status_code == 200
        leaked = [value for value in personal(customer) if value in leaving(response)]
        assert leaked == [], f"personal data left the server: {leaked}"
    assert len(echo.prompts) == 2 and "Returns: 30 days." in echo.prompts[0]  # the model ran, with public data
    assert not any(value in prompt for prompt in echo.prompts for value in personal(customer))


def test_with_the_customers_identity_their_records_are_used_and_named_not_returned(
    http: httpx.Client, echo: EchoModel, customer: dict
) -> None:
    echo.prompts.clear()
    body = complete(http, question(customer), journey={"customer": {"email": customer["email"]}}).json()
    (prompt,) = echo.prompts
    assert customer["tracking_code"] in prompt and customer["first_name"] in prompt and customer["item"] in prompt
    assert customer["email"] not in prompt  # the identity column filters; it is not passed on
    meta = body["journey"]
    assert [lookup["name"] for lookup in meta["lookups"]] == ["order_status", "customer_account"]
    assert all(set(lookup) == {"name", "params", "description"} for lookup in meta["lookups"])  # no rows
    assert "text" not in meta["passages"][0]


def test_another_customers_identity_gets_none_of_their_records(
    http: httpx.Client, echo: EchoModel, customer: dict
) -> None:
    echo.prompts.clear()
    response = complete(http, question(customer), journey={"customer": {"email": customer["other_email"]}})
    assert response.status_code == 200
    assert not any(value in leaving(response) or value in echo.prompts[0] for value in personal(customer))
    assert echo.prompts[0].count("no record found.") == 2  # both lookups ran, filtered in the database


def test_a_data_key_gets_the_raw_rows_of_the_identified_customer(http: httpx.Client, customer: dict) -> None:
    identity = {"customer": {"email": customer["email"]}}
    meta = complete(http, question(customer), key=DATA_KEY, journey=identity).json()["journey"]
    order, account = meta["lookups"]
    assert order["rows"][0]["tracking_code"] == customer["tracking_code"]
    assert account["rows"][0]["loyalty_tier"] == customer["loyalty_tier"]
    assert "email" not in order["rows"][0] and meta["passages"][0]["text"] == "Returns: 30 days."


def test_a_malformed_identity_is_a_400(http: httpx.Client, customer: dict) -> None:
    for bad in ({"email": ""}, {"e-mail": "x@example.com"}, {"email": "a\nb"}, {}, "ada@example.com"):
        response = complete(http, "hello", journey={"customer": bad})
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"


def test_anonymous_access_when_allowed_never_takes_an_identity(
    tmp_path: Path, echo: EchoModel, customer: dict, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "open"
    create_demo_workspace(root)
    with (root / "journey.toml").open("a", encoding="utf-8") as config:
        config.write("\n[serve]\nallow_anonymous = true\n")
    no_keys = {"JOURNEY_API_KEYS": None, "JOURNEY_DATA_KEYS": None}
    with caplog.at_level(logging.WARNING, logger="journey.serve"), running(root, echoing(echo), env=no_keys) as server:
        assert "allow_anonymous is on" in caplog.text
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert complete(http, "hello", key=None).status_code == 200
            identity = {"customer": {"email": customer["email"]}}
            claimed = complete(http, question(customer), key=None, journey=identity)
            assert claimed.status_code == 403 and claimed.json()["error"]["type"] == "permission_error"
            assert complete(http, "hello", key="wrong").status_code == 401  # a wrong key is still wrong
            assert not any(value in leaving(claimed) for value in personal(customer))


def test_no_keys_and_no_anonymous_access_is_no_server(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNEY_API_KEYS", raising=False)
    monkeypatch.delenv("JOURNEY_DATA_KEYS", raising=False)
    loaded = []
    monkeypatch.setattr(app_module, "load_assistant", lambda *args: loaded.append(args))
    with pytest.raises(UserError, match=r"^No API keys: set JOURNEY_API_KEYS"):
        create_app(Workspace.load(demo), "augmented")
    assert loaded == []  # refused before any model loads


def test_a_setup_the_server_was_not_started_with_is_never_loaded(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = []
    monkeypatch.setattr(app_module, "load_assistant", lambda *args: loaded.append(args))
    for model in ("as-is", "finetuned", "scratch", "finetuned+augmented"):
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
        response = http.post("/v1/chat/completions", json=body, headers=API)
        assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"
    assert loaded == [] and [m["id"] for m in http.get("/v1/models", headers=API).json()["data"]] == ["augmented"]


# -- the chat page: signed identities -------------------------------------------------------------------------------
def signed(fields: dict[str, str], *, secret: str = SECRET, lifetime: int = 600) -> dict[str, Any]:
    expires = int(time.time()) + lifetime
    return {"fields": fields, "expires": expires, "signature": sign(secret, fields, expires)}


def chat(http: httpx.Client, text: str, identity: dict | None = None) -> tuple[str, str]:
    """Start a conversation (with `identity`), say `text`; the conversation id and the whole transcript as JSON."""
    started = http.post("/api/conversations", json={"customer": "Ada", "identity": identity})
    assert started.status_code == 201, started.text
    conversation = started.json()["id"]
    say(http, conversation, text)
    bot_replies(http, conversation, 1)
    return conversation, json.dumps(transcript(http, conversation), ensure_ascii=False)


def test_the_chat_page_without_identity_gives_no_personal_field(
    http: httpx.Client, echo: EchoModel, customer: dict
) -> None:
    echo.prompts.clear()
    _, shown = chat(http, question(customer))
    assert not any(value in shown or value in echo.prompts[0] for value in personal(customer))


def test_the_chat_page_with_a_signed_identity_uses_that_customers_records(
    http: httpx.Client, echo: EchoModel, customer: dict
) -> None:
    echo.prompts.clear()
    conversation, shown = chat(http, question(customer), signed({"email": customer["email"]}))
    assert customer["tracking_code"] in echo.prompts[0] and customer["tracking_code"] in shown  # their own answer
    assert http.get(f"/api/conversations/{conversation}").json()["verified"] is True
    assert "lookups" not in shown and "passages" not in shown  # customers see the citations only

    echo.prompts.clear()
    chat(http, question(customer), signed({"email": customer["other_email"]}))
    assert not any(value in echo.prompts[0] for value in personal(customer))


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda s: s | {"fields": {"email": "someone@else.example"}}, "signature is not valid"),
        (lambda s: s | {"expires": s["expires"] + 60}, "signature is not valid"),
        (lambda s: s | {"signature": sign("not-the-secret", s["fields"], s["expires"])}, "signature is not valid"),
        (lambda s: signed(s["fields"], lifetime=-1), "has expired"),
        (lambda s: signed(s["fields"], lifetime=MAX_LIFETIME_S + 60), "too far ahead"),
    ],
)
def test_a_forged_or_stale_identity_is_refused(
    http: httpx.Client, customer: dict, tamper: Any, message: str
) -> None:
    identity = tamper(signed({"email": customer["email"]}))
    response = http.post("/api/conversations", json={"identity": identity})
    assert response.status_code == 403 and message in response.json()["error"]["message"]
    assert response.json()["error"]["code"] == "invalid_identity"


def test_without_a_secret_the_server_accepts_no_identity(customer: dict) -> None:
    with pytest.raises(IdentityRefused, match="JOURNEY_IDENTITY_SECRET is not set"):
        verify(None, {"email": customer["email"]}, int(time.time()) + 60, "0" * 64)


def test_the_signed_payload_is_the_sorted_name_value_lines() -> None:
    assert payload({"email": "ada@example.com", "customer_number": "C-1"}, 1700000000) == (
        b"customer_number=C-1\nemail=ada@example.com\nexpires=1700000000"
    )
    identity = verify(SECRET, {"email": "a@x"}, 1700000600, sign(SECRET, {"email": "a@x"}, 1700000600),
                      now=1700000000)  # fmt: skip
    assert identity.fields == {"email": "a@x"} and not identity.trusted


def test_agents_see_the_verified_identity_and_the_rows_the_bot_was_given(
    http: httpx.Client, customer: dict
) -> None:
    conversation, _ = chat(http, question(customer), signed({"email": customer["email"]}))
    agent = {"Authorization": "Bearer test-agent-key-7d41a9"}
    detail = http.get(f"/agent/api/conversations/{conversation}", headers=agent).json()
    assert detail["identity"] == {"email": customer["email"]}
    order = detail["messages"][1]["lookups"][0]
    assert order["rows"][0]["tracking_code"] == customer["tracking_code"]
