"""kill -9 mid-run (an out-of-memory kill, a lost machine) → `--resume` ends where a straight run does.

The killed run checkpoints by wall-clock (`checkpoint_minutes`), so a run shorter than
`checkpoint_every` steps still leaves something to resume.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from journey.finetune import finetune
from journey.training.loop import CHECKPOINT, STATE
from journey.workspace import Workspace
from test_finetune import make_workspace

STEPS = 8
# Runs `finetune` in a child process whose every micro-batch is slowed down, so the test can kill it mid-run.
CHILD = textwrap.dedent(
    """
    import sys, time
    import torch
    import journey.finetune.packing as packing
    from journey.finetune import finetune
    from journey.workspace import Workspace

    torch.set_num_threads(1)
    collate = packing.PackedCollator.__call__
    packing.PackedCollator.__call__ = lambda self, rows: (time.sleep(0.4), collate(self, rows))[1]
    finetune(Workspace.load(sys.argv[1]), max_steps=int(sys.argv[2]), progress=False)
    """
)


def _checkpointed_step(root: Path) -> int:
    states = list(root.glob(f".journey/checkpoints/*/{CHECKPOINT}/{STATE}"))
    return json.loads(states[0].read_text())["step"] if states else 0


def test_kill_9_mid_finetune_then_resume_matches_a_straight_run(tmp_path: Path, tiny_model_dir: Path) -> None:
    straight = make_workspace(tmp_path / "straight", tiny_model_dir)
    finetune(straight, max_steps=STEPS, progress=False)

    killed = make_workspace(tmp_path / "killed", tiny_model_dir)
    config = killed.root / "journey.toml"
    config.write_text(config.read_text() + "checkpoint_minutes = 0.001\n", encoding="utf-8")  # under [finetune]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(killed.root), str(STEPS)], env=env)
    deadline = time.monotonic() + 240
    while _checkpointed_step(killed.root) < 2 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait()
    stopped_at = _checkpointed_step(killed.root)
    assert 2 <= stopped_at < STEPS, "the child was not killed mid-run"
    assert not killed.adapter_dir.exists()  # nothing half-trained was published

    report = finetune(Workspace.load(killed.root), max_steps=STEPS, resume=True, progress=False)
    assert report.steps == STEPS
    a = load_file(straight.adapter_dir / "adapter_model.safetensors")
    b = load_file(killed.adapter_dir / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
