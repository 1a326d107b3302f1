"""GDPR Art. 9 signals that do not come from scanning text: declarations, column names, the sensitive attribute.

The scan finds special categories in free text. A table can hold them in plain
sight without any text to scan: party identification stored as numeric codes,
a `race` column, a dataset of tumour diagnoses. Three more sources of review
items, each recorded with its signal:

- **declared** in ``audit.yaml``: ``data.columns.<name>.special_category`` for a
  column, ``data.special_categories`` for the dataset as a whole;
- **column names** that name a category, for every column, numeric ones included;
- **the sensitive attribute** (``train.sensitive_attribute``) and **the target**,
  when their name or their values indicate a category. Values are matched, never
  recorded.
"""

from __future__ import annotations

import re

import pandas as pd

from auditor.config import AuditConfig
from auditor.evidence import SpecialCategory
from auditor.pii.entities import SPECIAL_CATEGORY_TERMS, name_tokens

NAME_SIGNALS: dict[str, re.Pattern[str]] = {
    category: re.compile(rf"(^|_)({pattern})(_|$)")
    for category, pattern in {
        "ETHNIC_ORIGIN": r"race|racial|ethnic|ethnicity|ethnic_origin",
        "RELIGION": r"religion|religions|religious|religiosity|faith|denomination",
        "POLITICAL_OPINION": r"political|politics|party_id|party_identification|partisan|partisanship|ideology",
        "HEALTH": r"health|diagnosis|diagnoses|disease|medical|patient|illness|tumou?r|cancer|malignant|"
        r"disability|symptoms?|comorbidit\w*|hiv",
        "SEX_LIFE_OR_ORIENTATION": r"sexual|orientation|sex_life|lgbt\w*",
        "TRADE_UNION": r"trade_union|union_member|union_membership|unionised|unionized",
        "BIOMETRIC_OR_GENETIC": r"genetic|genotype|dna|biometric|fingerprint|faceprint|iris_scan|retina",
    }.items()
}
VALUE_TERMS: dict[str, tuple[str, ...]] = {
    "RELIGION": ("christian", "muslim", "jewish", "hindu", "buddhist", "catholic", "protestant", "atheist", "sikh"),
    "ETHNIC_ORIGIN": ("white", "black", "hispanic", "latino", "latina", "asian", "african american", "caucasian"),
    "POLITICAL_OPINION": ("democrat", "republican", "liberal", "conservative", "labour", "tory", "socialist"),
    "HEALTH": ("malignant", "benign", "diagnosed", "tumor", "tumour", "diabetic", "positive test"),
}


def name_category(column: str) -> str | None:
    joined = "_".join(name_tokens(column))
    return next((category for category, pattern in NAME_SIGNALS.items() if pattern.search(joined)), None)


def value_category(values: pd.Series) -> str | None:
    """A category the column's distinct values indicate (matched whole-word, never recorded)."""
    distinct = {str(v).strip().lower() for v in values.dropna().unique()[:500]}
    for category, terms in {
        **VALUE_TERMS,
        **{k: v for k, v in SPECIAL_CATEGORY_TERMS.items() if k not in VALUE_TERMS},
    }.items():
        if any(term in distinct or any(re.search(rf"\b{re.escape(term)}\b", d) for d in distinct) for term in terms):
            return category
    return None


def extra_special_categories(config: AuditConfig, frame: pd.DataFrame) -> list[SpecialCategory]:
    rows = len(frame)
    found: list[SpecialCategory] = []
    for declared in config.data.special_categories:
        found.append(
            SpecialCategory(
                column="(dataset)", category=declared, signal="declared in data.special_categories", rows=rows
            )
        )
    for name, semantics in config.data.columns.items():
        if semantics.special_category is not None and name in frame.columns:
            found.append(
                SpecialCategory(
                    column=name,
                    category=semantics.special_category,
                    signal=f"declared in data.columns.{name}",
                    rows=int(frame[name].notna().sum()),
                )
            )
    for column in map(str, frame.columns):
        named = name_category(column)
        if named is not None:
            found.append(
                SpecialCategory(
                    column=column, category=named, signal="column name", rows=int(frame[column].notna().sum())
                )
            )
    roles: list[tuple[str, str | None]] = [
        ("sensitive attribute (train.sensitive_attribute)", config.train.sensitive_attribute),
        ("target (data.target)", config.data.target),
    ]
    for role, role_column in roles:
        if role_column is None or role_column not in frame.columns:
            continue
        indicated = name_category(role_column) or value_category(frame[role_column])
        if indicated is not None:
            how = "name" if name_category(role_column) else "values"
            found.append(
                SpecialCategory(
                    column=role_column,
                    category=indicated,
                    signal=f"{role}: its {how} indicate {indicated}",
                    rows=int(frame[role_column].notna().sum()),
                )
            )
    unique: dict[tuple[str, str], SpecialCategory] = {}
    for item in found:
        unique.setdefault((item.column, item.category), item)
    return list(unique.values())
