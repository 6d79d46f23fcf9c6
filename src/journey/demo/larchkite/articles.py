"""Larchkite's help-centre articles: their text, and the questions each one answers.

Each article is rendered to a knowledge document (knowledge.py). Its question-and-answer
pairs feed the tickets (`asks`, several phrasings) and the eval set (`eval_question`, a
phrasing used nowhere else); `facts` are the exact strings a correct answer quotes.
"""

from __future__ import annotations

from journey.demo.content import QA, Article, Table
from journey.demo.larchkite.company import Company, Policy


def build_articles(c: Company, p: Policy) -> list[Article]:
    """Every article of the help centre, in a fixed order."""
    return [
        *_returns(c, p),
        *_shipping(c, p),
        *_payments(c, p),
        *_loyalty_and_account(c, p),
        *_sizing_and_care(c, p),
        *_troubleshooting(c, p),
        *_services(c, p),
    ]


def _returns(c: Company, p: Policy) -> list[Article]:
    return [
        Article(
            "returns-and-refunds/returns-policy.md", "Returning an item", "returns",
            (
                ("How long you have",
                 f"You can send back unused items within {p.return_window} of the delivery date, with their "
                 "tags and original packaging. Helmets are only accepted back in their sealed bag, because we "
                 "cannot resell a helmet that may have been worn."),
                ("How to start a return",
                 "Sign in, open My orders and choose Start a return. You receive a return code starting with RT- "
                 "and a label that any DPD Pickup point accepts. Returns without a return code take longer to "
                 "process."),
                ("What a return costs",
                 f"The prepaid return label costs €{p.return_label_fee}, which we deduct from your refund. "
                 "Returns of faulty items and all returns by Summit members of Trail Points are free."),
            ),
            (
                QA(f"You can send back unused items within {p.return_window} of the delivery date.",
                   (p.return_window,),
                   ("How long do I have to return something?", "What is your return window?",
                    "Can I still send back boots that were delivered a few weeks ago?"),
                   "I bought a rain jacket that turned out not to suit me. Until when am I allowed to send it "
                   "back to you?"),
                QA(f"The prepaid return label costs €{p.return_label_fee}, deducted from your refund; returns "
                   "of faulty items are free.",
                   (p.return_label_fee,),
                   ("How much does a return label cost?", "Are returns free?",
                    "Will you charge me for sending my order back?"),
                   "Do I have to pay anything for the shipping label when I send a parcel back?"),
            ),
        ),
        Article(
            "returns-and-refunds/refunds.md", "Refunds", "refunds",
            (
                ("When the money arrives",
                 f"We refund within {p.refund_time} of your return being scanned in at our {c.town} warehouse. "
                 "The refund goes to the payment method you used; banks may need two to five further days to "
                 "show it."),
                ("Store credit instead of a refund",
                 f"If you choose store credit instead of money back, we add a {p.store_credit_bonus} bonus and "
                 "send it as an e-gift card."),
            ),
            (
                QA(f"We refund within {p.refund_time} of your return being scanned in at our warehouse.",
                   (p.refund_time,),
                   ("When will I get my refund?", "How long do refunds take?",
                    "My return arrived at your warehouse, how soon is the money back?"),
                   "You've received the parcel I sent back. How many days until the refund is processed?"),
                QA(f"If you take store credit instead of a refund, we add a {p.store_credit_bonus} bonus as an "
                   "e-gift card.",
                   (p.store_credit_bonus,),
                   ("Is there any benefit to taking store credit?", "Do I get extra if I choose a voucher?"),
                   "Would I get anything extra for accepting store credit rather than my money back?"),
            ),
        ),
        Article(
            "returns-and-refunds/exchanges.md", "Exchanging for another size or colour", "exchanges",
            (
                ("Free exchanges",
                 f"Every item can be exchanged once for free. Enter the exchange code {p.exchange_code} on the "
                 "return form and tell us the size or colour you want; we do not charge for the return label "
                 "or the new delivery."),
                ("Reserving the new item",
                 f"We reserve the replacement for {p.exchange_hold} while your return travels to us, so it "
                 "cannot sell out in the meantime."),
            ),
            (
                QA(f"Use the exchange code {p.exchange_code} on the return form; the first exchange of an item "
                   "is free.",
                   (p.exchange_code,),
                   ("Can I swap my jersey for a bigger size?", "How do I exchange an item for another colour?",
                    "Is there a code for exchanges?"),
                   "The gloves I ordered are too tight. How do I swap them for the next size without paying "
                   "postage twice?"),
                QA(f"We reserve the replacement for {p.exchange_hold} while your return is on its way.",
                   (p.exchange_hold,),
                   ("Will the new size still be there when my exchange arrives?",
                    "Do you hold the replacement item for me?"),
                   None),
            ),
        ),
        Article(
            "returns-and-refunds/items-we-cannot-take-back.md", "Items we cannot take back", "non-returnable items",
            (
                ("Excluded items",
                 "Custom-printed team kit, opened energy gels and chamois cream, gift cards and tyres that have "
                 "been fitted cannot be returned unless they are faulty."),
                ("E-bike batteries",
                 f"A Voltrail battery can be returned if its display shows fewer than {p.battery_return_cycles}. "
                 "After that it counts as used, but the warranty still covers faults."),
            ),
            (
                QA(f"A Voltrail battery can be returned if it shows fewer than {p.battery_return_cycles}.",
                   (p.battery_return_cycles,),
                   ("Can I return an e-bike battery I've charged?", "Is a used Voltrail battery returnable?"),
                   "I've charged my spare Voltrail battery a couple of times already. Can it still go back?"),
                QA("Custom-printed team kit, opened energy gels and chamois cream, gift cards and fitted tyres "
                   "cannot be returned unless they are faulty.",
                   ("chamois cream",),
                   ("What items can't be returned?", "Can I return opened energy gels?"),
                   None),
            ),
        ),
    ]  # fmt: skip


