"""The Evidence document: one typed, versioned record of a run (``evidence.json``).

Stages produce its sections, the policy engine reads it, and renderers format
it. Dumping is canonical (sorted keys), so load followed by dump gives the
same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, create_model, model_validator

from auditor._io import canonical_json, parse_json
from auditor.errors import InputError
from auditor.evidence._base import Record
from auditor.evidence.audit import AuditSection, CanaryAudit, GradientAudit, MiaResult
from auditor.evidence.controls import STATUSES, ControlResult, ControlStatus, Summary, Waiver
from auditor.evidence.distributed import Distributed, RankRun
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
from auditor.evidence.history import PreviousRun, RunMetrics
from auditor.evidence.pii import ColumnKind, KAnonymity, PiiColumn, PiiSection, ScanEngine, SpecialCategory
from auditor.evidence.run import DataInfo, Host, RunInfo, StageRecord, StageStatus, Versions
from auditor.evidence.training import (
    Baseline,
    EpochPoint,
    ExcludedColumn,
    GroupMetrics,
    GroupRow,
    LayerRewrite,
    MetricRow,
    ModelInfo,
    Privacy,
    TaskInfo,
    TrainingSection,
    TrivialComparison,
    Utility,
    WeightCheck,
)
from auditor.evidence.transformers import LanguageModel, PretrainedModel, TextInputs

SCHEMA_VERSION = "2.0"

__all__ = [
    "SCHEMA_VERSION",
    "STATUSES",
    "AuditSection",
    "Baseline",
    "CanaryAudit",
    "ColumnKind",
    "ControlResult",
    "ControlStatus",
    "Cost",
    "DataInfo",
    "Distributed",
    "EnergySection",
    "EpochPoint",
    "Evidence",
    "ExcludedColumn",
    "Figures",
    "GradientAudit",
    "GroupMetrics",
    "GroupRow",
    "Hardware",
    "Host",
    "KAnonymity",
    "LanguageModel",
    "LayerRewrite",
    "Method",
    "MethodSet",
    "MetricRow",
    "MiaResult",
    "ModelInfo",
    "PiiColumn",
    "PiiSection",
    "PretrainedModel",
    "PreviousRun",
    "Privacy",
    "Projection",
    "RankRun",
    "Recommendation",
    "RunInfo",
    "RunMetrics",
    "ScanEngine",
    "SpecialCategory",
    "StageRecord",
    "StageStatus",
    "Summary",
    "TaskInfo",
    "TextInputs",
    "TrainingSection",
    "TrivialComparison",
    "Utility",
    "Versions",
    "Waiver",
    "WeightCheck",
    "WhatIf",
    "dump_evidence",
    "evidence_json_schema",
    "load_evidence",
    "parse_evidence",
]


class Evidence(Record):
    """Everything a run established. A section is null when its stage errored or was skipped.

    Sections of stages added on the stage axis (beyond the built-in ones below) are
    extra keys, each validated with the model its stage declares.
    """

    model_config = ConfigDict(extra="allow", frozen=True, use_attribute_docstrings=True)

    schema_version: str = SCHEMA_VERSION
    """Version of this document's schema."""
    run: RunInfo
    """Run identity, versions, host and the config as run."""
    stages: list[StageRecord]
    """Every stage, in the order it ran, with its status."""
    data: DataInfo | None
    """The dataset: format, size, fingerprint and target."""
    pii: PiiSection | None
    """The personal-data scan."""
    training: TrainingSection | None
    """DP training next to the non-private baseline."""
    audit: AuditSection | None
    """The empirical privacy audit."""
    energy: EnergySection | None
    """Energy, emissions and cost, per stage."""
    previous: PreviousRun | None = None
    """The earlier run this one is compared with (audit run --baseline), for the regression controls."""
    trend: list[RunMetrics] = Field(default_factory=list)
    """Key figures of the project's recent runs, oldest first, this one last."""
    controls: list[ControlResult]
    """One verdict per control of the selected policy packs."""
    summary: Summary
    """Counts, blocking controls and the one-line result."""
    verdict: Literal["pass", "fail"]
    """The gate: pass only when no control or stage blocks."""

    @model_validator(mode="after")
    def _plugin_sections(self) -> Evidence:
        extra = self.__pydantic_extra__ or {}
        if not extra:
            return self
        from auditor.stages import section_models

        models = section_models()
        for key, value in extra.items():
            if key not in models:
                raise ValueError(f"unknown evidence section {key!r}")
            if value is not None and not isinstance(value, models[key]):
                extra[key] = models[key].model_validate(value)
        return self

    def section(self, name: str) -> Any:
        """A section by name, built-in or added by a plug-in stage (None when absent)."""
        if name in type(self).model_fields:
            return getattr(self, name)
        return (self.__pydantic_extra__ or {}).get(name)

    def stage(self, name: str) -> StageRecord | None:
        return next((s for s in self.stages if s.name == name), None)

    def metrics(self) -> RunMetrics:
        """This run's key figures, for history, trends and regression comparisons."""
        training = self.training
        return RunMetrics(
            run_id=self.run.id,
            started_at=self.run.started_at,
            verdict=self.verdict,
            epsilon=training.privacy.epsilon if training and training.privacy else None,
            accuracy=training.metrics.get("accuracy") if training else None,
            utility_metric=training.utility.metric if training else None,
            utility=training.utility.value if training else None,
            pii_rows=self.pii.rows_with_pii if self.pii else None,
            pii_columns=sorted(c.name for c in self.pii.columns if c.rows_with_pii) if self.pii else [],
            energy_kwh=self.energy.total.energy_kwh if self.energy else None,
            emissions_kg=self.energy.total.emissions_kg if self.energy else None,
        )


def dump_evidence(evidence: Evidence) -> str:
    return canonical_json(evidence.model_dump(mode="json"))


def parse_evidence(text: str, source: str = "evidence.json") -> Evidence:
    try:
        data: Any = parse_json(text)
    except ValueError as exc:
        raise InputError(str(exc), where=source) from None
    if not isinstance(data, dict):
        raise InputError("not an evidence document (expected a JSON object)", where=source)
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        hint = (
            "; it was written by an older auditor: re-run audit run to produce a current one"
            if isinstance(version, str) and version.startswith("1.")
            else ""
        )
        raise InputError(
            f"unsupported evidence schema_version {version!r} (expected {SCHEMA_VERSION}){hint}", where=source
        )
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
    """The schema of evidence.json, plug-in stages' sections included."""
    from auditor.stages import STAGES

    extra: dict[str, Any] = {
        stage.section: (stage.model | None, Field(None, description=stage.description))
        for stage in STAGES
        if stage.section and stage.model is not None and stage.section not in Evidence.model_fields
    }
    model = create_model("Evidence", __base__=Evidence, __doc__=Evidence.__doc__, **extra) if extra else Evidence
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"auditor evidence {SCHEMA_VERSION}"
    return schema
