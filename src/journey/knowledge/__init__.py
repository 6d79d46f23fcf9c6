"""Augmentation: index documents and table rows, retrieve passages, run live lookups.

`build_index(workspace)` brings the LanceDB index in step with the sources;
`Knowledge.open(workspace).gather(question, history)` gives the assistant a `Context`;
`watch(workspace, stop_event)` keeps the index fresh while other commands run.
"""

from journey.knowledge.context import Context, LookupResult, Passage
from journey.knowledge.index import IndexReport, build_index
from journey.knowledge.retrieval import Knowledge
from journey.knowledge.sources import Skipped
from journey.knowledge.watch import watch

__all__ = ["Context", "IndexReport", "Knowledge", "LookupResult", "Passage", "Skipped", "build_index", "watch"]