def _shipping(c: Company, p: Policy) -> list[Article]:
    zones = (
        ("A", "Belgium, Netherlands, Luxembourg", p.zone_a_fee, f"free from €{p.zone_a_free}", p.zone_a_time),
        ("B", "Germany, France, Austria, Denmark", p.zone_b_fee, f"free from €{p.zone_b_free}", p.zone_b_time),
        ("C", "Spain, Italy, Poland, Ireland, Portugal, Sweden and the rest of the EU", p.zone_c_fee,
         f"free from €{p.zone_c_free}", p.zone_c_time),
        ("D", "United Kingdom, Switzerland, Norway", p.zone_d_fee, "never free; duties prepaid", p.zone_d_time),
    )
    table: Table = (
        ("Zone", "Countries", "Standard delivery", "Free delivery", "Delivery time"),
        *((f"Zone {z}", countries, f"€{fee}", free, time) for z, countries, fee, free, time in zones),
    )
    return [
        Article(
            "orders-and-shipping/shipping-zones-and-costs.html", "Shipping zones and costs", "shipping costs",
            (
                ("Zones and prices", table),
                ("Bulky items",
                 f"Bikes, e-bikes and smart trainers travel by pallet courier with a surcharge of "
                 f"€{p.bulky_surcharge} on top of the zone price, even when the rest of the order ships free."),
                ("Outside the EU",
                 "For Zone D we pay import duties and taxes for you (delivered duty paid), so the courier never "
                 "asks you for money at the door."),
            ),
            (
                QA(f"Standard delivery to Germany costs €{p.zone_b_fee} and is free from €{p.zone_b_free}.",
                   (p.zone_b_fee, p.zone_b_free),
                   ("How much is shipping to Germany?", "Do you ship free to Austria?",
                    "What are your delivery charges for France?"),
                   "What do you charge to deliver to an address in Germany, and from which order value is "
                   "it free?"),
                QA(f"Delivery to the United Kingdom costs €{p.zone_d_fee}, with import duties prepaid by us.",
                   (p.zone_d_fee,),
                   ("Do you deliver to the UK?", "How much is shipping to Switzerland?"),
                   "I live in Manchester. How much would standard shipping be for me?"),
                QA(f"Delivery in Belgium costs €{p.zone_a_fee} and is free from €{p.zone_a_free}.",
                   (p.zone_a_fee, p.zone_a_free),
                   ("What's the shipping fee within Belgium?", "When is delivery free in the Netherlands?"),
                   "Ordering from Antwerp: what is the delivery fee and the threshold for free delivery?"),
                QA(f"Bikes, e-bikes and smart trainers have a surcharge of €{p.bulky_surcharge} on top of the "
                   "zone price.",
                   (p.bulky_surcharge,),
                   ("Is there extra shipping for a bike?", "Why is shipping more expensive for my e-bike?"),
                   "Does sending a whole bicycle cost more than the normal delivery price?"),
                QA(f"Delivery to Spain costs €{p.zone_c_fee} and is free from €{p.zone_c_free}.",
                   (p.zone_c_fee,),
                   ("How much is delivery to Italy?", "What does shipping to Poland cost?"),
                   None),
            ),
        ),
        Article(
            "orders-and-shipping/delivery-times.md", "Delivery times and dispatch cut-off", "delivery times",
            (
                ("Same-day dispatch",
                 f"Orders paid by {p.dispatch_cutoff} CET on a working day leave our warehouse the same day. "
                 "Later orders leave the next working day."),
                ("How long delivery takes",
                 f"Zone A takes {p.zone_a_time}, Zone B {p.zone_b_time}, Zone C {p.zone_c_time} and Zone D "
                 f"{p.zone_d_time} after dispatch."),
                ("Express delivery",
                 f"Next-day express to Zones A and B costs €{p.express_fee} extra when you order by "
                 f"{p.express_cutoff} CET."),
            ),
            (
                QA(f"Orders paid by {p.dispatch_cutoff} CET on a working day leave our warehouse the same day.",
                   (p.dispatch_cutoff,),
                   ("What's your cut-off time for same-day dispatch?", "If I order now, does it ship today?"),
                   "By what time of day must I have ordered for the parcel to leave the warehouse that day?"),
                QA(f"Next-day express to Zones A and B costs €{p.express_fee} extra if you order by "
                   f"{p.express_cutoff} CET.",
                   (p.express_fee, p.express_cutoff),
                   ("Do you offer express shipping?", "How much is next-day delivery?"),
                   "I need my order tomorrow. What does faster delivery cost and when must I order?"),
                QA(f"Delivery to Zone C countries such as Spain takes {p.zone_c_time} after dispatch.",
                   (p.zone_c_time,),
                   ("How long does delivery to Italy take?", "How many days for a parcel to Portugal?"),
                   "Roughly how long will a parcel from you take to reach me in Spain?"),
            ),
        ),
        Article(
            "orders-and-shipping/order-statuses.md", "What your order status means", "order statuses",
            (
                ("Statuses",
                 "processing: we are picking your items. packed: waiting for the courier. shipped: on its way, "
                 "with a tracking code. out for delivery: arriving today. delivered: the courier confirmed "
                 "delivery. delayed: the courier reported a problem. awaiting stock: one item is not yet in "
                 "our warehouse."),
                ("Delayed parcels",
                 f"If a parcel stays delayed for {p.delay_follow_up}, we open an investigation with the courier "
                 "ourselves; you do not need to do anything."),
                ("Awaiting stock",
                 f"Orders awaiting stock are held for up to {p.awaiting_stock_hold}. If the item has not arrived "
                 "by then, we cancel that part of the order and refund it automatically."),
            ),
            (
                QA(f"Orders awaiting stock are held for up to {p.awaiting_stock_hold}; after that we cancel and "
                   "refund that part automatically.",
                   (p.awaiting_stock_hold,),
                   ("My order says awaiting stock, what happens now?", "How long will you wait for stock?"),
                   "One item in my basket is on back-order. How long do you keep the order open before "
                   "refunding it?"),
                QA(f"If a parcel stays delayed for {p.delay_follow_up}, we open an investigation with the courier "
                   "ourselves.",
                   (p.delay_follow_up,),
                   ("My parcel shows delayed, should I contact the courier?", "What do you do about delays?"),
                   None),
            ),
        ),
        Article(
            "orders-and-shipping/changing-or-cancelling-an-order.md", "Changing or cancelling an order",
            "changing an order",
            (
                ("Before we pack",
                 f"You can change or cancel an order for free until it reaches the status packed, which is "
                 f"usually about {p.cancel_window} after you ordered. Use Cancel order in My orders."),
                ("After we pack",
                 "Once the order is packed it cannot be stopped. Refuse the delivery or return it as usual."),
            ),
            (
                QA(f"You can cancel for free until the order is packed, usually about {p.cancel_window} after "
                   "ordering.",
                   (p.cancel_window,),
                   ("Can I cancel my order?", "I ordered the wrong size, can I still change it?"),
                   "Is there a time limit for cancelling something I just ordered?"),
            ),
        ),
        Article(
            "orders-and-shipping/lost-or-damaged-parcels.md", "Lost or damaged parcels", "lost or damaged parcels",
            (
                ("Parcel not arrived",
                 f"Tell us within {p.lost_report} after the estimated delivery date. The courier investigation "
                 f"takes up to {p.lost_investigation}; after that we send a replacement or refund you."),
                ("Parcel arrived damaged",
                 f"Send us photos of the box and the item within {p.damage_report} of delivery and keep the "
                 "packaging until we reply."),
            ),
            (
                QA(f"Please tell us within {p.lost_report} after the estimated delivery date; the courier "
                   f"investigation takes up to {p.lost_investigation}.",
                   (p.lost_report, p.lost_investigation),
                   ("My parcel never came, what now?", "Tracking says delivered but I have nothing."),
                   "The expected delivery date passed and nothing turned up. How long have I got to report "
                   "it?"),
                QA(f"Send us photos of the box and the item within {p.damage_report} of delivery.",
                   (p.damage_report,),
                   ("The box was crushed and my lamp is broken.", "What do I do if an item arrives damaged?"),
                   "My tent poles came bent because the box was squashed. What's the deadline to report "
                   "this?"),
            ),
        ),
    ]  # fmt: skip


