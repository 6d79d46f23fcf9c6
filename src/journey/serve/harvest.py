"""`journey harvest`: what agents and customers taught the served bot, out of the app database, redacted, for review.

From each conversation an agent resolved, a ticket in the tickets.jsonl contract (docs/design.md) that
teaches what the bot should have done in that case:
- the bot answered and the answer failed (rated down, or the customer asked for a person): answer as the
  agent did — the customer's turns and the agents' replies, no hand-over mark;
- the bot handed over by itself (a rule or its own decision) and an agent took it from there: hand over —
  the customer's turns up to the hand-over and, as the final turn, the bot's hand-over message with a
  `transfer_to_human` tool call naming the team and reason. The agent's reply is not the bot's to say: marked
  as a hand-over's text, a fine-tune would learn to hand over *and* promise what only the agent did.
From each
thumbs-down bot answer that the next agent reply corrected (with only the customer's turns and the bot's
hand-over between them): a DPO pair, chosen = the agent's reply, rejected = the bot's answer. From every
rated bot answer: a KTO label. The prompt of a pair or label is what the served model was given: an augmented
set-up's answer carries its data block (the stored record's passages and rows) before the customer's last turn,
so `preference-tuned+augmented` trains on the prompts it answers. The files are named in
journey.training.preferences.

Every text is redacted first (journey.redact: e-mail addresses, phone numbers, IBANs, card numbers, and
the conversation's customer: their name, their verified identity fields, their names in the company
database if harvest.names_sql says where): if any text fails, nothing is written. The three files are
written whole, each write then rename. Nothing reads them by itself: the user reviews them first. A file
changed since journey wrote it (a review's edits) is replaced only with `force`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from journey.assistant.prompts import user_turn
from journey.assistant.records import LookupRecord, PassageRecord
from journey.errors import UserError
from journey.io import atomic_write_json, atomic_write_text
from journey.knowledge.context import Context
from journey.knowledge.database import describe_error, fetch, read_only_engine, read_only_statement
from journey.models.messages import Messages, Transfer
from journey.redact import RedactionFailed, Redactor, name_parts
from journey.serve.store import CUSTOMER_REQUEST, UNNAMED_CUSTOMER, Conversation, Handover, Message, Store, as_utc
from journey.training.preferences import HarvestPaths, harvest_paths
from journey.workspace import HarvestSettings, Workspace, resolve_sqlite_url

MANIFEST = "harvest.json"  # in .journey/: the hash of each file as journey wrote it
NAME_FIELDS = ("name", "full_name", "first_name", "last_name")  # identity fields that hold a name
ROLES = {"customer": "user", "bot": "assistant", "agent": "assistant"}
Redact = Callable[[str], str]


@dataclass
class HarvestReport:
    """What a harvest found and where it wrote it."""

    paths: HarvestPaths
    conversations: list[dict] = field(default_factory=list)
    pairs: list[dict] = field(default_factory=list)
    labels: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        p = self.paths
        return (
            f"Harvested {len(self.conversations)} resolved conversation(s) to {p.conversations}, "
            f"{len(self.pairs)} preference pair(s) to {p.pairs} and {len(self.labels)} rated answer(s) to "
            f"{p.labels}, personal data redacted. Review them before use: nothing reads them by itself."
        )


def harvest(workspace: Workspace, *, force: bool = False) -> HarvestReport:
    """Read the app database's resolved conversations and ratings, redact them, and write the three files."""
    paths = harvest_paths(workspace)
    _check_unchanged(workspace, paths, force=force)
    url = resolve_sqlite_url(workspace.settings.serve.database, workspace.root)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise UserError(f"No app database at {url.removeprefix('sqlite:///')}: run `journey serve` first.")
    store = Store(url)
    try:
        report = HarvestReport(paths)
        names = _names_lookup(workspace)
        redactor = Redactor(workspace.settings.harvest.keep, workspace.settings.harvest.keep_patterns)
        for conversation in store.with_feedback():
            known = _known(conversation, store.messages(conversation.id), names)
            _add(report, store, conversation, lambda text, known=known: redactor.redact(text, known))
    finally:
        store.close()
    if not (report.conversations or report.pairs or report.labels):
        raise UserError(
            f"Nothing to harvest in {url}: no conversation was resolved by an agent and no bot answer was rated; "
            "nothing was written."
        )
    _write(workspace, report)
    return report


