"""Split document sections into overlapping chunks, sized in the embedding model's tokens.

Chunks never cross a heading (or PDF page); inside a section they break between
sentences (or list items and table rows) and only cut a sentence that alone is too long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from journey.knowledge.documents import Section

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_LINE_ITEM = re.compile(r"^\s*([-*+|>]|\d+[.)])\s")


@dataclass(frozen=True)
class Chunk:
    text: str
    heading: str
    location: str


@dataclass(frozen=True)
class _Piece:
    text: str
    separator: str  # joins this piece to the one before it
    tokens: int


class Chunker:
    def __init__(self, tokenizer: PreTrainedTokenizerBase, max_tokens: int, overlap: int) -> None:
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.overlap = min(overlap, max_tokens // 2)

    def split(self, sections: list[Section]) -> list[Chunk]:
        return [
            Chunk(text, section.heading, section.location)
            for section in sections
            for text in self._split_text(section.text)
        ]

    def _split_text(self, text: str) -> list[str]:
        pieces = self._pieces(text)
        chunks: list[str] = []
        current: list[_Piece] = []
        for piece in pieces:
            if piece.tokens > self.max_tokens:
                chunks += [_join(current)] if current else []
                chunks += self._cut(piece.text)
                current = []
                continue
            if current and sum(p.tokens for p in current) + piece.tokens > self.max_tokens:
                chunks.append(_join(current))
                current = self._overlap(current, room=self.max_tokens - piece.tokens)
            current.append(piece)
        if current:
            chunks.append(_join(current))
        return chunks

    def _pieces(self, text: str) -> list[_Piece]:
        """Sentences of prose paragraphs; whole lines of lists and tables."""
        units: list[tuple[str, str]] = []
        for paragraph in _PARAGRAPH.split(text.strip()):
            lines = [line.rstrip() for line in paragraph.splitlines() if line.strip()]
            if any(_LINE_ITEM.match(line) for line in lines):
                parts, separator = lines, "\n"
            else:
                parts, separator = _SENTENCE_END.split(" ".join(line.strip() for line in lines)), " "
            units += [("\n\n" if i == 0 else separator, part) for i, part in enumerate(parts) if part]
        if not units:
            return []
        counts = self.tokenizer([part for _, part in units], add_special_tokens=False)["input_ids"]
        return [_Piece(part, sep, len(ids)) for (sep, part), ids in zip(units, counts, strict=True)]

    def _overlap(self, previous: list[_Piece], room: int) -> list[_Piece]:
        """The trailing pieces of the previous chunk that fit in the overlap budget."""
        budget, kept = min(self.overlap, room), []
        for piece in reversed(previous[1:]):
            if piece.tokens > budget:
                break
            budget -= piece.tokens
            kept.insert(0, piece)
        return kept

    def _cut(self, text: str) -> list[str]:
        """Token windows over one over-long sentence, overlapping by `overlap` tokens."""
        offsets = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        step = self.max_tokens - self.overlap
        return [
            text[offsets[start][0] : offsets[min(start + self.max_tokens, len(offsets)) - 1][1]]
            for start in range(0, max(len(offsets) - self.overlap, 1), step)
        ]


def _join(pieces: list[_Piece]) -> str:
    return "".join(p.separator + p.text for p in pieces).strip()
