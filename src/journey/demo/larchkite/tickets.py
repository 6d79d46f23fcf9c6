"""Past support conversations (data/tickets.jsonl): the fine-tuning source.

Customers ask in their own words; the team answers in the house style (style.py) with
the real facts from the articles and the database. About one in ten conversations is
sensitive or complex and handed to a human with the hand-over sentence. Orders and
customers held out for the eval set never appear here.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from journey.demo.content import QA, Article
from journey.demo.larchkite import style
from journey.demo.larchkite.company import Company
from journey.demo.larchkite.database import Customer, Order, ShopData
from journey.demo.lines import Message, assistant, customer_message, ticket_line, user

# (what the customer wrote, how the agent acknowledged it before handing over)
HANDOVERS: tuple[tuple[str, str], ...] = (
    ("My solicitor says I'm owed a full refund plus costs for the cracked frame, so sort it out.",
     "I'm sorry it has come to this, and I want a colleague to look at the frame and your refund personally."),
    ("Fix my warranty claim this week or I will take you to court.",
     "I'm sorry your warranty claim has taken this long."),
    ("I'm considering legal action over the e-bike you sold me, it has been back in the workshop four times.",
     "I'm sorry the e-bike has spent so much time in the workshop."),
    ("The handlebar came loose after your workshop serviced my bike and I crashed. I was hurt and want answers.",
     "I'm so sorry to hear about your crash, and I hope you're recovering well."),
    ("My son ended up in hospital after his helmet cracked in a small fall.",
     "I'm very sorry to hear about your son, and I hope he is recovering."),
    ("The headlamp got so hot on my head that it burnt my forehead.",
     "I'm sorry to hear that, and I hope the burn is healing."),
    ("The battery charger started to smoke in my hallway last night, I unplugged it straight away.",
     "Thank you for unplugging it straight away; please don't use the charger again."),
    ("These brakes are unsafe, they failed on a descent yesterday.",
     "I'm sorry to hear that, and I'm glad you're telling us; please don't ride the bike until it's checked."),
    ("Somebody used a stolen card to order from you in my name.",
     "I'm sorry this has happened to you."),
    ("My account was hacked and somebody ordered two e-bikes to an address I don't know.",
     "I'm sorry to hear that; we've put a hold on anything that hasn't shipped yet."),
    ("I see an unauthorized charge of 212 euros from your shop on my bank statement.",
     "I'm sorry for the worry this causes."),
    ("I was charged three times for one order, this looks like fraud to me.",
     "I'm sorry about the repeated charges."),
    ("Erase my data from all your systems please, I don't want any more contact.",
     "I understand, and our privacy team will take care of this personally."),
    ("Which personal data do you keep about me and who can see it?",
     "Thank you for asking; our privacy team answers these questions personally."),
    ("I filed a chargeback because your refund never came through.",
     "I'm sorry the refund has not reached you."),
    ("Four of my orders this summer went wrong: a missing jacket, a refund that never came and a wrong size. "
     "I need someone to untangle it all.",
     "I'm sorry that so many of your orders went wrong, and I want one colleague to go through all of them."),
    ("I have written to you three times about the same refund across two orders and nobody reads my e-mails.",
     "I'm sorry you have had to write so often about this."),
    ("We are a school outdoor club and need 120 fleeces with our logo. Can we agree a custom price?",
     "Thank you for thinking of us for your club."),
    ("I run a bike rental company and want to buy 30 e-bikes with a service contract. Who do I talk to about "
     "terms?",
     "Thank you for your interest in a fleet order."),
    ("Your colleague on the chat promised me a voucher and then closed the chat. I'm very unhappy with how that "
     "was handled.",
     "I'm sorry about how that chat ended."),
    ("The man on your phone line was dismissive and told me my problem was my own fault.",
     "I'm sorry you were spoken to that way."),
    ("My wife died in March. She had a bike in for repair with you and Trail Points I'd like to move to my "
     "account.",
     "I'm so sorry for your loss."),
    ("The warranty team rejected my claim for the boots. I want to appeal that decision.",
     "I understand you'd like the decision looked at again."),
    ("The late delivery ruined our expedition to Norway and we want compensation for the cancelled trip.",
     "I'm sorry that the delay cost you your trip."),
    ("I'm a reporter at a local paper and would like a comment on the job cuts at your warehouse.",
     "Thank you for getting in touch."),
    ("Can you make an exception and accept a return I sent four months after delivery? I was abroad for work.",
     "Thank you for explaining what happened."),
)  # fmt: skip

_OPENERS = ("", "", "Hi! ", "Hello. ", "Hi there! ", "Good morning! ", "Hey! ")
_PLAIN_CLOSERS = ("", "", " Thanks!", " Thank you.")
_NAMED_CLOSERS = (" Thanks, {first}", " Cheers, {first}", " Kind regards, {first} {last}", " Many thanks, {first}")

_PRODUCT_ASKS = (
    ("How much is the {name}?", style.product_price),
    ("What's the warranty on the {name}?", style.product_warranty),
    ("Do you have the {name} in stock?", style.product_stock),
    ("Can you tell me a bit more about the {name}?", style.product_overview),
    ("How heavy is the {name}?", style.product_weight),
)
_ORDER_ASKS = (
    "Where is my order {id}?",
    "Any news on order {id}?",
    "When will {id} arrive?",
    "Has my order {id} shipped yet?",
    "Can you check the status of {id} for me?",
)
_ACCOUNT_ASKS = (
    "How many Trail Points do I have? My customer number is {id}.",
    "Which loyalty tier am I in? Customer number {id}.",
    "When do my points expire? I'm customer {id}.",
    "Do I have any returns still open? Account {id}.",
)
_ORDER_NUMBER_REQUEST = (
    "I can check that for you. Could you send me your order number? It starts with LK- and is in your "
    "order confirmation e-mail."
)
_CUSTOMER_NUMBER_REQUEST = (
    "I can look that up. Could you send me your customer number? It starts with C- and is shown under "
    "Account settings."
)


@dataclass(frozen=True)
class _Writer:
    """Turns a question into a customer's message and the team's reply, with seeded variety."""

    company: Company
    customers: list[Customer]
    rng: random.Random

    def ask(self, text: str) -> tuple[str, str | None]:
        """The customer's message and the first name the agent may greet them by (None if unsigned)."""
        return customer_message(self.rng, text, self.customers, signed_share=0.45, openers=_OPENERS,
                                named_closers=_NAMED_CLOSERS, plain_closers=_PLAIN_CLOSERS)  # fmt: skip

    def exchange(self, text: str, subject: str, body: str) -> list[Message]:
        message, name = self.ask(text)
        return [user(message), assistant(style.reply(self.company, name, subject, body))]


