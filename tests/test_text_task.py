"""The text-classification task end to end on a tiny random BERT, and its bad inputs (exit 2, one line)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import no_network, text_config
from typer.testing import CliRunner

from auditor.cli import app


def _run(config: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", str(config), "-o", str(out), "--force"])
    return result.exit_code, result.stderr


@pytest.mark.slow
def test_text_run_end_to_end_offline(text_example: Path, tmp_path: Path) -> None:
    config = text_config(text_example, "e2e.yaml", train={"sensitive_attribute": "age_band"})
    with no_network() as log:
        code, stderr = _run(config, tmp_path)
    assert log.attempts == []
    assert code in (0, 1), stderr
    ev = json.loads((tmp_path / "evidence.json").read_text(encoding="utf-8"))
    t = ev["training"]
    assert t["task"]["name"] == "text-classification"
    assert t["task"]["source"] == "inferred"
    pm = t["model"]["pretrained"]
    assert pm["weights_format"] == "safetensors" and len(pm["weights_sha256"]) == 64
    assert pm["fine_tune"] == "lora" and 0 < pm["trainable_parameters"] < pm["total_parameters"]
    assert pm["new_weights"] == ["classifier.bias", "classifier.weight"]
    assert t["privacy"]["clipping"] == "bk"  # book-keeping: LoRA adapters and the head are Linear layers
    assert t["features"] == ["text"]
    assert t["text"]["training_tokens"] > 0 and t["text"]["sequence_length"] <= 48
    assert [w["unchanged"] for w in t["weights_changed"]] == [0, 0]
    assert t["flops_estimate"] > 0 and t["flops_6nd"] > 0
    assert {g["group"] for g in t["groups"]["rows"]} == {"18-34", "35-54", "55+"}
    canary = ev["audit"]["canary"]
    assert canary["canaries"] == 40 and canary["included"] + 0 == t["training_examples"] - t["train_rows"]
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "base_model: bert" in card and "training_type" not in card  # no energy section: energy is off
    from huggingface_hub import ModelCardData, metadata_load

    hub = ModelCardData(**(metadata_load(tmp_path / "README.md") or {}))  # the Hub's own parser
    assert hub.base_model and hub.eval_results and hub.eval_results[0].task_type == "text-classification"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["top", "frozen-embeddings"])
def test_other_fine_tunes_train(text_example: Path, tmp_path: Path, mode: str) -> None:
    config = text_config(
        text_example,
        f"{mode}.yaml",
        train={"fine_tune": mode, "top_layers": 1, "epochs": 1},
        audit={"enabled": False},
    )
    code, stderr = _run(config, tmp_path)
    assert code in (0, 1), stderr
    t = json.loads((tmp_path / "evidence.json").read_text(encoding="utf-8"))["training"]
    assert t["model"]["pretrained"]["fine_tune"] == mode
    assert t["weights_changed"][0]["unchanged"] == 0


def test_weights_that_never_move_fail_the_run(
    text_example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """opacus#820: a run whose trainable weights never moved is a stage error, not a model."""
    import torch

    monkeypatch.setattr(torch.optim.Adam, "step", lambda self, closure=None: None)  # adapters frozen on purpose
    config = text_config(text_example, "frozen.yaml", train={"epochs": 1}, audit={"enabled": False})
    code, _ = _run(config, tmp_path)
    assert code == 1
    ev = json.loads((tmp_path / "evidence.json").read_text(encoding="utf-8"))
    error = next(s for s in ev["stages"] if s["name"] == "train")["error"]
    assert "never moved" in error and "opacus#820" in error
    assert ev["training"] is None


def _copy_model(text_example: Path, tmp_path: Path) -> Path:
    model = tmp_path / "model"
    shutil.copytree(text_example / "bert", model)
    return model


