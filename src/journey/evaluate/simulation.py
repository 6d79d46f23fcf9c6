"""A discrete-event model (simpy) of the support centre each set-up would produce.

Customers arrive (Poisson, `arrivals_per_hour`) during opening hours. With a bot,
each customer's bot outcome is drawn from the set-up's measured outcomes on the
eval set (the eval mix is taken as the traffic mix):
- resolved — the bot's answer was right: the customer leaves after the bot's latency;
- handed over — the customer queues for a human agent;
- wrong — the bot answered wrongly; after `wrong_answer_minutes` the customer asks for a human and queues.
Agents (`agents`, gamma-distributed handle time) serve the queue first come, first served.

Response time is the time from the enquiry until the reply that resolves it: the
bot's answer, or the end of the human agent's handling. Satisfaction is a model,
not a measurement: P(satisfied) = `csat_bot_resolved` for bot-resolved enquiries,
else `csat_human_no_wait` − `csat_loss_per_minute` × response time (− `csat_wrong_answer_loss`
after a wrong answer), never below `csat_floor`; the score is its mean (the share
of 4–5 ratings one would expect). The human-only baseline sends everyone to the queue.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import simpy

from journey.workspace import SimulationSettings

OutcomeKind = Literal["resolved", "handover", "wrong"]
BASELINE = "human only"


@dataclass(frozen=True)
class Outcome:
    """What the bot did with one enquiry, and how long it took (minutes)."""

    kind: OutcomeKind
    bot_minutes: float


@dataclass(frozen=True)
class SimulationResult:
    """One simulated support centre."""

    name: str
    customers: int
    avg_response_min: float
    p90_response_min: float
    satisfaction: float
    human_share: float  # share of customers who needed a human agent
    agent_utilisation: float  # agents' busy time / their time on shift

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def simulate(settings: SimulationSettings, outcomes: list[Outcome] | None, *, name: str = BASELINE) -> SimulationResult:
    """Simulate `settings.days` days; `outcomes` None is the human-only baseline.

    Arrivals, handle times and outcome draws use separate random streams seeded
    from `settings.seed`, so set-ups are compared on the same customers.
    """
    if outcomes is not None and not outcomes:
        raise ValueError("a bot set-up needs at least one measured outcome")
    responses: list[float] = []
    satisfied: list[float] = []
    human = 0
    busy = 0.0
    for day in range(settings.days):
        day_log = _simulate_day(settings, outcomes, day)
        responses += day_log.responses
        satisfied += day_log.satisfaction
        human += day_log.human
        busy += day_log.busy_minutes
    shift_minutes = settings.days * settings.agents * settings.hours * 60
    return SimulationResult(
        name=name,
        customers=len(responses),
        avg_response_min=float(np.mean(responses)),
        p90_response_min=float(np.percentile(responses, 90)),
        satisfaction=float(np.mean(satisfied)),
        human_share=human / len(responses),
        agent_utilisation=busy / shift_minutes,
    )


@dataclass
class _DayLog:
    responses: list[float]
    satisfaction: list[float]
    human: int = 0
    busy_minutes: float = 0.0


def _simulate_day(settings: SimulationSettings, outcomes: list[Outcome] | None, day: int) -> _DayLog:
    arrivals, handling, draws = (np.random.default_rng([settings.seed, day, stream]) for stream in range(3))
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=settings.agents)
    log = _DayLog([], [])
    shape = 1 / settings.handle_cv**2
    scale = settings.handle_minutes * settings.handle_cv**2

    def customer(outcome: Outcome | None, handle: float):
        arrived = env.now
        if outcome is not None and outcome.kind == "resolved":
            log.responses.append(outcome.bot_minutes)
            log.satisfaction.append(settings.csat_bot_resolved)
            return
        if outcome is not None:
            yield env.timeout(outcome.bot_minutes + (settings.wrong_answer_minutes if outcome.kind == "wrong" else 0))
        with agents.request() as request:
            yield request
            yield env.timeout(handle)
        response = env.now - arrived
        loss = settings.csat_loss_per_minute * response
        if outcome is not None and outcome.kind == "wrong":
            loss += settings.csat_wrong_answer_loss
        log.responses.append(response)
        log.satisfaction.append(max(settings.csat_floor, settings.csat_human_no_wait - loss))
        log.human += 1
        log.busy_minutes += handle

    def source():
        close = settings.hours * 60
        while (gap := arrivals.exponential(60 / settings.arrivals_per_hour)) + env.now < close:
            yield env.timeout(gap)
            outcome = outcomes[draws.integers(len(outcomes))] if outcomes else None
            handle = handling.gamma(shape, scale)  # drawn for every customer: common random numbers
            env.process(customer(outcome, handle))

    env.process(source())
    env.run()
    return log


def assumptions(settings: SimulationSettings) -> list[str]:
    """The simulation's assumptions in words, printed next to its numbers."""
    s = settings
    return [
        f"{s.arrivals_per_hour:g} enquiries/hour for {s.hours:g} h a day, {s.days} simulated days (seed {s.seed})",
        f"{s.agents} human agents, {s.handle_minutes:g} min mean handle time (gamma, CV {s.handle_cv:g})",
        "bot outcomes drawn from the set-up's measured outcomes on the eval set (eval mix = traffic mix)",
        f"a wrong bot answer costs the customer {s.wrong_answer_minutes:g} min before they ask for a human",
        f"P(satisfied): {s.csat_bot_resolved:.0%} when the bot resolves it; otherwise {s.csat_human_no_wait:.0%} "
        f"− {s.csat_loss_per_minute * 100:g} points per minute of response time"
        f" − {s.csat_wrong_answer_loss:.0%} after a wrong bot answer (floor {s.csat_floor:.0%})",
        "response time = enquiry → the reply that resolves it (bot answer or end of the human's handling)",
    ]
