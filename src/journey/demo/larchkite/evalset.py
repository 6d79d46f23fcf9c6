"""Held-out evaluation questions (data/eval.jsonl).

Questions are worded differently from every ticket; their `facts` are exact strings from
the articles or the database that a correct answer must quote; references follow the
house style. Sensitive questions (escalate true) have no facts: half contain an
escalation keyword, half are complex cases only a human should take.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from journey.demo.content import Article
from journey.demo.larchkite import style
from journey.demo.larchkite.company import Company, Product, format_price
from journey.demo.larchkite.database import Customer, Order, ShopData
from journey.demo.lines import eval_lines, eval_row

# (question, empathy before the hand-over); the first nine contain an escalation keyword.
SENSITIVE: tuple[tuple[str, str], ...] = (
    ("If the refund for my broken e-bike isn't in my account by Friday, my lawyer will be in touch.",
     "I'm sorry your refund hasn't arrived yet."),
    ("The buckle of the helmet I bought from you snapped and my daughter was injured when she fell. What are "
     "you going to do?",
     "I'm very sorry to hear about your daughter, and I hope she is recovering."),
    ("There's an unauthorised charge from Larchkite on my credit card, and I never placed an order with you.",
     "I'm sorry for the worry this causes."),
    ("Please delete my account and everything you store about me.",
     "I understand, and our privacy team will take care of this personally."),
    ("Under GDPR, I want a full list of the companies you have shared my details with.",
     "Thank you for asking; our privacy team answers these requests personally."),
    ("The charger of my Voltrail battery got so hot that it burned my fingers.",
     "I'm sorry to hear that, and please don't use the charger again."),
    ("I've started a chargeback with my bank because you still haven't refunded the tent I returned.",
     "I'm sorry the refund for your tent has not reached you."),
    ("Someone hacked into my Larchkite account and changed the delivery address on my latest order.",
     "I'm sorry to hear that; we've put a hold on anything that hasn't shipped yet."),
    ("The rear light I bought from you caught fire while it was charging on my desk.",
     "I'm very sorry; please keep the light unplugged and away from anything flammable."),
    ("Three of my recent orders had missing or wrong items and the refunds you sent don't add up. Can somebody "
     "go through all of them with me?",
     "I'm sorry that several orders went wrong, and I want one colleague to go through them all with you."),
    ("Our triathlon club would like 70 custom kits before April and we want to negotiate a better deal than "
     "your standard club rates.",
     "Thank you for thinking of us for your club's kit."),
    ("The person I spoke to on your phone line yesterday was rude and hung up on me. I want to complain about "
     "how I was treated.",
     "I'm sorry about how that call went."),
    ("My father passed away last month. He had an account with you, open orders and a bike in your workshop. "
     "How do I sort all this out?",
     "I'm so sorry for your loss."),
    ("Your team turned down my warranty claim for a tent whose seam failed after two trips. I want a manager to "
     "review that decision.",
     "I understand you'd like the decision reviewed."),
    ("My parcel arrived two weeks late and I missed the race I bought the gear for. I expect you to cover my "
     "entry fee and hotel.",
     "I'm sorry the delay made you miss your race."),
    ("I bought five items across two orders in your sale and was charged full price on both. I want everything "
     "recalculated and some kind of goodwill gesture.",
     "I'm sorry about the pricing on your two orders."),
    ("Our company of 200 staff wants to buy Larchkite gift cards in bulk as Christmas presents, on 60-day "
     "invoice terms. Who can agree that with us?",
     "Thank you for thinking of us for your team's presents."),
    ("I'm writing a piece for a cycling magazine about online bike shops and would like an interview with "
     "someone from your management.",
     "Thank you for getting in touch."),
)  # fmt: skip

# Worded so that every 8-word window around a product name includes a word no ticket uses there.
_PRODUCT_QUESTIONS = (
    ("I'm thinking of buying the {name}. What would it cost me?", "price"),
    ("Before I order it, what's the weight in grams of the {name}?", "weight"),
    ("Which warranty period and which price apply to the {name}?", "warranty"),
)
_ORDER_QUESTIONS = (
    "I placed order {id} a little while ago. Where is it now and when can I expect it?",
    "What's the latest on my parcel, order number {id}?",
    "Order {id}: could you give me the expected delivery date and the tracking number?",
)
_ACCOUNT_QUESTIONS = (
    ("Customer number {id} here. What tier am I on and what's my current points balance?", "balance"),
    ("Could you look up when the loyalty points on account {id} run out?", "expiry"),
)
_ORDER_STATUSES = ("shipped", "delayed", "out for delivery", "delivered", "awaiting stock", "packed", "processing")


@dataclass(frozen=True)
class EvalSet:
    """The eval lines and which orders and customers they use (kept out of the tickets)."""

    lines: list[str]
    orders: set[str]
    customers: set[str]


def build_eval_set(company: Company, articles: list[Article], data: ShopData, rng: random.Random) -> EvalSet:
    """About 110 questions in six categories, shuffled, with ids q-001, q-002, ..."""
    orders = _pick_orders(data, rng)
    customers = rng.sample(data.customers, 10)
    rows = [
        *_article_rows(company, articles),
        *_product_rows(company, rng.sample(data.products, 21)),
        *_order_rows(company, data, orders),
        *_account_rows(company, data, customers),
        *(eval_row(q, style.handover_reply(None, empathy), [], "sensitive", escalate=True) for q, empathy in SENSITIVE),
    ]
    rng.shuffle(rows)
    return EvalSet(eval_lines(rows), {o.order_id for o in orders}, {c.number for c in customers})


def _article_rows(company: Company, articles: list[Article]) -> list[dict]:
    return [
        eval_row(qa.eval_question, style.reply(company, None, f"asking about {article.topic}", qa.answer),
             list(qa.facts), article.category)
        for article in articles
        for qa in article.qas
        if qa.eval_question
    ]  # fmt: skip


def _product_rows(company: Company, products: list[Product]) -> list[dict]:
    rows = []
    for n, product in enumerate(products):
        template, kind = _PRODUCT_QUESTIONS[n % len(_PRODUCT_QUESTIONS)]
        price = format_price(product.price)
        body, facts = {
            "price": (style.product_price(product), [price]),
            "weight": (style.product_weight(product), [f"{product.weight_g} g"]),
            "warranty": (f"{style.product_warranty(product)} {style.product_price(product)}",
                         [f"{product.warranty_months} months", price]),
        }[kind]  # fmt: skip
        reference = style.reply(company, None, f"your question about the {product.name}", body)
        rows.append(eval_row(template.format(name=product.name), reference, facts, "product"))
    return rows


def _pick_orders(data: ShopData, rng: random.Random) -> list[Order]:
    """About twenty orders covering every status, so the eval asks about more than delivered parcels."""
    picked: list[Order] = []
    for n, status in enumerate(_ORDER_STATUSES):
        candidates = [o for o in data.orders if o.status == status]
        picked += rng.sample(candidates, min(len(candidates), 4 if n < 4 else 2))
    return picked


def _order_rows(company: Company, data: ShopData, orders: list[Order]) -> list[dict]:
    rows = []
    for n, order in enumerate(orders):
        facts = [order.eta_date, order.tracking_code or order.status]
        reference = style.reply(
            company, None, f"checking on order {order.order_id}", style.order_update(order, data.items_text(order))
        )
        question = _ORDER_QUESTIONS[n % len(_ORDER_QUESTIONS)].format(id=order.order_id)
        rows.append(eval_row(question, reference, facts, "order"))
    return rows


def _account_rows(company: Company, data: ShopData, customers: list[Customer]) -> list[dict]:
    rows = []
    for n, customer in enumerate(customers):
        template, kind = _ACCOUNT_QUESTIONS[n % len(_ACCOUNT_QUESTIONS)]
        facts = [customer.tier, str(customer.points)] if kind == "balance" else [customer.points_expire_on]
        summary = style.account_summary(customer, data.open_returns(customer.number))
        reference = style.reply(company, None, "asking about your Trail Points account", summary)
        rows.append(eval_row(template.format(id=customer.number), reference, facts, "account"))
    return rows
