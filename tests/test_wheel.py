"""The wheel works outside this repository (#20): built, installed into a fresh venv, run on a copied example.

The fresh venv gets the wheel with ``--no-deps --no-index`` (offline) and reaches the already-installed
third-party packages through a ``.pth`` line pointing at this environment's site-packages; nothing from the
source tree is importable there (the editable install's hook is not processed from a ``.pth``-added path).
So templates, policies and static assets must come from the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO, write_small_example

pytestmark = pytest.mark.slow  # builds a wheel and runs an audit in a new venv


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-w", str(dist), "-q"],
        check=True,
        cwd=work,
    )
    [wheel] = dist.glob("auditor-*.whl")
    venv = work / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True)  # type: ignore[attr-defined]
    site = subprocess.run(
        [str(_venv_python(venv)), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {**os.environ, "PIP_NO_INDEX": "1"}
    subprocess.run(
        [str(_venv_python(venv)), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        env=env,
    )
    return venv


def test_the_wheel_carries_its_assets(installed: Path) -> None:
    code = (
        "import auditor, auditor._assets as a; print(auditor.__file__); "
        "print(a.asset_dir('templates')); print(a.asset_dir('policies'))"
    )
    lines = subprocess.run(
        [str(_venv_python(installed)), "-c", code], capture_output=True, text=True, check=True, cwd="/"
    ).stdout.split()
    assert all(line.startswith(str(installed)) for line in lines), lines
    assert lines[1].endswith("auditor/_data/templates") and lines[2].endswith("auditor/_data/policies")


def test_audit_run_from_the_wheel_on_a_copied_example(installed: Path, tmp_path: Path) -> None:
    config = write_small_example(  # a small but whole run: scan, DP training, audit, energy, every output
        tmp_path / "project",
        rows=300,
        **{"train.epochs": 1, "train.privacy": {"noise_multiplier": 1.0, "accountant": "rdp"}},
    )
    done = subprocess.run(
        [str(installed / "bin" / "audit"), "run", str(config), "-o", "out", "--no-history"],
        capture_output=True,
        text=True,
        cwd=tmp_path / "project",
        env={**os.environ, "PYTHONNOUSERSITE": "1"},
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    out = tmp_path / "project" / "out"
    for name in ("report.pdf", "evidence.json", "junit.xml", "results.sarif", "summary.md", "README.md"):
        assert (out / name).is_file(), name
    assert "PASS" in done.stderr or "FAIL" in done.stderr
