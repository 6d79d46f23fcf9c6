"""Copperwell's database: tariffs, customer accounts, contracts, meter readings, invoices, faults and outages.

`build_crm_data` invents the rows (seeded); `database_bytes` stores them as SQLite; `LOOKUPS`
are the read-only queries journey.toml declares against it. Amounts the answers quote are
formatted by the SQL itself (printf), so a lookup's row says them exactly as the eval facts do.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from journey.demo.content import LookupSpec
from journey.demo.copperwell.company import (
    DISTRICTS,
    FIRST_NAMES,
    LAST_NAMES,
    Company,
    Policy,
    Tariff,
    build_tariffs,
)
from journey.demo.files import sqlite_bytes

ACCOUNT_PATTERN = r"\bCW-[0-9]{4}-[0-9]{4}\b"
CONTRACT_PATTERN = r"\b(?:BB|EL|GS)[0-9]{7}\b"
FAULT_PATTERN = r"\bINC[0-9]{7}\b"
DISTRICT_PATTERN = r"\bHW[1-9]\b"

LOOKUPS = (
    LookupSpec(
        "account_summary",
        """SELECT a.account_number, a.first_name, a.payment_method,
       printf('%.2f', abs(a.balance)) AS balance, CASE WHEN a.balance >= 0 THEN 'in credit' ELSE 'owing' END AS
       balance_status, a.next_bill_on,
       (SELECT i.invoice_number || ': ' || printf('%.2f', i.amount) || ' due ' || i.due_on || ' (' || i.status || ')'
          FROM invoices i WHERE i.account_number = a.account_number ORDER BY i.issued_on DESC LIMIT 1) AS last_invoice,
       a.email
  FROM accounts a
 WHERE a.account_number = :account_number""",
        {"account_number": ACCOUNT_PATTERN},
        "Balance (in credit or owing), next bill date, payment method and latest invoice of an account.",
        ("email",),
    ),
    LookupSpec(
        "contract_status",
        """SELECT c.contract_id, t.name AS tariff, c.status, c.start_date, c.end_date,
       printf('%.2f', c.exit_fee) AS exit_fee,
       (SELECT r.reading || ' kWh on ' || r.read_on || ' (' || r.kind || ')' FROM meter_readings r
         WHERE r.contract_id = c.contract_id ORDER BY r.read_on DESC LIMIT 1) AS last_reading,
       (SELECT a.email FROM accounts a WHERE a.account_number = c.account_number) AS email
  FROM contracts c JOIN tariffs t ON t.code = c.tariff_code
 WHERE c.contract_id = :contract_id""",
        {"contract_id": CONTRACT_PATTERN},
        "Tariff, status, start and end dates, exit fee if left today, and latest meter reading of a contract.",
        ("email",),
    ),
    LookupSpec(
        "fault_status",
        """SELECT f.fault_ref, f.issue, f.status, f.opened_on, f.engineer_visit,
       (SELECT a.email FROM contracts c JOIN accounts a ON a.account_number = c.account_number
         WHERE c.contract_id = f.contract_id) AS email
  FROM faults f
 WHERE f.fault_ref = :fault_ref""",
        {"fault_ref": FAULT_PATTERN},
        "Issue, status, opening date and engineer visit of a reported broadband fault.",
        ("email",),
    ),
    LookupSpec(
        "outage_status",
        """SELECT o.district, o.service, o.status, o.started_at, o.estimated_fix
  FROM outages o
 WHERE o.district = :district
 ORDER BY o.started_at DESC""",
        {"district": DISTRICT_PATTERN},
        "Known power cuts and broadband outages in a postcode district (public: no customer data).",
    ),
)


@dataclass(frozen=True)
class Account:
    number: str
    first_name: str
    last_name: str
    email: str
    district: str
    payment_method: str
    balance: float  # positive: in credit; negative: owing
    next_bill_on: str
    priority_services: bool
    member_since: str


@dataclass(frozen=True)
class Contract:
    contract_id: str
    account_number: str
    tariff_code: str
    status: str  # active, renewal due, pending start
    start_date: str
    end_date: str | None  # None: a flexible tariff
    exit_fee: float  # what leaving today costs


@dataclass(frozen=True)
class Reading:
    contract_id: str
    read_on: str
    reading: int
    kind: str  # smart, customer, estimated


@dataclass(frozen=True)
class Invoice:
    number: str
    account_number: str
    issued_on: str
    due_on: str
    amount: float
    status: str  # paid, due, overdue


@dataclass(frozen=True)
class Fault:
    ref: str
    contract_id: str
    issue: str
    status: str  # open, engineer booked, awaiting parts, resolved
    opened_on: str
    engineer_visit: str | None


@dataclass(frozen=True)
class Outage:
    district: str
    service: str
    status: str  # investigating, engineers on site, restored
    started_at: str
    estimated_fix: str


@dataclass(frozen=True)
class CrmData:
    """Every row of Copperwell's database, in memory."""

    tariffs: list[Tariff]
    accounts: list[Account]
    contracts: list[Contract]
    readings: list[Reading]
    invoices: list[Invoice]
    faults: list[Fault]
    outages: list[Outage]

    def tariff(self, code: str) -> Tariff:
        return next(t for t in self.tariffs if t.code == code)

    def latest_reading(self, contract_id: str) -> Reading | None:
        mine = [r for r in self.readings if r.contract_id == contract_id]
        return max(mine, key=lambda r: r.read_on) if mine else None

    def latest_invoice(self, account_number: str) -> Invoice:
        return max((i for i in self.invoices if i.account_number == account_number), key=lambda i: i.issued_on)

    def account_of(self, contract_id: str) -> Account:
        number = next(c.account_number for c in self.contracts if c.contract_id == contract_id)
        return next(a for a in self.accounts if a.number == number)


