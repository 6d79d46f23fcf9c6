"""bf16 against fp32 on this machine: matmul GFLOP/s, and a LoRA training step of SmolLM2-135M in tokens/s.

What `auto` precision (journey/models/precision.py) decides from, measured instead of assumed:
on a CPU with AMX or AVX512-BF16 bf16 runs about as fast as fp32 or faster; on an AVX2-only CPU
(most laptops and cloud VMs) oneDNN has no bf16 kernels and a bf16 matmul runs tens of times
slower. The training step is the fine-tune's own: a frozen base, LoRA on the attention and MLP
projections, one packed row, forward and backward, fp32 against bf16 autocast (as `fit` uses it).

    .venv/bin/python benchmarks/bench_precision.py [--tokens 512] [--repeats 2]

`ONEDNN_MAX_CPU_ISA=AVX2` on an AMX machine shows what an AVX2-only CPU does.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import time

import torch
from peft import LoraConfig, get_peft_model

from journey.models import load_model
from journey.models.precision import bf16_support, choose_precision, matmul_flops


def cpu_name() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def training_step_tokens_per_second(model: torch.nn.Module, tokens: int, repeats: int, *, bf16: bool) -> float:
    """Tokens/s of forward + backward on one row of `tokens` tokens (best of `repeats`, after a warm-up)."""
    ids = torch.randint(0, model.config.vocab_size, (1, tokens))
    best = float("inf")
    for attempt in range(repeats + 1):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        model.zero_grad(set_to_none=True)
        if attempt:  # the first is a warm-up
            best = min(best, time.perf_counter() - start)
    return tokens / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=512, help="tokens in the training row")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    cpu = torch.device("cpu")
    support = bf16_support("cpu")
    print(f"CPU: {cpu_name()}; {torch.get_num_threads()} threads; bf16 native: {support.native} ({support.evidence})")
    print(f"auto precision for fine-tuning: {choose_precision('auto', 'cpu', job='fine-tuning')}")
    fp32, bf16 = matmul_flops(torch.float32, cpu), matmul_flops(torch.bfloat16, cpu)
    print(f"matmul: fp32 {fp32 / 1e9:,.1f} GFLOP/s, bf16 {bf16 / 1e9:,.1f} GFLOP/s -> bf16/fp32 x{bf16 / fp32:.3f}")

    model, _ = load_model("smollm2-135m-instruct")
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=targets, lora_dropout=0.0))
    model.train()
    rates = {bf: training_step_tokens_per_second(model, args.tokens, args.repeats, bf16=bf) for bf in (False, True)}
    print(
        f"LoRA step, {args.tokens} tokens: fp32 {rates[False]:,.0f} tok/s, bf16 autocast {rates[True]:,.0f} tok/s "
        f"-> bf16/fp32 x{rates[True] / rates[False]:.3f}"
    )


if __name__ == "__main__":
    main()
