"""Distributed training over torch.distributed: gloo on CPU, NCCL on GPU (``train.nproc``).

Each rank holds a shard of the rows (a seeded permutation split round-robin)
and Poisson-samples its shard at the global sampling rate q, so the union of
the local batches is exactly the single-process Poisson batch and the
accounting (q, steps, sigma) does not change. As in Opacus'
DistributedDPOptimizer, only rank 0 adds noise; the clipped sums are then
all-reduced and divided by the total expected batch size. Other models use
Opacus' own DPDDP path (``make_private`` on a DPDDP-wrapped module).
"""

from __future__ import annotations

import io
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from opacus.accountants import create_accountant
from torch import nn

from auditor.config import TrainConfig
from auditor.evidence import EpochPoint
from auditor.train.accounting import PrivacyPlan
from auditor.train.bk import BookKeepingDPOptimizer
from auditor.train.loop import (
    Fit,
    _bk_epoch,
    _record,
    accuracy_score,
    choose_clipping,
    cross_entropy,
    make_optimizer,
)
from auditor.train.secure import SecureRandom
from auditor.train.tensors import shuffled_batches


class DistributedBookKeepingDPOptimizer(BookKeepingDPOptimizer):
    """Noise on rank 0 only; then the noisy sum is all-reduced over the ranks."""

    def _add_noise(self, summed: list[torch.Tensor]) -> None:
        if dist.get_rank() == 0:
            super()._add_noise(summed)
        for tensor in summed:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)

    def _expected_total_batch(self) -> float:
        # expected_batch_size is per rank; the total is world_size times larger.
        return float(self.expected_batch_size * dist.get_world_size())


@dataclass(frozen=True)
class Job:
    private: bool
    model: nn.Module
    x: torch.Tensor
    y: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    config: TrainConfig
    plan: PrivacyPlan | None
    seed: int


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _average_grads(model: nn.Module) -> None:
    world = dist.get_world_size()
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad.div_(world)


