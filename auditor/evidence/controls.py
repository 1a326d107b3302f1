"""Control verdicts and the gate summary."""

from __future__ import annotations

from typing import Any, Literal

from auditor.evidence._base import Record

ControlStatus = Literal["pass", "fail", "error", "waived", "skipped"]
STATUSES: tuple[ControlStatus, ...] = ("pass", "fail", "error", "waived", "skipped")


class Waiver(Record):
    control: str
    justification: str
    approver: str
    expires: str


class ControlResult(Record):
    id: str
    pack: str
    pack_version: str
    title: str
    description: str
    severity: Literal["info", "low", "medium", "high", "critical"]
    refs: list[str]
    status: ControlStatus
    observed: Any
    expected: str
    reason: str
    remediation: str
    waiver: Waiver | None = None


class Summary(Record):
    counts: dict[str, int]
    line: str
    fail_on: str
    warn_on: str
    blocking: list[str]
    warnings: list[str]
