"""Packed token streams: documents joined with EOS, cut into rows of `seq_len`, some held out."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import Dataset
from transformers import PreTrainedTokenizerFast

from journey.errors import UserError

MAX_VAL_TOKENS = 16_384  # enough for a stable perplexity, small enough to evaluate often


class Rows(Dataset):
    """Rows of token ids (one tensor of shape rows × seq_len), as a dataset of rows."""

    def __init__(self, ids: torch.Tensor) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.ids[index]


@dataclass(frozen=True)
class Packed:
    train: Rows
    val: Rows
    tokens: int  # in the whole stream, before cutting into rows


def pack(
    documents: list[str],
    tokenizer: PreTrainedTokenizerFast,
    *,
    seq_len: int,
    batch_size: int,
    val_fraction: float,
    seed: int,
) -> Packed:
    """Tokenize, join with EOS, cut into rows and hold out a seeded random share for validation."""
    encodings = tokenizer.backend_tokenizer.encode_batch_fast(documents, add_special_tokens=False)
    eos = tokenizer.eos_token_id
    stream = torch.cat([torch.tensor([*e.ids, eos], dtype=torch.int32) for e in encodings])
    rows = len(stream) // seq_len
    val_rows = min(max(1, round(rows * val_fraction)), max(1, MAX_VAL_TOKENS // seq_len))
    if rows < batch_size + val_rows:
        need = (batch_size + val_rows) * seq_len
        raise UserError(
            f"The corpus is too small for this model's batches: it gives {len(stream):,} tokens, and one "
            f"training batch plus validation needs {need:,} ({batch_size} + {val_rows} rows of {seq_len}). "
            "Add text to data/corpus/, or lower train.seq_len or train.batch_size."
        )
    ids = stream[: rows * seq_len].view(rows, seq_len)
    order = torch.randperm(rows, generator=torch.Generator().manual_seed(seed))
    return Packed(train=Rows(ids[order[val_rows:]]), val=Rows(ids[order[:val_rows]]), tokens=len(stream))


def collate(rows: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """A batch of packed rows: every token is both input and (shifted inside the model) label."""
    ids = torch.stack(rows).long()
    return {"input_ids": ids, "labels": ids}
