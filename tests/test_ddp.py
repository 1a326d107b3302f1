"""DDP from ``audit run``: train.nproc trains both models on several ranks, with the same accounting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import write_small_example
from typer.testing import CliRunner

from auditor.config import PrivacyConfig, TrainConfig
from auditor.train.accounting import final_epsilon, plan_privacy
from auditor.train.ddp import Job, RankFailed, shard_of, spawn_training
from auditor.train.models import build_model


def _toy(rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(rows, 6, generator=generator)
    return x, (x[:, 0] - x[:, 2] > 0).long()


def test_shards_partition_the_rows() -> None:
    shards = [shard_of(101, 5, rank, 3) for rank in range(3)]
    joined = torch.cat(shards).sort().values
    assert torch.equal(joined, torch.arange(101))
    assert [len(s) for s in shards] == [34, 34, 33]


@pytest.mark.slow
def test_opacus_engine_path_on_two_ranks_keeps_the_accounting_with_secret_noise() -> None:
    """hooks clipping goes through Opacus' DPDDP; the lockstep sampler keeps the ranks in step."""
    x, y = _toy(600)
    config = TrainConfig(
        epochs=2,
        batch_size=64,
        learning_rate=0.2,
        hidden_layers=[16],
        privacy=PrivacyConfig(target_epsilon=4.0, clipping="hooks"),
    )
    plan = plan_privacy(len(x), config.batch_size, config.epochs, config.privacy)
    model = build_model("mlp", (6,), 2, [16]).module
    epochs: list[int] = []
    result = spawn_training(
        Job(True, model, x, y, x[:200], y[:200], config, plan, 0), world=2, on_epoch=lambda e, _n: epochs.append(e)
    )
    assert result.steps == plan.steps
    assert final_epsilon(plan, result.steps).epsilon == final_epsilon(plan, plan.steps).epsilon
    assert result.fit.clipping == "hooks" and epochs == [1, 2]
    assert [r.rank for r in result.ranks] == [0, 1] and sum(r.rows for r in result.ranks) == 600
    assert result.backend == "gloo"


@pytest.mark.slow
def test_a_failing_rank_is_an_error_not_a_hang() -> None:
    x, y = _toy(200)
    y[5] = 7  # a label outside the model's two outputs: cross-entropy raises on the rank that holds it
    config = TrainConfig(epochs=1, batch_size=200, learning_rate=0.1, hidden_layers=[4])
    model = build_model("mlp", (6,), 2, [4]).module
    with pytest.raises(RankFailed, match="distributed training failed"):
        spawn_training(Job(False, model, x, y, x[:50], y[:50], config, None, 0), world=2)


@pytest.mark.slow
def test_audit_run_with_nproc_trains_on_two_ranks_and_keeps_epsilon(tmp_path: Path) -> None:
    from auditor.cli import app

    config = write_small_example(tmp_path / "example", rows=800)
    epsilons = {}
    for nproc in (1, 2):
        out = tmp_path / f"out{nproc}"
        result = CliRunner().invoke(app, ["run", str(config), "-o", str(out), "--nproc", str(nproc), "--no-history"])
        assert result.exit_code in (0, 1), result.stderr
        evidence = json.loads((out / "evidence.json").read_text())
        assert all(s["status"] in ("ok", "skipped") for s in evidence["stages"]), evidence["stages"]
        training = evidence["training"]
        epsilons[nproc] = training["privacy"]["epsilon"]
        distributed = training["distributed"]
        if nproc == 1:
            assert distributed is None
            continue
        assert distributed["world_size"] == 2 and distributed["backend"] == "gloo"
        assert distributed["launcher"] == "spawn"
        ranks = distributed["ranks"]
        assert sorted((r["run"], r["rank"]) for r in ranks) == [("baseline", 0), ("baseline", 1), ("dp", 0), ("dp", 1)]
        assert sum(r["rows"] for r in ranks if r["run"] == "dp") == training["training_examples"]
        assert all(r["energy_kwh"] is not None and r["energy_kwh"] > 0 for r in ranks)
        assert distributed["per_rank_batch"] == pytest.approx(training["privacy"]["expected_batch_size"] / 2)
        assert training["utility"]["value"] > 0.6
        assert "2 ranks over gloo" in (out / "report.html").read_text()
    assert epsilons[1] == epsilons[2]


