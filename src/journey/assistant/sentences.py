"""The hand-over sentence, learnt from past answers instead of guessed.

A support team hands a case over with one house sentence ("I'm passing you to a colleague
who…"), written again and again, nearly verbatim. Among the sentences of the tickets' final
answers (numbers, codes and capitalised names normalised away, near-verbatim variants such as
another team's name merged), a sentence is taken for the hand-over sentence when it is

1. **a template**: it ends at least `MIN_TICKETS` tickets and at least `MIN_SHARE` of them — fewer
   examples than that would not teach a model the decision anyway;
2. **said instead of an answer**: most answers carrying it (more than half) state no fact — anything
   with a digit, outside the sentence or in a slot of it — and significantly fewer state one than among
   the other answers (one-sided Fisher exact test at `ALPHA`, Bonferroni-corrected for the templates
   tested). A courtesy sentence ("Is there anything else?", the sign-off) closes answers that carry
   their facts, so it fails this;
3. **about no particular question**: it is not the case that most of the questions it closes share a
   content word with it *and* significantly more than the other questions do (the same test, the other
   way). A recurring answer to one frequent question (an FAQ answer without numbers) echoes that
   question's words, so it fails this. Both criteria ask for a majority as well as significance: with
   thousands of tickets, a significance test alone finds a few percent's difference.

Known limit: a recurring, fact-free closing answer to fact-free messages (a "You're welcome!" to a
"thanks!") passes all three; `journey finetune` prints the sentence it learnt, and a `"handover": true`
flag, a `transfer_to_human` tool call or `assistant.handover_phrases` overrule it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from scipy.stats import fisher_exact

MIN_TICKETS = 3
MIN_SHARE = 0.01
ALPHA = 0.01
SIMILAR = 0.8  # token-sequence similarity at which two normalised sentences are variants of one

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_NAME = re.compile(r"(?<=\S )[A-Z][\w'-]*(?: [A-Z][\w'-]*)*")  # a capitalised word not opening the sentence
_FACT = re.compile(r"\S*\d\S*")
_WORD = re.compile(r"[a-z]{4,}")
_FUNCTION_WORDS = frozenset(
    {
        "about", "also", "been", "could", "does", "from", "have", "here", "into", "just", "like", "more", "much",
        "only", "over", "please", "some", "than", "that", "their", "them", "then", "there", "they", "this",
        "what", "when", "where", "which", "will", "with", "would", "your", "yours",
    }
)  # fmt: skip


def sentences(text: str) -> list[str]:
    """The sentences of `text`, stripped."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip(" \t.!?")]


def normalise(sentence: str) -> str:
    """`sentence` with names → <name>, anything holding a digit → #, lower case, single spaces."""
    text = _NAME.sub("<name>", sentence.strip())
    text = _FACT.sub(lambda m: "#" + m.group()[-1] if m.group()[-1] in ".,!?;:" else "#", text)
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class LearnedSentence:
    """A hand-over sentence found in the tickets: how it reads, its normal form, and the evidence."""

    text: str  # the commonest wording
    normal: str
    tickets: int
    facts_p: float  # the test that its answers state fewer facts
    echo_p: float  # the test that its questions share its words more often (high, or a minority: they do not)

    def matches(self, sentence: str) -> bool:
        """Whether `sentence` is this sentence, nearly verbatim."""
        return similar(normalise(sentence), self.normal)


def similar(a: str, b: str) -> bool:
    """Whether two normalised sentences are the same or near-verbatim variants of one."""
    if a == b:
        return True
    x, y = a.split(), b.split()
    if min(len(x), len(y)) < 4 or min(len(x), len(y)) < SIMILAR * max(len(x), len(y)):
        return False
    return SequenceMatcher(None, x, y, autojunk=False).ratio() >= SIMILAR


def contains(text: str, learned: Iterable[LearnedSentence]) -> bool:
    """Whether `text` says one of the `learned` sentences."""
    learned = list(learned)
    return any(s.matches(sentence) for sentence in sentences(text) for s in learned)


def learn(exchanges: list[tuple[str, str]]) -> list[LearnedSentence]:
    """The hand-over sentences of past (question, final answer) pairs; commonest first (see the module doc)."""
    total = len(exchanges)
    if not total:
        return []
    said = [{normalise(s): s for s in sentences(answer)} for _, answer in exchanges]
    clusters = _clusters(Counter(n for forms in said for n in forms))
    members: dict[str, list[int]] = {}
    for index, forms in enumerate(said):
        for rep in {clusters[n] for n in forms}:
            members.setdefault(rep, []).append(index)
    floor = max(MIN_TICKETS, math.ceil(MIN_SHARE * total))
    templates = {rep: tickets for rep, tickets in members.items() if floor <= len(tickets) < total}
    alpha = ALPHA / max(1, len(templates))
    found = []
    for rep, tickets in templates.items():
        inside = set(tickets)
        wording = Counter(said[i][n] for i in tickets for n in said[i] if clusters[n] == rep).most_common(1)[0][0]
        # (2) facts in its answers and in the others; a number the sentence always says is none
        constant = set(_FACT.findall(wording))
        stating = [_states_facts(said[i], exchanges[i][1], rep, clusters, constant) for i in range(total)]
        facts_p = _fewer(stating, inside)
        if facts_p >= alpha or _share(stating, inside) >= 0.5:
            continue
        # (3) its content words in the questions it closes, and in the others
        words = set(_WORD.findall(rep)) - _FUNCTION_WORDS
        echoes = [bool(words & set(_WORD.findall(question.lower()))) for question, _ in exchanges]
        echo_p = _fewer([not e for e in echoes], inside)  # fewer non-echoing questions = more echoes
        if echo_p >= alpha or _share(echoes, inside) <= 0.5:
            found.append(LearnedSentence(wording, rep, len(tickets), facts_p, echo_p))
    return sorted(found, key=lambda s: -s.tickets)


def _clusters(counts: Counter[str]) -> dict[str, str]:
    """Each normalised sentence → its cluster's representative (the commonest variant).

    Sentences said at least twice found or join clusters; a sentence said once only joins one. Variants
    differ in a word or two, so a sentence is compared only with those that open or end as it does."""
    blocks: dict[tuple[str, ...], list[str]] = {}
    cluster = {}
    for normal, count in counts.most_common():
        words = normal.split()
        keys = (("^", *words[:2]), ("$", *words[-2:]))
        candidates = [r for key in keys for r in blocks.get(key, [])]
        rep = next((r for r in candidates if similar(normal, r)), None)
        if rep is None and count > 1:
            for key in keys:
                blocks.setdefault(key, []).append(normal)
        cluster[normal] = rep or normal
    return cluster


def _states_facts(forms: dict[str, str], answer: str, rep: str, clusters: dict[str, str], constant: set[str]) -> bool:
    """Whether `answer` states a fact: outside the sentences of cluster `rep`, or in a slot of one."""
    for normal, sentence in forms.items():
        if clusters[normal] == rep:
            if set(_FACT.findall(sentence)) - constant:
                return True
            answer = answer.replace(sentence, " ")
    return bool(_FACT.search(answer))


def _share(flags: list[bool], inside: set[int]) -> float:
    """The share of the tickets in `inside` that have the flag."""
    return sum(flags[i] for i in inside) / len(inside)


def _fewer(flags: list[bool], inside: set[int]) -> float:
    """One-sided p-value that the tickets in `inside` have the flag less often than the others."""
    a = sum(flags[i] for i in inside)
    b = sum(flags) - a
    table = [[a, len(inside) - a], [b, len(flags) - len(inside) - b]]
    return float(fisher_exact(table, alternative="less").pvalue)
