"""Regression from table columns: a numeric target, squared error, reported in the target's own units."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd
import torch

from auditor.errors import InputError
from auditor.tasks.base import Family, Prepared, Task
from auditor.train.preprocess import split_indices, tabular_features, tabular_prepared

if TYPE_CHECKING:
    from auditor.config import TrainConfig
    from auditor.data import LoadedData
    from auditor.evidence import PiiSection

CANARY_RANGE = 4.0  # synthetic canary targets, in training standard deviations


def _numeric_target(data: LoadedData) -> pd.Series:
    return pd.to_numeric(data.frame[data.target], errors="coerce")


class TabularRegression(Task):
    name: ClassVar[str] = "tabular-regression"
    family: ClassVar[Family] = "regression"
    description: ClassVar[str] = "a numeric target predicted from table columns (squared error)"
    primary_metric: ClassVar[str] = "r2"
    higher_is_better: ClassVar[bool] = True
    primary_group_metric: ClassVar[str] = "mae"
    error_name: ClassVar[str] = "squared error (standardised target)"
    trivial_name: ClassVar[str] = "the mean target of the training split"

    def accepts(self, data: LoadedData) -> str | None:
        if data.format == "imagefolder":
            return "needs a table, not an image folder"
        values = _numeric_target(data)
        if values.isna().any() or not np.isfinite(values.to_numpy(dtype=np.float64)).all():
            return f"target column {data.target!r} is not numeric in every row"
        return None

    def prepare(self, data: LoadedData, pii: PiiSection | None, config: TrainConfig, seed: int) -> Prepared:
        problem = self.accepts(data)
        if problem is not None:
            raise InputError(f"{problem} (train.task: {self.name})", where=str(data.path))
        raw = _numeric_target(data).to_numpy(dtype=np.float64)
        train, test = split_indices(raw, config.test_fraction, seed, stratify=False)
        mean, std = float(raw[train].mean()), float(raw[train].std())
        std = std if std > 0 else 1.0
        target = ((raw - mean) / std).astype(np.float32)
        encoded = tabular_features(data.frame, data.target, config, pii, train, data.subject)
        return tabular_prepared(encoded, target, train, test, output_dim=1, classes=[], target_scale=(mean, std))

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (outputs.reshape(-1) - targets.to(outputs.dtype)).square()

    def _errors(self, outputs: np.ndarray, targets: np.ndarray, prepared: Prepared) -> tuple[np.ndarray, np.ndarray]:
        mean, std = prepared.target_scale
        predicted = outputs.reshape(-1).astype(np.float64) * std + mean
        actual = targets.astype(np.float64) * std + mean
        return predicted - actual, actual

    def metrics(self, outputs: np.ndarray, targets: np.ndarray, prepared: Prepared) -> dict[str, float | None]:
        errors, actual = self._errors(outputs, targets, prepared)
        mse = float(np.mean(errors**2))
        spread = float(np.sum((actual - actual.mean()) ** 2))
        return {
            "mse": round(mse, 6),
            "rmse": round(mse**0.5, 6),
            "mae": round(float(np.mean(np.abs(errors))), 6),
            "r2": None if spread == 0 else round(1.0 - float(np.sum(errors**2)) / spread, 6),
            "loss": round(float(np.mean((outputs.reshape(-1) - targets) ** 2)), 6),
        }

    def errors(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        squared: np.ndarray = (outputs.reshape(-1).astype(np.float64) - targets.astype(np.float64)) ** 2
        return squared

    def trivial_errors(self, prepared: Prepared) -> np.ndarray:
        mean = float(prepared.y_train.double().mean())
        squared: np.ndarray = (prepared.y_test.numpy().astype(np.float64) - mean) ** 2
        return squared

    def group_metrics(self, outputs: np.ndarray, targets: np.ndarray, prepared: Prepared) -> dict[str, float | None]:
        errors, _ = self._errors(outputs, targets, prepared)
        return {"mae": round(float(np.mean(np.abs(errors))), 6), "mse": round(float(np.mean(errors**2)), 6)}

    def random_targets(self, rng: np.random.Generator, count: int, prepared: Prepared) -> torch.Tensor:
        return torch.from_numpy(rng.uniform(-CANARY_RANGE, CANARY_RANGE, size=count).astype(np.float32))

    def wrong_targets(self, rng: np.random.Generator, targets: torch.Tensor, prepared: Prepared) -> torch.Tensor:
        shift = rng.choice([-1.0, 1.0], size=len(targets)) * rng.uniform(2.0, CANARY_RANGE, size=len(targets))
        return targets + torch.from_numpy(shift.astype(np.float32))
