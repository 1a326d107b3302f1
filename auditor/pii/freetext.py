"""Free-text recognizers: shapes of addresses, titled names and phone numbers that spaCy's small model misses.

They run on free-text columns only (structured columns have the checksummed recognizers in fast.py and their
column name as context). Word classes are Unicode (``[^\\W\\d_]``), so "Hrušková" and "Ängsstigen" are words.
"""

from __future__ import annotations

import re

from auditor.pii.fast import FastRecognizer

# USPS street suffixes (Publication 28, appendix C1), the common ones.
STREET_SUFFIXES = (
    "street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|square|sq|terrace|"
    "parkway|pkwy|highway|hwy|circle|cir|crescent|close|row|walk|alley|mews|hill|hills|gardens|grove|park|"
    "plaza|trail|path|ridge|view|heights|manor|manors|junction|mission|mountain|mountains|lake|lakes|port|pike|"
    "rapid|rapids|harbor|harbour|harbors|forge|forges|estates|village|villages|fort|ford|fords|green|greens|"
    "point|points|center|centre|centers|stream|light|lights|rest|camp|cape|club|common|commons|corner|corners|"
    "creek|crossing|dale|dam|divide|extension|falls|ferry|field|fields|flat|flats|gateway|glen|glens|haven|"
    "island|islands|isle|key|keys|knoll|knolls|landing|loaf|lock|locks|lodge|loop|mall|meadow|meadows|mill|"
    "mills|motorway|neck|orchard|oval|pass|passage|pine|pines|plain|plains|prairie|ramp|ranch|river|route|run|"
    "shoal|shoals|shore|shores|skyway|spring|springs|spur|station|stravenue|summit|throughway|trace|track|"
    "tunnel|turnpike|underpass|union|unions|valley|valleys|viaduct|ville|vista|wall|well|wells|expressway|"
    "bypass|burg|burgs|branch|brook|brooks|bluff|bluffs|bottom|bend|beach|arcade|cliff|cliffs|cove|coves|"
    "course|courts|crest|curve|estate|freeway|hollow|inlet|ports|radial|roads|squares|streets|tracks|ways"
)
# European street names: a suffix inside the word ("Kvarngatan", "Lyngbyvej", "Wesackstraße") or a word before it.
STREET_WORD_SUFFIXES = (
    "gatan|gata|vägen|väg|gränd|stigen|torget|backe|vej|vejen|gade|stræde|veien|vei|veg|vegen|gata|plassen|"
    "straße|strasse|str\\.|weg|gasse|allee|platz|ring|damm|ufer|laan|straat|gracht|plein|singel|kade|hof|"
    "tie|katu|kuja|polku|tori|väylä|rinne"
)
STREET_PREFIXES = (
    "rue|avenue|av\\.|boulevard|bd|chemin|allée|impasse|place|route|quai|cours|via|viale|piazza|corso|vicolo|"
    "largo|calle|c\\.|avenida|plaza|paseo|carrer|camino|ronda|travesía|cuesta|rua|praça|ul\\.|ulica|aleja|al\\.|"
    "plac|os\\.|osiedle|náměstí|nám\\.|třída|nábřeží"
)
_STREET_PREFIX = re.compile(rf"^(?:{STREET_PREFIXES})$", re.IGNORECASE)
_PARTICLE = re.compile(r"^(?:de|del|de la|la|le|les|di|da|dos|das|do|van|von|der|den|du|des|y|i|e|am|an|im)$")
_WORD_BEFORE = re.compile(r"([^\W\d_][\w.'’-]*)\s*$")
_POSTCODE_TOWN = re.compile(r",\s*(?:[A-Z]{1,2}-?)?(?:\d{5}|\d{3}\s\d{2}|\d{2}-\d{3}|\d{4})\s+(\S)")
_NUMBER_FIRST_STREET = re.compile(rf"^\d{{1,4}}[a-z]?,?\s+(?:{STREET_PREFIXES})\b", re.IGNORECASE)
_HOUSE_NUMBER = re.compile(r"\s\d{1,4}[a-zA-Z]?(?:[-/]\d{1,4})?,")


