"""Training from scratch: a byte-level BPE tokenizer and a Llama model trained on the workspace's corpus.

torch, transformers and accelerate are imported on first use.
"""

from journey import lazy_exports

__all__ = ["TrainReport", "train"]
__getattr__ = lazy_exports(__name__, {"journey.train.run": ["TrainReport", "train"]})
