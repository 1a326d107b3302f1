"""Carbon intensities from CodeCarbon's own energy-mix table (the figures it uses)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from auditor.errors import InputError

SOURCE = "CodeCarbon energy-mix table (Our World in Data / Ember), location-based"


@dataclass(frozen=True)
class Intensity:
    iso_code: str
    country_name: str
    g_per_kwh: float
    year: int | None


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    from codecarbon.input import DataSource

    return dict(DataSource().get_global_energy_mix_data())  # type: ignore[no-untyped-call]


def country_intensity(iso_code: str) -> Intensity:
    """The g CO2e/kWh CodeCarbon applies to a country; unknown codes are an input error, not a silent world average."""
    from codecarbon.core.emissions import Emissions

    mix = _table().get(iso_code)
    if mix is None:
        raise InputError(f"country {iso_code!r} is not in CodeCarbon's energy-mix table (energy.country_iso_code)")
    rate = Emissions._global_energy_mix_to_emissions_rate(mix)
    return Intensity(iso_code, str(mix.get("country_name", iso_code)), float(rate.kgs_per_kWh * 1000), mix.get("year"))


def known_countries() -> list[str]:
    return sorted(_table())
