"""Copperwell's help-centre articles: billing, energy, broadband, account and troubleshooting guides,
and the questions each one answers (`asks` feed the tickets, `eval_question` the eval set)."""

from __future__ import annotations

from journey.demo.content import QA, Article, Table
from journey.demo.copperwell.company import Company, Policy


def build_articles(c: Company, p: Policy) -> list[Article]:
    """Every article of the help centre, in a fixed order."""
    return [*_billing(c, p), *_energy(c, p), *_broadband(c, p), *_account(c, p), *_troubleshooting(c, p)]


def _billing(c: Company, p: Policy) -> list[Article]:
    return [
        Article(
            "billing/your-bill.md", "Understanding your bill", "your bill",
            (
                ("When we bill you",
                 f"We send every bill on the {p.bill_day}, by e-mail and in the {c.short_name} app. Energy bills "
                 "show your standing charge, the units you used and the readings we used; broadband bills show "
                 "the month ahead."),
                ("Paying on time",
                 f"Please pay within {p.pay_within} of the bill date. If a bill is still unpaid after that, we "
                 f"add a late payment fee of £{p.late_fee} and send a reminder."),
            ),
            (
                QA(f"We send every bill on the {p.bill_day}, by e-mail and in the app.", (p.bill_day,),
                   ("When do you send the bills?", "What day of the month does my bill come?",
                    "When is my monthly statement issued?"),
                   "On which date each month can I expect a new invoice from Copperwell?"),
                QA(f"Please pay within {p.pay_within} of the bill date; after that we add a late payment fee of "
                   f"£{p.late_fee}.", (p.pay_within, p.late_fee),
                   ("How long do I have to pay my bill?", "Is there a fee for paying late?",
                    "What happens if I pay my bill a few days late?"),
                   "Suppose my invoice sits unpaid for a while. What is the deadline and what would it cost me?"),
            ),
        ),
        Article(
            "billing/direct-debit.md", "Paying by Direct Debit", "Direct Debit",
            (
                ("The Direct Debit discount",
                 f"Customers who pay by monthly Direct Debit get £{p.dd_discount} off every bill. The discount "
                 "appears as a credit line on the bill itself."),
                ("Changing your payment date",
                 f"You can move your Direct Debit to any day from the 1st to the {p.dd_last_day} of the month. "
                 f"Tell us at least {p.dd_notice} before the next collection and the change applies straight "
                 "away."),
            ),
            (
                QA(f"Paying by monthly Direct Debit takes £{p.dd_discount} off every bill.", (p.dd_discount,),
                   ("Do I save anything by paying with Direct Debit?", "Is there a Direct Debit discount?",
                    "How much cheaper is it to pay by Direct Debit?"),
                   "If I stop paying by card and set up automatic collection instead, how much lower is each "
                   "monthly bill?"),
                QA(f"Tell us at least {p.dd_notice} before the next collection; any day from the 1st to the "
                   f"{p.dd_last_day} can be chosen.", (p.dd_notice, p.dd_last_day),
                   ("Can I change the date my Direct Debit comes out?", "How do I move my payment date?",
                    "How much notice do you need to change the collection day?"),
                   "I get paid later in the month now. How early must I ask to shift my collection day, and "
                   "which days are allowed?"),
            ),
        ),
        Article(
            "billing/help-paying.md", "Help if you are struggling to pay", "help with paying",
            (
                ("Payment plans",
                 f"If your balance has grown, we can spread what you owe over up to {p.payment_plan}, on top of "
                 "your usual payments, with no interest and no fees."),
                ("The Winter Warmth Credit",
                 f"Households on a low income or with a member over 75 can apply for the Winter Warmth Credit: "
                 f"£{p.winter_credit} taken off the energy bill between November and March."),
                ("Talk to us early",
                 "The sooner you tell us, the more options there are. Our Debt Support team never passes an "
                 "account to a collection agency while a plan is being agreed."),
            ),
            (
                QA(f"We can spread what you owe over up to {p.payment_plan}, with no interest and no fees.",
                   (p.payment_plan,),
                   ("Can I pay my arrears in instalments?", "Can you spread the cost of what I owe?",
                    "How long can a payment plan last?"),
                   "My balance has crept up over the summer. Over how long could I clear it in smaller amounts?"),
                QA(f"The Winter Warmth Credit takes £{p.winter_credit} off the energy bill between November and "
                   "March.", (p.winter_credit,),
                   ("What is the Winter Warmth Credit?", "How much is the winter discount worth?",
                    "Is there any help with heating costs in winter?"),
                   "My mother is 81 and lives alone. How much could the cold-months credit take off her energy "
                   "account?"),
            ),
        ),
        Article(
            "billing/credit-refunds.md", "Getting a credit balance back", "credit refunds",
            (
                ("Asking for your credit",
                 f"If your account is in credit by more than £{p.credit_minimum}, you can ask for the money back "
                 "in the app or by replying to any bill e-mail. We refund to your bank account within "
                 f"{p.credit_refund}."),
                ("Why we keep a little credit",
                 "Energy use is higher in winter, so a small credit built up in summer is usually used up by "
                 "February. We review your Direct Debit amount every six months."),
            ),
            (
                QA(f"We refund credit over £{p.credit_minimum} to your bank account within {p.credit_refund}.",
                   (p.credit_refund, p.credit_minimum),
                   ("Can I get my credit back?", "How long does a credit refund take?",
                    "My account is in credit, can you pay it back to me?"),
                   "There's money sitting on my account that I'd rather have in my bank. How quickly does it "
                   "arrive, and is there a minimum?"),
            ),
        ),
    ]


