"""Customer feedback in `journey serve`: a thumb on each bot answer, a 1-5 score once the conversation is
resolved, "this solved it" (a resolution by the bot) and "talk to a person" (a hand-over, reason `customer`).

The store tests run on a real SQLite file; the API tests on one real uvicorn server with the tiny model
(test_serve.py's `cited_assistant`), each in conversations of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from journey.serve import store as store_module
from journey.serve.store import AnswerRating, Conflict, Handover, MessageNotFound, NotFound, Satisfaction, Store
from test_serve import (
    AGENT,
    QUESTION,
    SENSITIVE,
    bot_replies,
    client,
    idle,
    inbox_action,
    make_workspace,
    running,
    say,
    start,
    transcript,
)


# -- the store -------------------------------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'app.sqlite'}")
    yield store
    store.close()


def answered(store: Store, question: str = "Where is my parcel?") -> tuple[str, int, int]:
    """A conversation with one customer question and one bot answer: (conversation, question id, answer id)."""
    conversation = store.create_conversation("Ada", "augmented")
    asked, _ = store.add_customer_message(conversation.id, question, None)
    answer = store.add_bot_reply(conversation.id, "It left our warehouse today.", {}, None)
    return conversation.id, asked.id, answer.id


def rows(store: Store, model: type) -> int:
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


def test_rating_an_answer_again_replaces_the_rating(store: Store) -> None:
    conversation, _, answer = answered(store)
    first = store.rate_answer(conversation, answer, 1, "Clear, thanks")
    again = store.rate_answer(conversation, answer, -1)
    assert (again.value, again.comment, again.message_id) == (-1, None, answer)
    assert again.id == first.id and again.created_at == first.created_at and again.updated_at >= first.updated_at
    assert rows(store, AnswerRating) == 1
    assert {m: (r.value, r.comment) for m, r in store.ratings(conversation).items()} == {answer: (-1, None)}


def test_on_a_database_without_upsert_rating_again_replaces_the_rating_too(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "_UPSERTS", {})  # as on a database other than SQLite and PostgreSQL
    conversation, _, answer = answered(store)
    store.rate_answer(conversation, answer, 1, "Clear")
    assert (store.rate_answer(conversation, answer, -1).value, rows(store, AnswerRating)) == (-1, 1)
    assert store.ratings(conversation)[answer].comment is None


def test_only_the_bots_answers_of_that_conversation_can_be_rated(store: Store) -> None:
    conversation, asked, answer = answered(store)
    other, _, other_answer = answered(store, "Do you ship to Norway?")
    with pytest.raises(Conflict, match="Only the assistant's answers"):
        store.rate_answer(conversation, asked, 1)  # the customer's own message
    with pytest.raises(MessageNotFound):
        store.rate_answer(conversation, other_answer, 1)  # another conversation's answer
    with pytest.raises(MessageNotFound):
        store.rate_answer(conversation, 10_000, 1)
    with pytest.raises(NotFound, match="No such conversation"):
        store.rate_answer("no-such-conversation", answer, 1)
    for value in (0, 2, -2):
        with pytest.raises(ValueError, match=r"\+1 or -1"):
            store.rate_answer(conversation, answer, value)
    store.request_human(conversation)
    store.claim(conversation, "Sam")
    reply = store.agent_reply(conversation, "Sam", "Let me check.")
    with pytest.raises(Conflict):
        store.rate_answer(conversation, reply.id, -1)  # an agent's message is not the bot's
    assert store.ratings(conversation) == {} and store.ratings(other) == {} and rows(store, AnswerRating) == 0


def test_a_conversation_is_scored_only_once_resolved_by_the_bot_or_an_agent(store: Store) -> None:
    conversation = store.create_conversation("Ada", "augmented")
    with pytest.raises(Conflict, match="has not answered"):
        store.resolve_by_customer(conversation.id)  # nothing to be solved by yet
    store.add_customer_message(conversation.id, "Where is my parcel?", None)
    with pytest.raises(Conflict, match="has not answered"):
        store.resolve_by_customer(conversation.id)
    store.add_bot_reply(conversation.id, "It left our warehouse today.", {}, None)
    with pytest.raises(Conflict, match="once it is resolved"):
        store.rate_conversation(conversation.id, 5)

    solved = store.resolve_by_customer(conversation.id)
    assert (solved.status, solved.resolved_by) == ("resolved", "bot") and solved.resolved_at is not None
    assert store.resolve_by_customer(conversation.id).resolved_at == solved.resolved_at  # saying it twice: once
    store.rate_conversation(conversation.id, 4, "Quick")
    store.add_customer_message(conversation.id, "One more thing", None)  # re-opens it for the bot...
    assert store.rate_conversation(conversation.id, 2).score == 2  # ...and the score may still change
    assert (store.satisfaction(conversation.id).score, rows(store, Satisfaction)) == (2, 1)
    for score in (0, 6):
        with pytest.raises(ValueError, match="1 to 5"):
            store.rate_conversation(conversation.id, score)

    # An agent's resolution counts too; while the conversation is with the agents, only they resolve it.
    handed, _, _ = answered(store)
    store.request_human(handed)
    with pytest.raises(Conflict, match="support team"):
        store.resolve_by_customer(handed)
    with pytest.raises(Conflict):
        store.rate_conversation(handed, 3)
    assert store.close_handover(handed, "Sam", "resolved").resolved_by == "agent"
    assert store.rate_conversation(handed, 3).score == 3


def test_asking_for_a_person_hands_over_once_with_reason_customer(store: Store) -> None:
    conversation, _, _ = answered(store)
    assert store.request_human(conversation).status == "waiting"
    assert store.request_human(conversation).status == "waiting"  # a second click: no second hand-over
    assert [(item.conversation.id, item.handover.reason) for item in store.inbox()] == [(conversation, "customer")]
    with pytest.raises(Conflict):
        store.add_bot_reply(conversation, "I can help!", {}, None)  # the bot stays silent
    store.claim(conversation, "Sam")
    assert (store.request_human(conversation).status, store.conversation(conversation).agent) == ("agent", "Sam")
    store.close_handover(conversation, "Sam", "handed_back")
    assert store.request_human(conversation).status == "waiting"  # back with the bot: asking again hands over again
    with store.engine.connect() as connection:
        reasons = connection.execute(select(Handover.reason).where(Handover.conversation_id == conversation)).all()
    assert [reason for (reason,) in reasons] == ["customer", "customer"]


def test_racing_ratings_and_requests_leave_one_row_and_one_hand_over(store: Store) -> None:
    conversation, _, answer = answered(store)
    values = [1, -1] * 8
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda value: store.rate_answer(conversation, answer, value), values))
        list(pool.map(lambda _: store.request_human(conversation), range(8)))
    assert rows(store, AnswerRating) == 1 and store.ratings(conversation)[answer].value in (1, -1)
    assert rows(store, Handover) == 1


# -- over HTTP ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Iterator[httpx.Client]:
    root = make_workspace(tmp_path_factory.mktemp("feedback"), tiny_model_dir, rate_limit_per_minute=10_000)
    with running(root) as server, client(server) as http:
        yield http


def asked_and_answered(http: httpx.Client) -> tuple[str, dict, dict]:
    conversation = start(http)
    question = say(http, conversation, QUESTION)
    (answer,) = bot_replies(http, conversation, 1)
    return conversation, question, answer


def rate(http: httpx.Client, conversation: str, message: int | str, body: object) -> httpx.Response:
    return http.put(f"/api/conversations/{conversation}/messages/{message}/rating", json=body)


def score(http: httpx.Client, conversation: str, body: object) -> httpx.Response:
    return http.put(f"/api/conversations/{conversation}/satisfaction", json=body)


def detail(http: httpx.Client, conversation: str) -> dict:
    return http.get(f"/agent/api/conversations/{conversation}", headers=AGENT).json()


def test_a_customer_rates_an_answer_and_the_agents_see_it(http: httpx.Client) -> None:
    conversation, _, answer = asked_and_answered(http)
    first = rate(http, conversation, answer["id"], {"value": 1, "comment": "  Clear, thanks  "})
    assert first.status_code == 200
    assert first.json() | {"rated_at": None} == {
        "message_id": answer["id"],
        "value": 1,
        "comment": "Clear, thanks",
        "rated_at": None,
    }
    assert rate(http, conversation, answer["id"], {"value": -1, "comment": "Wrong order"}).json()["value"] == -1

    seen = {m["id"]: m["rating"] for m in transcript(http, conversation)}
    assert seen[answer["id"]]["value"] == -1 and seen[answer["id"]]["comment"] == "Wrong order"
    assert [m["rating"] for m in transcript(http, conversation) if m["id"] != answer["id"]] == [None]
    shown = next(m for m in detail(http, conversation)["messages"] if m["id"] == answer["id"])
    assert (shown["rating"]["value"], shown["rating"]["comment"]) == (-1, "Wrong order")


@pytest.mark.parametrize(
    "body",
    [
        {"value": 0},
        {"value": 2},
        {"value": -2},
        {"value": True},
        {"value": "1"},
        {"value": 1.0},
        {},
        {"comment": "no value"},
        {"value": 1, "comment": "x" * 1001},
        {"value": 1, "stars": 5},
        [1],
    ],
)
def test_an_invalid_rating_is_a_400_and_changes_nothing(http: httpx.Client, body: object) -> None:
    conversation, _, answer = asked_and_answered(http)
    response = rate(http, conversation, answer["id"], body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"
    assert [m["rating"] for m in transcript(http, conversation)] == [None, None]


def test_a_customer_rates_only_the_bots_answers_in_their_own_conversation(http: httpx.Client) -> None:
    mine, question, answer = asked_and_answered(http)
    theirs, _, their_answer = asked_and_answered(http)
    own = rate(http, mine, question["id"], {"value": 1})
    assert own.status_code == 409 and "Only the assistant's answers" in own.json()["error"]["message"]
    crossed = rate(http, mine, their_answer["id"], {"value": -1})  # another customer's answer, through mine
    assert crossed.status_code == 404 and crossed.json()["error"]["code"] == "message_not_found"
    assert rate(http, mine, 99_999, {"value": 1}).status_code == 404
    unknown = rate(http, "not-a-conversation", answer["id"], {"value": 1})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "conversation_not_found"
    assert rate(http, mine, "first", {"value": 1}).status_code == 400
    assert rate(http, mine, 0, {"value": 1}).status_code == 400
    assert all(m["rating"] is None for c in (mine, theirs) for m in transcript(http, c))


def test_satisfaction_is_asked_only_after_the_bot_or_an_agent_resolved_it(http: httpx.Client) -> None:
    conversation, _, _ = asked_and_answered(http)
    early = score(http, conversation, {"score": 5})
    assert early.status_code == 409 and "once it is resolved" in early.json()["error"]["message"]
    assert score(http, "not-a-conversation", {"score": 5}).status_code == 404

    solved = http.post(f"/api/conversations/{conversation}/resolve")
    assert solved.status_code == 200 and (solved.json()["status"], solved.json()["resolved_by"]) == ("resolved", "bot")
    for bad in ({"score": 0}, {"score": 6}, {"score": 3.5}, {"score": "4"}, {"score": True}, {}):
        assert score(http, conversation, bad).status_code == 400
    assert score(http, conversation, {"score": 5}).json()["score"] == 5
    assert score(http, conversation, {"score": 4, "comment": "Fast"}).json() | {"rated_at": None} == {
        "score": 4,
        "comment": "Fast",
        "rated_at": None,
    }
    customer_view = http.get(f"/api/conversations/{conversation}").json()
    assert customer_view["satisfaction"]["score"] == 4 and customer_view["resolved_by"] == "bot"

    # Handed over (the bot decides to here): the customer cannot close it, an agent can, and then it is scored.
    handed = start(http)
    say(http, handed, SENSITIVE)
    bot_replies(http, handed, 1)
    assert http.post(f"/api/conversations/{handed}/resolve").status_code == 409
    assert score(http, handed, {"score": 2}).status_code == 409
    assert inbox_action(http, handed, "resolve").json()["resolved_by"] == "agent"
    assert score(http, handed, {"score": 2}).status_code == 200
    assert (detail(http, handed)["satisfaction"]["score"], detail(http, handed)["resolved_by"]) == (2, "agent")


def test_talk_to_a_person_hands_over_with_reason_customer_and_the_bot_stays_silent(http: httpx.Client) -> None:
    conversation, _, _ = asked_and_answered(http)
    first = http.post(f"/api/conversations/{conversation}/handover")
    assert first.status_code == 200 and first.json()["status"] == "waiting"
    assert http.post(f"/api/conversations/{conversation}/handover").json()["status"] == "waiting"
    waiting = http.get("/agent/api/conversations", headers=AGENT).json()["conversations"]
    assert [(c["reason"], c["status"]) for c in waiting if c["id"] == conversation] == [("customer", "waiting")]

    say(http, conversation, "Hello, is someone there?")
    idle(http)
    assert [m["role"] for m in transcript(http, conversation)] == ["customer", "bot", "customer"]
    assert http.post("/api/conversations/not-a-conversation/handover").status_code == 404
