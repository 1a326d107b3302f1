"""Per-column statistics gathered during the scan, and the evidence section built from them."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from auditor.evidence import KAnonymity, PiiColumn, PiiSection, ScanEngine, SpecialCategory
from auditor.pii.entities import DIRECT_ENTITIES, QUASI_ENTITIES, SPECIAL_ENTITIES
from auditor.pii.fast import Span
from auditor.pii.masking import mask
from auditor.pii.presidio_engine import EngineSettings
from auditor.pii.profile import ColumnProfile

DIRECT_SHARE = 0.5
KEY_UNIQUENESS = 0.95


class ColumnStats:
    def __init__(self, max_examples: int) -> None:
        self.max_examples = max_examples
        self.non_null = 0
        self.distinct = 0
        self.profiled_rows = 0
        self.entities: Counter[str] = Counter()
        self.rows_with_pii = 0
        self.direct_rows = 0
        self.special_rows: Counter[str] = Counter()
        self.examples: list[str] = []

    def observe(self, series: pd.Series) -> None:
        present = int(series.notna().sum())
        if self.profiled_rows == 0:
            # Uniqueness is estimated on the first chunk, so memory stays flat on large data.
            self.distinct = int(series.nunique(dropna=True))
            self.profiled_rows = max(present, 1)
        self.non_null += present

    def add(self, row: int, value: str, spans: list[Span]) -> None:
        self.rows_with_pii += 1
        entities = {s.entity for s in spans}
        self.entities.update(s.entity for s in spans)
        if entities & DIRECT_ENTITIES:
            self.direct_rows += 1
        for entity in entities & SPECIAL_ENTITIES:
            self.special_rows[entity] += 1
        for span in spans:
            if len(self.examples) >= self.max_examples:
                break
            sample = f"{span.entity}: {mask(value[span.start : span.end], span.entity)}"
            if sample not in self.examples:
                self.examples.append(sample)

    def merge(self, other: ColumnStats) -> None:
        """Add a later part of the column: counts add up, examples keep the first ones in row order, and
        uniqueness stays the first chunk's (set by the part read first)."""
        if self.profiled_rows == 0:
            self.distinct, self.profiled_rows = other.distinct, other.profiled_rows
        self.non_null += other.non_null
        self.entities.update(other.entities)
        self.rows_with_pii += other.rows_with_pii
        self.direct_rows += other.direct_rows
        self.special_rows.update(other.special_rows)
        for sample in other.examples:
            if len(self.examples) >= self.max_examples:
                break
            if sample not in self.examples:
                self.examples.append(sample)

    @property
    def uniqueness(self) -> float:
        return round(self.distinct / self.profiled_rows, 4)


FEW_VALUES = 2
"""A column with at most this many distinct values labels rows; it cannot single out the person of a row."""


def _identifier(profile: ColumnProfile, stats: ColumnStats, dominant: str | None, share: float) -> str:
    # Two candidates' names in a vote column are personal data of the candidates, not an identifier of
    # the voter: such a column keeps its findings but is never classed as a direct identifier.
    few = 0 < stats.distinct <= FEW_VALUES and stats.non_null > 2 * FEW_VALUES
    if not few and stats.non_null and stats.direct_rows / stats.non_null >= DIRECT_SHARE:
        return "direct"
    if not few and profile.kind == "structured" and profile.key_by_name and stats.uniqueness >= KEY_UNIQUENESS:
        return "direct"
    if profile.kind in {"free_text", "binary", "empty"}:
        return "none"
    if profile.quasi_by_name or (dominant in QUASI_ENTITIES and share >= DIRECT_SHARE):
        return "quasi"
    return "none"


def _method(profile: ColumnProfile) -> str:
    if not profile.selected:
        return "not selected (pii.columns)"
    if profile.kind == "free_text":
        return "presidio: spaCy NER + pattern recognizers, every distinct value"
    if profile.kind in {"structured", "categorical", "datetime"}:
        evidence = f"; column-level {profile.column_entity} from NER sample" if profile.column_entity else ""
        return f"pattern recognizers with checksums, every distinct value{evidence}"
    return f"not scanned ({profile.kind})"


def build_section(
    *,
    profiles: list[ColumnProfile],
    stats: dict[str, ColumnStats],
    kanon: KAnonymity,
    rows: int,
    rows_with_pii: int,
    findings: int,
    settings: EngineSettings,
    workers: int,
    engine: str,
    seconds: float,
) -> PiiSection:
    from importlib.metadata import version

    columns = []
    special = []
    for profile in profiles:
        st = stats[profile.name]
        dominant = st.entities.most_common(1)[0][0] if st.entities else None
        share = round(st.rows_with_pii / st.non_null, 4) if st.non_null else 0.0
        columns.append(
            PiiColumn(
                name=profile.name,
                kind=profile.kind,
                method=_method(profile),
                non_null=st.non_null,
                distinct=st.distinct,
                uniqueness=st.uniqueness,
                entities=dict(sorted(st.entities.items())),
                rows_with_pii=st.rows_with_pii,
                share=share,
                dominant_entity=dominant,
                identifier=_identifier(profile, st, dominant, share),
                masked_examples=list(st.examples),
            )
        )
        for category, count in sorted(st.special_rows.items()):
            signal = "spaCy NER (nationality, religious or political group)" if category == "NRP" else "deny list"
            special.append(SpecialCategory(column=profile.name, category=category, signal=signal, rows=count))
    return PiiSection(
        rows_scanned=rows,
        columns=columns,
        special_categories=special,
        k_anonymity=kanon,
        findings=findings,
        rows_with_pii=rows_with_pii,
        rows_with_pii_share=round(rows_with_pii / rows, 6) if rows else 0.0,
        direct_identifiers=[c.name for c in columns if c.identifier == "direct"],
        quasi_identifiers=[c.name for c in columns if c.identifier == "quasi"],
        scan=ScanEngine(
            presidio_analyzer=version("presidio-analyzer"),
            spacy_model=settings.spacy_model,
            score_threshold=settings.score_threshold,
            entities=list(settings.entities),
            workers=workers,
            engine=engine,
            seconds=round(seconds, 3),
            rows_per_second=round(rows / seconds, 1) if seconds > 0 else 0.0,
        ),
    )
