"""Generate with any OpenAI-compatible server (vLLM, llama.cpp server, TGI, Ollama) through the official client.

`generate` keeps up to `concurrency` requests in flight, so a server with continuous batching
(vLLM, TGI) answers them together. The client retries a 429, a 5xx, a timeout or a refused
connection with exponential back-off (honouring the server's Retry-After); once the retries are
spent, one UserError names the server and what it last said. Token counts come from the server's
`usage`, also when streaming. The API key is read from the environment variable the settings name
and never logged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http import HTTPStatus

import openai

from journey.errors import UserError
from journey.models.backends import Generation
from journey.models.messages import Messages

NOT_CHAT = "is model.openai_base_url an OpenAI-compatible API (ending in /v1)?"
NO_KEY = "EMPTY"  # the client insists on a key; servers started without one (vLLM, llama.cpp) accept any


class TextStream(Iterator[str]):
    """A reply's text pieces as they arrive; after the last one, `generation` is the whole reply as the server
    counted it (its `usage`)."""

    def __init__(self, pieces: Generator[str, None, Generation]) -> None:
        self._pieces = pieces
        self.generation: Generation | None = None

    def __next__(self) -> str:
        try:
            return next(self._pieces)
        except StopIteration as done:
            self.generation = done.value
            raise


class OpenAIBackend:
    """Generate with an OpenAI-compatible server, `concurrency` requests at a time."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        temperature: float = 0.0,
        concurrency: int = 8,
        timeout: float = 120.0,
        max_retries: int = 4,
    ) -> None:
        self.name = f"openai:{model}"
        self.model = model
        self.temperature = temperature
        self.concurrency = concurrency
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._key_env = api_key_env
        key = os.environ.get(api_key_env) or NO_KEY  # never OPENAI_API_KEY behind the user's back
        self._client = openai.OpenAI(base_url=self.base_url, api_key=key, timeout=timeout, max_retries=max_retries)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="openai-request")

    def generate(self, conversations: list[Messages], *, max_new_tokens: int) -> list[Generation]:
        """The replies, in order; requests beyond `concurrency` (also those of other threads) wait for a slot."""
        futures = [self._pool.submit(self._complete, messages, max_new_tokens) for messages in conversations]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()  # one failed after its retries: the others not yet sent are not sent
            raise

    def stream(self, messages: Messages, *, max_new_tokens: int) -> TextStream:
        """Yield the reply's text piece by piece as the server sends it."""
        return TextStream(self._stream(messages, max_new_tokens))

    def _request(self, messages: Messages, max_new_tokens: int) -> dict:
        return {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_new_tokens,
            "temperature": self.temperature,
        }

    def _complete(self, messages: Messages, max_new_tokens: int) -> Generation:
        start = time.perf_counter()
        with self._failures():
            response = self._client.chat.completions.create(**self._request(messages, max_new_tokens))
        if not getattr(response, "choices", None):
            raise UserError(f"The model server at {self.base_url} answered with no reply in it: {NOT_CHAT}")
        text = (response.choices[0].message.content or "").strip()
        usage = response.usage
        return Generation(
            text,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            seconds=time.perf_counter() - start,
        )

    def _stream(self, messages: Messages, max_new_tokens: int) -> Generator[str, None, Generation]:
        start = time.perf_counter()
        pieces, usage = [], None
        request = self._request(messages, max_new_tokens) | {"stream": True, "stream_options": {"include_usage": True}}
        with self._failures(), self._client.chat.completions.create(**request) as chunks:
            for chunk in chunks:
                usage = chunk.usage or usage  # the last chunk, when the server honours include_usage
                if chunk.choices and (piece := chunk.choices[0].delta.content):
                    pieces.append(piece)
                    yield piece
        return Generation(
            "".join(pieces).strip(),
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else len(pieces),
            seconds=time.perf_counter() - start,
        )

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """Turn the client's error, raised once its retries are spent, into one sentence for the user."""
        try:
            yield
        except openai.APIError as exc:
            raise UserError(self._explain(exc)) from None

    def _explain(self, exc: openai.APIError) -> str:
        request = getattr(exc, "request", None)
        retries = request.headers.get("x-stainless-retry-count", "0") if request is not None else "0"
        attempts = int(retries) + 1 if retries.isdigit() else 1
        tried = f"after {attempts} attempt{'s' if attempts > 1 else ''}"
        where = f"The model server at {self.base_url}"
        if isinstance(exc, openai.APITimeoutError):
            return f"{where} did not reply within {self.timeout:g} s {tried} (raise model.openai_timeout?)."
        if isinstance(exc, openai.APIConnectionError):
            return f"{where} could not be reached {tried}: is it running, and is model.openai_base_url right?"
        if isinstance(exc, openai.APIStatusError):
            status = f"{exc.status_code} {_phrase(exc.status_code)}".strip()
            hint = {
                401: f": check the key in ${self._key_env}",
                403: f": check the key in ${self._key_env}",
                404: f": does it serve the model '{self.model}', and does the URL end in /v1?",
            }.get(exc.status_code, "")
            return f"{where} failed {tried}, the last with status {status}{hint}."
        return f"{where} sent what the client could not read ({type(exc).__name__}): {NOT_CHAT}"


def _phrase(status: int) -> str:
    try:
        return f"({HTTPStatus(status).phrase})"
    except ValueError:
        return ""