def _energy(c: Company, p: Policy) -> list[Article]:
    rates: Table = (
        ("Tariff", "Fixed for", "Exit fee per fuel"),
        ("Steady Fix 12", "12 months", f"£{p.energy_exit}"),
        ("Steady Fix 24", "24 months", f"£{p.energy_exit}"),
        ("Meadow Green", "12 months", f"£{p.energy_exit}"),
        ("Flex", "not fixed", "none"),
    )
    return [
        Article(
            "energy/meter-readings.md", "Meter readings", "meter readings",
            (
                ("Sending a reading",
                 f"Send your reading in the app or online. Readings we receive by the {p.reading_by} of the "
                 "month are used for that month's bill; later ones go on the next bill."),
                ("Smart meters",
                 f"A smart meter sends its readings to us automatically, every {p.smart_interval}, so you never "
                 "need to read it yourself. If it stops sending, we estimate until it reconnects."),
            ),
            (
                QA(f"Readings we receive by the {p.reading_by} of the month are used for that month's bill.",
                   (p.reading_by,),
                   ("When should I send my meter reading?", "What's the deadline for meter readings?",
                    "If I send a reading today, will it be on this month's bill?"),
                   "Until which day of the month does a reading I submit still count towards the coming "
                   "invoice?"),
                QA(f"A smart meter sends its readings automatically every {p.smart_interval}.",
                   (p.smart_interval,),
                   ("How often does my smart meter send readings?", "Do I have to read a smart meter myself?"),
                   "With the new digital meter fitted, how frequently do my usage figures reach you?"),
            ),
        ),
        Article(
            "energy/smart-meter-installation.md", "Getting a smart meter", "smart meter installation",
            (
                ("Booking",
                 f"Installation is free. Choose a {p.install_slot} appointment slot in the app; our engineer "
                 "texts you when they are on the way."),
                ("On the day",
                 f"Fitting takes about {p.install_length} per meter, and the power or gas is off for part of "
                 "that time. Someone over 16 needs to be home."),
            ),
            (
                QA(f"You choose a {p.install_slot} appointment slot; fitting takes about {p.install_length} per "
                   "meter.", (p.install_slot, p.install_length),
                   ("How long does a smart meter installation take?", "How do I book a smart meter?",
                    "How long will the engineer be at my house for the smart meter?"),
                   "I'd like the new digital meter fitted. How long an arrival window do I get, and how long "
                   "does the work itself last?"),
            ),
        ),
        Article(
            "energy/switching-to-us.md", "Switching your energy to Copperwell", "switching to Copperwell",
            (
                ("How long a switch takes",
                 f"Once you sign up, your supply moves to us in {p.switch_time}. Your old supplier sends a final "
                 "bill; you do not need to contact them."),
                ("Changing your mind",
                 f"You have {p.cooling_off} from signing up to cancel, free of charge, by replying to your "
                 "welcome e-mail."),
            ),
            (
                QA(f"Your supply moves to us in {p.switch_time} after you sign up.", (p.switch_time,),
                   ("How long does it take to switch to you?", "When will my supply move over to Copperwell?",
                    "How quickly can you take over my energy?"),
                   "If I sign up for your electricity today, how soon would you become my supplier?"),
                QA(f"You can cancel free of charge within {p.cooling_off} of signing up.", (p.cooling_off,),
                   ("Can I cancel after signing up?", "Is there a cooling-off period?",
                    "What if I change my mind about switching?"),
                   "I joined yesterday but may have found a better deal. How long do I have to back out for "
                   "free?"),
            ),
        ),
        Article(
            "energy/moving-home.md", "Moving home", "moving home",
            (
                ("Tell us in time",
                 f"Let us know your moving date at least {p.move_notice} ahead. Take meter readings on the day "
                 "you leave and send them in the app."),
                ("Your final bill",
                 f"We send the final bill for your old address within {p.final_bill} of the moving date, and "
                 "can set up your new home on the same tariff."),
            ),
            (
                QA(f"Tell us your moving date at least {p.move_notice} ahead.", (p.move_notice,),
                   ("I'm moving house, when should I tell you?", "How much notice do you need when I move?"),
                   "We've got the keys to a new flat next month. How far in advance should I let you know?"),
                QA(f"We send the final bill for your old address within {p.final_bill} of the moving date.",
                   (p.final_bill,),
                   ("When will I get my final bill after moving?", "How soon is the final bill sent?"),
                   "After I hand back the keys to my old place, how long until the closing invoice arrives?"),
            ),
        ),
        Article(
            "energy/fixed-and-flex-tariffs.md", "Fixed and flexible tariffs", "tariffs and exit fees",
            (
                ("What each tariff fixes", rates),
                ("Leaving a fixed tariff",
                 f"Leaving a fixed energy tariff early costs £{p.energy_exit} per fuel. In the last "
                 f"{p.renewal_notice} of a fixed tariff there is no exit fee, and we write to you with your "
                 "renewal options at the start of that window."),
            ),
            (
                QA(f"Leaving a fixed energy tariff early costs £{p.energy_exit} per fuel.", (p.energy_exit,),
                   ("Is there an exit fee on fixed energy tariffs?", "What does it cost to leave a fixed tariff?",
                    "Will I pay a fee if I end my fixed deal early?"),
                   "Should I walk away from my two-year electricity deal halfway, what charge would apply?"),
                QA(f"In the last {p.renewal_notice} of a fixed tariff there is no exit fee.", (p.renewal_notice,),
                   ("When can I leave my fixed tariff for free?", "When do you send my renewal options?"),
                   "How close to the end of my fixed deal do I need to be before leaving costs nothing?"),
            ),
        ),
        Article(
            "energy/export-payments.pdf", "Sunshare: selling your solar power", "solar export payments",
            (
                ("What we pay",
                 f"Sunshare pays {p.export_rate} per kWh for the electricity your solar panels send to the grid, "
                 "measured by your smart meter."),
                ("When we pay",
                 f"Export payments are made {p.export_paid}, as a credit on your electricity account, or to your "
                 "bank if you ask."),
            ),
            (
                QA(f"Sunshare pays {p.export_rate} per kWh for the electricity your panels export.",
                   (p.export_rate,),
                   ("How much do you pay for solar export?", "What's your export rate for solar panels?",
                    "Do you buy the electricity my panels don't use?"),
                   "We had panels put on the roof in spring. What will you give us for each unit fed back?"),
                QA(f"Export payments are made {p.export_paid}, as a credit on your electricity account.",
                   (p.export_paid,),
                   ("How often are export payments made?", "When do I get paid for my exported power?"),
                   "How regularly does the money for our solar surplus land on the account?"),
            ),
        ),
        Article(
            "energy/ev-charging.md", "Charging an electric car at home", "EV charging",
            (
                ("Nightcharge EV",
                 f"On Nightcharge EV, electricity costs {p.ev_rate} per kWh from {p.ev_hours} every night. The "
                 "rest of the day you pay the day rate shown on your bill."),
                ("Getting the most from it",
                 "Set your charger or car to start after the off-peak hours begin. Dishwashers and washing "
                 "machines on a timer benefit as well."),
            ),
            (
                QA(f"On Nightcharge EV, electricity costs {p.ev_rate} per kWh from {p.ev_hours}.",
                   (p.ev_rate, p.ev_hours),
                   ("What are the off-peak hours on Nightcharge EV?", "How cheap is night electricity for my car?",
                    "When is the cheap rate on the EV tariff?"),
                   "I've just bought an electric hatchback. On your car-charging tariff, which hours are cheap "
                   "and what is the cheap price?"),
            ),
        ),
        Article(
            "energy/gas-safety.md", "Gas and electrical safety", "safety",
            (
                ("If you suspect a gas leak",
                 "Open windows, do not use switches or flames, turn off the gas at the meter and call the "
                 "national gas emergency line on 0800 111 999 straight away. It is free and open day and night."),
                ("Damaged cables or meters",
                 "Keep away from damaged cables, and do not touch a meter that is scorched or wet. Tell us and "
                 "we send the network operator."),
            ),
        ),
    ]


