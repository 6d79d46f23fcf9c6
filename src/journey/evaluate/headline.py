"""The tables a reader looks at first: the seed's journey, measured; accuracy by category; example answers."""

from __future__ import annotations

from journey.evaluate.cost import inference_costs, setup_cost
from journey.evaluate.metrics import share
from journey.evaluate.results import Results
from journey.evaluate.simulation import BASELINE
from journey.evaluate.tables import TextTable, minutes, pct, pct_interval
from journey.records import stage_records
from journey.setups import journey_steps
from journey.workspace import Workspace

MAX_EXAMPLES = 6
MAX_ANSWER_CHARS = 400


def journey_table(workspace: Workspace, results: Results) -> TextTable:
    """set-up | correct | resolved by bot | hand-over P/R | avg response time (sim.) | satisfaction (sim.) | cost."""
    stages = stage_records(workspace)
    costs = inference_costs(workspace, results.run)
    table = TextTable(
        "The journey, measured on this workspace",
        [
            "set-up",
            "correct",
            "resolved by bot",
            "hand-over P/R",
            "avg response time (sim.)",
            "satisfaction (sim.)",
            "cost",
        ],
    )
    baseline = results.simulation[BASELINE]
    table.rows.append(
        [
            BASELINE,
            "—",
            "0%",
            "—",
            _response(baseline),
            pct(baseline.satisfaction),
            f"{workspace.settings.simulation.agents} agents",
        ]
    )
    for setup in results.setups:
        overall = results.metrics[setup].overall
        sim = results.simulation[setup]
        table.rows.append(
            [
                setup,
                pct_interval(overall.correct, overall.n),
                pct_interval(overall.resolved_by_bot, overall.n),
                f"{_ratio(overall.handover_precision)} / {_ratio(overall.handover_recall)}",
                _response(sim),
                pct(sim.satisfaction),
                setup_cost(workspace, setup, costs.get(setup), stages),
            ]
        )
    n = max((results.metrics[s].overall.n for s in results.setups), default=0)
    table.notes += [
        f"correct, resolved by bot, hand-over precision/recall: measured on {n} questions (run {results.run.id}); "
        "in brackets, the 95% interval (Wilson) of a share measured on that many questions.",
        "response time and satisfaction: simulated from the measured outcomes; assumptions, not measurements:",
        *results.assumptions,
        f"cost: measured wall-clock priced at {workspace.settings.cost.hardware}, per 1,000 questions, plus the "
        "one-off stages each set-up needs (index, fine-tune, train).",
    ]
    return table


def steps_table(results: Results) -> TextTable:
    """Did each step help? Paired on the same questions: answers it made correct, answers it broke, exact McNemar."""
    from scipy.stats import binomtest

    table = TextTable(
        "Did each step help? The same questions, before and after",
        ["step", "correct before → after", "questions gained", "questions lost", "p (exact McNemar)"],
    )
    for after, before in journey_steps():  # the seed's claims, each a step against the set-up it builds on
        if after not in results.scored or before not in results.scored:
            continue
        was = {item.id: s.correct for item, _, s in results.scored[before]}
        pairs = [(was[item.id], s.correct) for item, _, s in results.scored[after] if item.id in was]
        if not pairs:
            continue
        gained = sum(not b and a for b, a in pairs)
        lost = sum(b and not a for b, a in pairs)
        p = binomtest(gained, gained + lost).pvalue if gained + lost else 1.0
        table.rows.append(
            [
                f"{before} → {after}",
                f"{pct(share(b for b, _ in pairs))} → {pct(share(a for _, a in pairs))}",
                str(gained),
                str(lost),
                f"{p:.2g}",
            ]
        )
    table.notes.append(
        "p: the chance of a split at least this uneven between gained and lost questions if the step made no "
        "difference; below 0.05 the change is unlikely to be luck of the questions drawn."
    )
    return table


def category_table(results: Results) -> TextTable:
    """Share correct per category and set-up."""
    categories = sorted({c for s in results.setups for c in results.metrics[s].categories})
    table = TextTable("Correct answers by category", ["category", *results.setups])
    for category in categories:
        cells = []
        for setup in results.setups:
            metrics = results.metrics[setup].categories.get(category)
            cells.append(f"{pct(metrics.correct)} of {metrics.n}" if metrics else "n/a")
        table.rows.append([category, *cells])
    return table


def detail_table(results: Results) -> TextTable:
    """The other measured metrics per set-up."""
    table = TextTable(
        "More measurements per set-up",
        [
            "set-up",
            "fact recall",
            "answers with ungrounded facts",
            "answers echoing the context",
            "handed over",
            "latency p50 / p95",
            "tokens/s",
            "questions/min",
            "judge",
        ],
    )
    for setup in results.setups:
        m = results.metrics[setup].overall
        table.rows.append(
            [
                setup,
                pct(m.fact_recall),
                f"{pct(m.hallucination_rate)} ({m.hallucinated_facts} facts)",
                pct(m.echoed_context),
                pct(m.handed_over),
                f"{m.latency_p50_s:.2f} s / {m.latency_p95_s:.2f} s",
                _number(m.tokens_per_s),
                _number(m.questions_per_min),
                pct(m.judge),
            ]
        )
    table.notes += [
        "Ungrounded facts: prices, amounts, dates and codes in an answer found in neither the question, "
        "the context given to the model nor the reference answer.",
        "Echoing the context: the answer repeats the prompt's <data> block; such answers still count as correct "
        "when they contain every fact, so read this column next to 'correct'.",
    ]
    return table


def reach_table(results: Results) -> TextTable:
    """For the set-ups with knowledge: how often the facts were in the prompt, and correct with and without them.

    It separates what retrieval and the lookups missed from what the model did not read (RAGAS calls the
    first "context recall")."""
    table = TextTable(
        "Were the facts given? (answerable questions, set-ups with knowledge)",
        ["set-up", "questions", "every fact in the prompt", "correct when given", "correct when not given"],
    )
    for setup in results.setups:
        m = results.metrics[setup].overall
        if m.facts_given is None:
            continue
        asked = sum(s.given is not None for _, _, s in results.scored[setup])
        table.rows.append(
            [setup, str(asked), pct(m.facts_given), pct(m.correct_when_given), pct(m.correct_when_not_given)]
        )
    table.notes.append(
        "In the prompt: every fact of the question's reference is in the question or the data block the model "
        "was given. Correct when given measures reading; every fact in the prompt bounds what reading can reach."
    )
    return table


def examples_table(results: Results) -> TextTable:
    """One question per category, answered by every set-up side by side."""
    answers = {(r.id, setup): (r, s) for setup in results.setups for _, r, s in results.scored[setup]}
    table = TextTable("Example answers", ["question", "expected", *results.setups])
    seen: set[str] = set()
    for item in results.evalset.items:
        if item.category in seen or not all((item.id, s) in answers for s in results.setups):
            continue
        seen.add(item.category)
        expected = "hand over" if item.escalate else ", ".join(item.facts) or "an answer (no facts given)"
        cells = []
        for setup in results.setups:
            record, score = answers[(item.id, setup)]
            mark = "✓" if score.correct else "✗"
            over = " [handed over]" if record.handed_over else ""
            cells.append(f"{mark}{over} {_clip(record.answer)}")
        table.rows.append([f"[{item.category}] {item.question}", expected, *cells])
        if len(table.rows) == MAX_EXAMPLES:
            break
    return table


def _response(sim) -> str:
    return f"{minutes(sim.avg_response_min)} (p90 {sim.p90_response_min:.0f})"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ANSWER_CHARS else text[: MAX_ANSWER_CHARS - 1] + "…"
