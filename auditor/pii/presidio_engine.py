"""Presidio, configured offline, and the batch functions that workers run.

Everything a worker needs travels in ``EngineSettings`` (plain, hashable
data), so the same functions run in-process, in a process pool or on a
dask.distributed worker and give identical results.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from auditor.config import PiiConfig
from auditor.errors import InputError
from auditor.pii import gazetteer
from auditor.pii.domains import install_offline_extractor
from auditor.pii.entities import DEFAULT_ENTITIES, SPECIAL_CATEGORY_TERMS
from auditor.pii.fast import Span
from auditor.pii.recognizers import recognizers

NER_ENTITIES = ("PERSON", "LOCATION", "NRP")
ENHANCED = "is_score_enhanced_by_context"  # RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY
GAZETTEER_ENTITIES = frozenset({"PERSON", "LOCATION"})  # auditor/pii/gazetteer.py
# Only spaCy's NER is needed. In en_core_web_sm the NER has its own embedded
# tok2vec (the shared one feeds only the tagger and parser), so every other pipe
# can go: NER alone runs twice as fast with the same entities. Presidio's context
# boost is re-implemented on lower-cased words (_Context), so no lemmas are needed.
KEEP_PIPES = ("ner",)
_DIGIT_ENTITIES = frozenset(
    {
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "US_SSN",
        "IBAN_CODE",
        "UK_NHS",
        "US_PASSPORT",
        "MEDICAL_LICENSE",
        "US_BANK_NUMBER",
        "US_DRIVER_LICENSE",
        "US_ITIN",
    }
)
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"\w+")
# Presidio's pattern recognizers need at least these shapes (their own patterns, loosened): skip them elsewhere.
_SHAPE_GATES = {
    "UK_NHS": re.compile(r"\d{3}[ -]?\d{3}[ -]?\d{4}"),
    "US_PASSPORT": re.compile(r"\d{8}"),
    "MEDICAL_LICENSE": re.compile(r"\d{7}"),
    "CRYPTO": re.compile(r"[A-Za-z0-9]{26}"),
}
_DURATION = re.compile(r"^\d+(\.\d+)?\s*(years?|yrs?|months?|weeks?|days?|hours?|minutes?)$", re.IGNORECASE)
_NUMBER = re.compile(r"^[\d\s.,]+$")
_BIRTH = re.compile(r"\b(born|birth|dob|birthday|birthdate)\b", re.IGNORECASE)


@dataclass(frozen=True)
class EngineSettings:
    spacy_model: str
    score_threshold: float
    entities: tuple[str, ...]
    allow_list: tuple[str, ...]
    deny_lists: tuple[tuple[str, tuple[str, ...]], ...]
    custom: tuple[tuple[str, str, str, float, tuple[str, ...]], ...]

    @classmethod
    def from_config(cls, config: PiiConfig) -> EngineSettings:
        deny = {**{k: list(v) for k, v in SPECIAL_CATEGORY_TERMS.items()}}
        for entity, terms in config.deny_lists.items():
            deny.setdefault(entity, []).extend(terms)
        # An explicit pii.entities list is the selection (plus the user's own deny lists and
        # recognizers); by default the special-category lists run too, for the Art. 9 review.
        configured = set(config.deny_lists) | {c.entity for c in config.custom_recognizers}
        if config.entities:
            entities: tuple[str, ...] = tuple(config.entities)
            extra = tuple(sorted(configured))
        else:
            entities = DEFAULT_ENTITIES
            extra = tuple(sorted(set(deny) | configured))
        return cls(
            spacy_model=config.spacy_model,
            score_threshold=config.score_threshold,
            entities=tuple(dict.fromkeys(entities + extra)),
            allow_list=tuple(config.allow_list),
            deny_lists=tuple((k, tuple(v)) for k, v in sorted(deny.items())),
            custom=tuple((c.name, c.entity, c.pattern, c.score, tuple(c.context)) for c in config.custom_recognizers),
        )


def check_model_installed(name: str) -> None:
    """Presidio would try to download a missing model; refuse instead, with a clear line."""
    import spacy.util

    if not spacy.util.is_package(name):
        raise InputError(f"spaCy model {name!r} is not installed (pii.spacy_model); auditor never downloads models")


@lru_cache(maxsize=4)
def get_analyzer(settings: EngineSettings) -> Any:
    """Build (once per process) an AnalyzerEngine on the configured spaCy package."""
    install_offline_extractor()
    for name in ("presidio-analyzer", "presidio_analyzer"):
        logging.getLogger(name).setLevel(logging.ERROR)
    check_model_installed(settings.spacy_model)
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": settings.spacy_model}],
        }
    )
    nlp_engine: Any = provider.create_engine()
    for pipeline in nlp_engine.nlp.values():
        for pipe in list(pipeline.pipe_names):
            if pipe not in KEEP_PIPES:
                pipeline.disable_pipe(pipe)
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
    for entity, terms in settings.deny_lists:
        analyzer.registry.add_recognizer(
            PatternRecognizer(supported_entity=entity, deny_list=list(terms), name=f"deny_{entity.lower()}")
        )
    for name, entity, pattern, score, context in settings.custom:
        analyzer.registry.add_recognizer(
            PatternRecognizer(
                supported_entity=entity, name=name, patterns=[Pattern(name, pattern, score)], context=list(context)
            )
        )
    return analyzer


# Entities the scanner's checksummed fast recognizers already find in free text; asking
# Presidio for them too would run its slowest recognizers (phonenumbers) for nothing.
FAST_COVERED = frozenset({"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN", "URL"})


def presidio_entities(settings: EngineSettings) -> tuple[str, ...]:
    """What only Presidio provides: NER, and pattern recognizers the scanner has no fast twin for.
    Deny lists and custom regexes run as the scanner's own term and pattern recognizers."""
    covered = FAST_COVERED | {entity for entity, _ in settings.deny_lists} | {c[1] for c in settings.custom}
    return tuple(e for e in settings.entities if e not in covered or e in NER_ENTITIES)


