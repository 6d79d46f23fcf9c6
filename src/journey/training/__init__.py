"""What `journey train` and `journey finetune` share: the training loop (`loop`), the tickets reader
(`tickets`) and what a run leaves behind (`output`: the model folder, the run summary). Both trainers
import it, never each other (docs/design.md, "Code layout").
"""