def _train_rank(rank: int, world: int, job: Job) -> tuple[list[float], list[EpochPoint], int]:
    device = torch.device(f"cuda:{rank}") if dist.get_backend() == "nccl" else torch.device("cpu")
    model = job.model.to(device)
    shard = torch.randperm(len(job.x), generator=torch.Generator().manual_seed(job.seed))[rank::world]
    x, y = job.x[shard].to(device), job.y[shard].to(device)
    fit = Fit(model=model)
    steps = 0
    if not job.private:
        optimizer = make_optimizer(model, job.config)
        generator = torch.Generator().manual_seed(job.seed + rank)
        per_rank_batch = max(1, job.config.batch_size // world)
        for epoch in range(1, job.config.epochs + 1):
            started = time.perf_counter()
            losses = []
            batches = list(shuffled_batches(x, y, per_rank_batch, generator))
            # Every rank must take the same number of steps: the shortest shard decides.
            count = torch.tensor([len(batches)])
            dist.all_reduce(count, op=dist.ReduceOp.MIN)
            for xb, yb in batches[: int(count)]:
                optimizer.zero_grad(set_to_none=True)
                loss = cross_entropy(model(xb), yb).mean()
                torch.autograd.backward([loss])
                _average_grads(model)
                optimizer.step()
                losses.append(float(loss))
            fit.epoch_seconds.append(time.perf_counter() - started)
            if rank == 0:
                _record(fit, epoch, losses, accuracy_score(job.x_test, job.y_test))
        return fit.epoch_seconds, fit.curve, steps
    plan = job.plan
    assert plan is not None
    if choose_clipping(model, job.config) != "bk":
        return _train_rank_engine(rank, job, model, x, y, device)
    optimizer = DistributedBookKeepingDPOptimizer(
        make_optimizer(model, job.config),
        noise_multiplier=plan.noise_multiplier,
        max_grad_norm=job.config.privacy.max_grad_norm,
        expected_batch_size=len(shard) * plan.sample_rate,
        loss_reduction="mean",
        generator=torch.Generator(device=device).manual_seed(job.seed + 1),
    )
    accountant = create_accountant(mechanism=plan.accountant)
    if rank == 0:
        optimizer.attach_step_hook(accountant.get_optimizer_hook_fn(sample_rate=plan.sample_rate))
    sampler = torch.Generator(device=device).manual_seed(job.seed + 7 * (rank + 1))
    # Each rank draws its own secret Poisson masks; only rank 0 adds noise, from its own CSPRNG.
    secure = SecureRandom() if job.config.privacy.secure_rng else None
    optimizer.secure = secure
    for epoch in range(1, job.config.epochs + 1):
        started = time.perf_counter()
        losses = _bk_epoch(model, optimizer, x, y, plan, job.config, sampler, cross_entropy, secure)
        fit.epoch_seconds.append(time.perf_counter() - started)
        if rank == 0:
            _record(fit, epoch, losses, accuracy_score(job.x_test, job.y_test))
    steps = sum(entry[2] for entry in accountant.history)
    return fit.epoch_seconds, fit.curve, steps


def _train_rank_engine(
    rank: int, job: Job, model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device
) -> tuple[list[float], list[EpochPoint], int]:
    """Opacus' own distributed path: make_private on a DPDDP-wrapped module."""
    from opacus import PrivacyEngine
    from opacus.distributed import DifferentiallyPrivateDistributedDataParallel as DPDDP

    from auditor.train.loop import _engine_epoch, _make_private, opacus_notices_silenced
    from auditor.train.tensors import BatchTensorDataset, batch_loader

    plan = job.plan
    assert plan is not None
    if job.config.privacy.secure_rng:
        # Opacus' distributed optimizer adds noise on rank 0 only, with its own seeded generator.
        raise NotImplementedError("secure_rng with DDP needs book-keeping clipping (an MLP); use clipping: bk")
    clipping = choose_clipping(model, job.config)
    with opacus_notices_silenced():
        engine = PrivacyEngine(accountant=plan.accountant, secure_mode=False)
    wrapped = DPDDP(model)
    kwargs: dict[str, Any] = {
        "module": wrapped,
        "optimizer": make_optimizer(wrapped, job.config),
        "data_loader": batch_loader(BatchTensorDataset(x, y), max(1, job.config.batch_size // dist.get_world_size())),
        "noise_multiplier": plan.noise_multiplier,
        "max_grad_norm": job.config.privacy.max_grad_norm,
        "poisson_sampling": True,
        "grad_sample_mode": clipping,
        "noise_generator": torch.Generator(device=device).manual_seed(job.seed + 1),
    }
    with opacus_notices_silenced():
        train_model, optimizer, criterion, loader = _make_private(engine, clipping, kwargs, cross_entropy)
    fit = Fit(model=model)
    for epoch in range(1, job.config.epochs + 1):
        started = time.perf_counter()
        with opacus_notices_silenced():
            losses = _engine_epoch(train_model, optimizer, loader, criterion, job.config)
        fit.epoch_seconds.append(time.perf_counter() - started)
        if rank == 0:
            _record(fit, epoch, losses, accuracy_score(job.x_test, job.y_test))
    return fit.epoch_seconds, fit.curve, sum(entry[2] for entry in engine.accountant.history)


def _worker(rank: int, world: int, port: int, backend: str, job: Job, results: Any) -> None:
    dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
        torch.manual_seed(job.seed)
        epoch_seconds, curve, steps = _train_rank(rank, world, job)
        if rank == 0:
            # Plain bytes: tensors sent as shared memory would vanish when this process exits.
            buffer = io.BytesIO()
            torch.save({k: v.detach().cpu() for k, v in job.model.state_dict().items()}, buffer)
            results.put((buffer.getvalue(), epoch_seconds, [p.model_dump() for p in curve], steps))
    finally:
        dist.destroy_process_group()


def train_distributed(job: Job, world: int) -> tuple[Fit, int]:
    """Train on ``world`` local processes; returns the rank-0 model and timings, and the steps accounted."""
    backend = "nccl" if torch.cuda.is_available() and torch.cuda.device_count() >= world else "gloo"
    context = mp.get_context("spawn")
    results = context.SimpleQueue()
    mp.start_processes(  # type: ignore[attr-defined,no-untyped-call]
        _worker, args=(world, free_port(), backend, job, results), nprocs=world, start_method="spawn"
    )
    state, epoch_seconds, curve, steps = results.get()
    model = job.model
    model.load_state_dict(torch.load(io.BytesIO(state), weights_only=True))
    fit = Fit(
        model=model,
        curve=[EpochPoint(**p) for p in curve],
        epoch_seconds=epoch_seconds,
        steps=steps,
        clipping=choose_clipping(model, job.config) if job.private else "none",
    )
    return fit, steps
