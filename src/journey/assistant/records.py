"""One typed record of a `Reply`, shared by everything that keeps or returns one.

`journey evaluate` writes it (with the question's id and fingerprint) to a run's
`answers.jsonl`; `journey serve` returns it in the API's `journey` field and stores it
with each bot message for the agents' inbox. The privacy rule lives here once
(docs/security.md): by default passages and lookups are *named* only — a passage by id,
title, source and score, a lookup by name, parameters and description; `raw` adds the
passage texts and the lookup rows. A passage's `quarantine` field is never recorded
(the passages of a reply are the ones the model was given, never a withheld one).

Light on purpose: `journey report` and `journey cost` read records without loading torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from journey.knowledge.context import Context, LookupResult, Passage

if TYPE_CHECKING:
    from journey.assistant.pipeline import Reply


class PassageRecord(BaseModel):
    """A passage the model was given: named, and quoted (`text`) only in a raw record."""

    model_config = ConfigDict(extra="ignore")  # older answers.jsonl lines also carry "quarantine": ""

    id: str
    title: str
    source: str
    score: float = 0.0
    text: str | None = None

    @classmethod
    def of(cls, passage: Passage, *, raw: bool) -> PassageRecord:
        text = passage.text if raw else None
        return cls(id=passage.id, title=passage.title, source=passage.source, score=passage.score, text=text)

    @model_serializer(mode="wrap")
    def _named_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if self.text is None:
            data.pop("text", None)  # not quoted: the key is absent, not null
        return data

    def passage(self) -> Passage:
        return Passage(self.id, self.title, self.source, self.text or "", self.score)


class LookupRecord(BaseModel):
    """A live lookup that ran: named with the parameters found in the question; its `rows` only in a raw record."""

    model_config = ConfigDict(extra="ignore")

    name: str
    params: dict[str, Any]
    description: str = ""
    rows: list[dict[str, Any]] | None = None

    @classmethod
    def of(cls, result: LookupResult, *, raw: bool) -> LookupRecord:
        return cls(
            name=result.name, params=result.params, description=result.description, rows=result.rows if raw else None
        )

    @model_serializer(mode="wrap")
    def _named_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if self.rows is None:
            data.pop("rows", None)
        return data

    def result(self) -> LookupResult:
        return LookupResult(self.name, self.params, self.rows or [], self.description)


class ReplyRecord(BaseModel):
    """What the assistant decided and was given for one answer, and what the answer cost."""

    model_config = ConfigDict(extra="ignore")

    handed_over: bool
    reason: str | None = None  # see Reply.reason
    team: str | None = None  # the team a rule or the model's transfer_to_human named (None: none named)
    handover_note: str | None = None  # why, as the transfer_to_human action said it
    handover_signals: dict[str, bool] | None = None  # see Reply.handover_signals
    passages: list[PassageRecord] = []
    lookups: list[LookupRecord] = []
    latency_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    warnings: list[str] = []

    @classmethod
    def from_reply(cls, reply: Reply, *, raw: bool) -> ReplyRecord:
        """`raw`: also the passage texts and lookup rows (for data keys, the inbox and evaluation only).

        Always a `ReplyRecord`; a subclass adds its own fields to `dict(record)`."""
        context = reply.context or Context()
        return ReplyRecord(
            handed_over=reply.handed_over,
            reason=reply.reason,
            team=reply.transfer.team or None if reply.transfer else None,
            handover_note=reply.transfer.reason or None if reply.transfer else None,
            handover_signals=reply.handover_signals,
            passages=[PassageRecord.of(p, raw=raw) for p in context.passages],
            lookups=[LookupRecord.of(r, raw=raw) for r in context.lookups],
            latency_s=reply.latency_s,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            warnings=list(reply.warnings),
        )

    @property
    def citations(self) -> list[str]:
        """What the answer was given, named as `Context.citations` names it, in prompt order."""
        return self.context().citations

    def context(self) -> Context:
        """The context back as the pipeline's record (texts and rows empty unless the record is raw)."""
        return Context([p.passage() for p in self.passages], [r.result() for r in self.lookups])

    def json_view(self) -> dict[str, Any]:
        """The record as the API and the inbox show it, with its citations; JSON-safe (lookup rows may hold
        dates or decimals, and anything else unusual becomes its str)."""
        return self.model_dump(mode="json", fallback=str) | {"citations": self.citations}
