"""What a run knew about earlier runs: its regression baseline and the recent trend."""

from __future__ import annotations

from auditor.evidence._base import Record


class RunMetrics(Record):
    """The key figures of one run, as stored in history and compared across runs."""

    run_id: str
    started_at: str
    verdict: str
    epsilon: float | None
    accuracy: float | None
    pii_rows: int | None
    pii_columns: list[str]
    energy_kwh: float | None
    emissions_kg: float | None


class BaselineRef(Record):
    source: str
    metrics: RunMetrics