PHONE_WORDS = (
    "phone",
    "call",
    "reach",
    "mobile",
    "cell",
    "tel",
    "number",
    "contact",
    "ring",
    "text me",
    "sms",
    "whatsapp",
    "fax",
)
BIRTH_WORDS = ("born", "birth", "dob", "d.o.b", "birthday", "birthdate")
MONTHS = (
    "jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|september|oct|october|"
    "nov|november|dec|december"
)
_NOT_STREET = frozenset(
    {
        "room",
        "gate",
        "floor",
        "level",
        "page",
        "chapter",
        "section",
        "step",
        "version",
        "terminal",
        "platform",
        "line",
        "row",
        "seat",
        "table",
        "item",
        "part",
        "box",
        "bus",
        "flight",
        "train",
        "ticket",
        "order",
        "invoice",
        "number",
        "no",
        "unit",
        "year",
        "years",
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "the",
        "a",
        "an",
        "my",
        "our",
        "your",
        "his",
        "her",
        "their",
        "this",
        "that",
    }
)


def _street_words_ok(text: str) -> bool:
    """Every word of the street name is capitalised (or a particle), and none is a room, page or version."""
    words = text.split()[:-1]
    return all((w[0].isupper() or _PARTICLE.match(w)) and w.lower() not in _NOT_STREET for w in words) and bool(words)


def _always(_text: str, _in_context: bool = False) -> bool:
    return True


def _street_start(value: str, start: int, end: int) -> tuple[int, int] | None:
    """Start an address at its street name: the capitalised words (and street words, particles) right before
    the house number, not the words the pattern took before them ("box with Zikmund at Sámova 673, ...")."""
    if value[start].isdigit():
        return start, end
    number = _HOUSE_NUMBER.search(value, start, end)
    if number is None:
        return None
    first = number.start()
    while True:
        word = _WORD_BEFORE.search(value, start, first)
        if word is None:
            break
        text = word.group(1)
        if not (text[0].isupper() or _STREET_PREFIX.match(text) or _PARTICLE.match(text)):
            break
        first = word.start(1)
    return (first, end) if first < number.start() else None


def _postal_ok(text: str) -> bool:
    """The town after the postcode is capitalised, and so is the street name before a house number."""
    town = _POSTCODE_TOWN.search(text)
    if town is None or not town.group(1).isupper():
        return False
    if text[:1].isdigit():  # "43, boulevard Guibert, ...": the number comes first, then a street word
        return bool(_NUMBER_FIRST_STREET.search(text))
    return text[:1].isupper() or bool(_STREET_PREFIX.match(text.split()[0]))


def _capitalised_words(value: str, start: int, end: int) -> tuple[int, int] | None:
    """Keep the name after a title up to its last capitalised word ("Mr Pöllänen disputes" -> "Pöllänen")."""
    last = start
    for word in re.finditer(r"[^\W\d_][\w'’.-]*", value[start:end]):
        if not word.group()[0].isupper():
            break
        last = start + word.end()
    return (start, last) if last > start else None


