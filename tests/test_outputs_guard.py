"""Issue-22 hardening: CodeCarbon's own config cannot switch the network on; foreign files are never replaced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config import EnergyConfig
from auditor.energy.meter import new_tracker
from tests.conftest import no_network, write_small_example

HOSTILE_CONFIG = """[codecarbon]
electricitymaps_api_token = attacker-token
co2_signal_api_token = attacker-token
save_to_api = True
api_endpoint = https://api.codecarbon.example.org
save_to_prometheus = True
prometheus_url = http://prometheus.example.org:9091
output_methods = api,prometheus
"""
HOSTILE_ENV = {
    "CODECARBON_ELECTRICITYMAPS_API_TOKEN": "attacker-token",
    "CODECARBON_CO2_SIGNAL_API_TOKEN": "attacker-token",
    "CODECARBON_SAVE_TO_API": "true",
    "CODECARBON_API_ENDPOINT": "https://api.codecarbon.example.org",
    "CODECARBON_OUTPUT_METHODS": "api",
}


SMALLEST = {
    "train.epochs": 1,
    "train.baseline": False,
    "train.privacy": {"noise_multiplier": 1.0, "accountant": "rdp"},  # no noise search
    "pii.enabled": False,
    "audit.enabled": False,
}


@pytest.fixture
def hostile_codecarbon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory and a home with a .codecarbon.config each, and CODECARBON_* variables set."""
    (tmp_path / "home").mkdir()
    for folder in (tmp_path, tmp_path / "home"):
        (folder / ".codecarbon.config").write_text(HOSTILE_CONFIG, encoding="utf-8")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for key, value in HOSTILE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_codecarbon_reads_the_hostile_settings_when_not_sealed(hostile_codecarbon: Path) -> None:
    """The fixture is real: CodeCarbon's own merged config does hold the token and the API switch."""
    from codecarbon.core.config import get_hierarchical_config

    merged = get_hierarchical_config()
    assert merged["electricitymaps_api_token"] == "attacker-token"
    assert merged["save_to_api"] == "true"


def test_the_tracker_ignores_codecarbon_config_files_and_variables(hostile_codecarbon: Path) -> None:
    with no_network() as log:
        tracker = new_tracker(EnergyConfig(country_iso_code="FRA", measure_power_secs=0.5))
        tracker.start()
        tracker.stop()
    assert log.attempts == []
    assert tracker._electricitymaps_api_token is None
    assert not tracker._save_to_api and not tracker._save_to_prometheus and tracker._output_methods == []


@pytest.mark.slow
def test_a_whole_run_attempts_no_connection_with_a_hostile_codecarbon_config(
    hostile_codecarbon: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Energy on (CodeCarbon is what is under test); the rest as small as a real run gets.
    config = write_small_example(hostile_codecarbon / "example", rows=300, **SMALLEST)
    with no_network() as log:
        result = CliRunner().invoke(app, ["run", str(config), "-o", "out", "--no-history", "--format", "json"])
    assert result.exit_code in {0, 1}, result.output
    assert log.attempts == []


def _run_args(tmp_path: Path, *extra: str) -> list[str]:
    config = write_small_example(tmp_path / "example", rows=300, **SMALLEST, **{"energy.enabled": False})
    return ["run", str(config), "-o", str(tmp_path / "out"), "--no-history", "--format", "json,markdown", *extra]


def test_a_foreign_file_in_the_output_directory_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "summary.md").write_text("the team's own notes\n", encoding="utf-8")
    result = CliRunner().invoke(app, _run_args(tmp_path))
    assert result.exit_code == 2
    [line] = [x for x in result.stderr.splitlines() if x.strip()]
    assert line.endswith(
        "summary.md: exists and was not written by auditor; move it, choose another -o directory, or pass --force"
    )
    assert (tmp_path / "out" / "summary.md").read_text(encoding="utf-8") == "the team's own notes\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["summary.md"]


@pytest.mark.slow
def test_auditor_replaces_its_own_outputs_and_force_replaces_foreign_ones(tmp_path: Path) -> None:
    first = CliRunner().invoke(app, _run_args(tmp_path))
    assert first.exit_code in {0, 1}, first.output
    manifest = json.loads((tmp_path / "out" / ".auditor-outputs.json").read_text(encoding="utf-8"))
    assert manifest["files"] == ["evidence.json", "summary.md"]
    again = CliRunner().invoke(app, _run_args(tmp_path))  # its own files: replaced without a word
    assert again.exit_code in {0, 1}, again.output
    (tmp_path / "out" / "README.md").write_text("# our project\n", encoding="utf-8")
    card = CliRunner().invoke(app, [*_run_args(tmp_path)[:-1], "json,modelcard"])
    assert card.exit_code == 2 and "README.md: exists and was not written by auditor" in card.stderr
    forced = CliRunner().invoke(app, [*_run_args(tmp_path)[:-1], "json,modelcard", "--force"])
    assert forced.exit_code in {0, 1}, forced.output
    assert (tmp_path / "out" / "README.md").read_text(encoding="utf-8").startswith("---")


def test_modelcard_command_keeps_a_projects_readme(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# our project\n", encoding="utf-8")
    evidence = Path(__file__).parent / "data" / "evidence.json"
    result = CliRunner().invoke(app, ["modelcard", str(evidence), "-o", str(readme)])
    assert result.exit_code == 2 and "was not written by auditor" in result.stderr
    assert readme.read_text(encoding="utf-8") == "# our project\n"
    written = CliRunner().invoke(app, ["modelcard", str(evidence), "-o", str(tmp_path / "card.md")])
    assert written.exit_code == 0, written.output
    again = CliRunner().invoke(app, ["modelcard", str(evidence), "-o", str(tmp_path / "card.md")])
    assert again.exit_code == 0, again.output
