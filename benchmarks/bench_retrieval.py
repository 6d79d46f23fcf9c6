"""Retrieval quality and speed.

1. hit@5 on the demo eval set (non-escalation questions): the five retrieved passages plus
   the live lookups contain every fact of the question, for dense-only, BM25-only and hybrid.
2. Query latency (p50/p95) on the demo index and on a synthetic 100k-chunk table
   (random unit vectors, Zipf-distributed words) with the ANN index `journey index` builds.

Run: .venv/bin/python benchmarks/bench_retrieval.py
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa

from journey.demo import create_demo_workspace
from journey.knowledge import Knowledge, build_index
from journey.knowledge.context import LookupResult, Passage
from journey.knowledge.embeddings import encode, load_encoder
from journey.knowledge.lookups import run_lookups
from journey.knowledge.store import MODES, TEXT_COLUMN, ChunkStore, chunk_schema
from journey.workspace import Workspace

K = 5
SYNTHETIC_ROWS = 100_000
DIM = 384


def retrieved_text(passages: list[Passage], lookups: list[LookupResult]) -> str:
    texts = [f"{p.title}\n{p.text}" for p in passages]
    texts += [" ".join(str(value) for value in row.values()) for result in lookups for row in result.rows]
    return "\n".join(texts)


def hit_rates(knowledge: Knowledge, questions: list[dict]) -> dict[str, dict[str, float]]:
    """mode -> category (and "all") -> share of questions whose facts were all retrieved."""
    hits: dict[str, dict[str, list[bool]]] = {mode: defaultdict(list) for mode in MODES}
    for question in questions:
        lookups = run_lookups(knowledge.lookups, question["question"])
        for mode in MODES:
            found = retrieved_text(knowledge.search(question["question"], K, mode), lookups)
            hit = all(fact in found for fact in question["facts"])
            hits[mode][question["category"]].append(hit)
            hits[mode]["all"].append(hit)
    return {mode: {cat: float(np.mean(v)) for cat, v in sorted(cats.items())} for mode, cats in hits.items()}


def percentiles(seconds: list[float]) -> str:
    ms = np.array(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms"


def timed(function: Callable, inputs: Iterable[tuple]) -> list[float]:
    """Seconds each `function(*arguments)` call took."""
    times = []
    for arguments in inputs:
        started = time.perf_counter()
        function(*arguments)
        times.append(time.perf_counter() - started)
    return times


def synthetic_store(folder: Path, rng: np.random.Generator) -> tuple[ChunkStore, float]:
    """A 100k-chunk table written in 10k batches, then optimised (which builds the ANN index)."""
    store = ChunkStore.create(folder, "synthetic", DIM)
    vocabulary = np.array([f"w{i}" for i in range(20_000)])
    for start in range(0, SYNTHETIC_ROWS, 10_000):
        ids = [f"syn:{i}" for i in range(start, start + 10_000)]
        vectors = rng.normal(size=(10_000, DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        texts = [" ".join(vocabulary[rng.zipf(1.3, 60) % len(vocabulary)]) for _ in ids]
        columns = {"id": ids, "unit": ids, "digest": ["0"] * len(ids), "title": ids, "heading": [""] * len(ids),
                   "source": ["synthetic"] * len(ids), "text": texts, TEXT_COLUMN: texts,
                   "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), DIM)}  # fmt: skip
        store.table.add(pa.table(columns, schema=chunk_schema("synthetic", DIM)))
    started = time.perf_counter()
    store.optimize()
    return store, time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        create_demo_workspace(root)
        workspace = Workspace.load(root)
        build_index(workspace, progress=False)
        knowledge = Knowledge.open(workspace)
        lines = workspace.eval_path.read_text(encoding="utf-8").splitlines()
        questions = [q for q in map(json.loads, filter(None, lines)) if not q["escalate"] and q["facts"]]

        rates = hit_rates(knowledge, questions)
        categories = list(rates["hybrid"])
        print(f"hit@{K} on {len(questions)} non-escalation demo questions with facts")
        print(f"{'category':<14}" + "".join(f"{mode:>9}" for mode in MODES))
        for category in categories:
            print(f"{category:<14}" + "".join(f"{rates[mode][category]:>9.2f}" for mode in MODES))

        gather_times = timed(knowledge.gather, [(q["question"],) for q in questions * 2])
        print(f"\ndemo gather (embed + hybrid search + lookups): {percentiles(gather_times)}")
        encoder = load_encoder(workspace.settings.knowledge.embedding_model)
        embed_times = timed(encode, [(encoder, [q["question"]]) for q in questions])
        print(f"  of which query embedding: {percentiles(embed_times)}")

        rng = np.random.default_rng(0)
        store, optimise_seconds = synthetic_store(Path(tmp) / "synthetic", rng)
        print(f"\nsynthetic table: {store.count():,} chunks; optimise incl. ANN index build {optimise_seconds:.1f} s")
        queries = rng.normal(size=(200, DIM)).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        words = [f"w{rng.integers(0, 200)} w{rng.integers(0, 5000)} w{rng.integers(0, 20000)}" for _ in queries]
        for mode in MODES:
            store.search(queries[0], words[0], K, mode)  # warm caches
            times = timed(store.search, [(v, w, K, mode) for v, w in zip(queries, words, strict=True)])
            print(f"  {mode:<7} search, k={K}: {percentiles(times)}")


if __name__ == "__main__":
    main()