def _payments(c: Company, p: Policy) -> list[Article]:
    return [
        Article(
            "payments/payment-methods.md", "Payment methods", "payment methods",
            (
                ("What we accept",
                 "Visa, Mastercard, Maestro, PayPal, Bancontact, iDEAL, Apple Pay and Larchkite gift cards. "
                 f"American Express is accepted with a {p.amex_surcharge} surcharge. We do not offer cash on "
                 "delivery."),
                ("Paying later",
                 f"Klarna lets you pay within 30 days. Orders above €{p.klarna_minimum} can also be split into "
                 f"{p.klarna_instalments}."),
            ),
            (
                QA(f"American Express is accepted with a {p.amex_surcharge} surcharge.",
                   (p.amex_surcharge,),
                   ("Do you take Amex?", "Can I pay with American Express?"),
                   "Is there any extra fee if I pay by Amex card?"),
                QA(f"Orders above €{p.klarna_minimum} can be split into {p.klarna_instalments} with Klarna.",
                   (p.klarna_minimum,),
                   ("Can I pay in instalments?", "Do you offer Klarna?", "Can I spread the cost of an e-bike?"),
                   "From what basket value can I spread my payment over several months?"),
            ),
        ),
        Article(
            "payments/invoices-and-vat.md", "Invoices and VAT", "invoices",
            (
                ("Your invoice",
                 "Every order has a VAT invoice you can download from My orders once it has shipped."),
                ("Business invoices",
                 "Add your company name and VAT number at checkout. EU businesses outside Belgium are invoiced "
                 f"with reverse-charge VAT. We can correct an invoice within {p.invoice_correction} of its "
                 "date."),
            ),
            (
                QA(f"We can correct an invoice within {p.invoice_correction} of its date.",
                   (p.invoice_correction,),
                   ("Can you add my VAT number to an invoice?", "My invoice has the wrong company name."),
                   "I forgot to put my company details on the invoice. How long after the invoice date can "
                   "it be fixed?"),
            ),
        ),
        Article(
            "payments/gift-cards.md", "Gift cards", "gift cards",
            (
                ("Buying a gift card",
                 f"Gift cards are available from €{p.gift_card_range.replace(' to ', ' to €')}. An e-gift card "
                 f"arrives by e-mail within {p.gift_card_delivery}; a plastic card ships like any order."),
                ("Using a gift card",
                 f"Gift cards are valid for {p.gift_card_validity} from the date of purchase and can be combined "
                 "with any payment method. They cannot be exchanged for cash."),
            ),
            (
                QA(f"Gift cards are valid for {p.gift_card_validity} from the date of purchase.",
                   (p.gift_card_validity,),
                   ("Do gift cards expire?", "How long is a gift card valid?"),
                   "My aunt gave me a Larchkite voucher card last year. Until when can I still spend it?"),
                QA(f"An e-gift card arrives by e-mail within {p.gift_card_delivery}.",
                   (p.gift_card_delivery,),
                   ("How fast is an e-gift card delivered?", "I need a last-minute present, is the e-gift instant?"),
                   "If I buy a digital gift card now, how soon does the recipient get it?"),
            ),
        ),
        Article(
            "payments/price-match.md", "Price match promise", "our price match",
            (
                ("The promise",
                 f"Found the identical item cheaper at another EU retailer within {p.price_match_window} of your "
                 "purchase? We refund the difference."),
                ("Conditions",
                 "The item must be the same model, size and colour, in stock and sold by the retailer itself. "
                 "Marketplace sellers, outlet prices and Black Friday deals are excluded."),
            ),
            (
                QA(f"We refund the difference if you find the identical item cheaper within "
                   f"{p.price_match_window} of your purchase.",
                   (p.price_match_window,),
                   ("Do you price match?", "I saw my helmet cheaper elsewhere."),
                   "Another shop now sells the same tent for less than I paid you. Can I still get the "
                   "difference back?"),
            ),
        ),
        Article(
            "payments/discount-codes.md", "Discount codes", "discount codes",
            (
                ("Welcome discount",
                 f"Subscribe to our newsletter and get {p.welcome_discount} off your first order over €40 with "
                 f"the code {p.welcome_code}."),
                ("Students",
                 f"Students get {p.student_discount} off full-price items with the code {p.student_code} after "
                 "verifying their student e-mail."),
                ("Rules", "One code per order. Codes cannot be added after the order is placed."),
            ),
            (
                QA(f"Subscribe to our newsletter and use the code {p.welcome_code} for {p.welcome_discount} off "
                   "your first order over €40.",
                   (p.welcome_code,),
                   ("Is there a discount for new customers?", "Do you have a welcome code?"),
                   "This is my first time shopping with you. Is there a code I can enter at checkout?"),
                QA(f"Students get {p.student_discount} off full-price items with the code {p.student_code}.",
                   (p.student_code, p.student_discount),
                   ("Do you have a student discount?", "I'm at university, any discount?"),
                   "I'm studying in Leuven. Do you give any reduction to students?"),
            ),
        ),
    ]  # fmt: skip