def build_crm_data(company: Company, policy: Policy, rng: random.Random) -> CrmData:
    """Invent 260 accounts, their contracts, readings and invoices, 70 faults and the outages."""
    tariffs = build_tariffs(policy)
    accounts = _accounts(company, rng, 260)
    contracts = _contracts(company, policy, rng, tariffs, accounts)
    readings = _readings(company, rng, contracts)
    invoices = _invoices(company, rng, accounts)
    broadband = [c for c in contracts if c.contract_id.startswith("BB") and c.status != "pending start"]
    faults = _faults(company, rng, rng.sample(broadband, 70))
    return CrmData(tariffs, accounts, contracts, readings, invoices, faults, _outages(company, rng))


def _accounts(company: Company, rng: random.Random, count: int) -> list[Account]:
    numbers = sorted(rng.sample(range(10_000_000, 100_000_000), count))
    accounts = []
    for number in numbers:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        handle = unicodedata.normalize("NFKD", f"{first}.{last}".lower().replace(" ", "").replace("'", ""))
        method = rng.choice(("Direct Debit", "Direct Debit", "Direct Debit", "card payment", "prepayment"))
        balance = round(rng.choice((1, -1)) * (rng.randint(0, 180) + rng.choice((15, 35, 45, 65, 85)) / 100), 2)
        accounts.append(
            Account(
                number=f"CW-{number // 10_000}-{number % 10_000:04d}",
                first_name=first,
                last_name=last,
                email=f"{handle.encode('ascii', 'ignore').decode()}{number % 97}@example.com",
                district=rng.choice(DISTRICTS),
                payment_method=method,
                balance=balance,
                next_bill_on=(company.today + timedelta(days=rng.randint(2, 28))).isoformat(),
                priority_services=rng.random() < 0.08,
                member_since=(company.today - timedelta(days=rng.randint(60, 3000))).isoformat(),
            )
        )
    return accounts


def _contracts(
    company: Company, policy: Policy, rng: random.Random, tariffs: list[Tariff], accounts: list[Account]
) -> list[Contract]:
    by_service = {s: [t for t in tariffs if t.service == s] for s in ("broadband", "electricity", "gas")}
    ids: set[str] = set()
    contracts = []
    for account in accounts:
        services = rng.choice((("electricity", "gas"), ("electricity", "gas", "broadband"), ("broadband",),
                               ("electricity",), ("electricity", "broadband")))  # fmt: skip
        for service in services:
            tariff = rng.choice(by_service[service])
            while (contract_id := f"{tariff.code[:2]}{rng.randint(1_000_000, 9_999_999)}") in ids:
                pass
            ids.add(contract_id)
            contracts.append(_contract(company, policy, rng, contract_id, account, tariff))
    return sorted(contracts, key=lambda c: c.contract_id)