def _bad_run(text_example: Path, tmp_path: Path, **sections: dict[str, object]) -> str:
    shutil.copy(text_example / "tickets.csv", tmp_path / "tickets.csv")
    config = text_config(tmp_path, **sections)
    code, stderr = _run(config, tmp_path / "out")
    assert code == 2, stderr
    errors = [line for line in stderr.strip().splitlines() if not line.startswith("✓ ")]  # progress of earlier stages
    assert len(errors) == 1 and errors[0].startswith("error: ") and "Traceback" not in stderr
    assert not (tmp_path / "out" / "evidence.json").exists()
    return errors[0]


def test_missing_model_directory(text_example: Path, tmp_path: Path) -> None:
    line = _bad_run(text_example, tmp_path, train={"model": {"hf": "nowhere"}})
    assert "model directory not found" in line and "train.model.hf" in line


def test_directory_without_weights(text_example: Path, tmp_path: Path) -> None:
    (_copy_model(text_example, tmp_path) / "model.safetensors").unlink()
    line = _bad_run(text_example, tmp_path, train={"model": {"hf": "model"}})
    assert "no weights" in line


def test_pickle_only_checkpoint_is_refused_unless_allowed(text_example: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    model = _copy_model(text_example, tmp_path)
    torch.save(load_file(str(model / "model.safetensors")), model / "pytorch_model.bin")
    (model / "model.safetensors").unlink()
    line = _bad_run(text_example, tmp_path, train={"model": {"hf": "model"}})
    assert "pickle" in line and "allow_pickle" in line
    from auditor.hf.checkpoint import open_checkpoint

    assert open_checkpoint(model, allow_pickle=True).weights_format == "pytorch-pickle"


def test_text_column_that_does_not_exist(text_example: Path, tmp_path: Path) -> None:
    line = _bad_run(text_example, tmp_path, data={"text": "body"}, train={"model": {"hf": str(text_example / "bert")}})
    assert "text column 'body' (data.text) not found" in line


def test_empty_texts(text_example: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(text_example / "tickets.csv")
    frame.loc[[3, 7], "text"] = ""
    frame.to_csv(tmp_path / "tickets.csv", index=False)
    config = text_config(tmp_path, train={"model": {"hf": str(text_example / "bert")}})
    code, stderr = _run(config, tmp_path / "out")
    assert code == 2
    assert "2 rows have empty text in data.text (first: row 3)" in stderr.strip()


def test_texts_too_long_without_truncation(text_example: Path, tmp_path: Path) -> None:
    line = _bad_run(
        text_example,
        tmp_path,
        train={"model": {"hf": str(text_example / "bert")}, "max_length": 8, "truncation": False},
    )
    assert "longer than train.max_length" in line


def test_text_settings_need_a_pretrained_model(text_example: Path, tmp_path: Path) -> None:
    line = _bad_run(text_example, tmp_path, train={"model": "mlp", "max_length": 8})
    assert "max_length applies only to a pretrained model" in line


def test_padding_name_and_lora_targets_change_what_is_built(text_example: Path) -> None:
    from auditor.config import load_config
    from auditor.data import load_data
    from auditor.tasks import get_task

    task = get_task("text-classification")
    config = load_config(
        text_config(
            text_example,
            "settings.yaml",
            train={
                "model": {"hf": "bert", "name": "acme/tiny-bert"},
                "padding": "max_length",
                "max_length": 40,
                "lora": {"r": 2, "target_modules": ["query"]},
            },
        )
    )
    prepared = task.prepare(load_data(config), None, config.train, 0)
    assert prepared.x_train.shape[-1] == 40 and prepared.text.checkpoint.base_model == "acme/tiny-bert"
    built = task.build_model(prepared, config.train, None)
    assert built.pretrained is not None
    assert built.pretrained.fine_tune_description.startswith("LoRA r=2, alpha=16 on query,")
    longest = load_config(text_config(text_example, "longest.yaml", train={"max_length": 400}))
    assert task.prepare(load_data(longest), None, longest.train, 0).x_train.shape[-1] < 400
