"""``audit run`` under torchrun: join its process group instead of spawning one.

torchrun starts ``audit run`` once per rank (on one machine or across nodes,
env:// rendezvous). Rank 0 leads: it runs the whole pipeline and writes every
output and the history row. The other ranks follow: they take no input of
their own, receive each training job from rank 0 over a gloo control group,
train their shard, send back their report (rows, energy), and finally exit
with rank 0's exit code.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from auditor.errors import InputError
from auditor.train.ddp import DistributedFit, Job, RankReport, run_rank

VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
CONTROL_TIMEOUT = dt.timedelta(hours=6)
"""How long a follower waits for rank 0's next job (the scan before training can be long)."""

_STATE: dict[str, Any] = {}


@dataclass(frozen=True)
class Launch:
    rank: int
    local_rank: int
    world: int


def torchrun_env(environ: dict[str, str] | None = None) -> Launch | None:
    """The torchrun rank this process is, or None when not launched by torchrun (or with one rank)."""
    env = dict(os.environ) if environ is None else environ
    if "WORLD_SIZE" not in env and "TORCHELASTIC_RUN_ID" not in env:
        return None
    missing = [name for name in VARIABLES if not env.get(name)]
    if missing:
        raise InputError(
            f"torchrun environment incomplete: {', '.join(missing)} not set; launch audit run with torchrun, "
            "or unset WORLD_SIZE and TORCHELASTIC_RUN_ID"
        )
    try:
        rank, local_rank, world = int(env["RANK"]), int(env["LOCAL_RANK"]), int(env["WORLD_SIZE"])
        int(env["MASTER_PORT"])
    except ValueError:
        message = "torchrun environment: RANK, LOCAL_RANK, WORLD_SIZE and MASTER_PORT must be integers"
        raise InputError(message) from None
    if world < 1 or not 0 <= rank < world:
        raise InputError(f"torchrun environment: RANK {rank} is outside WORLD_SIZE {world}")
    return None if world == 1 else Launch(rank, local_rank, world)


def join(launch: Launch) -> None:
    """Join torchrun's process group (NCCL when this rank has a GPU, gloo otherwise) and a gloo control group."""
    backend = "nccl" if torch.cuda.is_available() and torch.cuda.device_count() > launch.local_rank else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(launch.local_rank)
    dist.init_process_group(backend, init_method="env://", rank=launch.rank, world_size=launch.world)
    _STATE["control"] = dist.new_group(backend="gloo", timeout=CONTROL_TIMEOUT)
    _STATE["launch"] = launch


def joined() -> Launch | None:
    launch: Launch | None = _STATE.get("launch")
    return launch


def leave() -> None:
    if _STATE.pop("launch", None) is not None and dist.is_initialized():
        dist.destroy_process_group()
    _STATE.pop("control", None)


def _broadcast(message: tuple[str, Any] | None) -> tuple[str, Any]:
    box: list[Any] = [message]
    dist.broadcast_object_list(box, src=0, group=_STATE["control"])
    received: tuple[str, Any] = box[0]
    return received


def _gather(report: RankReport) -> list[RankReport]:
    reports: list[Any] = [None] * dist.get_world_size() if dist.get_rank() == 0 else []
    dist.gather_object(report, reports if dist.get_rank() == 0 else None, dst=0, group=_STATE["control"])
    return [r for r in reports if r is not None]


def lead(job: Job, on_epoch: Callable[[int, int], None] | None) -> DistributedFit:
    """Rank 0: send the job to every rank, train shard 0 here, and gather every rank's report."""
    launch = joined()
    assert launch is not None and launch.rank == 0
    _broadcast(("job", dataclasses.replace(job, model=copy.deepcopy(job.model).cpu())))
    epochs = job.config.epochs
    fit, steps, report = run_rank(0, launch.world, job, lambda e: on_epoch(e, epochs) if on_epoch else None)
    reports = _gather(report)
    return DistributedFit(fit=fit, steps=steps, backend=str(dist.get_backend()), world=launch.world, ranks=reports)


def follow() -> int:
    """Ranks other than 0: train each job rank 0 sends; return rank 0's exit code when it ends."""
    launch = joined()
    assert launch is not None and launch.rank != 0
    while True:
        kind, payload = _broadcast(None)
        if kind == "end":
            return int(payload)
        _, _, report = run_rank(launch.rank, launch.world, payload, lambda _e: None)
        _gather(report)


@contextmanager
def leading() -> Iterator[None]:
    """Rank 0's command: whatever way it ends, tell the other ranks its exit code."""
    code = 3
    try:
        yield
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
        raise
    except InputError:
        code = 2
        raise
    except BaseException as error:
        exit_code = getattr(error, "exit_code", None)
        code = exit_code if isinstance(exit_code, int) else 3
        raise
    finally:
        try:
            _broadcast(("end", code))
        finally:
            leave()
