"""Canaries for the one-run audit: made before training, each included with probability 1/2.

Two kinds:
- ``synthetic`` (default): out-of-distribution inputs from the task (every
  feature uniform in [-4, 4] standard deviations, noise images, or texts of
  random vocabulary tokens) with random targets. Nothing in
  the real data pulls on them, so a model that memorises shows it clearly:
  the most powerful choice for a pass/fail sanity check.
- ``mislabelled``: training rows with a wrong target (another class, or a
  regression target moved by 2 to 4 standard deviations). The source rows leave
  the training set (otherwise each original would pull against its canary),
  and the included half come back mislabelled. More realistic, less power.

On the credit example (MLP 256-256, 30 epochs, batch 512, 800 canaries) the
non-private baseline gives epsilon_hat of about 1.9 with synthetic canaries and
the DP model 0; docs/benchmarks.md has the measured figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from auditor.config import PrivacyAuditConfig
from auditor.tasks.base import Prepared, Task

MIN_CANARIES = 100
MAX_CANARIES = 1000


@dataclass(frozen=True)
class CanarySet:
    kind: str
    features: torch.Tensor
    labels: torch.Tensor
    included: np.ndarray
    removed_rows: np.ndarray

    @property
    def count(self) -> int:
        return int(self.labels.shape[0])


def canary_count(config: PrivacyAuditConfig, train_rows: int) -> int:
    if config.canaries != "auto":
        return int(config.canaries)
    return int(min(MAX_CANARIES, max(MIN_CANARIES, round(train_rows / 10)), train_rows))


def make_canaries(config: PrivacyAuditConfig, task: Task, prepared: Prepared, seed: int) -> CanarySet:
    """Canaries with targets from the task: random ones (synthetic), or each source row's target made wrong."""
    rng = np.random.default_rng(seed + 7919)
    x_train, y_train = prepared.x_train, prepared.y_train
    m = canary_count(config, len(x_train))
    if config.canary_kind == "synthetic":
        features = task.synthetic_inputs(rng, m, prepared)
        labels = task.random_targets(rng, m, prepared)
        removed = np.array([], dtype=np.int64)
    else:
        removed = np.sort(rng.choice(len(x_train), size=m, replace=False))
        features = x_train[torch.from_numpy(removed)].clone()
        labels = task.wrong_targets(rng, y_train[torch.from_numpy(removed)], prepared)
    included = rng.random(m) < 0.5
    return CanarySet(kind=config.canary_kind, features=features, labels=labels, included=included, removed_rows=removed)


def with_canaries(x: torch.Tensor, y: torch.Tensor, canaries: CanarySet) -> tuple[torch.Tensor, torch.Tensor]:
    """The training set as trained: the real rows first (minus canary sources), then the included canaries."""
    real = torch.from_numpy(np.setdiff1d(np.arange(len(x)), canaries.removed_rows))
    keep = torch.from_numpy(canaries.included)
    return torch.cat([x[real], canaries.features[keep]]), torch.cat([y[real], canaries.labels[keep]])