def _loyalty_and_account(c: Company, p: Policy) -> list[Article]:
    return [
        Article(
            "loyalty/trail-points.md", "Trail Points loyalty programme", "Trail Points",
            (
                ("Earning points",
                 f"You earn 1 Trail Point for every euro spent, and {p.birthday_bonus} on your birthday."),
                ("Tiers",
                 f"Scout is the starting tier. Ranger starts at {p.ranger_threshold} and Summit at "
                 f"{p.summit_threshold} earned in the last 12 months. Summit members get free returns and free "
                 "Zone B delivery."),
                ("Spending points",
                 f"Every {p.points_voucher} can be swapped for a €10 voucher. Points expire after "
                 f"{p.points_expiry} without a purchase."),
            ),
            (
                QA(f"Every {p.points_voucher} can be swapped for a €10 voucher.",
                   (p.points_voucher,),
                   ("How do I use my Trail Points?", "What are my points worth?"),
                   "How many loyalty points do I need to collect before I can turn them into a voucher?"),
                QA(f"Points expire after {p.points_expiry} without a purchase.",
                   (p.points_expiry,),
                   ("Do Trail Points expire?", "Will I lose my points if I don't shop for a while?"),
                   "If I don't buy anything for a long time, what happens to my loyalty balance?"),
                QA(f"Summit starts at {p.summit_threshold} earned in the last 12 months.",
                   (p.summit_threshold,),
                   ("How do I reach Summit?", "What do I need for the top tier?"),
                   "What does it take to get to the highest level of your loyalty scheme?"),
                QA(f"You get {p.birthday_bonus} on your birthday.",
                   (p.birthday_bonus,),
                   ("Do I get anything on my birthday?",),
                   None),
            ),
        ),
        Article(
            "account/password-and-login.md", "Password and signing in", "signing in",
            (
                ("Forgotten password",
                 f"Choose Forgot password on the sign-in page. The reset link we e-mail is valid for "
                 f"{p.reset_link}."),
                ("Locked account",
                 f"After {p.lockout_attempts} in a row your account is locked for {p.lockout_time}. You can "
                 "then try again or reset your password."),
                ("Two-step verification",
                 "Turn on two-step verification under Account security with any authenticator app. We do not "
                 "send codes by SMS."),
            ),
            (
                QA(f"The password reset link is valid for {p.reset_link}.",
                   (p.reset_link,),
                   ("My reset link doesn't work.", "How long is the password reset e-mail valid?"),
                   "I clicked the link to set a new password this morning and it says it has expired. Why?"),
                QA(f"After {p.lockout_attempts} your account is locked for {p.lockout_time}.",
                   (p.lockout_time,),
                   ("I'm locked out of my account.", "Why can't I sign in after a few wrong passwords?"),
                   "I typed my password wrong several times and now I can't get in. How long do I wait?"),
            ),
        ),
        Article(
            "account/managing-your-account.md", "Managing your account", "your account",
            (
                ("Details and addresses",
                 f"Change your e-mail address and phone number, and save up to {p.saved_addresses} for "
                 "delivery, under Account settings."),
                ("Guest orders",
                 f"Orders placed as a guest can be added to your account within {p.guest_claim} using the order "
                 "number and the e-mail address you used."),
                ("Newsletters", "Change which e-mails you receive under Preferences at any time."),
            ),
            (
                QA(f"Guest orders can be added to your account within {p.guest_claim} using the order number "
                   "and e-mail address.",
                   (p.guest_claim,),
                   ("I ordered as a guest, can I add it to my account?", "Can I claim points for a guest order?"),
                   "I bought something before creating my profile. Can that purchase still be linked to it?"),
                QA(f"You can save up to {p.saved_addresses} for delivery.",
                   (p.saved_addresses,),
                   ("How many delivery addresses can I save?",),
                   None),
            ),
        ),
        Article(
            "account/privacy-and-your-data.md", "Privacy and your data", "privacy",
            (
                ("What we keep",
                 "We keep your orders, addresses and support conversations to run your account, and only use "
                 "them for marketing if you opted in."),
                ("Your rights",
                 f"Ask {c.privacy_email} for a copy of what we hold; we answer within {p.privacy_reply}. "
                 "Requests to erase an account are handled by our privacy team personally."),
            ),
            (
                QA(f"Ask {c.privacy_email} for a copy of what we hold; we answer within {p.privacy_reply}.",
                   (p.privacy_reply,),
                   ("Can I get a copy of the information you hold on me?",),
                   None),
            ),
        ),
    ]  # fmt: skip


