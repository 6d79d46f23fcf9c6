"""How many CPU threads torch may use, decided by journey from the cores this process may run on.

A web server that generates on a worker thread must leave a core to its event loop: with every core
given to torch's intra-op pool, the pool's spinning threads starve the loop that reads requests and
streams replies (on 2 cores, 0.9 vs 13.5 replies/s; README, `bench_serve_load.py`). Batch work
(evaluation, fine-tuning) keeps torch's default, one thread per core.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThreadPlan:
    """The intra-op threads chosen, and why."""

    threads: int
    usable_cores: int
    reason: str


def usable_cores() -> int:
    """Cores this process may use: its CPU affinity, capped by a cgroup v2 CPU quota when one is set."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
    except (OSError, ValueError):
        return cores
    if quota == "max":
        return cores
    return max(1, min(cores, int(int(quota) / int(period))))


def serving_plan(
    configured: int | None, *, cores: int | None = None, environ: dict[str, str] | None = None
) -> ThreadPlan:
    """Threads for a server: `configured` if given, else `OMP_NUM_THREADS` if the user set it, else one core
    fewer than usable (at least one), so that the event loop keeps a core."""
    cores = cores or usable_cores()
    environ = os.environ if environ is None else environ
    if configured:
        return ThreadPlan(configured, cores, "serve.threads")
    if (given := environ.get("OMP_NUM_THREADS", "").strip()).isdigit() and int(given) > 0:
        return ThreadPlan(int(given), cores, "OMP_NUM_THREADS")
    return ThreadPlan(max(1, cores - 1), cores, "one core left for the web server")


def apply(plan: ThreadPlan) -> None:
    """Set torch's intra-op threads to the plan's and log the decision."""
    import torch  # only the server needs torch here; the plan itself is decided without it

    torch.set_num_threads(plan.threads)
    log.info(
        "torch uses %d thread(s) of %d usable core(s) (%s)", plan.threads, plan.usable_cores, plan.reason,
        extra={"torch_threads": plan.threads, "usable_cores": plan.usable_cores, "threads_reason": plan.reason},
    )  # fmt: skip
