"""Copperwell's past support conversations (data/tickets.jsonl): the fine-tuning source.

Customers write in; Customer Care answers in the house style (style.py) with the facts from
the articles and the database. About one conversation in ten is a sensitive or complex case
handed to a named team with the house hand-over sentence. Accounts, contracts and faults held
out for the eval set never appear here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from journey.demo.content import Article
from journey.demo.copperwell import style
from journey.demo.copperwell.company import DISTRICTS, Company
from journey.demo.copperwell.database import Account, Contract, CrmData, Fault
from journey.demo.lines import Message, assistant, customer_message, ticket_line, user

# (what the customer wrote, how the agent acknowledged it, the team it goes to)
HANDOVERS: tuple[tuple[str, str, str], ...] = (
    ("My husband uses an oxygen concentrator at home and you've sent a letter saying you'll cut us off.",
     "Thank you for telling us; nobody will disconnect a home that needs power for health reasons.",
     "Priority Services"),
    ("I'm on dialysis at home three nights a week and there's a planned power cut on Thursday.",
     "Thank you for letting us know about the dialysis.", "Priority Services"),
    ("I'm disabled, live alone and my prepayment meter has been faulty for two days. I'm vulnerable without "
     "heating.", "I'm sorry you've been without heating.", "Priority Services"),
    ("I've had enough, I'm going to the ombudsman about the back-billing on my gas.",
     "I'm sorry it has come to this over your gas bills.", "Customer Relations"),
    ("I want to raise a formal complaint about the engineer who never turned up twice.",
     "I'm sorry the engineer didn't arrive, twice.", "Customer Relations"),
    ("Please send me a deadlock letter, we've been going round in circles since August.",
     "I'm sorry this has dragged on since August.", "Customer Relations"),
    ("My father passed away last month and I need to close his electricity and broadband accounts.",
     "I'm so sorry for your loss.", "Bereavement Support"),
    ("I'm the executor of my aunt's estate and need the final balance on her energy account.",
     "I'm sorry for your loss, and thank you for handling your aunt's affairs.", "Bereavement Support"),
    ("My wife died in September. The gas account is in her name, what happens now?",
     "I'm so sorry for your loss.", "Bereavement Support"),
    ("My solicitor will be writing to you about the damage your engineer did to our wall.",
     "I'm sorry about the damage to your wall.", "Legal"),
    ("If you don't refund the exit fee by Friday I'll take you to court.",
     "I'm sorry the exit fee has caused this much frustration.", "Legal"),
    ("Someone opened an account in my name at an address I've never lived at. This is identity theft.",
     "I'm sorry this has happened to you.", "Fraud Prevention"),
    ("I got a text from 'Copperwell' asking for my card details to get a refund. Is this a scam?",
     "Thank you for checking with us before replying to it.", "Fraud Prevention"),
    ("A debt collector has written to me about a bill I paid in full.",
     "I'm sorry for the worry that letter has caused.", "Debt Support"),
    ("I honestly can't afford this month's bill after losing my job.",
     "Thank you for telling us, and I'm sorry about your job.", "Debt Support"),
    ("There's a burning smell and sparking from the cable by my electricity meter.",
     "Please stay away from the meter and keep others away from it.", "Network Safety"),
    ("I think I smell gas in the kitchen near the new meter you fitted.",
     "Please open the windows, don't use any switches and call 0800 111 999 now.", "Network Safety"),
    ("We run a chain of six cafés in Harrowmere and want one contract for all the electricity and broadband.",
     "Thank you for thinking of us for your cafés.", "Business Sales"),
    ("Your last three bills all used estimated readings although my smart meter works, and the amounts "
     "don't add up. I need someone to redo them all.",
     "I'm sorry the bills haven't matched your smart meter.", "Customer Relations"),
    ("I moved out in June but you're still billing me for the old flat and for broadband I cancelled.",
     "I'm sorry you're still being billed for a home you've left.", "Customer Relations"),
    ("The person on your phone line laughed at me and put the phone down.",
     "I'm sorry you were treated that way.", "Customer Relations"),
    ("Your salesman promised me a price freeze for three years and now my tariff has gone up.",
     "I understand you'd like what you were promised looked at.", "Customer Relations"),
    ("Our landlord won't let us pay the energy ourselves and charges us double. Can you help us sort it out "
     "with him?", "Thank you for explaining the situation with your landlord.", "Customer Relations"),
)  # fmt: skip

_OPENERS = ("", "", "Hello, ", "Hi, ", "Good afternoon. ", "Morning! ", "Hiya, ")
_PLAIN_CLOSERS = ("", "", " Thanks.", " Thank you!")
_NAMED_CLOSERS = (" Regards, {first}", " Thanks, {first} {last}", " Best wishes, {first}", " Cheers, {first}")

_TARIFF_ASKS = (
    ("How much is {name}?", style.tariff_price),
    ("What's the contract length on {name}?", style.tariff_term),
    ("Tell me about {name}, please.", style.tariff_overview),
    ("What do I get with {name}?", style.tariff_detail),
)
_ACCOUNT_ASKS = (
    "What's my balance? Account {id}.",
    "Am I in credit? My account number is {id}.",
    "When is my next bill due? Account {id}.",
    "Can you check my latest invoice on {id}?",
)
_CONTRACT_ASKS = (
    "When does my contract {id} end?",
    "How much would it cost to leave contract {id} now?",
    "Can you check contract {id} for me?",
    "What tariff is {id} on?",
)
_READING_ASKS = ("What was the last meter reading on {id}?", "Which reading did you use for {id}?")
_FAULT_ASKS = (
    "Any update on fault {id}?",
    "When is the engineer coming for {id}?",
    "What's happening with my fault reference {id}?",
)
_OUTAGE_ASKS = (
    "Is there a power cut in {id}?",
    "Is broadband down in {id}? Nothing is working.",
    "Are there any outages in {id} right now?",
)
_ACCOUNT_NUMBER_REQUEST = (
    "I can check that for you. Could you send me your account number? It starts with CW- and is at the top "
    "of every bill."
)
_CONTRACT_NUMBER_REQUEST = (
    "I can look into that. Which contract is it about? The contract number starts with BB, EL or GS and is "
    "on your welcome letter."
)


@dataclass(frozen=True)
class _Writer:
    """Turns a question into a customer's message and Customer Care's reply, with seeded variety."""

    company: Company
    accounts: list[Account]
    rng: random.Random

    def ask(self, text: str) -> tuple[str, str | None]:
        """The customer's message and the first name the agent may greet them by (None if unsigned)."""
        return customer_message(self.rng, text, self.accounts, signed_share=0.5, openers=_OPENERS,
                                named_closers=_NAMED_CLOSERS, plain_closers=_PLAIN_CLOSERS)  # fmt: skip

    def exchange(self, text: str, body: str) -> list[Message]:
        message, name = self.ask(text)
        return [user(message), assistant(style.reply(self.company, name, body))]

    def asked_for_number(self, opening: str, first: str, request: str, number: str, body: str) -> list[Message]:
        """The customer asks without a number, is asked for it and gets the answer."""
        return [
            user(f"{opening} {first}"),
            assistant(f"{style.greeting(first)} {request}"),
            user(f"Yes, it's {number}."),
            assistant(f"Thank you. {body} {self.company.courtesy} {self.company.sign_off}"),
        ]


