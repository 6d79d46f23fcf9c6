"""The OpenAI-compatible backend: the same N questions one request at a time vs N requests at once.

Both passes use journey's `OpenAIBackend.generate` against the same server in the same run;
only `concurrency` differs (1, the old behaviour, vs N). Two servers on loopback:

- `fake`: a FastAPI server that answers every request after a fixed latency, however many are
  in flight — a model of a continuous-batching server (vLLM, TGI) with room to spare, where a
  batch of N costs about what one request does. It shows what the client can overlap.
- `serve`: a `journey serve` process (its /v1 API) with the embedded SmolLM2-135M, or the tiny
  test model (`--model tiny`). It shows what that server makes of concurrent requests: one
  in-process model answers them one after another unless the server batches them.

Run: .venv/bin/python benchmarks/bench_openai_concurrency.py [--questions 16] [--latency 0.5]
     [--servers fake,serve] [--model smollm2|tiny] [--max-new-tokens 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request

from journey.models.openai_backend import OpenAIBackend
from journey.serve import BackgroundServer

KEY_ENV = "BENCH_OPENAI_KEY"
KEY = "bench-key-4c2e9a"


def fake_server(latency: float) -> tuple[FastAPI, dict[str, int]]:
    """An OpenAI chat endpoint answering each request after `latency` seconds; counts the most in flight."""
    app, load = FastAPI(), {"in_flight": 0, "max_in_flight": 0}

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> dict:
        body = await request.json()
        load["in_flight"] += 1
        load["max_in_flight"] = max(load["max_in_flight"], load["in_flight"])
        await asyncio.sleep(latency)
        load["in_flight"] -= 1
        message = {"role": "assistant", "content": "Echo: " + body["messages"][-1]["content"]}
        usage = {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"], "choices": [choice]} | {
            "usage": usage
        }

    return app, load


@contextmanager
def journey_serve(model: str, max_new_tokens: int) -> Iterator[str]:
    """`journey serve --setup as-is` in its own process; yields its /v1 URL."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if model == "tiny":
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from conftest import build_tiny_model

            model = str(build_tiny_model(root / "tiny-model"))
        else:
            model = "smollm2-135m-instruct"
        (root / "journey.toml").write_text(
            f'[project]\nname = "Benchshop"\n[model]\nbase = "{model}"\nmax_new_tokens = {max_new_tokens}\n'
            "[serve]\nrate_limit_per_minute = 1000000\n",
            encoding="utf-8",
        )
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {**os.environ, "JOURNEY_API_KEYS": KEY, "JOURNEY_AGENT_KEY": "unused"}
        command = [sys.executable, "-m", "journey", "serve", "-w", str(root), "--setup", "as-is", "--port", str(port)]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 300
            while not _healthy(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("journey serve did not start")
                time.sleep(0.5)
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def compare(url: str, model: str, questions: list[str], max_new_tokens: int) -> dict[str, float]:
    """Seconds for all `questions` at concurrency 1, then at len(questions), after one warm-up request."""
    conversations = [[{"role": "user", "content": q}] for q in questions]
    seconds = {}
    for concurrency in (1, len(questions)):
        backend = OpenAIBackend(url, model, api_key_env=KEY_ENV, concurrency=concurrency, timeout=600)
        backend.generate(conversations[:1], max_new_tokens=max_new_tokens)  # connections, caches
        start = time.perf_counter()
        replies = backend.generate(conversations, max_new_tokens=max_new_tokens)
        seconds[concurrency] = time.perf_counter() - start
        assert len(replies) == len(questions) and all(r.text for r in replies)
    return seconds


def report(label: str, seconds: dict[str, float], questions: int, extra: str = "") -> None:
    one, many = seconds[1], seconds[questions]
    print(
        f"{label}: one at a time {one:.2f} s ({questions / one:.2f} q/s) · {questions} at once {many:.2f} s "
        f"({questions / many:.2f} q/s) · x{one / many:.2f}{extra}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.5, help="the fake server's seconds per request")
    parser.add_argument("--servers", default="fake,serve")
    parser.add_argument("--model", choices=("smollm2", "tiny"), default="smollm2", help="journey serve's model")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    args = parser.parse_args()
    os.environ[KEY_ENV] = KEY
    questions = [f"How long do I have to return item {i}?" for i in range(args.questions)]
    print(f"CPU: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    if "fake" in args.servers:
        app, load = fake_server(args.latency)
        with BackgroundServer(app) as server:
            seconds = compare(f"{server.url}/v1", "fake", questions, args.max_new_tokens)
        report(f"fake batching server ({args.latency:g} s a request)", seconds, args.questions,
               f" · at most {load['max_in_flight']} in flight")  # fmt: skip
    if "serve" in args.servers:
        with journey_serve(args.model, args.max_new_tokens) as url:
            seconds = compare(url, "as-is", questions, args.max_new_tokens)
        report(f"journey serve ({args.model}, {args.max_new_tokens} new tokens)", seconds, args.questions)


if __name__ == "__main__":
    main()
