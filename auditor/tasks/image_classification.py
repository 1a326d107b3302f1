"""Classification of images read from an ImageFolder (one folder per class)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from auditor.tasks._classification import ClassificationTask
from auditor.tasks.base import Prepared

if TYPE_CHECKING:
    from auditor.config import TrainConfig
    from auditor.data import LoadedData
    from auditor.evidence import PiiSection


class ImageClassification(ClassificationTask):
    name: ClassVar[str] = "image-classification"
    description: ClassVar[str] = "a class label predicted from pixels (cross-entropy)"

    def accepts(self, data: LoadedData) -> str | None:
        return None if data.format == "imagefolder" else "needs an image folder (data.format: imagefolder)"

    def prepare(self, data: LoadedData, pii: PiiSection | None, config: TrainConfig, seed: int) -> Prepared:
        from auditor.train.images import prepare_images

        return prepare_images(data.readable, config, seed)
