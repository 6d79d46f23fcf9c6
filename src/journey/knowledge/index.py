"""`journey index`: bring the LanceDB chunk table in step with the workspace's sources.

Only documents and rows whose digest changed are parsed, chunked and embedded; those
that disappeared lose their chunks. Work is committed a few hundred chunks at a time,
whole documents at once, so an interrupted run leaves a usable index and the next run
carries on where it stopped.

Every chunk is checked for instruction-like text (knowledge/quarantine.py) as it is made;
a flagged chunk is stored with its reason and kept out of prompts unless `[knowledge]
released` names it. A release is part of its document's digest, so releasing or
un-releasing a document re-indexes just that document.

A run that embedded anything writes the index's StageRecord (journey/records.py) for `journey cost`:
`journey index`, `--watch` and the demo's index stage all come through here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from rich.console import Console
from rich.progress import Progress
from sentence_transformers import SentenceTransformer

from journey.knowledge.chunking import Chunker
from journey.knowledge.documents import Document, DocumentError
from journey.knowledge.embeddings import encode, load_encoder
from journey.knowledge.lookups import lookup_warnings
from journey.knowledge.quarantine import Finding, Release, find_instructions
from journey.knowledge.sources import Skipped, Unit, take_inventory
from journey.knowledge.store import TEXT_COLUMN, ChunkStore, Flagged
from journey.records import StageRecord, write_stage_record
from journey.workspace import KnowledgeSettings, Workspace

CHUNKING_VERSION = 2  # bump when chunking or the quarantine rules change, so every document is re-chunked
FLUSH_CHUNKS = 512  # chunks embedded and committed together


@dataclass
class IndexReport:
    """What one `build_index` run did; counts are of documents and table rows."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_embedded: int = 0
    total_chunks: int = 0
    seconds: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about lookups and releases, checked here
    quarantined: list[Flagged] = field(default_factory=list)  # every flagged chunk now in the index, not released
    released: list[Flagged] = field(default_factory=list)  # flagged chunks that `[knowledge] released` lets in

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.removed} removed, {self.unchanged} unchanged; "
            f"{self.chunks_embedded} chunks embedded in {self.seconds:.1f}s; {self.total_chunks} chunks indexed"
            + (f", {len(self.quarantined)} quarantined" if self.quarantined else "")
        )


def fingerprint(settings: KnowledgeSettings) -> str:
    """Everything besides content that decides a document's chunks and vectors."""
    return f"{settings.embedding_model}|{settings.chunk_tokens}|{settings.chunk_overlap}|{CHUNKING_VERSION}"


def build_index(workspace: Workspace, *, progress: bool = True) -> IndexReport:
    """Index every source declared in journey.toml, incrementally."""
    started = time.perf_counter()
    settings = workspace.settings.knowledge
    inventory = take_inventory(workspace, fingerprint(settings))
    release = Release(tuple(settings.released))
    units = [replace(unit, digest=release.stamp(unit.digest, unit.id, unit.source)) for unit in inventory.units]
    report = IndexReport(skipped=list(inventory.skipped), warnings=lookup_warnings(workspace))

    store = ChunkStore.open(workspace.index_dir)
    if store is None or store.model != settings.embedding_model or store.outdated:
        encoder = load_encoder(settings.embedding_model)
        store = ChunkStore.create(workspace.index_dir, settings.embedding_model, encoder.get_embedding_dimension())
    indexed = store.digests()
    current = {unit.id: unit.source for unit in units}
    gone = [uid for uid in indexed if uid not in current and not uid.startswith(inventory.kept)]
    todo = [unit for unit in units if indexed.get(unit.id) != unit.digest]
    report.unchanged = len(units) - len(todo)

    if gone:
        store.replace(gone, [])
        report.removed += len(gone)
    if todo:
        _index_units(store, settings, release, todo, indexed, report, progress)
    if gone or todo:
        store.optimize()
    flagged = store.flagged()
    report.quarantined = [chunk for chunk in flagged if not chunk.released]
    report.released = [chunk for chunk in flagged if chunk.released]
    names = {name for chunk in flagged for name in (chunk.id, chunk.unit, current.get(chunk.unit))}
    report.warnings += [
        f"released entry {entry!r} names no quarantined chunk (ids and paths are listed by `journey index`)"
        for entry in release.unused(names)
    ]
    report.total_chunks = store.count()
    report.seconds = time.perf_counter() - started
    if report.chunks_embedded:
        write_stage_record(workspace, _stage_record(workspace, report))
    return report


