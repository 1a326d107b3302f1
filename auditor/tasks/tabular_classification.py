"""Classification from table columns: the label is any column with a few distinct values."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from auditor.tasks._classification import ClassificationTask
from auditor.tasks.base import Prepared
from auditor.train.preprocess import split_indices, tabular_features, tabular_prepared

if TYPE_CHECKING:
    from auditor.config import TrainConfig
    from auditor.data import LoadedData
    from auditor.evidence import PiiSection


class TabularClassification(ClassificationTask):
    name: ClassVar[str] = "tabular-classification"
    description: ClassVar[str] = "a class label predicted from table columns (cross-entropy)"

    def accepts(self, data: LoadedData) -> str | None:
        return "needs a table, not an image folder" if data.format == "imagefolder" else None

    def prepare(self, data: LoadedData, pii: PiiSection | None, config: TrainConfig, seed: int) -> Prepared:
        labels_text = data.frame[data.target].astype("str").to_numpy()
        classes = sorted(set(labels_text))
        labels = np.searchsorted(np.array(classes), labels_text).astype(np.int64)
        train, test = split_indices(labels, config.test_fraction, seed)
        encoded = tabular_features(data.frame, data.target, config, pii, train, data.subject)
        return tabular_prepared(encoded, labels, train, test, output_dim=len(classes), classes=classes)