def test_more_ranks_than_cpus_is_an_input_error(small_config: Path, tmp_path: Path) -> None:
    import os

    from auditor.cli import app

    too_many = (os.cpu_count() or 1) + 1
    if too_many > 64:
        pytest.skip("train.nproc's own limit (64) comes first on this machine")
    result = CliRunner().invoke(app, ["run", str(small_config), "-o", str(tmp_path / "out"), "--nproc", str(too_many)])
    assert result.exit_code == 2
    assert f"train.nproc is {too_many} but this machine has" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_text_fine_tune_trains_on_two_ranks(text_example: Path) -> None:
    """A LoRA fine-tune of a (tiny) BERT goes through DDP with hooked book-keeping clipping."""
    from conftest import text_config

    from auditor.config import load_config
    from auditor.pipeline import run

    evidence = run(load_config(text_config(text_example, "ddp.yaml", train={"nproc": 2})))
    assert all(s.status in ("ok", "skipped") for s in evidence.stages), evidence.stages
    assert evidence.training is not None and evidence.training.distributed is not None
    assert evidence.training.distributed.world_size == 2
    assert evidence.training.privacy is not None and evidence.training.privacy.clipping == "bk"
    assert all(w.unchanged == 0 for w in evidence.training.weights_changed)


def test_torchrun_environment_is_read_and_checked() -> None:
    from auditor.errors import InputError
    from auditor.train.torchrun import Launch, torchrun_env

    assert torchrun_env({}) is None
    full = {"RANK": "1", "LOCAL_RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}
    assert torchrun_env(full) == Launch(rank=1, local_rank=0, world=2)
    assert torchrun_env({**full, "RANK": "0", "WORLD_SIZE": "1"}) is None
    with pytest.raises(InputError, match="torchrun environment incomplete: MASTER_ADDR, MASTER_PORT not set"):
        torchrun_env({"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "2"})
    with pytest.raises(InputError, match="must be integers"):
        torchrun_env({**full, "RANK": "one"})
    with pytest.raises(InputError, match="outside WORLD_SIZE"):
        torchrun_env({**full, "RANK": "2"})


def test_a_broken_torchrun_environment_is_exit_2(
    small_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.cli import app

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("MASTER_PORT", raising=False)
    result = CliRunner().invoke(app, ["run", str(small_config), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "torchrun environment incomplete" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_nproc_under_torchrun_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.errors import InputError
    from auditor.train import torchrun
    from auditor.train.spread import check_nproc

    monkeypatch.setitem(torchrun._STATE, "launch", torchrun.Launch(0, 0, 2))
    with pytest.raises(InputError, match="cannot be combined with torchrun"):
        check_nproc(2)


@pytest.mark.slow
def test_torchrun_two_nodes_on_localhost(tmp_path: Path) -> None:
    """torchrun --nnodes 2 --nproc-per-node 1, twice on one machine: rank 0 writes, both exit with its code."""
    import os
    import subprocess
    import sys

    from auditor.train.ddp import free_port

    config = write_small_example(tmp_path / "example", rows=600)
    port = str(free_port())
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "TORCHELASTIC_RUN_ID")}
    nodes = []
    for node in (0, 1):
        command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1"]
        command += ["--node-rank", str(node), "--master-addr", "127.0.0.1", "--master-port", port]
        command += ["-m", "auditor.cli", "run", str(config), "-o", str(tmp_path / f"out{node}"), "--no-history"]
        nodes.append(subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    finished = [node.communicate(timeout=600) for node in nodes]
    codes = [node.returncode for node in nodes]
    assert codes[0] in (0, 1), finished[0][1].decode()[-3000:]
    assert codes[1] == codes[0], finished[1][1].decode()[-3000:]
    assert not (tmp_path / "out1").exists()  # rank 1 writes nothing
    evidence = json.loads((tmp_path / "out0" / "evidence.json").read_text())
    distributed = evidence["training"]["distributed"]
    assert distributed["launcher"] == "torchrun" and distributed["world_size"] == 2
    assert sorted((r["run"], r["rank"]) for r in distributed["ranks"]) == [
        ("baseline", 0),
        ("baseline", 1),
        ("dp", 0),
        ("dp", 1),
    ]
    assert all(r["energy_kwh"] is not None for r in distributed["ranks"])
    assert evidence["training"]["privacy"]["steps"] > 0