def build_tickets(
    company: Company,
    articles: list[Article],
    data: ShopData,
    rng: random.Random,
    *,
    system_prompt: str,
    held_out_orders: set[str],
    held_out_customers: set[str],
) -> list[str]:
    """The JSONL lines of tickets.jsonl (about 600 conversations, shuffled)."""
    w = _Writer(company, data.customers, rng)
    orders = [o for o in data.orders if o.order_id not in held_out_orders]
    customers = [c for c in data.customers if c.number not in held_out_customers]
    conversations = [
        *_policy_tickets(w, articles),
        *_product_tickets(w, data),
        *_order_tickets(w, data, rng.sample(orders, 150)),
        *_account_tickets(w, data, rng.sample(customers, 60)),
        *_handover_tickets(w, articles),
    ]
    rng.shuffle(conversations)
    system = system_prompt.replace("{company}", company.name)
    return [ticket_line(i, conv, system) for i, conv in enumerate(conversations)]


def _policy_tickets(w: _Writer, articles: list[Article]) -> list[list[Message]]:
    """Every phrasing of every article question; some continue with a follow-up on the same article."""
    conversations = []
    for article in articles:
        subject = f"asking about {article.topic}"
        for qa in article.qas:
            for ask in qa.asks:
                conversation = w.exchange(ask, subject, qa.answer)
                others = [other for other in article.qas if other is not qa]
                if others and w.rng.random() < 0.15:
                    conversation += _follow_up(w, w.rng.choice(others))
                conversations.append(conversation)
    return conversations


