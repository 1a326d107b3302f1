"""The train stage's evidence: the task, the model, DP-SGD, the non-private baseline, utility and groups."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from auditor.evidence._base import Record
from auditor.evidence.distributed import Distributed
from auditor.evidence.subjects import Subjects
from auditor.evidence.transformers import LanguageModel, PretrainedModel, TextInputs

Accountant = Literal["prv", "rdp"]
Clipping = Literal["bk", "ghost", "hooks", "functorch", "per-person", "none"]
TaskFamily = Literal["classification", "regression", "generation"]
ModelKind = Literal["binary", "multiclass", "regression", "language-model"]


class TaskInfo(Record):
    """What the models learn, and how auditor knew."""

    name: str
    """The task, as registered on the task axis (e.g. tabular-classification, tabular-regression)."""
    family: TaskFamily
    """Classification (a class label) or regression (a number)."""
    description: str
    """What the task predicts and the loss it trains with."""
    source: Literal["config", "inferred"]
    """Whether train.task named the task or auditor inferred it from the data."""
    reason: str
    """Why this task: 'set in train.task', or the inference rule that picked it."""


class EpochPoint(Record):
    """Progress after one epoch."""

    epoch: int
    """Epoch number, from 1."""
    train_loss: float
    """Mean training loss over the epoch's batches."""
    value: float | None
    """The held-out primary metric after this epoch (training.curve_metric names it); null when undefined."""


class Privacy(Record):
    """The DP-SGD guarantee and the settings it rests on."""

    accountant: Accountant
    """Accountant whose epsilon is reported (the more conservative of Opacus' and the cross-check)."""
    accountant_requested: Accountant
    """Accountant asked for in train.privacy.accountant."""
    accountant_note: str | None
    """Why the reported accountant differs from the requested one, if it does."""
    epsilon: float
    """Privacy loss epsilon spent by the whole training run, rounded up."""
    epsilon_opacus: float
    """Epsilon from Opacus' own accountant."""
    epsilon_crosscheck: float | None
    """Epsilon from the independent cross-check for the same sigma, q, steps and delta."""
    crosscheck: str | None
    """The library and accountant that produced the cross-check."""
    delta: float
    """Delta of the (epsilon, delta)-DP guarantee."""
    delta_source: str
    """Where delta came from (the config, or the 1/(10 N) default)."""
    target_epsilon: float | None
    """Epsilon the noise was calibrated to, when train.privacy.target_epsilon was given."""
    noise_multiplier: float
    """Gaussian noise standard deviation, as a multiple of the clipping norm (sigma)."""
    sample_rate: float
    """Poisson sampling rate q: the probability that a row joins a batch."""
    expected_batch_size: float
    """q times the number of training rows."""
    steps: int
    """Optimizer steps the accountant counted."""
    epochs: int
    """Training epochs."""
    max_grad_norm: float
    """Per-example gradient clipping norm C."""
    poisson_sampling: bool
    """Whether batches were Poisson-sampled, as the accounting assumes."""
    clipping: Clipping
    """Per-example clipping engine: book-keeping, ghost clipping, hooks or functorch."""
    unit: str
    """The privacy unit the guarantee protects."""
    secure_mode: bool
    """Whether the noise came from a cryptographically secure generator."""
    secure_mode_note: str
    """Why secure mode is on or off, and what that means for the guarantee."""
    includes_canaries: bool
    """Whether audit canaries were in the training set (and so in the accounting)."""
    epsilon_curve: list[tuple[int, float]]
    """(steps, epsilon) for the report's chart: Opacus' bound, and the reported epsilon as the last point."""


class MetricRow(Record):
    """One held-out metric of the model next to the non-private baseline: the cost of privacy."""

    name: str
    """Metric name, e.g. accuracy, roc_auc, mse, r2."""
    baseline: float | None
    """The non-private baseline's value; null without a baseline or when undefined."""
    model: float | None
    """The trained (DP) model's value."""
    difference: float | None
    """model minus baseline."""


