"""The freshness test changes one database value, asks every set-up, and always puts the old value back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from journey.evaluate.freshness import (
    FreshnessAnswer,
    FreshnessProbe,
    FreshnessResult,
    freshness_path,
    load_freshness,
    run_freshness,
)
from journey.knowledge.index import IndexReport
from journey.workspace import Workspace


def shop_workspace(root: Path) -> Workspace:
    with sqlite3.connect(root / "shop.sqlite") as db:
        db.execute("CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT, price REAL)")
        db.execute("INSERT INTO products VALUES ('BK-1', 'Trail Bike', 10.0)")
    config = root / "journey.toml"
    config.write_text(config.read_text() + '\n[knowledge]\ndatabases = { shop = "sqlite:///shop.sqlite" }\n')
    return Workspace.load(root)


def probe() -> FreshnessProbe:
    return FreshnessProbe(
        "shop", "products", "sku", "BK-1", "price", 10.0, 20.0, "How much is the Trail Bike?", "10.00", "20.00"
    )


def price(root: Path) -> float:
    with sqlite3.connect(root / "shop.sqlite") as db:
        return db.execute("SELECT price FROM products").fetchone()[0]


def test_freshness_asks_with_the_new_value_and_restores_the_old(
    tiny_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = shop_workspace(tiny_workspace)
    seen_during: list[float] = []

    def fake_index(ws: Workspace, *, progress: bool = True) -> IndexReport:
        seen_during.append(price(tiny_workspace))
        return IndexReport(updated=1, seconds=0.25)

    monkeypatch.setattr("journey.knowledge.build_index", fake_index)
    result = run_freshness(workspace, probe(), ["as-is"])
    assert seen_during == [20.0, 10.0]  # indexed after the change, and again after restoring
    assert price(tiny_workspace) == 10.0
    assert result.reindex_seconds == 0.25
    assert set(result.answers) == {"as-is"}
    assert load_freshness(workspace) == result  # written whole and read back typed


def test_freshness_restores_the_value_when_answering_fails(
    tiny_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = shop_workspace(tiny_workspace)
    monkeypatch.setattr("journey.knowledge.build_index", lambda ws, progress=True: IndexReport())

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("journey.assistant.load_assistant", broken)
    with pytest.raises(KeyboardInterrupt):
        run_freshness(workspace, probe(), ["as-is"])
    assert price(tiny_workspace) == 10.0
    assert load_freshness(workspace) is None


def test_an_unreadable_freshness_file_is_not_measured(tiny_workspace: Path) -> None:
    workspace = Workspace.load(tiny_workspace)
    path = freshness_path(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"answers": {"augmented": {"new": true}}}')  # not this version's shape
    assert load_freshness(workspace) is None
    path.write_text("{torn")
    assert load_freshness(workspace) is None


def test_each_answer_says_which_value_it_carries() -> None:
    def verdict(new: bool, old: bool, handed_over: bool = False) -> str:
        return FreshnessAnswer(answer="", handed_over=handed_over, new_value=new, old_value=old).verdict

    assert verdict(True, True) == "new value"
    assert verdict(False, True) == "old value"
    assert verdict(False, False, handed_over=True) == "neither value (handed over)"
    result = FreshnessResult(probe=probe(), reindex_seconds=1.0, answers={})
    assert FreshnessResult.model_validate_json(result.model_dump_json()).probe == probe()
