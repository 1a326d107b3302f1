"""Cheap recognizers for structured columns: an Arrow regex gate, then a checksum.

The gate runs vectorised over a whole column (RE2 in Arrow, millions of
cells/s); only the values it lets through reach Python, where each match is
validated (Luhn, IBAN mod 97, SSN area rules, IP parsing, phone digit counts).
Scores follow Presidio's convention: 1.0 for checksummed matches, lower for
shape-only matches, raised when the column name gives context.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from auditor.pii.domains import has_public_suffix


@dataclass(frozen=True)
class Span:
    entity: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class FastRecognizer:
    """A regex gate, a pattern and a validator for one entity type.

    ``validate(match, in_context)`` may demand more without context. Context is
    the column name (structured columns) or, with ``context_words``, one of those
    words in the 40 characters before the match (free text).
    """

    entity: str
    gate: str
    pattern: re.Pattern[str]
    validate: Callable[[str, bool], bool]
    score: float
    needs_context: bool = False
    context_score: float = 1.0
    context_words: tuple[str, ...] = ()
    # Narrows a match to what it reports ((start, end) -> (start, end), or None to drop it): free-text
    # patterns that must take words on trust and give back those that are not part of the value.
    adjust: Callable[[str, int, int], tuple[int, int] | None] | None = None

    def _nearby(self, value: str, start: int) -> bool:
        window = value[max(0, start - 40) : start].lower()
        return any(word in window for word in self.context_words)

    def find(self, value: str, in_context: bool) -> list[Span]:
        spans = []
        group = "v" if "v" in self.pattern.groupindex else 0  # a pattern may match more than it reports
        for m in self.pattern.finditer(value):
            start, end = m.span(group)
            if self.adjust is not None:
                narrowed = self.adjust(value, start, end)
                if narrowed is None:
                    continue
                start, end = narrowed
            context = in_context or (bool(self.context_words) and self._nearby(value, start))
            if self.needs_context and not context:
                continue
            if self.validate(value[start:end], context):
                spans.append(Span(self.entity, start, end, self.context_score if context else self.score))
        return spans


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def luhn_ok(text: str, in_context: bool = False) -> bool:
    """Luhn checksum on 12-19 digits. Without context (a card column, or "card" just before the
    number) it needs 14+ digits and a card network's first digit, since one random number in
    ten passes Luhn."""
    digits = _digits(text)
    if not (12 if in_context else 14) <= len(digits) <= 19:
        return False
    if not in_context and digits[0] not in "123456":
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(text: str, in_context: bool = False) -> bool:
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def ssn_ok(text: str, in_context: bool = False) -> bool:
    digits = _digits(text)
    if len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in {"000", "666"} and not area.startswith("9") and group != "00" and serial != "0000"


def ip_ok(text: str, in_context: bool = False) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_DATE_LIKE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")
_IP_LIKE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def phone_ok(text: str, in_context: bool = False) -> bool:
    if _DATE_LIKE.match(text) or _IP_LIKE.match(text):
        return False
    main = re.split(r"\s*(?:x|ext\.?|extension)\s*\d", text, maxsplit=1, flags=re.IGNORECASE)[0]
    digits = _digits(main)
    if not 7 <= len(digits) <= 15 or len(set(digits)) < 3:
        return False
    # A bare run of digits is an ID as often as a phone: demand phone-like punctuation or a '+'.
    return bool(re.search(r"[\s().+-]", main.strip()))


def email_ok(text: str, in_context: bool = False) -> bool:
    return has_public_suffix(text.rsplit("@", 1)[-1])


def nhs_ok(text: str, in_context: bool = False) -> bool:
    digits = _digits(text)
    if len(digits) != 10:
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    return (0 if check == 11 else check) == int(digits[9]) and check != 10


def _always(_: str, in_context: bool = False) -> bool:
    return True


FAST_RECOGNIZERS: tuple[FastRecognizer, ...] = (
    FastRecognizer(
        "EMAIL_ADDRESS",
        r"@",
        # Local parts in any script (jacques.kovářová@…, RFC 6531); domains as registered (ASCII or punycode).
        re.compile(r"[\w.%+'-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}"),
        email_ok,
        1.0,
    ),
    FastRecognizer(
        "CREDIT_CARD",
        r"\d{4}",
        re.compile(r"(?<![\d-])(?:\d[ -]?){11,18}\d(?![\d-])"),
        luhn_ok,
        1.0,
        context_words=("card", "visa", "mastercard", "amex", "maestro", "cc "),
    ),
    FastRecognizer(
        "IBAN_CODE",
        r"[A-Za-z]{2}\d{2}",
        re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"),
        iban_ok,
        1.0,
    ),
    FastRecognizer(
        "US_SSN",
        r"\d{3}[- ]\d{2}[- ]\d{4}",
        re.compile(r"(?<![\d-])\d{3}[- ]\d{2}[- ]\d{4}(?![\d-])"),
        ssn_ok,
        0.85,
    ),
    FastRecognizer(
        "US_SSN",
        r"^\d{9}$",
        re.compile(r"^\d{9}$"),
        ssn_ok,
        0.0,
        needs_context=True,
        context_score=0.85,
    ),
    FastRecognizer(
        "IP_ADDRESS",
        r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f:]*:",
        re.compile(
            r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])|(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])"
        ),
        ip_ok,
        0.95,
    ),
    FastRecognizer(
        "PHONE_NUMBER",
        r"\d{2}.*\d{2}.*\d",
        re.compile(
            r"(?<![\w+-])(?:\+|00)?\d{0,3}[\s.-]?(?:\(\d{1,5}\)\s?|\(0\)\s?)?\d[\d\s().-]{5,}\d"
            r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,6})?(?![\w])",
            re.IGNORECASE,
        ),
        phone_ok,
        0.75,
        context_score=1.0,
    ),
    FastRecognizer(
        "PHONE_NUMBER",
        r"\d{10}",
        re.compile(r"(?<![\w+])\+?\d{10,13}(?!\w)"),
        lambda text, _context: (len(set(text)) >= 3 and text.lstrip("+")[0] in "0+") or text.startswith("+"),
        0.0,
        needs_context=True,
        context_score=0.85,
        context_words=("phone", "mobile", "call", "tel", "cell", "whatsapp", "sms"),
    ),
    FastRecognizer(
        "PHONE_NUMBER",
        r"^\+?\d{10,13}$",
        re.compile(r"^\+?\d{10,13}$"),
        lambda text, _context: len(set(text)) >= 3,
        0.0,
        needs_context=True,
        context_score=0.9,
    ),
    FastRecognizer(
        "UK_NHS",
        r"\d{3}[ -]?\d{3}[ -]?\d{4}",
        re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)"),
        nhs_ok,
        0.0,
        needs_context=True,
        context_score=1.0,
    ),
    FastRecognizer(
        "URL",
        r"://|www\.",
        re.compile(r"(?:https?|ftp)://[^\s]+|www\.[^\s]+"),
        _always,
        0.6,
    ),
    FastRecognizer(
        "STREET_ADDRESS",
        r"^(?:(?i:flat|apt|apartment|suite|unit|studio|room)\.? \w+,? |\d{1,5}[A-Za-z]? )",
        re.compile(
            r"^(?:(?:flat|apt|apartment|suite|unit|studio|room)\.?\s+\w+,?\s+(?:\d{1,5}[A-Za-z]?\s+)?"
            r"|\d{1,5}[A-Za-z]?\s+)[A-Za-z][A-Za-z0-9'. -]+(?:,.*)?$",
            re.IGNORECASE,
        ),
        _always,
        0.0,
        needs_context=True,
        context_score=0.85,
    ),
)

# When spans overlap, checksummed entities win over shape-only ones.
PRIORITY = {
    "EMAIL_ADDRESS": 0,
    "CREDIT_CARD": 1,
    "IBAN_CODE": 1,
    "US_SSN": 2,
    "UK_NHS": 2,
    "IP_ADDRESS": 2,
    "PHONE_NUMBER": 3,
    "URL": 4,
}


# Entities that describe the same kind of value: overlapping spans of one family are joined ("Jennaweg" from
# the NER and "Jennaweg 3" from a street pattern are one address), so nothing either of them found is lost.
FAMILY = {"LOCATION": "place", "STREET_ADDRESS": "place", "ADDRESS": "place", "GPE": "place", "PERSON": "person"}


def _join_families(spans: list[Span]) -> list[Span]:
    joined: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        family = FAMILY.get(span.entity)
        for i, other in enumerate(joined):
            if family and FAMILY.get(other.entity) == family and span.start < other.end and other.start < span.end:
                best = span if span.score > other.score else other
                joined[i] = Span(best.entity, min(span.start, other.start), max(span.end, other.end), best.score)
                break
        else:
            joined.append(span)
    return joined


def resolve_overlaps(spans: list[Span]) -> list[Span]:
    """Keep the best of overlapping spans: higher score, then stronger entity, then longer; overlapping spans of
    one family (places, people) are first joined into one, and a nationality inside a name gives way to it."""
    spans = _join_families(spans)
    # A nationality word inside a name is a surname there ("Jeffrey Welsh", "Anna English").
    people = [p for p in spans if p.entity == "PERSON"]
    spans = [s for s in spans if not (s.entity == "NRP" and any(p.start <= s.start and s.end <= p.end for p in people))]
    ranked = sorted(spans, key=lambda s: (-s.score, PRIORITY.get(s.entity, 5), -(s.end - s.start), s.start))
    kept: list[Span] = []
    for span in ranked:
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: (s.start, s.end, s.entity))
