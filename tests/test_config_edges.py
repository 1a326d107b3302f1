"""Config edge cases: regular files only, unreachable budgets explained, the label is not a group."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from conftest import write_small_example
from typer.testing import CliRunner

from auditor.cli import app


def _run(config: Path, tmp_path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", str(config), "-o", str(tmp_path / "out")])
    return result.exit_code, result.stderr


def _edit(config: Path, change: dict[str, dict[str, object]]) -> Path:
    data = yaml.safe_load(config.read_text())
    for section, values in change.items():
        data.setdefault(section, {}).update(values)
    config.write_text(yaml.safe_dump(data))
    return config


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_device_or_fifo_as_data_is_refused(special: str, tmp_path: Path) -> None:
    path = special
    if special == "fifo":
        path = str(tmp_path / "data.fifo")
        os.mkfifo(path)
    config = _edit(write_small_example(tmp_path / "ex", rows=100), {"data": {"path": path}})
    code, stderr = _run(config, tmp_path)
    assert code == 2 and "not a regular file" in stderr and len(stderr.strip().splitlines()) == 1


def test_a_fifo_as_init_weights_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "weights.pt"
    os.mkfifo(fifo)
    config = _edit(write_small_example(tmp_path / "ex", rows=100), {"train": {"init_weights": str(fifo)}})
    code, stderr = _run(config, tmp_path)
    assert code == 2 and "not a regular file" in stderr


def test_an_unreachable_epsilon_says_what_would_reach_it(tmp_path: Path) -> None:
    config = write_small_example(tmp_path / "ex", rows=200)
    data = yaml.safe_load(config.read_text())
    data["train"]["privacy"]["target_epsilon"] = 1e-9
    config.write_text(yaml.safe_dump(data))
    code, stderr = _run(config, tmp_path)
    assert code == 2, stderr
    assert "cannot reach target_epsilon 1e-09" in stderr and "the smallest these settings reach is" in stderr


def test_the_sensitive_attribute_cannot_be_the_target(tmp_path: Path) -> None:
    config = _edit(write_small_example(tmp_path / "ex", rows=100), {"train": {"sensitive_attribute": "defaulted"}})
    code, stderr = _run(config, tmp_path)
    assert code == 2 and "sensitive_attribute is the target" in stderr
