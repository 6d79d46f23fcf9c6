"""Larchkite's database: product catalogue, customers (CRM), orders, order items and returns.

`build_shop_data` invents the rows (seeded); `database_bytes` stores them as SQLite;
`LOOKUPS` are the read-only queries journey.toml declares against it.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from journey.demo.content import LookupSpec
from journey.demo.files import sqlite_bytes
from journey.demo.larchkite.company import (
    COUNTRIES,
    FIRST_NAMES,
    LAST_NAMES,
    Company,
    Policy,
    Product,
    build_catalogue,
)

ORDER_PATTERN = r"\bLK-[0-9]{6}\b"
CUSTOMER_PATTERN = r"\bC-[0-9]{5}\b"


LOOKUPS = (
    LookupSpec(
        "order_status",
        """SELECT o.order_id, o.status, o.carrier, o.tracking_code, o.eta_date, o.total,
       (SELECT group_concat(i.quantity || ' x ' || p.name, '; ')
          FROM order_items i JOIN products p ON p.sku = i.sku
         WHERE i.order_id = o.order_id) AS items,
       (SELECT c.email FROM customers c WHERE c.customer_number = o.customer_number) AS email
  FROM orders o
 WHERE o.order_id = :order_id""",
        {"order_id": ORDER_PATTERN},
        "Status, carrier, tracking code, estimated delivery date (eta_date) and items of an order.",
        ("email",),
    ),
    LookupSpec(
        "customer_account",
        """SELECT c.customer_number, c.first_name, c.loyalty_tier, c.points, c.points_expire_on,
       (SELECT count(*) FROM returns r JOIN orders o ON o.order_id = r.order_id
         WHERE o.customer_number = c.customer_number AND r.status = 'open') AS open_returns,
       c.email
  FROM customers c
 WHERE c.customer_number = :customer_number""",
        {"customer_number": CUSTOMER_PATTERN},
        "Trail Points loyalty tier, points balance, points expiry date and open returns of a customer.",
        ("email",),
    ),
)


@dataclass(frozen=True)
class Customer:
    number: str
    first_name: str
    last_name: str
    email: str
    country: str
    tier: str
    points: int
    points_expire_on: str
    member_since: str


@dataclass(frozen=True)
class OrderItem:
    sku: str
    quantity: int
    unit_price: float


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_number: str
    placed_on: str
    status: str
    carrier: str
    tracking_code: str | None
    eta_date: str
    shipping: float
    total: float
    items: tuple[OrderItem, ...]


@dataclass(frozen=True)
class Return:
    return_id: str
    order_id: str
    status: str
    opened_on: str


@dataclass(frozen=True)
class ShopData:
    """Every row of the shop database, in memory."""

    products: list[Product]
    customers: list[Customer]
    orders: list[Order]
    returns: list[Return]

    def product(self, sku: str) -> Product:
        return next(p for p in self.products if p.sku == sku)

    def customer(self, number: str) -> Customer:
        return next(c for c in self.customers if c.number == number)

    def open_returns(self, customer_number: str) -> int:
        """How many returns of this customer are still open (as the customer_account lookup counts)."""
        mine = {o.order_id for o in self.orders if o.customer_number == customer_number}
        return sum(1 for r in self.returns if r.order_id in mine and r.status == "open")

    def items_text(self, order: Order) -> str:
        """The items of an order as the order_status lookup lists them."""
        return "; ".join(f"{i.quantity} x {self.product(i.sku).name}" for i in order.items)


_CARRIERS = {"A": ("PostNL", "bpost", "DPD"), "B": ("DPD", "GLS", "DHL"), "C": ("GLS", "DHL"), "D": ("DHL Express",)}
_TRANSIT_DAYS = {"A": 2, "B": 3, "C": 5, "D": 6}
_BULKY = ("bikes", "e-bikes", "indoor training")  # categories that pay the bulky surcharge
_TRACKING_FORMATS = {  # carrier -> (prefix, number of digits)
    "PostNL": ("3SLRK", 9), "bpost": ("3232", 14), "DPD": ("", 14), "GLS": ("ZK", 9), "DHL": ("JJD", 14),
    "DHL Express": ("", 10), "Pallet Express": ("PX-", 7),
}  # fmt: skip


def build_shop_data(company: Company, policy: Policy, rng: random.Random) -> ShopData:
    """Invent the catalogue, 240 customers, 640 orders and their returns."""
    products = build_catalogue(rng)
    customers = _customers(company, rng, 240)
    orders = _orders(company, policy, rng, products, customers, 640)
    returns = _returns(company, policy, rng, orders)
    return ShopData(products, customers, orders, returns)


def _tier(points: int) -> str:
    return "Summit" if points >= 1500 else "Ranger" if points >= 500 else "Scout"


def _customers(company: Company, rng: random.Random, count: int) -> list[Customer]:
    numbers = sorted(rng.sample(range(10000, 100000), count))
    countries = sorted(COUNTRIES)
    customers = []
    for number in numbers:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        points = rng.choice((rng.randint(0, 499), rng.randint(500, 1499), rng.randint(1500, 4200)))
        handle = unicodedata.normalize("NFKD", f"{first}.{last}".lower().replace(" ", ""))
        handle = handle.encode("ascii", "ignore").decode()
        customers.append(
            Customer(
                number=f"C-{number}",
                first_name=first,
                last_name=last,
                email=f"{handle}{number % 100}@example.com",
                country=rng.choice(countries),
                tier=_tier(points),
                points=points,
                points_expire_on=(company.today + timedelta(days=rng.randint(20, 570))).isoformat(),
                member_since=(company.today - timedelta(days=rng.randint(30, 2500))).isoformat(),
            )
        )
    return customers


def _tracking_code(carrier: str, rng: random.Random) -> str:
    prefix, digits = _TRACKING_FORMATS[carrier]
    return prefix + "".join(rng.choices("0123456789", k=digits))


def _shipping_fee(policy: Policy, zone: str, subtotal: float, bulky: bool) -> float:
    fee, free = {
        "A": (policy.zone_a_fee, policy.zone_a_free),
        "B": (policy.zone_b_fee, policy.zone_b_free),
        "C": (policy.zone_c_fee, policy.zone_c_free),
        "D": (policy.zone_d_fee, None),
    }[zone]
    base = 0.0 if free is not None and subtotal >= float(free) else float(fee)
    return round(base + (float(policy.bulky_surcharge) if bulky else 0.0), 2)


def _orders(
    company: Company,
    policy: Policy,
    rng: random.Random,
    products: list[Product],
    customers: list[Customer],
    count: int,
) -> list[Order]:
    ids = rng.sample(range(100000, 1000000), count)
    orders = []
    for number in ids:
        customer = rng.choice(customers)
        zone = COUNTRIES[customer.country]
        age = min(int(rng.expovariate(1 / 20)), 150)
        placed = company.today - timedelta(days=age)
        picked = rng.sample(products, rng.choice((1, 1, 1, 2, 2, 3)))
        items = tuple(
            OrderItem(p.sku, 2 if p.price < 30 and rng.random() < 0.4 else 1, p.price)
            for p in sorted(picked, key=lambda p: p.sku)
        )
        subtotal = round(sum(i.quantity * i.unit_price for i in items), 2)
        bulky = any(p.category in _BULKY for p in picked)
        carrier = "Pallet Express" if bulky else rng.choice(_CARRIERS[zone])
        eta = placed + timedelta(days=_TRANSIT_DAYS[zone] + rng.randint(0, 2))
        status = _status(company.today, placed, eta, rng)
        if status == "delayed":
            eta = company.today + timedelta(days=rng.randint(1, 4))
        elif status == "awaiting stock":
            eta = company.today + timedelta(days=rng.randint(6, 15))
        shipped = status in ("shipped", "out for delivery", "delivered", "delayed")
        shipping = _shipping_fee(policy, zone, subtotal, bulky)
        orders.append(
            Order(
                order_id=f"LK-{number}",
                customer_number=customer.number,
                placed_on=placed.isoformat(),
                status=status,
                carrier=carrier,
                tracking_code=_tracking_code(carrier, rng) if shipped else None,
                eta_date=(company.today if status == "out for delivery" else eta).isoformat(),
                shipping=shipping,
                total=round(subtotal + shipping, 2),
                items=items,
            )
        )
    return orders


def _status(today: date, placed: date, eta: date, rng: random.Random) -> str:
    age = (today - placed).days
    if age <= 12 and rng.random() < 0.06:
        return "awaiting stock"
    if age == 0:
        return rng.choice(("processing", "packed"))
    if eta > today:
        return "delayed" if rng.random() < 0.12 else "shipped"
    if eta == today:
        return "out for delivery"
    if (today - eta).days <= 3 and rng.random() < 0.25:
        return "delayed"
    return "delivered"


def _returns(company: Company, policy: Policy, rng: random.Random, orders: list[Order]) -> list[Return]:
    window = int(policy.return_window.split()[0])
    delivered = [o for o in orders if o.status == "delivered"]
    chosen = sorted(rng.sample(delivered, len(delivered) // 9), key=lambda o: o.order_id)
    ids = rng.sample(range(10000, 100000), len(chosen))
    returns = []
    for order, number in zip(chosen, ids, strict=True):
        delivered_on = date.fromisoformat(order.eta_date)
        opened = min(delivered_on + timedelta(days=rng.randint(1, window)), company.today)
        recent = (company.today - opened).days < 10
        status = rng.choice(("open", "received")) if recent else "refunded"
        returns.append(Return(f"RT-{number}", order.order_id, status, opened.isoformat()))
    return returns


_SCHEMA = """
CREATE TABLE products (
    sku TEXT PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, price REAL NOT NULL,
    stock INTEGER NOT NULL, warranty_months INTEGER NOT NULL, weight_g INTEGER NOT NULL, description TEXT NOT NULL
);
CREATE TABLE customers (
    customer_number TEXT PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL, email TEXT NOT NULL,
    country TEXT NOT NULL, loyalty_tier TEXT NOT NULL, points INTEGER NOT NULL, points_expire_on TEXT NOT NULL,
    member_since TEXT NOT NULL
);
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY, customer_number TEXT NOT NULL REFERENCES customers(customer_number),
    placed_on TEXT NOT NULL, status TEXT NOT NULL, carrier TEXT NOT NULL, tracking_code TEXT,
    eta_date TEXT NOT NULL, shipping REAL NOT NULL, total REAL NOT NULL
);
CREATE TABLE order_items (
    order_id TEXT NOT NULL REFERENCES orders(order_id), sku TEXT NOT NULL REFERENCES products(sku),
    quantity INTEGER NOT NULL, unit_price REAL NOT NULL, PRIMARY KEY (order_id, sku)
);
CREATE TABLE returns (
    return_id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(order_id),
    status TEXT NOT NULL, opened_on TEXT NOT NULL
);
CREATE INDEX orders_by_customer ON orders(customer_number);
"""


def database_bytes(data: ShopData) -> bytes:
    """The SQLite database of `data`, as bytes."""
    return sqlite_bytes(_SCHEMA, {
        "products": [(p.sku, p.name, p.category, p.price, p.stock, p.warranty_months, p.weight_g, p.description)
                     for p in data.products],
        "customers": [(c.number, c.first_name, c.last_name, c.email, c.country, c.tier, c.points,
                       c.points_expire_on, c.member_since) for c in data.customers],
        "orders": [(o.order_id, o.customer_number, o.placed_on, o.status, o.carrier, o.tracking_code, o.eta_date,
                    o.shipping, o.total) for o in sorted(data.orders, key=lambda o: o.order_id)],
        "order_items": [(o.order_id, i.sku, i.quantity, i.unit_price) for o in data.orders for i in o.items],
        "returns": [(r.return_id, r.order_id, r.status, r.opened_on) for r in data.returns],
    })  # fmt: skip
