"""Who is asking: the verified customer, nobody in particular, or the workspace owner.

A lookup that `requires` identity fields (journey.toml) runs only for a caller whose
identity has them, and returns only that customer's rows (docs/security.md). The owner's
own runs on their own machine (`journey ask/chat/evaluate/finetune`) are `OWNER`: trusted,
the requirement waived. A server passes each caller's identity explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    """A caller's verified identity fields (e.g. `{"email": "ada@example.com"}`); `trusted` waives `requires`."""

    fields: dict[str, str] = field(default_factory=dict)
    trusted: bool = False

    def has(self, names: list[str]) -> bool:
        """Whether lookups requiring `names` may run for this caller."""
        return self.trusted or all(name in self.fields for name in names)


OWNER = Identity(trusted=True)
ANONYMOUS = Identity()
