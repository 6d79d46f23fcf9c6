"""The demo company's facts: identity, policies, escalation rules, people and the product catalogue.

One source of truth: the knowledge articles, the database, the tickets, the eval set
and the corpus all render these values, so a fact reads the same everywhere.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Company:
    """Who the shop is and how its support team signs off."""

    name: str = "Larchkite Outfitters"
    short_name: str = "Larchkite"
    website: str = "larchkite.example"
    email: str = "help@larchkite.example"
    privacy_email: str = "privacy@larchkite.example"
    phone: str = "+32 9 555 01 87"
    town: str = "Kestrelford"
    address: str = "17 Quay Lane, Kestrelford"  # the shop in town
    support_hours: str = "Monday to Friday 08:15 to 19:00 and Saturday 10:00 to 16:00"
    sign_off: str = "Happy trails! The Larchkite Support Team"
    today: date = date(2025, 10, 7)  # the story's "now": order dates and ETAs are relative to it


@dataclass(frozen=True)
class Policy:
    """Every policy fact, written exactly as an answer must quote it (eval facts use these strings)."""

    # returns, refunds, exchanges
    return_window: str = "41 days"
    return_label_fee: str = "4.35"
    battery_return_cycles: str = "4 charge cycles"
    refund_time: str = "6 working days"
    store_credit_bonus: str = "7%"
    exchange_code: str = "SWAP-2207"
    exchange_hold: str = "10 days"
    # shipping (zone fee, free-delivery threshold, delivery time)
    zone_a_fee: str = "3.95"
    zone_a_free: str = "63.50"
    zone_a_time: str = "1 to 2 working days"
    zone_b_fee: str = "6.45"
    zone_b_free: str = "88.50"
    zone_b_time: str = "2 to 4 working days"
    zone_c_fee: str = "11.35"
    zone_c_free: str = "148.50"
    zone_c_time: str = "3 to 6 working days"
    zone_d_fee: str = "17.85"
    zone_d_time: str = "4 to 8 working days"
    bulky_surcharge: str = "29.65"
    dispatch_cutoff: str = "14:40"
    express_fee: str = "9.15"
    express_cutoff: str = "12:15"
    awaiting_stock_hold: str = "16 days"
    delay_follow_up: str = "3 working days"
    cancel_window: str = "75 minutes"
    lost_report: str = "8 days"
    lost_investigation: str = "12 working days"
    damage_report: str = "72 hours"
    # payments
    amex_surcharge: str = "1.85%"
    klarna_minimum: str = "275"
    klarna_instalments: str = "3 interest-free instalments"
    invoice_correction: str = "34 days"
    gift_card_validity: str = "37 months"
    gift_card_delivery: str = "20 minutes"
    gift_card_range: str = "15 to 500"
    price_match_window: str = "11 days"
    welcome_code: str = "HELLO-LK8"
    welcome_discount: str = "8%"
    student_code: str = "CAMPUS-LK12"
    student_discount: str = "12%"
    # loyalty
    points_voucher: str = "250 points"
    points_expiry: str = "19 months"
    ranger_threshold: str = "500 points"
    summit_threshold: str = "1,500 points"
    birthday_bonus: str = "120 points"
    # account
    reset_link: str = "47 minutes"
    lockout_attempts: str = "6 failed attempts"
    lockout_time: str = "25 minutes"
    saved_addresses: str = "9 addresses"
    guest_claim: str = "180 days"
    privacy_reply: str = "23 days"
    # sizing
    jacket_l: str = "102 to 108 cm"
    glove_m: str = "20 to 21.5 cm"
    helmet_m: str = "54 to 58 cm"
    shoe_42: str = "26.7 cm"
    # care and maintenance
    reproof_every: str = "12 washes"
    reproof_dry: str = "20 minutes"
    down_tennis_balls: str = "3 tennis balls"
    compressed_max: str = "48 hours"
    chain_lube: str = "180 km"
    stem_torque: str = "5.5 Nm"
    brake_pad_min: str = "1.4 mm"
    # troubleshooting
    battery_e217: str = "9 hours"
    battery_e305: str = "10 and 30"  # °C
    battery_firmware: str = "4.2.1"
    battery_wake: str = "6 seconds"
    battery_storage: str = "40 to 60%"
    battery_range: str = "95 km"
    watch_fix: str = "90 seconds"
    watch_reset: str = "12 seconds"
    watch_firmware: str = "3.8.7"
    watch_battery: str = "21 days"
    headlamp_lock: str = "4 seconds"
    headlamp_charge: str = "3 hours 20 minutes"
    headlamp_low: str = "8%"
    trainer_spindown: str = "37 km/h"
    trainer_belt: str = "ERR 9"
    computer_reset: str = "15 seconds"
    computer_cell: str = "CR2032"
    pole_section: str = "8.65"
    zip_kit: str = "ZK-5"
    # services
    essential_service: str = "64.85"
    full_service: str = "129.45"
    wheel_truing: str = "18.75"
    workshop_turnaround: str = "5 working days"
    seam_repair: str = "23.65"
    pickup_ready: str = "3 hours"
    pickup_hold: str = "9 days"
    late_opening: str = "20:45"
    trade_in_share: str = "35%"
    trade_in_validity: str = "14 months"
    # contact and business
    ext_returns: str = "extension 212"
    ext_warranty: str = "extension 214"
    ext_workshop: str = "extension 230"
    ext_business: str = "extension 251"
    club_small: str = "6%"
    club_large: str = "11%"
    custom_minimum: str = "12 pieces"
    custom_lead_time: str = "5 weeks"
    # warranty
    warranty_standard: str = "26 months"
    warranty_frame: str = "7 years"
    warranty_battery: str = "30 months"
    warranty_cycles: str = "700 charge cycles"
    warranty_decision: str = "10 working days"


# name -> keywords; a question with one of these (whole word, any case) goes straight to a human.
ESCALATION_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("legal", ("lawyer", "solicitor", "legal action", "sue you", "take you to court", "small claims")),
    ("injury", ("injured", "injury", "hurt", "burned", "burnt", "hospital", "caught fire")),
    ("fraud", ("fraud", "stolen card", "unauthorised charge", "unauthorized charge", "chargeback", "hacked")),
    ("personal_data", ("GDPR", "delete my account", "delete my data", "erase my data", "personal data")),
    ("product_safety", ("unsafe", "smoke", "smoking", "safety recall")),
)

# country -> shipping zone
COUNTRIES: dict[str, str] = {
    "Belgium": "A", "Netherlands": "A", "Luxembourg": "A",
    "Germany": "B", "France": "B", "Austria": "B", "Denmark": "B",
    "Spain": "C", "Italy": "C", "Poland": "C", "Ireland": "C", "Portugal": "C", "Sweden": "C",
    "United Kingdom": "D", "Switzerland": "D", "Norway": "D",
}  # fmt: skip

FIRST_NAMES = (
    "Maria", "Tom", "Ines", "Pieter", "Anouk", "Lukas", "Chloé", "Sven", "Aoife", "Marco", "Eva", "Jonas",
    "Noor", "Felix", "Hanna", "Bram", "Lucía", "Mateusz", "Ellen", "Rafael", "Saskia", "Oskar", "Julia",
    "Thibault", "Mia", "Daan", "Freya", "Niels", "Clara", "Emil", "Zofia", "Hugo", "Lotte", "Ruben",
)  # fmt: skip
LAST_NAMES = (
    "Janssens", "Peeters", "de Vries", "Müller", "Dubois", "Nielsen", "Byrne", "Rossi", "Kowalski",
    "García", "Schmidt", "Visser", "Lambert", "Lindqvist", "Moreau", "Bakker", "Hofmann", "Costa",
    "Maes", "Novak", "Fischer", "Murphy", "Claes", "Smit", "Weber", "Andersen", "Lopes", "Wouters",
)  # fmt: skip


@dataclass(frozen=True)
class Product:
    """One catalogue row."""

    sku: str
    name: str
    category: str
    price: float
    stock: int
    warranty_months: int
    weight_g: int
    description: str


@dataclass(frozen=True)
class _Category:
    name: str
    prefix: str
    kinds: tuple[str, ...]
    price_range: tuple[int, int]
    weight_range: tuple[int, int]
    warranty_months: int
    features: tuple[str, ...]
    count: int


_MODELS = (
    "Ridgeline", "Squall", "Cairn", "Fellside", "Drumlin", "Scree", "Tarn", "Corrie", "Bracken", "Moraine",
    "Heron", "Kestrel", "Gorse", "Spindrift", "Sorrel", "Esker", "Cragg", "Wren", "Alder", "Bothy",
)  # fmt: skip

_CATEGORIES = (
    _Category("jackets", "JK", ("3L Waterproof Jacket", "Insulated Jacket", "Down Jacket", "Softshell Jacket"),
              (89, 329), (280, 720), 26,
              ("fully taped seams", "a helmet-compatible hood", "pit zips", "recycled face fabric",
               "a two-way front zip", "a packable chest pocket"), 8),
    _Category("backpacks", "BP", ("22 L Daypack", "28 L Daypack", "45 L Trekking Pack", "Hydration Vest"),
              (39, 189), (240, 1650), 26,
              ("a ventilated back panel", "a rain cover in the lid", "hip-belt pockets", "a 2 L bladder sleeve",
               "side compression straps"), 6),
    _Category("tents", "TN", ("1 Bivvy Tent", "2 Tent", "3 Tunnel Tent"), (149, 549), (980, 3400), 26,
              ("two porches", "colour-coded poles", "a repair sleeve in the bag", "a 3000 mm flysheet",
               "a pitch-all-in-one inner"), 5),
    _Category("sleeping bags", "SB", ("Down Sleeping Bag", "Synthetic Sleeping Bag", "Quilt"),
              (79, 399), (520, 1600), 26,
              ("a draught collar", "a full-length zip", "a cotton storage sack", "a trapezoid foot box"), 5),
    _Category("helmets", "HM", ("MIPS Road Helmet", "Trail Helmet", "Commuter Helmet"), (49, 189), (230, 390), 26,
              ("a fit dial at the back", "a magnetic buckle", "a rear light clip", "18 vents"), 5),
    _Category("cycling clothing", "CC", ("Race Jersey", "Bib Shorts", "Thermal Jersey", "Wind Gilet"),
              (44, 159), (90, 310), 26,
              ("three rear pockets", "a silicone leg gripper", "reflective trims", "a full-length zip"), 6),
    _Category("gloves", "GL", ("Winter Gloves", "Gel Mitts", "Trail Gloves"), (19, 69), (45, 160), 26,
              ("touchscreen fingertips", "gel palm pads", "a windproof back"), 4),
    _Category("bike lights", "BL", ("800 Front Light", "Rear Radar Light", "USB-C Light Set"), (24, 219),
              (60, 240), 26, ("an IPX6 rating", "USB-C charging", "a daytime flash mode"), 4),
    _Category("footwear", "FW", ("Hiking Boot", "Trail Running Shoe", "Gravel Shoe"), (79, 249),
              (560, 1240), 26, ("a Vibram sole", "a waterproof membrane", "a BOA dial"), 5),
    _Category("bikes", "BK", ("Gravel Bike", "Road Bike", "Hardtail MTB"), (899, 2799), (8900, 13200), 84,
              ("hydraulic disc brakes", "a 1x12 drivetrain", "tubeless-ready wheels", "mudguard mounts"), 5),
    _Category("care and spares", "CS", ("Chain Lube 120 ml", "Down Wash 300 ml", "ReProof Spray 250 ml",
                                        "Bike Cleaner 1 L", "Saddle Bag"),
              (6, 19), (40, 320), 26, ("a bio-based formula", "a refillable bottle"), 5),
)  # fmt: skip

# Products the knowledge articles talk about by name: fixed so the troubleshooting guides stay true.
_FEATURED = (
    ("EB", "Voltrail Commuter E-Bike", "e-bikes", 2849.45, 84, 23800,
     "A commuter e-bike with the Voltrail 540 Wh battery, a mid-drive motor and integrated lights."),
    ("EB", "Voltrail Trek E-Bike", "e-bikes", 3299.95, 84, 24900,
     "A touring e-bike with the Voltrail 540 Wh battery, a suspension fork and a rear rack rated to 27 kg."),
    ("EL", "Voltrail 540 Wh Battery", "electronics", 589.65, 30, 2900,
     "The spare or replacement battery for Voltrail e-bikes, with a five-LED charge indicator."),
    ("EL", "Pathfinder 2 GPS Watch", "electronics", 279.45, 26, 52,
     "A GPS watch with offline maps, 5 ATM water resistance and the Larchkite Trails app."),
    ("EL", "Pathfinder 2 Solar GPS Watch", "electronics", 349.85, 26, 56,
     "The Pathfinder 2 with a solar-charging glass that adds up to four days of battery life."),
    ("EL", "Lumen 460 Headlamp", "electronics", 54.95, 26, 88,
     "A 460-lumen rechargeable headlamp with a red night mode and a lockout function."),
    ("EL", "Cadence C3 Bike Computer", "electronics", 189.35, 26, 71,
     "A GPS bike computer with ANT+ and Bluetooth sensors, turn-by-turn navigation and a speed sensor."),
    ("EL", "Torrent T2 Smart Trainer", "indoor training", 649.15, 26, 17900,
     "A belt-driven smart trainer with 1800 W resistance, 5% slope simulation and spin-down calibration."),
    ("CS", "Tent Pole Section", "care and spares", 8.65, 26, 64,
     "One replacement section for the aluminium poles of every Larchkite tent; state the tent model."),
    ("CS", "Zip Repair Kit ZK-5", "care and spares", 12.35, 26, 40,
     "Five spare zip sliders in three sizes with pliers-free fitting instructions."),
)  # fmt: skip

_CENTS = (15, 29, 35, 45, 49, 55, 65, 75, 85, 95)  # odd cents: a price never ends in 0 when printed


def build_catalogue(rng: random.Random) -> list[Product]:
    """The featured products plus seeded generated ones (about 70 in all), in SKU order."""
    skus: set[str] = set()
    products: list[Product] = []

    def new_sku(prefix: str) -> str:
        while True:
            sku = f"{prefix}-{rng.randint(1000, 9999)}"
            if sku not in skus:
                skus.add(sku)
                return sku

    for prefix, name, category, price, warranty, weight, text in _FEATURED:
        description = f"{text} Weight {weight} g."
        products.append(
            Product(new_sku(prefix), name, category, price, rng.randint(0, 40), warranty, weight, description)
        )
    names = {p.name for p in products}
    for cat in _CATEGORIES:
        made = 0
        while made < cat.count:
            kind = cat.kinds[made % len(cat.kinds)]
            name = f"{rng.choice(_MODELS)} {kind}"
            if name in names:
                continue
            names.add(name)
            made += 1
            weight = rng.randint(*cat.weight_range)
            price = round(rng.randint(*cat.price_range) + rng.choice(_CENTS) / 100, 2)
            features = rng.sample(cat.features, 2)
            description = (
                f"The {name} is part of our {cat.name} range, with {features[0]} and {features[1]}. "
                f"Weight {weight} g."
            )
            stock = rng.choice((0, rng.randint(1, 9), rng.randint(10, 85)))
            products.append(
                Product(new_sku(cat.prefix), name, cat.name, price, stock, cat.warranty_months, weight, description)
            )
    return sorted(products, key=lambda p: p.sku)


def format_price(value: float) -> str:
    """A price as the shop prints it and as eval facts quote it, e.g. `37.45`."""
    return f"{value:.2f}"
