"""Sample generations during training: what the model writes, next to its validation loss."""

from __future__ import annotations

from pathlib import Path

import torch
from rich import get_console
from transformers import PreTrainedModel, PreTrainedTokenizerFast

from journey.assistant.prompts import system_prompt
from journey.workspace import Settings

QUESTION = "Hello, can you help me with a question about my order?"


class SampleWriter:
    """`fit()`'s on_eval callback: greedy continuations of a text opening and of a chat turn.

    Each evaluation appends them to samples.md in the training folder and, when `show`,
    prints them above the progress bar.
    """

    FILE = "samples.md"

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerFast,
        settings: Settings,
        document: str,
        folder: Path,
        *,
        show: bool,
        max_new_tokens: int = 40,
    ) -> None:
        chat = [{"role": "system", "content": system_prompt(settings)}, {"role": "user", "content": QUESTION}]
        self.prompts = {
            "text": " ".join(document.split()[:8]),
            "chat": tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False),
        }
        self.tokenizer = tokenizer
        self.path = folder / self.FILE
        self.console = get_console() if show else None  # the progress bar's console: prints above it
        self.max_new_tokens = max_new_tokens

    def __call__(self, step: int, model: PreTrainedModel) -> None:
        lines = [f"## step {step}"]
        for kind, prompt in self.prompts.items():
            shown = prompt if kind == "text" else QUESTION
            lines.append(f"- {kind}: {shown!r} → {self.continue_text(model, prompt)!r}")
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n\n")
        if self.console:
            self.console.print("\n".join(lines), highlight=False, markup=False)

    @torch.no_grad()
    def continue_text(self, model: PreTrainedModel, prompt: str) -> str:
        """Greedy continuation of `prompt` until end-of-turn, within the model's context length."""
        context = model.config.max_position_embeddings
        ids = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids[:, -(context // 2) :]
        training = model.training
        model.eval()
        output = model.generate(
            ids.to(model.device),
            attention_mask=torch.ones_like(ids, device=model.device),
            max_new_tokens=min(self.max_new_tokens, context - ids.shape[1]),
            do_sample=False,
            eos_token_id=self.tokenizer.eos_token_id,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        model.train(training)
        return self.tokenizer.decode(output[0, ids.shape[1] :], skip_special_tokens=True).strip()
