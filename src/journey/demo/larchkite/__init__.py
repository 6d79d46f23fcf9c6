"""Larchkite Outfitters, an online outdoor and cycling shop in Kestrelford: help-centre articles in Markdown,
HTML and PDF, data/shop.sqlite (catalogue, CRM, orders, returns), past tickets, the eval set and the corpus."""

from __future__ import annotations

from journey.demo.larchkite.articles import build_articles
from journey.demo.larchkite.company import Company, Policy
from journey.demo.larchkite.config import SYSTEM_PROMPT, config_spec
from journey.demo.larchkite.database import build_shop_data, database_bytes
from journey.demo.larchkite.evalset import build_eval_set
from journey.demo.larchkite.style import catalogue_entry
from journey.demo.larchkite.tickets import build_tickets
from journey.demo.writer import DemoCompany, DemoContent, PriceProbe, Streams


def build(rng: Streams) -> DemoContent:
    company, policy = Company(), Policy()
    articles = build_articles(company, policy)
    data = build_shop_data(company, policy, rng("database"))
    evalset = build_eval_set(company, articles, data, rng("eval"))
    tickets = build_tickets(
        company, articles, data, rng("tickets"),
        system_prompt=SYSTEM_PROMPT, held_out_orders=evalset.orders, held_out_customers=evalset.customers,
    )  # fmt: skip
    return DemoContent(
        config=config_spec(company),
        brand=company,
        articles=articles,
        database=database_bytes(data),
        tickets=tickets,
        eval_lines=evalset.lines,
        catalogue=lambda r: catalogue_entry(company, r.choice(data.products), r),
        speakers=("A customer", "A rider", "A hiker", "Someone"),
    )


COMPANY = DemoCompany(
    name=Company.name,
    build=build,
    probe=PriceProbe("shop", "products", "sku", "name", "price", "How much does the {name} cost?"),
)
