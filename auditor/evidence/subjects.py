"""Evidence about the data subjects: how many rows each person has, and the guarantee per person."""

from __future__ import annotations

from typing import Literal

from auditor.evidence._base import Record


class Subjects(Record):
    """The people behind the training rows, and what the DP guarantee means for each of them."""

    column: str
    """The column that identifies people."""
    source: Literal["config", "proposed"]
    """config: data.subject_id; proposed: auditor chose it from the PII scan (set data.subject_id to confirm)."""
    reason: str
    """Why this column, in words."""
    subjects: int
    """Distinct people among the training rows (a row without an identifier counts as its own person)."""
    rows: int
    """Training rows counted (canaries excluded)."""
    max_rows_per_subject: int
    """k: the most rows any one person has."""
    median_rows_per_subject: float
    """Median rows per person."""
    subjects_with_several_rows: int
    """People with more than one row."""
    missing_ids: int
    """Training rows without an identifier."""
    unit: Literal["example", "subject"]
    """train.privacy.unit: the unit DP-SGD protected."""
    per_person_epsilon: float | None
    """epsilon for one person: epsilon itself when the unit is the person or nobody has two rows; otherwise by
    group privacy over k rows, k x epsilon. Null without DP."""
    per_person_delta: float | None
    """delta for one person: by group privacy k e^((k-1) epsilon) delta (capped at 1, which guarantees nothing)."""
    method: str
    """How the per-person guarantee was obtained."""
