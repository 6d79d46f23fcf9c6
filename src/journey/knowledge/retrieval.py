"""Question-time knowledge: hybrid passage retrieval plus live lookups, as one `Context`.

A follow-up ("and how much is it?") names nothing to retrieve by, so a question with earlier customer
turns is searched twice — alone, and with up to `knowledge.history_turns` of those turns — and the two
rankings are fused by reciprocal rank: the conversation finds what the follow-up refers to, and the
question alone still wins when the customer changed the subject.
"""

from __future__ import annotations

from dataclasses import dataclass

from journey.errors import UserError
from journey.knowledge.context import Context, Passage
from journey.knowledge.embeddings import encode, load_encoder
from journey.knowledge.identity import OWNER, Identity
from journey.knowledge.lookups import LiveLookup, load_lookups, run_lookups
from journey.knowledge.reranking import load_reranker, rerank
from journey.knowledge.store import ChunkStore, Mode
from journey.workspace import KnowledgeSettings, Workspace


@dataclass
class Knowledge:
    """An opened index and the workspace's lookups; sees index updates without reopening."""

    settings: KnowledgeSettings
    store: ChunkStore
    lookups: list[LiveLookup]

    @classmethod
    def open(cls, workspace: Workspace) -> Knowledge:
        settings = workspace.settings.knowledge
        store = ChunkStore.open(workspace.index_dir)
        if store is None:
            raise workspace.missing_index()
        if store.model != settings.embedding_model:
            raise UserError(
                f"The knowledge index was built with embedding model {store.model!r}, but journey.toml now "
                f"says {settings.embedding_model!r}. Run `journey index` to rebuild it."
            )
        return cls(settings, store, load_lookups(workspace))

    def search(
        self, query: str, k: int | None = None, mode: Mode = "hybrid", history: list[dict] | None = None
    ) -> list[Passage]:
        """The `k` (default `top_k`) best passages for `query` asked after `history`, best first.

        Scores are cosine similarities; with `knowledge.reranker` set, a cross-encoder orders them."""
        if not query.strip():
            return []
        k = k or self.settings.top_k
        queries = retrieval_queries(query, history, self.settings.history_turns)
        pool = max(3 * k, 10) if self.settings.reranker else k
        vectors = encode(load_encoder(self.settings.embedding_model), queries)
        rankings = [self.store.search(vector, text, pool, mode) for vector, text in zip(vectors, queries, strict=True)]
        found = fuse(rankings)
        if self.settings.reranker:
            return rerank(load_reranker(self.settings.reranker), queries[-1], found, k)
        return found[:k]

    def gather(self, question: str, history: list[dict] | None = None, *, identity: Identity = OWNER) -> Context:
        """Passages scoring at least `min_score`, and the results of every lookup whose parameters were found
        and whose required identity the caller has (`identity`; default: the workspace owner, locally).
        Quarantined passages are withheld (`Context.withheld`), never put in the prompt."""
        passages = [p for p in self.search(question, history=history) if p.score >= self.settings.min_score]
        return Context.of(passages, run_lookups(self.lookups, question, history, identity=identity))


def retrieval_queries(question: str, history: list[dict] | None, turns: int) -> list[str]:
    """The question alone, then (when there are earlier customer turns) the question after up to `turns` of them."""
    earlier = [m["content"] for m in history or [] if m.get("role") == "user" and (m.get("content") or "").strip()]
    if not turns or not earlier:
        return [question]
    return [question, "\n".join([*earlier[-turns:], question])]


def fuse(rankings: list[list[Passage]], k: int = 60) -> list[Passage]:
    """Reciprocal-rank fusion (Cormack et al., 2009) of rankings of passages, best first; ties keep the first
    ranking's order. A passage found by several keeps its highest cosine score."""
    if len(rankings) == 1:
        return rankings[0]
    fused: dict[str, float] = {}
    best: dict[str, Passage] = {}
    for ranking in rankings:
        for rank, passage in enumerate(ranking):
            fused[passage.id] = fused.get(passage.id, 0.0) + 1.0 / (k + rank + 1)
            if passage.id not in best or passage.score > best[passage.id].score:
                best[passage.id] = passage
    return [best[pid] for pid in sorted(fused, key=lambda pid: -fused[pid])]
