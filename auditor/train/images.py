"""Image datasets for training: a torchvision ImageFolder read into tensors.

Small datasets (the digits example, tests) fit in memory; pixels are scaled to
[0, 1] and standardised with statistics of the training split only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from auditor.config import TrainConfig
from auditor.errors import InputError
from auditor.tasks.base import Prepared
from auditor.train.preprocess import split_indices


def _load(root: Path, size: int) -> tuple[torch.Tensor, np.ndarray, list[str]]:
    from PIL import Image
    from torchvision import datasets, transforms

    try:
        probe = datasets.ImageFolder(str(root))
    except (FileNotFoundError, RuntimeError) as exc:
        raise InputError(f"not an image folder ({exc})", where=str(root)) from None
    with Image.open(probe.samples[0][0]) as first:
        channels = 1 if first.mode in {"L", "1", "I", "F"} else 3
    transform = transforms.Compose(
        [
            transforms.Grayscale(num_output_channels=channels),
            transforms.Resize((size, size)),
            transforms.ToTensor(),
        ]
    )
    dataset = datasets.ImageFolder(str(root), transform=transform)
    images, labels = [], []
    for index in range(len(dataset)):
        try:
            image, label = dataset[index]
        except OSError as exc:
            raise InputError(f"cannot read image {dataset.samples[index][0]} ({exc})", where=str(root)) from None
        images.append(image)
        labels.append(label)
    return torch.stack(images), np.array(labels), list(dataset.classes)


def prepare_images(root: Path, config: TrainConfig, seed: int) -> Prepared:
    pixels, labels, classes = _load(root, config.image_size)
    train, test = split_indices(labels, config.test_fraction, seed)
    mean = float(pixels[torch.from_numpy(train)].mean())
    std = float(pixels[torch.from_numpy(train)].std()) or 1.0
    pixels = (pixels - mean) / std
    y = torch.from_numpy(labels.astype(np.int64))
    return Prepared(
        x_train=pixels[torch.from_numpy(train)],
        y_train=y[torch.from_numpy(train)],
        x_test=pixels[torch.from_numpy(test)],
        y_test=y[torch.from_numpy(test)],
        output_dim=len(classes),
        classes=classes,
        features=["pixels"],
    )
