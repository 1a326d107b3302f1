"""The energy stage: CodeCarbon's per-stage figures turned into the sustainability evidence."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from auditor import stage_names as names
from auditor.energy import energy_section
from auditor.evidence import EnergySection, TrainingSection
from auditor.evidence._base import Record
from auditor.stages.base import RunContext, Stage, register


class EnergyStage(Stage):
    name: ClassVar[str] = names.ENERGY
    description: ClassVar[str] = "Energy, emissions and cost, per stage."
    phase: ClassVar[Literal["work", "summary"]] = "summary"
    section: ClassVar[str | None] = "energy"
    model: ClassVar[type[Record] | None] = EnergySection
    tracked: ClassVar[bool] = False  # it reads the meter that tracked the others

    switch: ClassVar[str | None] = "energy.enabled"

    def skip_reason(self, ctx: RunContext) -> str | None:
        return None if ctx.config.energy.enabled else "energy.enabled is false"

    def run(self, ctx: RunContext) -> Record:
        training = ctx.section("training", TrainingSection)
        epochs = ctx.config.train.epochs if training is not None else 0
        tokens = None
        if training is not None and training.text is not None:
            runs = max(1, int(training.privacy is not None) + int(training.baseline is not None))
            tokens = training.text.training_tokens * epochs * runs
        return energy_section(
            ctx.meter,
            ctx.config.energy,
            epochs,
            training.curve if training else [],
            training.curve_metric if training else "accuracy",
            training_tokens=tokens,
            training_device=training.model.device if training is not None else None,
        )

    def describe(self, section: Any) -> list[str]:
        e: EnergySection = section
        return [
            f"energy: {e.total.energy_kwh:.3g} kWh, {e.total.emissions_kg:.3g} kg CO2e "
            f"({e.country_iso_code}, {e.carbon_intensity_g_per_kwh:.0f} g/kWh)"
        ]


register(EnergyStage())
