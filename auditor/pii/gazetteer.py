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

Words = list[tuple[int, int, str]]

PERSON_SCORE = 0.8
PLACE_SCORE = 0.8
SHAPED_PLACE_SCORE = 0.6
CUED_PERSON_SCORE = 0.7
PLACE_PREFIXES = frozenset(
    {"North", "South", "East", "West", "New", "Lake", "Port", "Mount", "Fort", "Saint", "San", "Santa", "Bad"}
)
# Endings of town names in English, German, Dutch, the Nordic languages and French.
_PLACE_ENDING = re.compile(
    r"(?:port|fort|mouth|borough|burgh|bury|haven|ville|land|furt|stad|side|ton|view|berg|burg|town|bourg|nec|"
    r"chester|field|ford|ham|wick|dal|by|rup|inge|sted|heim|hausen|dorf)$"
)
MAX_PLACE_WORDS = 5
MAX_NAME_WORDS = 4
PARTICLES = frozenset(
    "van von der den de du des la le da di del della dos das do ten ter af zu vom y bin ibn al el ben".split()  # noqa: SIM905
)
LOCATIVE = frozenset(
    (  # noqa: SIM905
        "in from to near at around outside via into towards toward visit visiting visited live lives lived moved "
        "move based born reside resides residing of"
    ).split()
)
_CONTRACTED = frozenset({"don", "won", "can", "isn", "aren", "didn", "doesn", "let"})  # "Don't", "Can't"
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W_])?")
_POSTCODE_AFTER = re.compile(r",?\s{1,3}(?:[A-Z]{2}\s)?\d{4,6}\b(?!\.\d)(?!\s{0,3}[\d+(])")  # no number right after it
_POSTCODE_BEFORE = re.compile(r"(?:\d{4,5}|\d{3}\s\d{2}|\d{2}-\d{3}|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})\s*$")


def _read(name: str) -> list[str]:
    data = files("auditor.pii").joinpath(f"data/{name}").read_bytes()
    return gzip.decompress(data).decode("utf-8").splitlines()


@lru_cache(maxsize=8)
def _listed(name: str) -> frozenset[str]:
    return frozenset(_read(name))


def given_names() -> frozenset[str]:
    return _listed("given_names.txt.gz")


def common_given() -> frozenset[str]:
    """Given names that are common words too ("Hazel", "June"): names only by context."""
    return _listed("common_given.txt.gz")


def surnames() -> frozenset[str]:
    return _listed("surnames.txt.gz")


def common_words() -> frozenset[str]:
    return _listed("common.txt.gz")


@lru_cache(maxsize=1)
def places() -> dict[str, bool]:
    """Place name -> whether it is major (counts without a locative word before it)."""
    out = {}
    for line in _read("places.txt.gz"):
        name, _, mark = line.partition("\t")
        out[name] = mark == "M"
    return out


def _capitalised(word: str) -> bool:
    """Capitalised, not in capitals, and no contraction of a common word ("I'm", "Don't")."""
    if not word[0].isupper():
        return False
    if "'" in word or "’" in word:
        head = re.split("['’]", word, maxsplit=1)[0].lower()
        if head in common_words() or head in _CONTRACTED:
            return False
    return not (len(word) > 1 and word.isupper())


def _name_word(word: str) -> bool:
    """A word that may continue a name: capitalised, and no common word unless a listed surname ("Young")."""
    return _capitalised(word) and (word.lower() not in common_words() or word in surnames())


def words_of(text: str) -> Words:
    """The words of ``text`` with their offsets, for the functions here to share."""
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def _joined(text: str, words: Words, i: int) -> bool:
    """Whether word i follows word i-1 with only a space or a hyphen between them."""
    gap = text[words[i - 1][1] : words[i][0]]
    return gap in (" ", "-")


def find_people(text: str, words: Words | None = None) -> list[Span]:
    names, common, everyday_names, family = given_names(), common_words(), common_given(), surnames()
    words = words_of(text) if words is None else words
    spans: list[Span] = []
    i = 0
    while i < len(words):
        start, _end, word = words[i]
        if word[0].islower():
            i += 1
            continue
        listed = word in names and word.lower() not in common
        # "Heather Smith": a given name that is a common word too, before a listed surname.
        everyday = word in everyday_names and i + 1 < len(words) and _joined(text, words, i + 1)
        everyday = everyday and words[i + 1][2] in family and _capitalised(words[i + 1][2])
        if not (_capitalised(word) and (listed or everyday)):
            i += 1
            continue
        j, last = i + 1, i
        while j < len(words) and j - i < MAX_NAME_WORDS + 2 and _joined(text, words, j):
            following = words[j][2]
            if following in PARTICLES:
                j += 1
                continue
            if _name_word(following):
                last = j
                j += 1
                continue
            break
        spans.append(Span("PERSON", start, words[last][1], PERSON_SCORE))
        i = last + 1
    return spans


def _shaped_place(text: str, words: Words, i: int) -> int:
    """How many words from i form a place by its shape alone, after a locative word: a town-like ending
    ("Smithport", "Georgemouth", "Declanstad"), a compass or water word before a capitalised name ("East
    Patrikmouth", "Lake Giacobbe"), or a word in capitals ("VEAR"). 0 when none."""
    before = words[i - 1][2].lower() if i else ""
    if before not in LOCATIVE:
        return 0
    word = words[i][2]
    if word in PLACE_PREFIXES and i + 1 < len(words) and _joined(text, words, i + 1):
        following = words[i + 1][2]
        if _capitalised(following) and following.lower() not in common_words():
            return 2
    if len(word) >= 6 and _PLACE_ENDING.search(word) and word not in given_names():
        return 1
    if len(word) >= 4 and word.isupper() and word.isalpha():  # "from IRREWILLIPE", as forms write towns
        return 1
    return 0


