"""One listing rule for a user's folders (journey.io.visible_files): what indexing reads, training trains on,
the trade-offs table counts and `journey index --watch` watches are the same files."""

from __future__ import annotations

from pathlib import Path

import pytest

from journey.evaluate.tradeoffs import tradeoffs_table
from journey.io import visible_files, visible_paths
from journey.knowledge.sources import take_inventory
from journey.knowledge.watch import snapshot
from journey.train.corpus import load_corpus
from journey.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """Two real documents and a corpus file, beside hidden ones a Mac, git or an editor leaves behind."""
    (tmp_path / "journey.toml").write_text("[train]\ninclude_knowledge = true\ninclude_tickets = false\n")
    knowledge = tmp_path / "knowledge"
    (knowledge / "sub").mkdir(parents=True)
    (knowledge / "returns.md").write_text("# Returns\n\nReturn within 30 days.\n")
    (knowledge / "sub" / "shipping.txt").write_text("Shipping takes 3 days.\n")
    (knowledge / ".draft.md").write_text("# Draft\n\nA price we have not announced: 12.34.\n")
    (knowledge / "._returns.md").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (knowledge / ".git").mkdir()
    (knowledge / ".git" / "x.md").write_text("# Stale\n\nAn old revision.\n")
    corpus = tmp_path / "data" / "corpus"
    (corpus / ".git").mkdir(parents=True)
    (corpus / "shop.txt").write_text("We sell tents.")
    (corpus / ".git" / "old.txt").write_text("An old revision of the corpus.")
    (corpus / ".notes.txt").write_text("A hidden note.")
    return Workspace.load(tmp_path)


def test_visible_files_skip_hidden_parts_and_folders(workspace: Workspace) -> None:
    folder = workspace.knowledge_dir

    def shown(paths: list[Path]) -> list[str]:
        return [p.relative_to(folder).as_posix() for p in paths]

    assert shown(visible_files(folder)) == ["returns.md", "sub/shipping.txt"]
    assert shown(visible_paths(folder)) == ["returns.md", "sub", "sub/shipping.txt"]
    assert visible_files(folder, "*.md") == [folder / "returns.md"]
    assert visible_files(folder / "missing") == []
    hidden_root = workspace.root / ".journey-like"  # only parts below the folder count, not the folder's own name
    hidden_root.mkdir()
    (hidden_root / "a.md").write_text("a")
    assert visible_files(hidden_root) == [hidden_root / "a.md"]


def test_hidden_files_are_neither_indexed_nor_trained_on_nor_counted(workspace: Workspace) -> None:
    inventory = take_inventory(workspace, "fingerprint")
    assert sorted(unit.id for unit in inventory.units) == ["doc:returns.md", "doc:sub/shipping.txt"]
    assert inventory.skipped == []  # not even reported as unsupported: they are not the user's documents

    corpus = load_corpus(workspace)
    assert corpus.files == 1 and corpus.knowledge_documents == 2 and corpus.skipped == []
    assert not any("12.34" in text or "old revision" in text or "hidden note" in text for text in corpus.documents)

    rows = {row[0]: row[1:] for row in tradeoffs_table(workspace, {}, None).rows}
    corpus_cell, _, knowledge_cell = rows["data needed (this workspace)"]
    assert corpus_cell.startswith("1 corpus file(s)") and knowledge_cell.startswith("2 document(s)")


def test_only_supported_documents_are_counted(workspace: Workspace) -> None:
    (workspace.knowledge_dir / "logo.png").write_bytes(b"\x89PNG")
    rows = {row[0]: row[1:] for row in tradeoffs_table(workspace, {}, None).rows}
    assert rows["data needed (this workspace)"][2].startswith("2 document(s)")


def test_watch_ignores_a_dot_file_change(workspace: Workspace) -> None:
    before = snapshot(workspace)
    (workspace.knowledge_dir / ".returns.md.swp").write_bytes(b"vim swap")
    (workspace.knowledge_dir / ".draft.md").write_text("# Draft\n\nChanged.\n")
    (workspace.knowledge_dir / ".DS_Store").write_bytes(b"\x00")
    assert snapshot(workspace) == before
    (workspace.knowledge_dir / "returns.md").write_text("# Returns\n\nReturn within 60 days.\n")
    assert snapshot(workspace) != before
