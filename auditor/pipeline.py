"""``audit run`` as a function: config in, Evidence out.

Order of work:
1. everything that can be an input error is checked first (policies,
   waivers, country, spaCy model, the dataset itself), so a bad input exits
   with code 2 before any output exists;
2. the stages run, each isolated: a crash becomes an ``error`` stage record,
   and stages that depend on it do not run;
3. the policy engine turns the evidence into verdicts and the gate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import time
import uuid
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psutil

from auditor._io import canonical_json
from auditor._version import __version__
from auditor.config import AuditConfig
from auditor.data import LoadedData, load_data
from auditor.energy import EnergyMeter, country_intensity, energy_section
from auditor.energy.meter import warm_up
from auditor.errors import InputError
from auditor.evidence import BaselineRef, DataInfo, Evidence, Host, RunInfo, RunMetrics, StageRecord, Versions
from auditor.pii.masking import scrub
from auditor.pii.presidio_engine import check_model_installed
from auditor.policy import evaluate_controls, gate, load_packs, load_waivers
from auditor.policy.loader import LoadedPack
from auditor.policy.model import WaiverEntry
from auditor.progress import NoProgress, Progress
from auditor.stages import STAGES, RunContext
from auditor.verbose import describe, log

Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def versions(spacy_model: str | None) -> Versions:
    return Versions(
        python=platform.python_version(),
        torch=version("torch"),
        opacus=version("opacus"),
        presidio_analyzer=version("presidio-analyzer"),
        codecarbon=version("codecarbon"),
        weasyprint=version("weasyprint"),
        auditor=__version__,
        spacy_model=None if spacy_model is None else f"{spacy_model} {_package_version(spacy_model)}",
    )


def _package_version(name: str) -> str:
    try:
        return version(name.replace("_", "-"))
    except Exception:
        return "unknown"


def _host(meter: EnergyMeter) -> Host:
    hardware = meter.hardware()
    return Host(
        platform=platform.platform(terse=True),
        cpu_model=hardware.cpu_model if hardware else (platform.processor() or "unknown"),
        cpu_count=psutil.cpu_count() or 0,
        ram_gb=round(psutil.virtual_memory().total / 2**30, 1),
        gpu=hardware.gpu_model if hardware else None,
    )


def _preflight(config: AuditConfig, waivers_path: Path | None) -> tuple[list[LoadedPack], list[WaiverEntry]]:
    packs = load_packs(config.policies.packs, dict(config.policies.params), Path(config.base_dir), "policies")
    path = waivers_path or (config.resolve(config.policies.waivers) if config.policies.waivers else None)
    waivers = load_waivers(path) if path else []
    country_intensity(config.energy.country_iso_code)
    for code in config.energy.what_if:
        country_intensity(code)
    if config.pii.enabled:
        check_model_installed(config.pii.spacy_model)
    weights = config.resolve(config.train.init_weights) if config.train.init_weights else None
    if weights is not None:
        from auditor.train.models import read_weights

        read_weights(weights)  # refused here, before any stage runs, if it is not a plain state_dict
    return packs, waivers


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split())[:300]
    return scrub(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)


def _run_stages(ctx: RunContext) -> list[StageRecord]:
    records: list[StageRecord] = []
    failed: set[str] = set()
    for stage in STAGES:
        started = time.perf_counter()
        reason = stage.skip_reason(ctx)
        broken = [d for d in stage.depends_on if d in failed]
        if broken:
            records.append(
                StageRecord(
                    name=stage.name,
                    status="error",
                    duration_s=0.0,
                    error=f"not run: depends on failed stage {broken[0]}",
                )
            )
            failed.add(stage.name)
            continue
        if reason is not None:
            records.append(StageRecord(name=stage.name, status="skipped", duration_s=0.0, error=reason))
            continue
        status, error = "ok", None
        try:
            with ctx.meter.track(stage.name):
                stage.run(ctx)
        except InputError:
            raise
        except Exception as exc:  # a stage failure is data, not a crash (design.md)
            status, error = "error", _one_line(exc)
            failed.add(stage.name)
        ctx.progress.end(status)
        for line in describe(stage.name, ctx) if status == "ok" else []:
            log.info(line)
        records.append(
            StageRecord(name=stage.name, status=status, duration_s=round(time.perf_counter() - started, 6), error=error)
        )
    return records


def display_path(config: AuditConfig, path: Path) -> str:
    """The dataset path as SARIF viewers and reviewers want it: relative to the working directory
    when it lies inside it (a repository checkout), else as written in the config."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return config.data.path


