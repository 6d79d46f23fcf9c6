"""The training text: data/corpus/*.txt, plus knowledge documents and past tickets when asked."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from journey.assistant.prompts import system_prompt
from journey.errors import UserError
from journey.io import visible_files, visible_paths
from journey.knowledge.documents import SUFFIXES, DocumentError, read_document
from journey.train.tokenizer import render_chat
from journey.training.tickets import read_tickets
from journey.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class Corpus:
    """Documents to pack into token streams, and what was read to get them."""

    documents: list[str] = field(default_factory=list)
    files: int = 0
    not_utf8: list[str] = field(default_factory=list)  # decoded with replacement characters
    knowledge_documents: int = 0
    tickets: int = 0
    skipped: list[str] = field(default_factory=list)  # "where: why" for inputs left out

    @property
    def characters(self) -> int:
        return sum(len(d) for d in self.documents)


def load_corpus(workspace: Workspace) -> Corpus:
    """Read the corpus folder, then knowledge and tickets if the settings include them."""
    settings = workspace.settings.train
    corpus = Corpus()
    check_corpus(workspace)
    _add_text_files(workspace.corpus_dir, workspace.root, corpus)
    if settings.include_knowledge and workspace.knowledge_dir.is_dir():
        _add_knowledge(workspace.knowledge_dir, workspace.root, corpus)
    if settings.include_tickets and workspace.tickets_path.is_file():
        _add_tickets(workspace, corpus)
    if corpus.not_utf8:
        log.warning(
            "%d corpus file(s) are not UTF-8; decoded with replacement characters: %s",
            len(corpus.not_utf8),
            ", ".join(corpus.not_utf8),
        )
    if corpus.skipped:
        log.warning("Left out of the training text: %s", "; ".join(corpus.skipped))
    return corpus


def check_corpus(workspace: Workspace) -> None:
    """The sentence for a workspace with no corpus folder (cheap: the CLI says it before torch loads)."""
    if not workspace.corpus_dir.is_dir():
        shown = _shown(workspace.corpus_dir, workspace.root)
        raise UserError(f"No training corpus: {shown}/ does not exist. Put plain-text .txt files there (a few MB).")


def _add_text_files(folder: Path, root: Path, corpus: Corpus) -> None:
    shown = _shown(folder, root)
    for path in visible_paths(folder, "*.txt"):  # hidden ones (.git/, ._notes.txt) are not training text
        if not path.is_file():  # a folder named notes.txt, a broken link, a socket
            corpus.skipped.append(f"{_shown(path, root)}: not a file")
            continue
        try:
            raw = path.read_bytes()
        except OSError as exc:  # no permission to read it
            corpus.skipped.append(f"{_shown(path, root)}: {exc.strerror or exc}")
            continue
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            corpus.not_utf8.append(_shown(path, root))
        corpus.files += 1
        if text.strip():
            corpus.documents.append(text)
    if not corpus.documents:
        raise UserError(
            f"The training corpus is empty: {shown}/ has {corpus.files} .txt file(s) and no text. "
            "Put plain-text .txt files there (a few MB)."
        )


def _add_knowledge(folder: Path, root: Path, corpus: Corpus) -> None:
    for path in (p for p in visible_files(folder) if p.suffix.lower() in SUFFIXES):  # what journey index reads
        try:
            document = read_document(path)
        except DocumentError as exc:
            corpus.skipped.append(f"{_shown(path, root)}: {exc}")
            continue
        sections = [f"{s.heading}\n{s.text}" if s.heading else s.text for s in document.sections]
        corpus.documents.append("\n\n".join([document.title, *sections]))
        corpus.knowledge_documents += 1


def _add_tickets(workspace: Workspace, corpus: Corpus) -> None:
    """Each usable conversation in the chat template's format, as fine-tuning reads them."""
    try:
        tickets = read_tickets(workspace.tickets_path, system_prompt(workspace.settings))
    except UserError as exc:  # no usable conversation: the corpus alone is still trainable
        corpus.skipped.append(str(exc))
        return
    corpus.skipped += [str(problem) for problem in tickets.skipped]
    corpus.documents += [render_chat(ticket.messages) for ticket in tickets.tickets]
    corpus.tickets += len(tickets.tickets)


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
