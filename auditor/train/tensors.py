"""Tensor datasets that fetch whole batches at once.

Opacus' DPDataLoader keeps its Poisson sampler; because the dataset has
``__getitems__`` the DataLoader hands it the sampled indices in one call, so
there is no per-row ``__getitem__`` and no per-row collation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from auditor.train.secure import SecureRandom


class BatchTensorDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    def __init__(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        self.features = features
        self.labels = labels

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.features[index], self.labels[index]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        return self.features[idx], self.labels[idx]


def keep_batch(batch: Any) -> Any:
    """Collate for ``__getitems__`` datasets: the batch is already stacked."""
    return batch


def batch_loader(dataset: BatchTensorDataset, batch_size: int) -> DataLoader[tuple[torch.Tensor, torch.Tensor]]:
    return DataLoader(dataset, batch_size=batch_size, collate_fn=keep_batch)


def shuffled_batches(
    features: torch.Tensor, labels: torch.Tensor, batch_size: int, generator: torch.Generator
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The non-private baseline's sampler: a seeded permutation sliced into batches."""
    order = torch.randperm(features.shape[0], generator=generator).to(features.device)
    for start in range(0, features.shape[0], batch_size):
        idx = order[start : start + batch_size]
        yield features.index_select(0, idx), labels.index_select(0, idx)


def poisson_batches(
    features: torch.Tensor,
    labels: torch.Tensor,
    sample_rate: float,
    steps: int,
    generator: torch.Generator,
    secure: SecureRandom | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Poisson sampling with Opacus' exact semantics, without a DataLoader.

    Each row joins each batch independently with probability ``sample_rate``,
    drawn exactly as ``opacus.utils.uniform_sampler.UniformWithReplacementSampler``
    draws it (one ``torch.rand`` over all rows per step, same generator), so the
    batches are identical; only the per-batch DataLoader machinery is gone.
    Batches vary in size and can be empty. With ``secure`` the masks come from
    the CSPRNG instead (the same distribution, and secret).
    """
    rows = features.shape[0]
    for _ in range(steps):
        if secure is not None:
            idx = secure.poisson_mask(rows, sample_rate, features.device).nonzero().squeeze(1)
        else:
            idx = torch.rand(rows, generator=generator, device=generator.device).lt_(sample_rate).nonzero().squeeze(1)
        yield features.index_select(0, idx), labels.index_select(0, idx)