def _sizing_and_care(c: Company, p: Policy) -> list[Article]:
    return [
        Article(
            "sizing/clothing-size-guide.md", "Clothing size guide", "sizing",
            (
                ("Jackets",
                 f"Measure around the fullest part of your chest. Size S fits 88 to 94 cm, size M 95 to 101 cm, "
                 f"size L {p.jacket_l} and size XL 109 to 116 cm."),
                ("Cycling jerseys",
                 "Race jerseys are cut close. If you are between two sizes, take the larger one."),
                ("Gloves",
                 f"Measure around your palm below the knuckles: size S fits 18.5 to 20 cm, size M {p.glove_m} "
                 "and size L 21.5 to 23 cm."),
            ),
            (
                QA(f"Size L fits a chest measurement of {p.jacket_l}.",
                   (p.jacket_l,),
                   ("What size jacket should I get for a 105 cm chest?", "Which jacket size is L?"),
                   "My chest measures 104 cm. Which size of your jackets fits me?"),
                QA(f"Glove size M fits a hand circumference of {p.glove_m}.",
                   (p.glove_m,),
                   ("Which glove size do I need?", "My hand is 21 cm around, which glove size?"),
                   "My palm measures 20.5 cm around. What glove size would suit me?"),
            ),
        ),
        Article(
            "sizing/helmet-and-shoe-size-guide.md", "Helmet and shoe size guide", "sizing",
            (
                ("Helmets",
                 f"Measure your head just above the eyebrows. Size S fits 51 to 55 cm, size M {p.helmet_m} and "
                 "size L 57 to 61 cm. Use the fit dial for the final adjustment."),
                ("Shoes and boots",
                 f"Our footwear uses EU sizes. EU 42 has an insole length of {p.shoe_42}; measure your foot "
                 "in the evening and add 5 mm for hiking boots."),
            ),
            (
                QA(f"Helmet size M fits a head circumference of {p.helmet_m}.",
                   (p.helmet_m,),
                   ("Which helmet size do I need for 56 cm?", "What does helmet size M fit?"),
                   "My head is 57 cm around. Is a medium helmet right for me?"),
                QA(f"EU 42 has an insole length of {p.shoe_42}.",
                   (p.shoe_42,),
                   ("How long is the insole of a 42?",),
                   "What is the inside length of your shoes in EU size 42?"),
            ),
        ),
        Article(
            "care/waterproof-jacket-care.md", "Caring for a waterproof jacket", "jacket care",
            (
                ("Washing",
                 "Wash at 30 °C with a technical wash, without fabric softener, and rinse twice."),
                ("Reproofing",
                 f"Reproof every {p.reproof_every}, or when water stops beading, with ReProof Spray. Then tumble "
                 f"dry on low for {p.reproof_dry} to reactivate the coating."),
            ),
            (
                QA(f"Reproof every {p.reproof_every}, then tumble dry on low for {p.reproof_dry}.",
                   (p.reproof_every,),
                   ("How often should I reproof my jacket?", "My shell is wetting out, what do I do?"),
                   "Water no longer beads on my waterproof. How often is reproofing needed?"),
            ),
        ),
        Article(
            "care/down-and-sleeping-bag-care.md", "Caring for down and sleeping bags", "down care",
            (
                ("Washing down",
                 f"Wash down jackets and sleeping bags at 30 °C with Down Wash, then tumble dry on low with "
                 f"{p.down_tennis_balls} to break up the clumps. It takes about two and a half hours."),
                ("Storing",
                 f"Store sleeping bags loose in the cotton storage sack. Never leave them in the compression "
                 f"sack for more than {p.compressed_max}."),
            ),
            (
                QA(f"Tumble dry on low with {p.down_tennis_balls} to break up the clumps.",
                   (p.down_tennis_balls,),
                   ("How do I dry a down jacket?", "My down jacket is clumpy after washing."),
                   "After washing my puffer the filling is all lumpy. How should I dry it?"),
                QA(f"Never leave a sleeping bag in the compression sack for more than {p.compressed_max}.",
                   (p.compressed_max,),
                   ("How should I store my sleeping bag?",),
                   "Can I keep my sleeping bag squeezed in its stuff sack between trips?"),
            ),
        ),
        Article(
            "care/bike-maintenance-basics.md", "Bike maintenance basics", "bike maintenance",
            (
                ("Chain",
                 f"Clean and lube the chain every {p.chain_lube}, and after every wet ride."),
                ("Bolts and brakes",
                 f"Tighten the stem bolts to {p.stem_torque} with a torque wrench. Replace brake pads when the "
                 f"pad material is thinner than {p.brake_pad_min}."),
            ),
            (
                QA(f"Clean and lube the chain every {p.chain_lube} and after every wet ride.",
                   (p.chain_lube,),
                   ("How often should I oil my chain?", "My chain squeaks, how often do I lube it?"),
                   "What's the recommended interval for lubricating a bicycle chain?"),
                QA(f"Tighten the stem bolts to {p.stem_torque}.",
                   (p.stem_torque,),
                   ("What torque for the stem bolts?",),
                   "How tight should the bolts on my handlebar stem be?"),
                QA(f"Replace brake pads when the pad material is thinner than {p.brake_pad_min}.",
                   (p.brake_pad_min,),
                   ("When do I change brake pads?",),
                   None),
            ),
        ),
    ]  # fmt: skip