def _entities_for(text: str, selected: tuple[str, ...]) -> list[str]:
    """Skip recognizers that cannot match, or whose matches _keep would drop: no digits means no passport,
    licence or NHS number; no birth cue, no date."""
    digits = len(_DIGIT.findall(text))
    wanted = []
    for entity in selected:
        if entity in _DIGIT_ENTITIES and digits < 6:
            continue
        shape = _SHAPE_GATES.get(entity)
        if shape is not None and not shape.search(text):
            continue
        if entity == "EMAIL_ADDRESS" and "@" not in text:
            continue
        if entity == "IP_ADDRESS" and not (digits >= 4 and "." in text) and text.count(":") < 2:
            continue
        if entity == "URL" and "." not in text:
            continue
        if entity == "DATE_TIME" and not _BIRTH.search(text):  # _keep drops dates without a birth cue
            continue
        wanted.append(entity)
    return wanted


def _keep(entity: str, matched: str, text: str) -> bool:
    """Drop Presidio's best-known false positives.

    A name or a place that is one common English word (auditor/pii/data/common.txt.gz) is not one.

    A date in free text ("last three months", "2015", "8 years") is personal data
    only as a date of birth, so DATE_TIME needs a birth cue in the same text.
    """
    if entity in GAZETTEER_ENTITIES:  # spaCy's small model takes "Madam" or "Easter" for a person
        return matched.lower() not in gazetteer.common_words()
    if entity != "DATE_TIME":
        return True
    if _DURATION.match(matched) or _NUMBER.match(matched):
        return False
    return bool(_BIRTH.search(text))


# spaCy's memory grows with the length of one text (about 1 GB per 100,000 characters with the parser), so a long
# cell is analysed in windows of at most WINDOW_CHARS, cut at whitespace and overlapping by WINDOW_OVERLAP so a
# span on a cut is still seen whole in one window (docs/security.md, resource limits).
WINDOW_CHARS = 10_000
WINDOW_OVERLAP = 200


