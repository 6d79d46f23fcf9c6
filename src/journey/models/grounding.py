"""Grounded generation: a fact the model writes (number, price, date, code, e-mail) is copied from its prompt.

`GroundedFacts` is a transformers `LogitsProcessor`. The facts a prompt states
(`journey.facts.stated_facts`, the definition evaluation counts ungrounded facts by) are
tokenised as they can appear — glued to what precedes them and after a space — into one
prefix trie of token ids per row. While decoding, each row keeps the trie nodes that the
tokens since a fact could have started lead to (its *live* nodes):

- a fact-like token (one with a digit or an '@', found once per tokenizer as a mask) is
  allowed only where it continues a live node or starts a fact at a word boundary;
- once one is written the row is inside a fact, and until a node that ends a fact is
  reached only the trie's continuations are allowed — a fact split over tokens is completed;
- where no fact can go on, fact-like tokens are masked, so the model says its sentence
  without the number rather than with an invented one.

Per step the work is one masked fill per row plus a walk over that row's live nodes.
Only the in-process backend can do this; an OpenAI-compatible server samples out of our reach.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
from transformers import LogitsProcessor, PreTrainedTokenizerBase

from journey.facts import stated_facts
from journey.models.messages import Messages

_FACT_CHAR = re.compile(r"[\d@]")
# After one of these (or whitespace, or at the reply's start) a fact may start glued: "(12", "€49.90", "#5521".
_OPENERS = "([{\"'#€$£¥<*«“‘"


@dataclass(frozen=True)
class TokenClasses:
    """What each token of a vocabulary can do to a fact, decided once per tokenizer."""

    fact_like: torch.Tensor  # bool [vocab]: the token has a digit or an '@'
    spaced: list[bool]  # the token starts with whitespace: it begins a new word
    opens: list[bool]  # the token ends with whitespace or an opener: a fact may start right after it

    @classmethod
    def of(cls, tokenizer: PreTrainedTokenizerBase, vocab_size: int) -> TokenClasses:
        """Classify every token id below `vocab_size` (the model's logits width, which may exceed the tokenizer's)."""
        ids = list(range(len(tokenizer)))
        texts = tokenizer.batch_decode([[i] for i in ids])
        pieces = tokenizer.convert_ids_to_tokens(ids)
        # SentencePiece marks a leading space with "▁", which decoding one token drops.
        texts = [
            " " + t if p.startswith("▁") and not t.startswith(" ") else t for t, p in zip(texts, pieces, strict=True)
        ]
        texts += [""] * (vocab_size - len(texts))
        fact_like = torch.tensor([bool(_FACT_CHAR.search(t)) for t in texts[:vocab_size]], dtype=torch.bool)
        spaced = [t[:1].isspace() for t in texts]
        opens = [bool(t) and (t[-1].isspace() or t[-1] in _OPENERS) for t in texts]
        return cls(fact_like, spaced, opens)


@dataclass(eq=False)
class Node:
    """A trie node: the token ids that continue a fact from here, and whether a fact ends here."""

    children: dict[int, Node] = field(default_factory=dict)
    complete: bool = False
    _ids: torch.Tensor | None = field(default=None, init=False, repr=False)

    def ids(self) -> torch.Tensor:
        """The continuing token ids as a tensor (built on first use)."""
        if self._ids is None:
            self._ids = torch.tensor(list(self.children), dtype=torch.long)
        return self._ids


@dataclass(eq=False)
class FactTrie:
    """The token-id prefix trie of a prompt's facts, with the fact-like ways to start one."""

    root: Node
    spaced_starts: torch.Tensor  # fact-like first tokens that begin a word: allowed anywhere
    glued_starts: torch.Tensor  # fact-like first tokens without a space: allowed after whitespace or an opener

    @classmethod
    def build(cls, facts: Iterable[str], tokenizer: PreTrainedTokenizerBase, classes: TokenClasses) -> FactTrie:
        """The trie of `facts`, each tokenised glued and after a space."""
        variants = sorted({v for fact in facts for v in (fact, " " + fact)})
        root = Node()
        for ids in tokenizer(variants, add_special_tokens=False)["input_ids"] if variants else []:
            node = root
            for token in ids:
                node = node.children.setdefault(token, Node())
            node.complete = True
        starts = [t for t in root.children if t < len(classes.fact_like) and classes.fact_like[t]]
        spaced = [t for t in starts if classes.spaced[t]]
        glued = [t for t in starts if not classes.spaced[t]]
        return cls(root, torch.tensor(spaced, dtype=torch.long), torch.tensor(glued, dtype=torch.long))


