"""CLI and API conventions (#20): --quiet, one meaning for -f, light imports, no global side effects from a run."""

from __future__ import annotations

import logging
import random
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import auditor
from auditor.cli import app
from tests.conftest import write_small_example

DATA = Path(__file__).parent / "data"


def test_importing_the_cli_loads_nothing_heavy() -> None:
    """What keeps `audit --version` and `audit --help` fast (timed in benchmarks/cli_startup.py, not here)."""
    code = (
        "import sys, auditor.cli; "
        "heavy = [m for m in ('torch', 'pydantic', 'pandas', 'sqlalchemy', 'presidio_analyzer', 'weasyprint') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_the_public_api_still_resolves_lazily() -> None:
    assert auditor.AuditConfig.__name__ == "AuditConfig" and callable(auditor.run)
    assert set(auditor.__all__) <= set(dir(auditor))


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"auditor {auditor.__version__}"


@pytest.mark.slow
def test_quiet_prints_only_what_matters(tmp_path: Path) -> None:
    loud = CliRunner().invoke(app, ["report", str(DATA / "evidence.json"), "-o", str(tmp_path / "a"), "-f", "json"])
    assert loud.exit_code == 0 and "wrote" in loud.stderr
    quiet = CliRunner().invoke(
        app, ["-q", "report", str(DATA / "evidence.json"), "-o", str(tmp_path / "b"), "-f", "json"]
    )
    assert quiet.exit_code == 0 and quiet.stderr == "" and (tmp_path / "b" / "evidence.json").exists()
    broken = CliRunner().invoke(app, ["-q", "report", str(tmp_path / "missing.json")])
    assert broken.exit_code == 2 and "error:" in broken.stderr  # errors are never silenced


def test_quiet_and_verbose_together_are_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["-q", "-v", "--version"])
    assert result.exit_code in (0, 2)  # --version is eager and may win; without it:
    result = CliRunner().invoke(app, ["-q", "-v", "policies", "list"])
    assert result.exit_code == 2 and "contradict" in result.stderr


def test_dash_f_for_a_stdout_format_is_deprecated_but_works(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("name,x\nAnn,1\nBob,2\n")
    result = CliRunner().invoke(app, ["scan", str(data), "-f", "json", "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    assert "deprecated" in result.stderr and "--output-format" in result.stderr
    assert result.stdout.lstrip().startswith("{")
    current = CliRunner().invoke(app, ["scan", str(data), "--output-format", "json", "--workers", "1"])
    assert current.exit_code == 0 and "deprecated" not in current.stderr


@pytest.mark.slow
def test_a_run_leaves_global_state_as_it_found_it(tmp_path: Path) -> None:
    config = write_small_example(tmp_path, rows=200, **{"pii.enabled": False, "train.epochs": 1})
    torch.manual_seed(1234)
    np.random.seed(99)
    random.seed(7)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(1234)
    np.random.seed(99)
    random.seed(7)
    filters = list(warnings.filters)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    auditor.run(config)
    assert list(warnings.filters) == filters
    assert list(root.handlers) == handlers and root.level == level
    after = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(after[0], expected[0]) and np.array_equal(after[1], expected[1]) and after[2] == expected[2]


def test_a_missing_extra_is_an_input_error_that_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from auditor.errors import InputError
    from auditor.extras import require

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "peft" else real(name, *a))
    with pytest.raises(InputError, match=r"needs auditor's 'text' extra \(peft not installed\): pip install"):
        require("text", "train.model.hf")
    require("postgres", "a PostgreSQL history")  # installed here: no error
