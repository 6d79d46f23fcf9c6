"""`journey replay`: drive a running `journey serve` with simulated customers and agents over HTTP.

So that the live loop (ratings → `journey report --live` → `journey harvest`) can be tried end to end
without people. Each simulated customer opens a conversation, asks one eval question and waits for the
reply; the simulated agents claim what was handed over, reply with the question's reference answer and
resolve it. The customers rate by a fixed, documented rule (seeded, so a replay can be repeated):

- the bot answered and the answer holds every reference fact (as `journey evaluate` checks them) and the
  question did not need a person → thumbs up, "this solved it", satisfaction drawn from `BOT_RIGHT_CSAT`;
- the bot answered but missed a fact, or answered a question that needed a person → thumbs down with a
  comment, then "talk to a person" (hand-over reason `customer`);
- handed over → once the agent resolved it, satisfaction drawn from `AGENT_CSAT`.

Only the public HTTP API is used, as a real client would; nothing reads the app database.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from journey.errors import UserError
from journey.evaluate.evalset import EvalItem
from journey.facts import contains_fact

BOT_RIGHT_CSAT = {5: 0.6, 4: 0.3, 3: 0.1}  # score -> probability, after a right bot answer
AGENT_CSAT = {5: 0.45, 4: 0.35, 3: 0.12, 2: 0.08}  # after an agent resolved the conversation
WRONG_COMMENT = "That does not answer my question."
AGENT_FALLBACK = "I have taken care of this for you."  # an agent's reply where the question has no reference
POLL_S = 0.25


@dataclass
class ReplayReport:
    """What the replay did, by outcome, and how long customers waited for a first reply."""

    outcomes: Counter[str] = field(default_factory=Counter)
    first_reply_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def conversations(self) -> int:
        return sum(self.outcomes.values())

    def summary(self) -> str:
        """The outcomes so far and the median wait for a first reply, in one line."""
        outcomes = ", ".join(f"{name} {count}" for name, count in self.outcomes.most_common()) or "none yet"
        wait = f"; first reply p50 {statistics.median(self.first_reply_s):.1f} s" if self.first_reply_s else ""
        errors = f"; {len(self.errors)} errors" if self.errors else ""
        return f"{self.conversations} conversations: {outcomes}{wait}{errors}"


@dataclass(frozen=True)
class ReplayPlan:
    """Where to replay, how much, and how fast the simulated people are."""

    url: str
    agent_key: str
    conversations: int = 200
    concurrency: int = 8
    agent_delay_s: float = 0.5
    reply_timeout_s: float = 300.0
    seed: int = 0


def bot_was_right(item: EvalItem, answer: str) -> bool:
    """The replay's rating rule: every reference fact stated, and not a question that needed a person."""
    return not item.escalate and all(contains_fact(answer, fact) for fact in item.facts)


def draw(distribution: dict[int, float], rng: random.Random) -> int:
    """A score from `distribution` (score -> probability)."""
    return rng.choices(list(distribution), weights=list(distribution.values()))[0]


async def run_replay(
    plan: ReplayPlan,
    items: list[EvalItem],
    on_done: Callable[[ReplayReport], None] | None = None,
    report: ReplayReport | None = None,
) -> ReplayReport:
    """Run `plan.conversations` simulated conversations (cycling through `items`) against the server.

    `report` (a new one if not given) is filled as conversations end, so a caller holding it keeps what was
    done if the replay is stopped; `on_done` is called with it after each."""
    if not items:
        raise UserError("The eval set has no questions to replay.")
    report = report if report is not None else ReplayReport()
    rng = random.Random(plan.seed)
    slots = asyncio.Semaphore(plan.concurrency)
    async with httpx.AsyncClient(base_url=plan.url.rstrip("/"), timeout=30.0) as client:
        await _check_server(client, plan)
        references = {_customer_name(item): item.reference or AGENT_FALLBACK for item in items}
        agents = asyncio.create_task(_agents(client, plan, references, report.errors))

        async def one(index: int) -> None:
            async with slots:
                item = items[index % len(items)]
                try:
                    outcome = await _customer(client, plan, item, random.Random(rng.random()), report)
                except (httpx.HTTPError, TimeoutError, KeyError) as exc:
                    outcome = "error"
                    report.errors.append(f"{item.id}: {type(exc).__name__}: {exc}")
                report.outcomes[outcome] += 1
                if on_done:
                    on_done(report)

        try:
            await asyncio.gather(*(one(i) for i in range(plan.conversations)))
        finally:
            agents.cancel()
            ended = await asyncio.gather(agents, return_exceptions=True)
            if isinstance(ended[0], Exception):
                report.errors.append(f"agents stopped: {type(ended[0]).__name__}: {ended[0]}")
    return report


async def _check_server(client: httpx.AsyncClient, plan: ReplayPlan) -> None:
    try:
        (await client.get("/healthz")).raise_for_status()
        inbox = await client.get("/agent/api/conversations", headers=_agent_headers(plan))
    except httpx.HTTPError as exc:
        reason = type(exc).__name__
        raise UserError(f"No journey server answers at {plan.url} ({reason}). Start `journey serve`.") from None
    if inbox.status_code == 401:
        raise UserError(f"The server at {plan.url} refused the agent key; pass the one its agent_key_env holds.")


