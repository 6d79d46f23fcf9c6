"""Model load and answer latency of the as-is set-up on the embedded default model.

Baseline in the same run: loading straight from the GGUF file (transformers de-quantises
it every time) vs our cached safetensors conversion. Then `journey ask`-style answers
to demo questions, timed one by one after the first load.

    .venv/bin/python benchmarks/bench_ask.py [--questions 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from transformers import AutoModelForCausalLM

from journey.assistant import load_assistant
from journey.demo import create_demo_workspace
from journey.models import load_model
from journey.models.loading import EMBEDDED, embedded_gguf_path
from journey.workspace import Workspace

BASE = "smollm2-135m-instruct"


def seconds(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()

    load_model(BASE)  # make sure the conversion is cached before timing
    gguf = embedded_gguf_path(EMBEDDED[BASE])
    from_gguf = seconds(lambda: AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name))
    cached = min(seconds(lambda: load_model(BASE)) for _ in range(3))
    print(
        f"model load: GGUF de-quantise {from_gguf:.1f} s | cached safetensors {cached:.2f} s "
        f"| speed-up x{from_gguf / cached:.0f}"
    )

    with tempfile.TemporaryDirectory() as folder:
        create_demo_workspace(Path(folder))
        workspace = Workspace.load(folder)
        questions = [line for line in workspace.eval_path.read_text().splitlines() if '"escalate": false' in line]
        picked = [json.loads(q)["question"] for q in questions[: args.questions]]
        assistant = load_assistant(workspace, "as-is")
        times = []
        for question in picked:
            reply = assistant.answer(question)
            times.append(reply.latency_s)
            print(f"  {reply.latency_s:5.2f} s  {reply.completion_tokens:3d} tokens  {question[:60]}")
    print(
        f"answer latency as-is: p50 {statistics.median(times):.2f} s, max {max(times):.2f} s "
        f"(max_new_tokens={workspace.settings.model.max_new_tokens})"
    )


if __name__ == "__main__":
    main()
