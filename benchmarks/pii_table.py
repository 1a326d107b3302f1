"""A labelled 16-column table for the PII scanner's accuracy and speed benchmarks.

Every personal-data span is known by construction: structured columns hold one
Faker value per cell, the ``comment`` column is innocuous text with an email in
2% of rows, and ``notes`` holds sentences from presidio-evaluator's
PresidioSentenceFaker, which labels its spans. Decoy columns (an ID, an amount,
a 10-digit order number and phone-shaped product codes) hold no personal data.

Gold labels are kept for the entity types auditor reports; spans of other types
the sentence faker produces (organisations, titles, ages, ZIP codes, plain dates
in sentences) are "neutral": a prediction overlapping one counts as neither a
hit nor a false positive.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd

LOCATION_TYPES = {"LOCATION", "GPE", "STREET_ADDRESS", "ADDRESS"}
TARGET = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "NRP": "NRP",
    **dict.fromkeys(LOCATION_TYPES, "LOCATION"),
}
COMMENTS = [
    "Order shipped on time.",
    "Customer satisfied with the delivery.",
    "Replacement part sent.",
    "Invoice paid in full.",
    "Asked for a paper receipt.",
    "Delivery left with the concierge.",
    "Return window explained.",
    "No further action needed.",
]


@dataclass(frozen=True)
class Gold:
    row: int
    column: str
    start: int
    end: int
    entity: str  # a TARGET value, or "NEUTRAL"


def _sentences(count: int, seed: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    import logging

    from presidio_evaluator.data_generator import PresidioSentenceFaker
    from presidio_evaluator.data_generator.faker_extensions.providers import HospitalProvider

    # Offline: without a hospitals file the provider queries WikiData, and falls back to its
    # built-in list when that fails. Go straight to the built-in list.
    HospitalProvider.load_wiki_hospitals = lambda self: list(self.default_list)  # type: ignore[method-assign]
    logging.getLogger("presidio-evaluator").setLevel(logging.ERROR)
    random.seed(seed)  # the record loader draws middle initials before the faker seeds itself
    faker = PresidioSentenceFaker("en_US", lower_case_ratio=0.0, random_seed=seed)
    out = []
    for sample in faker.generate_new_fake_sentences(num_samples=count):
        spans = [(s.start_position, s.end_position, TARGET.get(s.entity_type, "NEUTRAL")) for s in sample.spans]
        out.append((sample.full_text, spans))
    return out


def generate(rows: int, seed: int = 11, sentence_pool: int | None = None) -> tuple[pd.DataFrame, list[Gold]]:
    """The table and its gold spans. ``sentence_pool`` caps distinct notes (for million-row speed runs)."""
    from faker import Faker

    fake = Faker(["en_US", "en_GB"])
    Faker.seed(seed)
    rng = random.Random(seed)
    sentences = _sentences(sentence_pool or rows, seed)
    records: list[dict[str, object]] = []
    gold: list[Gold] = []
    for i in range(rows):
        record: dict[str, object] = {
            "customer_id": f"CUS-{10_000_000 + i}",
            "full_name": fake.name(),
            "email": fake.email(),
            "phone": fake.phone_number(),
            "street_address": fake.street_address().replace("\n", ", "),
            "city": fake.city(),
            "date_of_birth": fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
            "iban": fake.iban() if rng.random() < 0.4 else "",
            "card_number": fake.credit_card_number() if rng.random() < 0.4 else "",
            "ip_address": fake.ipv4() if rng.random() < 0.8 else fake.ipv6(),
            "amount": round(rng.lognormvariate(4, 1), 2),
            "order_id": str(rng.randint(1_000_000_000, 9_999_999_999)),
            "product_code": f"{rng.randint(200, 999)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
            "status": rng.choice(["active", "closed", "pending", "refunded"]),
        }
        comment = rng.choice(COMMENTS)
        if rng.random() < 0.02:
            address = fake.email()
            comment = f"{comment} Please reply to {address} instead."
            start = comment.index(address)
            gold.append(Gold(i, "comment", start, start + len(address), "EMAIL_ADDRESS"))
        record["comment"] = comment
        text, spans = sentences[i % len(sentences)]
        record["notes"] = text
        gold += [Gold(i, "notes", s, e, entity) for s, e, entity in spans]
        for column, entity in (
            ("full_name", "PERSON"),
            ("email", "EMAIL_ADDRESS"),
            ("phone", "PHONE_NUMBER"),
            ("street_address", "LOCATION"),
            ("city", "LOCATION"),
            ("date_of_birth", "DATE_TIME"),
            ("iban", "IBAN_CODE"),
            ("card_number", "CREDIT_CARD"),
            ("ip_address", "IP_ADDRESS"),
        ):
            value = str(record[column])
            if value:
                gold.append(Gold(i, column, 0, len(value), entity))
        records.append(record)
    return pd.DataFrame.from_records(records), gold
