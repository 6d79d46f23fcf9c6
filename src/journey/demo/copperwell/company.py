"""Copperwell's facts: identity, tariffs, policies, escalation rules and teams, people and places.

Copperwell Power & Fibre supplies electricity, gas and full-fibre broadband to homes around
Harrowmere. One source of truth: the articles, the database, the tickets, the eval set and
the corpus all render these values, so a fact reads the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Company:
    """Who the provider is and how its care team writes."""

    name: str = "Copperwell Power & Fibre"
    short_name: str = "Copperwell"
    website: str = "copperwell.example"
    email: str = "care@copperwell.example"
    phone: str = "+44 1632 960 418"
    town: str = "Harrowmere"
    address: str = "Millrace Yard, 4 Weir Street, Harrowmere"
    support_hours: str = "Monday to Friday 08:00 to 20:00 and Saturday 09:00 to 13:00"
    courtesy: str = "If anything else comes up, just reply to this message."
    sign_off: str = "Kind regards, Copperwell Customer Care"
    handover: str = "I've passed your case to our {team} team, who will contact you within one working day."
    today: date = date(2025, 11, 18)  # the story's "now": bills, contracts and faults are dated from it


@dataclass(frozen=True)
class Policy:
    """Every policy fact, written exactly as an answer must quote it (eval facts use these strings)."""

    # billing and payments
    bill_day: str = "4th of each month"
    pay_within: str = "14 days"
    late_fee: str = "7.50"
    dd_discount: str = "3.25"
    dd_notice: str = "5 working days"
    dd_last_day: str = "28th"
    payment_plan: str = "18 months"
    winter_credit: str = "150.00"
    credit_refund: str = "10 working days"
    credit_minimum: str = "5.00"
    # energy
    reading_by: str = "25th"
    smart_interval: str = "30 minutes"
    install_slot: str = "4-hour"
    install_length: str = "90 minutes"
    switch_time: str = "5 working days"
    cooling_off: str = "14 calendar days"
    move_notice: str = "7 days"
    final_bill: str = "21 days"
    export_rate: str = "15.2p"
    export_paid: str = "every 3 months"
    ev_hours: str = "00:30 to 05:30"
    ev_rate: str = "7.95p"
    # broadband
    go_live: str = "12 working days"
    engineer_window: str = "08:00 to 13:00"
    speed_leave: str = "30 days"
    repair_credit: str = "9.35"
    hub_fee: str = "45.00"
    hub_return: str = "28 days"
    static_ip: str = "5.00"
    # account and contracts
    reset_link: str = "45 minutes"
    lockout: str = "5 failed attempts"
    psr_notice: str = "2 working days"
    psr_password: str = "a password you choose"
    energy_exit: str = "50.00"
    broadband_exit: str = "3.20"
    renewal_notice: str = "49 days"
    complaint_reply: str = "3 working days"
    complaint_further: str = "8 weeks"
    # troubleshooting
    hub_restart_wait: str = "4 minutes"
    hub_reset_hold: str = "20 seconds"
    hub_distance: str = "1 metre"
    wifi_band: str = "5 GHz"
    display_range: str = "10 metres"
    display_reset: str = "8 seconds"
    emergency_credit: str = "10.00"
    friendly_hours: str = "16:00 to 10:00"
    power_cut_line: str = "105"
    trip_wait: str = "2 minutes"


# Teams a case is handed to (the hand-over sentence names one).
TEAMS = ("Priority Services", "Customer Relations", "Bereavement Support", "Legal", "Fraud Prevention",
         "Debt Support", "Network Safety", "Business Sales")  # fmt: skip

# name -> keywords; a question with one of these (whole word, any case) goes straight to a human.
ESCALATION_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("vulnerable_customer", ("medical equipment", "oxygen concentrator", "dialysis", "life support", "vulnerable")),
    ("ombudsman", ("ombudsman", "formal complaint", "deadlock letter", "regulator")),
    ("bereavement", ("passed away", "died", "bereavement", "deceased", "executor")),
    ("legal", ("solicitor", "lawyer", "legal action", "take you to court", "small claims")),
    ("safety", ("smell gas", "gas leak", "carbon monoxide", "sparking", "electric shock")),
    ("debt", ("bailiff", "bailiffs", "debt collector", "can't afford", "cannot afford")),
    ("fraud", ("fraud", "identity theft", "scam", "scammer")),
)

DISTRICTS = tuple(f"HW{n}" for n in range(1, 10))  # Harrowmere's postcode districts

FIRST_NAMES = (
    "Alys", "Callum", "Niamh", "Rhys", "Imogen", "Dev", "Orla", "Kwame", "Bethan", "Farid", "Isla", "Tariq",
    "Sinead", "Gareth", "Leah", "Owain", "Priya", "Declan", "Morwenna", "Hamish", "Aisling", "Yusuf", "Carys",
    "Euan", "Shona", "Idris", "Keira", "Ravi",
)  # fmt: skip
LAST_NAMES = (
    "Pritchard", "McAllister", "O'Donnell", "Hughes", "Achterberg", "Okafor", "Llewellyn", "Thackeray", "Begum",
    "Cartwright", "Fairbairn", "Quayle", "Penhaligon", "Ashworth", "Moynihan", "Siddiqui", "Trevithick",
    "Crowther", "Dunmore", "Haldane", "Kerensa", "Rowntree",
)  # fmt: skip


@dataclass(frozen=True)
class Tariff:
    """One tariff row: broadband has a download speed, energy a unit rate (pence per kWh)."""

    code: str
    name: str
    service: str  # broadband, electricity, gas
    monthly_price: float  # broadband: the monthly price; energy: the standing charge for a month
    unit_rate: float | None
    download_mbps: int | None
    contract_months: int
    exit_fee: float
    description: str


_BROADBAND = ((36, 24.45), (74, 27.95), (150, 31.45), (300, 36.95), (500, 42.45), (900, 51.95))
_BROADBAND_NOTES = {
    36: "Enough for browsing and HD streaming on two screens.",
    74: "For a household streaming and video-calling at once.",
    150: "Our most chosen plan, for busy homes and home working.",
    300: "For large households, gaming and fast uploads.",
    500: "For 4K streaming in several rooms and big uploads.",
    900: "Our fastest full-fibre plan, with a Wi-Fi 7 hub.",
}
_ENERGY = (
    ("EL-FIX12", "Steady Fix 12 Electricity", "electricity", 16.35, 24.65, 12, "A fixed unit rate for 12 months."),
    ("EL-FIX24", "Steady Fix 24 Electricity", "electricity", 16.35, 23.85, 24, "A fixed unit rate for 24 months."),
    ("EL-FLEX", "Flex Electricity", "electricity", 15.95, 25.45, 0, "A variable rate that follows the price cap; "
     "leave at any time."),
    ("EL-GREEN", "Meadow Green Electricity", "electricity", 16.85, 26.15, 12, "100% renewable electricity from "
     "wind and hydro, fixed for 12 months."),
    ("EL-EVNIGHT", "Nightcharge EV", "electricity", 17.45, 27.35, 12, "A day rate and an off-peak rate of 7.95p "
     "per kWh from 00:30 to 05:30 for charging an electric car."),
    ("GS-FIX12", "Steady Fix 12 Gas", "gas", 9.15, 6.35, 12, "A fixed gas unit rate for 12 months."),
    ("GS-FIX24", "Steady Fix 24 Gas", "gas", 9.15, 6.15, 24, "A fixed gas unit rate for 24 months."),
    ("GS-FLEX", "Flex Gas", "gas", 8.95, 6.65, 0, "A variable gas rate that follows the price cap; leave at any "
     "time."),
)  # fmt: skip


def build_tariffs(policy: Policy) -> list[Tariff]:
    """Every tariff (12 broadband, 8 energy), in code order; fixed, like a real price list."""
    tariffs = []
    for speed, price in _BROADBAND:
        for months, discount in ((12, 0.0), (24, 2.0)):
            tariffs.append(
                Tariff(
                    code=f"BB-{speed:03d}-{months}",
                    name=f"Fibre {speed} {months}-month",
                    service="broadband",
                    monthly_price=round(price - discount, 2),
                    unit_rate=None,
                    download_mbps=speed,
                    contract_months=months,
                    exit_fee=float(policy.broadband_exit),
                    description=f"Full fibre with {speed} Mbps average download. {_BROADBAND_NOTES[speed]}",
                )
            )
    for code, name, service, standing, rate, months, text in _ENERGY:
        exit_fee = float(policy.energy_exit) if months else 0.0
        tariffs.append(Tariff(code, name, service, standing, rate, None, months, exit_fee, text))
    return sorted(tariffs, key=lambda t: t.code)


def format_price(value: float) -> str:
    """A price as Copperwell prints it and as eval facts quote it, e.g. `31.45`."""
    return f"{value:.2f}"
