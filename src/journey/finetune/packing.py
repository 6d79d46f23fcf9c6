"""Packing without leakage: conversations packed into rows, and padding-free batches.

Conversations are packed best-fit-decreasing into rows of at most `seq_len` tokens
(TRL's `pack_dataset`). A batch is flattened into one sequence with position ids that
restart at each conversation and no attention mask (TRL's padding-free collator), so no
token is padding, and transformers builds a block-diagonal causal mask from the
position ids: no conversation attends to another, and no label crosses a boundary.

Only positions whose next token is learnt reach the LM head (`logits_to_keep` +
`shift_labels`): on a 49k vocabulary that skips most of the head's work and memory
on prompt and context tokens, with the same loss.
"""

from __future__ import annotations

import torch
from datasets import Dataset
from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars
from trl import pack_dataset
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

from journey.finetune.encode import IGNORE, Encoded


def pack(examples: list[Encoded], seq_len: int) -> Dataset:
    """Rows of whole conversations, each at most `seq_len` tokens, with their `seq_lengths`."""
    columns = {"input_ids": [e.input_ids for e in examples], "labels": [e.labels for e in examples]}
    quiet = are_progress_bars_disabled()
    disable_progress_bars()  # an in-memory map of a few hundred rows: no bar
    try:
        return pack_dataset(Dataset.from_dict(columns), seq_len, strategy="bfd")
    finally:
        if not quiet:
            enable_progress_bars()


class PackedCollator:
    """Flatten rows into one padding-free sequence; keep logits only where a label is learnt.

    Lengths are rounded up to a multiple of `multiple` (padding with position id 0, label
    -100): oneDNN's bf16 kernels on CPUs are compiled per shape, so a few shapes run
    far faster than a new one every batch.
    """

    def __init__(self, pad_token_id: int, multiple: int = 64) -> None:
        self.multiple = multiple
        self._flatten = DataCollatorForLanguageModeling(
            pad_token_id=pad_token_id, padding_free=True, pad_to_multiple_of=multiple
        )

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        batch = self._flatten(rows)
        shifted = torch.nn.functional.pad(batch["labels"][:, 1:], (0, 1), value=IGNORE)
        keep = (shifted[0] != IGNORE).nonzero().flatten()
        extra = -len(keep) % self.multiple  # a few more positions, not learnt, for a rounder shape
        return {
            "input_ids": batch["input_ids"],
            "position_ids": batch["position_ids"],
            "labels": batch["labels"],
            "shift_labels": torch.nn.functional.pad(shifted[:, keep], (0, extra), value=IGNORE),
            "logits_to_keep": torch.nn.functional.pad(keep, (0, extra)),
        }
