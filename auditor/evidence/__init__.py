"""The Evidence document: one typed, versioned record of a run (``evidence.json``).

Stages produce its sections, the policy engine reads it, and renderers format
it. Dumping is canonical (sorted keys), so load followed by dump gives the
same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from auditor._io import canonical_json
from auditor.errors import InputError
from auditor.evidence._base import Record
from auditor.evidence.audit import AuditSection, CanaryAudit, MiaResult
from auditor.evidence.controls import STATUSES, ControlResult, ControlStatus, Summary, Waiver
from auditor.evidence.energy import (
    Cost,
    EnergySection,
    Figures,
    Hardware,
    Method,
    MethodSet,
    Projection,
    Recommendation,
    WhatIf,
)
from auditor.evidence.history import BaselineRef, RunMetrics
from auditor.evidence.pii import ColumnKind, KAnonymity, PiiColumn, PiiSection, ScanEngine, SpecialCategory
from auditor.evidence.run import DataInfo, Host, RunInfo, StageRecord, StageStatus, Versions
from auditor.evidence.training import (
    Baseline,
    EpochPoint,
    ExcludedColumn,
    GroupMetrics,
    GroupRow,
    Metrics,
    ModelInfo,
    Privacy,
    TrainingSection,
)

SCHEMA_VERSION = "1.1"

__all__ = [
    "SCHEMA_VERSION",
    "STATUSES",
    "AuditSection",
    "Baseline",
    "BaselineRef",
    "CanaryAudit",
    "ColumnKind",
    "ControlResult",
    "ControlStatus",
    "Cost",
    "DataInfo",
    "EnergySection",
    "EpochPoint",
    "Evidence",
    "ExcludedColumn",
    "Figures",
    "GroupMetrics",
    "GroupRow",
    "Hardware",
    "Host",
    "KAnonymity",
    "Method",
    "MethodSet",
    "Metrics",
    "MiaResult",
    "ModelInfo",
    "PiiColumn",
    "PiiSection",
    "Privacy",
    "Projection",
    "Recommendation",
    "RunInfo",
    "RunMetrics",
    "ScanEngine",
    "SpecialCategory",
    "StageRecord",
    "StageStatus",
    "Summary",
    "TrainingSection",
    "Versions",
    "Waiver",
    "WhatIf",
    "dump_evidence",
    "evidence_json_schema",
    "load_evidence",
    "parse_evidence",
]


class Evidence(Record):
    """Everything a run established. A section is null when its stage errored or was skipped."""

    schema_version: str = SCHEMA_VERSION
    run: RunInfo
    stages: list[StageRecord]
    data: DataInfo
    pii: PiiSection | None
    training: TrainingSection | None
    audit: AuditSection | None
    energy: EnergySection | None
    baseline: BaselineRef | None = None
    trend: list[RunMetrics] = Field(default_factory=list)
    controls: list[ControlResult]
    summary: Summary
    verdict: Literal["pass", "fail"]

    def stage(self, name: str) -> StageRecord | None:
        return next((s for s in self.stages if s.name == name), None)

    def metrics(self) -> RunMetrics:
        """This run's key figures, for history, trends and regression baselines."""
        return RunMetrics(
            run_id=self.run.id,
            started_at=self.run.started_at,
            verdict=self.verdict,
            epsilon=self.training.privacy.epsilon if self.training and self.training.privacy else None,
            accuracy=self.training.metrics.accuracy if self.training else None,
            pii_rows=self.pii.rows_with_pii if self.pii else None,
            pii_columns=sorted(c.name for c in self.pii.columns if c.rows_with_pii) if self.pii else [],
            energy_kwh=self.energy.total.energy_kwh if self.energy else None,
            emissions_kg=self.energy.total.emissions_kg if self.energy else None,
        )


def dump_evidence(evidence: Evidence) -> str:
    return canonical_json(evidence.model_dump(mode="json"))


def parse_evidence(text: str, source: str = "evidence.json") -> Evidence:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (line {exc.lineno}, column {exc.colno})", where=source) from None
    if not isinstance(data, dict):
        raise InputError("not an evidence document (expected a JSON object)", where=source)
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(f"unsupported evidence schema_version {version!r} (expected {SCHEMA_VERSION})", where=source)
    try:
        return Evidence.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise InputError(f"invalid evidence at {loc}: {first['msg']}", where=source) from None


def load_evidence(path: Path) -> Evidence:
    if not path.is_file():
        raise InputError("file not found" if not path.exists() else "not a file", where=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        raise InputError("cannot read as UTF-8 text", where=str(path)) from None
    return parse_evidence(text, str(path))


def evidence_json_schema() -> dict[str, Any]:
    schema = Evidence.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"auditor evidence {SCHEMA_VERSION}"
    return schema
