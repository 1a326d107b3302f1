"""Bad input exits with code 2, one line on stderr, no traceback, and no output files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from auditor.cli import app
from tests.conftest import write_small_example


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stderr


def assert_input_error(code: int, stderr: str, *fragments: str) -> None:
    assert code == 2, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    return write_small_example(tmp_path / "ex", rows=60)


def _edit(config: Path, change: dict) -> Path:
    data = yaml.safe_load(config.read_text())
    for dotted, value in change.items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    config.write_text(yaml.safe_dump(data))
    return config


def test_malformed_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "audit.yaml"
    bad.write_text("project: x\ndata: [unclosed\n")
    out = tmp_path / "out"
    code, err = run_cli("run", str(bad), "-o", str(out))
    assert_input_error(code, err, "audit.yaml:", "malformed YAML")
    assert not out.exists()


def test_missing_config_file(tmp_path: Path) -> None:
    code, err = run_cli("run", str(tmp_path / "nope.yaml"))
    assert_input_error(code, err, "nope.yaml", "file not found")


def test_unknown_key_is_named(example: Path, tmp_path: Path) -> None:
    _edit(example, {"train.epocs": 3})
    out = tmp_path / "out"
    code, err = run_cli("run", str(example), "-o", str(out))
    assert_input_error(code, err, "train.epocs", "unknown key")
    assert not out.exists()


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"train.privacy.target_epsilon": 0}, "train.privacy.target_epsilon"),
        ({"train.privacy.delta": 1.5}, "train.privacy.delta"),
        ({"train.epochs": 0}, "train.epochs"),
        ({"train.privacy.accountant": "gdp"}, "underestimate"),
        ({"energy.country_iso_code": "France"}, "energy.country_iso_code"),
        ({"energy.country_iso_code": "XYZ"}, "not in CodeCarbon"),
        ({"data.target": "no_such_column"}, "no_such_column"),
        ({"policies.packs": ["no-such-pack"]}, "unknown policy pack"),
        ({"policies.params": {"gdpr.nope": 1}}, "gdpr.nope"),
        ({"pii.spacy_model": "en_core_web_lg"}, "not installed"),
    ],
)
def test_invalid_values_exit_2_without_outputs(example: Path, tmp_path: Path, change: dict, fragment: str) -> None:
    _edit(example, change)
    out = tmp_path / "out"
    code, err = run_cli("run", str(example), "-o", str(out))
    assert_input_error(code, err, fragment)
    assert not out.exists()


def test_missing_dataset(example: Path, tmp_path: Path) -> None:
    _edit(example, {"data.path": "missing.csv"})
    out = tmp_path / "out"
    code, err = run_cli("run", str(example), "-o", str(out))
    assert_input_error(code, err, "missing.csv", "dataset not found")
    assert not out.exists()


def test_unknown_output_format(example: Path) -> None:
    code, err = run_cli("run", str(example), "--format", "pdf,docx")
    assert_input_error(code, err, "docx")


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("auditor ")
