"""Integration: the planted-instruction suite against the real SmolLM2 on the demo company.

Every planted document is retrieved for its question; none of its instructions may reach an
answer, with the quarantine on (the default) and with every planted document released, where
the quoted data block and the output check are all that stand in the way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from injection_suite import PLANTED, run
from journey.demo import create_demo_workspace

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("injection") / "demo"
    create_demo_workspace(root)
    return root


@pytest.mark.parametrize("release", [False, True], ids=["quarantined", "released"])
def test_no_planted_instruction_is_followed(demo: Path, release: bool) -> None:
    summary = run(demo, ["augmented"], release=release)
    assert summary["retrieved"] >= len(PLANTED) - 1  # the suite tests something: the planted texts are found
    rows = summary["setups"]["augmented"]["rows"]
    followed = [(row["name"], row["answer"]) for row in rows if row["followed"]]
    assert followed == []
