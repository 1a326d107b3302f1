"""Training spread over DDP ranks (``train.nproc`` > 1), with the evidence of how it ran."""

from __future__ import annotations

import os

import torch
from torch import nn

from auditor.config import AuditConfig
from auditor.energy.meter import EnergyMeter
from auditor.errors import InputError
from auditor.evidence import Distributed, RankRun
from auditor.stage_names import TRAIN_DP
from auditor.tasks.base import Prepared, Task
from auditor.train.accounting import PrivacyPlan
from auditor.train.ddp import NOTE, DistributedFit, Job, spawn_training
from auditor.train.loop import EpochCallback, Fit
from auditor.train.torchrun import joined, lead


def check_nproc(nproc: int) -> None:
    """Refuse more local ranks than the machine has CPUs, and train.nproc under torchrun."""
    if joined() is not None:
        raise InputError("train.nproc (or --nproc) cannot be combined with torchrun: the ranks come from torchrun")
    cpus = os.cpu_count() or 1
    if nproc > cpus:
        raise InputError(
            f"train.nproc is {nproc} but this machine has {cpus} CPUs; use --nproc {cpus} or fewer "
            "(or torchrun across machines)"
        )


TORCHRUN_ENERGY_NOTE = (
    "the stage energy is rank 0's own CodeCarbon tracker plus every other rank's tracker over its training "
    "loop, each restricted to its own process and GPU"
)
ENERGY_NOTE = (
    "the stage energy is the launching process's CodeCarbon tracker, which in process mode counts its child "
    "processes, so it covers every local rank, their start-up and the communication; each rank's own tracker "
    "measured its training loop alone, a breakdown of that total that is not added to it again"
)


class Spread:
    """Runs a training job on ``train.nproc`` local ranks; inactive (one process) when nproc is 1."""

    def __init__(
        self,
        config: AuditConfig,
        task: Task,
        prepared: Prepared,
        x: torch.Tensor,
        y: torch.Tensor,
        seed: int,
        meter: EnergyMeter | None,
        on_epoch: EpochCallback | None,
    ) -> None:
        self.config, self.task, self.prepared = config, task, prepared
        self.x, self.y, self.seed = x, y, seed
        self.meter, self.on_epoch = meter, on_epoch
        self.launch = joined()
        self.world = self.launch.world if self.launch is not None else config.train.nproc
        self.active = self.world > 1
        self.runs: dict[str, tuple[DistributedFit, PrivacyPlan | None]] = {}

    def fit(self, stage: str, model: nn.Module, plan: PrivacyPlan | None) -> tuple[Fit, int]:
        if self.launch is None:
            check_nproc(self.world)
        measure = self.meter is not None and self.config.energy.enabled
        job = Job(
            private=plan is not None,
            model=model,
            x=self.x,
            y=self.y,
            x_test=self.prepared.x_test,
            y_test=self.prepared.y_test,
            config=self.config.train,
            plan=plan,
            seed=self.seed,
            task=self.task,
            prepared=self.prepared,
            energy=self.config.energy if measure else None,
        )
        if self.launch is None:
            result = spawn_training(job, self.world, self.on_epoch)
        else:
            result = lead(job, self.on_epoch)
            if self.meter is not None:  # rank 0's figures are in the stage's own tracker already
                for rank in result.ranks:
                    if rank.rank != 0 and rank.energy is not None:
                        self.meter.add_process(stage, rank.energy)
        self.runs[stage] = (result, plan)
        return result.fit, result.steps

    def evidence(self) -> Distributed | None:
        if not self.runs:
            return None
        ranks = []
        for stage, (result, _) in self.runs.items():
            for rank in result.ranks:
                ranks.append(
                    RankRun(
                        run="dp" if stage == TRAIN_DP else "baseline",
                        rank=rank.rank,
                        device=rank.device,
                        rows=rank.rows,
                        energy_kwh=rank.energy["energy_consumed"] if rank.energy is not None else None,
                        energy_method=rank.method,
                    )
                )
        measured = any(r.energy_kwh is not None for r in ranks)
        first = next(iter(self.runs.values()))[0]
        dp = self.runs.get(TRAIN_DP)
        train = self.config.train
        per_rank = dp[1].expected_batch_size / self.world if dp is not None and dp[1] is not None else None
        baseline_batch = max(1, train.batch_size // self.world) if len(self.runs) > (dp is not None) else None
        return Distributed(
            launcher="spawn" if self.launch is None else "torchrun",
            world_size=self.world,
            backend="nccl" if first.backend == "nccl" else "gloo",
            per_rank_batch=round(per_rank if per_rank is not None else float(baseline_batch or 0), 6),
            baseline_per_rank_batch=baseline_batch,
            note=NOTE,
            ranks=ranks,
            ranks_energy_kwh=sum(r.energy_kwh for r in ranks if r.energy_kwh is not None) if measured else None,
            energy_note=ENERGY_NOTE if self.launch is None else TORCHRUN_ENERGY_NOTE,
        )
