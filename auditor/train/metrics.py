"""Model outputs on held-out data, and the comparison with the trivial predictor."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.stats import t as student_t
from torch import nn

if TYPE_CHECKING:
    from auditor.tasks.base import Prepared, Task


@torch.no_grad()
def model_outputs(model: nn.Module, features: torch.Tensor, batch: int = 4096) -> np.ndarray:
    """Raw model outputs (logits, or predictions for regression), computed in eval mode and in batches."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    chunks = [model(features[i : i + batch].to(device)).float().cpu() for i in range(0, len(features), batch)]
    model.train(was_training)
    return torch.cat(chunks).numpy().astype(np.float64)


def task_score(task: Task, prepared: Prepared) -> Callable[[nn.Module], float]:
    """The per-epoch curve value: the task's primary metric on the held-out split."""

    def score(model: nn.Module) -> float:
        value = task.metrics(model_outputs(model, prepared.x_test), prepared.y_test.numpy(), prepared)
        primary = value.get(task.primary_metric)
        return float("nan") if primary is None else primary

    return score


def predict(model: nn.Module, features: torch.Tensor, batch: int = 4096) -> np.ndarray:
    """Class probabilities of a classifier."""
    outputs = torch.from_numpy(model_outputs(model, features, batch))
    return torch.softmax(outputs, dim=1).numpy()


def paired_interval(gains: np.ndarray, confidence: float) -> tuple[float, float | None, float | None]:
    """Mean of paired per-example differences with its two-sided Student t interval.

    Deterministic: the same predictions give the same interval, so a verdict built
    on it cannot flip between identical reruns."""
    n = len(gains)
    mean = float(np.mean(gains)) if n else 0.0
    if n < 2:
        return mean, None, None
    spread = float(np.std(gains, ddof=1)) / np.sqrt(n)
    half = float(student_t.ppf(0.5 + confidence / 2, df=n - 1)) * spread
    return mean, mean - half, mean + half
