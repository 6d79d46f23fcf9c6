"""The registry of set-ups: one row each, from which every part of journey derives what a set-up is.

A set-up is a model (the base, the base plus the fine-tuned adapter, or the model trained
from scratch) and whether knowledge is on (docs/design.md, "The five set-ups"). Loading,
the journey table, the "did each step help?" comparisons, the cost rows, the trade-off
table and the plots all read this registry, so adding a set-up is one row here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from journey.errors import UserError

Stage = Literal["train", "finetune", "index"]
ModelKind = Literal["base", "finetuned", "preference", "scratch"]


@dataclass(frozen=True)
class SetupDef:
    """What a set-up is made of, and how the reports place it."""

    name: str
    model: ModelKind
    knowledge: bool
    builds_on: tuple[str, ...] = ()  # the set-ups it is compared against, each a step of the journey
    seed_claim: tuple[float, float] | None = None  # the seed's (response minutes, satisfaction) for it
    demonstrates: Stage | None = None  # the column of the trade-off table it stands for

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The one-off stages that must have run before it can answer."""
        made_by: dict[ModelKind, tuple[Stage, ...]] = {
            "base": (),
            "finetuned": ("finetune",),
            "preference": ("finetune",),
            "scratch": ("train",),
        }
        return made_by[self.model] + (("index",) if self.knowledge else ())


# In journey order: the seed's four steps, then from scratch, then the live loop's preference stage.
REGISTRY: tuple[SetupDef, ...] = (
    SetupDef("as-is", "base", False, seed_claim=(12, 0.85)),
    SetupDef("augmented", "base", True, ("as-is",), (8, 0.88), "index"),
    SetupDef("finetuned", "finetuned", False, ("as-is",), (5, 0.91), "finetune"),
    SetupDef("finetuned+augmented", "finetuned", True, ("augmented", "finetuned"), (5, 0.93), "index"),
    SetupDef("scratch", "scratch", False, ("as-is",), demonstrates="train"),
    # The fine-tuned adapter trained further on the served bot's harvested feedback (journey harvest, DPO/KTO).
    SetupDef("preference-tuned", "preference", False, ("finetuned",)),
    SetupDef("preference-tuned+augmented", "preference", True, ("finetuned+augmented", "preference-tuned")),
)
# The seed's human-only support centre, before any bot: 20 minutes, 80 % satisfied.
SEED_BASELINE = (20.0, 0.80)
# Every function below reads REGISTRY when called, so a row added to it is seen everywhere.


def setup_names() -> tuple[str, ...]:
    """Every registered set-up, in journey order."""
    return tuple(row.name for row in REGISTRY)


def setup_def(name: str) -> SetupDef:
    """The registry row of `name`; an unknown name is an error naming the known ones."""
    for row in REGISTRY:
        if row.name == name:
            return row
    raise UserError(f"Unknown set-up '{name}'. Choose one of: {', '.join(setup_names())}.")


def in_journey_order(names: Iterable[str]) -> list[str]:
    """`names` sorted as the registry orders set-ups; an unregistered name is an error, never dropped."""
    wanted = {setup_def(name).name for name in names}
    return [row.name for row in REGISTRY if row.name in wanted]


def journey_steps() -> list[tuple[str, str]]:
    """Every (set-up, the set-up it builds on) pair, in journey order: the seed's claims, one step each."""
    return [(row.name, before) for row in REGISTRY for before in row.builds_on]


def seed_claims() -> list[tuple[float, float]]:
    """The seed's (response minutes, satisfaction) points: the human-only baseline, then each claimed step."""
    return [SEED_BASELINE, *(row.seed_claim for row in REGISTRY if row.seed_claim)]


def demonstrating(stage: Stage) -> tuple[str, ...]:
    """The set-ups that stand for `stage` in the trade-off table."""
    return tuple(row.name for row in REGISTRY if row.demonstrates == stage)
