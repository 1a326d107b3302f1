"""Derived sustainability figures: intensity used, cost, regional what-if,
projection and recommendations. Every figure here is arithmetic on measured
energy; nothing is measured twice."""

from __future__ import annotations

import os

from auditor.config import EnergyConfig
from auditor.energy.intensity import SOURCE, country_intensity
from auditor.energy.meter import EnergyMeter
from auditor.evidence import Cost, EnergySection, EpochPoint, Figures, Projection, Recommendation, WhatIf
from auditor.stage_names import TRAIN, TRAIN_BASELINE, TRAIN_DP

FLAT_TOLERANCE = 0.005


def _cost(config: EnergyConfig, total: Figures) -> Cost:
    # Not rounded: a demo's cost is a fraction of a cent, and renderers format it.
    energy_cost = None if config.price_per_kwh is None else total.energy_kwh * config.price_per_kwh
    compute_cost = None if config.hourly_rate is None else total.duration_s / 3600 * config.hourly_rate
    parts = [c for c in (energy_cost, compute_cost) if c is not None]
    return Cost(
        currency=config.currency,
        price_per_kwh=config.price_per_kwh,
        energy_cost=energy_cost,
        hourly_rate=config.hourly_rate,
        compute_cost=compute_cost,
        total=sum(parts) if parts else None,
    )


def _what_if(config: EnergyConfig, energy_kwh: float) -> list[WhatIf]:
    rows = []
    for code in config.what_if:
        intensity = country_intensity(code)
        rows.append(
            WhatIf(
                country_iso_code=code,
                country_name=intensity.country_name,
                carbon_intensity_g_per_kwh=round(intensity.g_per_kwh, 3),
                emissions_kg=energy_kwh * intensity.g_per_kwh / 1000,
            )
        )
    return rows


def _projection(config: EnergyConfig, stage: Figures | None, epochs: int, intensity: float) -> Projection | None:
    target_epochs = config.projection.epochs
    scale = config.projection.data_scale
    if stage is None or epochs == 0 or (target_epochs is None and scale == 1.0):
        return None
    target_epochs = target_epochs or epochs
    factor = target_epochs / epochs * scale
    energy = stage.energy_kwh * factor
    return Projection(
        epochs=target_epochs,
        data_scale=scale,
        energy_kwh=energy,
        emissions_kg=energy * intensity / 1000,
        duration_s=stage.duration_s * factor,
        basis=(
            f"PROJECTION, not a measurement: measured DP training energy per epoch ({epochs} epochs) × "
            f"{target_epochs} epochs × data scale {scale}, assuming cost linear in epochs and rows"
        ),
    )


def _recommendations(
    config: EnergyConfig,
    total: Figures,
    stage: Figures | None,
    intensity: float,
    what_if: list[WhatIf],
    curve: list[EpochPoint],
    curve_metric: str,
    gpu_kwh: float,
) -> list[Recommendation]:
    out = []
    # The run's own country is never "cleaner" than itself: the measured intensity and the
    # table's can differ in the last digits, which once suggested moving to where it already ran.
    cleaner = sorted(
        (
            w
            for w in what_if
            if w.country_iso_code != config.country_iso_code and w.carbon_intensity_g_per_kwh < intensity * (1 - 1e-6)
        ),
        key=lambda w: w.carbon_intensity_g_per_kwh,
    )
    if cleaner:
        best = cleaner[0]
        out.append(
            Recommendation(
                action=f"Train in {best.country_name} ({best.country_iso_code})",
                saving_kwh=0.0,
                saving_kg=total.emissions_kg - best.emissions_kg,
                rationale=(
                    f"grid intensity {best.carbon_intensity_g_per_kwh:.0f} g/kWh against "
                    f"{intensity:.0f} g/kWh here; same energy"
                ),
            )
        )
    final = curve[-1].value if curve else None
    if stage is not None and len(curve) >= 3 and final is not None:
        enough = next(p.epoch for p in curve if p.value is not None and abs(p.value - final) <= FLAT_TOLERANCE)
        if enough < len(curve):
            share = (len(curve) - enough) / len(curve)
            out.append(
                Recommendation(
                    action=f"Stop after {enough} of {len(curve)} epochs",
                    saving_kwh=stage.energy_kwh * share,
                    saving_kg=stage.emissions_kg * share,
                    rationale=f"held-out {curve_metric} was within {FLAT_TOLERANCE} of its final value "
                    f"from epoch {enough}; "
                    "recalibrate the noise for the new schedule (fewer steps also lowers epsilon at the same noise)",
                )
            )
    if gpu_kwh > 0:
        out.append(
            Recommendation(
                action="Use mixed precision (torch.autocast) on the GPU",
                saving_kwh=gpu_kwh * 0.5,
                saving_kg=gpu_kwh * 0.5 * intensity / 1000,
                rationale=(
                    "upper estimate: tensor-core matmuls in fp16/bf16 run up to about 2× faster; "
                    "the saving applies to GPU energy only"
                ),
            )
        )
    return out


