"""Per-stage energy with CodeCarbon's OfflineEmissionsTracker (never the online one).

Stages can nest: entering a sub-stage pauses its parent, so every second of the
run belongs to exactly one stage and the per-stage figures sum to the total.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from auditor.config import EnergyConfig
from auditor.energy.method import describe_hardware, method_set
from auditor.errors import InputError
from auditor.evidence import Figures, Hardware, MethodSet


def cuda_synchronize() -> None:
    """Wait for queued CUDA kernels (a no-op without CUDA, or before CUDA is first used)."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():  # type: ignore[no-untyped-call]
        torch.cuda.synchronize()


@dataclass
class Totals:
    energy_kwh: float = 0.0
    emissions_kg: float = 0.0
    duration_s: float = 0.0
    cpu_kwh: float = 0.0
    gpu_kwh: float = 0.0
    ram_kwh: float = 0.0
    ram_watts: list[float] = field(default_factory=list)

    def add(self, data: Any) -> None:
        self.energy_kwh += float(data.energy_consumed)
        self.emissions_kg += float(data.emissions)
        self.duration_s += float(data.duration)
        self.cpu_kwh += float(data.cpu_energy)
        self.gpu_kwh += float(data.gpu_energy)
        self.ram_kwh += float(data.ram_energy)
        self.ram_watts.append(float(data.ram_power))

    def figures(self) -> Figures:
        return Figures(
            energy_kwh=self.energy_kwh,
            emissions_kg=self.emissions_kg,
            duration_s=round(self.duration_s, 6),
            cpu_kwh=self.cpu_kwh,
            gpu_kwh=self.gpu_kwh,
            ram_kwh=self.ram_kwh,
        )


def quiet_codecarbon() -> None:
    """Silence CodeCarbon's logger: it logs at INFO on every tracker, and its errors are
    already caught here (a stop() that returns None becomes a warning in the evidence)."""
    import codecarbon  # noqa: F401  # its import sets the logger's level; silence it afterwards

    logging.getLogger("codecarbon").setLevel(logging.CRITICAL + 1)


def _tracker_kwargs(config: EnergyConfig, gpu_ids: list[int] | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "country_iso_code": config.country_iso_code,
        "measure_power_secs": config.measure_power_secs,
        "tracking_mode": "process",
        "output_methods": [],  # no emissions.csv, no API, no Prometheus: the evidence is the record
        "log_level": "error",
        "allow_multiple_runs": True,
        "pue": config.pue,
        "electricitymaps_api_token": None,  # explicit: no intensity is ever fetched
    }
    if config.region:
        kwargs["region"] = config.region
    if gpu_ids is None and config.gpu_ids is not None:
        gpu_ids = list(config.gpu_ids)
    if gpu_ids is not None:
        kwargs["gpu_ids"] = gpu_ids
    if config.force_cpu_power_w is not None:
        kwargs["force_cpu_power"] = config.force_cpu_power_w
    if config.force_ram_power_w is not None:
        kwargs["force_ram_power"] = config.force_ram_power_w
    return kwargs


@functools.cache
def _sealed_tracker_class() -> Any:
    """``OfflineEmissionsTracker`` that ignores CodeCarbon's merged external configuration.

    CodeCarbon merges ``~/.codecarbon.config``, ``./.codecarbon.config`` and every
    ``CODECARBON_*`` variable into its settings, and some of those (an Electricity Maps
    token, ``save_to_api``, an API endpoint) switch on network calls. Some are even read
    from that merged configuration directly, whatever the constructor was given (the
    deprecated ``co2_signal_api_token``). The subclass makes the merged configuration an
    empty mapping it cannot replace, so the constructor arguments in ``_tracker_kwargs``
    are the whole configuration."""
    from codecarbon import OfflineEmissionsTracker

    class SealedOfflineTracker(OfflineEmissionsTracker):
        @property
        def _external_conf(self) -> dict[str, Any]:
            return {}

        @_external_conf.setter
        def _external_conf(self, _merged: dict[str, Any]) -> None:
            return None

    return SealedOfflineTracker


def new_tracker(config: EnergyConfig, gpu_ids: list[int] | None = None) -> Any:
    quiet_codecarbon()
    return _sealed_tracker_class()(**_tracker_kwargs(config, gpu_ids))


