"""The live loop on the demo company, measured end to end over HTTP: replayed traffic → live report →
calibration → harvest → DPO (and KTO) → the paired re-evaluation.

1. The demo workspace and a short LoRA fine-tune (`journey finetune --max-steps`) of the served set-up
   (`--setup`: `finetuned+augmented` by default, after `journey index`, fine-tuned on the augmented prompt;
   or `finetuned`, no context). Its preference stage is `preference-tuned+augmented` (or
   `preference-tuned`): the same adapter trained further on pairs whose prompts are what the served model
   was given, data block included, so the DPO pairs are that policy's own answers.
2. `journey evaluate --setups SETUP --limit N --run loop`: the "before" answers on the first N eval
   questions, and the simulated centre the live report sets beside the served KPIs.
3. `journey serve --setup SETUP` and `journey replay` with the eval questions after the first N (never
   those the evaluation scores: their reference answers become the agents' replies, so the `chosen` side
   of the DPO pairs), cycled to `--conversations`.
4. `journey report --live` (live KPIs with the prediction under each) and `journey simulate --calibrate`
   (the simulation's error against the observed KPIs, before and after fitting).
5. `journey harvest`; demo names left in its output are counted.
6. `journey finetune --method dpo --max-steps S`; `journey evaluate --setups SETUP,PREFERENCE-SETUP
   --run loop` answers only the new set-up, and the "did each step help?" table pairs the two (exact
   McNemar). With `--kto`, the same for KTO on the rated answers, in run `loop-kto`.

    .venv/bin/python benchmarks/bench_live_loop.py DIR [--setup finetuned+augmented] [--sft-steps 10] [--limit 60]
        [--conversations 200] [--concurrency 16] [--dpo-steps 20] [--kto]

The replay is one client standing for many customers, so the script raises `serve.rate_limit_per_minute` in
the demo's journey.toml; everything else keeps the demo's settings.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from rich.console import Console
from scipy.stats import binomtest

from journey.demo import create_demo_workspace
from journey.demo.larchkite.company import FIRST_NAMES, LAST_NAMES
from journey.errors import UserError
from journey.evaluate.headline import journey_table, steps_table
from journey.evaluate.results import load_results
from journey.evaluate.runs import find_run
from journey.evaluate.tables import to_rich
from journey.serve.analytics import workspace_traffic
from journey.training.preferences import harvest_paths
from journey.workspace import Workspace

REPLAY_QUESTIONS = "data/replay-questions.jsonl"
PREFERENCE_SETUP = {"finetuned": "preference-tuned", "finetuned+augmented": "preference-tuned+augmented"}
WORD = re.compile(r"[a-z0-9]+")


def journey(root: Path, *args: str, env: dict[str, str] | None = None) -> float:
    """Run `journey ARGS -w root`, showing its output; its wall-clock seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "journey", *args, "-w", str(root)], check=True, env=env)
    return time.perf_counter() - start


def prepare(root: Path, limit: int) -> int:
    """The demo workspace, a rate limit for one replaying client, and the replay's questions (those after the
    first `limit`); returns how many there are."""
    if not (root / "journey.toml").is_file():
        create_demo_workspace(root)
        with (root / "journey.toml").open("a", encoding="utf-8") as config:
            config.write("\n[serve]\nrate_limit_per_minute = 100000  # the replay: one client, many customers\n")
    lines = Workspace.load(root).eval_path.read_text(encoding="utf-8").splitlines()[limit:]
    if not lines:
        raise SystemExit(f"The eval set has no questions after the first {limit} to replay.")
    (root / REPLAY_QUESTIONS).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_and_replay(root: Path, args: argparse.Namespace) -> dict[str, float]:
    """`journey serve --setup SETUP` in the background, `journey replay` against it, then the server stopped."""
    port, key = free_port(), secrets.token_hex(16)
    env = os.environ | {"JOURNEY_AGENT_KEY": key, "JOURNEY_API_KEYS": secrets.token_hex(16)}
    started = time.perf_counter()
    command = [sys.executable, "-m", "journey", "serve", "--setup", args.setup, "--port", str(port), "-w", str(root)]
    log = (root / "serve.log").open("w", encoding="utf-8")  # its access log: one line per request
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            if server.poll() is not None:
                raise SystemExit(f"journey serve exited with {server.returncode}")
            try:
                if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        ready = time.perf_counter() - started
        replay = [
            "replay", "--url", url, "--conversations", str(args.conversations), "--concurrency", str(args.concurrency),
            "--questions", str(root / REPLAY_QUESTIONS),
        ]  # fmt: skip
        replay_s = journey(root, *replay, env=env)
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    return {"serve_ready_s": round(ready), "replay_s": round(replay_s)}


def served_conversations(root: Path) -> int:
    """How many conversations the workspace's app database holds (0 before the first `journey serve`)."""
    try:
        return workspace_traffic(Workspace.load(root)).conversations
    except UserError:
        return 0


