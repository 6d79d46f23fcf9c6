"""A generation backend on llama.cpp (llama-cpp-python), for checking a GGUF file journey exported.

Optional: llama-cpp-python is not a dependency (it compiles llama.cpp on install). It formats the chat
with the file's own `tokenizer.chat_template`, so it also checks the template the export wrote.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

from journey.models.backends import Generation
from journey.models.messages import Messages


class LlamaCppBackend:
    """Generate greedily with llama.cpp from a GGUF file (the `Backend` protocol)."""

    def __init__(self, path: Path, *, name: str = "llama.cpp", context_window: int = 4096) -> None:
        from llama_cpp import Llama

        self.name = name
        self._llm = Llama(model_path=str(path), n_ctx=context_window, n_threads=os.cpu_count(), verbose=False)

    def generate(self, conversations: list[Messages], *, max_new_tokens: int) -> list[Generation]:
        results = []
        for messages in conversations:
            start = time.perf_counter()
            body = self._llm.create_chat_completion(messages=messages, max_tokens=max_new_tokens, temperature=0.0)
            usage = body.get("usage") or {}
            results.append(
                Generation(
                    text=(body["choices"][0]["message"]["content"] or "").strip(),
                    prompt_tokens=usage.get("prompt_tokens", 0),
                    completion_tokens=usage.get("completion_tokens", 0),
                    seconds=time.perf_counter() - start,
                )
            )
        return results

    def stream(self, messages: Messages, *, max_new_tokens: int) -> Iterator[str]:
        chunks = self._llm.create_chat_completion(
            messages=messages, max_tokens=max_new_tokens, temperature=0.0, stream=True
        )
        for chunk in chunks:
            if piece := chunk["choices"][0].get("delta", {}).get("content"):
                yield piece