def _add(report: HarvestReport, store: Store, conversation: Conversation, redact: Redact) -> None:
    """The conversation's ticket, pairs and labels, redacted, onto `report`."""
    messages = store.messages(conversation.id)
    ratings = store.ratings(conversation.id)
    resolved = [h for h in store.handovers(conversation.id) if h.outcome == "resolved" and h.closed_at]
    if resolved and (lesson := _ticket(messages, ratings, max(resolved, key=lambda h: as_utc(h.closed_at)))):
        turns, transfer = lesson
        ticket = _redacted(turns, redact)
        if transfer is not None:
            ticket[-1]["tool_calls"] = [Transfer(transfer.team, redact(transfer.reason)).tool_call()]
        report.conversations.append({"messages": ticket})
    for index, message in enumerate(messages):
        rating = ratings.get(message.id)
        if rating is None or message.role != "bot":
            continue
        prompt = _redacted(_as_given(_turns(messages[:index]), message), redact)
        answer = [{"role": "assistant", "content": redact(message.content)}]
        if not prompt or prompt[-1]["role"] != "user":
            continue
        report.labels.append({"prompt": prompt, "completion": answer, "label": rating.value > 0})
        correction = _correction(messages[index + 1 :])
        if rating.value < 0 and correction is not None and not _handed_over(message):
            chosen = [{"role": "assistant", "content": redact(correction.content)}]
            report.pairs.append({"prompt": prompt, "chosen": chosen, "rejected": answer})


def _ticket(messages: list[Message], ratings: dict, handover: Handover) -> tuple[Messages, Transfer | None] | None:
    """The lesson of a conversation an agent resolved through `handover` (see the module's docstring): its
    turns (unredacted) and the hand-over its final turn makes, if any; None when it has no such lesson."""
    until, opened = as_utc(handover.closed_at), as_utc(handover.created_at)
    before = [m for m in messages if as_utc(m.created_at) <= opened]
    answers = [m for m in before if m.role == "bot" and not _handed_over(m)]
    rated_down = any((rating := ratings.get(m.id)) is not None and rating.value < 0 for m in answers)
    transfer = None
    if rated_down or handover.reason == CUSTOMER_REQUEST:  # the bot's answer failed: answer as the agent did
        turns = _turns([m for m in messages if m.role != "bot" and as_utc(m.created_at) <= until])
        while turns and turns[-1]["role"] != "assistant":
            turns.pop()
    else:  # the bot handed over by itself: hand over as it did, to the team and for the reason it did
        handing = [m for m in before if m.role == "bot" and _handed_over(m)]
        if not handing:
            return None
        turns = _turns([m for m in before if m.role == "customer" and m.id < handing[-1].id] + handing[-1:])
        transfer = Transfer(handover.team or "", handover.reason)
    if not turns or turns[0]["role"] != "user" or turns[-1]["role"] != "assistant":
        return None
    return turns, transfer


def _correction(after: list[Message]) -> Message | None:
    """The agent's reply that answers in the bot's place: the first one, if only the customer's turns and the
    bot's hand-over come before it (a pair whose rejected answer is itself a hand-over would teach not to hand over,
    so the caller skips those)."""
    for message in after:
        if message.role == "agent":
            return message
        if message.role == "bot" and not _handed_over(message):
            return None
    return None


def _as_given(turns: Messages, answer: Message) -> Messages:
    """`turns` as the model was given them before `answer`: the customer's last turn behind the data block of
    the answer's record (an augmented set-up's passages and lookup rows, assistant/prompts.py), so that a
    preference stage trains on the prompt the served model answered. Unchanged without a recorded context."""
    record = answer.meta or {}
    context = Context(
        [PassageRecord.model_validate(p).passage() for p in record.get("passages") or []],
        [LookupRecord.model_validate(r).result() for r in record.get("lookups") or []],
    )
    given = context.passages or context.lookups
    if not given or not turns or turns[-1]["role"] != "user":
        return turns
    return [*turns[:-1], {"role": "user", "content": user_turn(turns[-1]["content"], context)}]