def _broadband(c: Company, p: Policy) -> list[Article]:
    return [
        Article(
            "broadband/getting-connected.md", "Getting connected", "getting connected",
            (
                ("Your go-live date",
                 f"Your full fibre goes live {p.go_live} after you order. If we need to install a fibre point, "
                 f"an engineer visits on the go-live date between {p.engineer_window}."),
                ("Your hub",
                 "Your Copperwell Hub 3 arrives by post two days before. Plug it into the fibre point and wait "
                 "for the light to turn solid white."),
            ),
            (
                QA(f"Your full fibre goes live {p.go_live} after you order.", (p.go_live,),
                   ("How long until my broadband is connected?", "When will my fibre go live?",
                    "How soon after ordering can I get online?"),
                   "I've just placed an order for your fibre. Roughly how long until the line is switched on?"),
                QA(f"An engineer visits on the go-live date between {p.engineer_window}.", (p.engineer_window,),
                   ("What time will the installation engineer come?", "When does the fibre engineer arrive?"),
                   "On the day the installer is due, during which hours should someone stay in?"),
            ),
        ),
        Article(
            "broadband/speed-guarantee.md", "Our speed guarantee", "the speed guarantee",
            (
                ("Minimum Guaranteed Speed",
                 f"Every plan has a Minimum Guaranteed Speed. If your speed stays below it and we cannot fix "
                 f"it within {p.speed_leave} of you telling us, you can leave without an exit fee."),
                ("Compensation for slow repairs",
                 f"If a fault is not fixed within two working days, we credit £{p.repair_credit} for every day "
                 "after that, automatically."),
            ),
            (
                QA(f"If we cannot fix your speed within {p.speed_leave} of you telling us, you can leave without "
                   "an exit fee.", (p.speed_leave,),
                   ("My broadband is slower than promised, can I leave?", "What is your speed guarantee?",
                    "Can I cancel if the speed never reaches what you said?"),
                   "The line never reaches the minimum you quoted me. After how long may I walk away without "
                   "paying to leave?"),
                QA(f"If a fault is not fixed within two working days, we credit £{p.repair_credit} for every day "
                   "after that.", (p.repair_credit,),
                   ("Do I get compensation if a fault takes long to fix?", "Do you pay anything for a slow repair?"),
                   "The internet has been down for most of the week. Is there money back for each extra day "
                   "without service?"),
            ),
        ),
        Article(
            "broadband/your-hub.html", "Your Copperwell Hub 3", "your hub",
            (
                ("Replacing a hub",
                 f"If your hub is faulty, we replace it free. A replacement for a hub that was lost or damaged "
                 f"costs £{p.hub_fee}."),
                ("When you leave",
                 f"Send the hub back within {p.hub_return} of your broadband ending, in the prepaid bag we post "
                 "you; otherwise we charge the replacement price."),
                ("A static IP address",
                 f"A static IP address costs £{p.static_ip} a month extra and is set up within a day."),
            ),
            (
                QA(f"A replacement for a lost or damaged hub costs £{p.hub_fee}; faulty hubs are replaced free.",
                   (p.hub_fee,),
                   ("How much is a replacement hub?", "My dog chewed the router cable, can I get a new hub?",
                    "What does a new router cost?"),
                   "We dropped the Wi-Fi box during a house move and it no longer powers on. What would a new "
                   "one set me back?"),
                QA(f"Send the hub back within {p.hub_return} of your broadband ending.", (p.hub_return,),
                   ("Do I have to return my hub when I leave?", "How long do I have to send the router back?"),
                   "Now that I've cancelled my internet, by when must the box be posted back to you?"),
                QA(f"A static IP address costs £{p.static_ip} a month extra.", (p.static_ip,),
                   ("Can I get a static IP?", "How much is a fixed IP address?"),
                   "For my home server I need an address that never changes. What would that add each month?"),
            ),
        ),
    ]


