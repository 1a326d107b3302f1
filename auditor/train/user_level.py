"""User-level DP-SGD (``train.privacy.unit: subject``): the person is the unit.

Each step Poisson-samples people (not rows) at rate q; every row of a sampled
person joins the batch. Per-row gradients come from ``torch.func`` (vmap of
grad); they are summed per person, each person's sum is clipped to norm C, the
clipped sums are added, Gaussian noise of standard deviation sigma C is added
once, and the result is divided by the expected number of people per batch.
The accountant sees the same (q, sigma, steps) as example-level DP-SGD, with
people in place of rows, so epsilon is per person (McMahan et al. 2018,
"Learning Differentially Private Recurrent Language Models").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from opacus.accountants import create_accountant
from torch import nn
from torch.func import functional_call, grad_and_value, vmap

from auditor.config import TrainConfig
from auditor.train.accounting import PrivacyPlan
from auditor.train.bk import clipped_grads, supports_book_keeping
from auditor.train.loop import EpochCallback, Fit, LossFn, Score, _record, make_optimizer
from auditor.train.secure import SecureRandom


class PersonNoise:
    """The noise step, shaped like auditor's book-keeping optimizer so that the audit's instruments attach to it."""

    def __init__(self, params: list[nn.Parameter], noise_multiplier: float, clip: float, seed: int) -> None:
        self.params = params
        self.noise_multiplier = noise_multiplier
        self.max_grad_norm = clip
        self.secure: SecureRandom | None = None
        self.generator = torch.Generator(device=params[0].device).manual_seed(seed + 1)

    def _add_noise(self, summed: list[torch.Tensor]) -> None:
        std = self.noise_multiplier * self.max_grad_norm
        for tensor in summed:
            if self.secure is not None:
                tensor.add_(self.secure.normal_like(tensor, std))
            else:
                tensor.add_(torch.normal(0.0, std, tensor.shape, device=tensor.device, generator=self.generator))


def person_clipped_sum(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    person: torch.Tensor,
    people: int,
    clip: float,
    loss_fn: LossFn,
    chunk: int,
) -> tuple[list[torch.Tensor], float]:
    """Sum over people of each person's summed gradient clipped to ``clip``; also the rows' total loss.

    ``person`` gives each row's person index in 0 .. people - 1."""
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    params = {n: p.detach() for n, p in model.named_parameters() if p.requires_grad}
    frozen = {n: p.detach() for n, p in model.named_parameters() if not p.requires_grad}
    buffers = dict(model.named_buffers())

    def row_loss(weights: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, ({**weights, **frozen}, buffers), (xi.unsqueeze(0),))
        return loss_fn(out, yi.unsqueeze(0)).sum()

    per_row = vmap(grad_and_value(row_loss), in_dims=(None, 0, 0), randomness="different")
    sums = {n: torch.zeros((people, *params[n].shape), device=x.device, dtype=params[n].dtype) for n in names}
    total = 0.0
    for start in range(0, len(x), chunk):
        grads, losses = per_row(params, x[start : start + chunk], y[start : start + chunk])
        index = person[start : start + chunk]
        for n in names:
            sums[n].index_add_(0, index, grads[n])
        total += float(losses.sum())
    norms = torch.sqrt(sum(sums[n].flatten(1).pow(2).sum(1) for n in names))  # type: ignore[arg-type]
    factor = (clip / (norms + 1e-6)).clamp(max=1.0)
    return [torch.einsum("p,p...->...", factor, sums[n]) for n in names], total


def _rows_of(
    chosen: np.ndarray, order: np.ndarray, starts: np.ndarray, counts: np.ndarray, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows of the chosen people (``order`` sorted by person) and each row's position among them."""
    lengths = counts[chosen]
    person = np.repeat(np.arange(len(chosen)), lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    rows = order[np.repeat(starts[chosen], lengths) + offsets]
    return torch.from_numpy(rows).to(device), torch.from_numpy(person).to(device)


def train_private_subjects(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    codes: np.ndarray,
    config: TrainConfig,
    plan: PrivacyPlan,
    seed: int,
    on_epoch: EpochCallback | None,
    loss_fn: LossFn,
    score: Score,
    instrument: Callable[[Any], None] | None = None,
) -> tuple[Fit, int]:
    """User-level DP-SGD over the people in ``codes`` (one code per row of ``x``)."""
    device = next(model.parameters()).device
    x, y = x.to(device), y.to(device)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(counts)])
    people = len(counts)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(model, config)
    noise = PersonNoise(trainable, plan.noise_multiplier, config.privacy.max_grad_norm, seed)
    noise.secure = SecureRandom() if config.privacy.secure_rng else None
    if instrument is not None:
        instrument(noise)
    sampler = torch.Generator().manual_seed(seed)
    accountant = create_accountant(mechanism=plan.accountant)
    fit = Fit(model=model, clipping="per-person")
    fast = supports_book_keeping(model)  # MLPs: book-keeping with per-person norms; others: torch.func
    expected = plan.sample_rate * people
    for epoch in range(1, config.epochs + 1):
        model.train()
        started = time.perf_counter()
        loss_sum, rows = 0.0, 0
        for _ in range(plan.steps_per_epoch):
            if noise.secure is not None:
                chosen = np.nonzero(noise.secure.uniform(people) < plan.sample_rate)[0]
            else:
                chosen = np.nonzero(
                    torch.rand(people, generator=sampler, dtype=torch.float64).numpy() < plan.sample_rate
                )[0]
            index, person = _rows_of(chosen, order, starts, counts, device)
            if len(index) and fast and len(index) <= config.max_physical_batch_size:
                total = float(
                    clipped_grads(
                        model,  # type: ignore[arg-type]  # supports_book_keeping: a Sequential
                        x.index_select(0, index),
                        y.index_select(0, index),
                        config.privacy.max_grad_norm,
                        loss_fn=loss_fn,
                        groups=person,
                    )
                )
                summed = [p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p) for p in trainable]
            elif len(index):
                summed, total = person_clipped_sum(
                    model,
                    x.index_select(0, index),
                    y.index_select(0, index),
                    person,
                    len(chosen),
                    config.privacy.max_grad_norm,
                    loss_fn,
                    config.max_physical_batch_size,
                )
            else:
                summed, total = [torch.zeros_like(p) for p in trainable], 0.0
            noise._add_noise(summed)
            optimizer.zero_grad(set_to_none=True)
            for p, g in zip(trainable, summed, strict=True):
                p.grad = (g / expected).to(p.dtype)
            optimizer.step()
            accountant.step(noise_multiplier=plan.noise_multiplier, sample_rate=plan.sample_rate)
            loss_sum += total
            rows += len(index)
        fit.epoch_seconds.append(time.perf_counter() - started)
        _record(fit, epoch, [loss_sum / max(rows, 1)], score)
        if on_epoch:
            on_epoch(epoch, config.epochs)
    steps = sum(entry[2] for entry in accountant.history)
    fit.steps = steps
    return fit, steps
