"""What every classification task shares: cross-entropy, the classification metrics, the class prior."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from scipy.special import softmax
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, recall_score, roc_auc_score

from auditor.tasks.base import Family, Prepared, Task


def class_probabilities(outputs: np.ndarray) -> np.ndarray:
    probs: np.ndarray = softmax(outputs.astype(np.float64), axis=1)
    return probs


class ClassificationTask(Task):
    family: ClassVar[Family] = "classification"
    primary_metric: ClassVar[str] = "accuracy"
    higher_is_better: ClassVar[bool] = True
    primary_group_metric: ClassVar[str] = "accuracy"
    error_name: ClassVar[str] = "0-1 error (1 - accuracy)"
    trivial_name: ClassVar[str] = "the majority class of the training split"

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(outputs, targets, reduction="none")

    def metrics(self, outputs: np.ndarray, targets: np.ndarray, prepared: Prepared) -> dict[str, float | None]:
        probs = class_probabilities(outputs)
        predicted = probs.argmax(axis=1)
        present = np.unique(targets)
        roc_auc: float | None = None
        if len(present) == probs.shape[1] and len(present) > 1:
            if probs.shape[1] == 2:
                roc_auc = float(roc_auc_score(targets, probs[:, 1]))
            else:
                roc_auc = float(roc_auc_score(targets, probs, multi_class="ovr", average="macro"))
        picked = np.clip(probs[np.arange(len(targets)), targets], 1e-12, 1.0)
        return {
            "accuracy": round(float(accuracy_score(targets, predicted)), 6),
            "balanced_accuracy": round(float(balanced_accuracy_score(targets, predicted)), 6),
            "macro_f1": round(float(f1_score(targets, predicted, average="macro", zero_division=0)), 6),
            "roc_auc": None if roc_auc is None else round(roc_auc, 6),
            "log_loss": round(float(-np.log(picked).mean()), 6),
        }

    def errors(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        wrong: np.ndarray = (outputs.argmax(axis=1) != targets).astype(np.float64)
        return wrong

    def trivial_errors(self, prepared: Prepared) -> np.ndarray:
        majority = int(np.bincount(prepared.y_train.numpy(), minlength=prepared.output_dim).argmax())
        wrong: np.ndarray = (prepared.y_test.numpy() != majority).astype(np.float64)
        return wrong

    def group_metrics(self, outputs: np.ndarray, targets: np.ndarray, prepared: Prepared) -> dict[str, float | None]:
        predicted = outputs.argmax(axis=1)
        selection = float(np.mean(predicted == 1)) if prepared.output_dim == 2 else None
        return {
            "accuracy": round(float(np.mean(predicted == targets)), 6),
            "macro_recall": round(float(recall_score(targets, predicted, average="macro", zero_division=0)), 6),
            "selection_rate": None if selection is None else round(selection, 6),
        }

    def random_targets(self, rng: np.random.Generator, count: int, prepared: Prepared) -> torch.Tensor:
        return torch.from_numpy(rng.integers(0, prepared.output_dim, size=count).astype(np.int64))

    def wrong_targets(self, rng: np.random.Generator, targets: torch.Tensor, prepared: Prepared) -> torch.Tensor:
        shift = torch.from_numpy(rng.integers(1, prepared.output_dim, size=len(targets)).astype(np.int64))
        return (targets + shift) % prepared.output_dim
