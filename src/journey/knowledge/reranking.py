"""An optional cross-encoder that re-orders retrieved passages (`knowledge.reranker`), loaded from a local folder.

None ships offline, so it is off by default; any sentence-transformers `CrossEncoder` folder works
(e.g. a downloaded `cross-encoder/ms-marco-MiniLM-L6-v2`). Nothing is downloaded.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from sentence_transformers import CrossEncoder

from journey.errors import UserError
from journey.knowledge.context import Passage


@cache
def load_reranker(folder: str) -> CrossEncoder:
    """The cross-encoder in `folder`; a folder that holds anything else is refused in one sentence."""
    path = Path(folder).expanduser()
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UserError(
            f"knowledge.reranker {folder!r} is not a model folder (no readable config.json); point it at a "
            "local sentence-transformers CrossEncoder folder."
        ) from None
    architectures = config.get("architectures") or []
    if not any(name.endswith("ForSequenceClassification") for name in architectures):
        raise UserError(
            f"knowledge.reranker {folder!r} is not a cross-encoder: its config.json names "
            f"{', '.join(architectures) or 'no architecture'}, not a …ForSequenceClassification model."
        )
    return CrossEncoder(str(path.resolve()), local_files_only=True, device="cpu")


def rerank(reranker: CrossEncoder, query: str, passages: list[Passage], k: int) -> list[Passage]:
    """The `k` passages the cross-encoder scores highest for `query`, best first (scores left as retrieved)."""
    if not passages:
        return []
    scores = reranker.predict([(query, passage.text) for passage in passages], show_progress_bar=False)
    order = sorted(range(len(passages)), key=lambda i: -float(scores[i]))
    return [passages[i] for i in order[:k]]
