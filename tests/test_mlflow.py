"""`audit run --mlflow` against a real `mlflow server` started here on localhost, and the local default store.

The server is mlflow-skinny's `mlflow server` with the server's own dependencies (Flask, alembic, graphene, huey)
from the dev extra; auditor itself needs only mlflow-skinny, the client.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from tests.conftest import no_network, write_small_example

pytestmark = pytest.mark.slow  # a server and full runs

SERVER = Path(sys.executable).with_name("mlflow")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not SERVER.exists():
        pytest.skip("mlflow is not installed: make setup installs the dev extra")
    work = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    process = subprocess.Popen(
        [str(SERVER), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}", "--artifacts-destination", str(work / "artifacts")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=work,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the MLflow server did not start within 60 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_example(tmp_path_factory.mktemp("mlflow-example"), rows=300, **{"train.epochs": 1})


def _run(config: Path, *args: str) -> tuple[int, str]:
    cwd = os.getcwd()
    os.chdir(config.parent)
    try:
        result = CliRunner().invoke(app, ["run", str(config), "--no-history", *args])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stderr


def test_a_run_is_logged_to_a_real_server(server: str, example: Path) -> None:
    from mlflow.tracking import MlflowClient

    code, err = _run(example, "-o", "out-server", "--mlflow-uri", server)
    assert code in (0, 1), err
    assert "logged to MLflow: run" in err
    evidence = json.loads((example.parent / "out-server" / "evidence.json").read_text())
    client = MlflowClient(tracking_uri=server)
    experiment = client.get_experiment_by_name("auditor/credit-scoring")
    assert experiment is not None
    [run] = client.search_runs([experiment.experiment_id])
    metrics, params, tags = run.data.metrics, run.data.params, run.data.tags
    assert metrics["epsilon"] == pytest.approx(evidence["training"]["privacy"]["epsilon"])
    assert metrics["utility_dp"] == pytest.approx(evidence["training"]["utility"]["value"])
    assert metrics["utility_non_private"] == pytest.approx(evidence["training"]["utility"]["baseline"])
    assert metrics["energy_kwh"] == pytest.approx(evidence["energy"]["total"]["energy_kwh"])
    assert metrics["rows_with_pii"] == evidence["pii"]["rows_with_pii"]
    assert metrics["verdict_pass"] == (1.0 if evidence["verdict"] == "pass" else 0.0)
    assert "epsilon_hat_white_box" in metrics
    assert params["dataset_sha256"] == evidence["run"]["dataset_sha256"] and params["seed"] == str(
        evidence["run"]["seed"]
    )
    assert tags["auditor.verdict"] == evidence["verdict"] and tags["auditor.run_id"] == evidence["run"]["id"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"report.pdf", "evidence.json", "README.md"} <= artifacts


def test_the_default_store_is_local_and_offline(tmp_path: Path) -> None:
    """The same logging as `--mlflow` without a URI, on the fixture evidence, under the socket guard."""
    import shutil

    from auditor.config import MlflowConfig
    from auditor.evidence import load_evidence
    from auditor.mlflow_log import log_run

    data = Path(__file__).parent / "data"
    shutil.copy(data / "evidence.json", tmp_path / "evidence.json")
    with no_network() as log:
        run_id = log_run(load_evidence(data / "evidence.json"), tmp_path, MlflowConfig(enabled=True), tmp_path)
    assert log.attempts == []
    [logged] = list((tmp_path / "mlruns").glob(f"*/{run_id}/artifacts/evidence.json"))
    assert logged.read_bytes() == (data / "evidence.json").read_bytes()


def test_an_unreachable_server_is_refused_before_any_work(tmp_path: Path) -> None:
    config = write_small_example(tmp_path, rows=100)
    code, err = _run(config, "-o", "out", "--mlflow-uri", f"http://127.0.0.1:{_free_port()}")
    assert code == 2 and "cannot reach MLflow tracking" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_credentials_in_the_uri_are_refused(tmp_path: Path) -> None:
    config = write_small_example(tmp_path, rows=100)
    code, err = _run(config, "-o", "out", "--mlflow-uri", "https://alice:s3cret@mlflow.example.com")
    assert code == 2 and "MLFLOW_TRACKING_PASSWORD" in err and "s3cret" not in err