def ratio_interval(value: float, reference: float, floor: float) -> tuple[float, float | None]:
    """value / reference with each moved by the noise floor against the other: the ratios the noise allows."""
    low = max(0.0, value - floor) / (reference + floor) if reference + floor > 0 else 0.0
    high = (value + floor) / (reference - floor) if reference > floor else None
    return low, high


def visible_gpus(config: EnergyConfig) -> list[int] | None:
    """The GPU indices CodeCarbon measures: energy.gpu_ids, else CUDA_VISIBLE_DEVICES when it lists indices."""
    if config.gpu_ids is not None:
        return list(config.gpu_ids)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    if visible and all(part.strip().isdigit() for part in visible.split(",")):
        return [int(part) for part in visible.split(",")]
    return None


def energy_section(
    meter: EnergyMeter,
    config: EnergyConfig,
    dp_epochs: int,
    dp_curve: list[EpochPoint],
    curve_metric: str = "accuracy",
    training_tokens: int | None = None,
    training_device: str | None = None,
) -> EnergySection:
    total = meter.total()
    warnings = list(meter.warnings)
    unreliable = None
    if training_device is not None and training_device.startswith("cuda") and total.gpu_kwh == 0.0:
        unreliable = (
            f"training ran on {training_device}, but NVML reported 0 kWh for the GPU (codecarbon#1316: no energy "
            "counter on this GPU, or NVML unavailable): GPU energy is unknown, so the totals are too low"
        )
        warnings.append(unreliable)
    table = country_intensity(config.country_iso_code)
    intensity = total.emissions_kg / total.energy_kwh * 1000 if total.energy_kwh > 0 else table.g_per_kwh
    source = f"{SOURCE}, {table.year}" if not config.region else f"CodeCarbon regional data for {config.region}"
    stages = {name: t.figures() for name, t in sorted(meter.stages.items())}
    training = {name: f for name, f in stages.items() if name == TRAIN or name.startswith(TRAIN + ".")}
    stage = stages.get(TRAIN_DP)
    baseline = stages.get(TRAIN_BASELINE)
    what_if = _what_if(config, total.energy_kwh)
    hardware = meter.hardware()
    methods = meter.methods()
    assert hardware is not None and methods is not None, "energy section requested before any stage was tracked"
    training_kwh = sum(f.energy_kwh for name, f in training.items())
    dp_low, dp_high = (
        ratio_interval(stage.energy_kwh, baseline.energy_kwh, config.noise_floor_kwh)
        if stage and baseline
        else (None, None)
    )
    return EnergySection(
        total=total,
        stages=stages,
        training_kwh=training_kwh,
        training_tokens=training_tokens,
        kwh_per_1000_tokens=training_kwh / training_tokens * 1000 if training_tokens else None,
        training_emissions_kg=sum(f.emissions_kg for name, f in training.items()),
        dp_training_kwh=stage.energy_kwh if stage else None,
        baseline_training_kwh=baseline.energy_kwh if baseline else None,
        dp_energy_ratio=(
            stage.energy_kwh / baseline.energy_kwh if stage and baseline and baseline.energy_kwh > 0 else None
        ),
        noise_floor_kwh=config.noise_floor_kwh,
        dp_energy_ratio_low=dp_low,
        dp_energy_ratio_high=dp_high,
        method=methods,
        hardware=hardware,
        country_iso_code=config.country_iso_code,
        country_name=table.country_name,
        region=config.region,
        carbon_intensity_g_per_kwh=round(intensity, 3),
        intensity_source=source,
        pue=config.pue,
        tracking_mode="process (this process and its children)",
        measure_power_secs=config.measure_power_secs,
        warnings=warnings,
        unreliable=unreliable,
        gpu_ids=visible_gpus(config),
        cost=_cost(config, total),
        what_if=what_if,
        projection=_projection(config, stage, dp_epochs, intensity),
        recommendations=_recommendations(
            config, total, stage, intensity, what_if, dp_curve, curve_metric, total.gpu_kwh
        ),
    )
