"""Log a finished audit to MLflow tracking (``audit run --mlflow`` / ``mlflow:`` in audit.yaml).

Figures come from the evidence only: epsilon, the white-box epsilon lower bound, the primary metric of the
DP model and of the non-private baseline, energy, emissions, rows with personal data and the verdict
(1 pass, 0 fail) as metrics; the settings that define the run as params; the verdict, project and
versions as tags; report.pdf, evidence.json and the model card as artifacts. The default store is a
local directory (``./mlruns``); ``--mlflow-uri`` selects a server. MLflow's own telemetry is turned off
before it is imported, so a local store makes no network connection.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import InputError

if TYPE_CHECKING:
    from auditor.config_run import MlflowConfig
    from auditor.evidence import Evidence

ARTIFACTS = ("report.pdf", "evidence.json", "README.md")
_QUIET = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}


def tracking_uri(config: MlflowConfig, base: Path) -> str:
    """The configured URI, or a local file store in ``./mlruns`` (relative to ``base``)."""
    if config.tracking_uri:
        return config.tracking_uri
    return (base / "mlruns").resolve().as_uri()


def _client(uri: str) -> Any:
    from auditor.extras import require

    require("mlflow", "MLflow logging")
    for key, value in _QUIET.items():
        os.environ.setdefault(key, value)
    if uri.startswith("file:"):
        # MLflow 3 keeps the directory store in maintenance mode behind this switch; it is the local default here.
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def check_reachable(config: MlflowConfig, base: Path) -> None:
    """Before any stage runs: the tracking store answers (exit 2 when it does not)."""
    uri = tracking_uri(config, base)
    try:
        _client(uri).search_experiments(max_results=1)
    except InputError:
        raise
    except Exception as exc:  # MLflow raises its own and requests' errors alike
        raise InputError(f"cannot reach MLflow tracking at {uri}: {str(exc).splitlines()[0][:160]}") from None


def _metrics(ev: Evidence) -> dict[str, float]:
    t, a, e, p = ev.training, ev.audit, ev.energy, ev.pii
    found: dict[str, float | None] = {
        "epsilon": t.privacy.epsilon if t is not None and t.privacy is not None else None,
        "delta": t.privacy.delta if t is not None and t.privacy is not None else None,
        "epsilon_hat_white_box": a.gradient.epsilon_lower_bound if a is not None and a.gradient else None,
        "utility_dp": t.utility.value if t is not None else None,
        "utility_non_private": t.utility.baseline if t is not None else None,
        "energy_kwh": e.total.energy_kwh if e is not None else None,
        "emissions_kg": e.total.emissions_kg if e is not None else None,
        "rows_with_pii": float(p.rows_with_pii) if p is not None else None,
        "verdict_pass": 1.0 if ev.verdict == "pass" else 0.0,
        "controls_failed": float(len(ev.summary.blocking)),
    }
    return {k: float(v) for k, v in found.items() if v is not None}


def _params(ev: Evidence) -> dict[str, str]:
    config = ev.run.config
    train = config.get("train", {})
    privacy = train.get("privacy", {})
    params: dict[str, Any] = {
        "project": ev.run.project,
        "seed": ev.run.seed,
        "config_sha256": ev.run.config_sha256,
        "dataset_sha256": ev.run.dataset_sha256,
        "epochs": train.get("epochs"),
        "batch_size": train.get("batch_size"),
        "target_epsilon": privacy.get("target_epsilon"),
        "max_grad_norm": privacy.get("max_grad_norm"),
        "accountant": privacy.get("accountant"),
    }
    if ev.training is not None:
        params["task"] = ev.training.task.name
        params["utility_metric"] = ev.training.utility.metric
        if ev.training.privacy is not None:
            params["noise_multiplier"] = ev.training.privacy.noise_multiplier
    return {k: str(v) for k, v in params.items() if v is not None}


def log_run(ev: Evidence, outputs: Path, config: MlflowConfig, base: Path) -> str:
    """Log one audit as an MLflow run; returns the MLflow run id."""
    uri = tracking_uri(config, base)
    name = config.experiment or f"auditor/{ev.run.project}"
    try:
        client = _client(uri)
        experiment = client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment is not None else client.create_experiment(name)
        tags = {
            "mlflow.runName": config.run_name or f"audit {ev.run.id[:12]}",
            "auditor.run_id": ev.run.id,
            "auditor.verdict": ev.verdict,
            "auditor.version": ev.run.versions.auditor,
            "auditor.summary": ev.summary.line,
        }
        run = client.create_run(experiment_id, tags=tags)
        run_id: str = run.info.run_id
        from mlflow.entities import Metric, Param

        stamp = int(dt.datetime.fromisoformat(ev.run.finished_at).timestamp() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, stamp, 0) for k, v in _metrics(ev).items()],
            params=[Param(k, v) for k, v in _params(ev).items()],
        )
        for filename in ARTIFACTS:
            if (outputs / filename).is_file():
                client.log_artifact(run_id, str(outputs / filename))
        client.set_terminated(run_id, status="FINISHED")
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"MLflow logging to {uri} failed: {str(exc).splitlines()[0][:160]}") from None
    return run_id
