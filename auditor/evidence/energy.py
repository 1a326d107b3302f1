"""Energy, carbon and cost, with the measurement method disclosed."""

from __future__ import annotations

from typing import Literal

from auditor.evidence._base import Record


class Figures(Record):
    energy_kwh: float
    emissions_kg: float
    duration_s: float
    cpu_kwh: float
    gpu_kwh: float
    ram_kwh: float


class Method(Record):
    status: Literal["measured", "estimated", "forced", "absent"]
    how: str
    watts: float | None


class MethodSet(Record):
    cpu: Method
    gpu: Method
    ram: Method


class Hardware(Record):
    cpu_model: str
    cpu_count: int
    gpu_model: str | None
    gpu_count: int
    ram_gb: float


class WhatIf(Record):
    country_iso_code: str
    country_name: str
    carbon_intensity_g_per_kwh: float
    emissions_kg: float


class Cost(Record):
    currency: str
    price_per_kwh: float | None
    energy_cost: float | None
    hourly_rate: float | None
    compute_cost: float | None
    total: float | None


class Projection(Record):
    epochs: int
    data_scale: float
    energy_kwh: float
    emissions_kg: float
    duration_s: float
    basis: str


class Recommendation(Record):
    action: str
    saving_kwh: float | None
    saving_kg: float | None
    rationale: str


class EnergySection(Record):
    total: Figures
    stages: dict[str, Figures]
    method: MethodSet
    hardware: Hardware
    country_iso_code: str
    country_name: str
    region: str | None
    carbon_intensity_g_per_kwh: float
    intensity_source: str
    pue: float
    tracking_mode: str
    measure_power_secs: float
    warnings: list[str]
    cost: Cost
    what_if: list[WhatIf]
    projection: Projection | None
    recommendations: list[Recommendation]
