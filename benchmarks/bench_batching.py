"""Concurrent chats on the real model: one after another vs journey's BatchingEngine vs transformers' own
continuous batching (`init_continuous_batching`), in one process, on the same prompts.

Each customer's prompt is the chat template around a short support question; every way generates the same
greedy tokens (checked) up to `--tokens` new tokens. Times are wall-clock for all chats; transformers'
manager is timed warm (its first round, which sizes and allocates its paged cache, is reported apart).

Run: .venv/bin/python benchmarks/bench_batching.py [--chats 8] [--tokens 32] [--threads 1] [--model NAME]
"""

from __future__ import annotations

import argparse
import resource
import time

import torch
from transformers import GenerationConfig

from journey.models.backends import TransformersBackend
from journey.models.batching import BatchingEngine
from journey.models.loading import load_model

QUESTIONS = [
    "Where is my order?",
    "How long do I have to return an item?",
    "What does shipping to Germany cost?",
    "Can I change the delivery address?",
]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_after_another(backend: TransformersBackend, prompts: list[list[int]], tokens: int) -> list[list[int]]:
    stops = set(backend.model.generation_config.eos_token_id)
    results = []
    for ids in prompts:
        output = backend.model.generate(torch.tensor([ids]), max_new_tokens=tokens, do_sample=False)
        new = output[0, len(ids) :].tolist()
        results.append(next((new[:i] for i, t in enumerate(new) if t in stops), new))
    return results


def transformers_round(manager, prompts: list[list[int]], tokens: int) -> list[list[int]]:
    ids = manager.add_requests(prompts, max_new_tokens=tokens)
    done = {}
    while len(done) < len(ids):
        if (result := manager.get_result(timeout=60)) is not None and result.is_finished():
            done[result.request_id] = result.generated_tokens
    stops = set(manager.generation_config.eos_token_id)
    return [[t for t in done[i] if t not in stops] for i in ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--chats", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (journey serve's choice on 2 cores)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, tokenizer = load_model(args.model)
    backend = TransformersBackend(model, tokenizer)
    chats = [[{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}] for i in range(args.chats)]
    prompts = [backend.encode(messages, max_new_tokens=args.tokens)[0] for messages in chats]
    print(f"{args.chats} concurrent chats × {args.tokens} new tokens, {args.model}, {args.threads} torch thread(s)")

    with torch.inference_mode():
        start = time.perf_counter()
        reference = one_after_another(backend, prompts, args.tokens)
        alone_s = time.perf_counter() - start
        print(f"  one after another         {alone_s:6.2f} s · peak RSS {peak_mib():.0f} MiB")

        engine = BatchingEngine(model, max_batch=args.chats)
        start = time.perf_counter()
        ours = [list(stream) for stream in [engine.submit(ids, args.tokens) for ids in prompts]]
        ours_s = time.perf_counter() - start
        engine.close()
        print(f"  journey BatchingEngine    {ours_s:6.2f} s · x{alone_s / ours_s:.2f} · same tokens {ours == reference}"
              f" · peak RSS {peak_mib():.0f} MiB")  # fmt: skip

        config = GenerationConfig(
            max_new_tokens=args.tokens,
            do_sample=False,
            eos_token_id=model.generation_config.eos_token_id,
            pad_token_id=model.generation_config.pad_token_id,
        )
        manager = model.init_continuous_batching(generation_config=config)
        manager.start()
        start = time.perf_counter()
        transformers_round(manager, prompts, args.tokens)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        theirs = transformers_round(manager, prompts, args.tokens)
        theirs_s = time.perf_counter() - start
        manager.stop(block=True, timeout=10)
        print(f"  transformers CB (warm)    {theirs_s:6.2f} s · x{alone_s / theirs_s:.2f} · same tokens "
              f"{theirs == reference} · first round {first_s:.1f} s · peak RSS {peak_mib():.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
