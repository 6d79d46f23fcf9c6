"""Customer conversations: store every message, let the bot answer while it may, notify live listeners.

The bot answers a customer message only while the conversation is the bot's (`bot` or
`resolved`); after a hand-over it stays silent until an agent hands the conversation back.
Turns of one conversation run one after another, so each sees the replies before it.
Each turn is answered for the conversation's verified customer identity, if it has one
(serve/identity.py); without one, lookups that require it do not run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any
from weakref import WeakValueDictionary

from starlette.concurrency import run_in_threadpool

from journey.assistant import Assistant, Reply
from journey.knowledge.identity import ANONYMOUS, Identity
from journey.serve.events import Hub
from journey.serve.schemas import message_view, reply_meta
from journey.serve.store import BOT_CAN_SPEAK, Conflict, Conversation, Message, Store
from journey.serve.worker import ModelWorker

log = logging.getLogger(__name__)


class Conversations:
    """What customers and agents do to a conversation, with the events their pages listen to."""

    def __init__(self, store: Store, hub: Hub, worker: ModelWorker, assistant: Assistant) -> None:
        self.store = store
        self.hub = hub
        self.worker = worker
        self.assistant = assistant
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- customers -------------------------------------------------------------
    async def start(self, customer: str, identity: Identity = ANONYMOUS) -> Conversation:
        """A new conversation, answered from now on for `identity` (verified by the caller)."""
        return await run_in_threadpool(
            self.store.create_conversation, customer or "Customer", self.assistant.setup, identity.fields
        )

    async def post(self, conversation_id: str, content: str, client_id: str | None) -> Message:
        """Store a customer message (once per client id) and, if the bot may answer, queue its turn."""
        before = await run_in_threadpool(self.store.conversation, conversation_id)
        bot_answers = before.status in BOT_CAN_SPEAK
        if bot_answers:
            self.worker.admit()
        message, new = await run_in_threadpool(self.store.add_customer_message, conversation_id, content, client_id)
        if new:
            self._publish_message(message)
            if before.status == "resolved":
                self._publish_status(conversation_id, "bot", None)
            if bot_answers:
                self._spawn(self._turn(conversation_id, message.id))
        return message

    async def request_human(self, conversation_id: str) -> Conversation:
        """The customer asks for a person: the conversation waits in the agents' inbox (reason `customer`)."""
        conversation = await run_in_threadpool(self.store.request_human, conversation_id)
        self._publish_status(conversation_id, conversation.status, conversation.agent)
        return conversation

    async def resolve_by_customer(self, conversation_id: str) -> Conversation:
        """The customer says the bot's answer solved it."""
        conversation = await run_in_threadpool(self.store.resolve_by_customer, conversation_id)
        self._publish_status(conversation_id, conversation.status, None)
        return conversation

    async def resume_unanswered(self) -> None:
        """Answer customer messages a previous run of the server accepted but did not get to."""
        for conversation_id, message_id in await run_in_threadpool(self.store.unanswered):
            self._spawn(self._turn(conversation_id, message_id))

    # -- agents ----------------------------------------------------------------
    async def claim(self, conversation_id: str, agent: str) -> Conversation:
        conversation = await run_in_threadpool(self.store.claim, conversation_id, agent)
        self._publish_status(conversation_id, conversation.status, agent)
        return conversation

    async def agent_reply(self, conversation_id: str, agent: str, content: str) -> Message:
        message = await run_in_threadpool(self.store.agent_reply, conversation_id, agent, content)
        self._publish_message(message)
        return message

    async def close_handover(self, conversation_id: str, agent: str, outcome: str) -> Conversation:
        conversation = await run_in_threadpool(self.store.close_handover, conversation_id, agent, outcome)
        self._publish_status(conversation_id, conversation.status, None)
        return conversation

    async def close(self) -> None:
        """Cancel turns still running (their customer messages are stored and answered after a restart)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- the bot's turn ----------------------------------------------------------
    def _spawn(self, turn: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(turn)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock

    async def _turn(self, conversation_id: str, message_id: int) -> None:
        async with self._lock(conversation_id):
            conversation = await run_in_threadpool(self.store.conversation, conversation_id)
            if conversation.status not in BOT_CAN_SPEAK:
                return  # handed over meanwhile: the bot stays silent
            transcript = await run_in_threadpool(self.store.messages, conversation_id)
            question, history = _turn_input(transcript, message_id)
            identity = Identity(conversation.identity) if conversation.identity else ANONYMOUS
            try:
                reply = await self._generate(conversation_id, message_id, question, history, identity)
                # Stored whole for the agents' inbox; customers are shown the citations only (message_view).
                meta = reply_meta(reply, raw=True)
                content, handover = reply.answer, reply.reason if reply.handed_over else None
            except Exception:
                log.exception("The assistant failed; handing the conversation to the agents")
                handover = "error"
                content, meta = (
                    self.assistant.settings.assistant.handover_message,
                    {"handed_over": True, "reason": handover},
                )
            try:
                message = await run_in_threadpool(self.store.add_bot_reply, conversation_id, content, meta, handover)
            except Conflict:
                return
            self._publish_message(message)
            if handover:
                self._publish_status(conversation_id, "waiting", None)

    async def _generate(
        self, conversation_id: str, message_id: int, question: str, history: list[dict[str, str]], identity: Identity
    ) -> Reply:
        async for item in self.worker.iterate(lambda: self.assistant.stream(question, history, identity=identity)):
            if isinstance(item, Reply):
                return item
            self.hub.publish(conversation_id, {"event": "delta", "data": {"reply_to": message_id, "text": item}})
        raise RuntimeError("the assistant stream ended without a reply")

    def _publish_message(self, message: Message) -> None:
        self.hub.publish(message.conversation_id, {"event": "message", "id": message.id, "data": message_view(message)})

    def _publish_status(self, conversation_id: str, status: str, agent: str | None) -> None:
        self.hub.publish(conversation_id, {"event": "status", "data": {"status": status, "agent": agent}})


def _turn_input(transcript: list[Message], message_id: int) -> tuple[str, list[dict[str, str]]]:
    """The customer message `message_id` and the turns before it, in chat format (agents speak as the assistant)."""
    question = next(m.content for m in transcript if m.id == message_id)
    history = [
        {"role": "user" if m.role == "customer" else "assistant", "content": m.content}
        for m in transcript
        if m.id < message_id
    ]
    return question, history
