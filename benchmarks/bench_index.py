"""Indexing speed: a cold `journey index` of the demo, no-op and one-edit re-runs, and the
throughput of the whole pipeline (parse, chunk, embed, write) on a larger generated corpus.

Run: .venv/bin/python benchmarks/bench_index.py   (in a fresh process, so "cold" includes loading the model)
"""

from __future__ import annotations

import random
import re
import shutil
import tempfile
import time
from pathlib import Path

from journey.demo import create_demo_workspace
from journey.knowledge import build_index
from journey.knowledge.watch import snapshot
from journey.workspace import Workspace

CORPUS_DOCUMENTS = 600
WORDS = re.findall(r"\w+", __doc__.lower() + " order parcel refund return warranty battery tent jacket voucher repair")


def write_corpus(folder: Path, rng: random.Random) -> None:
    """Markdown articles of 4 sections of 6 sentences each, from a small vocabulary."""
    for n in range(CORPUS_DOCUMENTS):
        sections = [
            f"## Part {part}\n\n"
            + " ".join(" ".join(rng.choices(WORDS, k=rng.randint(8, 20))).capitalize() + "." for _ in range(6))
            for part in range(4)
        ]
        path = folder / f"topic-{n % 20}" / f"article-{n}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Article {n}\n\n" + "\n\n".join(sections), encoding="utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        create_demo_workspace(root)
        workspace = Workspace.load(root)

        cold = build_index(workspace, progress=False)
        print(f"demo, cold (model load included): {cold.seconds:.1f} s — {cold.summary()}")
        shutil.rmtree(workspace.index_dir)
        warm = build_index(workspace, progress=False)
        rate = warm.chunks_embedded / warm.seconds
        print(f"demo, model loaded: {warm.seconds:.1f} s for {warm.chunks_embedded} chunks ({rate:.0f} chunks/s)")
        again = build_index(workspace, progress=False)
        print(f"demo, nothing changed: {again.seconds * 1000:.0f} ms ({again.chunks_embedded} chunks embedded)")
        article = next(workspace.knowledge_dir.rglob("*.md"))
        article.write_text(article.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
        edit = build_index(workspace, progress=False)
        print(f"demo, one article edited: {edit.seconds * 1000:.0f} ms ({edit.summary()})")
        started = time.perf_counter()
        snapshot(workspace)
        print(f"demo, one --watch poll with nothing changed: {(time.perf_counter() - started) * 1000:.1f} ms")

        corpus = Path(tmp) / "corpus"
        write_corpus(corpus / "knowledge", random.Random(0))
        (corpus / "journey.toml").write_text("", encoding="utf-8")
        big = build_index(Workspace.load(corpus), progress=False)
        rate = big.chunks_embedded / big.seconds
        print(f"{CORPUS_DOCUMENTS} generated articles: {big.chunks_embedded} chunks in {big.seconds:.1f} s", end=" ")
        print(f"({rate:.0f} chunks/s)")


if __name__ == "__main__":
    main()
