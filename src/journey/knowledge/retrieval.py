"""Question-time knowledge: hybrid passage retrieval plus live lookups, as one `Context`."""

from __future__ import annotations

from dataclasses import dataclass

from journey.errors import UserError
from journey.knowledge.context import Context, Passage
from journey.knowledge.embeddings import encode, load_encoder
from journey.knowledge.identity import OWNER, Identity
from journey.knowledge.lookups import LiveLookup, load_lookups, run_lookups
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

    def search(self, query: str, k: int | None = None, mode: Mode = "hybrid") -> list[Passage]:
        """The `k` (default `top_k`) best passages for `query`, best first; scores are cosine similarities."""
        if not query.strip():
            return []
        vector = encode(load_encoder(self.settings.embedding_model), [query])[0]
        return self.store.search(vector, query, k or self.settings.top_k, mode)

    def gather(self, question: str, history: list[dict] | None = None, *, identity: Identity = OWNER) -> Context:
        """Passages scoring at least `min_score`, and the results of every lookup whose parameters were found
        and whose required identity the caller has (`identity`; default: the workspace owner, locally).
        Quarantined passages are withheld (`Context.withheld`), never put in the prompt."""
        passages = [p for p in self.search(question) if p.score >= self.settings.min_score]
        return Context.of(passages, run_lookups(self.lookups, question, history, identity=identity))
