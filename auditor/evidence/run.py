"""Run identity, data fingerprint and stage bookkeeping."""

from __future__ import annotations

from typing import Any, Literal

from auditor.evidence._base import Record


class Versions(Record):
    python: str
    torch: str
    opacus: str
    presidio_analyzer: str
    codecarbon: str
    weasyprint: str
    auditor: str
    spacy_model: str | None = None


class Host(Record):
    platform: str
    cpu_model: str
    cpu_count: int
    ram_gb: float
    gpu: str | None = None


class RunInfo(Record):
    id: str
    project: str
    system: str | None
    started_at: str
    finished_at: str
    config_sha256: str
    dataset_sha256: str
    seed: int
    versions: Versions
    host: Host
    command: str
    config: dict[str, Any]


StageStatus = Literal["ok", "error", "skipped"]


class StageRecord(Record):
    name: str
    status: StageStatus
    duration_s: float
    error: str | None = None


class DataInfo(Record):
    path: str
    format: str
    rows: int
    columns: int
    column_names: list[str]
    size_bytes: int
    sha256: str
    target: str
    classes: dict[str, int]
    dropped_missing_target: int
