"""Who the training rows are about: the data-subject column, rows per person, and group privacy.

GDPR protects people, not rows. With ``train.privacy.unit: example`` a person
with k rows gets, by group privacy, (k epsilon, k e^((k-1) epsilon) delta); with
``unit: subject`` DP-SGD samples people and clips each person's summed gradient
(``auditor/train/user_level.py``), so epsilon is per person.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditor.data import LoadedData
from auditor.evidence import PiiSection
from auditor.evidence.subjects import Subjects
from auditor.pii.entities import is_key_name
from auditor.tasks.base import Prepared

UNIT_EXAMPLE = "one row (example-level DP); a person with several rows is protected only per row"
UNIT_SUBJECT = (
    "one person (user-level DP: people are Poisson-sampled and each person's summed gradient is clipped to C)"
)


@dataclass(frozen=True)
class SubjectColumn:
    column: str
    source: str
    reason: str
    codes: np.ndarray
    """A person code for every training row (0 .. people - 1)."""
    missing: int

    @property
    def people(self) -> int:
        return int(self.codes.max()) + 1 if len(self.codes) else 0


def propose(pii: PiiSection | None, frame: pd.DataFrame) -> tuple[str, str] | None:
    """A column that identifies people, from the scan: an email column first, then an ID-like name."""
    if pii is None:
        return None
    direct = [c for c in pii.columns if c.identifier == "direct" and c.name in frame.columns]
    for column in direct:
        if column.dominant_entity == "EMAIL_ADDRESS":
            return column.name, f"the scan found email addresses in {column.share:.0%} of its rows"
    for column in pii.columns:
        if column.name in frame.columns and is_key_name(column.name) and column.uniqueness > 0:
            return column.name, "an ID-like column name"
    return None


def subject_column(data: LoadedData, pii: PiiSection | None, prepared: Prepared) -> SubjectColumn | None:
    """The training rows' person codes, from data.subject_id or a proposal; None when neither applies."""
    if prepared.train_index is None:
        return None
    if data.subject is not None:
        column, source, reason = data.subject, "config", "set in data.subject_id"
    else:
        proposal = propose(pii, data.frame)
        if proposal is None:
            return None
        column, reason = proposal
        source = "proposed"
        reason = f"data.subject_id is not set; proposed from the PII scan: {reason}"
    values = data.frame[column].iloc[prepared.train_index].astype("string").str.strip()
    missing = values.isna() | (values == "")
    codes, _ = pd.factorize(values.where(~missing))
    codes = codes.astype(np.int64)
    # A row without an identifier is its own person: the conservative count for group privacy is unaffected,
    # and nobody is merged with a stranger.
    start = int(codes.max()) + 1 if (codes >= 0).any() else 0
    codes[missing.to_numpy()] = np.arange(start, start + int(missing.sum()))
    return SubjectColumn(column, source, reason, codes, int(missing.sum()))


def with_canary_subjects(codes: np.ndarray, removed: np.ndarray, included_canaries: int) -> np.ndarray:
    """Codes for the training set as trained: real rows (minus canary sources), then one person per canary."""
    kept = np.delete(codes, removed) if len(removed) else codes
    start = int(codes.max()) + 1 if len(codes) else 0
    return np.concatenate([kept, np.arange(start, start + included_canaries)])


def group_privacy(epsilon: float, delta: float, k: int) -> tuple[float, float]:
    """(k epsilon, k e^((k-1) epsilon) delta): what (epsilon, delta)-DP per row gives a group of k rows."""
    if k <= 1:
        return epsilon, delta
    exponent = (k - 1) * epsilon + math.log(k) + math.log(delta) if delta > 0 else -math.inf
    return k * epsilon, 1.0 if exponent >= 0 else math.exp(exponent)


def subjects_evidence(subjects: SubjectColumn, unit: str, epsilon: float | None, delta: float | None) -> Subjects:
    counts = np.bincount(subjects.codes)
    k = int(counts.max()) if len(counts) else 0
    if epsilon is None or delta is None:
        person_eps, person_delta, method = None, None, "No DP: nothing is guaranteed to anyone"
    elif unit == "subject":
        person_eps, person_delta = epsilon, delta
        method = "User-level DP-SGD: epsilon is already per person"
    elif k <= 1:
        person_eps, person_delta = epsilon, delta
        method = "Every person has one training row, so the per-row guarantee is per person"
    else:
        person_eps, person_delta = group_privacy(epsilon, delta, k)
        method = (
            f"Group privacy over the {k} rows of the person with the most: (k epsilon, k e^((k-1) epsilon) delta); "
            "train.privacy.unit: subject gives a per-person guarantee directly"
        )
    return Subjects(
        column=subjects.column,
        source="config" if subjects.source == "config" else "proposed",
        reason=subjects.reason,
        subjects=len(counts),
        rows=len(subjects.codes),
        max_rows_per_subject=k,
        median_rows_per_subject=float(np.median(counts)) if len(counts) else 0.0,
        subjects_with_several_rows=int((counts > 1).sum()),
        missing_ids=subjects.missing,
        unit="subject" if unit == "subject" else "example",
        per_person_epsilon=None if person_eps is None else round(person_eps, 6),
        per_person_delta=person_delta,
        method=method,
    )
