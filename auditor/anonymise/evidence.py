"""The anonymise stage's evidence: what was replaced, how, and what a rescan still finds."""

from __future__ import annotations

from typing import Literal

from auditor.evidence._base import Record


class OperatorUse(Record):
    """One entity type's operator, and whether its output is anonymous or still personal data."""

    entity: str
    """Entity type, e.g. PERSON."""
    operator: Literal["replace", "pseudonymise", "mask", "hash", "encrypt"]
    """anonymise.operators for this entity (or anonymise.default)."""
    effect: Literal["anonymised", "pseudonymised"]
    """replace and mask anonymise; pseudonymise, hash and encrypt only pseudonymise: the output is still
    personal data (GDPR Recital 26) for whoever holds the key."""
    replaced: int
    """Spans of this entity replaced."""
    residual: int
    """Spans of this entity the rescan still finds in the anonymised text (surrogates excluded)."""


class AnonymisationSection(Record):
    """The text columns as trained: anonymised after the scan, then scanned again."""

    columns: list[str]
    """The data.text columns anonymised; the model trains on their anonymised text."""
    rows: int
    """Rows anonymised."""
    operators: list[OperatorUse]
    """Per entity type found: the operator, its effect, spans replaced and residual spans."""
    replaced: int
    """Spans replaced in all."""
    residual: int
    """Spans the rescan still finds, surrogates from pseudonymise excluded."""
    residual_direct: int
    """Of those, spans of direct identifiers (names, emails, phones, card and account numbers...)."""
    rows_with_residual: int
    """Rows where the rescan still finds personal data."""
    rows_changed: int
    """Rows whose text the anonymisation changed."""
    key_source: Literal["key_file", "key_env", "none"]
    """Where the secret for pseudonymise, hash and encrypt came from (the secret itself is never recorded);
    none: pseudonyms are keyed by a random secret for this run only."""
    pseudonymised: bool
    """Whether any operator only pseudonymises: then the training text is still personal data."""
    seconds: float
    """Wall time of anonymisation and rescan."""