async def _customer(
    client: httpx.AsyncClient, plan: ReplayPlan, item: EvalItem, rng: random.Random, report: ReplayReport
) -> str:
    """One customer's conversation; returns its outcome."""
    conversation = (await call(client.post, "/api/conversations", json={"customer": _customer_name(item)})).json()
    base = f"/api/conversations/{conversation['id']}"
    asked = time.monotonic()
    message = {"content": item.question, "client_id": secrets.token_hex(16)}  # sent twice, stored once; not from
    # `rng`, whose draws stay the ratings' alone
    sent = (await call(client.post, f"{base}/messages", json=message, idempotent=True)).json()
    reply, status = await _wait(client, base, after=sent["id"], timeout=plan.reply_timeout_s)
    report.first_reply_s.append(time.monotonic() - asked)
    if reply.get("handed_over") or status in ("waiting", "agent"):  # the bot handed over: agents take it from here
        return await _rate_agent_resolution(client, base, rng, plan) or "handed-over"
    if bot_was_right(item, reply["content"]):
        await call(client.put, f"{base}/messages/{reply['id']}/rating", json={"value": 1})
        await call(client.post, f"{base}/resolve")
        await call(client.put, f"{base}/satisfaction", json={"score": draw(BOT_RIGHT_CSAT, rng)})
        return "bot-resolved"
    await call(client.put, f"{base}/messages/{reply['id']}/rating", json={"value": -1, "comment": WRONG_COMMENT})
    await call(client.post, f"{base}/handover", idempotent=True)  # asking again changes nothing
    return await _rate_agent_resolution(client, base, rng, plan) or "asked-for-person"


async def _rate_agent_resolution(client: httpx.AsyncClient, base: str, rng: random.Random, plan: ReplayPlan) -> str:
    deadline = time.monotonic() + plan.reply_timeout_s
    while (await call(client.get, base)).json()["status"] != "resolved":
        if time.monotonic() > deadline:
            return "unresolved"
        await asyncio.sleep(POLL_S)
    await call(client.put, f"{base}/satisfaction", json={"score": draw(AGENT_CSAT, rng)})
    return ""


async def _wait(client: httpx.AsyncClient, base: str, *, after: int, timeout: float) -> tuple[dict, str]:
    """The first bot or agent message after `after`, and the conversation's status then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conversation = (await call(client.get, base)).json()
        replies = [m for m in conversation["messages"] if m["id"] > after and m["role"] in ("bot", "agent")]
        if replies:
            return replies[0], conversation["status"]
        await asyncio.sleep(POLL_S)
    raise TimeoutError(f"no reply within {timeout:.0f} s")


async def _agents(
    client: httpx.AsyncClient, plan: ReplayPlan, references: dict[str, str], errors: list[str]
) -> None:
    """Simulated agents: claim each handed-over conversation, reply with its question's reference answer
    (`references`: customer name -> answer), resolve; what fails is added to `errors`."""
    headers = _agent_headers(plan)
    busy: set[tuple[str, str]] = set()

    async def handle(conversation_id: str, reference: str) -> None:
        base = f"/agent/api/conversations/{conversation_id}"
        body = {"agent": "replay-agent"}
        await asyncio.sleep(plan.agent_delay_s)
        try:
            await call(client.post, f"{base}/claim", json=body, headers=headers)
            await call(client.post, f"{base}/messages", json=body | {"content": reference}, headers=headers)
            await call(client.post, f"{base}/resolve", json=body, headers=headers)
        except httpx.HTTPError as exc:
            errors.append(f"agent on {conversation_id}: {type(exc).__name__}: {exc}")

    tasks: set[asyncio.Task] = set()
    while True:
        try:
            listed = (await call(client.get, "/agent/api/conversations", headers=headers)).json()["conversations"]
        except httpx.HTTPError as exc:
            errors.append(f"agents' inbox: {type(exc).__name__}: {exc}")
            listed = []
        for conversation in listed:
            handover = (conversation["id"], conversation["handed_over_at"])  # one conversation may come back
            if conversation["status"] == "waiting" and handover not in busy:
                busy.add(handover)
                reference = references.get(conversation["customer"], AGENT_FALLBACK)
                task = asyncio.create_task(handle(conversation["id"], reference))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        await asyncio.sleep(POLL_S)


def _customer_name(item: EvalItem) -> str:
    return f"replay-{item.id}"


def _agent_headers(plan: ReplayPlan) -> dict[str, str]:
    return {"Authorization": f"Bearer {plan.agent_key}"}


async def call(
    method: Callable[..., Awaitable[httpx.Response]], url: str, *, idempotent: bool | None = None, **kwargs: Any
) -> httpx.Response:
    """One request; waits out 429/503 (the server's rate limit and queue), raises on any other error status.

    A connection the server closed as it was reused (httpx's ReadError, RemoteProtocolError: a keep-alive race
    under load) is retried when the request can be sent twice without effect: GET and PUT, and `idempotent`
    POSTs (a customer message with its client_id, "talk to a person")."""
    retry_dropped = method.__name__ in ("get", "put") if idempotent is None else idempotent
    for attempt in range(8):
        try:
            response = await method(url, **kwargs)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            if not retry_dropped or attempt == 7:
                raise
            await asyncio.sleep(2**attempt * 0.25)
            continue
        if response.status_code not in (429, 503):
            response.raise_for_status()
            return response
        await asyncio.sleep(float(response.headers.get("Retry-After") or 2**attempt * 0.25))
    response.raise_for_status()
    return response
