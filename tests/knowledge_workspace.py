"""A small workspace for the knowledge tests: every document type, a shop database, bad files.

`tests/fixtures/knowledge/announcements.md` holds a prompt-injection attempt
("Ignore previous instructions…") for tests of the assistant's prompt hygiene.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from fpdf import FPDF

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"

CONFIG = """
[knowledge]
chunk_tokens = 64
chunk_overlap = 16
top_k = 3
databases = { shop = "sqlite:///data/shop.sqlite" }

[[knowledge.tables]]
name = "products"
database = "shop"
query = "SELECT sku, name, price FROM products"
id_column = "sku"
template = "{name} (SKU {sku}) costs €{price:.2f}."
title_template = "{name}"

[[knowledge.lookups]]
name = "order_status"
database = "shop"
sql = "SELECT order_id, status FROM orders WHERE order_id = :order_id"
params = { order_id = '\\bORD-\\d{4}\\b' }
description = "Status of an order."
"""

PRODUCTS = [("KT-100", "Steel kettle", 39.5), ("TS-200", "Two-slice toaster", 54.0), ("MG-300", "Coffee mug", 7.25)]
ORDERS = [("ORD-1001", "shipped"), ("ORD-1002", "processing")]
# Documents that are indexed, and files that must be reported and skipped.
GOOD_DOCUMENTS = ["announcements.md", "manual.pdf", "returns.md", "shipping/delivery.txt", "warranty.html"]
BAD_FILES = {"broken.pdf": "unreadable PDF", "empty.txt": "empty", "notes.docx": "unsupported file type"}


def make_workspace(root: Path, config: str = CONFIG) -> Path:
    """Write the workspace into `root` (which must not exist) and return it."""
    shutil.copytree(FIXTURES, root / "knowledge")
    (root / "journey.toml").write_text(config, encoding="utf-8")
    _write_pdf(root / "knowledge" / "manual.pdf")
    (root / "knowledge" / "broken.pdf").write_bytes(b"%PDF-1.7\n this is not really a PDF \x00\x01")
    (root / "knowledge" / "empty.txt").write_text("  \n", encoding="utf-8")
    (root / "knowledge" / "notes.docx").write_bytes(b"PK\x03\x04 not supported")
    (root / "data").mkdir()
    with sqlite3.connect(root / "data" / "shop.sqlite") as db:
        db.execute("CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT, price REAL)")
        db.execute("CREATE TABLE orders (order_id TEXT PRIMARY KEY, status TEXT)")
        db.executemany("INSERT INTO products VALUES (?, ?, ?)", PRODUCTS)
        db.executemany("INSERT INTO orders VALUES (?, ?)", ORDERS)
    return root


def sql(root: Path, statement: str, *params: object) -> None:
    """Change the shop database as another program would."""
    with sqlite3.connect(root / "data" / "shop.sqlite") as db:
        db.execute(statement, params)


def _write_pdf(path: Path) -> None:
    pdf = FPDF()
    pdf.set_title("Toaster manual")
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Descaling. Descale the kettle every 4 weeks with white vinegar.")
    pdf.add_page()
    pdf.multi_cell(0, 8, "Crumb tray. Empty the toaster crumb tray after every 20 uses.")
    pdf.output(str(path))
