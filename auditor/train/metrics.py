"""Utility metrics on the held-out split."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score
from torch import nn

from auditor.evidence import Metrics


@torch.no_grad()
def predict(model: nn.Module, features: torch.Tensor, batch: int = 4096) -> np.ndarray:
    """Class probabilities, computed in eval mode and in batches."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    chunks = [
        torch.softmax(model(features[i : i + batch].to(device)), dim=1).cpu() for i in range(0, len(features), batch)
    ]
    model.train(was_training)
    return torch.cat(chunks).numpy().astype(np.float64)


def per_sample_loss(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    losses: np.ndarray = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1.0))
    return losses


def compute_metrics(probs: np.ndarray, labels: np.ndarray) -> Metrics:
    predicted = probs.argmax(axis=1)
    present = np.unique(labels)
    roc_auc: float | None = None
    if len(present) == probs.shape[1] and len(present) > 1:
        if probs.shape[1] == 2:
            roc_auc = float(roc_auc_score(labels, probs[:, 1]))
        else:
            roc_auc = float(roc_auc_score(labels, probs, multi_class="ovr", average="macro"))
    return Metrics(
        accuracy=round(float(accuracy_score(labels, predicted)), 6),
        balanced_accuracy=round(float(balanced_accuracy_score(labels, predicted)), 6),
        macro_f1=round(float(f1_score(labels, predicted, average="macro", zero_division=0)), 6),
        roc_auc=None if roc_auc is None else round(roc_auc, 6),
        loss=round(float(per_sample_loss(probs, labels).mean()), 6),
    )
