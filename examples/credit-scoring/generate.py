"""Generate the credit-scoring example dataset, deterministically.

    python examples/credit-scoring/generate.py [--rows 10000] [--seed 7] [-o loans.csv]

The label (``defaulted``) depends only on financial features, so a model can
learn it without any personal data. The personal data (names, emails, phones,
addresses, dates of birth, free-text notes that sometimes carry contact
details or health mentions) is there for the scan to find.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from pathlib import Path

from faker import Faker

PURPOSES = ["debt_consolidation", "home_improvement", "car", "education", "medical", "small_business", "other"]
HOMES = ["rent", "mortgage", "own"]
EMPLOYMENT = ["employed", "self_employed", "unemployed", "retired"]
PLAIN_NOTES = [
    "Applicant provided payslips for the last three months.",
    "Requested a longer repayment term.",
    "Income verified against bank statements.",
    "No issues found during affordability check.",
    "Asked about early repayment fees.",
    "Existing customer since 2015, good repayment record.",
    "Documents received by post, all complete.",
    "Prefers contact in the afternoon.",
    "Loan purpose confirmed over the phone.",
    "Second application this year; previous one withdrawn.",
]
PII_NOTES = [
    "Call back on {phone} after 5pm.",
    "Customer asked us to send the statements to {email}.",
    "Spoke with {name} about the repayment schedule.",
    "Co-signer is {other}, reachable at {other_email}.",
    "Card ending issue: customer read out {card} by mistake, asked to remove it.",
    "Moved recently; new address is {address}.",
]
SPECIAL_NOTES = [
    "Applicant mentioned ongoing treatment for diabetes; may affect income.",
    "Customer is a trade union member and asked about union discounts.",
    "Short-term disability leave last year, now back at work.",
    "Requested a meeting outside prayer times at the mosque.",
]


def _email(fake: Faker, name: str, rng: random.Random) -> str:
    first, _, last = name.lower().replace("'", "").partition(" ")
    last = last.split(" ")[-1] if last else "x"
    domain = rng.choice(["example.com", "mail.example.org", "inbox.example.net", "post.example.co.uk"])
    return f"{first}.{last}{rng.randint(1, 99)}@{domain}"


def _label(
    rng: random.Random, income: float, dti: float, delinq: int, history: float, amount: float, rate: float
) -> int:
    score = (
        -2.2
        + 9.0 * (dti - 0.3)
        + 1.1 * delinq
        - 0.15 * (history - 9.0)
        + 3.0 * (amount / income - 0.25)
        + 0.25 * (rate - 11.0)
        - 1.2 * math.log(income / 48_000)
    )
    return int(rng.random() < 1.0 / (1.0 + math.exp(-score)))


def generate(rows: int, seed: int) -> list[dict[str, object]]:
    fake = Faker(["en_US", "en_GB"])
    Faker.seed(seed)
    rng = random.Random(seed)
    records: list[dict[str, object]] = []
    for i in range(rows):
        name = fake.name()
        birth = fake.date_of_birth(minimum_age=19, maximum_age=80)
        age = 2026 - birth.year
        employment = rng.choices(EMPLOYMENT, weights=[70, 15, 7, 8])[0]
        income = round(max(9_000.0, rng.lognormvariate(math.log(48_000), 0.45)), -2)
        if employment == "unemployed":
            income = round(income * 0.3, -2)
        amount = round(rng.uniform(1_000, 0.6 * income + 5_000), -2)
        term = rng.choice([12, 24, 36, 48, 60])
        history = round(max(0.0, min(age - 18, rng.gauss(9, 6))), 1)
        delinq = min(6, int(rng.expovariate(2.2)))
        dti = round(min(0.95, max(0.01, rng.gauss(0.28, 0.12))), 3)
        rate = round(6.0 + 0.8 * delinq + 10 * dti + rng.uniform(-1.5, 1.5), 2)
        roll = rng.random()
        if roll < 0.07:
            note = rng.choice(PII_NOTES).format(
                phone=fake.phone_number(),
                email=_email(fake, name, rng),
                name=name,
                other=fake.name(),
                other_email=fake.free_email(),
                card=fake.credit_card_number(card_type="visa16"),
                address=fake.address().replace("\n", ", "),
            )
        elif roll < 0.09:
            note = rng.choice(SPECIAL_NOTES)
        elif roll < 0.55:
            note = rng.choice(PLAIN_NOTES)
        else:
            note = ""
        records.append(
            {
                "application_id": f"APP-{2024 + i % 3}-{100000 + i}",
                "full_name": name,
                "email": _email(fake, name, rng),
                "phone": fake.phone_number(),
                "street_address": fake.street_address().replace("\n", ", "),
                "city": fake.city(),
                "zip_code": fake.postcode(),
                "date_of_birth": birth.isoformat(),
                "age": age,
                "gender": rng.choices(["female", "male", "non_binary"], weights=[49, 49, 2])[0],
                "employment_status": employment,
                "employment_years": round(max(0.0, min(age - 18, rng.gauss(7, 5))), 1),
                "annual_income": income,
                "home_ownership": rng.choice(HOMES),
                "loan_purpose": rng.choice(PURPOSES),
                "loan_amount": amount,
                "loan_term_months": term,
                "interest_rate": rate,
                "debt_to_income": dti,
                "credit_history_years": history,
                "open_credit_lines": rng.randint(1, 14),
                "delinquencies_2y": delinq,
                "product_code": f"LN-{rng.randint(1000, 9999)}-{rng.randint(100, 999)}-{rng.randint(10, 99)}",
                "notes": note,
                "defaulted": _label(rng, income, dti, delinq, history, amount, rate),
            }
        )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("-o", "--output", type=Path, default=Path(__file__).with_name("loans.csv"))
    args = parser.parse_args()
    records = generate(args.rows, args.seed)
    with args.output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    rate = sum(int(str(r["defaulted"])) for r in records) / len(records)
    print(f"wrote {len(records)} rows to {args.output} (default rate {rate:.1%})")


if __name__ == "__main__":
    main()