def overlap(answer: str, reference: str) -> float:
    """Share of the reference's distinct words that the answer has."""
    ref = set(WORD.findall(reference.lower()))
    return len(ref & set(WORD.findall(answer.lower()))) / max(1, len(ref))


def paired(root: Path, run_id: str, setup: str, console: Console) -> dict[str, float]:
    """Print the run's journey table and its paired "did each step help?" table; how many answers changed, and
    their share of the reference's words before and after (a finer signal than correct, not a substitute)."""
    workspace = Workspace.load(root)
    results = load_results(workspace, find_run(workspace, run_id))
    console.print(to_rich(journey_table(workspace, results)))
    console.print(to_rich(steps_table(results)))
    before = {item.id: (item, record.answer) for item, record, _ in results.scored[setup]}
    after = {item.id: record.answer for item, record, _ in results.scored[PREFERENCE_SETUP[setup]]}
    shares = [(overlap(was, item.reference), overlap(after[i], item.reference)) for i, (item, was) in before.items()]
    better, worse = sum(b > a for a, b in shares), sum(b < a for a, b in shares)
    return {
        f"{run_id}_answers_changed": sum(was != after[i] for i, (_, was) in before.items()),
        f"{run_id}_n": len(before),
        f"{run_id}_reference_words_before": sum(a for a, _ in shares) / len(shares),
        f"{run_id}_reference_words_after": sum(b for _, b in shares) / len(shares),
        f"{run_id}_closer": better,
        f"{run_id}_further": worse,
        f"{run_id}_sign_test_p": binomtest(better, better + worse).pvalue if better + worse else 1.0,
    }


def one_sided(labels: Path) -> bool:
    """Whether every rated answer harvested has the same thumb (KTO needs both)."""
    return len({json.loads(line)["label"] for line in labels.read_text(encoding="utf-8").splitlines()}) < 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--setup", choices=sorted(PREFERENCE_SETUP), default="finetuned+augmented")
    parser.add_argument("--sft-steps", type=int, default=10)
    parser.add_argument("--limit", type=int, default=60, help="Eval questions of the paired evaluation.")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--dpo-steps", type=int, default=20)
    parser.add_argument("--kto", action="store_true", help="Also KTO on the rated answers, evaluated the same way.")
    args = parser.parse_args()
    root, console = args.directory, Console(width=160)
    figures: dict[str, float] = {"replay_questions": prepare(root, args.limit)}
    augmented = args.setup == "finetuned+augmented"
    if augmented and not Workspace.load(root).index_dir.exists():
        figures["index_s"] = journey(root, "index")
    if not (root / ".journey" / "adapters" / "default" / "adapter_config.json").is_file():
        context = [] if augmented else ["--no-augmentation-aware"]
        figures["sft_s"] = journey(root, "finetune", "--max-steps", str(args.sft_steps), *context)
    limit = ["--limit", str(args.limit)]
    figures["evaluate_before_s"] = journey(root, "evaluate", "--setups", args.setup, *limit, "--run", "loop")
    if (served := served_conversations(root)) >= args.conversations:  # a rerun after a later step failed
        print(f"The app database already holds {served} conversations: not replayed again.")
    else:
        figures |= serve_and_replay(root, args)
    figures["live_report_s"] = journey(root, "report", "--live")
    figures["calibrate_s"] = journey(root, "simulate", "--calibrate")
    figures["harvest_s"] = journey(root, "harvest", "--force")
    paths = harvest_paths(Workspace.load(root))
    names = re.compile(r"\b(" + "|".join(map(re.escape, FIRST_NAMES + LAST_NAMES)) + r")\b")
    harvested = paths.conversations.read_text(encoding="utf-8").splitlines()
    figures["harvested"] = len(harvested)
    figures["harvested_with_a_demo_name_left"] = sum(bool(names.search(line)) for line in harvested)
    figures["pairs"] = len(paths.pairs.read_text(encoding="utf-8").splitlines())
    figures["kto_labels"] = len(paths.labels.read_text(encoding="utf-8").splitlines())
    both = ["--setups", f"{args.setup},{PREFERENCE_SETUP[args.setup]}", *limit]
    methods = [("dpo", "loop"), *([("kto", "loop-kto")] if args.kto else [])]
    if args.kto and one_sided(paths.labels):
        print("KTO skipped: every harvested rating has the same thumb, and KTO needs both kinds.")
        methods = methods[:1]
    for method, run_id in methods:
        figures[f"{method}_s"] = journey(
            root, "finetune", "--method", method, "--max-steps", str(args.dpo_steps), "--force"
        )
        figures[f"evaluate_{method}_s"] = journey(root, "evaluate", *both, "--run", run_id)
        figures |= paired(root, run_id, args.setup, console)
    print(json.dumps({name: round(float(value), 3) for name, value in figures.items()}))


if __name__ == "__main__":
    main()
