"""DP training with Opacus, next to a non-private baseline."""

from auditor.train.preprocess import Prepared, prepare_tabular
from auditor.train.stage import TrainArtifacts, train_models

__all__ = ["Prepared", "TrainArtifacts", "prepare_tabular", "train_models"]
