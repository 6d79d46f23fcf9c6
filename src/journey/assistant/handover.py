"""The hand-over as an action: `transfer_to_human(team, reason)`, and how the pipeline decides a hand-over.

A fine-tuned model learns to hand over by saying the action as a reserved marker line,
`<transfer_to_human team="…" reason="…">`, at the start of its answer (finetune/raft.py trains it).
One marker for every model: SmolLM2's chat template, like most small models', renders no tools, and
the native tool-call formats of those that do differ per family; the marker is plain text in the
assistant turn, so it goes through any chat template and any backend. The pipeline parses it, strips
it from what the customer sees — also while streaming, where a marker may arrive split across
pieces — and passes team and reason on.

Set-ups whose model never learnt the action keep a phrase rule on the answer's text: the hand-over
sentence learnt from the tickets (assistant/sentences.py), unless `assistant.handover_phrases` is set.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from journey.assistant.sentences import LearnedSentence, contains, learn
from journey.io import read_jsonl
from journey.models.adapters import training_info
from journey.models.messages import ARGUMENTS, TOOL, Transfer, final_exchange, to_messages
from journey.workspace import Workspace

TAG = f"<{TOOL}"
_OPENING = re.compile(rf"{TAG}(?=[\s/>]|$)")  # the marker begins: "<transfer_to_human" and not "…humanoid"
_ATTRIBUTE = re.compile(r"(\w+)=\"([^\"]*)\"")


def marker(transfer: Transfer) -> str:
    """The reserved line a fine-tuned model says to hand over."""
    attributes = "".join(f' {key}="{_escape(getattr(transfer, key))}"' for key in ARGUMENTS)
    return f"<{TOOL}{attributes}>"


def _escape(value: str) -> str:
    return html.escape(" ".join(value.split()), quote=True)


class ActionFilter:
    """Feed generated text piece by piece; get back what the customer may see, without the marker.

    Text from a "<" that may still become the marker is held back until it does (then it is dropped
    and `transfer` set) or cannot (then it is let through). `close()` ends the text: a marker cut off
    by the token limit still counts as the action, and is never shown.
    """

    def __init__(self) -> None:
        self.transfer: Transfer | None = None
        self._held = ""
        self._after_marker = False

    def feed(self, piece: str) -> str:
        """The part of the text so far that can be shown now."""
        text, shown = self._held + piece, []
        self._held = ""
        while text:
            if self._after_marker:  # the line break after the marker
                text = text.lstrip()
                self._after_marker = not text
                continue
            start = text.find("<")
            if start < 0:
                shown.append(text)
                break
            shown.append(text[:start])
            text = text[start:]
            opening = _OPENING.match(text)
            if opening or TAG.startswith(text):  # the marker, or what may still become it
                end = text.find(">")
                if end < 0:
                    self._held = text
                    break
                if opening:
                    self._take(text[len(TAG) : end])
                    text = text[end + 1 :]
                    continue
            shown.append(text[0])
            text = text[1:]
        return "".join(shown)

    def close(self) -> str:
        """The rest of the text once generation ended."""
        held, self._held = self._held, ""
        if _OPENING.match(held):  # a marker the token limit cut off
            self._take(held[len(TAG) :])
            return ""
        return held

    def _take(self, attributes: str) -> None:
        values = {key: html.unescape(value) for key, value in _ATTRIBUTE.findall(attributes)}
        self.transfer = self.transfer or Transfer(values.get("team", ""), values.get("reason", ""))
        self._after_marker = True


def split_action(text: str) -> tuple[str, Transfer | None]:
    """`text` without the marker, and the action it carried (None: no hand-over action)."""
    action = ActionFilter()
    visible = action.feed(text) + action.close()
    return visible.strip(), action.transfer


Decider = Literal["action", "phrases", "sentences"]


@dataclass(frozen=True)
class HandoverRule:
    """How the pipeline decides that a generated answer hands over.

    `by`: "action" (the model said `transfer_to_human`), "phrases" (any of `phrases` in the answer) or
    "sentences" (a learnt hand-over sentence in it); only that one decides. `signals` gives every rule's
    verdict, for the paired comparison in `journey evaluate`.
    """

    by: Decider = "phrases"
    phrases: tuple[str, ...] = ()
    sentences: tuple[LearnedSentence, ...] = ()

    def signals(self, text: str, transfer: Transfer | None) -> dict[str, bool]:
        lowered = text.lower()
        return {
            "action": transfer is not None,
            "phrases": any(phrase.lower() in lowered for phrase in self.phrases),
            "sentences": contains(text, self.sentences),
        }

    def decide(self, signals: dict[str, bool]) -> bool:
        return signals[self.by]


def rule_for(workspace: Workspace, adapter: Path | None) -> HandoverRule:
    """The hand-over rule of a set-up: `assistant.handover_by` when set; on "auto", the user's
    `assistant.handover_phrases` when set, else the hand-over sentence learnt from the tickets, else the
    action when the adapter learnt it (`journey finetune` records that), else the default phrases.

    The learnt sentence comes before the action because that is what measured better: on the demo's
    development split, after 20 LoRA steps, the model said the action on 40 answers that needed none and
    on none of the 12 hand-overs, while its wording carried the learnt sentence where it belonged
    (docs/finetuning.md)."""
    settings = workspace.settings.assistant
    phrases = tuple(settings.handover_phrases)
    learned = tuple(learned_sentences(workspace.tickets_path))
    by: Decider
    if settings.handover_by != "auto":
        by = settings.handover_by
    elif "handover_phrases" in settings.model_fields_set:
        by = "phrases"
    elif learned:
        by = "sentences"
    elif adapter is not None and training_info(adapter).get("handover") == "action":
        by = "action"
    else:
        by = "phrases"
    return HandoverRule(by, phrases, learned)


def learned_sentences(tickets: Path) -> list[LearnedSentence]:
    """The hand-over sentences of a tickets file, learnt as `journey finetune` learns them ([] without one)."""
    if not tickets.is_file():
        return []
    parsed = [to_messages(item[1]) for item in read_jsonl(tickets) if isinstance(item, tuple)]
    return learn([final_exchange(p[0]) for p in parsed if not isinstance(p, str)])
