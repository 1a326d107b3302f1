from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config import AuditConfig, PrivacyConfig, load_config
from auditor.errors import InputError
from tests.conftest import EXAMPLE


def test_example_config_loads_and_resolves_paths() -> None:
    config = load_config(EXAMPLE / "audit.yaml")
    assert config.resolve(config.data.path) == EXAMPLE.resolve() / "loans.csv"
    assert config.train.privacy.target_epsilon == 3.0


def test_target_and_noise_are_exclusive() -> None:
    with pytest.raises(ValueError, match="either target_epsilon or noise_multiplier"):
        PrivacyConfig(target_epsilon=2.0, noise_multiplier=1.0)
    assert PrivacyConfig(noise_multiplier=1.0).noise_multiplier == 1.0


def test_config_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(InputError, match="YAML mapping"):
        load_config(path)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        load_config(tmp_path)


def test_schema_command_prints_the_config_schema() -> None:
    result = CliRunner().invoke(app, ["schema", "config"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert set(schema["properties"]) == set(AuditConfig.model_fields) - {"base_dir"}
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("kind", ["evidence", "policy", "waivers"])
def test_other_schemas(kind: str) -> None:
    result = CliRunner().invoke(app, ["schema", kind])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["$schema"].startswith("https://json-schema.org/")
