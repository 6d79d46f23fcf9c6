"""Optional LLM-as-judge through any OpenAI-compatible endpoint (off unless `evaluate.judge_base_url` is set).

The judge grades each given answer (hand-overs are scored on the hand-over
decision instead) against the reference on a 1–5 scale; grades are stored in the
run's `judge.jsonl`, so an interrupted judging pass resumes too.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from journey.evaluate.evalset import EvalItem
from journey.evaluate.runs import AnswerRecord, Run, append_lines
from journey.io import JsonlProblem, read_jsonl
from journey.workspace import EvaluateSettings

if TYPE_CHECKING:  # the backends load torch; reading a run's judgements (the report) does not need it
    from journey.models.backends import Backend

JUDGEMENTS = "judge.jsonl"
SYSTEM = (
    "You grade a customer-support assistant. Compare its ANSWER with the REFERENCE answer to the QUESTION. "
    "Reply with one digit: 5 = states the reference's facts and fully helps the customer, 3 = partly right, "
    "1 = wrong, invented or unhelpful."
)


def judge_backend(settings: EvaluateSettings) -> Backend | None:
    """The configured judge, or None when no judge endpoint is set."""
    if not settings.judge_base_url:
        return None
    from journey.models.openai_backend import OpenAIBackend

    model = settings.judge_model or "judge"
    return OpenAIBackend(settings.judge_base_url, model, api_key_env=settings.judge_api_key_env)


def judge_run(backend: Backend, run: Run, items: list[EvalItem], records: list[AnswerRecord]) -> int:
    """Grade every given answer not graded yet; returns how many were graded now."""
    by_id = {item.id: item for item in items}
    done = {(j["id"], j["setup"], j["fingerprint"]) for j in _read(run)}
    todo = [
        r
        for r in records
        if not r.handed_over and r.id in by_id and by_id[r.id].reference and (r.id, r.setup, r.fingerprint) not in done
    ]
    path = run.folder / JUDGEMENTS
    size = getattr(backend, "concurrency", 1)  # a server grades that many at once; each group is kept as it ends
    for offset in range(0, len(todo), size):
        chunk = todo[offset : offset + size]
        replies = backend.generate([_prompt(by_id[r.id], r) for r in chunk], max_new_tokens=4)
        append_lines(path, [_judgement(r, reply.text) for r, reply in zip(chunk, replies, strict=True)])
    return len(todo)


def _prompt(item: EvalItem, record: AnswerRecord) -> list[dict[str, str]]:
    prompt = f"QUESTION: {item.question}\nREFERENCE: {item.reference}\nANSWER: {record.answer}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]


def _judgement(record: AnswerRecord, reply: str) -> str:
    grade = re.search(r"[1-5]", reply)
    line = {"id": record.id, "setup": record.setup, "fingerprint": record.fingerprint, "raw": reply}
    line["score"] = (int(grade.group(0)) - 1) / 4 if grade else None
    return json.dumps(line, ensure_ascii=False)


def load_judgements(run: Run) -> dict[tuple[str, str, str], float]:
    """(question id, set-up, answer fingerprint) -> judge score in [0, 1], for answers that were graded."""
    return {(j["id"], j["setup"], j["fingerprint"]): j["score"] for j in _read(run) if j.get("score") is not None}


def _read(run: Run) -> list[dict]:
    path = run.folder / JUDGEMENTS
    if not path.is_file():
        return []
    return [entry[1] for entry in read_jsonl(path) if not isinstance(entry, JsonlProblem)]
