"""Training loops: the non-private baseline and DP-SGD, on the same split and hyperparameters.

Both loops time only the optimisation (per epoch); evaluation after each epoch
is timed separately and never counted in seconds per epoch.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from opacus import PrivacyEngine
from opacus.accountants import create_accountant
from opacus.data_loader import DPDataLoader
from opacus.utils.batch_memory_manager import BatchMemoryManager
from torch import nn

from auditor.config import TrainConfig
from auditor.errors import InputError
from auditor.evidence import EpochPoint
from auditor.train.accounting import PrivacyPlan
from auditor.train.bk import BookKeepingDPOptimizer, clipped_grads, supports_book_keeping, zero_grads
from auditor.train.bk_hooks import clipped_grads_hooked, supports_hooked_book_keeping
from auditor.train.metrics import predict
from auditor.train.secure import SecureRandom, secure_engine
from auditor.train.tensors import BatchTensorDataset, batch_loader, poisson_batches, shuffled_batches

EpochCallback = Callable[[int, int], None]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""Per-example losses from model outputs and targets (the task's ``loss``)."""
Score = Callable[[nn.Module], float]
"""The held-out figure recorded after each epoch (the task's primary metric)."""


def cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(outputs, targets, reduction="none")


class TaskCriterion(nn.Module):
    """A task's per-example loss as a criterion with a ``reduction``, the shape Opacus' ghost clipping needs."""

    def __init__(self, loss_fn: LossFn, reduction: str = "mean") -> None:
        super().__init__()
        self.loss_fn = loss_fn
        self.reduction = reduction

    def forward(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        losses = self.loss_fn(outputs, targets)
        if self.reduction == "none":
            return losses
        return losses.sum() if self.reduction == "sum" else losses.mean()


def accuracy_score(x_test: torch.Tensor, y_test: torch.Tensor) -> Score:
    """The default per-epoch score: held-out accuracy of a classifier."""

    def score(model: nn.Module) -> float:
        return float((predict(model, x_test).argmax(axis=1) == y_test.numpy()).mean())

    return score


@dataclass
class Fit:
    model: nn.Module
    curve: list[EpochPoint] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    steps: int = 0
    clipping: str = "none"
    note: str | None = None

    @property
    def seconds_per_epoch(self) -> float:
        return float(np.mean(self.epoch_seconds)) if self.epoch_seconds else 0.0


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    return torch.optim.SGD(model.parameters(), lr=config.learning_rate, momentum=config.momentum)


def _record(fit: Fit, epoch: int, losses: list[float], score: Score) -> None:
    value = score(fit.model)
    fit.curve.append(
        EpochPoint(
            epoch=epoch,
            train_loss=round(float(np.mean(losses)) if losses else 0.0, 6),
            value=round(value, 6) if np.isfinite(value) else None,
        )
    )


def train_baseline(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    config: TrainConfig,
    seed: int,
    on_epoch: EpochCallback | None = None,
    loss_fn: LossFn = cross_entropy,
    score: Score | None = None,
) -> Fit:
    device = next(model.parameters()).device
    optimizer = make_optimizer(model, config)
    score = score or accuracy_score(x_test, y_test)
    generator = torch.Generator().manual_seed(seed)
    fit = Fit(model=model)
    x, y = x.to(device), y.to(device)
    for epoch in range(1, config.epochs + 1):
        model.train()
        losses = []
        started = time.perf_counter()
        for xb, yb in shuffled_batches(x, y, config.batch_size, generator):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb).mean()
            torch.autograd.backward([loss])
            optimizer.step()
            losses.append(loss.item())
            fit.steps += 1
        fit.epoch_seconds.append(time.perf_counter() - started)
        _record(fit, epoch, losses, score)
        if on_epoch:
            on_epoch(epoch, config.epochs)
    return fit


def choose_clipping(model: nn.Module, config: TrainConfig) -> str:
    requested = config.privacy.clipping
    if requested == "bk" and not (supports_book_keeping(model) or supports_hooked_book_keeping(model)):
        raise InputError(
            "privacy.clipping: bk needs every trainable layer to be Linear or LayerNorm, none shared; "
            "use auto, ghost or hooks"
        )
    if requested != "auto":
        return requested
    if supports_book_keeping(model) or supports_hooked_book_keeping(model):
        return "bk"
    # Ghost clipping cannot accumulate physical batches (opacus#683).
    return "ghost" if config.batch_size <= config.max_physical_batch_size else "hooks"


