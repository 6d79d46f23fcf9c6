"""`journey export`'s parity check: the exported GGUF file answers as the model it was written from.

The same eval questions go greedily through the set-up's pipeline with the merged transformers model, with
the file loaded back by transformers' GGUF loader and, when llama-cpp-python is installed, with llama.cpp.
Each answer is scored as `journey evaluate` scores it (evaluate/metrics.py). The table gives each model's
correct share, the share of answers word for word the merged model's, and the exact McNemar test of the
questions one got right and the other wrong: p ≥ 0.05 is a difference within the noise of that many questions.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import torch

from journey.assistant.pipeline import Assistant
from journey.evaluate.evalset import EvalItem, load_evalset
from journey.evaluate.metrics import score
from journey.evaluate.runs import AnswerRecord
from journey.evaluate.tables import TextTable, pct, pct_interval
from journey.finetune.export import Export
from journey.models.backends import Backend, TransformersBackend
from journey.models.loading import load_gguf
from journey.workspace import Workspace

REFERENCE = "merged model (transformers)"


@dataclass(frozen=True)
class Answered:
    """One model's answers to the questions, in question order, and whether each was correct."""

    name: str
    answers: list[str]
    correct: list[bool]


def check_export(workspace: Workspace, exported: Export, *, questions: int) -> TextTable:
    """Answer the first `questions` eval questions with the merged model and the exported file; compare them."""
    items = load_evalset(workspace.eval_path, limit=questions).items
    gguf_model, gguf_tokenizer = load_gguf(exported.gguf_path)
    backends: list[Backend] = [
        TransformersBackend(exported.model, exported.tokenizer, name=REFERENCE),
        TransformersBackend(gguf_model, gguf_tokenizer, name="GGUF file (transformers' GGUF loader)"),
    ]
    if importlib.util.find_spec("llama_cpp") is not None:
        from journey.models.llamacpp import LlamaCppBackend

        backends.append(LlamaCppBackend(exported.gguf_path, gguf_tokenizer, name="GGUF file (llama.cpp)"))
    knowledge = None
    if exported.setup.knowledge:
        from journey.knowledge import Knowledge

        knowledge = Knowledge.open(workspace)
    results = [_answer(workspace, exported.setup.name, backend, knowledge, items) for backend in backends]
    table = parity_table(results)
    gap = logit_gap(exported.model, gguf_model, backends[0], items[0].question)
    table.notes += [
        f"{len(items)} questions of {workspace.eval_path}, answered greedily through the {exported.setup.name} "
        f"set-up's pipeline; the file holds {exported.outtype} weights.",
        f"Largest logit difference between the merged model and the file, first question asked alone: {gap:.3g}.",
    ]
    return table


def _answer(workspace: Workspace, setup: str, backend: Backend, knowledge, items: list[EvalItem]) -> Answered:
    assistant = Assistant(workspace.settings, backend, setup=setup, knowledge=knowledge)
    replies = assistant.answer_batch([(item.question, None) for item in items])
    records = [AnswerRecord.answered(item.id, "", reply, 0.0) for item, reply in zip(items, replies, strict=True)]
    scores = [score(item, record) for item, record in zip(items, records, strict=True)]
    return Answered(backend.name, [record.answer for record in records], [s.correct for s in scores])


def parity_table(results: list[Answered]) -> TextTable:
    """Each model against the first: correct share, identical answers, questions gained and lost, exact McNemar p."""
    from scipy.stats import binomtest

    reference, n = results[0], len(results[0].answers)
    table = TextTable(
        "Does the exported file answer as the merged model?",
        ["model", "correct", "same answer as the merged model", "gained", "lost", "p (exact McNemar)"],
    )
    table.rows.append([reference.name, pct_interval(sum(reference.correct) / n, n), "—", "—", "—", "—"])
    for other in results[1:]:
        same = sum(a == b for a, b in zip(reference.answers, other.answers, strict=True))
        pairs = list(zip(reference.correct, other.correct, strict=True))
        gained = sum(not was and now for was, now in pairs)
        lost = sum(was and not now for was, now in pairs)
        p = binomtest(gained, gained + lost).pvalue if gained + lost else 1.0
        table.rows.append(
            [other.name, pct_interval(sum(other.correct) / n, n), pct(same / n), str(gained), str(lost), f"{p:.2g}"]
        )
        verdict = "within the noise" if p >= 0.05 else "NOT within the noise"
        table.notes.append(f"{other.name}: {same} of {n} answers identical; correctness {verdict} (p = {p:.2g}).")
    table.notes.append(
        "gained / lost: questions the file got right and the merged model wrong, and the other way round; "
        "p ≥ 0.05: the difference in correctness is within the noise of this many questions."
    )
    return table


def logit_gap(reference: torch.nn.Module, other: torch.nn.Module, backend: TransformersBackend, question: str) -> float:
    """The largest absolute difference between the two models' next-token logits over one chat prompt."""
    ids, _ = backend.encode([{"role": "user", "content": question}], max_new_tokens=0)
    with torch.inference_mode():
        a = reference(torch.tensor([ids])).logits
        b = other(torch.tensor([ids])).logits
    return float((a - b).abs().max())
