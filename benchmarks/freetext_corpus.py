"""A labelled multilingual free-text corpus for the scanner (issue 15), built with presidio-evaluator's generator.

The sentence templates below are this project's own (support, HR, health, travel, billing), none of them from
presidio-evaluator's templates file or from examples/. The people behind them come from Faker in thirteen locales
(German, French, Czech, Swedish, Danish, Norwegian, Polish, Dutch, Finnish, Italian, Spanish, British and US
English), so names, streets and towns are non-English; presidio-evaluator's ``PresidioSentenceFaker`` fills each
template from one person and labels every span. Five per cent of names start in lower case, the generator's
default (chat text is not always capitalised).

Templates alternate between two halves: ``split="dev"`` (even lines) is what the recognizers were tuned on,
``split="test"`` (odd lines, a different seed) is what docs/benchmarks.md reports, so the reported figures are on
sentence shapes the tuning never saw.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass

LOCALES = (
    "de_DE",
    "fr_FR",
    "cs_CZ",
    "sv_SE",
    "da_DK",
    "no_NO",
    "pl_PL",
    "nl_NL",
    "fi_FI",
    "it_IT",
    "es_ES",
    "en_GB",
    "en_US",
)
TEMPLATES = (
    "Hi, this is {{first_name}} {{last_name}} from {{city}}, my parcel never arrived.",
    "Please send the replacement to {{address}} and not to my old flat.",
    "My colleague {{person}} asked me to forward this ticket to you.",
    "Can you update my phone number to {{phone_number}}? The old one no longer works.",
    "I moved from {{city}} to {{country}} last spring and need a new contract.",
    "Refund the deposit to {{iban}}, account holder {{person}}.",
    "Patient {{person}}, born on {{date_of_birth}}, was referred by the clinic in {{city}}.",
    "Dear {{first_name}}, thank you for your patience while we looked into the invoice.",
    "The courier left the box with {{first_name}} at {{street_name}} {{building_number}}, {{postcode}} {{city}}.",
    "Contact {{email}} if the meeting with {{person}} has to move.",
    "Our new hire {{person}} starts on Monday in the {{city}} office as {{job}}.",
    "{{last_name}} called twice about the broken heater, callback on {{phone_number}}.",
    "Date of birth: {{date_of_birth}}. Name: {{person}}. Address: {{address}}.",
    "I am writing on behalf of my mother, {{person}}, who cannot use the app.",
    "Ship it to {{person}}, {{address}}, and mark it fragile.",
    "We met {{first_name}} and {{first_name}} at the trade fair in {{city}}.",
    "Mr {{last_name}} disputes the charge; his card ends differently and he lives in {{city}}.",
    "Please cancel the subscription for {{email}} at the end of the month.",
    "Greetings from {{city}}! {{first_name}} says the hotel lost our booking.",
    "The form lists {{person}} as emergency contact, reachable at {{phone_number}}.",
    "Our records show {{first_name}} {{last_name}} was born {{date_of_birth}} in {{country}}.",
    "Invoice 4471 was addressed to {{street_name}} {{building_number}} instead of our office.",
    "Best regards, {{person}}",
    "Thanks a lot, {{first_name}}",
    "I spoke with {{person}} from {{organization}} about the delay.",
    "Book two seats from {{city}} to {{city}} for me and {{first_name}}.",
    "Transfer the salary of {{person}} to account {{iban}} from next month.",
    "{{person}} ({{email}}) reported the outage at 9am.",
    "Could {{first_name}} {{last_name}} please confirm the appointment on Friday?",
    "My address changed to {{address}}; please update the delivery profile.",
    "The tenant, {{person}}, says the landlord in {{city}} kept the deposit.",
    "Kind regards,\n{{first_name}} {{last_name}}\n{{phone_number}}",
    "Hello support, I'm {{first_name}}, the order is under my husband's name, {{person}}.",
    "She grew up near {{city}} and now lives in {{country}}.",
    "Send the documents by post to {{address}}, attention {{last_name}}.",
    "Born {{date_of_birth}}, {{person}} is the policy holder.",
    "Ask {{first_name}} in accounting; she handled the refund for {{person}}.",
    "We could not reach {{person}} on {{phone_number}} or at {{email}}.",
    "The package for {{last_name}} is waiting at the depot in {{city}}.",
    "This is {{person}} again, still no answer about my claim.",
    "Our team in {{city}} will visit {{person}} at {{address}} on Tuesday.",
    "{{first_name}} wants the receipts emailed to {{email}} every month.",
    "Please register {{person}}, date of birth {{date_of_birth}}, for the course.",
    "Is {{first_name}} {{last_name}} still the contact for the account in {{city}}?",
    "The driver could not find {{street_name}} {{building_number}} in {{city}}.",
    "Cheers, {{first_name}} (sent from my phone)",
    "I'm travelling to {{country}} with {{person}} and need both tickets changed.",
    "Reminder: {{person}} owes the rent for the flat at {{address}}.",
    # Traps: no personal data, but capitalised words, numbers and organisations where names and places go.
    "The update to Version 2 broke printing on Windows 10 in Room 4.",
    "Our Support Team in Customer Care forwarded ticket 5521 to Billing on Monday.",
    "I bought the Galaxy Note at {{organization}} and the Apple Watch from the online store.",
    "Please call back after Easter; the Head Office closes at 5 on Friday.",
    "Gate 12 at Terminal 2 was closed, so we flew from the other airport.",
    "The Premium Plan costs 49 euros per month since the March Update.",
    "Chapter 7 of the Employee Handbook covers the Christmas Party budget.",
    "Dear Sir or Madam, the Order Number on Invoice 88213 is wrong.",
)
TARGET = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "IBAN_CODE": "IBAN_CODE",
    "DATE_TIME": "DATE_TIME",  # every date in the templates is a date of birth
    "GPE": "LOCATION",
    "STREET_ADDRESS": "LOCATION",
}  # anything else (organisation, job title) is neutral


@dataclass(frozen=True)
class Labelled:
    text: str
    spans: tuple[tuple[int, int, str], ...]  # start, end, TARGET value or "NEUTRAL"


def _people(count: int, seed: int) -> list[dict[str, str]]:
    from faker import Faker

    rng = random.Random(seed)
    fakers = {locale: Faker(locale) for locale in LOCALES}
    for i, fake in enumerate(fakers.values()):
        fake.seed_instance(seed * 100 + i)
    people = []
    for _ in range(count):
        fake = fakers[rng.choice(LOCALES)]
        first, last = fake.first_name(), fake.last_name()
        user = f"{first}.{last}".lower().replace(" ", "")
        people.append(
            {
                "person": f"{first} {last}",
                "name": f"{first} {last}",
                "first_name": first,
                "last_name": last,
                "city": fake.city(),
                "address": fake.address().replace("\n", ", "),
                "street_name": fake.street_name(),
                "building_number": fake.building_number(),
                "postcode": fake.postcode(),
                "country": fake.current_country() if rng.random() < 0.5 else fake.country(),
                "email": f"{user}@{fake.free_email_domain()}",
                "phone_number": fake.phone_number(),
                "iban": fake.iban(),
                "date_of_birth": fake.date_of_birth(minimum_age=18, maximum_age=90).strftime(
                    rng.choice(["%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d", "%d %B %Y", "%B %d, %Y"])
                ),
            }
        )
    return people


def _fakenamegenerator_people(seed: int) -> list[dict[str, str]]:
    """presidio-evaluator's own 3,000 people from FakeNameGenerator.com (Czech, French, German, Nordic, Dutch,
    Italian, Polish, Hungarian and other name sets): names and streets from a source other than Faker, whose
    given-name lists the scanner's gazetteer is built from."""
    from faker import Faker
    from presidio_evaluator.data_generator.faker_extensions.datasets import load_fake_person_df

    fake = Faker("en_GB")
    fake.seed_instance(seed)
    random.seed(seed)  # the loader draws middle initials from the module's random
    people = []
    for row in load_fake_person_df().to_dict(orient="records"):
        street = str(row["street_name"])
        split = re.match(r"^(.*\D)\s+(\d+\w*)$", street) or re.match(r"^(\d+\w*)\s+(.*)$", street)
        name, number = (split.group(1), split.group(2)) if split and not split.group(1)[0].isdigit() else (street, "")
        people.append(
            {
                "person": str(row["person"]),
                "name": str(row["person"]),
                "first_name": str(row["first_name"]),
                "last_name": str(row["last_name"]),
                "city": str(row["city"]),
                "address": f"{street}, {row['zipcode']} {row['city']}",
                "street_name": name if number else street,
                "building_number": number or str(fake.building_number()),
                "postcode": str(row["zipcode"]),
                "country": str(row["country"]),
                "email": str(row["email"]),
                "phone_number": str(row["phone_number"]),
                "iban": fake.iban(),
                "date_of_birth": str(row["date_of_birth"]),
            }
        )
    return people


