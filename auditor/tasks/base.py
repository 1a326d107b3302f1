"""The task axis: what is learnt from the data, and how it is scored.

A task turns the loaded data into tensors, builds the model, gives the
per-example loss that both training loops and the privacy audit use, and
names its own metrics. Adding a task is one file with a ``Task`` subclass and
one ``register`` line in ``auditor/tasks/__init__.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import torch
from torch import nn

from auditor.errors import InputError
from auditor.evidence import ExcludedColumn

if TYPE_CHECKING:
    from auditor.config import TrainConfig
    from auditor.data import LoadedData
    from auditor.evidence import LanguageModel, PiiSection, PretrainedModel

Family = Literal["classification", "regression", "generation"]

OOD_RANGE = 4.0


@dataclass(frozen=True)
class Prepared:
    """A task's training and held-out tensors, and what went into them.

    ``y`` holds class indices for classification and standardised targets for
    regression (``target_scale`` = mean and standard deviation of the raw
    training targets, to report errors in the target's own units).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    output_dim: int
    classes: list[str]
    features: list[str]
    excluded: list[ExcludedColumn] = field(default_factory=list)
    groups_test: np.ndarray | None = None
    quasi_identifiers: list[str] = field(default_factory=list)
    k_features: int | None = None
    target_scale: tuple[float, float] = (0.0, 1.0)
    text: Any = None
    """The text task's tokenisation and checkpoint (auditor.tasks.text_classification.TextData)."""
    train_index: np.ndarray | None = None
    """The data rows of the training split, in order (tables only): where each training example came from."""

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


class Task(ABC):
    """One kind of learning problem. Implementations are stateless: everything a run needs is in ``Prepared``."""

    name: ClassVar[str]
    family: ClassVar[Family]
    description: ClassVar[str]
    primary_metric: ClassVar[str]
    higher_is_better: ClassVar[bool]

    @abstractmethod
    def accepts(self, data: LoadedData) -> str | None:
        """Why this task cannot learn from ``data`` (one line), or None when it can."""

    @abstractmethod
    def prepare(self, data: LoadedData, pii: PiiSection | None, config: TrainConfig, seed: int) -> Prepared:
        """Split and encode the data; the split is seeded, statistics come from the training split only."""

    def build_model(self, prepared: Prepared, config: TrainConfig, weights: Path | None) -> BuiltModel:
        """The model both runs start from, made Opacus-compatible (rewrites are reported)."""
        from auditor.train.models import build_model

        if not isinstance(config.model, str):
            raise InputError(f"task {self.name} does not fine-tune pretrained models (train.model: {{hf: ...}})")
        return build_model(config.model, prepared.input_shape, prepared.output_dim, config.hidden_layers, weights)

    @abstractmethod
    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Per-example losses (shape ``(batch,)``); callers reduce them."""

    @abstractmethod
    def metrics(self, outputs: np.ndarray, targets: np.ndarray, prepared: Prepared) -> dict[str, float | None]:
        """Named held-out metrics, ``primary_metric`` among them."""

    @abstractmethod
    def errors(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Per-example held-out errors the trivial-predictor comparison uses (0-1 error, squared error)."""

    @abstractmethod
    def trivial_errors(self, prepared: Prepared) -> np.ndarray:
        """Per-example held-out errors of the trivial predictor (majority class, or the training mean)."""

    error_name: ClassVar[str]
    trivial_name: ClassVar[str]

    @abstractmethod
    def group_metrics(self, outputs: np.ndarray, targets: np.ndarray, prepared: Prepared) -> dict[str, float | None]:
        """Metrics for one group of held-out rows (``primary_group_metric`` among them)."""

    primary_group_metric: ClassVar[str]

    @abstractmethod
    def random_targets(self, rng: np.random.Generator, count: int, prepared: Prepared) -> torch.Tensor:
        """Targets for synthetic canaries: drawn independently of any input."""

    @abstractmethod
    def wrong_targets(self, rng: np.random.Generator, targets: torch.Tensor, prepared: Prepared) -> torch.Tensor:
        """Targets for mislabelled canaries: each one different from the true one."""

    def synthetic_inputs(self, rng: np.random.Generator, count: int, prepared: Prepared) -> torch.Tensor:
        """Out-of-distribution inputs for synthetic canaries: every value uniform in [-4, 4] standard deviations."""
        shape = (count, *prepared.x_train.shape[1:])
        return torch.from_numpy(rng.uniform(-OOD_RANGE, OOD_RANGE, size=shape).astype(np.float32))

    def example_losses(self, outputs: np.ndarray, targets: torch.Tensor) -> np.ndarray:
        """Per-example losses as numpy, for membership inference and the canary audit."""
        with torch.no_grad():
            losses = self.loss(torch.from_numpy(outputs), targets)
        return losses.numpy().astype(np.float64)


@dataclass(frozen=True)
class Rewrite:
    """One layer that Opacus' ModuleValidator.fix replaced so that DP-SGD can train it."""

    path: str
    before: str
    after: str


@dataclass(frozen=True)
class BuiltModel:
    module: nn.Module
    rewrites: list[Rewrite]
    pretrained: PretrainedModel | None = None
    """For a pretrained model: what it is and how it is fine-tuned."""
    language_model: LanguageModel | None = None
    """For causal-lm: the language model and its DP handling."""


TASKS: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Add a task; a second task with the same name is a programming error."""
    if task.name in TASKS:
        raise ValueError(f"task {task.name!r} is already registered")
    TASKS[task.name] = task
    return task


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        known = ", ".join(sorted(TASKS))
        raise InputError(f"unknown task {name!r} (train.task); known tasks: {known}") from None