def _troubleshooting(c: Company, p: Policy) -> list[Article]:
    return [
        Article(
            "troubleshooting/voltrail-540-battery-guide.pdf", "Voltrail 540 Wh battery: troubleshooting guide",
            "your Voltrail battery",
            (
                ("Error E-217: cell imbalance",
                 f"Charge the battery fully with the original charger for {p.battery_e217} without "
                 "interruption. The battery balances its cells and the error clears."),
                ("Error E-305: temperature",
                 f"The battery is too cold or too warm to charge. Let it reach between {p.battery_e305} °C "
                 "indoors, then charge again."),
                ("Error E-412: communication",
                 f"Clean the contacts, reseat the battery and update the battery firmware to "
                 f"{p.battery_firmware} at any Larchkite workshop."),
                ("Three amber blinks: storage mode",
                 f"The battery has gone to sleep. Press the power button for {p.battery_wake} to wake it."),
                ("Storage and range",
                 f"Store the battery at {p.battery_storage} charge in a cool, dry room. A full battery gives "
                 f"up to {p.battery_range} in Eco mode."),
            ),
            (
                QA(f"E-217 is a cell imbalance: charge the battery fully with the original charger for "
                   f"{p.battery_e217} without interruption.",
                   (p.battery_e217,),
                   ("My Voltrail shows E-217.", "What does error E-217 mean on my e-bike battery?"),
                   "The display of my e-bike battery keeps flashing code E-217. What should I do about it?"),
                QA(f"E-412 is a communication error: clean the contacts, reseat the battery and update the "
                   f"firmware to {p.battery_firmware}.",
                   (p.battery_firmware,),
                   ("What does E-412 mean?", "My battery says E-412 after I cleaned the bike."),
                   "Error code E-412 appeared on my Voltrail. How do I get rid of it?"),
                QA(f"Three amber blinks mean storage mode: press the power button for {p.battery_wake}.",
                   (p.battery_wake,),
                   ("My battery blinks amber three times.", "The battery won't switch on after winter."),
                   "My e-bike battery does nothing except blink orange three times. How do I wake it?"),
                QA(f"E-305 means the battery is too cold or warm: let it reach between {p.battery_e305} °C first.",
                   (p.battery_e305,),
                   ("Why won't my battery charge in the garage?",),
                   "My Voltrail refuses to charge and shows E-305. What's wrong?"),
                QA(f"Store the battery at {p.battery_storage} charge in a cool, dry room.",
                   (p.battery_storage,),
                   ("How should I store my e-bike battery over winter?",),
                   None),
            ),
        ),
        Article(
            "troubleshooting/pathfinder-2-gps-watch.md", "Pathfinder 2 GPS watch: troubleshooting",
            "your Pathfinder 2 watch",
            (
                ("Error GPS-44: no satellite fix",
                 f"Stand still outdoors with a clear view of the sky for {p.watch_fix}. Keep the watch away from "
                 "your body until the GPS icon turns green."),
                ("Soft reset",
                 f"If the screen freezes, hold UP and BACK together for {p.watch_reset}. Your activities are "
                 "kept."),
                ("Step count too high",
                 f"A bug that counted cycling as steps is fixed in firmware {p.watch_firmware}. Update it in the "
                 "Larchkite Trails app."),
                ("Battery life", f"Up to {p.watch_battery} in watch mode and 31 hours with GPS on."),
            ),
            (
                QA(f"GPS-44 means no satellite fix: stand still outdoors with a clear view of the sky for "
                   f"{p.watch_fix}.",
                   (p.watch_fix,),
                   ("My watch says GPS-44.", "The Pathfinder can't find GPS."),
                   "My Pathfinder 2 shows GPS-44 whenever I start a run. How do I fix it?"),
                QA(f"Hold UP and BACK together for {p.watch_reset}; your activities are kept.",
                   (p.watch_reset,),
                   ("My Pathfinder screen froze.", "How do I reset the Pathfinder 2?"),
                   "The display on my GPS watch is stuck and the buttons do nothing. What can I try?"),
                QA(f"That bug is fixed in firmware {p.watch_firmware}; update it in the Larchkite Trails app.",
                   (p.watch_firmware,),
                   ("My watch counts steps while I cycle.",),
                   "Why does my Pathfinder add thousands of steps after a bike ride?"),
            ),
        ),
        Article(
            "troubleshooting/lumen-460-headlamp.md", "Lumen 460 headlamp: troubleshooting", "your Lumen 460",
            (
                ("Flickering",
                 f"The lamp flickers when the battery is below {p.headlamp_low}. Charge it fully."),
                ("Lockout",
                 f"Hold the button for {p.headlamp_lock} to lock or unlock the lamp, so it cannot switch on "
                 "in your bag."),
                ("Charging",
                 f"A full charge over USB-C takes {p.headlamp_charge}. The indicator turns green when done."),
            ),
            (
                QA(f"The lamp is probably locked: hold the button for {p.headlamp_lock} to unlock it.",
                   (p.headlamp_lock,),
                   ("My headlamp won't turn on.", "How do I lock my Lumen 460?"),
                   "Pressing the button on my Lumen 460 does nothing at all. Is it broken?"),
                QA(f"A full charge over USB-C takes {p.headlamp_charge}.",
                   (p.headlamp_charge,),
                   ("How long does the Lumen take to charge?",),
                   "How much time does the Lumen 460 need to charge completely?"),
            ),
        ),
        Article(
            "troubleshooting/torrent-t2-smart-trainer.md", "Torrent T2 smart trainer: calibration and errors",
            "your Torrent T2 trainer",
            (
                ("Spin-down calibration",
                 f"Warm up for ten minutes, start calibration in the app, pedal up to {p.trainer_spindown} and "
                 "stop pedalling until the flywheel stops."),
                (f"{p.trainer_belt}: belt slipping",
                 "The drive belt is slipping. Tighten the belt tension knob a quarter turn and calibrate again."),
            ),
            (
                QA(f"Start calibration in the app, pedal up to {p.trainer_spindown} and stop pedalling until the "
                   "flywheel stops.",
                   (p.trainer_spindown,),
                   ("How do I calibrate my Torrent?", "My trainer's power readings seem off."),
                   "What speed do I need to reach for the spin-down on the Torrent T2?"),
                QA(f"{p.trainer_belt} means the belt is slipping: tighten the tension knob a quarter turn.",
                   (p.trainer_belt,),
                   ("My trainer shows an error about the belt.",),
                   None),
            ),
        ),
        Article(
            "troubleshooting/cadence-c3-bike-computer.md", "Cadence C3 bike computer: sensors and resets",
            "your Cadence C3",
            (
                ("Sensors do not pair",
                 "Wake the sensor by spinning the crank or wheel a few times, then search again under Sensors."),
                ("Error SENS-2",
                 f"The sensor battery is low. Replace the {p.computer_cell} coin cell under the sensor lid."),
                ("Factory reset",
                 f"Hold LAP and POWER together for {p.computer_reset}. Export your rides first."),
            ),
            (
                QA(f"SENS-2 means the sensor battery is low: replace the {p.computer_cell} coin cell.",
                   (p.computer_cell,),
                   ("My Cadence says SENS-2.",),
                   "My Cadence C3 keeps showing SENS-2 on the screen. What does that mean?"),
                QA(f"Hold LAP and POWER together for {p.computer_reset}.",
                   (p.computer_reset,),
                   ("How do I factory reset the Cadence C3?",),
                   "How can I restore my Cadence bike computer to factory settings?"),
            ),
        ),
        Article(
            "troubleshooting/tent-poles-and-zips.md", "Fixing a tent pole or a stuck zip", "tent repairs",
            (
                ("Broken pole",
                 "Slide the repair sleeve from your tent bag over the break and tape both ends. Replacement "
                 f"pole sections cost €{p.pole_section} each."),
                ("Zip that will not close",
                 f"A zip that opens behind the slider has a worn slider. The Zip Repair Kit {p.zip_kit} has "
                 "spare sliders in three sizes."),
            ),
            (
                QA(f"Use the repair sleeve for now; replacement pole sections cost €{p.pole_section} each.",
                   (p.pole_section,),
                   ("I snapped a tent pole.", "Can I buy a spare tent pole?"),
                   "One section of my tent pole cracked on our last trip. What are my options?"),
                QA(f"The slider is worn; the Zip Repair Kit {p.zip_kit} has spare sliders in three sizes.",
                   (p.zip_kit,),
                   ("My tent zip keeps splitting open.",),
                   "The door zip on my tent opens up again behind the pull. Can I repair that myself?"),
            ),
        ),
    ]  # fmt: skip


