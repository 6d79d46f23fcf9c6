"""What Larchkite's journey.toml declares: its system prompt, escalation rules, catalogue table and lookups."""

from __future__ import annotations

from journey.demo.config import ConfigSpec, TableSpec
from journey.demo.larchkite.company import ESCALATION_RULES, Company
from journey.demo.larchkite.database import LOOKUPS

SYSTEM_PROMPT = (
    "You are the customer-support assistant of {company}, an online shop for outdoor and cycling gear. "
    "Answer the customer's question briefly and politely, in two or three sentences. Only state prices, "
    "dates, codes and order details that you were given; if you do not know, say so and offer to pass the "
    "customer to a human colleague."
)

PRODUCT_QUERY = "SELECT sku, name, category, price, stock, warranty_months, description FROM products"
PRODUCT_TEMPLATE = (
    "{name} (SKU {sku}, {category}) costs €{price:.2f}. {description} "
    "Warranty: {warranty_months} months. Units in stock: {stock}."
)


def config_spec(company: Company) -> ConfigSpec:
    return ConfigSpec(
        name=company.name,
        description="an online outdoor and cycling gear shop",
        system_prompt=SYSTEM_PROMPT,
        escalation=ESCALATION_RULES,
        escalation_note=(
            "Complex cases without a keyword (disputes over several orders, bulk-order negotiations,",
            "complaints about staff) are left to the model's hand-over decision.",
        ),
        database="shop",
        database_note="The product catalogue and CRM",
        tables=(
            TableSpec(
                "products", PRODUCT_QUERY, "sku", PRODUCT_TEMPLATE, "{name}",
                "Catalogue rows rendered to passages and indexed beside the articles.",
            ),
        ),
        lookups=LOOKUPS,
    )
