"""Copperwell's house style, shared by the past tickets and the eval references.

Every reply opens "Hello <first name>," (or "Hello,"), states the facts, invites a reply and
signs off as Customer Care. A hand-over names the team the case goes to in the house
hand-over sentence, then signs off.
"""

from __future__ import annotations

import random

from journey.demo.copperwell.company import Company, Tariff, format_price
from journey.demo.copperwell.database import Account, Contract, Fault, Invoice, Outage, Reading


def greeting(first_name: str | None) -> str:
    return f"Hello {first_name}," if first_name else "Hello,"


def reply(company: Company, first_name: str | None, body: str) -> str:
    """A complete answer: greeting, the facts, the invitation to reply, sign-off."""
    return f"{greeting(first_name)} {body} {company.courtesy} {company.sign_off}"


def handover_reply(company: Company, first_name: str | None, empathy: str, team: str) -> str:
    """A reply that passes the case to a team of human colleagues."""
    return f"{greeting(first_name)} {empathy} {company.handover.format(team=team)} {company.sign_off}"


def pounds(value: float) -> str:
    return f"£{format_price(value)}"


def account_summary(account: Account, invoice: Invoice) -> str:
    """The account_summary lookup's values as the team states them."""
    amount = pounds(abs(account.balance))
    balance = f"your account is {amount} in credit" if account.balance >= 0 else f"you owe {amount}"
    return (
        f"Right now {balance}, and your next bill is on {account.next_bill_on}. Your latest invoice, "
        f"{invoice.number} for {pounds(invoice.amount)}, was due on {invoice.due_on} and is {invoice.status}."
    )


def contract_update(contract: Contract, tariff: Tariff, reading: Reading | None) -> str:
    """The contract_status lookup's values as the team states them."""
    if contract.status == "pending start":
        text = f"Your {tariff.name} contract {contract.contract_id} starts on {contract.start_date}."
    elif contract.end_date is None:
        text = (f"Your contract {contract.contract_id} is on {tariff.name}, a flexible tariff with no end date, "
                "so you can leave at any time without an exit fee.")  # fmt: skip
    elif contract.status == "renewal due":
        text = (f"Your {tariff.name} contract {contract.contract_id} ends on {contract.end_date}; you're in the "
                "renewal window, so leaving now costs £0.00.")  # fmt: skip
    else:
        text = (f"Your {tariff.name} contract {contract.contract_id} ends on {contract.end_date}; leaving today "
                f"would cost {pounds(contract.exit_fee)}.")  # fmt: skip
    if reading is not None:
        text += f" Your latest meter reading is {reading.reading} kWh, taken on {reading.read_on} ({reading.kind})."
    return text


def fault_update(fault: Fault) -> str:
    """The fault_status lookup's values as the team states them."""
    return {
        "open": f"Fault {fault.ref} ({fault.issue}) is open: we're testing your line remotely and will update "
        "you within a day.",
        "engineer booked": f"An engineer is booked for {fault.engineer_visit} to fix fault {fault.ref} "
        f"({fault.issue}).",
        "awaiting parts": f"Fault {fault.ref} ({fault.issue}) is awaiting parts for the street cabinet; we'll "
        "book the engineer as soon as they arrive.",
        "resolved": f"Fault {fault.ref} ({fault.issue}) was resolved on {fault.engineer_visit}.",
    }[fault.status]


def outage_update(district: str, outages: list[Outage]) -> str:
    """The outage_status lookup's rows for a district as the team states them."""
    if not outages:
        return f"We don't know of any power cut or broadband outage in {district} at the moment."
    parts = []
    for outage in outages:
        what = "power cut" if outage.service == "electricity" else "broadband outage"
        if outage.status == "restored":
            parts.append(f"The {what} in {district} that began at {outage.started_at} is restored.")
        else:
            parts.append(f"There's a {what} in {district} ({outage.status}); the estimated fix is "
                         f"{outage.estimated_fix}.")  # fmt: skip
    return " ".join(parts)


def tariff_price(tariff: Tariff) -> str:
    if tariff.service == "broadband":
        return f"{tariff.name} ({tariff.code}) costs {pounds(tariff.monthly_price)} a month."
    return (f"{tariff.name} ({tariff.code}) has a unit rate of {tariff.unit_rate:.2f}p per kWh and a standing "
            f"charge of {pounds(tariff.monthly_price)} a month.")  # fmt: skip


def tariff_term(tariff: Tariff) -> str:
    if not tariff.contract_months:
        return f"{tariff.name} has no fixed term and no exit fee."
    return (f"{tariff.name} runs for {tariff.contract_months} months; leaving early costs "
            f"{pounds(tariff.exit_fee)}" + (" for each remaining month." if tariff.service == "broadband" else
                                            " per fuel."))  # fmt: skip


def tariff_detail(tariff: Tariff) -> str:
    if tariff.download_mbps is not None:
        return f"{tariff.name} gives {tariff.download_mbps} Mbps average download."
    return f"{tariff.description} {tariff_price(tariff)}"


def tariff_overview(tariff: Tariff) -> str:
    return f"{tariff.description} {tariff_price(tariff)} {tariff_term(tariff)}"


def catalogue_entry(company: Company, tariff: Tariff, rng: random.Random) -> str:
    """A few sentences on one tariff, shuffled: a block of the corpus's catalogue.txt."""
    sentences = [
        tariff_overview(tariff),
        tariff_price(tariff),
        tariff_term(tariff),
        tariff_detail(tariff),
        f"{tariff.name} is one of the {tariff.service} tariffs {company.name} offers in {company.town}.",
        f"The tariff code of {tariff.name} is {tariff.code}.",
    ]
    rng.shuffle(sentences)
    return " ".join(sentences[: rng.randint(3, len(sentences))])