class Utility(Record):
    """The task's primary metric: the one figure a reader compares across tasks and runs."""

    metric: str
    """Name of the primary metric (accuracy for classification, r2 for regression)."""
    higher_is_better: bool
    """Whether a larger value is better."""
    value: float | None
    """The trained (DP) model's value on held-out data."""
    baseline: float | None
    """The non-private baseline's value."""
    difference: float | None
    """value minus baseline: what privacy cost in this metric."""


class TrivialComparison(Record):
    """Whether the model beats the trivial predictor on held-out data (paired t interval of the error gain)."""

    loss: str
    """The per-example error compared (0-1 error for classification, squared error for regression)."""
    trivial: str
    """The trivial predictor: the majority class or the mean target of the training split."""
    rows: int
    """Held-out rows compared."""
    model_loss: float
    """Mean held-out error of the trained (DP) model."""
    trivial_loss: float
    """Mean held-out error of the trivial predictor."""
    improvement: float
    """trivial_loss minus model_loss: positive when the model is better."""
    interval_low: float | None
    """Lower end of the confidence interval of the improvement (null with fewer than 2 rows)."""
    interval_high: float | None
    """Upper end of the confidence interval of the improvement."""
    confidence: float
    """Two-sided confidence level of the interval."""
    baseline_improvement: float | None
    """The same improvement for the non-private baseline."""


class Baseline(Record):
    """The non-private model, trained on the same split from the same initial weights."""

    metrics: dict[str, float | None]
    """Held-out metrics, named by the task."""
    seconds_per_epoch: float
    """Mean optimisation time per epoch (evaluation excluded)."""
    epochs: int
    """Training epochs."""
    curve: list[EpochPoint]
    """Progress after each epoch."""


class ExcludedColumn(Record):
    """A column that is not a model input, and why."""

    name: str
    """Column name (masked when it holds personal data)."""
    reason: str
    """Why it is not a feature."""


class GroupRow(Record):
    """Held-out metrics of one group of the sensitive attribute."""

    group: str
    """Group value."""
    count: int
    """Held-out rows in the group."""
    dp: dict[str, float | None]
    """The trained (DP) model's metrics for the group."""
    baseline: dict[str, float | None] | None
    """The non-private baseline's metrics for the group."""
    difference: float | None
    """DP minus baseline, in the primary group metric."""
    dp_low: float | None = None
    """Lower end of the DP model's group metric interval (Clopper-Pearson, Bonferroni over the groups)."""
    dp_high: float | None = None
    """Upper end of that interval."""


class GroupMetrics(Record):
    """Per-group utility for the sensitive attribute, DP and non-private side by side."""

    attribute: str
    """The sensitive attribute (train.sensitive_attribute)."""
    metric: str
    """The metric the gaps are measured in."""
    rows: list[GroupRow]
    """One row per group."""
    gap_dp: float
    """Largest minus smallest group value for the DP model."""
    gap_baseline: float | None
    """The same gap for the non-private baseline."""
    gap_widening: float | None
    """gap_dp minus gap_baseline: how much DP widened the gap."""
    gap_low: float | None = None
    """Lower end of gap_dp's interval: the best group's lower bound minus the worst group's upper bound (at least 0)."""
    gap_high: float | None = None
    """Upper end: the best group's upper bound minus the worst group's lower bound."""
    widening_low: float | None = None
    """Lower end of gap_widening's interval (both gaps' intervals, Bonferroni over both models)."""
    widening_high: float | None = None
    """Upper end of that interval."""
    smallest_group: int = 0
    """Held-out rows in the smallest group."""
    interval_method: str | None = None
    """How the intervals were computed; null when the metric is not a proportion."""


class LayerRewrite(Record):
    """A layer that Opacus' ModuleValidator.fix replaced so that DP-SGD can train the model."""

    path: str
    """Module path inside the model."""
    before: str
    """The layer as configured."""
    after: str
    """The layer as trained."""


