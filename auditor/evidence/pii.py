"""The personal-data scan: per-column profile, special categories, k-anonymity."""

from __future__ import annotations

from typing import Literal

from auditor.evidence._base import Record

ColumnKind = Literal["numeric", "boolean", "datetime", "categorical", "structured", "free_text", "binary", "empty"]
IdentifierClass = Literal["direct", "quasi", "none"]


class PiiColumn(Record):
    name: str
    kind: ColumnKind
    method: str
    non_null: int
    distinct: int
    uniqueness: float
    entities: dict[str, int]
    rows_with_pii: int
    share: float
    dominant_entity: str | None
    identifier: IdentifierClass
    masked_examples: list[str]


class SpecialCategory(Record):
    column: str
    category: str
    signal: str
    rows: int


class KAnonymity(Record):
    quasi_identifiers: list[str]
    source: Literal["config", "detected", "none"]
    k: int | None
    smallest_groups: list[int]
    rows_in_groups_below_threshold: int
    threshold: int


class ScanEngine(Record):
    presidio_analyzer: str
    spacy_model: str
    score_threshold: float
    entities: list[str]
    workers: int
    engine: str
    seconds: float
    rows_per_second: float


class PiiSection(Record):
    rows_scanned: int
    columns: list[PiiColumn]
    special_categories: list[SpecialCategory]
    k_anonymity: KAnonymity
    findings: int
    rows_with_pii: int
    direct_identifiers: list[str]
    quasi_identifiers: list[str]
    scan: ScanEngine