def corpus(count: int, seed: int, split: str = "test", people: str = "faker") -> list[Labelled]:
    """``count`` labelled texts from one half of the templates (``dev`` or ``test``), with people from Faker's
    thirteen locales (``faker``) or from FakeNameGenerator.com (``fakenamegenerator``)."""
    from faker.providers import BaseProvider
    from presidio_evaluator.data_generator import PresidioSentenceFaker
    from presidio_evaluator.data_generator.faker_extensions import providers

    logging.getLogger("presidio-evaluator").setLevel(logging.ERROR)
    templates = [t for i, t in enumerate(TEMPLATES) if i % 2 == (0 if split == "dev" else 1)]
    extra: list[type[BaseProvider]] = [providers.OrganizationProvider]  # the hospital provider queries WikiData
    faker = PresidioSentenceFaker(
        "en_GB",
        lower_case_ratio=0.05,
        sentence_templates=templates,
        entity_providers=extra,  # type: ignore[arg-type]
        base_records=_people(max(count, 200), seed) if people == "faker" else _fakenamegenerator_people(seed),
        random_seed=seed,
    )
    out = []
    for sample in faker.generate_new_fake_sentences(num_samples=count):
        spans = tuple(
            (s.start_position, s.end_position, TARGET.get(s.entity_type, "NEUTRAL"))
            for s in sorted(sample.spans, key=lambda s: s.start_position)
        )
        out.append(Labelled(sample.full_text, spans))
    return out
