"""Energy, carbon and cost (CodeCarbon, offline)."""

from auditor.energy.analysis import energy_section
from auditor.energy.intensity import country_intensity
from auditor.energy.meter import EnergyMeter

__all__ = ["EnergyMeter", "country_intensity", "energy_section"]