def _follow_up(w: _Writer, qa: QA) -> list[Message]:
    ask = w.rng.choice(qa.asks)
    if not re.match(r"I\b", ask):
        ask = ask[0].lower() + ask[1:]
    return [user(f"And one more thing: {ask}"), assistant(f"{qa.answer} {w.company.sign_off}")]


def _product_tickets(w: _Writer, data: ShopData) -> list[list[Message]]:
    conversations = []
    for product in data.products:
        for template, answer in w.rng.sample(_PRODUCT_ASKS, 2):
            conversations.append(
                w.exchange(template.format(name=product.name), f"your question about the {product.name}",
                           answer(product))
            )  # fmt: skip
    return conversations


def _order_tickets(w: _Writer, data: ShopData, orders: list[Order]) -> list[list[Message]]:
    """One ticket per order; every fifth asks without the number first and gets asked for it."""
    conversations = []
    for n, order in enumerate(orders):
        update = style.order_update(order, data.items_text(order))
        if n % 5 == 0:
            message, name = w.ask("Where's my parcel? I ordered a few days ago.")
            conversations.append([
                user(message),
                assistant(f"{style.greeting(name)} {_ORDER_NUMBER_REQUEST}"),
                user(f"Sure, it's {order.order_id}."),
                assistant(f"Thanks! {update} {w.company.sign_off}"),
            ])  # fmt: skip
        else:
            template = w.rng.choice(_ORDER_ASKS)
            conversations.append(
                w.exchange(template.format(id=order.order_id), f"checking on order {order.order_id}", update)
            )
    return conversations


def _account_tickets(w: _Writer, data: ShopData, customers: list[Customer]) -> list[list[Message]]:
    """One ticket per customer, signed with their own name; every fourth first gets asked for the number."""
    conversations = []
    for n, customer in enumerate(customers):
        summary = style.account_summary(customer, data.open_returns(customer.number))
        subject = "asking about your Trail Points account"
        if n % 4 == 0:
            conversations.append([
                user(f"Can you tell me how many loyalty points I've got? Thanks, {customer.first_name}"),
                assistant(f"{style.greeting(customer.first_name)} {_CUSTOMER_NUMBER_REQUEST}"),
                user(f"It's {customer.number}."),
                assistant(f"Thanks! {summary} {w.company.sign_off}"),
            ])  # fmt: skip
        else:
            ask = w.rng.choice(_ACCOUNT_ASKS).format(id=customer.number)
            reply = style.reply(w.company, customer.first_name, subject, summary)
            conversations.append([user(f"{ask} {customer.first_name} {customer.last_name}"), assistant(reply)])
    return conversations


def _handover_tickets(w: _Writer, articles: list[Article]) -> list[list[Message]]:
    """Each sensitive or complex case two or three times; some after an ordinary first question."""
    conversations = []
    qas = [(article, qa) for article in articles for qa in article.qas]
    for n, (case, empathy) in enumerate(HANDOVERS):
        for _ in range(3 if n % 3 == 0 else 2):
            message, name = w.ask(case)
            handover = [user(message), assistant(style.handover_reply(name, empathy))]
            if w.rng.random() < 0.2:
                article, qa = w.rng.choice(qas)
                first = w.exchange(w.rng.choice(qa.asks), f"asking about {article.topic}", qa.answer)
                later = style.handover_reply(None, empathy).removeprefix("Hi there, ")
                handover = [*first, user(case), assistant(later)]
            conversations.append(handover)
    return conversations
