"""``audit run`` as a function: config in, Evidence out.

Order of work:
1. everything that can be an input error is checked first (policies,
   waivers, country, spaCy model, the dataset itself), so a bad input exits
   with code 2 before any output exists;
2. the stages run, each isolated: a crash becomes an ``error`` stage record,
   and stages that depend on it do not run;
3. the policy engine turns the evidence into verdicts and the gate.

The pipeline knows no stage by name: each declares its dependencies, its
evidence section and its verbose lines (``auditor/stages/``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psutil

from auditor._io import canonical_json
from auditor._isolation import process_state_restored
from auditor._version import __version__
from auditor.config import AuditConfig
from auditor.energy import EnergyMeter, country_intensity
from auditor.energy.meter import warm_up
from auditor.errors import InputError
from auditor.evidence import Evidence, Host, PreviousRun, RunInfo, RunMetrics, StageRecord, Versions
from auditor.pii.masking import scrub
from auditor.pii.presidio_engine import check_model_installed
from auditor.policy import evaluate_controls, gate, load_packs, load_waivers
from auditor.policy.loader import LoadedPack
from auditor.policy.model import WaiverEntry
from auditor.progress import NoProgress, Progress
from auditor.stages import RunContext, Stage, run_order
from auditor.verbose import log

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
    if config.train.task is not None:
        from auditor.tasks import get_task

        get_task(config.train.task)
    weights = config.resolve(config.train.init_weights) if config.train.init_weights else None
    if weights is not None:
        from auditor.train.models import read_weights

        read_weights(weights)  # refused here, before any stage runs, if it is not a plain state_dict
    if config.anonymise.enabled:
        check_anonymise(config)
    if config.train.nproc > 1:
        from auditor.train.spread import check_nproc

        check_nproc(config.train.nproc)
    model = config.train.model
    if not isinstance(model, str):
        from auditor.hf.checkpoint import open_checkpoint, open_tokenizer_dir

        if model.hf is not None:  # a missing or pickle-only model, up front
            open_checkpoint(Path(model.hf), model.allow_pickle, model.name)
        if model.tokenizer is not None:
            open_tokenizer_dir(Path(model.tokenizer))
        if config.train.task == "causal-lm" and config.audit.enabled and config.audit.exposure.enabled:
            from auditor.tasks.causal_lm import check_canary_length

            check_canary_length(config)
    return packs, waivers


def check_anonymise(config: AuditConfig) -> None:
    """Unknown entities, a missing key or a key of the wrong length: refused before any stage runs."""
    from auditor.anonymise.operators import check_secret, load_secret
    from auditor.pii.presidio_engine import EngineSettings

    known = set(EngineSettings.from_config(config.pii).entities)
    unknown = sorted(set(config.anonymise.operators) - known)
    if unknown:
        raise InputError(
            f"anonymise.operators names unknown entity {unknown[0]!r}; the scan reports {', '.join(sorted(known))}"
        )
    if not config.data.text:
        raise InputError("anonymise.enabled needs the text columns to anonymise (data.text)")
    secret, _ = load_secret(config.anonymise, config.resolve("."))
    check_secret(config.anonymise, secret)


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split())[:300]
    return scrub(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)


def _record(stage: Stage, status: str, started: float, error: str | None) -> StageRecord:
    return StageRecord(name=stage.name, status=status, duration_s=round(time.perf_counter() - started, 6), error=error)


@contextmanager
def _no_console_input() -> Iterator[None]:
    """Stages never wait on a person: stdin reads end-of-file and breakpoint() does nothing.

    A model factory that reads stdin or calls breakpoint() would otherwise hang the run."""
    saved_stdin, saved_hook = sys.stdin, sys.breakpointhook
    with open(os.devnull, encoding="utf-8") as empty:
        sys.stdin = empty
        sys.breakpointhook = lambda *args, **kwargs: None
        try:
            yield
        finally:
            sys.stdin, sys.breakpointhook = saved_stdin, saved_hook


def _run_one(stage: Stage, ctx: RunContext) -> tuple[str, str | None]:
    """Run ``stage``; a crash of any kind (SystemExit and other BaseExceptions included) is a stage error,
    never an exit. Only an interrupt (Ctrl-C) stops the run: the CLI exits 130 without a report."""
    try:
        with _no_console_input():
            if stage.tracked:
                with ctx.meter.track(stage.name):
                    result = stage.run(ctx)
            else:
                result = stage.run(ctx)
    except (InputError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # a stage failure is data, not a crash (design.md)
        return "error", _one_line(exc)
    if stage.section is not None and result is not None:
        ctx.sections[stage.section] = result
    return "ok", None


def _run_stages(ctx: RunContext) -> list[StageRecord]:
    records: list[StageRecord] = []
    failed: set[str] = set()
    for stage in run_order():
        started = time.perf_counter()
        broken = [d for d in stage.depends_on if d in failed]
        if broken:
            records.append(_record(stage, "error", started, f"not run: depends on failed stage {broken[0]}"))
            failed.add(stage.name)
            continue
        reason = stage.skip_reason(ctx)
        if reason is not None:
            off = stage.disabled(ctx)
            records.append(StageRecord(name=stage.name, status="skipped", duration_s=0.0, error=reason, disabled=off))
            continue
        ctx.progress.begin(stage.name)
        status, error = _run_one(stage, ctx)
        if status == "error":
            failed.add(stage.name)
        ctx.progress.end(status)
        section = ctx.sections.get(stage.section) if stage.section else None
        for line in stage.describe(section) if status == "ok" and section is not None else []:
            log.info(line)
        records.append(_record(stage, status, started, error))
    return records


def run(
    config: AuditConfig,
    *,
    seed: int | None = None,
    run_id: str | None = None,
    clock: Clock = _utc_now,
    command: str = "auditor.run()",
    progress: Progress | None = None,
    waivers: Path | None = None,
    previous: PreviousRun | None = None,
    trend: list[RunMetrics] | None = None,
    previous_note: str = "no --baseline given",
) -> Evidence:
    """Run the whole audit and return the Evidence; raises InputError for bad input (exit code 2).

    ``previous`` (an earlier run's metrics) enables the regression controls, which are
    skipped with ``previous_note`` without one; ``trend`` holds earlier runs of the
    project, oldest first, for the report's trend charts.
    """
    with process_state_restored():
        return _run(config, seed, run_id, clock, command, progress, waivers, previous, trend, previous_note)


def _run(
    config: AuditConfig,
    seed: int | None,
    run_id: str | None,
    clock: Clock,
    command: str,
    progress: Progress | None,
    waivers: Path | None,
    previous: PreviousRun | None,
    trend: list[RunMetrics] | None,
    previous_note: str,
) -> Evidence:
    progress = progress or NoProgress()
    seed = config.seed if seed is None else seed
    started_at = clock()
    warm_up(config.energy)  # a no-op when the CLI already started it
    packs, waiver_entries = _preflight(config, waivers)
    meter = EnergyMeter(config.energy)
    ctx = RunContext(
        config=config, seed=seed, meter=meter, progress=progress, previous=previous, previous_note=previous_note
    )
    try:
        records = _run_stages(ctx)
    finally:
        if ctx.data is not None:
            ctx.data.close()  # the run's private snapshot of the dataset
    config_json = config.model_dump(mode="json")
    run_info = RunInfo(
        id=run_id or uuid.uuid4().hex,
        project=config.project,
        system=config.system,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=clock().isoformat(timespec="seconds"),
        config_sha256=hashlib.sha256(canonical_json(config_json).encode()).hexdigest(),
        dataset_sha256=ctx.data.sha256 if ctx.data is not None else "",
        seed=seed,
        versions=versions(config.pii.spacy_model if config.pii.enabled else None),
        host=_host(meter),
        command=command,
        config=config_json,
    )
    sections = {stage.section: ctx.sections.get(stage.section) for stage in run_order() if stage.section}
    document: dict[str, Any] = {
        "run": run_info.model_dump(mode="json"),
        "stages": [r.model_dump(mode="json") for r in records],
        **{name: value.model_dump(mode="json") if value is not None else None for name, value in sections.items()},
    }
    controls = evaluate_controls(packs, document, records, waiver_entries, started_at.date())
    known = {c.id for c in controls}
    notes = [f"waiver for unknown control {w.control} ignored" for w in waiver_entries if w.control not in known]
    policies = config.policies
    summary, verdict = gate(controls, records, policies.fail_on, policies.warn_on, notes, policies.fail_on_inconclusive)
    evidence = Evidence(run=run_info, stages=records, controls=controls, summary=summary, verdict=verdict, **sections)
    if trend is None:
        return evidence
    return evidence.model_copy(update={"trend": [*trend, evidence.metrics()]})
