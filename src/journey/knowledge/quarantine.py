"""Instruction-like text in the knowledge base: found when a chunk is indexed, kept out of prompts.

A help-centre article talks to customers ("Keep your receipt", "Please contact us…"). Text
that talks to the assistant instead — a notice addressed to the AI, "from now on…", "end
every answer with…", a fake chat turn, a role-play opener — is a prompt-injection attempt,
or at best a rule that belongs in the system prompt. `find_instructions` finds such
sentences with rules about *who is addressed and what is asked*, not a list of known
attacks; text in hidden carriers (HTML comments, alt and title attributes, PDF metadata)
is also checked for plain imperatives, since nobody reading the page sees it.

A flagged chunk is stored with its reason and never put in a prompt until the user
releases it (`[knowledge] released` in journey.toml: a chunk id, a document id or its path),
see docs/design.md and docs/security.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

# Who an instruction to the model is addressed to. A bare "model" is left out (product models),
# and so are human "shop/store/sales assistants".
_ADDRESSEE = (
    r"(?:A\.?I\b|artificial intelligence|(?<!shop )(?<!store )(?<!sales )(?<!personal )assistants?\b"
    r"|chat ?bots?\b|bots?\b|LLMs?\b|(?:large )?language models?\b|AI models?\b|(?:Chat)?GPT\w*)"
)
_ANSWER = r"(?:answers?|repl(?:y|ies)|responses?|outputs?|completions?)"
_PEOPLE = r"(?:customers?|users?|visitors?|callers?|shoppers?|clients?|people|members?|everyone)"

# Chat-template control tokens and role headers: a document has no business containing a turn.
CONTROL_TOKENS = re.compile(
    r"<\|[^|>\n]{1,40}\|>|\[/?INST\]|<</?SYS>>|</?s>|<(?:start|end)_of_turn>|</?data>|"
    r"</?(?:system|assistant|user|instructions?)>",
    re.IGNORECASE,
)
_ROLE_HEADER = re.compile(
    r"^[ \t>]*(?:#{1,6}[ \t]*|\*\*)?(?:system|assistant|user|human|instruction|response)(?:\*\*)?[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)

_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "addressed to the assistant",
        re.compile(
            r"\b(?:notice|note|message|instructions?|attention|memo|directive|reminder|warning|alert|command)s?"
            rf"\s+(?:to|for)\s+(?:the\s+|all\s+|any\s+|every\s+|our\s+)?(?:[\w-]+\s+)?{_ADDRESSEE}"
            rf"|\b(?:dear|hey|hello|hi|attention|attn)\b[,:!]?\s+(?:the\s+)?(?:[\w-]+\s+)?{_ADDRESSEE}"
            rf"|\bif\s+you\s+(?:are|'re)\s+(?:an?\s+|the\s+)?(?:[\w-]+\s+)?{_ADDRESSEE}"
            rf"|\b{_ADDRESSEE}\s+(?:reading|processing|parsing|summari[sz]ing)\s+this\b"
            rf"|\b{_ADDRESSEE}\s+(?:must|should|shall|has to|have to|needs? to|is to|are to"
            r"|(?:is|are) (?:required|instructed|expected) to|may not|cannot)\b"
            rf"|(?:^|[.!?]\s+)(?:the\s+)?{_ADDRESSEE}\s*[:,]\s",
            re.IGNORECASE | re.MULTILINE,
        ),
    ),
    (
        "overrides the assistant's instructions",
        re.compile(
            r"\b(?:ignore|disregard|forget|override|overrule|bypass)\b[^.!?\n]{0,30}"
            r"\b(?:previous|prior|above|earlier|preceding|system|original|your|all (?:other|prior|previous))\s+"
            r"(?:\w+\s+)?(?:instructions?|prompts?|rules|guidelines|directives|guardrails|programming|restrictions)"
            r"|\bsystem prompt\b|\bdeveloper mode\b|\bjailbr[eo]\w*|\bprompt injection\b"
            r"|\b(?:your|these are your)\s+new\s+(?:instructions|rules|directives|task|role|persona|name|identity)\b"
            r"|\bfor the rest of (?:this|the) (?:conversation|chat|session)\b"
            rf"|\bin (?:all|every|each) (?:future|subsequent|following) (?:{_ANSWER}|messages?|conversations?)",
            re.IGNORECASE,
        ),
    ),
    (
        "tells the assistant how to answer from now on",
        re.compile(
            r"\bfrom\s+(?:now|this (?:point|moment|message))\s+(?:on|onwards?|forward)\b[^.!?\n]{0,60}"
            r"\b(?:respond|reply|answer|say|tell|end|sign|act|behave|pretend|speak|talk|call yourself"
            r"|you are|you're|your (?:name|role|answers|replies|responses))\b",
            re.IGNORECASE,
        ),
    ),
    (
        "tells the assistant how to answer",
        re.compile(
            r"\b(?:always|never|only)\s+(?:respond|reply|answer|speak|talk)\s+(?:with|in|by|using|as|like)\b"
            rf"|\b(?:end|sign|finish|conclude|close|suffix)\s+(?:off\s+)?(?:every|each|all|any|your)\s+"
            rf"(?:[\w-]+\s+)?(?:{_ANSWER}|messages?)\b"
            rf"|\b(?:begin|start|open|prefix)\s+(?:every|each|all|any|your)\s+(?:[\w-]+\s+)?{_ANSWER}\b"
            r"|\b(?:include|add|append|insert|mention|put|say|write|output|print|repeat|state)\b[^.!?\n]{0,60}"
            r"\b(?:in|to|at the (?:end|start|beginning|bottom|top) of)\s+(?:every|each|all|any|your)\s+"
            r"(?:[\w-]+\s+)?(?:answers?|responses?|outputs?|completions?)\b"
            r"|\b(?:respond|reply|answer)\s+(?:to\s+)?(?:every|each|all|any)\s+(?:question|message|query|request"
            r"|customer)s?\s+(?:with|by)\b"
            rf"|\b(?:tell|inform|remind|assure)\s+(?:every|each|all|any)\s+(?:of\s+(?:the|our)\s+)?{_PEOPLE}",
            re.IGNORECASE,
        ),
    ),
    (
        "role-play opener",
        re.compile(
            r"\byou\s+(?:are|'re)\s+(?:now|no longer|henceforth)\s+(?:called|named|known as|in\s+\w+\s+mode"
            r"|an?\s+(?:[\w-]+\s+){0,2}(?:AI|assistant|bot|chatbot|character|persona|version|model)\b|DAN\b"
            r"|free\s+(?:of|from)\b|not\s+(?:bound|restricted|limited)\b)"
            r"|\b(?:pretend|imagine)\s+(?:to\s+be|you\s+are|you're|that\s+you)\b"
            r"|\brole-?play|\bplay the (?:role|part) of\b|\bstay in character\b|\bin character as\b"
            r"|\bact(?:ing)? as (?:if|though) you\b|\bact(?:ing)? as an? (?:[\w-]+\s+){0,2}(?:AI|assistant|bot"
            r"|chatbot|character|persona)\b"
            r"|\bdo anything now\b|\bcall yourself\b|\brefer to yourself as\b",
            re.IGNORECASE,
        ),
    ),
    ("role-play opener", re.compile(r"\bDAN\b")),  # "Do Anything Now", in capitals (not the name Dan)
    ("chat-template token", CONTROL_TOKENS),
    ("chat-template turn", _ROLE_HEADER),
]

# Text no reader sees (a comment, alt text, a tooltip, PDF metadata) is for machines: a plain
# imperative about what to say there is an instruction even when it names no assistant.
_HIDDEN_IMPERATIVE = re.compile(
    r"(?:^|[.!?:]\s+)(?:please\s+)?(?:always|never|tell|say|reply|respond|answer|mention|recommend|claim|promise"
    r"|inform|end|sign|append|you (?:must|should|will|are to)|do not|don't)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")


@dataclass(frozen=True)
class Finding:
    """One instruction-like span: which rule found it, and the sentence it sits in."""

    reason: str
    span: str

    def __str__(self) -> str:
        shown = self.span if len(self.span) <= 80 else self.span[:77] + "…"
        return f"{self.reason}: {shown!r}"


def find_instructions(text: str, *, hidden: bool = False) -> list[Finding]:
    """The instruction-like sentences of `text`, one finding per sentence (the first rule that hit it).

    `hidden`: the text is invisible to readers (a comment, alt text, metadata), where any imperative
    about what to say counts.
    """
    rules = _RULES + ([("imperative in hidden text", _HIDDEN_IMPERATIVE)] if hidden else [])
    found: dict[tuple[int, int], Finding] = {}
    for reason, pattern in rules:
        for match in pattern.finditer(text):
            start, end = _sentence_around(text, match.start(), match.end())
            if not any(s <= start < e or start <= s < end for s, e in found):
                found[(start, end)] = Finding(reason, " ".join(text[start:end].split()))
    return [found[key] for key in sorted(found)]


def instruction_spans(text: str) -> list[str]:
    """The text of each instruction-like sentence in `text` (for the output check)."""
    return [finding.span for finding in find_instructions(text)]


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    before = [m.end() for m in _SENTENCE_END.finditer(text, 0, start)]
    after = _SENTENCE_END.search(text, max(end - 1, start))
    first = before[-1] if before else 0
    while first < len(text) and text[first].isspace():
        first += 1
    return first, after.end() if after else len(text)


@dataclass(frozen=True)
class Release:
    """The user's `[knowledge] released` entries: chunk ids, document ids or document paths."""

    entries: tuple[str, ...]

    def naming(self, unit_id: str, source: str) -> list[str]:
        """The entries that release the document `unit_id` (shown as `source`) or one of its chunks."""
        return [e for e in self.entries if e in (unit_id, source) or e.startswith(f"{unit_id}#")]

    def stamp(self, digest: str, unit_id: str, source: str) -> str:
        """A unit's content digest, changed by the entries that name it: releasing a document re-indexes it."""
        naming = self.naming(unit_id, source)
        return hashlib.sha256("\0".join([digest, *sorted(naming)]).encode()).hexdigest() if naming else digest

    def releases(self, chunk_id: str, unit_id: str, source: str) -> bool:
        return any(e in (chunk_id, unit_id, source) for e in self.entries)

    def unused(self, used: Iterable[str]) -> list[str]:
        """Entries that released nothing: a typo, or a chunk that is no longer flagged."""
        seen = set(used)
        return [e for e in self.entries if e not in seen]
