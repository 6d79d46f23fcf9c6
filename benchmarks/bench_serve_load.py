"""Load test of `journey serve` on loopback: concurrent customers against the tiny test model.

The server runs as `journey serve` in its own process. Each customer opens a conversation
and its event stream, then sends a message (with a client id), waits for the bot's reply on
the stream, and sends the next, until time is up. Afterwards every conversation is read back:
each message sent must be stored exactly once and answered exactly once, each reply must have
arrived on the stream exactly once, and no request may have failed. Prints reply latency
(message posted → reply received), throughput and the server's memory; exits 1 on any loss.
By default it runs twice, with micro-batching (journey's default) and without (`serve.max_batch = 1`,
one chat after another), and prints the ratio; `--batching on|off` runs one of them.

Run: .venv/bin/python benchmarks/bench_serve_load.py [--customers 50] [--seconds 60] [--batching both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import build_tiny_model  # the tiny test model

QUESTIONS = ["Where is my order?", "How long do I have to return an item?", "What does shipping cost?"]
REPLY_TIMEOUT_S = 120.0
CHECKS = ("lost", "duplicated", "unanswered", "out_of_order", "duplicate_deliveries", "missed_deliveries")


@dataclass
class Customer:
    """What one simulated customer sent, received and measured."""

    conversation: str = ""
    sent: list[str] = field(default_factory=list)  # client ids, in order
    received: list[int] = field(default_factory=list)  # ids of bot replies seen on the stream
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_workspace(root: Path, customers: int, threads: int | None, batching: bool) -> Path:
    model = build_tiny_model(root / "tiny-model")
    (root / "journey.toml").write_text(
        f'[project]\nname = "Loadshop"\n[model]\nbase = "{model}"\nmax_new_tokens = 12\n'
        f"[serve]\nrate_limit_per_minute = 1000000\nmax_pending = {customers * 2}\n"
        + (f"threads = {threads}\n" if threads else "")
        + ("" if batching else "max_batch = 1\n"),
        encoding="utf-8",
    )
    return root


def memory_mib(pid: int) -> dict[str, float]:
    """Current and peak resident memory of a process, from /proc (Linux)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


async def events(response: httpx.Response) -> AsyncIterator[tuple[str, dict]]:
    """Server-sent events as (name, data)."""
    name, data = "message", []
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line and data:
            yield name, json.loads("\n".join(data))
            name, data = "message", []


async def run_customer(client: httpx.AsyncClient, index: int, deadline: float) -> Customer:
    customer = Customer()
    response = await client.post("/api/conversations", json={"customer": f"load-{index}"})
    if response.status_code != 201:
        customer.errors.append(f"start: {response.status_code}")
        return customer
    customer.conversation = response.json()["id"]
    replies: asyncio.Queue[int] = asyncio.Queue()
    connected = asyncio.Event()

    async def listen() -> None:
        async with client.stream("GET", f"/api/conversations/{customer.conversation}/events") as stream:
            async for name, data in events(stream):
                connected.set()
                if name == "message" and data["role"] == "bot":
                    customer.received.append(data["id"])
                    replies.put_nowait(data["id"])

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(connected.wait(), REPLY_TIMEOUT_S)
    while time.monotonic() < deadline:
        client_id = f"c{index}-m{len(customer.sent)}"
        started = time.perf_counter()
        try:
            response = await client.post(
                f"/api/conversations/{customer.conversation}/messages",
                json={"content": QUESTIONS[len(customer.sent) % len(QUESTIONS)], "client_id": client_id},
            )
            if response.status_code != 202:
                customer.errors.append(f"post: {response.status_code} {response.text[:200]}")
                break
            customer.sent.append(client_id)
            await asyncio.wait_for(replies.get(), REPLY_TIMEOUT_S)
        except (httpx.HTTPError, TimeoutError) as exc:
            customer.errors.append(f"{type(exc).__name__}: {exc}")
            break
        customer.latencies.append(time.perf_counter() - started)
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)
    return customer


def check(customer: Customer, transcript: list[dict]) -> dict[str, int]:
    """Compare what a customer sent and received with what the server stored."""
    stored = [m["client_id"] for m in transcript if m["role"] == "customer"]
    bots = [m["id"] for m in transcript if m["role"] == "bot"]
    roles = [m["role"] for m in transcript]
    return {
        "lost": len(set(customer.sent) - set(stored)),
        "duplicated": len(stored) - len(set(stored)),
        "unanswered": len(stored) - len(bots),
        "out_of_order": int(roles != ["customer", "bot"] * len(stored)),
        "duplicate_deliveries": len(customer.received) - len(set(customer.received)),
        "missed_deliveries": len(set(bots) - set(customer.received)),
    }


