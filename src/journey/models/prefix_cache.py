"""Prompt reuse: the keys and values of the prompt start that every request of a set-up shares.

Every prompt of a set-up begins the same way: the chat template, the system prompt and, with knowledge
on, the data block's preamble. A backend keeps the KV cache of the longest token prefix that its recent
prompts shared, and each single-conversation generation starts from a deep copy of it (transformers'
"prompt reuse"), so only the rest of the prompt is prefilled. Causal attention makes the cached keys
and values those of a full prefill of the same tokens.
"""

from __future__ import annotations

import copy

from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer

MIN_TOKENS = 16  # a shorter shared start is not worth a copy


class PrefixCache:
    """The cached start of the prompts seen; `start` before a generation, `remember` after it."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self._cache: DynamicCache | None = None

    def shared(self, ids: list[int]) -> int:
        """How many leading tokens of `ids` the cache holds (at least one token is always left to prefill)."""
        return shared_start(self.ids, ids)

    def start(self, ids: list[int]) -> DynamicCache | None:
        """A copy of the cached keys and values of the part of `ids` they cover, or None when too little is."""
        length = self.shared(ids)
        if self._cache is None or length < MIN_TOKENS:
            return None
        cache = copy.deepcopy(self._cache)
        cache.crop(length - cache.get_seq_length())
        return cache

    def remember(self, ids: list[int], cache: object) -> None:
        """After generating from prompt `ids` with `cache` (generate's, holding the prompt and the reply):
        keep the start this prompt shares with the cached one, or this prompt's if they share too little."""
        length = self.shared(ids)
        if self._cache is not None and length >= MIN_TOKENS:
            if length < len(self.ids):
                self._cache.crop(length - len(self.ids))
                self.ids = self.ids[:length]
            return
        if not reusable(cache):
            return
        cache.crop(len(ids) - cache.get_seq_length())  # drop the reply
        self.ids, self._cache = list(ids), cache


def shared_start(cached: list[int], ids: list[int]) -> int:
    """How many leading tokens of `ids` are those of `cached`, leaving at least the last token of `ids` out."""
    length = 0
    for old, new in zip(cached, ids[:-1], strict=False):
        if old != new:
            break
        length += 1
    return length


def reusable(cache: object) -> bool:
    """A cache whose layers keep every position (no sliding window, no recurrent state), so it can be cut
    back to a prefix."""
    return type(cache) is DynamicCache and all(type(layer) is DynamicLayer for layer in cache.layers)
