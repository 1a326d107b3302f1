"""What a run knew about earlier runs: its regression baseline and the recent trend."""

from __future__ import annotations

from auditor.evidence._base import Record


class RunMetrics(Record):
    """The key figures of one run, as stored in history and compared across runs."""

    run_id: str
    """The run's id."""
    started_at: str
    """When it started (ISO 8601, UTC)."""
    verdict: str
    """Its gate verdict."""
    epsilon: float | None
    """Its epsilon, or null without DP."""
    accuracy: float | None
    """Its held-out accuracy (classification only)."""
    utility_metric: str | None = None
    """Name of its primary metric."""
    utility: float | None = None
    """Its primary metric's held-out value."""
    pii_rows: int | None
    """Rows with personal data found by its scan."""
    pii_columns: list[str]
    """Columns with personal data found by its scan."""
    energy_kwh: float | None
    """Its total energy."""
    emissions_kg: float | None
    """Its location-based emissions."""


class PreviousRun(Record):
    """An earlier run this one is compared with (``audit run --baseline``)."""

    source: str
    """Where it came from: a history run id or an evidence file."""
    metrics: RunMetrics
    """Its key figures."""
    energy_increase: float | None = None
    """This run's total energy over the earlier run's, minus 1; null when either is unknown."""
    energy_increase_low: float | None = None
    """That increase with this run's energy lowered and the earlier run's raised by energy.noise_floor_kwh."""
    energy_increase_high: float | None = None
    """The other way round; null when the earlier run's energy is within the floor of zero."""
