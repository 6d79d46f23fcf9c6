"""Copperwell's held-out evaluation questions (data/eval.jsonl), in the same contract as every demo's.

Worded differently from every ticket; `facts` are exact strings from the articles or the
database a correct answer must quote; references follow the house style. Sensitive
questions (escalate true) have no facts: half contain an escalation keyword, half are
complex cases only a person should take.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from journey.demo.content import Article
from journey.demo.copperwell import style
from journey.demo.copperwell.company import Company, Tariff, format_price
from journey.demo.copperwell.database import Account, Contract, CrmData, Fault
from journey.demo.lines import eval_lines, eval_row

# (question, empathy before the hand-over, team); the first eight contain an escalation keyword.
SENSITIVE: tuple[tuple[str, str, str], ...] = (
    ("My son's ventilator is medical equipment that must never lose power. Please make sure we are never cut "
     "off.", "Thank you for telling us about your son's ventilator.", "Priority Services"),
    ("Unless you remove the back-bill by the end of the month I'm taking this straight to the ombudsman.",
     "I'm sorry the back-bill has caused this much worry.", "Customer Relations"),
    ("Mum passed away in October. How do I take over her gas and electricity and stop the bills in her name?",
     "I'm so sorry for your loss.", "Bereavement Support"),
    ("My lawyer says your direct debit took money after I had cancelled, and we will act on it.",
     "I'm sorry about the payment taken after you cancelled.", "Legal"),
    ("There's a strong smell near the boiler and I think it's a gas leak. Should I switch the meter off?",
     "Please open the windows, don't use any switches and call 0800 111 999 now.", "Network Safety"),
    ("Bailiffs have been to my door about a Copperwell bill. I didn't know anything was owed.",
     "I'm sorry about the visit; that must have been frightening.", "Debt Support"),
    ("A man at my door said he was from Copperwell and took cash for a meter upgrade. Was that fraud?",
     "Thank you for telling us straight away.", "Fraud Prevention"),
    ("The socket next to the meter cupboard gave my daughter an electric shock this morning.",
     "I'm sorry, and I hope your daughter is all right; please keep everyone away from that socket.",
     "Network Safety"),
    ("You've charged exit fees on two contracts that I ended during the renewal window, and my credit refund "
     "is missing as well. Please have someone go through the whole account.",
     "I'm sorry about the fees and the missing refund.", "Customer Relations"),
    ("We're a housing association with 140 flats and want to talk about a bulk broadband deal for all of them.",
     "Thank you for thinking of us for your flats.", "Business Sales"),
    ("Your engineer was rude to my elderly father and left the front door open when he went.",
     "I'm sorry about how your father was treated.", "Customer Relations"),
    ("The fibre installer drilled through a water pipe in my hallway. Who pays for the plumber and the new "
     "floor?", "I'm sorry about the damage in your hallway.", "Customer Relations"),
    ("For eight months you billed my neighbour's meter instead of mine. I want every bill since March "
     "recalculated.", "I'm sorry the meters were mixed up.", "Customer Relations"),
    ("Your sales adviser told me Nightcharge EV would halve my bills and it has doubled them. I want to be put "
     "back as if I'd never switched.", "I understand you'd like what you were told looked at.",
     "Customer Relations"),
    ("I'm a journalist at the Harrowmere Courier writing about rising energy bills and would like a statement.",
     "Thank you for getting in touch.", "Customer Relations"),
    ("My broadband has failed every evening for six weeks, three engineers found nothing, and I work from home. "
     "I want compensation and a different solution.", "I'm sorry the connection has let you down for so long.",
     "Customer Relations"),
)  # fmt: skip

# Worded so that every 8-word window around a tariff name includes a word no ticket uses there.
_TARIFF_QUESTIONS = (
    ("Thinking about moving to {name}. What would I be paying?", "price"),
    ("If I sign up for {name}, how long am I tied in and what does leaving cost?", "term"),
)
_ACCOUNT_QUESTIONS = (
    ("Account {id} here: am I owing money or in credit, and how much exactly?", "balance"),
    ("For account {id}, what did my newest invoice come to and by when was it payable?", "invoice"),
)
_CONTRACT_QUESTIONS = (
    ("On contract {id}, when is the end date and what would an early exit set me back?", "end"),
    ("Which meter figure do you hold as the most recent for {id}, and when was it taken?", "reading"),
)
_FAULT_QUESTIONS = ("My line still isn't right. Where do things stand with reference {id}?",)
_OUTAGE_QUESTIONS = ("The neighbours and I have lost service in {id}. By when do you expect it back?",)


@dataclass(frozen=True)
class EvalSet:
    """The eval lines and the customer ids they use (accounts, contracts, faults: kept out of the tickets)."""

    lines: list[str]
    held_out: set[str]


def build_eval_set(company: Company, articles: list[Article], data: CrmData, rng: random.Random) -> EvalSet:
    """About 110 questions in seven categories, shuffled, with ids q-001, q-002, ..."""
    accounts = rng.sample(data.accounts, 10)
    ending = rng.sample([c for c in data.contracts if c.status == "active" and c.end_date], 5)
    read = [c for c in data.contracts if c not in ending and data.latest_reading(c.contract_id) is not None]
    contracts = ending + rng.sample(read, 5)
    faults = rng.sample([f for f in data.faults if f.status != "open"], 8)
    rows = [
        *_article_rows(company, articles),
        *_tariff_rows(company, rng.sample(data.tariffs, 16)),
        *_account_rows(company, data, accounts),
        *_contract_rows(company, data, contracts),
        *_fault_rows(company, faults),
        *_outage_rows(company, data),
        *(eval_row(q, style.handover_reply(company, None, empathy, team), [], "sensitive", escalate=True)
          for q, empathy, team in SENSITIVE),
    ]  # fmt: skip
    rng.shuffle(rows)
    held_out = {a.number for a in accounts} | {c.contract_id for c in contracts} | {f.ref for f in faults}
    return EvalSet(eval_lines(rows), held_out)


def _article_rows(company: Company, articles: list[Article]) -> list[dict]:
    return [
        eval_row(qa.eval_question, style.reply(company, None, qa.answer), list(qa.facts), article.category)
        for article in articles
        for qa in article.qas
        if qa.eval_question
    ]


def _tariff_rows(company: Company, tariffs: list[Tariff]) -> list[dict]:
    rows = []
    for n, tariff in enumerate(tariffs):
        template, kind = _TARIFF_QUESTIONS[n % len(_TARIFF_QUESTIONS)]
        if kind == "price":
            body, facts = style.tariff_price(tariff), [format_price(tariff.monthly_price)]
            if tariff.unit_rate is not None:
                facts.append(f"{tariff.unit_rate:.2f}")
        elif tariff.contract_months:
            body, facts = style.tariff_term(tariff), [f"{tariff.contract_months} months", format_price(tariff.exit_fee)]
        else:
            body, facts = style.tariff_term(tariff), ["no fixed term"]
        rows.append(eval_row(template.format(name=tariff.name), style.reply(company, None, body), facts, "tariff"))
    return rows


def _account_rows(company: Company, data: CrmData, accounts: list[Account]) -> list[dict]:
    rows = []
    for n, account in enumerate(accounts):
        template, kind = _ACCOUNT_QUESTIONS[n % len(_ACCOUNT_QUESTIONS)]
        invoice = data.latest_invoice(account.number)
        facts = [format_price(abs(account.balance))] if kind == "balance" else [format_price(invoice.amount),
                                                                                invoice.due_on]  # fmt: skip
        body = style.account_summary(account, invoice)
        rows.append(eval_row(template.format(id=account.number), style.reply(company, None, body), facts, "account"))
    return rows


def _contract_rows(company: Company, data: CrmData, contracts: list[Contract]) -> list[dict]:
    rows = []
    for n, contract in enumerate(contracts):
        template, kind = _CONTRACT_QUESTIONS[0 if n < 5 else 1]
        reading = data.latest_reading(contract.contract_id)
        if kind == "end":
            facts = [contract.end_date or "", format_price(contract.exit_fee)]
        else:
            assert reading is not None
            facts = [str(reading.reading), reading.read_on]
        body = style.contract_update(contract, data.tariff(contract.tariff_code), reading)
        rows.append(eval_row(template.format(id=contract.contract_id), style.reply(company, None, body), facts,
                             "contract"))  # fmt: skip
    return rows


def _fault_rows(company: Company, faults: list[Fault]) -> list[dict]:
    rows = []
    for fault in faults:
        facts = [fault.engineer_visit] if fault.engineer_visit else [fault.status]
        question = _FAULT_QUESTIONS[0].format(id=fault.ref)
        rows.append(eval_row(question, style.reply(company, None, style.fault_update(fault)), facts, "fault"))
    return rows


def _outage_rows(company: Company, data: CrmData) -> list[dict]:
    """One question per district with a current (not restored) outage."""
    rows = []
    for district in sorted({o.district for o in data.outages if o.status != "restored"}):
        outages = sorted((o for o in data.outages if o.district == district), key=lambda o: o.started_at,
                         reverse=True)  # fmt: skip
        facts = [o.estimated_fix for o in outages if o.status != "restored"][:2]
        body = style.outage_update(district, outages)
        question = _OUTAGE_QUESTIONS[0].format(id=district)
        rows.append(eval_row(question, style.reply(company, None, body), facts, "fault"))
    return rows