def _account(c: Company, p: Policy) -> list[Article]:
    return [
        Article(
            "account/signing-in.md", "Signing in to your account", "signing in",
            (
                ("Forgotten password",
                 f"Choose Forgotten password on the sign-in page. The reset link we e-mail you works for "
                 f"{p.reset_link}."),
                ("Locked out",
                 f"After {p.lockout} in a row, your account locks for an hour to keep it safe; the reset link "
                 "unlocks it at once."),
            ),
            (
                QA(f"The reset link we e-mail you works for {p.reset_link}.", (p.reset_link,),
                   ("I forgot my password, what do I do?", "How long is the password reset link valid?",
                    "My reset link doesn't work any more, why?"),
                   "The e-mail to set a new password arrived this morning. Until when can I still use it?"),
                QA(f"After {p.lockout} in a row, your account locks for an hour.", (p.lockout,),
                   ("Why is my account locked?", "How many tries do I get to sign in?"),
                   "I keep mistyping my password. After how many wrong tries will the app stop me?"),
            ),
        ),
        Article(
            "account/priority-services.md", "The Priority Services Register", "the Priority Services Register",
            (
                ("Who it is for",
                 "The register is free for anyone who relies on medical equipment, has a disability or long-term "
                 "illness, is of pensionable age or has young children at home."),
                ("What you get",
                 f"We give you at least {p.psr_notice}' notice of planned power cuts, priority help in an "
                 f"outage, and a doorstep password: {p.psr_password}, which our engineers say when they visit."),
            ),
            (
                QA(f"Members get at least {p.psr_notice}' notice of planned power cuts and a doorstep password.",
                   (p.psr_notice,),
                   ("What is the Priority Services Register?", "How much notice of a planned power cut do I get "
                    "on the register?", "What does the Priority Services Register give me?"),
                   "My grandmother is on your special-care list. How far ahead will she hear about scheduled "
                   "interruptions?"),
            ),
        ),
        Article(
            "account/ending-a-contract.md", "Ending a broadband contract", "ending a contract",
            (
                ("Leaving early",
                 f"If you leave a broadband plan before its minimum term ends, we charge £{p.broadband_exit} for "
                 "each remaining month."),
                ("Renewal",
                 f"We tell you about your end date and our best price {p.renewal_notice} before the minimum term "
                 "ends. After that you can leave with 30 days' notice and no fee."),
            ),
            (
                QA(f"Leaving a broadband plan early costs £{p.broadband_exit} for each remaining month.",
                   (p.broadband_exit,),
                   ("How much does it cost to cancel my broadband early?", "Is there a broadband exit fee?",
                    "What do I pay if I leave my fibre contract before the end?"),
                   "I'm emigrating before my internet term is up. How is the charge for leaving worked out?"),
            ),
        ),
        Article(
            "account/complaints.md", "Making a complaint", "complaints",
            (
                ("How we handle it",
                 f"Reply to any message or call us, and say you want to complain. We acknowledge it at once and "
                 f"reply in full within {p.complaint_reply}."),
                ("Taking it further",
                 f"If we have not resolved your complaint after {p.complaint_further}, or you are unhappy with "
                 "our final answer, you can take it to the Energy Ombudsman or the Communications Ombudsman, free "
                 "of charge."),
            ),
            (
                QA(f"We reply in full within {p.complaint_reply}.", (p.complaint_reply,),
                   ("How long do you take to answer a complaint?", "How do I complain?"),
                   "I'm unhappy with how my last visit went. How soon will I hear back once I raise it?"),
                QA(f"If we have not resolved your complaint after {p.complaint_further}, you can take it to an "
                   "independent scheme, free of charge.", (p.complaint_further,),
                   ("When can I take my complaint further?", "What if you don't sort out my complaint?"),
                   "My grievance has been open for ages. From when may an independent body look at it?"),
            ),
        ),
        Article(
            "about/contact-us.md", "Contacting Copperwell", "contacting us",
            (
                ("Phone and messages",
                 f"Call {c.phone} ({c.support_hours}) or write to {c.email}. Messages in the app are answered "
                 "in the same hours."),
                ("Power cuts and emergencies",
                 f"For a power cut, call the free power cut line on {p.power_cut_line} at any time. For gas "
                 "emergencies call 0800 111 999."),
            ),
            (
                QA(f"For a power cut, call the free power cut line on {p.power_cut_line}, day or night.",
                   (p.power_cut_line,),
                   ("Who do I call in a power cut?", "What number do I ring when the electricity goes off?"),
                   "Everything on our street went dark ten minutes ago. Which number should I dial?"),
            ),
        ),
    ]


