"""The live loop on the demo company, measured: serve → harvest → review → DPO → evaluate, against the fine-tuned
set-up it starts from.

1. The demo workspace and a short LoRA fine-tune (`journey finetune --max-steps`).
2. The fine-tuned bot answers customer questions from data/tickets.jsonl through the real pipeline, stored in the
   app database through the store's API as `journey serve` stores them, the customer named as the chat page
   would (a demo name found in the message). A simulated customer rates each answer: thumbs up when it shares at
   least a third of the words of the ticket's human reply, else thumbs down and asks for a human; the bot hands
   over and an agent answers with the ticket's human reply and resolves.
3. `journey harvest`, timed; names of the demo's name lists left in its output are counted (free-text names
   the customer record does not name are beyond pattern recognizers).
4. `journey finetune --method dpo` on the pairs (kept as harvested: the review step is yours).
5. `journey evaluate --setups finetuned,preference-tuned --limit N`: the paired comparison.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/bench_harvest_loop.py DIR [--questions 48] [--sft-steps 4]
        [--limit 30]

(OMP_WAIT_POLICY=PASSIVE as the CLI sets it before torch loads: on shared cores spinning threads cost 5-10x.)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from journey.assistant import load_assistant
from journey.demo import create_demo_workspace
from journey.demo.larchkite.company import FIRST_NAMES, LAST_NAMES
from journey.io import read_jsonl
from journey.serve.store import UNNAMED_CUSTOMER, Store
from journey.training.preferences import harvest_paths
from journey.workspace import Workspace, resolve_sqlite_url

WORD = re.compile(r"[a-z0-9]+")


def journey(root: Path, *args: str) -> float:
    """Run `journey ARGS -w root`, showing its output; its wall-clock seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "journey", *args, "-w", str(root)], check=True)
    return time.perf_counter() - start


def overlap(answer: str, reference: str) -> float:
    """Share of the reference's distinct words that the answer has."""
    ref = set(WORD.findall(reference.lower()))
    return len(ref & set(WORD.findall(answer.lower()))) / max(1, len(ref))


def named(text: str) -> str:
    """The demo customer named in `text` ("Bram Smit"), as a chat page that asks for a name would have it."""
    first = next((n for n in FIRST_NAMES if re.search(rf"\b{re.escape(n)}\b", text)), None)
    last = next((n for n in LAST_NAMES if re.search(rf"\b{re.escape(n)}\b", text)), None)
    return " ".join(n for n in (first, last) if n) or UNNAMED_CUSTOMER


def serve_and_rate(workspace: Workspace, questions: int) -> dict[str, int]:
    """The fine-tuned bot answers, the simulated customers rate, the agents correct and resolve."""
    assistant = load_assistant(workspace, "finetuned")
    store = Store(resolve_sqlite_url(workspace.settings.serve.database, workspace.root))
    tickets = [item[1] for item in read_jsonl(workspace.tickets_path) if isinstance(item, tuple)]
    single = [t["messages"] for t in tickets if len(t.get("messages", [])) == 2][:questions]  # one question, one reply
    phrases = [p.lower() for p in workspace.settings.assistant.handover_phrases]
    pairs = [
        (m[0]["content"], m[1]["content"]) for m in single if not any(p in m[1]["content"].lower() for p in phrases)
    ]
    counts = {"answered": 0, "up": 0, "down": 0, "bot_handed_over": 0}
    started = time.perf_counter()
    replies = assistant.answer_batch([(question, None) for question, _ in pairs])  # in batches, as evaluate does
    for (question, reference), reply in zip(pairs, replies, strict=True):  # the tickets a human answered
        c = store.create_conversation(named(question), "finetuned").id
        store.add_customer_message(c, question, None)
        reason = reply.reason if reply.handed_over else None
        bot = store.add_bot_reply(c, reply.answer, {"handed_over": reply.handed_over}, reason)
        counts["answered"] += 1
        if reply.handed_over:
            counts["bot_handed_over"] += 1
        elif overlap(reply.answer, reference) >= 1 / 3:
            store.rate_answer(c, bot.id, +1)
            counts["up"] += 1
            continue
        else:
            store.rate_answer(c, bot.id, -1)
            counts["down"] += 1
            store.add_customer_message(c, "That does not answer my question; can I talk to a person?", None)
            handover = workspace.settings.assistant.handover_message
            store.add_bot_reply(c, handover, {"handed_over": True}, "customer asked")
        store.claim(c, "Maria Lopes")
        store.agent_reply(c, "Maria Lopes", reference)
        store.close_handover(c, "Maria Lopes", "resolved")
    store.close()
    counts["serve_s"] = round(time.perf_counter() - started)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--questions", type=int, default=48)
    parser.add_argument("--sft-steps", type=int, default=4)
    parser.add_argument("--limit", type=int, default=30)
    args = parser.parse_args()
    root = args.directory
    if not (root / "journey.toml").is_file():
        create_demo_workspace(root)
    times = {}
    if not (root / ".journey" / "adapters" / "default" / "adapter_config.json").is_file():
        times["sft_s"] = journey(root, "finetune", "--max-steps", str(args.sft_steps), "--no-augmentation-aware")
    workspace = Workspace.load(root)
    counts = serve_and_rate(workspace, args.questions)
    times["harvest_s"] = journey(root, "harvest", "--force")
    paths = harvest_paths(workspace)
    names = re.compile(r"\b(" + "|".join(map(re.escape, FIRST_NAMES + LAST_NAMES)) + r")\b")
    harvested = paths.conversations.read_text(encoding="utf-8").splitlines()
    left = sum(bool(names.search(line)) for line in harvested)
    times["dpo_s"] = journey(root, "finetune", "--method", "dpo", "--force")
    times["evaluate_s"] = journey(
        root, "evaluate", "--setups", "finetuned,preference-tuned", "--limit", str(args.limit)
    )
    print(json.dumps({**counts, "harvested": len(harvested), "harvested_with_a_demo_name_left": left, **times}))


if __name__ == "__main__":
    main()
