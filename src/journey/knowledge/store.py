"""The chunk table in LanceDB: schema, atomic per-document replacement, indexes and search.

One table holds every chunk with its vector, its text (full-text indexed) and the
id and content digest of the document or row it came from, so the table itself is
the record of what has been indexed: an interrupted run leaves whole documents in
or out, never half of one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa

os.environ.setdefault("LANCEDB_LOG", "error")  # LanceDB's Rust logger reads this once, at import
import lancedb
from lancedb.index import FTS, IvfHnswSq
from lancedb.rerankers import RRFReranker

from journey.errors import UserError
from journey.knowledge.context import Passage
from journey.knowledge.documents import HEADING_SEPARATOR

TABLE = "chunks"
MODEL_KEY = b"embedding_model"
ANN_MIN_ROWS = 5000  # below this, exact (flat) vector search is fast enough
TEXT_COLUMN = "search_text"
Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")
_RESULT_COLUMNS = ["id", "title", "heading", "source", "text", "flagged", "released", "vector"]


@dataclass(frozen=True)
class Flagged:
    """A chunk whose text reads as instructions to the assistant (knowledge/quarantine.py)."""

    id: str
    unit: str
    source: str
    reason: str
    released: bool

    def __str__(self) -> str:
        return f"{self.source} [{self.id}] — {self.reason}"


def chunk_schema(model: str, dim: int) -> pa.Schema:
    return pa.schema(
        [
            ("id", pa.string()),  # chunk id, e.g. "doc:policies/returns.md#2", "table:products:42"
            ("unit", pa.string()),  # the document or row the chunk came from
            ("digest", pa.string()),  # that document's or row's content digest
            ("title", pa.string()),
            ("heading", pa.string()),
            ("source", pa.string()),
            ("text", pa.string()),
            (TEXT_COLUMN, pa.string()),  # title + heading + text: what is embedded and BM25-indexed
            ("flagged", pa.string()),  # why the chunk reads as instructions to the assistant; "" if it does not
            ("released", pa.bool_()),  # flagged, but `[knowledge] released` lets it into prompts
            ("vector", pa.list_(pa.float32(), dim)),
        ],
        metadata={MODEL_KEY: model.encode()},
    )


class ChunkStore:
    def __init__(self, table: lancedb.table.Table) -> None:
        self.table = table

    @classmethod
    def open(cls, index_dir: Path) -> ChunkStore | None:
        """The existing table, re-checked for new versions on every read; None if there is none."""
        if not index_dir.is_dir():
            return None
        db = lancedb.connect(index_dir, read_consistency_interval=timedelta(0))
        return cls(db.open_table(TABLE)) if TABLE in db.list_tables().tables else None

    @classmethod
    def create(cls, index_dir: Path, model: str, dim: int) -> ChunkStore:
        """A new, empty table (replacing any other), full-text indexed from the start."""
        index_dir.mkdir(parents=True, exist_ok=True)
        table = lancedb.connect(index_dir).create_table(TABLE, schema=chunk_schema(model, dim), mode="overwrite")
        table.create_index(TEXT_COLUMN, config=FTS())
        return cls(table)

    @property
    def model(self) -> str:
        return (self.table.schema.metadata or {}).get(MODEL_KEY, b"").decode()

    @property
    def outdated(self) -> bool:
        """True for a table written by an older journey (no quarantine columns): rebuild it."""
        return "flagged" not in self.table.schema.names

    def count(self) -> int:
        return self.table.count_rows()

    def flagged(self) -> list[Flagged]:
        """Every flagged chunk, released or not, in id order."""
        found = (
            self.table.search()
            .where("flagged != ''")
            .select(["id", "unit", "source", "flagged", "released"])
            .limit(None)
            .to_arrow()
            .to_pylist()
        )
        return sorted(
            (Flagged(r["id"], r["unit"], r["source"], r["flagged"], r["released"]) for r in found), key=lambda f: f.id
        )

    def digests(self) -> dict[str, str]:
        """Indexed document/row id -> content digest."""
        seen = self.table.search().select(["unit", "digest"]).limit(None).to_arrow()
        return dict(zip(seen["unit"].to_pylist(), seen["digest"].to_pylist(), strict=True))

    def replace(self, units: Sequence[str], rows: list[dict[str, Any]]) -> None:
        """In one commit, make `rows` the only chunks of `units` (no rows: remove them)."""
        for batch in _batches(units, 500):
            wanted = set(batch)
            mine = [row for row in rows if row["unit"] in wanted]
            if not mine:
                self.table.delete(_in("unit", batch))
                continue
            data = pa.Table.from_pylist(mine, schema=self.table.schema)
            (
                self.table.merge_insert("id")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .when_not_matched_by_source_delete(_in("unit", batch))
                .execute(data)
            )

    def optimize(self) -> None:
        """Fold new rows into the indexes, compact, and build the ANN index once the table is large."""
        has_vector_index = any(index.columns == ["vector"] for index in self.table.list_indices())
        if not has_vector_index and self.count() >= ANN_MIN_ROWS:
            self.table.create_index("vector", config=IvfHnswSq(distance_type="cosine", m=16, ef_construction=100))
        self.table.optimize(cleanup_older_than=timedelta(hours=1))

    def search(self, vector: np.ndarray, text: str, k: int, mode: Mode = "hybrid") -> list[Passage]:
        """Top `k` chunks: dense, BM25, or both fused by reciprocal rank. Scores are cosine similarities.

        Quarantined chunks are returned too, with their reason in `Passage.quarantine`."""
        if self.outdated:
            raise UserError("The knowledge index was built by an older journey. Run `journey index` to rebuild it.")
        if mode == "dense":
            query = self.table.search(vector, vector_column_name="vector").distance_type("cosine").limit(k)
        elif mode == "bm25":
            query = self.table.search(text, query_type="fts", fts_columns=TEXT_COLUMN).limit(k)
        else:  # each side contributes twice the candidates, so fusion has something to choose from
            query = (
                self.table.search(query_type="hybrid", vector_column_name="vector", fts_columns=TEXT_COLUMN)
                .vector(vector)
                .text(text)
                .distance_type("cosine")
                .rerank(RRFReranker())
                .limit(max(2 * k, 10))
            )
        found = query.select(_RESULT_COLUMNS).to_arrow().slice(0, k)
        if not found.num_rows:
            return []
        scores = np.stack(found["vector"].to_numpy(zero_copy_only=False)) @ vector
        return [
            Passage(
                id=row["id"],
                title=HEADING_SEPARATOR.join(filter(None, (row["title"], row["heading"]))),
                source=row["source"],
                text=row["text"],
                score=round(float(score), 4),
                quarantine="" if row["released"] else row["flagged"],
            )
            for row, score in zip(found.drop_columns(["vector"]).to_pylist(), scores, strict=True)
        ]


def _batches(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    return (items[i : i + size] for i in range(0, len(items), size))


def _in(column: str, values: Iterable[str]) -> str:
    quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    return f"{column} IN ({quoted})"
