"""Evidence of a distributed (DDP) training run: who trained, on what, and what each rank used."""

from __future__ import annotations

from typing import Literal

from auditor.evidence._base import Record


class RankRun(Record):
    """One rank of one training run, with the energy its own CodeCarbon tracker measured."""

    run: Literal["dp", "baseline"]
    """Which model the rank trained."""
    rank: int
    """Global rank."""
    device: str
    """Device the rank trained on."""
    rows: int
    """Training rows in the rank's shard."""
    energy_kwh: float | None
    """Energy measured in the rank's process; null with energy.enabled false."""
    energy_method: str | None
    """How CodeCarbon measured the rank's CPU energy (measured or estimated, and on what basis)."""


class Distributed(Record):
    """DDP training: the world, the backend and the per-rank batch. The accounting is per global batch."""

    launcher: Literal["spawn", "torchrun"]
    """spawn: audit run started its own local processes (train.nproc); torchrun: it joined torchrun's group."""
    world_size: int
    """Processes that trained each model."""
    backend: Literal["gloo", "nccl"]
    """torch.distributed backend: gloo on CPU, NCCL on GPUs."""
    per_rank_batch: float
    """DP: each rank's expected Poisson batch (q x its shard); baseline: each rank's fixed batch."""
    baseline_per_rank_batch: int | None
    """The non-private baseline's fixed batch per rank; null without a baseline."""
    note: str
    """How the noise and the sampling are shared out, in words."""
    ranks: list[RankRun]
    """Every rank of every run, with the energy its own tracker measured."""
    ranks_energy_kwh: float | None
    """The ranks' own figures summed (training loops only); null when energy was not measured."""
    energy_note: str
    """How the stage energy relates to the per-rank figures."""