def _services(c: Company, p: Policy) -> list[Article]:
    return [
        Article(
            "services/warranty.md", "Warranty", "our warranty",
            (
                ("How long",
                 f"Everything we sell has a warranty of {p.warranty_standard}. Bike and e-bike frames are covered "
                 f"for {p.warranty_frame}. E-bike batteries are covered for {p.warranty_battery} or "
                 f"{p.warranty_cycles}, whichever comes first."),
                ("Making a claim",
                 "Fill in the warranty form with your order number and photos of the fault. We decide within "
                 f"{p.warranty_decision}. You can also call the warranty team on {p.ext_warranty}."),
            ),
            (
                QA(f"Everything we sell has a warranty of {p.warranty_standard}; bike frames are covered for "
                   f"{p.warranty_frame}.",
                   (p.warranty_standard,),
                   ("What warranty do you give?", "How long is the guarantee on a jacket?"),
                   "If a zip on my backpack fails after a year, am I still covered, and for how long?"),
                QA(f"E-bike batteries are covered for {p.warranty_battery} or {p.warranty_cycles}, whichever "
                   "comes first.",
                   (p.warranty_battery, p.warranty_cycles),
                   ("What's the warranty on the Voltrail battery?",),
                   "How long is an e-bike battery guaranteed for?"),
                QA(f"Send the warranty form with your order number and photos; we decide within "
                   f"{p.warranty_decision}.",
                   (p.warranty_decision,),
                   ("How do I make a warranty claim?",),
                   "My headlamp stopped working after a few months. How long does a warranty decision take?"),
            ),
        ),
        Article(
            "services/workshop-and-repairs.md", "Workshop and repairs", "our workshop",
            (
                ("Bike services",
                 f"Essential Service €{p.essential_service}, Full Service €{p.full_service}, wheel truing "
                 f"€{p.wheel_truing}. Most bikes are ready within {p.workshop_turnaround}. Book on "
                 f"{p.ext_workshop}."),
                ("Clothing repairs",
                 f"Send us a waterproof with a peeling seam tape and we repair it for €{p.seam_repair}."),
            ),
            (
                QA(f"A Full Service costs €{p.full_service} and most bikes are ready within "
                   f"{p.workshop_turnaround}.",
                   (p.full_service, p.workshop_turnaround),
                   ("How much is a full bike service?", "What does your workshop charge for a service?"),
                   "What's the price of a complete service for my gravel bike, and how long will you "
                   "keep it?"),
                QA(f"An Essential Service costs €{p.essential_service}.",
                   (p.essential_service,),
                   ("How much is a basic service?",),
                   None),
                QA(f"We repair peeling seam tape for €{p.seam_repair}.",
                   (p.seam_repair,),
                   ("Can you fix the seam tape on my jacket?",),
                   "The taping inside my rain shell is coming loose. Do you repair that, and for how much?"),
            ),
        ),
        Article(
            "services/click-and-collect.md", "Click & Collect at our store", "Click & Collect",
            (
                ("How it works",
                 f"Choose Click & Collect at checkout and pick up at {c.address}. Your order is ready "
                 f"within {p.pickup_ready} and we hold it for {p.pickup_hold}. Collection is free."),
                ("Opening hours",
                 f"Monday to Saturday 09:30 to 18:30, and on Thursdays until {p.late_opening}. Bring your "
                 "pickup code and ID."),
            ),
            (
                QA(f"We hold Click & Collect orders for {p.pickup_hold}.",
                   (p.pickup_hold,),
                   ("How long will you keep my collection order?", "I can't pick up this week."),
                   "I won't be able to get to the shop for a while. How long do you keep my order there?"),
                QA(f"The store is open until {p.late_opening} on Thursdays.",
                   (p.late_opening,),
                   ("Are you open late any day?", "What are the shop's opening hours?"),
                   "I work until six. Is there an evening when I can still collect my parcel?"),
            ),
        ),
        Article(
            "services/second-ascent-trade-in.md", "Second Ascent trade-in", "trade-ins",
            (
                ("Trading in gear",
                 f"Bring used outdoor gear in good condition to the {c.town} store and receive a voucher worth "
                 f"up to {p.trade_in_share} of the original price."),
                ("Vouchers", f"Trade-in vouchers are valid for {p.trade_in_validity}."),
            ),
            (
                QA(f"You receive a voucher worth up to {p.trade_in_share} of the original price.",
                   (p.trade_in_share,),
                   ("Do you buy back used gear?", "What do I get for trading in my old tent?"),
                   "I have an old rucksack in decent shape. How much credit would you give me for it?"),
            ),
        ),
        Article(
            "about/contact-us.md", "Contact us", "contacting us",
            (
                ("Phone and e-mail",
                 f"Call {c.phone} ({c.support_hours}) or write to {c.email}."),
                ("Direct lines",
                 f"Returns: {p.ext_returns}. Warranty: {p.ext_warranty}. Workshop: {p.ext_workshop}. "
                 f"Business and club orders: {p.ext_business}."),
            ),
            (
                QA(f"Call {c.phone} and ask for {p.ext_warranty}.",
                   (p.ext_warranty,),
                   ("What's the number for the warranty team?",),
                   "Which phone extension gets me straight to the people who handle warranty claims?"),
                QA(f"Call {c.phone} and ask for {p.ext_workshop}.",
                   (p.ext_workshop,),
                   ("How do I book a bike service by phone?",),
                   "Is there a direct line to reach your bike workshop?"),
            ),
        ),
        Article(
            "about/business-and-club-orders.md", "Business and club orders", "club orders",
            (
                ("Club discounts",
                 f"Clubs and companies get {p.club_small} off orders of 15 or more items and {p.club_large} "
                 "off 40 or more items."),
                ("Custom-printed kit",
                 f"Custom-printed jerseys start at {p.custom_minimum}, with a lead time of {p.custom_lead_time}. "
                 f"Call the business desk on {p.ext_business}."),
            ),
            (
                QA(f"Clubs get {p.club_small} off 15 or more items and {p.club_large} off 40 or more.",
                   (p.club_large,),
                   ("Do cycling clubs get a discount?", "Is there a bulk discount?"),
                   "What reduction does a club get when it orders 45 jackets at once?"),
                QA(f"Custom-printed jerseys start at {p.custom_minimum} with a lead time of {p.custom_lead_time}.",
                   (p.custom_lead_time,),
                   ("Can you print our team logo on jerseys?", "Minimum order for custom kit?"),
                   "How far in advance should our team order printed jerseys?"),
            ),
        ),
    ]  # fmt: skip