def windows(text: str) -> list[tuple[int, str]]:
    """``(offset, piece)`` pairs covering ``text``: one when it is short."""
    if len(text) <= WINDOW_CHARS:
        return [(0, text)]
    pieces, start = [], 0
    while start < len(text):
        end = min(start + WINDOW_CHARS, len(text))
        if end < len(text):
            cut = text.rfind(" ", start + WINDOW_CHARS // 2, end)
            end = cut if cut > start else end
        pieces.append((start, text[start:end]))
        if end >= len(text):
            break
        start = max(end - WINDOW_OVERLAP, start + 1)
    return pieces


def _groups(texts: list[str], max_items: int = 128, max_chars: int = 100_000) -> Iterator[list[str]]:
    """Batches for spaCy bounded in count and in characters, which is what its memory follows."""
    group: list[str] = []
    chars = 0
    for text in texts:
        if group and (len(group) >= max_items or chars + len(text) > max_chars):
            yield group
            group, chars = [], 0
        group.append(text)
        chars += len(text)
    if group:
        yield group


def analyze_texts(settings: EngineSettings, texts: list[str], context: tuple[str, ...]) -> list[list[Span]]:
    """Every recognizer on each text (auditor's own, the gazetteers, Presidio's pattern recognizers and, where
    needed, spaCy's NER), long texts in windows."""
    pieces = [(index, offset, piece) for index, text in enumerate(texts) for offset, piece in windows(text)]
    found = _analyze_pieces(settings, [piece for _, _, piece in pieces], context)
    merged: list[set[Span]] = [set() for _ in texts]
    for (index, offset, _), spans in zip(pieces, found, strict=True):
        merged[index].update(Span(s.entity, s.start + offset, s.end + offset, s.score) for s in spans)
    return [sorted(spans, key=lambda s: (s.start, s.end, s.entity)) for spans in merged]


@lru_cache(maxsize=4)
def english_words(analyzer: Any) -> frozenset[str]:
    """The lemmas of the spaCy model's lemmatizer tables (WordNet's nouns, verbs, adjectives and adverbs), lower
    case. Proper nouns are among them, so this only tells whether a sentence's first word may be ordinary."""
    try:
        index = analyzer.nlp_engine.nlp["en"].get_pipe("lemmatizer").lookups.get_table("lemma_index")
    except (KeyError, AttributeError, ValueError):  # a model without a rule lemmatizer
        return frozenset()
    return frozenset(word for part in index for word in index[part] if word.isalpha())


def _docs(analyzer: Any, texts: list[str], need_ner: list[bool]) -> Iterator[Any]:
    """spaCy docs in order for the texts that need NER (in bounded batches), None for the rest."""
    nlp = analyzer.nlp_engine.nlp["en"]
    wanted = [text for text, need in zip(texts, need_ner, strict=True) if need]
    tagged = (doc for group in _groups(wanted) for doc in nlp.pipe(group, batch_size=len(group)))
    for need in need_ner:
        yield next(tagged) if need else None


@dataclass(frozen=True)
class _Context:
    """Presidio's context enhancement (LemmaContextAwareEnhancer's defaults), applied without spaCy: a
    recognizer's context word found in one of the five words before a match that are not stop words (lower
    case, where Presidio reads lemmas), or in the column name, adds 0.35 to the match's score (at least 0.4, at
    most 1.0). Substring matching, as Presidio's."""

    external: tuple[str, ...]
    boost: float = 0.35
    floor: float = 0.4
    words_before: int = 5

    def score(self, text: str, start: int, score: float, context: list[str]) -> float:
        stop = _stop_words()
        before = [w.lower() for w in _WORD.findall(text[max(0, start - 120) : start])]
        words = [w for w in before if w not in stop][-self.words_before :] + [w.lower() for w in self.external]
        if any(word.lower() in candidate for word in context for candidate in words):
            return min(max(score + self.boost, self.floor), 1.0)
        return score


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


@lru_cache(maxsize=8)
def _recognizers(settings: EngineSettings, entities: tuple[str, ...]) -> tuple[Any, ...]:
    """Presidio's pattern recognizers for ``entities`` (its NER recognizer is replaced by ``_ner_spans``)."""
    analyzer = get_analyzer(settings)
    found = analyzer.registry.get_recognizers(language="en", entities=list(entities))
    return tuple(r for r in found if type(r).__name__ != "SpacyRecognizer")


def _ner_spans(analyzer: Any, doc: Any, wanted: frozenset[str]) -> list[Span]:
    """spaCy's entities mapped to Presidio's entity names and score, as Presidio's SpacyRecognizer does."""
    config = analyzer.nlp_engine.ner_model_configuration
    spans = []
    for ent in doc.ents:
        entity = config.model_to_presidio_entity_mapping.get(ent.label_)
        if entity in wanted and ent.label_ not in config.labels_to_ignore:
            score = config.default_score
            if entity in config.low_score_entity_names:
                score *= config.low_confidence_score_multiplier
            spans.append(Span(entity, ent.start_char, ent.end_char, float(score)))
    return spans


def _analyze_pieces(settings: EngineSettings, texts: list[str], context: tuple[str, ...]) -> list[list[Span]]:
    analyzer = get_analyzer(settings)
    wanted_entities = presidio_entities(settings)
    ner_wanted = frozenset(e for e in wanted_entities if e in NER_ENTITIES or e == "DATE_TIME")
    patterns_wanted = tuple(e for e in wanted_entities if e not in NER_ENTITIES)
    presidio_recognizers = _recognizers(settings, patterns_wanted) if patterns_wanted else ()
    enhancer = _Context(context)
    listed = frozenset(settings.entities) & GAZETTEER_ENTITIES
    own = recognizers(settings)
    english = english_words(analyzer)
    words = [gazetteer.words_of(text) for text in texts]
    listed_spans = [
        own.text_spans(text) + (gazetteer.find(text, listed, found, english) if listed else [])
        for text, found in zip(texts, words, strict=True)
    ]
    # The NER cascade: spaCy's NER (most of the cost) runs only where a capitalised word is left that neither a
    # gazetteer span, one of auditor's own recognizers nor the common-word list explains; elsewhere it would add
    # nothing.
    need_ner = [
        bool(ner_wanted) and gazetteer.unexplained(text, spans, english, found)
        for text, spans, found in zip(texts, listed_spans, words, strict=True)
    ]
    results: list[list[Span]] = []
    for text, doc, found in zip(texts, _docs(analyzer, texts, need_ner), listed_spans, strict=True):
        spans = list(found)
        candidates = _ner_spans(analyzer, doc, ner_wanted) if doc is not None and doc.ents else []
        wanted = set(_entities_for(text, patterns_wanted))
        for recognizer in presidio_recognizers:
            supported = [e for e in recognizer.supported_entities if e in wanted]
            if not supported:
                continue
            for r in recognizer.analyze(text, supported, None):
                score = float(r.score)
                if recognizer.context and not (r.recognition_metadata or {}).get(ENHANCED):
                    score = enhancer.score(text, r.start, score, recognizer.context)
                candidates.append(Span(r.entity_type, r.start, r.end, score))
        for span in candidates:
            matched = text[span.start : span.end]
            allowed = matched not in settings.allow_list and _keep(span.entity, matched, text)
            if span.score >= settings.score_threshold and allowed:
                spans.append(span)
        results.append(spans)
    return results


def ner_coverage(settings: EngineSettings, values: list[str]) -> dict[str, float]:
    """Share of values that an NER entity covers for at least half their length (column-level evidence)."""
    if not values:
        return {}
    analyzer = get_analyzer(settings)
    hits: dict[str, int] = {}
    wanted = [e for e in NER_ENTITIES if e in settings.entities]
    clipped = [value[:WINDOW_CHARS] for value in values]  # coverage of a value: its start is enough
    for text, nlp_artifacts in analyzer.nlp_engine.process_batch(clipped, language="en", batch_size=128):
        covered: dict[str, int] = {}
        for r in analyzer.analyze(text, language="en", entities=wanted, nlp_artifacts=nlp_artifacts):
            covered[r.entity_type] = covered.get(r.entity_type, 0) + (r.end - r.start)
        for entity, chars in covered.items():
            if chars * 2 >= len(text.strip()):
                hits[entity] = hits.get(entity, 0) + 1
    return {entity: count / len(values) for entity, count in hits.items()}
