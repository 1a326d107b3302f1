"""Masked samples for reports: enough shape for a reviewer, never the value.

Guarantee (property-tested): a masked sample never shares a run of four or
more characters with the original value.
"""

from __future__ import annotations

WINDOW = 4
_TAIL_ENTITIES = frozenset(
    {"PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "UK_NHS", "US_BANK_NUMBER", "US_ITIN"}
)


def _head(part: str) -> str:
    return f"{part[:1]}***" if part else "***"


def _mask_email(value: str) -> str:
    local, _, domain = value.rpartition("@")
    labels = domain.split(".")
    return (
        _head(local)
        + "@"
        + ".".join(_head(label)[:-1] if i == len(labels) - 1 else _head(label) for i, label in enumerate(labels))
    )


def _mask_tail(value: str, entity: str) -> str:
    alnum = [ch for ch in value if ch.isalnum()]
    prefix = "".join(alnum[:2]) if entity == "IBAN_CODE" else ""
    return f"{prefix}***{''.join(alnum[-2:])}"


def _shares_window(masked: str, original: str) -> bool:
    return any(masked[i : i + WINDOW] in original for i in range(len(masked) - WINDOW + 1))


def mask(value: str, entity: str) -> str:
    """Mask one detected value, e.g. ``john.smith@example.com`` -> ``j***@e***.c**``."""
    text = value.strip()
    if len(text) <= WINDOW:
        return "***"
    if entity == "EMAIL_ADDRESS" and "@" in text:
        masked = _mask_email(text)
    elif entity in _TAIL_ENTITIES:
        masked = _mask_tail(text, entity)
    elif entity == "PERSON":
        masked = " ".join(_head(word) for word in text.split()[:4])
    else:
        masked = _head(text)
    # Last line of defence for odd inputs (values that themselves contain '*' runs).
    return "***" if _shares_window(masked, value) else masked


def scrub(text: str) -> str:
    """Mask anything that looks like personal data in free text we did not write (e.g. error messages)."""
    from auditor.pii.fast import FAST_RECOGNIZERS, resolve_overlaps

    spans = resolve_overlaps([s for r in FAST_RECOGNIZERS for s in r.find(text, in_context=False)])
    for span in reversed(spans):
        text = text[: span.start] + mask(text[span.start : span.end], span.entity) + text[span.end :]
    return text
