"""Fine-tuning: chat data → packed tokens, LoRA or full supervised fine-tuning, merge."""

from journey.finetune.merge import merge
from journey.finetune.run import FinetuneReport, finetune

__all__ = ["FinetuneReport", "finetune", "merge"]
