"""The task axis: regression end to end, task inference, the trivial-predictor control, rewritten layers."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

from auditor.config import load_config
from auditor.errors import InputError
from auditor.evidence import Evidence
from auditor.pipeline import run
from auditor.tasks import TASKS, register
from auditor.tasks.tabular_regression import TabularRegression
from auditor.train.metrics import paired_interval

REPO = Path(__file__).resolve().parents[1]
DIABETES = REPO / "examples" / "diabetes"


def _write_config(directory: Path, data: str, **sections: Any) -> Path:
    config: dict[str, Any] = {
        "project": "tasks-test",
        "seed": 1,
        "data": {"path": data, "target": "target"},
        "pii": {"enabled": False},
        "train": {"epochs": 3, "batch_size": 64, "hidden_layers": [16]},
        "audit": {"canaries": 50},
        "energy": {"country_iso_code": "FRA", "enabled": False},
        "policies": {"packs": ["gdpr", "eu-ai-act", "fairness"], "fail_on": "critical"},
    }
    for key, value in sections.items():
        config[key] = {**config.get(key, {}), **value}
    path = directory / "audit.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def regression(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    """The bundled diabetes example, as shipped (PII scan and energy included), fewer epochs."""
    config = load_config(DIABETES / "audit.yaml", {"train": {**_example_train(), "epochs": 5}})
    return run(config)


def _example_train() -> dict[str, Any]:
    data = yaml.safe_load((DIABETES / "audit.yaml").read_text(encoding="utf-8"))
    return dict(data["train"])


@pytest.mark.slow
def test_regression_runs_end_to_end_with_regression_metrics(regression: Evidence) -> None:
    t = regression.training
    assert t is not None and t.baseline is not None and t.privacy is not None
    assert t.task.name == "tabular-regression" and t.task.source == "inferred"
    assert "numeric target" in t.task.reason
    for metrics in (t.metrics, t.baseline.metrics):
        assert {"mse", "mae", "r2", "rmse"} <= set(metrics)
        assert "accuracy" not in metrics
    assert t.utility.metric == "r2" and t.utility.value == t.metrics["r2"]
    assert t.model.kind == "regression" and t.model.output_dim == 1
    # Errors are reported in the target's own units: the spread of disease progression is about 77.
    assert 20 < t.metrics["mae"] < 150  # type: ignore[operator]
    assert t.groups is not None and t.groups.metric == "mae"
    assert regression.data is not None and regression.data.classes is None


@pytest.mark.slow
def test_regression_run_is_not_judged_by_classification_controls(regression: Evidence) -> None:
    by_id = {c.id: c for c in regression.controls}
    for control_id in ("FAIR-GAP-001", "FAIR-DP-001", "EUAI-REG-001"):
        assert by_id[control_id].status == "skipped"
        assert "not applicable" in by_id[control_id].reason or "skipped" in by_id[control_id].reason
    assert by_id["FAIR-GAP-001"].reason.startswith("not applicable: applies to classification")
    assert by_id["EUAI-ACC-001"].status in {"pass", "fail"}
    assert by_id["EUAI-IV-003"].status == "pass"


def test_task_inference(tmp_path: Path) -> None:
    from auditor.data import LoadedData
    from auditor.tasks import infer_task

    def loaded(values: list[Any]) -> LoadedData:
        import pandas as pd

        frame = pd.DataFrame({"x": range(len(values)), "target": values})
        return LoadedData(frame, tmp_path / "d.csv", "csv", "target", "0" * 64, 1, 0)

    assert infer_task(loaded([0.5 * i for i in range(40)]))[0].name == "tabular-regression"
    assert infer_task(loaded([i % 3 for i in range(40)]))[0].name == "tabular-classification"
    assert infer_task(loaded(["a", "b"] * 20))[0].name == "tabular-classification"


@pytest.mark.slow
def test_unknown_task_is_an_input_error(tmp_path: Path) -> None:
    path = _write_config(tmp_path, str(DIABETES / "diabetes.csv"), train={"task": "tabular-ranking"})
    with pytest.raises(InputError, match=r"unknown task 'tabular-ranking' \(train.task\); known tasks: "):
        run(load_config(path))


@pytest.mark.slow
def test_regression_task_refuses_a_text_target(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("x,target\n" + "".join(f"{i},v{i % 2}\n" for i in range(40)), encoding="utf-8")
    path = _write_config(tmp_path, "d.csv", train={"task": "tabular-regression"})
    with pytest.raises(InputError, match="not numeric in every row"):
        run(load_config(path))


def test_task_registry_refuses_duplicates() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register(TabularRegression())
    assert set(TASKS) >= {"tabular-classification", "tabular-regression", "image-classification"}


def test_paired_interval_is_deterministic_and_covers_the_mean() -> None:
    gains = np.random.default_rng(0).normal(0.1, 1.0, size=500)
    first, second = paired_interval(gains, 0.95), paired_interval(gains.copy(), 0.95)
    assert first == second
    mean, low, high = first
    assert low is not None and high is not None and low < mean < high
    assert paired_interval(np.zeros(100), 0.95) == (0.0, 0.0, 0.0)


BATCHNORM_FACTORY = """
from torch import nn

