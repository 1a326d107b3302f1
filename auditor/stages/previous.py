"""The previous stage: the earlier run this one is compared with (``--baseline``), for the regression controls."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from auditor import stage_names as names
from auditor.evidence import PreviousRun
from auditor.evidence._base import Record
from auditor.stages.base import RunContext, Stage, register


class PreviousStage(Stage):
    name: ClassVar[str] = names.PREVIOUS
    description: ClassVar[str] = "The earlier run this one is compared with (audit run --baseline)."
    phase: ClassVar[Literal["work", "summary"]] = "summary"
    section: ClassVar[str | None] = "previous"
    model: ClassVar[type[Record] | None] = PreviousRun
    tracked: ClassVar[bool] = False

    def skip_reason(self, ctx: RunContext) -> str | None:
        return ctx.previous_note if ctx.previous is None else None

    def run(self, ctx: RunContext) -> Record | None:
        return ctx.previous

    def describe(self, section: Any) -> list[str]:
        p: PreviousRun = section
        return [f"previous: compared with {p.source} ({p.metrics.started_at})"]


register(PreviousStage())