def _stage_record(workspace: Workspace, report: IndexReport) -> StageRecord:
    """What this run's embedding work cost, for `journey cost` (a run that embedded nothing keeps the last one)."""
    settings = workspace.settings.knowledge
    encoder = load_encoder(settings.embedding_model)  # cached: loaded for the embedding just done
    return StageRecord(
        stage="index",
        seconds=report.seconds,
        hardware=workspace.settings.cost.hardware,
        tokens=report.chunks_embedded * settings.chunk_tokens,
        parameters=sum(p.numel() for p in encoder.parameters()),
        detail=f"{report.chunks_embedded} chunks embedded (tokens: at most {settings.chunk_tokens} each)",
        settings=settings.model_dump(include={"embedding_model", "chunk_tokens", "chunk_overlap"}),
    )


class _Model:
    """The encoder and chunker, loaded on first use: a run whose only changes fail to parse needs neither."""

    def __init__(self, settings: KnowledgeSettings) -> None:
        self.settings = settings

    @cached_property
    def encoder(self) -> SentenceTransformer:
        return load_encoder(self.settings.embedding_model)

    @cached_property
    def chunker(self) -> Chunker:
        return Chunker(self.encoder.tokenizer, self.settings.chunk_tokens, self.settings.chunk_overlap)


def _index_units(
    store: ChunkStore,
    settings: KnowledgeSettings,
    release: Release,
    todo: list[Unit],
    indexed: dict[str, str],
    report: IndexReport,
    progress: bool,
) -> None:
    """Parse, chunk, embed and commit `todo`, FLUSH_CHUNKS at a time."""
    model = _Model(settings)
    units: list[str] = []
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        if rows:
            vectors = encode(model.encoder, [row[TEXT_COLUMN] for row in rows])
            for row, vector in zip(rows, vectors, strict=True):
                row["vector"] = vector
        store.replace(units, rows)
        report.chunks_embedded += len(rows)
        units.clear()
        rows.clear()

    with _progress(progress, len(todo)) as advance:
        for unit in todo:
            units.append(unit.id)
            try:
                rows += _chunk_rows(unit, unit.read(), model, release)
            except DocumentError as exc:
                report.skipped.append(Skipped(unit.source, str(exc)))
                report.removed += unit.id in indexed
            else:
                if unit.id in indexed:
                    report.updated += 1
                else:
                    report.added += 1
            if len(rows) >= FLUSH_CHUNKS:
                flush()
            advance()
        flush()


def _chunk_rows(unit: Unit, document: Document, model: _Model, release: Release) -> list[dict[str, Any]]:
    """The rows of a document's chunks, each checked for instructions; hidden ones flag every chunk."""
    chunks = model.chunker.split(document.sections)
    if not chunks:
        raise DocumentError("no text in it")
    hidden = [
        Finding(f"{finding.reason} in {carrier.carrier}", finding.span)
        for carrier in document.hidden
        for finding in find_instructions(carrier.text, hidden=True)
    ]
    rows = []
    for n, chunk in enumerate(chunks):
        chunk_id = unit.id if len(chunks) == 1 else f"{unit.id}#{n}"
        text = "\n".join(filter(None, (document.title, chunk.heading, chunk.text)))
        reasons = dict.fromkeys(str(finding) for finding in [*hidden, *find_instructions(text)])
        rows.append(
            {
                "id": chunk_id,
                "unit": unit.id,
                "digest": unit.digest,
                "title": document.title,
                "heading": chunk.heading,
                "source": f"{unit.source} ({chunk.location})" if chunk.location else unit.source,
                "text": chunk.text,
                TEXT_COLUMN: text,
                "flagged": "; ".join(reasons),
                "released": bool(reasons) and release.releases(chunk_id, unit.id, unit.source),
            }
        )
    return rows


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr (or nothing); yields the function that advances it."""
    if not enabled:
        yield lambda: None
        return
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Indexing", total=total)
        yield lambda: bar.advance(task)
