"""FLOPs: what a training token costs, and what this machine's matmuls actually reach (its peak).

MFU (model FLOPs utilisation) = tokens/s × FLOPs per token / peak FLOP/s. The peak is
measured here with a matmul micro-benchmark in float32 and bfloat16 rather than
taken from a datasheet, and cached per device so later runs skip it.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from journey.io import atomic_write_json
from journey.models.precision import matmul_flops
from journey.train.presets import ModelDims

CACHE_FILE = "peak_flops.json"


def flops_per_token(dims: ModelDims, parameters: int) -> float:
    """Training FLOPs per token: 6·N for the weights plus 12·L·d·T for attention (PaLM, appendix B)."""
    return 6 * parameters + 12 * dims.num_layers * dims.hidden_size * dims.context_length


@dataclass(frozen=True)
class PeakFlops:
    """Best matmul throughput measured on one device, in FLOP/s."""

    device: str
    float32: float
    bfloat16: float

    def for_precision(self, bf16: bool) -> float:
        return self.bfloat16 if bf16 else self.float32


def peak_flops(cache_dir: Path, device: torch.device) -> PeakFlops:
    """This device's measured peak, from the cache in `cache_dir` or measured now (a few seconds)."""
    key = device_key(device)
    path = cache_dir / CACHE_FILE
    cached = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if key in cached:
        return PeakFlops(**cached[key])
    peak = PeakFlops(key, matmul_flops(torch.float32, device), matmul_flops(torch.bfloat16, device))
    atomic_write_json(path, {**cached, key: asdict(peak)})
    return peak


def device_key(device: torch.device) -> str:
    """Names the hardware a measurement holds for: GPU model, or CPU model and thread count."""
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return f"cpu:{_cpu_model()}:{torch.get_num_threads()} threads"


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()