_WARM_UP: dict[str, threading.Thread] = {}


def warm_up(config: EnergyConfig) -> None:
    """Start CodeCarbon's one-time hardware detection in the background.

    Its first tracker spends about 1.5 s detecting the CPU (py-cpuinfo runs a
    subprocess) and matching its power table; CodeCarbon caches the result per
    process. The CLI calls this before importing torch, Presidio and WeasyPrint,
    so the detection runs on the other core while those load.
    """
    if not config.enabled or "thread" in _WARM_UP:
        return
    from auditor.energy.intensity import country_intensity

    try:
        country_intensity(config.country_iso_code)
    except InputError:
        return  # reported as an input error by the preflight

    def detect() -> None:
        try:
            tracker = new_tracker(config)
            tracker.start()
            tracker.stop()
        except Exception:  # best effort: the real trackers report their own problems
            return

    thread = threading.Thread(target=detect, name="codecarbon-warm-up", daemon=True)
    _WARM_UP["thread"] = thread
    thread.start()


def _wait_for_warm_up() -> None:
    thread = _WARM_UP.get("thread")
    if thread is not None:
        thread.join()


class EnergyMeter:
    def __init__(self, config: EnergyConfig) -> None:
        self.config = config
        self.stages: dict[str, Totals] = {}
        self.warnings: list[str] = []
        self._stack: list[str] = []
        self._tracker: Any = None
        self._hardware: tuple[Any, Any, Any, Hardware] | None = None

    def _start(self, name: str) -> None:
        _wait_for_warm_up()
        tracker = new_tracker(self.config)
        tracker.start()
        if self._hardware is None:
            self._hardware = describe_hardware(tracker)
        self._tracker = tracker
        self.stages.setdefault(name, Totals())

    def _stop(self, name: str) -> None:
        tracker, self._tracker = self._tracker, None
        if tracker is None:
            return
        # stop() swallows its own exceptions and returns None; then the figures are lost.
        if tracker.stop() is None or tracker.final_emissions_data is None:
            self.warnings.append(f"CodeCarbon lost the measurement for stage {name!r} (stop() returned None)")
            return
        self.stages[name].add(tracker.final_emissions_data)

    @contextmanager
    def track(self, name: str) -> Iterator[None]:
        if not self.config.enabled:
            yield
            return
        if self._stack:
            cuda_synchronize()
            self._stop(self._stack[-1])
        self._stack.append(name)
        self._start(name)
        try:
            yield
        finally:
            cuda_synchronize()  # kernels this stage queued are charged to it, not to the next one
            self._stop(name)
            self._stack.pop()
            if self._stack:
                self._start(self._stack[-1])

    def add_process(self, name: str, figures: dict[str, float]) -> None:
        """Add what another process measured with its own tracker (a torchrun rank) to stage ``name``.

        Its duration is not added: the rank ran during the stage's own wall time."""
        totals = self.stages.setdefault(name, Totals())
        totals.energy_kwh += figures["energy_consumed"]
        totals.emissions_kg += figures["emissions"]
        totals.cpu_kwh += figures["cpu_energy"]
        totals.gpu_kwh += figures["gpu_energy"]
        totals.ram_kwh += figures["ram_energy"]
        totals.ram_watts.append(figures["ram_power"])

    def total(self) -> Figures:
        total = Totals()
        for stage in self.stages.values():
            total.energy_kwh += stage.energy_kwh
            total.emissions_kg += stage.emissions_kg
            total.duration_s += stage.duration_s
            total.cpu_kwh += stage.cpu_kwh
            total.gpu_kwh += stage.gpu_kwh
            total.ram_kwh += stage.ram_kwh
        return total.figures()

    def hardware(self) -> Hardware | None:
        return self._hardware[3] if self._hardware else None

    def methods(self) -> MethodSet | None:
        if self._hardware is None:
            return None
        cpu, gpu, ram, _ = self._hardware
        watts = [w for stage in self.stages.values() for w in stage.ram_watts]
        ram_watts = round(sum(watts) / len(watts), 3) if watts else None
        return method_set(cpu, gpu, ram, self.total().gpu_kwh, ram_watts, self.config)
