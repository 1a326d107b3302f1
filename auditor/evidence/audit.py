"""The empirical privacy audit: one-run canary audit and membership inference."""

from __future__ import annotations

from typing import Literal

from auditor.evidence._base import Record
from auditor.evidence.memorisation import ExposureAudit, ExtractionAudit

CanaryKind = Literal["synthetic", "mislabelled"]


class CanaryAudit(Record):
    """A one-run canary audit (Steinke, Nasr & Jagielski 2023)."""

    kind: CanaryKind
    """synthetic (out-of-distribution) or mislabelled training rows, scored on the final model."""
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
    max_refutable: float | None = None
    """The audit's power: the largest epsilon it could refute with these canaries (every guess right).
    An epsilon_hat of 0 means nothing above this was ruled out, and nothing at all below it."""
    note: str
    """How to read the bound."""


class GradientAudit(Record):
    """The white-box audit: Dirac gradient canaries inside DP-SGD, each an independent trial."""

    canaries: int
    """Gradient canaries (m): distinct parameter coordinates."""
    included: int
    """Canaries included (each with probability 1/2), then Poisson-sampled at every step like a row."""
    probes: int
    """Other coordinates read to measure the noise actually added (no canary there)."""
    noise_ratio: float
    """RMS of the noise read at the probes over the claimed noise (sigma x C): 1 when the noise is as claimed."""
    steps: int
    """Steps observed."""
    thresholds: int
    """Decision thresholds tried (Bonferroni-corrected)."""
    true_positives: int
    """Included canaries above the best threshold."""
    false_positives: int
    """Excluded canaries above it."""
    tpr_lower: float
    """Clopper-Pearson lower bound of the true-positive rate."""
    fpr_upper: float
    """Clopper-Pearson upper bound of the false-positive rate."""
    confidence: float
    """Confidence of the lower bound, all thresholds together."""
    epsilon_lower_bound: float
    """epsilon-hat: log((TPR_lower - delta) / FPR_upper) at the best threshold; above epsilon proves DP broken."""
    epsilon_theoretical: float
    """The accounted epsilon it is compared with."""
    max_refutable: float
    """The audit's power: the epsilon-hat it would give if every included canary were caught and none excluded."""
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
    advantage_low: float | None = None
    """Lower end of the advantage's confidence interval (DKW bound on both score distributions)."""
    advantage_high: float | None = None
    """Upper end of that interval."""
    advantage_method: str | None = None
    """How the interval was computed."""
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
    gradient: GradientAudit | None = None
    """The white-box audit of the DP training with gradient canaries; null when not run."""
    gradient_note: str | None = None
    """Why the white-box audit did not run, when it did not."""
    mia_dp: MiaResult | None
    """Membership inference on the trained (DP) model."""
    mia_baseline: MiaResult | None
    """Membership inference on the non-private baseline."""
    exposure: ExposureAudit | None = None
    """causal-lm: the Secret Sharer exposure of canaries inserted into the training text; null otherwise."""
    extraction: ExtractionAudit | None = None
    """causal-lm: the PII extraction test; null otherwise."""
    seconds: float
    """Audit wall time."""
