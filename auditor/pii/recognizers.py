"""The scanner's own recognizers for one configuration, built the same way in the scanner and in its workers.

``fast``: checksummed and shape recognizers plus the user's custom patterns (structured columns and free text);
``terms``: deny lists and special-category terms; ``free_text``: address, titled-name, date and phone shapes
that only free text gets (auditor/pii/freetext.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from auditor.pii.entities import DEMONYMS
from auditor.pii.fast import FAST_RECOGNIZERS, FastRecognizer, Span
from auditor.pii.freetext import FREE_TEXT_RECOGNIZERS

if TYPE_CHECKING:
    from auditor.pii.presidio_engine import EngineSettings


def _accept(_text: str, _in_context: bool) -> bool:
    return True


def term_recognizer(entity: str, terms: Iterable[str], plurals: bool = False) -> FastRecognizer:
    alternation = "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True))
    suffix = "s?" if plurals else ""
    pattern = rf"(?i)\b(?:{alternation}){suffix}\b"
    return FastRecognizer(entity, pattern, re.compile(pattern), _accept, 1.0)


def custom_recognizer(entity: str, pattern: str, score: float) -> FastRecognizer:
    return FastRecognizer(entity, pattern, re.compile(pattern), _accept, score)


_WORDS = re.compile(r"\w+")


def _first_words(recognizer: FastRecognizer) -> frozenset[str]:
    """The lower-case first words of a term recognizer's terms (its pattern is ``(?i)\\b(?:a|b c|...)...``)."""
    body = recognizer.gate.split("(?:", 1)[1].rsplit(")", 1)[0]
    return frozenset(_WORDS.findall(term.replace("\\", ""))[0].lower() for term in body.split("|"))


@dataclass(frozen=True)
class RecognizerSet:
    fast: tuple[FastRecognizer, ...]
    terms: tuple[FastRecognizer, ...]
    free_text: tuple[FastRecognizer, ...]

    def text_spans(self, text: str) -> list[Span]:
        """Every span these recognizers find in one free text (context from words in the text only). A
        recognizer runs where its gate matches; a term list where one of its first words is in the text."""
        spans: list[Span] = []
        for recognizer, gate in self._gated:
            if gate.search(text):
                spans += recognizer.find(text, False)
        if self.terms:
            words = {w.lower() for w in _WORDS.findall(text)}
            words |= {w[:-1] for w in words if w.endswith("s")}
            for recognizer, first in self._terms:
                if not words.isdisjoint(first):
                    spans += recognizer.find(text, False)
        return spans

    @cached_property
    def _gated(self) -> tuple[tuple[FastRecognizer, re.Pattern[str]], ...]:
        usable = (r for r in self.fast + self.free_text if not (r.needs_context and not r.context_words))
        return tuple((r, re.compile(r.gate)) for r in usable)

    @cached_property
    def _terms(self) -> tuple[tuple[FastRecognizer, frozenset[str]], ...]:
        return tuple((r, _first_words(r)) for r in self.terms)


@lru_cache(maxsize=8)
def recognizers(settings: EngineSettings) -> RecognizerSet:
    selected = set(settings.entities)
    terms = [term_recognizer(entity, words) for entity, words in settings.deny_lists]
    if "NRP" in selected:
        terms.append(term_recognizer("NRP", DEMONYMS, plurals=True))
    fast = [r for r in FAST_RECOGNIZERS if r.entity in selected]
    fast += [custom_recognizer(entity, pattern, score) for _, entity, pattern, score, _ in settings.custom]
    return RecognizerSet(tuple(fast), tuple(terms), tuple(r for r in FREE_TEXT_RECOGNIZERS if r.entity in selected))