def _physical(
    loader: DPDataLoader, optimizer: torch.optim.Optimizer, config: TrainConfig
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    if config.batch_size <= config.max_physical_batch_size:
        yield from loader
        return
    with BatchMemoryManager(
        data_loader=loader,
        max_physical_batch_size=config.max_physical_batch_size,
        optimizer=optimizer,
    ) as memory_safe:
        yield from memory_safe


def _bk_epoch(
    model: nn.Module,
    optimizer: BookKeepingDPOptimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    plan: PrivacyPlan,
    config: TrainConfig,
    generator: torch.Generator,
    loss_fn: LossFn,
    secure: SecureRandom | None = None,
) -> list[float]:
    """One epoch of Poisson-sampled DP-SGD with book-keeping clipping; returns the mean loss."""
    loss_sum = torch.zeros((), device=x.device)
    rows = 0
    physical = config.max_physical_batch_size
    clip = clipped_grads if supports_book_keeping(model) else clipped_grads_hooked
    for xb, yb in poisson_batches(x, y, plan.sample_rate, plan.steps_per_epoch, generator, secure):
        optimizer.zero_grad()
        if len(xb) == 0:
            zero_grads(model)
        for i, start in enumerate(range(0, len(xb), physical)):
            chunk_x, chunk_y = xb[start : start + physical], yb[start : start + physical]
            loss_sum += clip(
                model,  # type: ignore[arg-type]  # clipped_grads only gets a Sequential (supports_book_keeping)
                chunk_x,
                chunk_y,
                config.privacy.max_grad_norm,
                accumulate=i > 0,
                loss_fn=loss_fn,
            )
        rows += len(xb)
        optimizer.step()
    return [float(loss_sum) / max(rows, 1)]


def _engine_epoch(
    train_model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loader: DPDataLoader,
    criterion: Callable[..., torch.Tensor],
    config: TrainConfig,
) -> list[float]:
    device = next(train_model.parameters()).device
    losses: list[float] = []
    for xb, yb in _physical(loader, optimizer, config):
        optimizer.zero_grad()
        loss = criterion(train_model(xb.to(device)), yb.to(device))
        loss.backward()  # type: ignore[no-untyped-call]  # ghost clipping overrides backward()
        losses.append(float(loss.item()) if len(xb) else 0.0)
        optimizer.step()
    return losses


@contextmanager
def opacus_notices_silenced() -> Iterator[None]:
    """Silence two Opacus notices that the report already covers.

    "Secure RNG turned off" is Opacus' own generator, which auditor does not use for the noise
    (auditor/train/secure.py; privacy.secure_mode_note says which generator ran);
    "Full backward hook is firing..." is PyTorch telling Opacus' ghost clipping that
    the model's inputs need no gradient, which is expected here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Secure RNG turned off")
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        yield


def _make_private(
    engine: PrivacyEngine, clipping: str, kwargs: dict[str, Any], loss_fn: LossFn
) -> tuple[Any, Any, Any, Any]:
    if clipping == "ghost":
        return tuple(engine.make_private(criterion=TaskCriterion(loss_fn), **kwargs))
    model, optimizer, loader = engine.make_private(**kwargs)
    return model, optimizer, TaskCriterion(loss_fn), loader


def train_private(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    config: TrainConfig,
    plan: PrivacyPlan,
    seed: int,
    on_epoch: EpochCallback | None = None,
    loss_fn: LossFn = cross_entropy,
    score: Score | None = None,
    instrument: Callable[[Any], None] | None = None,
) -> tuple[Fit, int]:
    """DP-SGD with Opacus; returns the fit and the number of optimizer steps the accountant saw.

    ``instrument`` gets the DP optimizer once it is built (the white-box audit's gradient canaries)."""
    score = score or accuracy_score(x_test, y_test)
    device = next(model.parameters()).device
    clipping = choose_clipping(model, config)
    # The seeded generators stay for secure_rng: false (tests, research); the evidence then says the
    # guarantee does not hold against whoever has the seed.
    secure = SecureRandom() if config.privacy.secure_rng else None
    sampler_gen = torch.Generator().manual_seed(seed)
    noise_gen = torch.Generator(device=device).manual_seed(seed + 1)
    optimizer = make_optimizer(model, config)
    accountant = create_accountant(mechanism=plan.accountant)
    if clipping == "bk":
        x, y = x.to(device), y.to(device)
        if device.type != "cpu":
            sampler_gen = torch.Generator(device=device).manual_seed(seed)
        bk_optimizer = BookKeepingDPOptimizer(
            optimizer,
            noise_multiplier=plan.noise_multiplier,
            max_grad_norm=config.privacy.max_grad_norm,
            expected_batch_size=round(plan.expected_batch_size),
            loss_reduction="mean",
            generator=noise_gen,
        )
        bk_optimizer.secure = secure
        bk_optimizer.attach_step_hook(accountant.get_optimizer_hook_fn(sample_rate=plan.sample_rate))
        if instrument is not None:
            instrument(bk_optimizer)

        def run_epoch() -> list[float]:
            return _bk_epoch(model, bk_optimizer, x, y, plan, config, sampler_gen, loss_fn, secure)
    else:
        with opacus_notices_silenced():
            engine = PrivacyEngine(accountant=plan.accountant, secure_mode=False)
        engine.accountant = accountant
        base = batch_loader(BatchTensorDataset(x, y), config.batch_size)
        kwargs = {
            "module": model,
            "optimizer": optimizer,
            "data_loader": base,
            "noise_multiplier": plan.noise_multiplier,
            "max_grad_norm": config.privacy.max_grad_norm,
            "poisson_sampling": True,
            "grad_sample_mode": clipping,
            "noise_generator": noise_gen,
        }
        with opacus_notices_silenced():
            train_model, dp_optimizer, criterion, loader = _make_private(engine, clipping, kwargs, loss_fn)
        loader.batch_sampler.generator = sampler_gen
        if secure is not None:
            secure_engine(dp_optimizer, loader, secure)
        if instrument is not None:
            instrument(dp_optimizer)

        def run_epoch() -> list[float]:
            return _engine_epoch(train_model, dp_optimizer, loader, criterion, config)

    fit = Fit(model=model, clipping=clipping)
    for epoch in range(1, config.epochs + 1):
        model.train()
        started = time.perf_counter()
        with opacus_notices_silenced():
            losses = run_epoch()
        fit.epoch_seconds.append(time.perf_counter() - started)
        _record(fit, epoch, losses, score)
        if on_epoch:
            on_epoch(epoch, config.epochs)
    steps = sum(entry[2] for entry in accountant.history)
    fit.steps = steps
    return fit, steps
