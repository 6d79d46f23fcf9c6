"""What Copperwell's journey.toml declares: its system prompt, hand-over message, escalation rules, tariff table
and lookups."""

from __future__ import annotations

from journey.demo.config import ConfigSpec, TableSpec
from journey.demo.copperwell.company import ESCALATION_RULES, Company
from journey.demo.copperwell.database import LOOKUPS

SYSTEM_PROMPT = (
    "You are the customer-care assistant of {company}, which supplies electricity, gas and full-fibre broadband "
    "to homes. Reply in two or three friendly sentences. Only state prices, dates, readings and account details "
    "that you were given; if you do not know, say so and offer to pass the case to a colleague."
)

TARIFF_QUERY = (
    "SELECT code, name, service, monthly_price, "
    "CASE WHEN service = 'broadband' THEN printf('£%.2f a month, %d Mbps average download', monthly_price, "
    "download_mbps) ELSE printf('a unit rate of %.2fp per kWh and a standing charge of £%.2f a month', unit_rate, "
    "monthly_price) END AS price_line, "
    "CASE WHEN contract_months = 0 THEN 'no fixed term, no exit fee' ELSE printf('%d months, exit fee £%.2f', "
    "contract_months, exit_fee) END AS term, description FROM tariffs"
)
TARIFF_TEMPLATE = "{name} ({code}, {service}): {price_line}. Term: {term}. {description}"


def config_spec(company: Company) -> ConfigSpec:
    return ConfigSpec(
        name=company.name,
        description="an electricity, gas and full-fibre broadband provider",
        system_prompt=SYSTEM_PROMPT,
        escalation=ESCALATION_RULES,
        escalation_note=(
            "Complex cases without a keyword (billing disputes over several months, damage by an engineer,",
            "complaints about staff, business contracts) are left to the model's hand-over decision.",
        ),
        database="crm",
        database_note="Tariffs, accounts, contracts, meter readings, invoices, faults and outages",
        tables=(
            TableSpec(
                "tariffs", TARIFF_QUERY, "code", TARIFF_TEMPLATE, "{name}",
                "Tariff rows rendered to passages and indexed beside the articles.",
            ),
        ),
        lookups=LOOKUPS,
        handover_message=company.handover.format(team="Customer Relations"),
        vocab_size=3072,  # 25 articles and 20 tariffs give about 3,700 BPE tokens, short of the default 4,096
    )