@dataclass(eq=False)
class _Row:
    """One row's decoding state: its live trie nodes, each marked when a fact-like token led to it."""

    trie: FactTrie
    live: list[tuple[Node, bool]] = field(default_factory=list)
    may_start: bool = True  # the reply's start, or the last token ended with whitespace or an opener

    def advance(self, token: int, classes: TokenClasses) -> None:
        """Follow `token` from every live node, and from the root where a fact may start."""
        fact_like = bool(classes.fact_like[token]) if token < len(classes.fact_like) else False
        moved = [(node.children[token], in_fact or fact_like) for node, in_fact in self.live if token in node.children]
        spaced = classes.spaced[token] if token < len(classes.spaced) else False
        if (spaced or self.may_start) and token in self.trie.root.children:
            moved.append((self.trie.root.children[token], fact_like))
        self.live = list({(id(node), in_fact): (node, in_fact) for node, in_fact in moved}.values())
        self.may_start = classes.opens[token] if token < len(classes.opens) else False

    def allowed(self) -> tuple[bool, list[torch.Tensor]]:
        """(only these tokens?, the token ids allowed beyond non-fact-like ones)."""
        inside = [node for node, in_fact in self.live if in_fact]
        if inside and not any(node.complete for node in inside):
            return True, [node.ids() for node in inside]  # inside an unfinished fact: finish it
        ids = [node.ids() for node, _ in self.live if node.children]
        ids.append(self.trie.spaced_starts)
        if self.may_start:
            ids.append(self.trie.glued_starts)
        return False, ids


class GroundedFacts(LogitsProcessor):
    """Mask every fact-like token that would not copy one of its row's prompt facts (greedy or sampling, no beams)."""

    def __init__(self, tries: list[FactTrie], classes: TokenClasses) -> None:
        self.rows = [_Row(trie) for trie in tries]
        self.classes = classes
        self._length: int | None = None  # input length at the last call; the first call sees the prompt

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self._length is not None:
            for column in input_ids[:, self._length :].T.tolist():
                for row, token in zip(self.rows, column, strict=True):
                    row.advance(token, self.classes)
        self._length = input_ids.shape[1]
        fact_like = self.classes.fact_like.to(scores.device)
        for index, row in enumerate(self.rows):
            only, ids = row.allowed()
            keep = torch.cat(ids).to(scores.device) if ids else torch.empty(0, dtype=torch.long)
            kept = scores[index, keep]
            if only:
                scores[index].fill_(-float("inf"))
            else:
                scores[index].masked_fill_(fact_like, -float("inf"))
            scores[index, keep] = kept
        return scores


class Grounder:
    """Builds the `GroundedFacts` of each generation for one tokenizer; every in-process backend owns one.
    The vocabulary is classified once, on the first grounded generation."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, vocab_size: int) -> None:
        self.tokenizer = tokenizer
        self.vocab_size = vocab_size
        self._classes: TokenClasses | None = None

    @property
    def classes(self) -> TokenClasses:
        if self._classes is None:
            self._classes = TokenClasses.of(self.tokenizer, self.vocab_size)
        return self._classes

    def processor(self, conversations: list[Messages]) -> GroundedFacts:
        """The processor that keeps each row's facts to its own conversation's."""
        tries = [FactTrie.build(prompt_facts(m), self.tokenizer, self.classes) for m in conversations]
        return GroundedFacts(tries, self.classes)


def prompt_facts(messages: Messages) -> set[str]:
    """Every fact the conversation states: system prompt, data block, question and earlier turns."""
    return stated_facts("\n".join(str(message.get("content") or "") for message in messages))
