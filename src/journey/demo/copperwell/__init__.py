"""Copperwell Power & Fibre, an electricity, gas and full-fibre broadband provider in Harrowmere: help-centre
articles in Markdown, HTML and PDF, data/crm.sqlite (tariffs, accounts, contracts, meter readings, invoices,
faults, outages), past tickets handed to named teams, the eval set and the corpus."""

from __future__ import annotations

from journey.demo.copperwell.articles import build_articles
from journey.demo.copperwell.company import Company, Policy
from journey.demo.copperwell.config import SYSTEM_PROMPT, config_spec
from journey.demo.copperwell.database import build_crm_data, database_bytes
from journey.demo.copperwell.evalset import build_eval_set
from journey.demo.copperwell.style import catalogue_entry
from journey.demo.copperwell.tickets import build_tickets
from journey.demo.writer import DemoCompany, DemoContent, PriceProbe, Streams


def build(rng: Streams) -> DemoContent:
    company, policy = Company(), Policy()
    articles = build_articles(company, policy)
    data = build_crm_data(company, policy, rng("database"))
    evalset = build_eval_set(company, articles, data, rng("eval"))
    tickets = build_tickets(company, articles, data, rng("tickets"), system_prompt=SYSTEM_PROMPT,
                            held_out=evalset.held_out)  # fmt: skip
    return DemoContent(
        config=config_spec(company),
        brand=company,
        articles=articles,
        database=database_bytes(data),
        tickets=tickets,
        eval_lines=evalset.lines,
        catalogue=lambda r: catalogue_entry(company, r.choice(data.tariffs), r),
        speakers=("A customer", "A householder", "A tenant", "Someone"),
    )


COMPANY = DemoCompany(
    name=Company.name,
    build=build,
    probe=PriceProbe("crm", "tariffs", "code", "name", "monthly_price", "How much is {name} a month?"),
)
