"""A run's results: answers scored against the eval set, metrics, and the simulated support centre."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from journey.evaluate.evalset import EvalSet, load_evalset
from journey.evaluate.judge import load_judgements
from journey.evaluate.metrics import Score, Scored, SetupMetrics, score_run, summarise
from journey.evaluate.runs import AnswerRecord, Run
from journey.evaluate.simulation import BASELINE, Outcome, SimulationResult, assumptions, simulate
from journey.setups import in_journey_order
from journey.workspace import Workspace


@dataclass
class Results:
    """Everything the report and the journey table are made of."""

    run: Run
    evalset: EvalSet
    scored: dict[str, Scored]  # set-up -> scored answers, set-ups in journey order
    metrics: dict[str, SetupMetrics]
    simulation: dict[str, SimulationResult]  # the human-only baseline first, then each set-up
    assumptions: list[str]

    @property
    def setups(self) -> list[str]:
        return list(self.scored)

    def summary(self) -> dict[str, Any]:
        """The content of summary.json."""
        return {
            "run": self.run.id,
            "written": time.strftime("%Y-%m-%d %H:%M:%S"),
            "eval_file": str(self.evalset.path),
            "questions": len(self.evalset.items),
            "notes": self.evalset.notes(),
            "setups": {name: metrics.as_dict() for name, metrics in self.metrics.items()},
            "simulation": {name: result.as_dict() for name, result in self.simulation.items()},
            "simulation_assumptions": self.assumptions,
        }


def outcome(record: AnswerRecord, s: Score) -> Outcome:
    """The bot outcome the support-centre simulation replays for one scored answer."""
    kind = "resolved" if s.resolved else "handover" if s.handed_over else "wrong"
    return Outcome(kind, record.latency_s / 60)


def load_results(workspace: Workspace, run: Run) -> Results:
    """Score the run's answers with the current eval file and simulation settings."""
    evalset = load_evalset(workspace.eval_path)
    scored = score_run(evalset.items, run.records())
    scored = {name: scored[name] for name in in_journey_order(scored)}
    settings = workspace.settings.simulation
    simulation = {BASELINE: simulate(settings, None)}
    for name, triples in scored.items():
        simulation[name] = simulate(settings, [outcome(r, s) for _, r, s in triples], name=name)
    return Results(
        run=run,
        evalset=evalset,
        scored=scored,
        metrics=summarise(scored, load_judgements(run)),
        simulation=simulation,
        assumptions=assumptions(settings),
    )
