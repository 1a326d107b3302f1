"""Distributed training over torch.distributed: gloo on CPU, NCCL on GPU (``train.nproc``).

Each rank holds a shard of the rows (a seeded permutation split round-robin)
and Poisson-samples its shard at the global sampling rate q, so the union of
the local batches is exactly the single-process Poisson batch and the
accounting (q, steps, sigma) does not change. As in Opacus'
DistributedDPOptimizer, only rank 0 adds noise; the clipped sums are then
all-reduced and divided by the total expected batch size. Other models use
Opacus' own DPDDP path (``make_private`` on a DPDDP-wrapped module), with a
sampler that keeps the ranks in step.

Every rank measures its own energy with its own CodeCarbon tracker; the parent
adds the ranks' figures to the stage. Rank 0 alone returns the model.
"""

from __future__ import annotations

import dataclasses
import io
import os
import queue
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from opacus.accountants import create_accountant
from torch import nn

from auditor.config import EnergyConfig, TrainConfig
from auditor.evidence import EpochPoint
from auditor.tasks.base import Prepared, Task
from auditor.train.accounting import PrivacyPlan
from auditor.train.bk import BookKeepingDPOptimizer
from auditor.train.loop import (
    Fit,
    LossFn,
    Score,
    _bk_epoch,
    _record,
    accuracy_score,
    choose_clipping,
    cross_entropy,
    make_optimizer,
)
from auditor.train.secure import SecureRandom
from auditor.train.tensors import shuffled_batches

NOTE = (
    "Each rank Poisson-samples its shard at the global rate q, so the union of the local batches is the "
    "single-process Poisson batch and the accounting is per global batch; only rank 0 adds the noise, "
    "once per step, and the clipped sums are all-reduced"
)


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
    task: Task | None = None
    """With ``prepared``: the loss and the per-epoch score come from the task (cross-entropy and accuracy otherwise)."""
    prepared: Prepared | None = None
    energy: EnergyConfig | None = None
    """Each rank measures its own energy with these settings; None measures nothing."""


@dataclass
class RankReport:
    rank: int
    device: str
    rows: int
    energy: dict[str, float] | None
    method: str | None


@dataclass
class DistributedFit:
    fit: Fit
    steps: int
    backend: str
    world: int
    ranks: list[RankReport] = field(default_factory=list)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def backend_for(world: int) -> str:
    return "nccl" if torch.cuda.is_available() and torch.cuda.device_count() >= world else "gloo"


def _average_grads(model: nn.Module) -> None:
    world = dist.get_world_size()
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad.div_(world)


def _loss_and_score(job: Job) -> tuple[LossFn, Score]:
    if job.task is not None and job.prepared is not None:
        from auditor.train.metrics import task_score

        return job.task.loss, task_score(job.task, job.prepared)
    return cross_entropy, accuracy_score(job.x_test, job.y_test)


def shard_of(rows: int, seed: int, rank: int, world: int) -> torch.Tensor:
    return torch.randperm(rows, generator=torch.Generator().manual_seed(seed))[rank::world]


def _train_rank(rank: int, world: int, job: Job, on_epoch: Callable[[int], None]) -> tuple[Fit, int]:
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    model = job.model.to(device)
    shard = shard_of(len(job.x), job.seed, rank, world)
    x, y = job.x[shard].to(device), job.y[shard].to(device)
    loss_fn, score = _loss_and_score(job)
    fit = Fit(model=model)
    if not job.private:
        optimizer = make_optimizer(model, job.config)
        generator = torch.Generator().manual_seed(job.seed + rank)
        per_rank_batch = max(1, job.config.batch_size // world)
        for epoch in range(1, job.config.epochs + 1):
            started = time.perf_counter()
            losses = []
            batches = list(shuffled_batches(x, y, per_rank_batch, generator))
            # Every rank must take the same number of steps: the shortest shard decides.
            count = torch.tensor([len(batches)], device=device)
            dist.all_reduce(count, op=dist.ReduceOp.MIN)
            for xb, yb in batches[: int(count)]:
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(xb), yb).mean()
                torch.autograd.backward([loss])
                _average_grads(model)
                optimizer.step()
                losses.append(loss.item())
            fit.epoch_seconds.append(time.perf_counter() - started)
            if rank == 0:
                _record(fit, epoch, losses, score)
                on_epoch(epoch)
        return fit, 0
    plan = job.plan
    assert plan is not None
    if choose_clipping(model, job.config) != "bk":
        return _train_rank_engine(rank, job, model, device, loss_fn, score, on_epoch)
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
        losses = _bk_epoch(model, optimizer, x, y, plan, job.config, sampler, loss_fn, secure)
        fit.epoch_seconds.append(time.perf_counter() - started)
        if rank == 0:
            _record(fit, epoch, losses, score)
            on_epoch(epoch)
    fit.clipping = "bk"
    return fit, sum(entry[2] for entry in accountant.history)