def build_tickets(
    company: Company,
    articles: list[Article],
    data: CrmData,
    rng: random.Random,
    *,
    system_prompt: str,
    held_out: set[str],
) -> list[str]:
    """The JSONL lines of tickets.jsonl (about 500 conversations, shuffled); `held_out`: the eval's ids."""
    w = _Writer(company, data.accounts, rng)
    accounts = [a for a in data.accounts if a.number not in held_out]
    contracts = [c for c in data.contracts if c.contract_id not in held_out and c.account_number not in held_out]
    faults = [f for f in data.faults if f.ref not in held_out and f.contract_id not in held_out]
    conversations = [
        *_policy_tickets(w, articles),
        *_tariff_tickets(w, data),
        *_account_tickets(w, data, rng.sample(accounts, 90)),
        *_contract_tickets(w, data, rng.sample(contracts, 130)),
        *_fault_tickets(w, rng.sample(faults, 50)),
        *_outage_tickets(w, data),
        *_handover_tickets(w, articles),
    ]
    rng.shuffle(conversations)
    system = system_prompt.replace("{company}", company.name)
    return [ticket_line(i, conversation, system) for i, conversation in enumerate(conversations)]


def _policy_tickets(w: _Writer, articles: list[Article]) -> list[list[Message]]:
    """Every phrasing of every article question; some go on with a second question on the same article."""
    conversations = []
    for article in articles:
        for qa in article.qas:
            for ask in qa.asks:
                conversation = w.exchange(ask, qa.answer)
                others = [other for other in article.qas if other is not qa]
                if others and w.rng.random() < 0.15:
                    other = w.rng.choice(others)
                    conversation += [user(f"Also, {w.rng.choice(other.asks)}"),
                                     assistant(f"{other.answer} {w.company.sign_off}")]  # fmt: skip
                conversations.append(conversation)
    return conversations


