"""Given names and place names in free text, from gazetteers that ship with auditor (tools/build_gazetteers.py).

spaCy's small English model misses or mislabels many European names and towns ("Lothar Lachmann" and
"Karlstad" come out as organisations). These recognizers add what the lists know:

- PERSON: a capitalised given name, with the capitalised words that follow it (surnames, a second given name,
  particles such as "van der" or "de la" between them).
- LOCATION: a capitalised run of words that is a place name. Countries, US states and places of 15,000 or more
  people count anywhere; smaller places only after a locative word ("in", "from", "to", "near", ...) or a postcode,
  since many villages share their name with an ordinary word or a surname.

Common English words (common.txt.gz) are never a name. Matching is case-sensitive and needs no NLP model.
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from importlib.resources import files

from auditor.pii.fast import Span

PERSON_SCORE = 0.8
PLACE_SCORE = 0.8
MAX_PLACE_WORDS = 5
MAX_NAME_WORDS = 4
PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "du",
        "des",
        "la",
        "le",
        "da",
        "di",
        "del",
        "della",
        "dos",
        "das",
        "do",
        "ten",
        "ter",
        "af",
        "zu",
        "vom",
        "y",
        "bin",
        "ibn",
        "al",
        "el",
        "ben",
    ]
)
LOCATIVE = frozenset(
    [
        "in",
        "from",
        "to",
        "near",
        "at",
        "around",
        "outside",
        "via",
        "into",
        "towards",
        "toward",
        "visit",
        "visiting",
        "visited",
        "live",
        "lives",
        "lived",
        "moved",
        "move",
        "based",
        "born",
        "reside",
        "resides",
        "residing",
        "of",
    ]
)
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W_])?")
_POSTCODE_BEFORE = re.compile(r"(?:\d{4,5}|\d{3}\s\d{2}|\d{2}-\d{3}|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})\s*$")


def _read(name: str) -> list[str]:
    data = files("auditor.pii").joinpath(f"data/{name}").read_bytes()
    return gzip.decompress(data).decode("utf-8").splitlines()


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    return frozenset(_read("given_names.txt.gz"))


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    return frozenset(_read("common.txt.gz"))


@lru_cache(maxsize=1)
def places() -> dict[str, bool]:
    """Place name -> whether it is major (counts without a locative word before it)."""
    out = {}
    for line in _read("places.txt.gz"):
        name, _, mark = line.partition("\t")
        out[name] = mark == "M"
    return out


def _capitalised(word: str) -> bool:
    return word[0].isupper() and not (len(word) > 1 and word.isupper())


def _words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def _joined(text: str, words: list[tuple[int, int, str]], i: int) -> bool:
    """Whether word i follows word i-1 with only a space or a hyphen between them."""
    gap = text[words[i - 1][1] : words[i][0]]
    return gap in (" ", "-")


def find_people(text: str) -> list[Span]:
    names, common = given_names(), common_words()
    words = _words(text)
    spans: list[Span] = []
    i = 0
    while i < len(words):
        start, _end, word = words[i]
        if not (_capitalised(word) and word in names and word.lower() not in common):
            i += 1
            continue
        j, last = i + 1, i
        while j < len(words) and j - i < MAX_NAME_WORDS + 2 and _joined(text, words, j):
            following = words[j][2]
            if following in PARTICLES:
                j += 1
                continue
            if _capitalised(following) and following.lower() not in common:
                last = j
                j += 1
                continue
            break
        spans.append(Span("PERSON", start, words[last][1], PERSON_SCORE))
        i = last + 1
    return spans


def find_places(text: str) -> list[Span]:
    known, common = places(), common_words()
    words = _words(text)
    spans: list[Span] = []
    i = 0
    while i < len(words):
        start, _, word = words[i]
        if not (_capitalised(word) or word.isupper()) or word.lower() in common:
            i += 1
            continue
        matched = 0
        for n in range(min(MAX_PLACE_WORDS, len(words) - i), 0, -1):
            if n > 1 and not all(_joined(text, words, k) for k in range(i + 1, i + n)):
                continue
            name = text[start : words[i + n - 1][1]]
            major = known.get(name.title() if name.isupper() else name)  # "BERGEN", as addresses are written
            if major is None:
                continue
            before = words[i - 1][2].lower() if i else ""
            if major or before in LOCATIVE or _POSTCODE_BEFORE.search(text[:start]):
                matched = n
                break
        if matched:
            spans.append(Span("LOCATION", start, words[i + matched - 1][1], PLACE_SCORE))
            i += matched
        else:
            i += 1
    return spans


_SENTENCE_END = frozenset(".!?:;\n")


def _english(word: str, english: frozenset[str]) -> bool:
    lower = word.lower()
    stems = (lower, lower[:-1] if lower.endswith("s") else "", lower[:-2] if lower.endswith("es") else "")
    return any(stem in english for stem in stems if stem)


def unexplained(text: str, found: list[Span], english: frozenset[str] = frozenset()) -> bool:
    """Whether ``text`` has a word an NER model could still take for a name, a place or an organisation: a
    capitalised word outside ``found`` that is not a common word, nor, at the start of a sentence, an English
    dictionary word (``english``) that is no given name. Words with digits and all-capital words are not."""
    common, names = common_words(), given_names()
    for start, end, word in _words(text):
        if not word[0].isupper() or word.isupper() or word.lower() in common:
            continue
        if any(s.start <= start and end <= s.end for s in found):
            continue
        before = text[:start].rstrip()
        if (not before or before[-1] in _SENTENCE_END) and word not in names and _english(word, english):
            continue
        return True
    return False


def find(text: str, entities: frozenset[str]) -> list[Span]:
    """Gazetteer spans of the selected entities (PERSON, LOCATION) in one text."""
    found = find_people(text) if "PERSON" in entities else []
    return found + find_places(text) if "LOCATION" in entities else found