FREE_TEXT_RECOGNIZERS: tuple[FastRecognizer, ...] = (
    FastRecognizer(
        "STREET_ADDRESS",
        r"\d[A-Za-z]?\s",
        re.compile(rf"\b\d{{1,5}}[A-Za-z]?\s+(?:[A-Z][\w'-]*\s+){{0,3}}(?:{STREET_SUFFIXES})\b\.?", re.IGNORECASE),
        lambda text, _context: bool(re.search(r"[A-Z]", text)),
        0.7,
    ),
    FastRecognizer(
        "STREET_ADDRESS",
        r"(?i)(?:apt|apartment|suite|unit|flat|studio)",
        re.compile(r"\b(?:Apt|Apartment|Suite|Unit|Flat|Studio)\.?\s*#?\d{1,5}[A-Za-z]?\b", re.IGNORECASE),
        _always,
        0.7,
    ),
    # A European address line ending in a postcode and a town: "Ängsstigen 82, 54693 Landskrona",
    # "Komenského Nám. 271, 367 68 Lázně Bělohrad", "43, boulevard Guibert, 25999 Saint Alain".
    FastRecognizer(
        "STREET_ADDRESS",
        r"\d[A-Za-z]?, ",
        re.compile(
            r"(?:\b[^\W\d_][\w.'-]*\s+){0,4}\b[^\W\d_][\w.'-]*\s+\d{1,4}[a-zA-Z]?(?:[-/]\d{1,4})?,"  # street number,
            r"\s*(?:[A-Z]{1,2}-?)?(?:\d{5}|\d{3}\s\d{2}|\d{2}-\d{3}|\d{4})\s+[^\W\d_][\w'-]+"
            r"|\b\d{1,4}[a-z]?,?\s+(?:[^\W\d_][\w.'-]*\s+){0,3}[^\W\d_][\w.'-]*,"  # or: number, street,
            r"\s*(?:\d{5}|\d{3}\s\d{2}|\d{4})\s+[^\W\d_][\w'-]+"
        ),
        lambda text, _context: _postal_ok(text),
        0.7,
        adjust=_street_start,
    ),
    # A street and house number without a postcode: "Stationsgatan 8", "Lyngbyvej 883", "rue Petit 73",
    # "plac Batalionów Chłopskich 763", "Via Virgilio 5".
    FastRecognizer(
        "STREET_ADDRESS",
        r"\d",
        re.compile(
            rf"\b[^\W\d_][\w'-]*(?:{STREET_WORD_SUFFIXES})\s+\d{{1,4}}[a-zA-Z]?\b"
            rf"|\b(?:{STREET_PREFIXES})\s+(?:[^\W\d_][\w'.-]*\s+){{0,4}}?\d{{1,4}}[a-zA-Z]?\b",
            re.IGNORECASE,
        ),
        lambda text, _context: any(w[:1].isupper() for w in text.split()),
        0.7,
    ),
    # A national number written without punctuation after a name or in a signature ("Jan Novák, 0468693428"):
    # a trunk prefix 0 and 10 or 11 digits. Free text only; structured columns need a phone column's context.
    FastRecognizer(
        "PHONE_NUMBER",
        r"0\d{9}",
        re.compile(r"(?<![\w+/.-])0\d{9,10}(?![\w/-]|\.\d)"),
        lambda text, _context: len(set(text)) >= 4,
        0.6,
    ),
    # Any number of 7 to 13 digits (spaces, dots or dashes between groups) shortly after a word about calling.
    FastRecognizer(
        "PHONE_NUMBER",
        r"\d{3}",
        re.compile(r"(?<![\w+/.-])\+?\d(?:[ .-]?\d){6,12}(?![\w/-]|\.\d)"),
        lambda text, _context: len(set(text)) >= 4,
        0.0,
        needs_context=True,
        context_score=0.7,
        context_words=PHONE_WORDS,
    ),
    # A date shortly after a word about birth: "born 08.03.1950", "date of birth 13 March 1947", "DOB: 1979-12-13".
    FastRecognizer(
        "DATE_TIME",
        r"(?i)born|birth|dob|d\.o\.b",  # a birth word first
        re.compile(
            rf"\b(?:\d{{1,2}}[./-]\d{{1,2}}[./-](?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{2}}-\d{{2}}"
            rf"|\d{{1,2}}\.?\s+(?:{MONTHS})\.?,?\s+\d{{4}}|(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})\b",
            re.IGNORECASE,
        ),
        _always,
        0.0,
        needs_context=True,
        context_score=0.85,
        context_words=BIRTH_WORDS,
    ),
    # A capitalised street name and house number right after a word that introduces an address:
    # "addressed to Aunejordet 8", "lives at Rataja 633", "could not find Pienpad 08".
    FastRecognizer(
        "STREET_ADDRESS",
        r"\d",
        re.compile(
            r"\b(?:at|to|address|addressed to|find|lives at|living at|moved to|ship to|send to)\s+"
            r"(?P<v>(?:[^\W\d_][\w'’.-]*\s+){1,3}\d{1,4}[a-zA-Z]?(?:[-/]\d{1,4})?)(?![\w.,:/-]\d|\w)"
        ),
        lambda text, _context: _street_words_ok(text),
        0.6,
    ),
    FastRecognizer(
        "PERSON",
        r"(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Madam|Herr|Frau|Mme|Mlle|Sr|Sra|Pan|Pani|(?i:mr|mrs|ms|dr)\.)",
        re.compile(
            r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Madam|Herr|Frau|Mme|Mlle|Sr|Sra|Pan|Pani|(?i:mr|mrs|ms|dr)\.)\.?\s+"
            r"(?P<v>[^\W\d_][\w'’-]*(?:\s+[^\W\d_]\.?)?(?:\s+[^\W\d_][\w'’-]*){0,2})"
        ),
        _always,
        0.75,
        adjust=_capitalised_words,
    ),
    FastRecognizer(
        "PERSON",
        r"[A-Z][a-z]+ [A-Z]\.? [A-Z][a-z]+",
        re.compile(r"\b[A-Z][a-z]{1,20}\s[A-Z]\.?\s[A-Z][a-z]{1,20}(?:[-'][A-Z][a-z]+)?\b"),
        _always,
        0.6,
    ),
)
