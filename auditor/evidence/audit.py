"""The empirical privacy audit: one-run canary audit and membership inference."""

from __future__ import annotations

from auditor.evidence._base import Record


class CanaryAudit(Record):
    kind: str
    canaries: int
    included: int
    guesses: int
    correct: int
    k_plus: int
    k_minus: int
    confidence: float
    epsilon_lower_bound: float
    epsilon_theoretical: float | None
    note: str


class MiaResult(Record):
    model: str
    members: int
    non_members: int
    auc: float
    tpr_at_0_1pct_fpr: float
    tpr_at_1pct_fpr: float
    advantage: float
    calibrated_auc: float
    calibrated_advantage: float
    roc: list[tuple[float, float]]


class AuditSection(Record):
    canary: CanaryAudit | None
    canary_baseline: CanaryAudit | None
    mia_dp: MiaResult | None
    mia_baseline: MiaResult | None
    seconds: float
