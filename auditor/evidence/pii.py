"""The personal-data scan: per-column profile, special categories, k-anonymity."""

from __future__ import annotations

from typing import Literal

from auditor.evidence._base import Record

ColumnKind = Literal["numeric", "boolean", "datetime", "categorical", "structured", "free_text", "binary", "empty"]
IdentifierClass = Literal["direct", "quasi", "none"]


class PiiColumn(Record):
    """What the scan found in one column."""

    name: str
    """Column name (masked when it holds personal data)."""
    kind: ColumnKind
    """The column's profile, which decides how it is scanned."""
    method: str
    """How it was scanned (checksummed recognizers, NER on free text...)."""
    non_null: int
    """Rows with a value."""
    distinct: int
    """Distinct values."""
    uniqueness: float
    """Distinct values over non-null rows."""
    entities: dict[str, int]
    """Detected spans per entity type."""
    rows_with_pii: int
    """Rows with at least one detected span."""
    share: float
    """rows_with_pii over the rows scanned."""
    dominant_entity: str | None
    """The most frequent entity type."""
    identifier: IdentifierClass
    """Whether the column identifies people directly, in combination (quasi), or not at all."""
    masked_examples: list[str]
    """Masked samples of detected values; never a raw value."""


class SpecialCategory(Record):
    """A signal of a GDPR Art. 9(1) special category."""

    column: str
    """Where the signal is."""
    category: str
    """The category (health, religion, political opinion...)."""
    signal: str
    """What triggered it (column name, values, entity type)."""
    rows: int
    """Rows concerned."""


class KAnonymity(Record):
    """k-anonymity of the dataset over its quasi-identifiers."""

    quasi_identifiers: list[str]
    """The quasi-identifier columns."""
    source: Literal["config", "detected", "none"]
    """Whether they were configured (pii.quasi_identifiers) or detected."""
    k: int | None
    """The smallest group size; null without quasi-identifiers."""
    smallest_groups: list[int]
    """Sizes of the smallest groups."""
    rows_in_groups_below_threshold: int
    """Rows in groups smaller than the threshold."""
    threshold: int
    """The k the threshold counts against."""


class ScanEngine(Record):
    """How the scan ran."""

    presidio_analyzer: str
    """Presidio analyzer version."""
    spacy_model: str
    """The spaCy model for named entities."""
    score_threshold: float
    """Minimum recognizer score for a finding."""
    entities: list[str]
    """Entity types looked for."""
    workers: int
    """Scanner processes."""
    engine: Literal["inline", "local", "dask"]
    """inline (this process), local (a process pool) or dask."""
    seconds: float
    """Scan wall time."""
    rows_per_second: float
    """Throughput."""


class PiiSection(Record):
    """What the personal-data scan found."""

    rows_scanned: int
    """Rows read."""
    columns: list[PiiColumn]
    """Per column."""
    special_categories: list[SpecialCategory]
    """Art. 9 signals."""
    k_anonymity: KAnonymity
    """Identifiability of the dataset."""
    findings: int
    """Detected spans in all."""
    rows_with_pii: int
    """Rows with at least one detected span."""
    rows_with_pii_share: float
    """rows_with_pii over rows_scanned."""
    direct_identifiers: list[str]
    """Columns that identify people on their own."""
    quasi_identifiers: list[str]
    """Columns that identify people in combination."""
    scan: ScanEngine
    """The scan's engine, settings and speed."""
