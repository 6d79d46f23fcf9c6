"""What `journey train` and `journey finetune` share: the training loop (`loop`) and the tickets reader
(`tickets`). Both trainers import it, never each other (docs/design.md, "Code layout").
"""