def batchnorm_mlp(input_shape, num_classes):
    return nn.Sequential(nn.Linear(input_shape[0], 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, num_classes))
"""


@pytest.mark.slow
def test_batchnorm_model_is_reported_as_rewritten_and_fails_the_trivial_predictor_control(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bn_models.py").write_text(textwrap.dedent(BATCHNORM_FACTORY), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1200, 4))
    label = (x[:, 0] + 0.5 * x[:, 1] > 0.3).astype(int)
    rows = "".join(f"{a:.4f},{b:.4f},{c:.4f},{d:.4f},{y}\n" for (a, b, c, d), y in zip(x, label, strict=True))
    (tmp_path / "d.csv").write_text("a,b,c,d,target\n" + rows, encoding="utf-8")
    path = _write_config(
        tmp_path,
        "d.csv",
        train={"model": "bn_models:batchnorm_mlp", "epochs": 4, "learning_rate": 0.1, "batch_size": 128},
        policies={"fail_on": "high"},
    )
    evidence = run(load_config(path))
    sys.modules.pop("bn_models", None)
    t = evidence.training
    assert t is not None and t.baseline is not None
    [rewrite] = t.model.rewrites
    assert rewrite.path == "1"
    assert rewrite.before.startswith("BatchNorm1d(32,") and rewrite.after.startswith("GroupNorm(32, 32,")
    # GroupNorm(32, 32) on 32 features normalises each value on its own: the output is a constant.
    assert t.metrics["accuracy"] == t.baseline.metrics["accuracy"]
    control = next(c for c in evidence.controls if c.id == "EUAI-ACC-001")
    assert control.status == "fail"
    assert t.trivial.interval_low is not None and t.trivial.interval_low <= 0
    assert "EUAI-ACC-001" in evidence.summary.blocking and evidence.verdict == "fail"


@pytest.mark.slow
def test_a_sound_model_beats_the_trivial_predictor(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(size=(1200, 3))
    label = (x[:, 0] > 0.2).astype(int)
    rows = "".join(f"{a:.4f},{b:.4f},{c:.4f},{y}\n" for (a, b, c), y in zip(x, label, strict=True))
    (tmp_path / "d.csv").write_text("a,b,c,target\n" + rows, encoding="utf-8")
    path = _write_config(tmp_path, "d.csv", train={"epochs": 4, "batch_size": 128, "learning_rate": 0.2})
    evidence = run(load_config(path))
    assert evidence.training is not None and evidence.training.model.rewrites == []
    control = next(c for c in evidence.controls if c.id == "EUAI-ACC-001")
    assert control.status == "pass", control.reason


def test_regression_targets_are_standardised_on_the_training_split(tmp_path: Path) -> None:
    import pandas as pd

    from auditor.config import TrainConfig
    from auditor.data import LoadedData

    frame = pd.DataFrame({"x": np.arange(100.0), "target": np.arange(100.0) * 10 + 500})
    data = LoadedData(frame, tmp_path / "d.csv", "csv", "target", "0" * 64, 1, 0)
    prepared = TabularRegression().prepare(data, None, TrainConfig(), seed=0)
    assert abs(float(prepared.y_train.mean())) < 1e-5
    mean, std = prepared.target_scale
    restored = prepared.y_test.numpy() * std + mean
    assert set(np.round(restored).astype(int)) <= set(frame["target"].astype(int))
    assert prepared.y_train.dtype == torch.float32
