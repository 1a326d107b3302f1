"""How CodeCarbon got each figure: measured (RAPL, NVML) or estimated, and on what basis.

CodeCarbon 3.3 does not write its method to emissions.csv, so it is read from
the tracker's hardware objects right after start. The attribute names are
CodeCarbon 3.3.2's; anything unrecognised is reported as "unknown", never as
measured.
"""

from __future__ import annotations

from typing import Any

from auditor.config import EnergyConfig
from auditor.evidence import Hardware, Method, MethodSet

CPU_MODES = {
    "intel_rapl": ("measured", "RAPL energy counters (/sys/class/powercap)"),
    "windows_emi": ("measured", "Windows Energy Meter Interface (RAPL)"),
    "intel_power_gadget": ("measured", "Intel Power Gadget"),
    "powermetrics": ("measured", "macOS powermetrics"),
}


def cpu_method(cpu: Any, config: EnergyConfig) -> Method:
    mode = str(getattr(cpu, "_mode", "unknown"))
    tdp = getattr(cpu, "_tdp", None)
    model = getattr(cpu, "_model", "unknown CPU")
    if config.force_cpu_power_w is not None:
        return Method(
            status="forced",
            how=f"CPU power set by config (energy.force_cpu_power_w) to {config.force_cpu_power_w} W, scaled by load",
            watts=config.force_cpu_power_w,
        )
    if mode in CPU_MODES:
        status, how = CPU_MODES[mode]
        return Method(status=status, how=how, watts=None)
    basis = "CodeCarbon's CPU power table" if getattr(cpu, "_is_generic_tdp", False) is False else "a generic TDP"
    if mode == "cpu_load":
        how = (
            f"estimated: {tdp} W for {model!r} ({basis} or its per-thread default when the model is unknown) "
            "× process CPU load; RAPL unavailable"
        )
    elif mode == "constant":
        how = f"estimated: constant share of {tdp} W for {model!r}; RAPL unavailable"
    else:
        how = f"unknown CodeCarbon CPU mode {mode!r}"
    return Method(status="estimated", how=how, watts=float(tdp) if tdp is not None else None)


def gpu_method(gpu: Any | None, gpu_kwh: float) -> Method:
    if gpu is None:
        return Method(status="absent", how="no GPU detected", watts=None)
    if gpu_kwh == 0.0:
        return Method(
            status="measured",
            how=(
                "NVML reported 0 kWh: the GPU may lack an energy counter (codecarbon#1316); treat GPU energy as unknown"
            ),
            watts=None,
        )
    return Method(
        status="measured",
        how="NVML total energy counters of the GPUs measured; each covers the whole device, other processes on it "
        "included",
        watts=None,
    )


def ram_method(ram: Any, ram_watts: float | None, config: EnergyConfig) -> Method:
    if config.force_ram_power_w is not None:
        return Method(
            status="forced",
            how=f"RAM power set by config (energy.force_ram_power_w) to {config.force_ram_power_w} W",
            watts=config.force_ram_power_w,
        )
    return Method(
        status="estimated",
        how=(
            "estimated by CodeCarbon at 5 W per assumed DIMM from the host's total RAM; "
            "in containers this counts the host's RAM (codecarbon#629)"
        ),
        watts=ram_watts,
    )


def describe_hardware(tracker: Any) -> tuple[Any, Any, Any, Hardware]:
    """The CPU, GPU and RAM objects of a started tracker, and a hardware summary."""
    parts = {type(h).__name__: h for h in getattr(tracker, "_hardware", [])}
    conf = getattr(tracker, "_conf", {})
    gpu_model = str(conf.get("gpu_model") or "") or None
    hardware = Hardware(
        cpu_model=str(conf.get("cpu_model") or "unknown"),
        cpu_count=int(conf.get("cpu_count") or 0),
        gpu_model=gpu_model,
        gpu_count=int(conf.get("gpu_count") or 0),
        ram_gb=round(float(conf.get("ram_total_size") or 0.0), 2),
    )
    return parts.get("CPU"), parts.get("GPU"), parts.get("RAM"), hardware


def method_set(
    cpu: Any, gpu: Any, ram: Any, gpu_kwh: float, ram_watts: float | None, config: EnergyConfig
) -> MethodSet:
    return MethodSet(cpu=cpu_method(cpu, config), gpu=gpu_method(gpu, gpu_kwh), ram=ram_method(ram, ram_watts, config))
