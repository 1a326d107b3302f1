"""Column profiling: decide, per column, what kind of data it holds and how to scan it.

Kinds: numeric, boolean, datetime, categorical, structured (short strings such
as names, emails, IDs), free_text, binary, empty. Only text kinds are scanned;
numbers are not read as phone numbers unless they look like long digit IDs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from auditor.evidence import ColumnKind
from auditor.pii.entities import expected_entities, is_key_name, is_quasi_identifier_name, negative_context

SAMPLE = 2_000
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_LONG_DIGITS = r"^\d{9,19}$"
_BOOL = {"true", "false", "yes", "no", "y", "n", "t", "f", "0", "1"}
_DATE = (
    r"^(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    r"|[A-Za-z]{3,9}\.? \d{1,2},? \d{4}|\d{1,2} [A-Za-z]{3,9}\.? \d{4})$"
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


@dataclass
class ColumnProfile:
    name: str
    kind: ColumnKind
    expected: set[str] = field(default_factory=set)
    negative: bool = False
    quasi_by_name: bool = False
    key_by_name: bool = False
    column_entity: str | None = None
    column_entity_score: float = 0.0
    selected: bool = True

    @property
    def scanned(self) -> bool:
        return self.kind in {"categorical", "structured", "free_text", "datetime"}


def _share(values: pd.Series, pattern: str) -> float:
    return float(values.str.fullmatch(pattern).mean()) if len(values) else 0.0


def classify(values: pd.Series, non_null: int, rows: int) -> ColumnKind:
    """The kind of a column from a sample of its non-null values (as strings)."""
    if non_null == 0:
        return "empty"
    sample = values.iloc[:SAMPLE].astype("str")
    if float(sample.str.contains(_CONTROL.pattern, regex=True).mean()) > 0.01:
        return "binary"
    stripped = sample.str.strip()
    if float(stripped.str.lower().isin(_BOOL).mean()) == 1.0 and stripped.nunique() <= 2:
        return "boolean"
    if _share(stripped, _NUMBER) >= 0.98:
        return "structured" if _share(stripped, _LONG_DIGITS) >= 0.5 else "numeric"
    if _share(stripped, _DATE) >= 0.9:
        return "datetime"
    words = stripped.str.count(r"\s+") + 1
    if float(words.mean()) >= 4 or float((words >= 6).mean()) >= 0.2:
        return "free_text"
    distinct = int(stripped.nunique())
    if distinct <= max(20, int(0.05 * min(len(stripped), rows))) and float(stripped.str.len().mean()) < 40:
        return "categorical"
    return "structured"


def profile_column(name: str, values: pd.Series, rows: int) -> ColumnProfile:
    present = values.dropna()
    kind = classify(present, len(present), rows)
    return ColumnProfile(
        name=name,
        kind=kind,
        expected=expected_entities(name),
        negative=negative_context(name),
        quasi_by_name=is_quasi_identifier_name(name),
        key_by_name=is_key_name(name),
    )
