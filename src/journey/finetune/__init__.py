"""Fine-tuning: chat data → packed tokens, LoRA or full supervised fine-tuning, merge.

`merge` is light until it runs; the fine-tuning run (torch, PEFT, transformers) is imported on first use.
"""

from journey import lazy_exports
from journey.finetune.merge import merge

__all__ = ["FinetuneReport", "finetune", "merge"]
__getattr__ = lazy_exports(__name__, {"journey.finetune.run": ["FinetuneReport", "finetune"]})
