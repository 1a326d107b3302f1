"""The ``audit.yaml`` sections about what a run does besides training: anonymisation, energy, policies, the
report and MLflow."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from auditor.config_base import ALL_FORMATS, OutputFormat, Severity, _Strict


class ProjectionConfig(_Strict):
    epochs: int | None = Field(None, ge=1)
    data_scale: float = Field(1.0, gt=0)


class EnergyConfig(_Strict):
    """CodeCarbon settings. The country is explicit: no geolocation, ever."""

    enabled: bool = Field(True, description="Measure energy with CodeCarbon; off skips the sustainability figures.")
    country_iso_code: str = Field(pattern=r"^[A-Z]{3}$")
    region: str | None = None
    pue: float = Field(1.0, ge=1.0, le=3.0)
    measure_power_secs: float = Field(
        15.0,
        gt=0,
        description="CodeCarbon's sampling interval. In process mode CPU energy comes from CPU-time deltas and "
        "every stage ends with a final sample, so a longer interval loses no accuracy and costs less.",
    )
    gpu_ids: list[int] | None = Field(
        None,
        description="GPU indices CodeCarbon measures (default: CUDA_VISIBLE_DEVICES, else every GPU). NVML's "
        "figure covers the whole device, other processes on it included.",
    )
    force_cpu_power_w: float | None = Field(None, gt=0)
    force_ram_power_w: float | None = Field(None, gt=0)
    noise_floor_kwh: float = Field(
        1e-4,
        ge=0,
        description="Smallest energy difference taken as real. CodeCarbon's estimate for a short run varies by "
        "about this much between identical reruns (6.3e-5 to 9.1e-5 kWh measured); energy comparisons whose "
        "interval of +/- this floor contains their limit are inconclusive instead of flipping.",
    )
    price_per_kwh: float | None = Field(None, ge=0)
    currency: str = "EUR"
    hourly_rate: float | None = Field(None, ge=0, description="Compute cost per hour of wall time.")
    what_if: list[str] = Field(default_factory=lambda: ["FRA", "DEU", "USA", "IND"])
    projection: ProjectionConfig = Field(default_factory=ProjectionConfig)


class PolicyConfig(_Strict):
    """Which packs to check, their parameters, and how failures gate."""

    packs: list[str] = Field(default_factory=lambda: ["gdpr", "sustainability"])
    params: dict[str, float | int | bool | str] = Field(default_factory=dict)
    waivers: str | None = None
    fail_on: Severity = "low"
    warn_on: Severity = "info"
    fail_on_inconclusive: bool = Field(
        False, description="An inconclusive control (its sample too small to decide) blocks the gate."
    )


class ReportConfig(_Strict):
    title: str | None = None
    organisation: str | None = None
    license: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9.+-]*$",
        description="The model's licence as a Hugging Face Hub licence id (apache-2.0, mit, cc-by-4.0, other...), "
        "written to the model card's metadata.",
    )
    dataset: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="The training data's name for the model card's `datasets` (a Hub dataset id, or your own "
        "name); the dataset's SHA-256 is used when unset.",
    )
    signers: list[str] = Field(default_factory=lambda: ["Data Protection Officer", "Sustainability Officer"])
    formats: list[OutputFormat] = Field(default_factory=lambda: list(ALL_FORMATS))


class MlflowConfig(_Strict):
    """Log each ``audit run`` to MLflow tracking (also ``audit run --mlflow`` / ``--mlflow-uri``)."""

    enabled: bool = Field(False, description="Log the run's key figures, params, tags and outputs to MLflow.")
    tracking_uri: str | None = Field(
        None,
        description="An MLflow tracking server (http://host:5000) or store; default: a local ./mlruns directory. "
        "Credentials go in MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD, never in the URI.",
    )
    experiment: str | None = Field(None, description="Experiment name; default auditor/<project>.")
    run_name: str | None = Field(None, description="MLflow run name; default 'audit <run id>'.")

    @field_validator("tracking_uri")
    @classmethod
    def _no_credentials(cls, value: str | None) -> str | None:
        if value is not None and re.match(r"^[a-z][a-z0-9+.-]*://[^/@]+@", value):
            raise ValueError(
                "credentials in the URI would be written to the evidence; "
                "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD instead"
            )
        return value


Operator = Literal["replace", "pseudonymise", "mask", "hash", "encrypt"]


class AnonymiseConfig(_Strict):
    """Anonymise the text columns (data.text) after the scan and before training."""

    enabled: bool = Field(False, description="Train on the anonymised text instead of the raw text.")
    default: Operator = Field("replace", description="Operator for entities not listed in operators.")
    operators: dict[str, Operator] = Field(
        default_factory=dict,
        description="Operator per entity type: replace (<PERSON>), pseudonymise (a consistent surrogate, keyed by "
        "HMAC), mask (****), hash (SHA-256 with a salt from the key), encrypt (AES, reversible with the key).",
    )
    key_file: str | None = Field(
        None, description="File holding the secret for pseudonymise, hash and encrypt (never written anywhere)."
    )
    key_env: str | None = Field(None, description="Environment variable holding that secret, instead of key_file.")
    write_to: str | None = Field(
        None,
        description="Directory for the anonymised training data (anonymised.parquet: the text columns and the "
        "target) and manifest.json (source SHA-256, operators, counts per entity); also --write-anonymised DIR.",
    )

    @field_validator("operators")
    @classmethod
    def _entity_names(cls, value: dict[str, str]) -> dict[str, str]:
        for entity in value:
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*", entity):
                raise ValueError(f"{entity!r} is not an entity type (upper case, e.g. PERSON)")
        return value

    @model_validator(mode="after")
    def _one_key_source(self) -> AnonymiseConfig:
        if self.key_file is not None and self.key_env is not None:
            raise ValueError("give either key_file or key_env, not both")
        return self
