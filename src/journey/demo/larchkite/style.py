"""Larchkite's house style, shared by the past tickets and the eval references.

Every reply greets the customer by name (or "Hi there,"), names what they asked about,
states the specific fact, and ends with the team's sign-off. Hand-overs end with the
workspace's hand-over sentence instead.
"""

from __future__ import annotations

import random

from journey.demo.larchkite.company import Company, Product, format_price
from journey.demo.larchkite.database import Customer, Order
from journey.workspace import DEFAULT_HANDOVER_MESSAGE


def greeting(first_name: str | None) -> str:
    return f"Hi {first_name}," if first_name else "Hi there,"


def reply(company: Company, first_name: str | None, subject: str, body: str) -> str:
    """A complete answer: greeting, what it is about, the facts, sign-off."""
    return f"{greeting(first_name)} thanks for {subject}. {body} {company.sign_off}"


def handover_reply(first_name: str | None, empathy: str) -> str:
    """A reply that passes the conversation to a human colleague."""
    return f"{greeting(first_name)} {empathy} {DEFAULT_HANDOVER_MESSAGE}"


def order_update(order: Order, items: str) -> str:
    """One or two sentences on where an order is, quoting the order_status lookup's values."""
    carrier, code, eta = order.carrier, order.tracking_code, order.eta_date
    return {
        "processing": f"It's still processing: we're picking {items} in our warehouse and it should reach you "
        f"by {eta}.",
        "packed": f"It's packed ({items}) and waiting for {carrier} to collect it; the estimated delivery "
        f"date is {eta}.",
        "awaiting stock": f"It's awaiting stock for one item ({items}); we expect to deliver it by {eta}.",
        "shipped": f"It's on its way with {carrier}, tracking code {code}, and should arrive on {eta}.",
        "out for delivery": f"It's out for delivery with {carrier} today, {eta} (tracking code {code}).",
        "delivered": f"{carrier} delivered it on {eta} (tracking code {code}).",
        "delayed": f"{carrier} has reported a delay (tracking code {code}); the new estimated delivery date "
        f"is {eta}.",
    }[order.status]


def account_summary(customer: Customer, open_returns: int) -> str:
    """The customer_account lookup's values as the team states them."""
    returns = "no open returns" if not open_returns else f"{open_returns} open return" + "s" * (open_returns > 1)
    return (
        f"You're in the {customer.tier} tier with {customer.points} Trail Points, which expire on "
        f"{customer.points_expire_on}, and you have {returns}."
    )


def price_text(value: float) -> str:
    return f"€{format_price(value)}"


def product_price(product: Product) -> str:
    return f"The {product.name} (SKU {product.sku}) costs {price_text(product.price)}."


def product_weight(product: Product) -> str:
    return f"The {product.name} weighs {product.weight_g} g."


def product_warranty(product: Product) -> str:
    return f"The {product.name} is covered by our warranty for {product.warranty_months} months."


def product_stock(product: Product) -> str:
    if product.stock:
        return f"We have {product.stock} of the {product.name} in stock, so it leaves our warehouse straight away."
    return (
        f"The {product.name} is sold out at the moment; choose Notify me on its product page and we'll e-mail "
        "you as soon as it's back."
    )


def product_overview(product: Product) -> str:
    return f"{product.description} It costs {price_text(product.price)}."


def catalogue_entry(company: Company, product: Product, rng: random.Random) -> str:
    """A few sentences on one product, shuffled: a block of the corpus's catalogue.txt."""
    sentences = [
        product_overview(product),
        product_price(product),
        product_weight(product),
        product_warranty(product),
        f"You will find the {product.name} in the {product.category} section of the {company.name} shop.",
        f"The SKU of the {product.name} is {product.sku}.",
    ]
    rng.shuffle(sentences)
    return " ".join(sentences[: rng.randint(3, len(sentences))])
