"""The previous stage: the earlier run this one is compared with (``--baseline``), for the regression controls."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from auditor import stage_names as names
from auditor.energy.analysis import ratio_interval
from auditor.evidence import EnergySection, PreviousRun
from auditor.evidence._base import Record
from auditor.stages.base import RunContext, Stage, register


class PreviousStage(Stage):
    name: ClassVar[str] = names.PREVIOUS
    description: ClassVar[str] = "The earlier run this one is compared with (audit run --baseline)."
    phase: ClassVar[Literal["work", "summary"]] = "summary"
    section: ClassVar[str | None] = "previous"
    model: ClassVar[type[Record] | None] = PreviousRun
    tracked: ClassVar[bool] = False
    after: ClassVar[tuple[str, ...]] = (names.ENERGY,)

    def skip_reason(self, ctx: RunContext) -> str | None:
        return ctx.previous_note if ctx.previous is None else None

    def run(self, ctx: RunContext) -> Record | None:
        previous = ctx.previous
        energy = ctx.section("energy", EnergySection)
        if previous is None or energy is None or previous.metrics.energy_kwh is None:
            return previous
        now, before = energy.total.energy_kwh, previous.metrics.energy_kwh
        if before <= 0:
            return previous
        low, high = ratio_interval(now, before, ctx.config.energy.noise_floor_kwh)
        return previous.model_copy(
            update={
                "energy_increase": round(now / before - 1.0, 6),
                "energy_increase_low": round(low - 1.0, 6),
                "energy_increase_high": None if high is None else round(high - 1.0, 6),
            }
        )

    def describe(self, section: Any) -> list[str]:
        p: PreviousRun = section
        return [f"previous: compared with {p.source} ({p.metrics.started_at})"]


register(PreviousStage())
