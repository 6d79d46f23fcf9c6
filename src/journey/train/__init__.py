"""Training from scratch: a byte-level BPE tokenizer and a Llama model trained on the workspace's corpus."""

from journey.train.run import TrainReport, train

__all__ = ["TrainReport", "train"]
