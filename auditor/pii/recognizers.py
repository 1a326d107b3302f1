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


def first_words(terms: Iterable[str]) -> frozenset[str] | None:
    """The lower-case first words of a term list: its recognizer can only match where one of them is. None
    when a term has no word character to look for (the recognizer then always runs)."""
    firsts = [_WORDS.findall(term) for term in terms]
    return None if any(not words for words in firsts) else frozenset(words[0].lower() for words in firsts)


@dataclass(frozen=True)
class RecognizerSet:
    fast: tuple[FastRecognizer, ...]
    terms: tuple[FastRecognizer, ...]
    free_text: tuple[FastRecognizer, ...]
    term_words: tuple[frozenset[str] | None, ...]  # first_words of each term list, in the order of ``terms``

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
            for recognizer, first in zip(self.terms, self.term_words, strict=True):
                if first is None or not words.isdisjoint(first):
                    spans += recognizer.find(text, False)
        return spans

    @cached_property
    def _gated(self) -> tuple[tuple[FastRecognizer, re.Pattern[str]], ...]:
        usable = (r for r in self.fast + self.free_text if not (r.needs_context and not r.context_words))
        return tuple((r, re.compile(r.gate)) for r in usable)


@lru_cache(maxsize=8)
def recognizers(settings: EngineSettings) -> RecognizerSet:
    selected = set(settings.entities)
    lists = [(entity, words, False) for entity, words in settings.deny_lists]
    if "NRP" in selected:
        lists.append(("NRP", tuple(DEMONYMS), True))
    terms = tuple(term_recognizer(entity, words, plurals) for entity, words, plurals in lists)
    fast = [r for r in FAST_RECOGNIZERS if r.entity in selected]
    fast += [custom_recognizer(entity, pattern, score) for _, entity, pattern, score, _ in settings.custom]
    free_text = tuple(r for r in FREE_TEXT_RECOGNIZERS if r.entity in selected)
    return RecognizerSet(tuple(fast), terms, free_text, tuple(first_words(words) for _, words, _ in lists))
