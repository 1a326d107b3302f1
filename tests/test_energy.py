"""Energy, carbon and cost: per-stage sums, intensities, method disclosure, analysis."""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

import pytest

from auditor.config import EnergyConfig
from auditor.energy import EnergyMeter, country_intensity, energy_section
from auditor.energy.method import cpu_method, gpu_method
from auditor.evidence import EpochPoint, load_evidence
from tests.conftest import E2E


@pytest.mark.slow
def test_emissions_equal_energy_times_intensity_for_every_stage(e2e: E2E) -> None:
    energy = load_evidence(e2e.out / "evidence.json").energy
    assert energy is not None
    intensity = energy.carbon_intensity_g_per_kwh
    for name, figures in [*energy.stages.items(), ("total", energy.total)]:
        assert figures.energy_kwh > 0, name
        assert figures.emissions_kg == pytest.approx(figures.energy_kwh * intensity / 1000, rel=0.01), name


@pytest.mark.slow
def test_stages_add_up_to_the_total(e2e: E2E) -> None:
    energy = load_evidence(e2e.out / "evidence.json").energy
    assert energy is not None
    assert {"data", "pii", "train", "train.baseline", "train.dp", "audit"} <= set(energy.stages)
    for field in ("energy_kwh", "emissions_kg", "duration_s", "cpu_kwh", "ram_kwh", "gpu_kwh"):
        total = sum(getattr(s, field) for s in energy.stages.values())
        assert getattr(energy.total, field) == pytest.approx(total, rel=1e-6, abs=1e-12), field


@pytest.mark.slow
def test_intensity_is_codecarbons_figure_for_the_country(e2e: E2E) -> None:
    energy = load_evidence(e2e.out / "evidence.json").energy
    assert energy is not None and energy.country_iso_code == "FRA"
    table = country_intensity("FRA")
    assert energy.carbon_intensity_g_per_kwh == pytest.approx(table.g_per_kwh, rel=0.001)
    assert table.g_per_kwh == pytest.approx(56.0, abs=0.1) and table.year == 2023
    assert "CodeCarbon energy-mix table" in energy.intensity_source and "2023" in energy.intensity_source


@pytest.mark.parametrize(
    ("code", "grams"), [("FRA", 56.0), ("DEU", 381.0), ("USA", 369.5), ("IND", 713.4), ("NOR", 30.1)]
)
def test_published_intensities(code: str, grams: float) -> None:
    assert country_intensity(code).g_per_kwh == pytest.approx(grams, abs=0.2)


@pytest.mark.slow
def test_what_if_uses_the_same_energy_at_other_intensities(e2e: E2E) -> None:
    energy = load_evidence(e2e.out / "evidence.json").energy
    assert energy is not None
    for row in energy.what_if:
        assert row.emissions_kg == pytest.approx(
            energy.total.energy_kwh * country_intensity(row.country_iso_code).g_per_kwh / 1000, rel=1e-6
        )
    assert [w.country_iso_code for w in energy.what_if] == ["FRA", "NOR", "GBR", "DEU", "USA", "IND"]


@pytest.mark.slow
def test_cost_and_projection(e2e: E2E) -> None:
    energy = load_evidence(e2e.out / "evidence.json").energy
    assert energy is not None
    assert energy.cost.energy_cost == pytest.approx(energy.total.energy_kwh * 0.25, rel=1e-4)
    assert energy.cost.compute_cost == pytest.approx(energy.total.duration_s / 3600 * 0.10, rel=1e-4)
    assert energy.projection is not None and energy.projection.basis.startswith("PROJECTION")
    dp = energy.stages["train.dp"]
    assert energy.projection.energy_kwh == pytest.approx(dp.energy_kwh / 3 * 50 * 100, rel=1e-9)


@pytest.mark.slow
def test_method_is_disclosed_and_estimated_here(e2e: E2E) -> None:
    energy = load_evidence(e2e.out / "evidence.json").energy
    assert energy is not None
    assert energy.method.cpu.status in {"estimated", "measured"}
    if energy.method.cpu.status == "estimated":
        assert "W" in energy.method.cpu.how and energy.method.cpu.watts
    assert energy.method.ram.status == "estimated" and "codecarbon#629" in energy.method.ram.how
    assert energy.method.gpu.status == "absent"


def test_nested_stages_pause_their_parent() -> None:
    meter = EnergyMeter(EnergyConfig(country_iso_code="DEU", measure_power_secs=0.2))
    started = time.perf_counter()
    with meter.track("outer"):
        time.sleep(0.2)
        with meter.track("inner"):
            time.sleep(0.3)
        time.sleep(0.1)
    wall = time.perf_counter() - started
    inner, outer = meter.stages["inner"].duration_s, meter.stages["outer"].duration_s
    assert inner == pytest.approx(0.3, abs=0.1) and outer == pytest.approx(0.3, abs=0.1)
    assert meter.total().duration_s == pytest.approx(wall, abs=0.15)


