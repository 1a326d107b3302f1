"""DP-SGD training next to a non-private baseline."""

from auditor.tasks.base import Prepared
from auditor.train.stage import TrainArtifacts, train_models

__all__ = ["Prepared", "TrainArtifacts", "train_models"]