def _handed_over(message: Message) -> bool:
    return bool((message.meta or {}).get("handed_over"))


def _turns(messages: list[Message]) -> Messages:
    """Chat turns (customer → user, bot and agent → assistant), consecutive turns of one role joined."""
    turns: Messages = []
    for message in messages:
        role = ROLES[message.role]
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n\n" + message.content
        else:
            turns.append({"role": role, "content": message.content})
    return turns


def _redacted(turns: Messages, redact: Redact) -> Messages:
    return [{"role": turn["role"], "content": redact(turn["content"])} for turn in turns]


def _known(conversation: Conversation, messages: list[Message], names: Callable[[dict], list[str]]) -> dict[str, str]:
    """The conversation's own personal values and their placeholders: the customer's name (the chat page's,
    the identity's, the company database's), every verified identity field, and the agents' names."""
    identity = conversation.identity or {}
    known: dict[str, str] = {}
    for author in {m.author for m in messages if m.role == "agent" and m.author}:
        known |= dict.fromkeys(name_parts(author), "<AGENT>")
    for field_name, value in identity.items():
        if isinstance(value, str) and field_name not in NAME_FIELDS:
            known[value] = "<EMAIL>" if field_name == "email" else f"<{field_name.upper()}>"
    customer = [] if conversation.customer.strip() == UNNAMED_CUSTOMER else [conversation.customer]
    for name in [*customer, *(str(identity[f]) for f in NAME_FIELDS if identity.get(f)), *names(identity)]:
        known |= dict.fromkeys(name_parts(name), "<NAME>")
    return known


def _names_lookup(workspace: Workspace) -> Callable[[dict], list[str]]:
    """The customer's names in the company database (harvest.names_sql bound to identity fields), each row's
    text columns joined into one name; a query that fails fails the redaction."""
    settings: HarvestSettings = workspace.settings.harvest
    if not settings.names_sql:
        return lambda identity: []
    if not settings.names_database:
        raise UserError("journey.toml: harvest.names_sql needs harvest.names_database, the database it runs on.")
    engine = read_only_engine(workspace.database_url(settings.names_database))
    statement = read_only_statement(settings.names_sql, "harvest.names_sql", engine.dialect.name)
    wanted = sorted(statement.compile().params)

    def names(identity: dict) -> list[str]:
        if not wanted or any(not isinstance(identity.get(name), str) for name in wanted):
            return []
        try:
            rows = fetch(engine, statement, {name: identity[name] for name in wanted}, limit=5)
        except SQLAlchemyError as exc:
            raise RedactionFailed(
                f"Redaction failed: harvest.names_sql did not run ({describe_error(exc)}); nothing was written."
            ) from None
        return [" ".join(value for value in row.values() if isinstance(value, str)) for row in rows]

    return names


def _lines(records: list[dict]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def _write(workspace: Workspace, report: HarvestReport) -> None:
    """The three files (each write then rename), then the manifest of what journey wrote."""
    p = report.paths
    texts = {p.conversations: report.conversations, p.pairs: report.pairs, p.labels: report.labels}
    texts = {path: _lines(records) for path, records in texts.items()}
    for path, text in texts.items():
        atomic_write_text(path, text)
    manifest = {path.name: hashlib.sha256(text.encode()).hexdigest() for path, text in texts.items()}
    atomic_write_json(workspace.state_dir / MANIFEST, manifest)


def _check_unchanged(workspace: Workspace, paths: HarvestPaths, *, force: bool) -> None:
    """Refuse to replace a harvested file journey did not write as it is now (a reviewer edited it) unless `force`."""
    manifest_path = workspace.state_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    for path in (paths.conversations, paths.pairs, paths.labels):
        if force or not path.is_file():
            continue
        if manifest.get(path.name) != hashlib.sha256(path.read_bytes()).hexdigest():
            raise UserError(
                f"{path} changed since `journey harvest` wrote it (or journey did not write it): move it away "
                "once reviewed, or pass --force to replace it."
            )
