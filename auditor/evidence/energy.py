"""Energy, carbon and cost, with the measurement method disclosed."""

from __future__ import annotations

from typing import Literal

from auditor.evidence._base import Record


class Figures(Record):
    """Energy and emissions of the run or of one stage."""

    energy_kwh: float
    """Energy, kWh (PUE applied)."""
    emissions_kg: float
    """Location-based emissions, kg CO2e."""
    duration_s: float
    """Wall time, seconds."""
    cpu_kwh: float
    """CPU share of the energy, kWh."""
    gpu_kwh: float
    """GPU share of the energy, kWh."""
    ram_kwh: float
    """RAM share of the energy, kWh."""


class Method(Record):
    """How one component's energy was obtained."""

    status: Literal["measured", "estimated", "forced", "absent"]
    """Measured by a counter, estimated from a power model, forced by the config, or absent."""
    how: str
    """The counter or model used."""
    watts: float | None
    """The power assumed, for estimates."""


class MethodSet(Record):
    """How CPU, GPU and RAM energy were obtained."""

    cpu: Method
    """CPU."""
    gpu: Method
    """GPU."""
    ram: Method
    """RAM."""


class Hardware(Record):
    """The hardware CodeCarbon saw."""

    cpu_model: str
    """CPU model."""
    cpu_count: int
    """Logical CPUs."""
    gpu_model: str | None
    """GPU model, if any."""
    gpu_count: int
    """GPUs."""
    ram_gb: float
    """Memory, GiB."""


class WhatIf(Record):
    """The run's emissions had it run on another country's grid."""

    country_iso_code: str
    """ISO 3166-1 alpha-3 code."""
    country_name: str
    """Country name."""
    carbon_intensity_g_per_kwh: float
    """Grid carbon intensity, g CO2e per kWh."""
    emissions_kg: float
    """The run's energy at that intensity, kg CO2e."""


class Cost(Record):
    """What the run cost, from the configured prices."""

    currency: str
    """Currency of every amount."""
    price_per_kwh: float | None
    """Electricity price, per kWh."""
    energy_cost: float | None
    """Energy times price."""
    hourly_rate: float | None
    """Compute price per hour of wall time."""
    compute_cost: float | None
    """Wall time times the hourly rate."""
    total: float | None
    """Energy cost plus compute cost."""


class Projection(Record):
    """A projection of full-scale DP training energy: arithmetic, not a measurement."""

    epochs: int
    """Epochs projected."""
    data_scale: float
    """Data size relative to this run."""
    energy_kwh: float
    """Projected energy, kWh."""
    emissions_kg: float
    """Projected emissions, kg CO2e."""
    duration_s: float
    """Projected wall time, seconds."""
    basis: str
    """How the projection was computed and what it assumes."""


class Recommendation(Record):
    """A way to save energy or emissions, with its estimated saving."""

    action: str
    """What to do."""
    saving_kwh: float | None
    """Energy saved, kWh."""
    saving_kg: float | None
    """Emissions saved, kg CO2e."""
    rationale: str
    """Why, from the measured figures."""


class EnergySection(Record):
    """Energy, emissions and cost of the run, per stage, with the method."""

    total: Figures
    """The whole run (rendering excluded)."""
    stages: dict[str, Figures]
    """Per stage, and per training phase (train.dp, train.baseline)."""
    training_kwh: float
    """Energy of all training phases together."""
    training_emissions_kg: float
    """Emissions of all training phases together (the model card's co2_eq_emissions)."""
    dp_training_kwh: float | None
    """Energy of DP training."""
    baseline_training_kwh: float | None
    """Energy of non-private baseline training."""
    dp_energy_ratio: float | None
    """DP training energy over the baseline's: the energy cost of privacy."""
    training_tokens: int | None = None
    """Real (non-padding) tokens processed by all training runs together; null for non-text tasks."""
    kwh_per_1000_tokens: float | None = None
    """training_kwh per 1,000 of those tokens."""
    method: MethodSet
    """How each component was measured."""
    hardware: Hardware
    """The hardware."""
    country_iso_code: str
    """The configured country (never geolocated)."""
    country_name: str
    """Its name."""
    region: str | None
    """The configured region, if any."""
    carbon_intensity_g_per_kwh: float
    """Grid carbon intensity applied, g CO2e per kWh."""
    intensity_source: str
    """Where the intensity comes from."""
    pue: float
    """Power usage effectiveness applied to every figure."""
    tracking_mode: str
    """What CodeCarbon tracked."""
    measure_power_secs: float
    """CodeCarbon's sampling interval, seconds."""
    warnings: list[str]
    """CodeCarbon problems, as evidence."""
    noise_floor_kwh: float = 0.0
    """energy.noise_floor_kwh: the smallest difference between two energies taken as real."""
    dp_energy_ratio_low: float | None = None
    """dp_energy_ratio with the DP energy lowered and the baseline's raised by the noise floor."""
    dp_energy_ratio_high: float | None = None
    """The other way round; null when the baseline's energy is within the floor of zero."""
    unreliable: str | None = None
    """Why the figures cannot be trusted, when they cannot (a GPU trained but NVML reported 0 kWh).
    Every control that reads this section is then an error, never a pass."""
    gpu_ids: list[int] | None = None
    """The GPUs CodeCarbon measured (energy.gpu_ids, or CUDA_VISIBLE_DEVICES); null: every GPU it found."""
    cost: Cost
    """What the run cost."""
    what_if: list[WhatIf]
    """The same energy on other grids."""
    projection: Projection | None
    """Full-scale projection, when configured."""
    recommendations: list[Recommendation]
    """Ways to save energy or emissions."""