def _tariff_tickets(w: _Writer, data: CrmData) -> list[list[Message]]:
    return [
        w.exchange(template.format(name=tariff.name), answer(tariff))
        for tariff in data.tariffs
        for template, answer in w.rng.sample(_TARIFF_ASKS, 3)
    ]


def _account_tickets(w: _Writer, data: CrmData, accounts: list[Account]) -> list[list[Message]]:
    """One ticket per account, signed by its holder; every fourth is first asked for the number."""
    conversations = []
    for n, account in enumerate(accounts):
        summary = style.account_summary(account, data.latest_invoice(account.number))
        if n % 4 == 0:
            conversations.append(w.asked_for_number("Could you tell me what I owe at the moment?",
                                                    account.first_name, _ACCOUNT_NUMBER_REQUEST, account.number,
                                                    summary))  # fmt: skip
        else:
            ask = w.rng.choice(_ACCOUNT_ASKS).format(id=account.number)
            conversations.append([user(f"{ask} {account.first_name} {account.last_name}"),
                                  assistant(style.reply(w.company, account.first_name, summary))])  # fmt: skip
    return conversations


def _contract_tickets(w: _Writer, data: CrmData, contracts: list[Contract]) -> list[list[Message]]:
    """One ticket per contract; every fifth is first asked which contract."""
    conversations = []
    for n, contract in enumerate(contracts):
        reading = data.latest_reading(contract.contract_id)
        update = style.contract_update(contract, data.tariff(contract.tariff_code), reading)
        if n % 5 == 0:
            holder = data.account_of(contract.contract_id)
            conversations.append(w.asked_for_number("When does my contract run out?", holder.first_name,
                                                    _CONTRACT_NUMBER_REQUEST, contract.contract_id, update))
        else:
            asks = _CONTRACT_ASKS + (_READING_ASKS if reading is not None else ())
            conversations.append(w.exchange(w.rng.choice(asks).format(id=contract.contract_id), update))
    return conversations


def _fault_tickets(w: _Writer, faults: list[Fault]) -> list[list[Message]]:
    return [w.exchange(w.rng.choice(_FAULT_ASKS).format(id=fault.ref), style.fault_update(fault)) for fault in faults]


def _outage_tickets(w: _Writer, data: CrmData) -> list[list[Message]]:
    """Three or four questions for every district, with and without a known outage."""
    conversations = []
    for district in DISTRICTS:
        outages = sorted((o for o in data.outages if o.district == district), key=lambda o: o.started_at,
                         reverse=True)  # fmt: skip
        for template in w.rng.sample(_OUTAGE_ASKS, 3):
            conversations.append(w.exchange(template.format(id=district), style.outage_update(district, outages)))
    return conversations


def _handover_tickets(w: _Writer, articles: list[Article]) -> list[list[Message]]:
    """Each sensitive or complex case two or three times; some after an ordinary first question."""
    conversations = []
    qas = [qa for article in articles for qa in article.qas]
    for n, (case, empathy, team) in enumerate(HANDOVERS):
        for _ in range(3 if n % 3 == 0 else 2):
            message, name = w.ask(case)
            conversation = [user(message), assistant(style.handover_reply(w.company, name, empathy, team))]
            if w.rng.random() < 0.2:
                qa = w.rng.choice(qas)
                first = w.exchange(w.rng.choice(qa.asks), qa.answer)
                later = style.handover_reply(w.company, None, empathy, team).removeprefix("Hello, ")
                conversation = [*first, user(case), assistant(later)]
            conversations.append(conversation)
    return conversations