async def load(url: str, customers: int, seconds: float) -> tuple[list[Customer], dict[str, int]]:
    # Idle connections expire before uvicorn's 5 s keep-alive closes them: at httpx's default, also 5 s, a post
    # can race the server's close and fail with a ReadError (seen once in 1,778 posts) without any server fault.
    limits = httpx.Limits(max_connections=customers * 3, max_keepalive_connections=customers * 3, keepalive_expiry=2)
    async with httpx.AsyncClient(base_url=url, timeout=REPLY_TIMEOUT_S, limits=limits) as client:
        deadline = time.monotonic() + seconds
        results = await asyncio.gather(*(run_customer(client, i, deadline) for i in range(customers)))
        totals = dict.fromkeys(CHECKS, 0)
        for customer in results:
            if not customer.conversation:
                continue
            response = await client.get(f"/api/conversations/{customer.conversation}")
            for key, value in check(customer, response.json()["messages"]).items():
                totals[key] += value
    return results, totals


def wait_until_up(url: str, server: subprocess.Popen, log: Path, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def percentile(values: list[float], share: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]
        if len(values) > 1
        else values[0]
    )


@dataclass
class Run:
    """One load test: what the customers measured and what the server logged and used."""

    results: list[Customer]
    totals: dict[str, int]
    elapsed: float
    memory: tuple[dict[str, float], dict[str, float]]  # at start, at the end
    decisions: dict  # the server's logged torch-threads and batch-size decisions

    @property
    def latencies(self) -> list[float]:
        return sorted(x for c in self.results for x in c.latencies)

    @property
    def errors(self) -> list[str]:
        return [e for c in self.results for e in c.errors]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed


def serve_and_load(args: argparse.Namespace, batching: bool) -> Run:
    """Start `journey serve` on a fresh workspace, run the customers against it, stop it."""
    with tempfile.TemporaryDirectory() as folder:
        root = make_workspace(Path(folder), args.customers, args.threads, batching)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "journey", "serve", "-w", str(root), "--port", str(port)]
        log = root / "server.log"  # its JSON logs: one line per request
        with log.open("w") as sink:
            env = {"JOURNEY_API_KEYS": "bench-only-key", **os.environ}  # serve refuses to start without a key
            server = subprocess.Popen(command, stderr=sink, stdout=subprocess.DEVNULL, env=env)
        try:
            wait_until_up(url, server, log)
            at_start = memory_mib(server.pid)
            began = time.perf_counter()
            results, totals = asyncio.run(load(url, args.customers, args.seconds))
            elapsed = time.perf_counter() - began
            at_end = memory_mib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
        decisions = {}
        for line in log.read_text().splitlines():
            if '"torch_threads"' in line or '"max_batch"' in line:
                decisions |= json.loads(line)
    return Run(results, totals, elapsed, (at_start, at_end), decisions)


def report(run: Run, label: str) -> None:
    latencies, errors, decided = run.latencies, run.errors, run.decisions
    at_start, at_end = run.memory
    print(f"  {label}")
    print(f"    torch threads       {decided.get('torch_threads')} of {decided.get('usable_cores')} cores "
          f"({decided.get('threads_reason')})")  # fmt: skip
    if "max_batch" in decided:
        rates = decided.get("tokens_per_s_by_rows") or {}
        measured = "".join(f" · {rows} rows {rate:.0f} tok/s" for rows, rate in rates.items())
        print(f"    batch size          {decided['max_batch']} ({decided['max_batch_reason']}{measured})")
    else:
        print("    batch size          1 (batching off: one chat after another)")
    sent = sum(len(c.sent) for c in run.results)
    print(f"    messages answered   {len(latencies)} ({run.rate:.1f}/s), sent {sent}")
    if latencies:
        print(
            f"    reply latency       p50 {percentile(latencies, 0.50) * 1000:.0f} ms · "
            f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms · max {latencies[-1] * 1000:.0f} ms"
        )
    print("    integrity           " + " · ".join(f"{k.replace('_', ' ')} {v}" for k, v in run.totals.items()))
    print(f"    error responses     {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print(
        f"    server memory       RSS {at_start['VmRSS']:.0f} MiB after start, {at_end['VmRSS']:.0f} MiB at the end, "
        f"peak {at_end['VmHWM']:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, help="serve.threads (default: journey decides; its log says how)")
    parser.add_argument(
        "--batching", choices=("both", "on", "off"), default="both",
        help="micro-batch concurrent chats (journey's default), not (serve.max_batch = 1), or both, for the ratio",
    )  # fmt: skip
    args = parser.parse_args()

    modes = {"both": (True, False), "on": (True,), "off": (False,)}[args.batching]
    print(f"journey serve load test: {args.customers} customers for {args.seconds:.0f} s (tiny model, loopback)")
    runs = {}
    for batching in modes:
        runs[batching] = serve_and_load(args, batching)
        report(runs[batching], "micro-batching on" if batching else "micro-batching off (serve.max_batch = 1)")
    if len(runs) == 2 and runs[False].latencies and runs[True].latencies:
        on, off = runs[True], runs[False]
        print(
            f"  batching on / off    replies/s {on.rate / off.rate:.1f}x · p50 latency "
            f"{percentile(off.latencies, 0.5) / percentile(on.latencies, 0.5):.1f}x lower · p95 "
            f"{percentile(off.latencies, 0.95) / percentile(on.latencies, 0.95):.1f}x lower"
        )
    if any(run.errors or any(run.totals.values()) for run in runs.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