def _contract(
    company: Company, policy: Policy, rng: random.Random, contract_id: str, account: Account, tariff: Tariff
) -> Contract:
    if rng.random() < 0.05:
        start = company.today + timedelta(days=rng.randint(3, 20))
        status = "pending start"
    else:
        span = 30 * tariff.contract_months - 5 if tariff.contract_months else 700
        start = company.today - timedelta(days=rng.randint(20, span))
        status = "active"
    end = start + timedelta(days=round(30.44 * tariff.contract_months)) if tariff.contract_months else None
    months_left = max(0, round(((end - company.today).days if end else 0) / 30.44))
    if end is not None and status == "active" and (end - company.today).days <= int(policy.renewal_notice.split()[0]):
        status, fee = "renewal due", 0.0  # no exit fee in the renewal window
    elif tariff.service == "broadband":
        fee = round(months_left * float(policy.broadband_exit), 2)
    else:
        fee = tariff.exit_fee
    return Contract(contract_id, account.number, tariff.code, status, start.isoformat(),
                    end.isoformat() if end else None, fee)  # fmt: skip


def _readings(company: Company, rng: random.Random, contracts: list[Contract]) -> list[Reading]:
    readings = []
    for contract in contracts:
        if contract.contract_id.startswith("BB") or contract.status == "pending start":
            continue
        reading = rng.randint(2_000, 60_000)
        day = company.today - timedelta(days=rng.randint(1, 35) + 60)
        for _ in range(3):
            kind = rng.choice(("smart", "smart", "customer", "estimated"))
            readings.append(Reading(contract.contract_id, day.isoformat(), reading, kind))
            reading += rng.randint(90, 420)
            day += timedelta(days=30)
    return readings


def _invoices(company: Company, rng: random.Random, accounts: list[Account]) -> list[Invoice]:
    numbers = iter(sorted(rng.sample(range(1, 1_000_000), 3 * len(accounts))))
    invoices = []
    for account in accounts:
        for months_ago in (2, 1, 0):
            issued = date(company.today.year, company.today.month - months_ago, 4)
            due = issued + timedelta(days=14)
            if months_ago:
                status = "paid" if account.balance >= 0 or months_ago == 2 else "overdue"
            else:
                status = "due" if due >= company.today else ("paid" if account.balance >= 0 else "overdue")
            amount = round(rng.randint(38, 260) + rng.choice((15, 35, 45, 65, 85, 95)) / 100, 2)
            invoices.append(Invoice(f"INV-{issued.year}-{next(numbers):06d}", account.number, issued.isoformat(),
                                    due.isoformat(), amount, status))  # fmt: skip
    return invoices


_ISSUES = ("no connection", "slow speeds", "drop-outs every evening", "no phone dial tone", "hub keeps restarting")


def _faults(company: Company, rng: random.Random, contracts: list[Contract]) -> list[Fault]:
    refs = rng.sample(range(1_000_000, 10_000_000), len(contracts))
    faults = []
    for contract, ref in zip(sorted(contracts, key=lambda c: c.contract_id), refs, strict=True):
        opened = company.today - timedelta(days=rng.randint(0, 20))
        status = rng.choice(("open", "engineer booked", "engineer booked", "awaiting parts", "resolved"))
        if status == "engineer booked":
            visit: str | None = (company.today + timedelta(days=rng.randint(1, 6))).isoformat()
        elif status == "resolved":
            visit = min(opened + timedelta(days=rng.randint(1, 4)), company.today).isoformat()
        else:
            visit = None
        faults.append(Fault(f"INC{ref}", contract.contract_id, rng.choice(_ISSUES), status, opened.isoformat(),
                            visit))  # fmt: skip
    return faults