def _troubleshooting(c: Company, p: Policy) -> list[Article]:
    lights: Table = (
        ("Light", "Meaning", "What to do"),
        ("solid white", "connected", "nothing"),
        ("flashing white", "starting up", "wait"),
        ("flashing amber", "no connection to our network", f"restart the hub and wait {p.hub_restart_wait}"),
        ("solid red", "no signal on the fibre", "check the fibre cable, then report a fault"),
    )
    return [
        Article(
            "troubleshooting/hub-lights.pdf", "What the lights on your hub mean", "hub lights",
            (
                ("The status light", lights),
                ("Factory reset",
                 f"If a restart does not help, press the reset pin on the back for {p.hub_reset_hold} with a "
                 "paper clip. The hub restarts with the Wi-Fi name and password on its label."),
            ),
            (
                QA(f"Flashing amber means no connection to our network: restart the hub and wait "
                   f"{p.hub_restart_wait}.", (p.hub_restart_wait,),
                   ("My hub light is flashing amber, what does that mean?", "Why is the light on my router orange?",
                    "The hub has an amber light and no internet."),
                   "The status lamp on the fibre box keeps blinking yellow-orange. What should I try?"),
                QA(f"Press the reset pin on the back for {p.hub_reset_hold} with a paper clip.",
                   (p.hub_reset_hold,),
                   ("How do I factory reset my hub?", "How long do I hold the reset button?"),
                   "Restarting didn't help. How do I put the box back to how it came out of the packaging?"),
            ),
        ),
        Article(
            "troubleshooting/slow-wifi.md", "Slow or patchy Wi-Fi", "slow Wi-Fi",
            (
                ("Where the hub stands",
                 f"Keep the hub at least {p.hub_distance} away from TVs, microwaves and cordless phones, up off "
                 "the floor and out of cupboards."),
                ("Choosing a band",
                 f"Connect nearby laptops and TVs to the {p.wifi_band} network for speed; the 2.4 GHz one "
                 "reaches further but is slower."),
            ),
            (
                QA(f"Keep the hub at least {p.hub_distance} away from TVs, microwaves and cordless phones.",
                   (p.hub_distance,),
                   ("Where should I put my hub?", "My Wi-Fi is slow in the living room, any tips?",
                    "Does it matter where the router stands?"),
                   "Our wireless signal is weak even close by. How far from other electronics should the box "
                   "sit?"),
                QA(f"Connect nearby devices to the {p.wifi_band} network for speed.", (p.wifi_band,),
                   ("Which Wi-Fi network should I use?", "What's the difference between the two Wi-Fi names?"),
                   "I can see two wireless networks from the box. Which one gives the quickest streaming in "
                   "the same room?"),
            ),
        ),
        Article(
            "troubleshooting/in-home-display.md", "Your smart meter display", "the in-home display",
            (
                ("No signal",
                 f"The display needs to be within {p.display_range} of the meter. Code E-04 means it has lost "
                 "the meter's signal."),
                ("Resetting the display",
                 f"Hold the OK button for {p.display_reset} to restart the display; it finds the meter again "
                 "within a few minutes."),
            ),
            (
                QA(f"The display needs to be within {p.display_range} of the meter; code E-04 means it lost the "
                   "signal.", (p.display_range,),
                   ("My smart meter display says E-04.", "Why does my in-home display show no signal?",
                    "How close to the meter must the display be?"),
                   "The little energy screen in the kitchen shows an error about the signal. How near the meter "
                   "does it need to stand?"),
                QA(f"Hold the OK button for {p.display_reset} to restart the display.", (p.display_reset,),
                   ("How do I restart my smart display?", "How do I reset the in-home display?"),
                   "The usage monitor has frozen on yesterday's numbers. How do I reboot it?"),
            ),
        ),
        Article(
            "troubleshooting/prepayment-meter.md", "Prepayment meters", "prepayment meters",
            (
                ("Emergency credit",
                 f"If your credit runs out, press A and then 9 on the keypad for £{p.emergency_credit} of "
                 "emergency credit. It is repaid from your next top-up."),
                ("Friendly-credit hours",
                 f"Between {p.friendly_hours}, and all weekend, your supply stays on even if your credit runs "
                 "out."),
            ),
            (
                QA(f"Press A and then 9 on the keypad for £{p.emergency_credit} of emergency credit.",
                   (p.emergency_credit,),
                   ("My prepayment meter ran out, what do I do?", "How do I get emergency credit?",
                    "How much emergency credit is there on the key meter?"),
                   "The top-up shop is closed and the meter is nearly empty. How much can I borrow on it, and "
                   "how?"),
                QA(f"Between {p.friendly_hours}, and all weekend, your supply stays on even without credit.",
                   (p.friendly_hours,),
                   ("Will my power go off at night if I run out of credit?", "What are friendly-credit hours?"),
                   "If my pay-as-you-go balance hits zero late in the evening, will the lights go out before "
                   "morning?"),
            ),
        ),
        Article(
            "troubleshooting/no-power.md", "No power in part of your home", "no power",
            (
                ("Check the fuse box",
                 f"If only some sockets or lights are off, a trip switch has probably flipped. Unplug everything "
                 f"on that circuit, wait {p.trip_wait}, then push the switch back up."),
                ("The whole street is dark",
                 f"Check the outage map in the app or call {p.power_cut_line}; the network operator fixes "
                 "power cuts, and we pass on any compensation."),
            ),
            (
                QA(f"Unplug everything on that circuit, wait {p.trip_wait}, then push the trip switch back up.",
                   (p.trip_wait,),
                   ("Half my sockets have stopped working.", "A trip switch keeps going off, what should I do?",
                    "The kitchen lights went off but the rest of the house is fine."),
                   "Only the upstairs circuit lost power after I plugged in a heater. How do I get it back on "
                   "safely?"),
            ),
        ),
    ]
