"""Augmentation: index documents and table rows, retrieve passages, run live lookups.

`build_index(workspace)` brings the LanceDB index in step with the sources;
`Knowledge.open(workspace).gather(question, history)` gives the assistant a `Context`;
`journey.knowledge.watch.watch(workspace, stop_event)` keeps the index fresh while other commands run
(imported from its module: the package attribute of that name is the module once it is loaded).
The records (`Context`, `Passage`, `LookupResult`) are light; the rest loads LanceDB and
sentence-transformers, so it is imported on first use.
"""

from journey import lazy_exports
from journey.knowledge.context import Context, LookupResult, Passage

__all__ = ["Context", "IndexReport", "Knowledge", "LookupResult", "Passage", "Skipped", "build_index"]
__getattr__ = lazy_exports(
    __name__,
    {
        "journey.knowledge.index": ["IndexReport", "build_index"],
        "journey.knowledge.retrieval": ["Knowledge"],
        "journey.knowledge.sources": ["Skipped"],
    },
)
