"""The empirical privacy audit: one-run canary audit and membership inference."""

from __future__ import annotations

from typing import Literal

from auditor.evidence._base import Record


class CanaryAudit(Record):
    """The one-run canary audit (Steinke, Nasr & Jagielski 2023)."""

    kind: Literal["synthetic", "mislabelled"]
    """synthetic (out-of-distribution) or mislabelled canaries."""
    canaries: int
    """Canaries made (m)."""
    included: int
    """Canaries that joined the training set (each with probability 1/2)."""
    guesses: int
    """In-or-out guesses made (r)."""
    correct: int
    """Correct guesses (v)."""
    k_plus: int
    """Guesses of 'in'."""
    k_minus: int
    """Guesses of 'out'."""
    confidence: float
    """Confidence of the lower bound."""
    epsilon_lower_bound: float
    """epsilon-hat: the largest epsilon the guesses reject at that confidence."""
    epsilon_theoretical: float | None
    """The accounted epsilon it is compared with; null without DP."""
    note: str
    """How to read the bound."""


class MiaResult(Record):
    """A loss-threshold membership-inference attack on one model."""

    model: str
    """The model attacked."""
    members: int
    """Training rows scored."""
    non_members: int
    """Held-out rows scored."""
    auc: float
    """ROC AUC of the attack."""
    tpr_at_0_1pct_fpr: float
    """True-positive rate at 0.1% false positives."""
    tpr_at_1pct_fpr: float
    """True-positive rate at 1% false positives."""
    advantage: float
    """Best TPR minus FPR."""
    calibrated_auc: float
    """AUC of the difficulty-calibrated attack (loss drop from the initial model)."""
    calibrated_advantage: float
    """Advantage of the calibrated attack."""
    roc: list[tuple[float, float]]
    """(FPR, TPR) points of the plain attack's ROC curve."""


class AuditSection(Record):
    """What the empirical privacy audit established."""

    canary: CanaryAudit | None
    """The canary audit of the trained (DP) model."""
    canary_baseline: CanaryAudit | None
    """The same canaries against the non-private baseline."""
    mia_dp: MiaResult | None
    """Membership inference on the trained (DP) model."""
    mia_baseline: MiaResult | None
    """Membership inference on the non-private baseline."""
    seconds: float
    """Audit wall time."""
