"""A new task and a new stage are each one file: this one. Nothing else in auditor is touched."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
import yaml

from auditor.config import TrainConfig, load_config
from auditor.data import LoadedData
from auditor.evidence import Evidence, PiiSection, TrainingSection, dump_evidence, evidence_json_schema, parse_evidence
from auditor.evidence._base import Record
from auditor.pipeline import run
from auditor.stages import RunContext, Stage, register, unregister
from auditor.tasks import TASKS, Prepared, Task
from auditor.tasks import register as register_task
from auditor.train.preprocess import split_indices, tabular_features, tabular_prepared


class AbsoluteErrorRegression(Task):
    """A toy task: regression trained on the absolute error, with the median as its trivial predictor."""

    name: ClassVar[str] = "toy-l1-regression"
    family = "regression"
    description: ClassVar[str] = "a number predicted with the absolute error"
    primary_metric: ClassVar[str] = "mae"
    higher_is_better: ClassVar[bool] = False
    primary_group_metric: ClassVar[str] = "mae"
    error_name: ClassVar[str] = "absolute error"
    trivial_name: ClassVar[str] = "the training median"

    def accepts(self, data: LoadedData) -> str | None:
        return None

    def prepare(self, data: LoadedData, pii: PiiSection | None, config: TrainConfig, seed: int) -> Prepared:
        target = data.frame[data.target].to_numpy(dtype=np.float32)
        train, test = split_indices(target, config.test_fraction, seed, stratify=False)
        encoded = tabular_features(data.frame, data.target, config, pii, train)
        return tabular_prepared(encoded, target, train, test, output_dim=1, classes=[])

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (outputs.reshape(-1) - targets).abs()

    def metrics(self, outputs: np.ndarray, targets: np.ndarray, prepared: Prepared) -> dict[str, float | None]:
        return {"mae": round(float(np.mean(self.errors(outputs, targets))), 6)}

    def errors(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        absolute: np.ndarray = np.abs(outputs.reshape(-1) - targets).astype(np.float64)
        return absolute

    def trivial_errors(self, prepared: Prepared) -> np.ndarray:
        median = float(prepared.y_train.median())
        return np.abs(prepared.y_test.numpy() - median).astype(np.float64)

    def group_metrics(self, outputs: np.ndarray, targets: np.ndarray, prepared: Prepared) -> dict[str, float | None]:
        return self.metrics(outputs, targets, prepared)

    def random_targets(self, rng: np.random.Generator, count: int, prepared: Prepared) -> torch.Tensor:
        return torch.from_numpy(rng.uniform(-4, 4, size=count).astype(np.float32))

    def wrong_targets(self, rng: np.random.Generator, targets: torch.Tensor, prepared: Prepared) -> torch.Tensor:
        return targets + 3.0


class ToySection(Record):
    """What the toy stage saw."""

    training_rows: int
    """Training rows of the train stage."""
    task: str
    """The task that was trained."""


class ToyStage(Stage):
    name: ClassVar[str] = "toy"
    description: ClassVar[str] = "A toy stage that reads the training section."
    depends_on: ClassVar[tuple[str, ...]] = ("train",)
    section: ClassVar[str | None] = "toy"
    model: ClassVar[type[Record] | None] = ToySection

    def run(self, ctx: RunContext) -> Record:
        training = ctx.section("training", TrainingSection)
        assert training is not None
        return ToySection(training_rows=training.train_rows, task=training.task.name)

    def describe(self, section: Any) -> list[str]:
        return [f"toy: saw {section.training_rows} training rows of task {section.task}"]


@pytest.fixture
def plugged() -> Iterator[None]:
    register_task(AbsoluteErrorRegression())
    register(ToyStage())
    try:
        yield
    finally:
        unregister("toy")
        TASKS.pop("toy-l1-regression")


def _config(directory: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=300)
    rows = "".join(f"{a:.4f},{b:.4f},{c:.4f},{t:.4f}\n" for (a, b, c), t in zip(x, y, strict=True))
    (directory / "d.csv").write_text("a,b,c,target\n" + rows, encoding="utf-8")
    config = {
        "project": "plugins",
        "data": {"path": "d.csv", "target": "target"},
        "pii": {"enabled": False},
        "train": {
            "task": "toy-l1-regression",
            "epochs": 2,
            "batch_size": 32,
            "hidden_layers": [8],
            "privacy": {"noise_multiplier": 1.0, "accountant": "rdp"},  # no noise search: a fast test
        },
        "audit": {"canaries": 20},
        "energy": {"country_iso_code": "FRA", "enabled": False},
        "policies": {"packs": [str(directory / "toy-pack.yaml")]},
    }
    pack = {
        "id": "toy",
        "version": "1.0.0",
        "title": "Toy",
        "description": "A control over the toy stage's section.",
        "controls": [
            {
                "id": "TOY-001",
                "title": "The toy stage saw rows",
                "description": "The toy section counts training rows.",
                "severity": "low",
                "refs": ["none"],
                "remediation": "none",
                "applies_to": ["toy-l1-regression"],
                "check": {"metric": "toy.training_rows", "op": ">", "value": 0},
            }
        ],
    }
    (directory / "toy-pack.yaml").write_text(yaml.safe_dump(pack), encoding="utf-8")
    path = directory / "audit.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.slow
def test_a_toy_task_and_stage_plug_in(plugged: None, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="auditor")
    evidence = run(load_config(_config(tmp_path)))
    assert evidence.training is not None
    assert evidence.training.task.name == "toy-l1-regression" and evidence.training.task.source == "config"
    assert set(evidence.training.metrics) == {"mae"} and evidence.training.trivial.loss == "absolute error"
    toy = evidence.section("toy")
    assert isinstance(toy, ToySection) and toy.training_rows == evidence.training.train_rows
    assert [s.name for s in evidence.stages][-1] != "toy"  # summary stages (energy, previous) run last
    assert next(s for s in evidence.stages if s.name == "toy").status == "ok"
    assert any(r.getMessage().startswith("toy: saw ") for r in caplog.records)
    assert next(c for c in evidence.controls if c.id == "TOY-001").status == "pass"
    text = dump_evidence(evidence)
    assert json.loads(text)["toy"]["task"] == "toy-l1-regression"
    assert dump_evidence(parse_evidence(text)) == text
    schema = evidence_json_schema()
    assert schema["properties"]["toy"]["description"] == ToyStage.description


@pytest.mark.slow
def test_a_failing_plug_in_stage_fails_closed(plugged: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(self: ToyStage, ctx: RunContext) -> Record:
        raise SystemExit(0)  # even a clean exit inside a stage is a stage error, never a pass

    monkeypatch.setattr(ToyStage, "run", crash)
    evidence = run(load_config(_config(tmp_path)))
    assert next(s for s in evidence.stages if s.name == "toy").status == "error"
    assert next(c for c in evidence.controls if c.id == "TOY-001").status == "error"
    assert evidence.verdict == "fail"


@pytest.mark.slow
def test_unknown_sections_are_refused_without_their_stage(plugged: None, tmp_path: Path) -> None:
    text = dump_evidence(run(load_config(_config(tmp_path))))
    unregister("toy")
    with pytest.raises(Exception, match="unknown evidence section 'toy'"):
        parse_evidence(text)
    register(ToyStage())


def test_stage_registry_refuses_duplicates_and_cycles() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register(ToyStage.__new__(type("Again", (ToyStage,), {"name": "train"})))

    class Loop(Stage):
        name: ClassVar[str] = "loop"
        description: ClassVar[str] = "depends on itself"
        depends_on: ClassVar[tuple[str, ...]] = ("loop",)

        def run(self, ctx: RunContext) -> Record | None:
            return None

    from auditor.stages import STAGES

    before = list(STAGES)
    with pytest.raises(ValueError, match="cycle among \\['loop'\\]"):
        register(Loop())
    assert before == STAGES


def test_evidence_schema_documents_every_property() -> None:
    schema = evidence_json_schema()
    missing: list[str] = []

    def walk(node: dict[str, Any], where: str) -> None:
        for name, prop in node.get("properties", {}).items():
            if not prop.get("description"):
                missing.append(f"{where}.{name}")

    walk(schema, "Evidence")
    for name, definition in schema.get("$defs", {}).items():
        walk(definition, name)
    assert missing == []


def test_evidence_model_is_the_one_the_pipeline_builds() -> None:
    assert "previous" in Evidence.model_fields and "baseline" not in Evidence.model_fields
