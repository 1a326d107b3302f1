"""The data stage: load, validate and fingerprint the dataset (bad data is an input error, exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from auditor import stage_names as names
from auditor.config import AuditConfig
from auditor.data import LoadedData, load_data
from auditor.evidence import DataInfo
from auditor.evidence._base import Record
from auditor.stages.base import RunContext, Stage, register

MAX_CLASSES_LISTED = 50


def display_path(config: AuditConfig, path: Path) -> str:
    """The dataset path as SARIF viewers and reviewers want it: relative to the working directory
    when it lies inside it (a repository checkout), else as written in the config."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return config.data.path


def listed_classes(config: AuditConfig, counts: dict[str, int]) -> dict[str, int]:
    """The target's classes with their row counts; coded ``class 1``... when a label is personal data."""
    from auditor.pii.labels import personal_values

    if personal_values(list(counts), config.pii):
        return {f"class {i + 1}": n for i, n in enumerate(counts.values())}
    return counts


def data_info(config: AuditConfig, data: LoadedData) -> DataInfo:
    classes = data.frame[data.target].astype("str").value_counts()
    listed = {str(k): int(v) for k, v in sorted(classes.items())} if len(classes) <= MAX_CLASSES_LISTED else None
    return DataInfo(
        path=display_path(config, data.path),
        format=data.format,
        rows=len(data.frame),
        columns=data.frame.shape[1],
        column_names=[str(c) for c in data.frame.columns],
        size_bytes=data.size_bytes,
        size_mib=round(data.size_bytes / 2**20, 3),
        sha256=data.sha256,
        target=data.target,
        target_values=len(classes),
        classes=None if listed is None else listed_classes(config, listed),
        dropped_missing_target=data.dropped_missing_target,
    )


class DataStage(Stage):
    name: ClassVar[str] = names.DATA
    description: ClassVar[str] = "The dataset: format, size, fingerprint and target."
    section: ClassVar[str | None] = "data"
    model: ClassVar[type[Record] | None] = DataInfo

    def run(self, ctx: RunContext) -> Record:
        ctx.data = load_data(ctx.config)
        return data_info(ctx.config, ctx.data)

    def describe(self, section: Any) -> list[str]:
        d: DataInfo = section
        return [f"data: {d.rows:,} rows x {d.columns} columns, {d.format}, sha256 {d.sha256[:16]}"]


register(DataStage())
