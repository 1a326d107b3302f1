"""DP training, the non-private baseline and per-group utility."""

from __future__ import annotations

from auditor.evidence._base import Record


class Metrics(Record):
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    roc_auc: float | None
    loss: float


class EpochPoint(Record):
    epoch: int
    train_loss: float
    val_accuracy: float


class Privacy(Record):
    accountant: str
    accountant_requested: str
    accountant_note: str | None
    epsilon: float
    epsilon_opacus: float
    epsilon_crosscheck: float | None
    crosscheck: str | None
    delta: float
    delta_source: str
    target_epsilon: float | None
    noise_multiplier: float
    sample_rate: float
    expected_batch_size: float
    steps: int
    epochs: int
    max_grad_norm: float
    poisson_sampling: bool
    clipping: str
    unit: str
    secure_mode: bool
    secure_mode_note: str
    includes_canaries: bool
    epsilon_curve: list[tuple[int, float]]


class Baseline(Record):
    metrics: Metrics
    seconds_per_epoch: float
    epochs: int
    curve: list[EpochPoint]


class ExcludedColumn(Record):
    name: str
    reason: str


class GroupRow(Record):
    group: str
    count: int
    dp: dict[str, float | None]
    baseline: dict[str, float | None] | None


class GroupMetrics(Record):
    attribute: str
    metric: str
    rows: list[GroupRow]
    gap_dp: float
    gap_baseline: float | None
    gap_widening: float | None


class ModelInfo(Record):
    name: str
    architecture: str
    parameters: int
    task: str
    classes: list[str]
    device: str
    init_weights_sha256: str | None = None  # train.init_weights, when the models started from a file


class TrainingSection(Record):
    model: ModelInfo
    privacy: Privacy | None
    metrics: Metrics
    seconds_per_epoch: float
    curve: list[EpochPoint]
    baseline: Baseline | None
    features: list[str]
    excluded_columns: list[ExcludedColumn]
    quasi_identifiers_in_features: list[str]
    k_anonymity_features: int | None
    train_rows: int
    test_rows: int
    flops_estimate: float
    training_seconds: float
    groups: GroupMetrics | None
