"""Which floating-point precision this machine executes natively: decided once, printed and recorded.

Most CPUs (laptops, cloud VMs) have AVX2 but no bf16 instructions; there a bf16 matmul
runs ~20-90x slower than fp32. So `auto` means bf16 only where the hardware executes it:
CUDA devices that support it, and CPUs with AVX512-BF16 or AMX whose instructions oneDNN
(which runs torch's bf16 matmuls) may use. `ONEDNN_MAX_CPU_ISA=AVX2` forbids them, which
emulates an AVX2-only CPU on such a machine: bf16 then measured 2.4 against 228 GFLOP/s
for fp32 on this repository's 2-core Xeon.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from functools import cache
from typing import Literal

import torch

log = logging.getLogger(__name__)

Dtype = Literal["float32", "bfloat16"]


@dataclass(frozen=True)
class Precision:
    """The precision chosen for a job, and why (shown in run summaries and run.json)."""

    dtype: Dtype
    reason: str

    @property
    def bf16(self) -> bool:
        return self.dtype == "bfloat16"

    def __str__(self) -> str:
        return f"{self.dtype} ({self.reason})"


@dataclass(frozen=True)
class Bf16Support:
    """Whether a device type executes bf16 natively, with the evidence in words."""

    native: bool
    evidence: str


@cache
def bf16_support(device_type: str = "cpu") -> Bf16Support:
    """Probe the hardware once per process."""
    if device_type == "cuda":
        native = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return Bf16Support(native, "CUDA device with bf16" if native else "CUDA device without bf16")
    instructions = [name for name, probe in _CPU_PROBES.items() if probe()]
    if not instructions:
        return Bf16Support(False, f"CPU without AVX512-BF16 or AMX ({torch.backends.cpu.get_cpu_capability()})")
    onednn = os.environ.get("ONEDNN_MAX_CPU_ISA", "ALL").upper()
    if onednn not in ("ALL", "DEFAULT") and not any(word in onednn for word in ("BF16", "AMX", "AVX10")):
        return Bf16Support(False, f"oneDNN limited to {onednn} (ONEDNN_MAX_CPU_ISA)")
    return Bf16Support(True, f"CPU executes {'/'.join(instructions)}")


_CPU_PROBES = {
    "AMX": torch.cpu._is_amx_tile_supported,
    "AVX512-BF16": torch.cpu._is_avx512_bf16_supported,
}


def choose_precision(setting: str | bool, device_type: str = "cpu", *, job: str) -> Precision:
    """The precision for `job` ("fine-tuning", "training", "generation") from its setting.

    `setting` is "auto", "float32"/"bfloat16", or a bool (finetune.bf16). Forcing bf16
    where the hardware lacks it is allowed, with a warning that says what it costs.
    """
    support = bf16_support(device_type)
    if setting == "auto":
        if job == "generation" and device_type == "cpu" and support.native:
            return _cpu_generation(support)
        if support.native:
            return Precision("bfloat16", f"auto: {support.evidence}")
        return Precision("float32", f"auto: {support.evidence}")
    wanted: Dtype = "bfloat16" if setting in (True, "bfloat16") else "float32"
    if wanted == "bfloat16" and not support.native:
        log.warning(
            "%s in bfloat16 was asked for, but this machine has no native bf16 (%s): expect it to run ~20-90x "
            "slower than float32 (%s). Set it to auto or float32.",
            job.capitalize(),
            support.evidence,
            _measured_slowdown(device_type),
        )
    return Precision(wanted, "set in journey.toml")


def _cpu_generation(support: Bf16Support) -> Precision:
    """bf16 where this CPU's bf16 matmuls measure at least PREFILL_GAIN times fp32's, else fp32.

    Decoding a token at a time is memory-bound for small models (SmolLM2-135M on the AMX Xeon: 12.1-12.7
    tokens/s in fp32, 11.7-12.5 in bf16), but the prompt's prefill is matmuls over every prompt token:
    a 419-token augmented prompt took 0.55-0.61 s in bf16 against 1.63-1.74 s in fp32 there (1 thread)."""
    gain = bf16_matmul_gain("cpu")
    if gain >= PREFILL_GAIN:
        return Precision("bfloat16", f"auto: {support.evidence}, bf16 matmuls measured x{gain:.1f} fp32's")
    return Precision("float32", f"auto: {support.evidence}, but bf16 matmuls measured only x{gain:.1f} fp32's")


PREFILL_GAIN = 1.5  # below this, bf16's rounding is not worth its prefill gain


@cache
def bf16_matmul_gain(device_type: str) -> float:
    """bf16 matmul FLOP/s over fp32's on a prefill-sized product, measured once per process (~0.2 s)."""
    device = torch.device(device_type)
    fp32 = matmul_flops(torch.float32, device, seconds=0.1, sizes=(1024,))
    return matmul_flops(torch.bfloat16, device, seconds=0.1, sizes=(1024,)) / fp32


def _measured_slowdown(device_type: str) -> str:
    """A quick matmul measurement of bf16 against fp32 on this device, in words."""
    device = torch.device(device_type)
    fp32, bf16 = matmul_flops(torch.float32, device, seconds=0.1), matmul_flops(torch.bfloat16, device, seconds=0.1)
    return f"measured here: {bf16 / 1e9:,.1f} against {fp32 / 1e9:,.1f} GFLOP/s"


def matmul_flops(
    dtype: torch.dtype, device: torch.device, *, seconds: float = 0.3, sizes: tuple[int, ...] | None = None
) -> float:
    """Best FLOP/s of square matmuls of a few sizes (default: the device's), each timed for about `seconds`."""
    sizes = sizes or ((4096, 8192) if device.type == "cuda" else (512, 1024, 2048))
    best = 0.0
    for n in sizes:
        a = torch.randn(n, n, device=device).to(dtype)
        b = torch.randn(n, n, device=device).to(dtype)
        _multiply(a, b)
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds or count == 0:
            _multiply(a, b)
            count += 1
        best = max(best, 2 * n**3 * count / elapsed)
        if elapsed / count > seconds:  # one product already takes longer than the budget: stop growing
            break
    return best


def _multiply(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.matmul(a, b)
    if a.is_cuda:
        torch.cuda.synchronize(a.device)