def test_a_lost_measurement_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    import auditor.energy.meter as meter_module

    class Broken:
        final_emissions_data = None

        def start(self) -> None:
            return None

        def stop(self) -> None:
            return None  # CodeCarbon's stop() swallows its own errors and returns None

    meter = EnergyMeter(EnergyConfig(country_iso_code="DEU"))
    monkeypatch.setattr(meter_module, "new_tracker", lambda config: Broken())
    monkeypatch.setattr(meter_module, "describe_hardware", lambda tracker: (None, None, None, None))
    with meter.track("train"):
        pass
    assert meter.warnings == ["CodeCarbon lost the measurement for stage 'train' (stop() returned None)"]


def test_forced_power_is_disclosed_as_such() -> None:
    config = EnergyConfig(country_iso_code="FRA", force_cpu_power_w=65.0)
    method = cpu_method(SimpleNamespace(_mode="cpu_load", _tdp=65, _model="x"), config)
    assert method.status == "forced" and "65.0 W" in method.how


def test_a_gpu_reporting_zero_energy_is_flagged() -> None:
    method = gpu_method(object(), 0.0)
    assert "0 kWh" in method.how and "codecarbon#1316" in method.how
    assert gpu_method(None, 0.0).status == "absent"


def test_recommendations_come_from_the_runs_evidence() -> None:
    meter = EnergyMeter(EnergyConfig(country_iso_code="DEU", measure_power_secs=0.2))
    with meter.track("train.dp"):
        time.sleep(0.2)
    curve = [EpochPoint(epoch=e, train_loss=0.5, value=acc) for e, acc in enumerate([0.7, 0.8, 0.84, 0.841, 0.842], 1)]
    section = energy_section(meter, EnergyConfig(country_iso_code="DEU", what_if=["FRA", "USA"]), 5, curve)
    actions = [r.action for r in section.recommendations]
    assert "Train in France (FRA)" in actions
    assert "Stop after 3 of 5 epochs" in actions
    early = next(r for r in section.recommendations if r.action.startswith("Stop after"))
    assert early.saving_kwh == pytest.approx(section.stages["train.dp"].energy_kwh * 2 / 5)
    assert not any("mixed precision" in a for a in actions)  # no GPU here


@pytest.mark.slow
def test_energy_can_be_switched_off(tmp_path) -> None:
    from auditor.config import load_config
    from auditor.pipeline import run
    from tests.conftest import write_small_example

    config = load_config(write_small_example(tmp_path, rows=200, **{"energy.enabled": False, "audit.enabled": False}))
    evidence = run(config)
    assert evidence.energy is None and evidence.stage("energy").status == "skipped"
    assert evidence.stage("energy").disabled
    # A gate cannot be emptied by switching its evidence off: the pack's energy controls are errors.
    control = next(c for c in evidence.controls if c.id == "SUS-ENERGY-001")
    assert control.status == "error" and "was turned off (energy.enabled is false)" in control.reason
    assert evidence.verdict == "fail"


def test_the_runs_own_country_is_never_recommended() -> None:
    """Measured and table intensities differ in the last digits; that once suggested moving to where it ran."""
    meter = EnergyMeter(EnergyConfig(country_iso_code="FRA", measure_power_secs=0.2))
    with meter.track("train.dp"):
        time.sleep(0.2)
    section = energy_section(meter, EnergyConfig(country_iso_code="FRA", what_if=["FRA", "NOR", "USA"]), 1, [])
    actions = [r.action for r in section.recommendations]
    assert not any("(FRA)" in a for a in actions)
    assert "Train in Norway (NOR)" in actions


def test_a_training_gpu_that_reports_zero_kwh_makes_the_energy_controls_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """codecarbon#1316: NVML without an energy counter reads 0 kWh. A GPU run is then never silently zero."""
    import json
    from pathlib import Path

    from auditor.policy.engine import evaluate_controls
    from auditor.policy.loader import load_packs

    meter = EnergyMeter(EnergyConfig(country_iso_code="FRA", measure_power_secs=0.2))
    with meter.track("train.dp"):
        time.sleep(0.1)
    assert meter.total().gpu_kwh == 0.0  # what a fake NVML reading of 0 kWh gives: no GPU energy at all
    config = EnergyConfig(country_iso_code="FRA", gpu_ids=[1])
    section = energy_section(meter, config, 1, [], training_device="cuda:0")
    assert section.unreliable is not None and "codecarbon#1316" in section.unreliable
    assert section.unreliable in section.warnings and section.gpu_ids == [1]
    assert energy_section(meter, config, 1, [], training_device="cpu").unreliable is None
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert energy_section(meter, EnergyConfig(country_iso_code="FRA"), 1, []).gpu_ids == [2, 3]

    document = json.loads((Path(__file__).parent / "data" / "evidence.json").read_text())
    document["energy"]["unreliable"] = section.unreliable
    from auditor.evidence import StageRecord

    records = [StageRecord.model_validate(s) for s in document["stages"]]
    packs = load_packs(["sustainability"], {})
    results = {c.id: c for c in evaluate_controls(packs, document, records, [], dt.date(2026, 12, 2))}
    for control_id in ("SUS-ENERGY-001", "SUS-CARBON-001", "SUS-GPU-001"):
        assert results[control_id].status == "error", control_id
        assert "energy evidence is unreliable" in results[control_id].reason