def _train_rank_engine(
    rank: int,
    job: Job,
    model: nn.Module,
    device: torch.device,
    loss_fn: LossFn,
    score: Score,
    on_epoch: Callable[[int], None],
) -> tuple[Fit, int]:
    """Opacus' own distributed path: make_private on a DPDDP-wrapped module, over the whole dataset.

    Opacus' distributed sampler shards the rows itself; it is replaced by one that
    yields every step (empty batches included) so that no rank falls out of step."""
    from opacus import PrivacyEngine
    from opacus.distributed import DifferentiallyPrivateDistributedDataParallel as DPDDP

    from auditor.train.loop import _engine_epoch, _make_private, opacus_notices_silenced
    from auditor.train.secure import LockstepDistributedSampler, secure_noise
    from auditor.train.tensors import BatchTensorDataset, batch_loader

    plan = job.plan
    assert plan is not None
    clipping = choose_clipping(model, job.config)
    with opacus_notices_silenced():
        engine = PrivacyEngine(accountant=plan.accountant, secure_mode=False)
    wrapped = DPDDP(model)
    kwargs: dict[str, Any] = {
        "module": wrapped,
        "optimizer": make_optimizer(wrapped, job.config),
        "data_loader": batch_loader(BatchTensorDataset(job.x, job.y), job.config.batch_size),
        "noise_multiplier": plan.noise_multiplier,
        "max_grad_norm": job.config.privacy.max_grad_norm,
        "poisson_sampling": True,
        "grad_sample_mode": clipping,
        "noise_generator": torch.Generator(device=device).manual_seed(job.seed + 1),
    }
    with opacus_notices_silenced():
        train_model, optimizer, criterion, loader = _make_private(engine, clipping, kwargs, loss_fn)
    sampler = loader.batch_sampler
    sampler.__class__ = LockstepDistributedSampler
    sampler.shuffle_seed = job.seed
    sampler.generator = torch.Generator().manual_seed(job.seed + 7 * (rank + 1))
    if job.config.privacy.secure_rng:
        sampler.secure = SecureRandom()
        if rank == 0:  # Opacus' distributed optimizer adds noise on rank 0 only
            secure_noise(optimizer, SecureRandom())
    fit = Fit(model=model, clipping=clipping)
    for epoch in range(1, job.config.epochs + 1):
        sampler.set_epoch(epoch)
        started = time.perf_counter()
        with opacus_notices_silenced():
            losses = _engine_epoch(train_model, optimizer, loader, criterion, job.config)
        fit.epoch_seconds.append(time.perf_counter() - started)
        if rank == 0:
            _record(fit, epoch, losses, score)
            on_epoch(epoch)
    return fit, sum(entry[2] for entry in engine.accountant.history)


@contextmanager
def _rank_energy(job: Job, gpu: bool, out: dict[str, Any]) -> Iterator[None]:
    """Measure this rank's process with its own CodeCarbon tracker (restricted to its GPU)."""
    if job.energy is None or not job.energy.enabled:
        yield
        return
    from auditor.energy.meter import cuda_synchronize, new_tracker
    from auditor.energy.method import cpu_method, describe_hardware

    tracker = new_tracker(job.energy, gpu_ids=[torch.cuda.current_device()] if gpu else None)
    tracker.start()
    try:
        yield
    finally:
        cuda_synchronize()
        cpu, _, _, _ = describe_hardware(tracker)
        data = tracker.final_emissions_data if tracker.stop() is not None else None
        out["method"] = cpu_method(cpu, job.energy).how
        if data is not None:
            out["energy"] = {
                "energy_consumed": float(data.energy_consumed),
                "emissions": float(data.emissions),
                "duration": float(data.duration),
                "cpu_energy": float(data.cpu_energy),
                "gpu_energy": float(data.gpu_energy),
                "ram_energy": float(data.ram_energy),
                "ram_power": float(data.ram_power),
            }


