"""Write tickets.csv: customer-support tickets full of personal data, generated deterministically.

Each ticket is a short free-text message to an online shop's support desk.
The label (``category``) is learnable from the non-personal words (an
invoice, a parcel, a password...), while the text carries what real tickets
carry: names, emails, phone numbers, postal addresses, order numbers, IBANs,
and now and then a health condition or a trade-union membership (GDPR
Art. 9 special categories). ``age_band`` is a sensitive attribute for
per-group utility. Faker with a fixed seed: the same file on every machine.

Usage: python generate.py [--rows N] [--seed S] [--out PATH]
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

from faker import Faker

CATEGORIES: dict[str, list[str]] = {
    "billing": [
        "I was charged twice for order {order} and my bank statement shows both payments.",
        "The invoice for order {order} has the wrong amount, please send a corrected invoice.",
        "Please refund the duplicate charge to my account {iban}.",
        "My card was billed for a subscription I cancelled last month.",
        "Can you explain the extra fee on my last invoice? It was not in the price at checkout.",
        "The payment failed but the money left my account {iban} anyway.",
        "I need a VAT invoice with my company name for order {order}.",
        "Why was I charged a late payment fee when I paid the bill on time?",
    ],
    "delivery": [
        "My parcel for order {order} has not arrived and tracking has not updated for a week.",
        "The courier left the package at the wrong address, it should go to {address}.",
        "Delivery was promised for Monday but the shipment is still in the warehouse.",
        "Can you change the delivery address for order {order} to {address}?",
        "The tracking number you sent does not work on the carrier's website.",
        "The box arrived damaged and half of the items were missing from the parcel.",
        "I was not home when the driver came, how do I rearrange delivery?",
        "Order {order} shows delivered but nothing was left at my door.",
    ],
    "technical": [
        "The app crashes every time I open the settings page on my phone.",
        "I get an error 500 when I try to upload a photo to my profile.",
        "The website is very slow and the checkout page never finishes loading.",
        "After the last update the app will not sync with my tablet any more.",
        "The smart speaker I bought will not connect to my wifi network.",
        "The firmware update failed and now the device does not turn on.",
        "Notifications stopped working in the app after I reinstalled it.",
        "The software licence key from order {order} is rejected as invalid.",
    ],
    "account": [
        "I forgot my password and the reset email never arrives at {email}.",
        "Please change the email address on my account to {email}.",
        "I cannot log in, it says my account is locked after too many attempts.",
        "Please delete my account and all the data you hold about me.",
        "How do I turn on two-factor authentication for my login?",
        "Someone changed my account password, I think my profile was hacked.",
        "I want to update my username and the phone number on my profile to {phone}.",
        "Please merge my two accounts, the old one uses {email}.",
    ],
    "returns": [
        "I would like to return the shoes from order {order}, they are too small.",
        "How do I send back a faulty kettle and get a replacement?",
        "The return label for order {order} is missing from the box.",
        "I returned the jacket two weeks ago and still have no refund for the return.",
        "Can I exchange the blue sofa cover for a grey one instead of returning it?",
        "The item I received is not what I ordered, I want to return it.",
        "Please arrange a collection for the return of the washing machine from {address}.",
        "Is the return window 30 days? I want to send back the headphones.",
    ],
}

OPENINGS = [
    "Hello, this is {name}.",
    "Hi, my name is {name}.",
    "Dear support team,",
    "Hi there,",
    "Good morning,",
    "",
]
CONTEXT = [
    "You can reach me on {phone}.",
    "My email is {email}.",
    "I live at {address}.",
    "Please call me back on {phone} after 5pm.",
    "My customer number is {customer}.",
    "",
    "",
]
SPECIAL = [
    "I am just out of hospital after my heart surgery so I cannot wait in all day.",
    "I have diabetes and need the order urgently.",
    "As a member of the Unite trade union I know my consumer rights.",
    "I am pregnant and cannot carry heavy boxes to the post office.",
    "My doctor says my depression is worse when things like this happen.",
]
CLOSINGS = ["Thanks, {name}", "Regards, {name}", "Best wishes, {first}", "{name}, {phone}", "Thank you.", ""]
AGE_BANDS = ["18-34", "35-54", "55+"]
CHANNELS = ["email", "chat", "web form"]


def _fill(template: str, fake: Faker, person: dict[str, str]) -> str:
    return template.format(
        order=f"ORD-{fake.random_number(digits=7, fix_len=True)}",
        iban=person["iban"],
        address=person["address"],
        email=person["email"],
        phone=person["phone"],
        name=person["name"],
        first=person["first"],
        customer=f"C{fake.random_number(digits=8, fix_len=True)}",
    )


def new_person(fake: Faker) -> dict[str, str]:
    first, last = fake.first_name(), fake.last_name()
    return {
        "name": f"{first} {last}",
        "first": first,
        "email": f"{first}.{last}@{fake.free_email_domain()}".lower(),
        "phone": fake.phone_number(),
        "address": fake.address().replace("\n", ", "),
        "iban": fake.iban(),
    }


def ticket(fake: Faker, rng: random.Random, category: str, person: dict[str, str] | None = None) -> str:
    """One ticket by ``person`` (a new customer when None)."""
    person = person or new_person(fake)
    parts = [person.get("opening", rng.choice(OPENINGS))]  # a returning customer's habit, if any
    body = rng.sample(CATEGORIES[category], k=rng.choice((1, 1, 2)))
    parts.extend(body)
    if rng.random() < 0.12:
        parts.append(rng.choice(SPECIAL))
    parts.append(rng.choice(CONTEXT))
    parts.append(person.get("closing", rng.choice(CLOSINGS)))
    return " ".join(_fill(p, fake, person) for p in parts if p)


def generate(rows: int, seed: int) -> list[dict[str, str]]:
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    categories = sorted(CATEGORIES)
    out = []
    for i in range(rows):
        category = rng.choice(categories)
        out.append(
            {
                "ticket_id": f"T{i + 1:06d}",
                "channel": rng.choice(CHANNELS),
                "age_band": rng.choice(AGE_BANDS),
                "text": ticket(fake, rng, category),
                "category": category,
            }
        )
    return out


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("tickets.csv"))
    args = parser.parse_args()
    rows = generate(args.rows, args.seed)
    write(args.out, rows)
    print(f"wrote {args.out} ({len(rows)} tickets)")


if __name__ == "__main__":
    main()