def _data_info(config: AuditConfig, data: LoadedData) -> DataInfo:
    classes = data.frame[data.target].astype("str").value_counts()
    return DataInfo(
        path=display_path(config, data.path),
        format=data.format,
        rows=len(data.frame),
        columns=data.frame.shape[1],
        column_names=[str(c) for c in data.frame.columns],
        size_bytes=data.size_bytes,
        sha256=data.sha256,
        target=data.target,
        classes={str(k): int(v) for k, v in sorted(classes.items())},
        dropped_missing_target=data.dropped_missing_target,
    )


def run(
    config: AuditConfig,
    *,
    seed: int | None = None,
    run_id: str | None = None,
    clock: Clock = _utc_now,
    command: str = "auditor.run()",
    progress: Progress | None = None,
    waivers: Path | None = None,
    baseline: BaselineRef | None = None,
    trend: list[RunMetrics] | None = None,
    baseline_note: str = "no --baseline given",
) -> Evidence:
    """Run the whole audit and return the Evidence; raises InputError for bad input (exit code 2).

    ``baseline`` (an earlier run's metrics) enables the regression controls, which are
    skipped with ``baseline_note`` without one; ``trend`` holds earlier runs of the
    project, oldest first, for the report's trend charts.
    """
    progress = progress or NoProgress()
    seed = config.seed if seed is None else seed
    started_at = clock()
    warm_up(config.energy)  # a no-op when the CLI already started it
    packs, waiver_entries = _preflight(config, waivers)
    meter = EnergyMeter(config.energy)
    data_started = time.perf_counter()
    progress.begin("data")
    with meter.track("data"):
        data = load_data(config)
    progress.end("ok")
    log.info(
        f"data: {len(data.frame):,} rows x {data.frame.shape[1]} columns, {data.format}, sha256 {data.sha256[:16]}"
    )
    ctx = RunContext(config=config, data=data, seed=seed, meter=meter, progress=progress)
    records = [StageRecord(name="data", status="ok", duration_s=round(time.perf_counter() - data_started, 6))]
    records += _run_stages(ctx)
    energy = None
    if not config.energy.enabled:
        records.append(StageRecord(name="energy", status="skipped", duration_s=0.0, error="energy.enabled is false"))
    else:
        try:
            dp_epochs = config.train.epochs if ctx.training is not None else 0
            energy = energy_section(meter, config.energy, dp_epochs, ctx.training.curve if ctx.training else [])
            records.append(StageRecord(name="energy", status="ok", duration_s=0.0))
            log.info(
                f"energy: {energy.total.energy_kwh:.3g} kWh, {energy.total.emissions_kg:.3g} kg CO2e "
                f"({energy.country_iso_code}, {energy.carbon_intensity_g_per_kwh:.0f} g/kWh)"
            )
        except Exception as exc:
            records.append(StageRecord(name="energy", status="error", duration_s=0.0, error=_one_line(exc)))
    if baseline is None:
        records.append(StageRecord(name="baseline", status="skipped", duration_s=0.0, error=baseline_note))
    else:
        records.append(StageRecord(name="baseline", status="ok", duration_s=0.0))
    config_json = config.model_dump(mode="json")
    run_info = RunInfo(
        id=run_id or uuid.uuid4().hex,
        project=config.project,
        system=config.system,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=clock().isoformat(timespec="seconds"),
        config_sha256=hashlib.sha256(canonical_json(config_json).encode()).hexdigest(),
        dataset_sha256=data.sha256,
        seed=seed,
        versions=versions(config.pii.spacy_model if config.pii.enabled else None),
        host=_host(meter),
        command=command,
        config=config_json,
    )
    document: dict[str, Any] = {
        "run": run_info.model_dump(mode="json"),
        "data": _data_info(config, data).model_dump(mode="json"),
        "stages": [r.model_dump(mode="json") for r in records],
        "pii": ctx.pii.model_dump(mode="json") if ctx.pii else None,
        "training": ctx.training.model_dump(mode="json") if ctx.training else None,
        "audit": ctx.audit.model_dump(mode="json") if ctx.audit else None,
        "energy": energy.model_dump(mode="json") if energy else None,
        "baseline": baseline.model_dump(mode="json") if baseline else None,
    }
    controls = evaluate_controls(packs, document, records, waiver_entries, started_at.date())
    known = {c.id for c in controls}
    notes = [f"waiver for unknown control {w.control} ignored" for w in waiver_entries if w.control not in known]
    summary, verdict = gate(controls, records, config.policies.fail_on, config.policies.warn_on, notes)
    evidence = Evidence(
        run=run_info,
        stages=records,
        data=_data_info(config, data),
        pii=ctx.pii,
        training=ctx.training,
        audit=ctx.audit,
        energy=energy,
        baseline=baseline,
        controls=controls,
        summary=summary,
        verdict=verdict,
    )
    if trend is None:
        return evidence
    return evidence.model_copy(update={"trend": [*trend, evidence.metrics()]})
