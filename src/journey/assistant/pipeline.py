"""The assistant: guard input → gather knowledge → generate → answer or hand over → record.

Every set-up runs through this one pipeline; they differ only in the backend and
whether knowledge is on (docs/design.md). `identity` says who asks: lookups that require
the customer's identity run only for that customer (docs/security.md); the default,
`OWNER`, is the workspace owner's own local run, and a server passes each caller's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from journey.assistant.guards import guard_question, match_escalation, repeats_instruction
from journey.assistant.handover import ActionFilter, HandoverRule, split_action
from journey.assistant.prompts import Messages, build_messages, system_prompt
from journey.knowledge.context import Context
from journey.knowledge.identity import OWNER, Identity
from journey.models.backends import Backend, Generation
from journey.models.messages import Transfer
from journey.workspace import Settings


@dataclass
class Reply:
    """What the assistant did with one question."""

    setup: str
    question: str
    answer: str
    handed_over: bool
    reason: str | None = None  # when handed over: "rule:<name>", "model", "no-knowledge", "empty" or "output-check"
    transfer: Transfer | None = None  # when handed over by a rule or the model: the team and why
    handover_signals: dict[str, bool] | None = None  # each hand-over rule's verdict on the generated text
    context: Context | None = None
    latency_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def citations(self) -> list[str]:
        return self.context.citations if self.context else []


class Assistant:
    """One set-up's assistant. `knowledge` is None when the set-up has knowledge off; `handover` decides
    whether a generated answer hands over (default: the `assistant.handover_phrases`)."""

    def __init__(
        self, settings: Settings, backend: Backend, *, setup: str, knowledge=None, handover: HandoverRule | None = None
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.setup = setup
        self.knowledge = knowledge
        self.handover = handover or HandoverRule("phrases", tuple(settings.assistant.handover_phrases))
        self.system_prompt = system_prompt(settings)

    # -- stages ---------------------------------------------------------------
    def _prepare(self, question: str, history: Messages | None, identity: Identity) -> tuple[Reply, Messages | None]:
        """Run every stage before generation; return the reply so far and the prompt (None: no generation)."""
        start = time.perf_counter()
        guarded = guard_question(question, max_chars=self.settings.assistant.max_question_chars)
        reply = Reply(self.setup, guarded.text, "", False, warnings=list(guarded.warnings))
        if rule := match_escalation(guarded.text, self.settings.assistant.escalation):
            self._hand_over(reply, f"rule:{rule.name}", transfer=Transfer(rule.name, "escalation rule"))
        else:
            if self.knowledge is not None:
                reply.context = self.knowledge.gather(guarded.text, history, identity=identity)
                if not reply.context.confident:
                    self._hand_over(reply, "no-knowledge", self.settings.assistant.unknown_message)
            if not reply.handed_over:
                messages = build_messages(self.system_prompt, guarded.text, context=reply.context, history=history)
                reply.latency_s = time.perf_counter() - start
                return reply, messages
        reply.latency_s = time.perf_counter() - start
        return reply, None

    def _hand_over(
        self, reply: Reply, reason: str, message: str | None = None, *, transfer: Transfer | None = None
    ) -> None:
        reply.handed_over = True
        reply.reason = reason
        reply.transfer = transfer
        reply.answer = message or self.settings.assistant.handover_message

    def _finish(self, reply: Reply, generation: Generation) -> Reply:
        reply.prompt_tokens = generation.prompt_tokens
        reply.completion_tokens = generation.completion_tokens
        reply.latency_s += generation.seconds
        if generation.truncated_prompt:
            reply.warnings.append("The conversation was longer than the model's context; its start was cut.")
        text, transfer = split_action(generation.text)  # the customer never sees the action's marker
        reply.handover_signals = self.handover.signals(text, transfer)
        if not text and transfer is not None:
            self._hand_over(reply, "model", transfer=transfer)  # the action alone: nothing else to say
        elif not text:
            self._hand_over(reply, "empty", self.settings.assistant.unknown_message)
        elif repeats_instruction(text, reply.context, (reply.question, self.system_prompt)):
            self._hand_over(reply, "output-check", self.settings.assistant.unknown_message)
        elif self.handover.decide(reply.handover_signals):
            self._hand_over(reply, "model", transfer=transfer or Transfer())
        else:
            reply.answer = text
        return reply

    # -- entry points -----------------------------------------------------------
    def answer(self, question: str, history: Messages | None = None, *, identity: Identity = OWNER) -> Reply:
        """Answer one question (with optional earlier turns) asked by `identity`."""
        return self.answer_batch([(question, history)], identity=identity)[0]

    def answer_batch(self, items: list[tuple[str, Messages | None]], *, identity: Identity = OWNER) -> list[Reply]:
        """Answer many questions of one `identity`, generating in batches of `model.batch_size`."""
        prepared = [self._prepare(question, history, identity) for question, history in items]
        pending = [(reply, messages) for reply, messages in prepared if messages is not None]
        size = self.settings.model.batch_size
        max_new = self.settings.model.max_new_tokens
        for offset in range(0, len(pending), size):
            chunk = pending[offset : offset + size]
            generations = self.backend.generate([messages for _, messages in chunk], max_new_tokens=max_new)
            for (reply, _), generation in zip(chunk, generations, strict=True):
                self._finish(reply, generation)
        return [reply for reply, _ in prepared]

    def stream(
        self, question: str, history: Messages | None = None, *, identity: Identity = OWNER
    ) -> Iterator[str | Reply]:
        """Yield text pieces as they are generated, then the final `Reply` (`identity`: who asks)."""
        reply, messages = self._prepare(question, history, identity)
        if messages is None:
            yield reply.answer
            yield reply
            return
        start = time.perf_counter()
        pieces, action = [], ActionFilter()
        stream = self.backend.stream(messages, max_new_tokens=self.settings.model.max_new_tokens)
        for piece in stream:
            pieces.append(piece)
            if shown := action.feed(piece):
                yield shown
        if rest := action.close():
            yield rest
        counted = Generation("".join(pieces).strip(), 0, len(pieces), time.perf_counter() - start)
        yield self._finish(reply, getattr(stream, "generation", None) or counted)  # a server's stream counts tokens