def _outages(company: Company, rng: random.Random) -> list[Outage]:
    outages = []
    for district in DISTRICTS:
        for service in ("electricity", "broadband"):
            if rng.random() < 0.7:
                midnight = datetime.combine(company.today, datetime.min.time())
                started = midnight - timedelta(hours=rng.randint(1, 30))
                status = rng.choice(("investigating", "engineers on site", "engineers on site", "restored"))
                if status == "restored":
                    fix = started + timedelta(hours=rng.randint(2, 8))
                else:
                    fix = midnight + timedelta(hours=rng.randint(10, 30))
                outages.append(Outage(district, service, status, f"{started:%Y-%m-%d %H}:00", f"{fix:%Y-%m-%d %H}:00"))
    return outages


_SCHEMA = """
CREATE TABLE tariffs (
    code TEXT PRIMARY KEY, name TEXT NOT NULL, service TEXT NOT NULL, monthly_price REAL NOT NULL,
    unit_rate REAL, download_mbps INTEGER, contract_months INTEGER NOT NULL, exit_fee REAL NOT NULL,
    description TEXT NOT NULL
);
CREATE TABLE accounts (
    account_number TEXT PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL, email TEXT NOT NULL,
    district TEXT NOT NULL, payment_method TEXT NOT NULL, balance REAL NOT NULL, next_bill_on TEXT NOT NULL,
    priority_services INTEGER NOT NULL, member_since TEXT NOT NULL
);
CREATE TABLE contracts (
    contract_id TEXT PRIMARY KEY, account_number TEXT NOT NULL REFERENCES accounts(account_number),
    tariff_code TEXT NOT NULL REFERENCES tariffs(code), status TEXT NOT NULL, start_date TEXT NOT NULL,
    end_date TEXT, exit_fee REAL NOT NULL
);
CREATE TABLE meter_readings (
    contract_id TEXT NOT NULL REFERENCES contracts(contract_id), read_on TEXT NOT NULL, reading INTEGER NOT NULL,
    kind TEXT NOT NULL, PRIMARY KEY (contract_id, read_on)
);
CREATE TABLE invoices (
    invoice_number TEXT PRIMARY KEY, account_number TEXT NOT NULL REFERENCES accounts(account_number),
    issued_on TEXT NOT NULL, due_on TEXT NOT NULL, amount REAL NOT NULL, status TEXT NOT NULL
);
CREATE TABLE faults (
    fault_ref TEXT PRIMARY KEY, contract_id TEXT NOT NULL REFERENCES contracts(contract_id), issue TEXT NOT NULL,
    status TEXT NOT NULL, opened_on TEXT NOT NULL, engineer_visit TEXT
);
CREATE TABLE outages (
    district TEXT NOT NULL, service TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL,
    estimated_fix TEXT NOT NULL, PRIMARY KEY (district, service)
);
CREATE INDEX contracts_by_account ON contracts(account_number);
CREATE INDEX invoices_by_account ON invoices(account_number);
"""


def database_bytes(data: CrmData) -> bytes:
    """The SQLite database of `data`, as bytes."""
    return sqlite_bytes(_SCHEMA, {
        "tariffs": [(t.code, t.name, t.service, t.monthly_price, t.unit_rate, t.download_mbps, t.contract_months,
                     t.exit_fee, t.description) for t in data.tariffs],
        "accounts": [(a.number, a.first_name, a.last_name, a.email, a.district, a.payment_method, a.balance,
                      a.next_bill_on, int(a.priority_services), a.member_since) for a in data.accounts],
        "contracts": [(c.contract_id, c.account_number, c.tariff_code, c.status, c.start_date, c.end_date,
                       c.exit_fee) for c in data.contracts],
        "meter_readings": [(r.contract_id, r.read_on, r.reading, r.kind) for r in data.readings],
        "invoices": [(i.number, i.account_number, i.issued_on, i.due_on, i.amount, i.status) for i in data.invoices],
        "faults": [(f.ref, f.contract_id, f.issue, f.status, f.opened_on, f.engineer_visit) for f in data.faults],
        "outages": [(o.district, o.service, o.status, o.started_at, o.estimated_fix) for o in data.outages],
    })  # fmt: skip