def run_rank(rank: int, world: int, job: Job, on_epoch: Callable[[int], None]) -> tuple[Fit, int, RankReport]:
    """Train one rank inside an initialised process group; every rank returns its report."""
    torch.manual_seed(job.seed)
    gpu = dist.get_backend() == "nccl"
    measured: dict[str, Any] = {}
    with _rank_energy(job, gpu, measured):
        fit, steps = _train_rank(rank, world, job, on_epoch)
    rows = len(shard_of(len(job.x), job.seed, rank, world))
    device = f"cuda:{torch.cuda.current_device()}" if gpu else "cpu"
    return fit, steps, RankReport(rank, device, rows, measured.get("energy"), measured.get("method"))


def _worker(rank: int, world: int, port: int, backend: str, job: Job, messages: Any) -> None:
    dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
        if backend == "nccl":
            torch.cuda.set_device(rank)
        fit, steps, report = run_rank(rank, world, job, lambda epoch: messages.put(("epoch", epoch)))
        messages.put(("rank", report))
        if rank == 0:
            # Plain bytes: tensors sent as shared memory would vanish when this process exits.
            buffer = io.BytesIO()
            torch.save({k: v.detach().cpu() for k, v in fit.model.state_dict().items()}, buffer)
            curve = [p.model_dump() for p in fit.curve]
            messages.put(("done", buffer.getvalue(), fit.epoch_seconds, curve, steps, fit.clipping))
    finally:
        dist.destroy_process_group()


class RankFailed(RuntimeError):
    """A training rank raised or died; the message is the rank's last error line."""


def _last_line(error: BaseException) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def train_distributed(job: Job, world: int, on_epoch: Callable[[int, int], None] | None = None) -> tuple[Fit, int]:
    """Train on ``world`` local processes; returns the rank-0 model, its timings and the steps accounted."""
    result = spawn_training(job, world, on_epoch)
    return result.fit, result.steps


def spawn_training(job: Job, world: int, on_epoch: Callable[[int, int], None] | None = None) -> DistributedFit:
    """Spawn ``world`` ranks, relay their progress, and gather rank 0's model and every rank's energy."""
    backend = backend_for(world)
    context = mp.get_context("spawn")
    messages = context.Queue()
    model = job.model
    device = next(model.parameters()).device
    cpu_job = dataclasses.replace(job, model=model.cpu())
    processes = mp.start_processes(  # type: ignore[attr-defined,no-untyped-call]
        _worker, args=(world, free_port(), backend, cpu_job, messages), nprocs=world, join=False, start_method="spawn"
    )
    done: tuple[Any, ...] | None = None
    ranks: list[RankReport] = []
    finished = False
    while True:
        try:
            message = messages.get(timeout=0.2)
        except queue.Empty:
            if finished:
                break
            try:
                finished = processes.join(timeout=0)
            except Exception as error:  # a rank raised or was killed: the others are terminated
                raise RankFailed(f"distributed training failed: {_last_line(error)}") from None
            continue
        if message[0] == "epoch" and on_epoch is not None:
            on_epoch(int(message[1]), job.config.epochs)
        elif message[0] == "rank":
            ranks.append(message[1])
        elif message[0] == "done":
            done = message
    if done is None:
        raise RankFailed("distributed training failed: rank 0 returned no model")
    _, state, epoch_seconds, curve, steps, clipping = done
    model.load_state_dict(torch.load(io.BytesIO(state), weights_only=True))
    model.to(device)
    fit = Fit(
        model=model,
        curve=[EpochPoint(**p) for p in curve],
        epoch_seconds=epoch_seconds,
        steps=steps,
        clipping=clipping if job.private else "none",
    )
    return DistributedFit(fit=fit, steps=steps, backend=backend, world=world, ranks=sorted(ranks, key=lambda r: r.rank))
