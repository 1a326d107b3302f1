"""Write tickets.csv for the language-model example: support tickets from returning customers.

The support-tickets example's templates and Faker seed, with one difference: the tickets come
from a pool of customers, some of whom write many times (weights 1/sqrt(rank)), as in a real
support log, where each message starts with the customer's account number and a customer greets
and signs off the same way each time. A customer's name, email,
phone and address then recur across tickets after the same account number: what a language model
trained on the raw text can memorise, and what the extraction test prompts for.

Usage: python generate.py [--rows N] [--customers N] [--seed S] [--out PATH]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support-tickets"))
from generate import AGE_BANDS, CATEGORIES, CHANNELS, CLOSINGS, OPENINGS, new_person, ticket, write


def customer(fake: Faker, rng: random.Random) -> dict[str, str]:
    """A person with the habits of a returning customer: always the same greeting and sign-off."""
    return {**new_person(fake), "opening": rng.choice(OPENINGS), "closing": rng.choice(CLOSINGS)}


def generate(rows: int, customers: int, seed: int) -> list[dict[str, str]]:
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    pool = [(customer(fake, rng), rng.choice(AGE_BANDS), f"C{rng.randrange(10**7, 10**8)}") for _ in range(customers)]
    weights = [1 / (rank + 1) ** 0.5 for rank in range(customers)]
    categories = sorted(CATEGORIES)
    out = []
    for i in range(rows):
        person, age_band, account = rng.choices(pool, weights)[0]
        category = rng.choice(categories)
        out.append(
            {
                "ticket_id": f"T{i + 1:06d}",
                "channel": rng.choice(CHANNELS),
                "age_band": age_band,
                "text": f"[{account}] {ticket(fake, rng, category, person)}",
                "category": category,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("tickets.csv"))
    args = parser.parse_args()
    rows = generate(args.rows, args.customers, args.seed)
    write(args.out, rows)
    print(f"wrote {args.out} ({len(rows)} tickets from {args.customers} customers)")


if __name__ == "__main__":
    main()
