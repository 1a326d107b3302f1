"""Control verdicts and the gate summary."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from auditor.evidence._base import Record

ControlStatus = Literal["pass", "fail", "error", "waived", "skipped", "inconclusive"]
STATUSES: tuple[ControlStatus, ...] = ("pass", "fail", "error", "waived", "skipped", "inconclusive")
SeverityLevel = Literal["info", "low", "medium", "high", "critical"]


class Waiver(Record):
    """A documented, time-limited exception."""

    control: str
    """The control waived."""
    justification: str
    """Why."""
    approver: str
    """Who approved it."""
    expires: str
    """Last day it is valid (ISO date)."""
    column: str | None = None
    """The column the waiver is scoped to; null covers every finding of the control."""
    entity: str | None = None
    """The entity or category it is scoped to; null covers every one."""
    covered: list[str] = Field(default_factory=list)
    """The findings ('column:ENTITY') this waiver covered in this run."""


class ControlResult(Record):
    """One control's verdict."""

    id: str
    """Stable control id."""
    pack: str
    """The policy pack."""
    pack_version: str
    """The pack's version."""
    title: str
    """Short title."""
    description: str
    """What the control checks."""
    severity: SeverityLevel
    """How much a failure matters to the gate."""
    refs: list[str]
    """Legal and technical references."""
    status: ControlStatus
    """pass, fail, error (evidence missing or its stage failed), waived, or skipped (with the reason)."""
    observed: Any
    """The value observed in the evidence."""
    expected: str
    """The target, in words."""
    reason: str
    """Why this status."""
    remediation: str
    """What to do about a failure."""
    waiver: Waiver | None = None
    """The waiver applied, if any."""


class Summary(Record):
    """The gate in brief."""

    counts: dict[str, int]
    """Controls per status."""
    line: str
    """One line: passed, failed, waived, errors, skipped."""
    fail_on: SeverityLevel
    """Lowest severity whose failure blocks."""
    warn_on: SeverityLevel
    """Lowest severity whose failure warns."""
    blocking: list[str]
    """Controls and stages that block the gate."""
    warnings: list[str]
    """Controls that failed below the blocking severity."""
    inconclusive: list[str] = Field(default_factory=list)
    """Controls whose sample could not decide (interval across the limit, or n below the minimum)."""
    fail_on_inconclusive: bool = False
    """--fail-on-inconclusive: an inconclusive control blocks the gate."""