def _town_by_postcode(text: str, word: tuple[int, int, str]) -> bool:
    """A word in capitals next to a postcode, as address blocks write the town: "8100 AARHUS", "DENTON, 75162"."""
    start, end, name = word
    if len(name) < 3 or not name.isupper() or not name.isalpha():
        return False
    return bool(_POSTCODE_BEFORE.search(text, 0, start) or _POSTCODE_AFTER.match(text, end))


def find_places(text: str, words: Words | None = None) -> list[Span]:
    known, common = places(), common_words()
    words = words_of(text) if words is None else words
    spans: list[Span] = []
    i = 0
    while i < len(words):
        start, _, word = words[i]
        if not (_capitalised(word) or word.isupper()) or (word.lower() in common and word not in PLACE_PREFIXES):
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
        score = PLACE_SCORE
        if not matched:
            matched, score = _shaped_place(text, words, i), SHAPED_PLACE_SCORE
        if not matched and _town_by_postcode(text, words[i]):
            matched, score = 1, SHAPED_PLACE_SCORE
        if matched:
            end = words[i + matched - 1][1]
            postcode = _POSTCODE_AFTER.match(text, end)  # "Norway 25193", "Spain, 10074": the postcode too
            spans.append(Span("LOCATION", start, postcode.end() if postcode else end, score))
            i += matched
        else:
            i += 1
    return spans


def _english(word: str, english: frozenset[str]) -> bool:
    lower = word.lower()
    stems = (lower, lower[:-1] if lower.endswith("s") else "", lower[:-2] if lower.endswith("es") else "")
    return any(stem in english for stem in stems if stem)


def unexplained(
    text: str, found: list[Span], english: frozenset[str] = frozenset(), words: Words | None = None
) -> bool:
    """Whether ``text`` has a word an NER model could still take for a name, a place or an organisation: a
    capitalised word outside ``found`` that is not a common word, nor an English dictionary word (``english``)
    that is no given name, surname or place. Words with digits and all-capital words are not."""
    common, names, family, known = common_words(), given_names(), surnames(), places()
    for start, end, word in words_of(text) if words is None else words:
        if not _capitalised(word) or word.lower() in common:
            continue
        if any(s.start <= start and end <= s.end for s in found):
            continue
        if word not in names and word not in family and word not in known and _english(word, english):
            continue
        return True
    return False


_GREETING = re.compile(
    r"(?i:\b(?:dear|hi|hello|hey|greetings|thanks|thank you|cheers|regards|best|sincerely|yours|love|"
    r"this is|i am|i'm|my name is|name is|name:|name\?|signed|attn:?|attention)\b)(?:\s+[a-z]+){0,3}[,:!?]?\s+$"
)
_PERSON_VERB = re.compile(
    r"^\s+(?:called|calls|phoned|rang|wants|wanted|says|said|asked|asks|reported|wrote|writes|owes|owed|emailed|"
    r"complained|requested|visited|signed|confirmed|cancelled|canceled|paid|lives|lived|moved)\b"
)
_EMAIL_LOCAL = re.compile(r"([\w.+'-]+)@")


def find_cued_people(text: str, words: Words | None = None, english: frozenset[str] = frozenset()) -> list[Span]:
    """Names by their context rather than a list: after a greeting or sign-off ("Dear Vidica", "Cheers, Nayla",
    "Kind regards,\nHatsuho Yoneda", "This is Calfucir Berrios"), before a verb people do at the start of a
    sentence ("Rintanen called twice"), or a word that is part of an email's local part in the same text
    ("Mineko ... MinekoKimura@..."). A dictionary word (``english``) needs to be a known given name or surname
    ("Thanks, Billing Department" is no name)."""
    common, names, family, everyday = common_words(), given_names(), surnames(), common_given()
    words = words_of(text) if words is None else words
    locals_ = [m.group(1).lower() for m in _EMAIL_LOCAL.finditer(text)]
    spans: list[Span] = []
    i = 0
    while i < len(words):
        start, _, word = words[i]
        if not _capitalised(word) or (word.lower() in common and word not in everyday) or len(word) < 2:
            i += 1
            continue
        if _english(word, english) and not (word in names or word in family or word in everyday):
            i += 1
            continue
        last = i
        while last + 1 < len(words) and last - i < 2 and _joined(text, words, last + 1):
            if not _name_word(words[last + 1][2]):
                break
            last += 1
        stop = words[last][1]
        if text[stop : stop + 1] in ("@", ".") and "@" in text[stop : stop + 40].split(" ")[0]:
            i = last + 1  # a word of an email address itself
            continue
        before = text[max(0, start - 40) : start]
        previous = text[:start].rstrip()
        sentence_start = not previous or previous[-1] in ".!?\n"
        cued = bool(_GREETING.search(before)) or (sentence_start and bool(_PERSON_VERB.match(text[stop:])))
        cued = cued or (len(word) >= 3 and any(word.lower() in local for local in locals_))
        if cued:
            spans.append(Span("PERSON", start, stop, CUED_PERSON_SCORE))
        i = last + 1
    return spans


def find(
    text: str, entities: frozenset[str], words: Words | None = None, english: frozenset[str] = frozenset()
) -> list[Span]:
    """Gazetteer and context spans of the selected entities (PERSON, LOCATION) in one text."""
    words = words_of(text) if words is None else words
    people = find_people(text, words) + find_cued_people(text, words, english) if "PERSON" in entities else []
    return people + find_places(text, words) if "LOCATION" in entities else people