class WeightCheck(Record):
    """The post-training check that the trainable weights moved (opacus#820: LoRA weights that never moved)."""

    model: str
    """Which model: the DP model or the non-private baseline."""
    tensors: int
    """Trainable tensors compared with their initial values."""
    unchanged: int
    """Trainable tensors with max|Δ| = 0. DP noise moves every trained tensor, so any is an error."""
    unchanged_examples: list[str]
    """Up to five of them, by parameter name."""
    max_abs_delta: float
    """Largest absolute change of any trainable weight."""


class ModelInfo(Record):
    """The model both runs trained."""

    name: str
    """train.model as configured."""
    architecture: str
    """One-line summary of the layers as trained."""
    parameters: int
    """Trainable parameters."""
    kind: ModelKind
    """Binary or multiclass classifier, or regressor."""
    output_dim: int
    """Width of the model's output."""
    classes: list[str]
    """Class labels (empty for regression; masked when personal data)."""
    device: str
    """Device the models trained on."""
    init_weights_sha256: str | None = None
    """SHA-256 of train.init_weights, when the models started from a file."""
    rewrites: list[LayerRewrite] = Field(default_factory=list)
    """Layers replaced for DP-SGD; the non-private baseline trains the same rewritten model."""
    pretrained: PretrainedModel | None = None
    """The pretrained model and how it was fine-tuned; null for models built from scratch."""
    language_model: LanguageModel | None = None
    """causal-lm: the language model and its DP handling; null for other tasks."""


class TrainingSection(Record):
    """What the train stage established."""

    task: TaskInfo
    """The task trained."""
    model: ModelInfo
    """The model."""
    privacy: Privacy | None
    """The DP guarantee; null when train.privacy.enabled is false."""
    metrics: dict[str, float | None]
    """Held-out metrics of the trained (DP) model, named by the task."""
    utility: Utility
    """The primary metric, with and without DP."""
    comparison: list[MetricRow]
    """Every held-out metric, baseline next to the model."""
    trivial: TrivialComparison
    """The model against the trivial predictor."""
    seconds_per_epoch: float
    """Mean optimisation time per epoch of the trained (DP) model."""
    time_ratio: float | None
    """Seconds per epoch of the DP model over the non-private baseline's."""
    curve_metric: str
    """The metric recorded in the curves after each epoch."""
    curve: list[EpochPoint]
    """Progress after each epoch of the trained (DP) model."""
    baseline: Baseline | None
    """The non-private baseline; null when train.baseline is false."""
    features: list[str]
    """Columns used as model inputs."""
    excluded_columns: list[ExcludedColumn]
    """Columns kept out of the model, with the reason."""
    quasi_identifiers_in_features: list[str]
    """Quasi-identifiers among the features."""
    k_anonymity_features: int | None
    """Smallest group over those quasi-identifiers (k), or null when there are none."""
    train_rows: int
    """Training rows, canaries excluded."""
    test_rows: int
    """Held-out rows."""
    training_examples: int
    """N: examples in the training set as trained, the included audit canaries with the rows.
    Delta's default (1/(10 N)) and its limit (1/N) use this N."""
    delta_limit: float
    """1/N: delta must be well below it."""
    delta_units: int = 0
    """N in delta_limit: training examples, or people under user-level DP (privacy.unit: subject)."""
    flops_estimate: float
    """Floating-point operations of training, counted by PyTorch's FlopCounterMode."""
    flops_method: str = ""
    """How flops_estimate was measured, for EU AI Act Annex XI §1.2(d)."""
    flops_6nd: float | None = None
    """Cross-check for transformers: 6 x non-embedding parameters x token positions processed."""
    text: TextInputs | None = None
    """Tokenisation and token throughput; null for non-text tasks."""
    weights_changed: list[WeightCheck] = Field(default_factory=list)
    """Per model, whether the trainable weights moved during training."""
    training_seconds: float
    """Wall time of both training runs."""
    subjects: Subjects | None = None
    """The people behind the rows (data.subject_id, or a column proposed from the scan) and the per-person
    guarantee; null when no column identifies people."""
    distributed: Distributed | None = None
    """DDP training (train.nproc or torchrun): world size, backend, per-rank batch and energy; null in one process."""
    groups: GroupMetrics | None
    """Per-group utility; null without train.sensitive_attribute."""
