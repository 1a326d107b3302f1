"""Policy packs and waivers: file formats, validated with pydantic."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from auditor.config import Severity

Op = Literal["<=", "<", ">=", ">", "==", "!=", "in", "not in", "empty", "not empty", "present", "true", "false"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Param(_Strict):
    default: float | int | bool | str
    description: str


class SampleRule(_Strict):
    """How a control that measures a sample decides: a confidence interval, and a minimum n."""

    low: str = Field(description="Evidence path of the interval's lower end.")
    high: str = Field(description="Evidence path of the interval's upper end.")
    method: str = Field(description="How the interval is computed, for the report and docs/controls.md.")
    n: str | None = Field(None, description="Evidence path of the sample size the minimum applies to.")
    min_n: Any = Field(None, description="The smallest n that can decide (a number or $parameter).")


class MetricCheck(_Strict):
    """``{metric: training.privacy.epsilon, op: "<=", value: $max_epsilon}``

    With ``sample``, an ordered comparison passes only when the whole interval meets the limit,
    fails only when the whole interval misses it, and is ``inconclusive`` otherwise, or when n is
    below the minimum."""

    metric: str
    op: Op
    value: Any = None
    sample: SampleRule | None = None


class CelCheck(_Strict):
    """A CEL expression over the evidence that must be true to pass."""

    cel: str
    observed: str | None = Field(None, description="CEL expression whose value the report shows as observed.")


def _check_kind(value: Any) -> str:
    """A check with a ``cel`` key is a CEL check, anything else a metric check, so an error
    names the one form the author meant instead of listing both."""
    if isinstance(value, dict):
        return "cel" if "cel" in value else "metric"
    return "cel" if isinstance(value, CelCheck) else "metric"


Check = Annotated[Annotated[MetricCheck, Tag("metric")] | Annotated[CelCheck, Tag("cel")], Discriminator(_check_kind)]


class Control(_Strict):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
    title: str = Field(min_length=3)
    description: str = Field(min_length=3)
    severity: Severity
    refs: list[str] = Field(min_length=1)
    remediation: str = Field(min_length=3)
    expected: str | None = Field(None, description="Human wording of the target; derived for metric checks.")
    applies_to: list[str] | None = Field(
        None,
        min_length=1,
        description="Tasks (tabular-regression) or task families (classification) the control applies to; "
        "all when omitted. For any other task the control is skipped, with the reason.",
    )
    when: str | None = Field(
        None,
        description="CEL expression over the evidence: the control applies only when it is true, "
        "and is skipped with the reason otherwise.",
    )
    check: Check


class Pack(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    title: str
    description: str
    params: dict[str, Param] = Field(default_factory=dict)
    controls: list[Control] = Field(min_length=1)

    @field_validator("controls")
    @classmethod
    def _unique(cls, controls: list[Control]) -> list[Control]:
        seen: set[str] = set()
        for control in controls:
            if control.id in seen:
                raise ValueError(f"duplicate control id {control.id}")
            seen.add(control.id)
        return controls


class WaiverEntry(_Strict):
    control: str
    justification: str
    approver: str = Field(min_length=1)
    expires: dt.date
    column: str | None = Field(
        None, description="Cover only the control's findings in this column; a finding elsewhere is not waived."
    )
    entity: str | None = Field(
        None, description="Cover only findings of this entity or category (PERSON, HEALTH...); with column, both."
    )

    def covers(self, finding: str) -> bool:
        """Whether a finding ('column' or 'column:ENTITY') is in this waiver's scope."""
        column, _, entity = finding.rpartition(":") if ":" in finding else (finding, "", "")
        if self.column is not None and column != self.column:
            return False
        return self.entity is None or entity == self.entity

    @property
    def scoped(self) -> bool:
        return self.column is not None or self.entity is not None

    @field_validator("justification")
    @classmethod
    def _justified(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a waiver needs a justification")
        return value


class WaiverFile(_Strict):
    waivers: list[WaiverEntry]
