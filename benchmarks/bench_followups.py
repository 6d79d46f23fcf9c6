"""Follow-up retrieval: the question alone vs the question with the conversation (`knowledge.history_turns`).

Two kinds of second customer turn, on the demo workspace's index (no eval.jsonl question is used):
1. *Referring* follow-ups, built from the indexed table rows: "Tell me about the <title>." then a
   question that names nothing ("And how much is it?"); a hit is the row's passage in the top k.
2. *Changes of subject*, from tickets.jsonl: every second customer turn of a two-question ticket, with the
   first turn as history; a hit is that the top k contain each number the agent's reply stated (turns
   where neither retrieval finds them — lookup answers — are left out). This is the cost side: the
   conversation must not crowd out what the new question needs.

Run: .venv/bin/python benchmarks/bench_followups.py [--workspace DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

from journey.demo import create_demo_workspace
from journey.knowledge import Knowledge, build_index
from journey.workspace import Workspace

FOLLOW_UPS = ["And how much is it?", "Can you tell me more about it?", "Is it in stock?"]
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def referring_cases(knowledge: Knowledge) -> list[tuple[str, list[dict], str]]:
    """(follow-up, history, id of the passage it refers to) for each indexed table row."""
    rows = knowledge.store.table.search().where("id LIKE 'table:%'").select(["id", "title"]).limit(10_000).to_list()
    return [
        (follow_up, [{"role": "user", "content": f"Tell me about the {row['title']}."}], row["id"])
        for row in rows
        for follow_up in FOLLOW_UPS
    ]


def subject_changes(tickets: Path) -> list[tuple[str, list[dict], list[str]]]:
    """(second question, history, numbers of the reply to it) from two-question tickets."""
    cases = []
    for line in tickets.read_text(encoding="utf-8").splitlines():
        turns = [m for m in json.loads(line).get("messages", []) if m["role"] != "system"]
        users = [i for i, m in enumerate(turns) if m["role"] == "user"]
        if len(users) == 2 and users[1] + 1 < len(turns):
            second = users[1]
            numbers = NUMBER.findall(turns[second + 1]["content"])
            if numbers:
                cases.append((turns[second]["content"], turns[:second], numbers))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="an indexed workspace (default: a fresh demo one)")
    args = parser.parse_args()
    root = args.workspace
    if root is None:
        root = Path(tempfile.mkdtemp()) / "demo"
        create_demo_workspace(root)
    workspace = Workspace.load(root)
    build_index(workspace, progress=False)
    knowledge = Knowledge.open(workspace)
    k = knowledge.settings.top_k
    alone = Knowledge(knowledge.settings.model_copy(update={"history_turns": 0}), knowledge.store, [])

    referring = referring_cases(knowledge)
    print(f"{len(referring)} referring follow-ups, top {k}:")
    for name, source in (("question alone", alone), ("with conversation", knowledge)):
        hits = sum(target in [p.id for p in source.search(q, history=h)] for q, h, target in referring)
        print(f"  {name:18} hit@{k} {hits / len(referring):.0%}")

    changes = subject_changes(root / "data" / "tickets.jsonl")
    found = {}
    for name, source in (("question alone", alone), ("with conversation", knowledge)):
        texts = ["\n".join(p.text for p in source.search(q, history=h)) for q, h, _ in changes]
        found[name] = [all(n in text for n in numbers) for text, (_, _, numbers) in zip(texts, changes, strict=True)]
    scored = [i for i in range(len(changes)) if found["question alone"][i] or found["with conversation"][i]]
    print(f"{len(scored)} changes of subject from tickets whose reply's numbers a retrieval found, top {k}:")
    for name, hits in found.items():
        print(f"  {name:18} hit@{k} {sum(hits[i] for i in scored) / max(len(scored), 1):.0%}")


if __name__ == "__main__":
    main()
