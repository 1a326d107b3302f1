"""Run identity, data fingerprint and stage bookkeeping."""

from __future__ import annotations

from typing import Any, Literal

from auditor.evidence._base import Record


class Versions(Record):
    """Versions of the software that produced the evidence."""

    python: str
    """Python version."""
    torch: str
    """PyTorch version."""
    opacus: str
    """Opacus version."""
    presidio_analyzer: str
    """Presidio analyzer version."""
    codecarbon: str
    """CodeCarbon version."""
    weasyprint: str
    """WeasyPrint version."""
    auditor: str
    """auditor version."""
    spacy_model: str | None = None
    """The spaCy model the scan used, with its version."""


class Host(Record):
    """The machine the run ran on."""

    platform: str
    """Operating system."""
    cpu_model: str
    """CPU model."""
    cpu_count: int
    """Logical CPUs."""
    ram_gb: float
    """Memory, GiB."""
    gpu: str | None = None
    """GPU model, if any."""


class RunInfo(Record):
    """Who ran what, when, with which inputs."""

    id: str
    """Unique run id."""
    project: str
    """The config's project."""
    system: str | None
    """The AI system this model belongs to."""
    started_at: str
    """Start time (ISO 8601, UTC)."""
    finished_at: str
    """End time (ISO 8601, UTC)."""
    config_sha256: str
    """SHA-256 of the canonical config."""
    dataset_sha256: str
    """SHA-256 of the dataset."""
    seed: int
    """The seed of the split, initial weights and canaries."""
    versions: Versions
    """Software versions."""
    host: Host
    """The machine."""
    command: str
    """The command line, or the API call."""
    config: dict[str, Any]
    """The config as run, defaults filled in."""


StageStatus = Literal["ok", "error", "skipped"]


class StageRecord(Record):
    """One stage's outcome."""

    name: str
    """Stage name."""
    status: StageStatus
    """ok, error (it crashed or a stage it depends on failed) or skipped (with the reason)."""
    duration_s: float
    """Wall time."""
    error: str | None = None
    """The error or skip reason, one line, personal data masked."""
    disabled: bool = False
    """Skipped because the config turned it off (pii.enabled: false...): controls that need it are errors."""


class DataInfo(Record):
    """The dataset as loaded."""

    path: str
    """Dataset path, relative to the working directory when inside it."""
    format: str
    """Loader that read it (csv, parquet, jsonl, imagefolder...)."""
    rows: int
    """Rows with a target value."""
    columns: int
    """Columns."""
    column_names: list[str]
    """Column names."""
    size_bytes: int
    """Size on disk."""
    size_mib: float
    """Size on disk, MiB."""
    sha256: str
    """SHA-256 fingerprint."""
    target: str
    """The target column (data.target)."""
    target_values: int
    """Distinct target values."""
    classes: dict[str, int] | None
    """Rows per target value, when there are at most 50 values (a class label); null for a numeric target."""
    dropped_missing_target: int
    """Rows dropped because the target was missing."""
