"""``audit run``: the whole pipeline, outputs, and the gate's exit code."""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from auditor.cli._common import (
    SIGN_CERT_HELP,
    SIGN_KEY_HELP,
    ConsoleProgress,
    command_line,
    console,
    guarded,
    loud,
    signing_files,
    split_list,
)
from auditor.constants import ALL_FORMATS, SEVERITIES
from auditor.errors import ExitCode, InputError

if TYPE_CHECKING:
    from auditor.config import AuditConfig
    from auditor.evidence import Evidence, PreviousRun, RunMetrics
    from auditor.history import HistoryStore


def _formats(requested: list[str] | None, config: AuditConfig) -> list[str]:
    formats = split_list(requested) or list(config.report.formats)
    unknown = [f for f in formats if f not in ALL_FORMATS]
    if unknown:
        raise InputError(f"unknown --format {unknown[0]!r}; choose from {', '.join(ALL_FORMATS)}")
    return list(dict.fromkeys(formats))


def _severity(value: str | None, option: str) -> str | None:
    if value is not None and value not in SEVERITIES:
        raise InputError(f"{option} must be one of {', '.join(SEVERITIES)}")
    return value


def _with_gate(
    config: AuditConfig, fail_on: str | None, warn_on: str | None, fail_on_inconclusive: bool = False
) -> AuditConfig:
    update: dict[str, object] = {k: v for k, v in {"fail_on": fail_on, "warn_on": warn_on}.items() if v is not None}
    if fail_on_inconclusive:
        update["fail_on_inconclusive"] = True
    if not update:
        return config
    return config.model_copy(update={"policies": config.policies.model_copy(update=update)})


def _with_mlflow(config: AuditConfig, enable: bool, uri: str | None) -> AuditConfig:
    """``--mlflow`` and ``--mlflow-uri`` over the config's ``mlflow:`` section (validated like it)."""
    if not enable and uri is None:
        return config
    from pydantic import ValidationError

    from auditor.config import MlflowConfig

    settings = config.mlflow.model_dump()
    settings["enabled"] = True
    if uri is not None:
        settings["tracking_uri"] = uri
    try:
        return config.model_copy(update={"mlflow": MlflowConfig.model_validate(settings)})
    except ValidationError as exc:
        raise InputError(f"--mlflow-uri: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None


def _log_to_mlflow(evidence: Evidence, output: Path, config: AuditConfig) -> None:
    """After the outputs are written: a logging failure is a loud warning, never a changed verdict."""
    from auditor.mlflow_log import log_run, tracking_uri

    try:
        run_id = log_run(evidence, output, config.mlflow, Path.cwd())
    except InputError as exc:
        loud.print(f"warning: {exc.one_line()}; the outputs are in {output}", markup=False, emoji=False)
        return
    where = tracking_uri(config.mlflow, Path.cwd())
    console.print(f"  logged to MLflow: run {run_id} at {where}", markup=False, emoji=False)


def print_outcome(evidence: Evidence, written: list[Path]) -> None:
    colour = "green" if evidence.verdict == "pass" else "red"
    loud.print(f"[bold {colour}]{evidence.verdict.upper()}[/] {evidence.summary.line}", markup=True, emoji=False)
    for cid in evidence.summary.blocking:
        control = next((c for c in evidence.controls if c.id == cid), None)
        if control is not None:
            console.print(f"  [red]✗[/] {cid} {control.title}: {control.reason}", markup=True, emoji=False)
        else:
            stage = cid.removeprefix("stage:")
            error = next((s.error for s in evidence.stages if s.name == stage), "")
            console.print(f"  [red]✗[/] stage {stage} failed: {error}", markup=True, emoji=False)
    for cid in evidence.summary.inconclusive:
        control = next((c for c in evidence.controls if c.id == cid), None)
        if control is not None and cid not in evidence.summary.blocking:
            console.print(f"  [blue]?[/] {cid} inconclusive: {control.reason}", markup=True, emoji=False)
    for warning in evidence.summary.warnings:
        text = f"{warning} failed below the gate's severity" if " " not in warning else warning
        console.print(f"  [yellow]![/] {text}", markup=True, emoji=False)
    for path in written:
        console.print(f"  wrote {path}", markup=False, emoji=False)


@dataclass
class HistoryPlan:
    url: str | None  # where to record the run; None with --no-history
    store: HistoryStore | None  # open already when the database exists
    reference: PreviousRun | None
    note: str
    trend: list[RunMetrics] | None


def _plan_history(history: str | None, no_history: bool, baseline: str | None, project: str) -> HistoryPlan:
    """Read what the run needs from the history without creating anything: a SQLite file that
    does not exist yet is created only when the run is recorded, so a bad input leaves nothing."""
    from auditor.history import HistoryStore, baseline_needs_store, is_new, load_baseline, resolve_url

    if no_history and (history or baseline_needs_store(baseline)):
        raise InputError("--no-history cannot be combined with --history or a history --baseline")
    url = None if no_history else resolve_url(history)
    store = None if url is None or is_new(url) else HistoryStore(url)
    try:
        note = "no --baseline given"
        reference = None
        if baseline is not None:
            if url is not None and store is None and baseline_needs_store(baseline) and baseline != "latest":
                raise InputError(f"no run {baseline!r} in history {url}: the database does not exist yet")
            needed = store is not None or not baseline_needs_store(baseline)
            reference = load_baseline(baseline, store, project) if needed else None
            if reference is None:
                note = f"--baseline latest: no earlier run of {project!r} in history (first run)"
                console.print(f"  note: {note}; the regression controls are skipped", markup=False)
        trend = None if url is None else (store.previous(project) if store else [])
    except BaseException:
        if store is not None:
            store.close()
        raise
    return HistoryPlan(url, store, reference, note, trend)


@guarded
def run_command(
    config_path: Path = typer.Argument(..., metavar="CONFIG", help="Path to audit.yaml."),
    output: Path = typer.Option(Path("out"), "-o", "--output", help="Directory for the outputs."),
    formats: list[str] | None = typer.Option(
        None, "--format", "-f", help=f"Outputs to write (repeat or comma-separate): {', '.join(ALL_FORMATS)}."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Override the config's seed."),
    exit_zero: bool = typer.Option(
        False, "--exit-zero", help="Exit 0 even when the gate fails (input errors still exit 2)."
    ),
    waivers: Path | None = typer.Option(None, "--waivers", help="Waivers YAML file (overrides policies.waivers)."),
    fail_on: str | None = typer.Option(None, "--fail-on", help="Lowest severity whose failure fails the gate."),
    warn_on: str | None = typer.Option(None, "--warn-on", help="Lowest severity reported as a warning."),
    fail_on_inconclusive: bool = typer.Option(
        False, "--fail-on-inconclusive", help="Fail the gate when a control's sample is too small to decide."
    ),
    sign_key: Path | None = typer.Option(None, "--sign-key", help=SIGN_KEY_HELP),
    sign_cert: Path | None = typer.Option(None, "--sign-cert", help=SIGN_CERT_HELP),
    history: str | None = typer.Option(
        None, "--history", help="History database URL (default: $AUDIT_HISTORY_URL or sqlite:///.audit/history.db)."
    ),
    no_history: bool = typer.Option(False, "--no-history", help="Do not record this run."),
    baseline: str | None = typer.Option(
        None, "--baseline", help="Compare with a baseline: latest, a run id, or an evidence.json."
    ),
    nproc: int | None = typer.Option(None, "--nproc", min=1, help="Train with DDP on this many local processes."),
    write_anonymised: Path | None = typer.Option(
        None, "--write-anonymised", help="Write the anonymised training data (Parquet) and a manifest to DIR."
    ),
    mlflow: bool = typer.Option(False, "--mlflow", help="Log the run to MLflow tracking (default store: ./mlruns)."),
    mlflow_uri: str | None = typer.Option(
        None, "--mlflow-uri", help="MLflow tracking server or store to log to (implies --mlflow)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace files in the output directory that auditor did not write."
    ),
) -> None:
    """Scan, train with DP, audit, measure energy, check policies and write the report."""
    from auditor.train.torchrun import follow, join, leading, leave, torchrun_env

    launch = torchrun_env()
    if launch is not None:
        join(launch)
        if launch.rank != 0:  # a follower: rank 0 sends the training jobs and writes every output
            try:
                code = follow()
            finally:
                leave()
            raise typer.Exit(code)
    with leading() if launch is not None else nullcontext():
        # CodeCarbon's hardware detection runs on the other core while the heavy
        # libraries (torch, Presidio, WeasyPrint) are imported below.
        from auditor.config import load_config
        from auditor.energy.meter import warm_up

        config_for_energy = load_config(config_path).energy
        warm_up(config_for_energy)
        from auditor.pipeline import run as run_pipeline
        from auditor.render import (
            RenderContext,
            check_output_location,
            check_overwrite,
            output_filenames,
            render_outputs,
            write_outputs,
        )

        config = _with_gate(
            load_config(config_path),
            _severity(fail_on, "--fail-on"),
            _severity(warn_on, "--warn-on"),
            fail_on_inconclusive,
        )
        if nproc is not None:
            config = config.model_copy(update={"train": config.train.model_copy(update={"nproc": nproc})})
        config = _with_mlflow(config, mlflow, mlflow_uri)
        if write_anonymised is not None:
            if not config.anonymise.enabled:
                raise InputError("--write-anonymised needs anonymise.enabled: true in the config")
            check_output_location(write_anonymised)
            update = {"write_to": str(write_anonymised.resolve())}
            config = config.model_copy(update={"anonymise": config.anonymise.model_copy(update=update)})
        selected = _formats(formats, config)
        key, cert = signing_files(sign_key, sign_cert)
        if config.mlflow.enabled:
            from auditor.mlflow_log import check_reachable

            check_reachable(config.mlflow, Path.cwd())
        check_output_location(output)
        check_overwrite(output, output_filenames(selected), force)
        plan = _plan_history(history, no_history, baseline, config.project)
        with ExitStack() as closing:
            if plan.store is not None:
                closing.callback(plan.store.close)
            progress = ConsoleProgress()
            evidence = run_pipeline(
                config,
                seed=seed,
                command=command_line(),
                progress=progress,
                waivers=waivers,
                previous=plan.reference,
                trend=plan.trend,
                previous_note=plan.note,
            )
            from auditor.energy import EnergyMeter

            progress.begin("render")
            # Rendering is measured too, but only reported here: the report cannot contain
            # the energy of producing itself.
            render_meter = EnergyMeter(config.energy)
            with render_meter.track("render"):
                outputs = render_outputs(
                    evidence, selected, RenderContext(rendered_at=dt.datetime.now(dt.UTC), sign_key=key, sign_cert=cert)
                )
            written = write_outputs(outputs, output)
            progress.end("ok")
            render_kwh = render_meter.stages["render"].energy_kwh if "render" in render_meter.stages else None
            store = plan.store
            if plan.url is not None:
                from auditor.history import HistoryStore

                # A new SQLite file is created only now, after a good run.
                store = store or closing.enter_context(HistoryStore(plan.url))
                store.record_or_fail(evidence, render_energy_kwh=render_kwh)
            print_outcome(evidence, written)
            if store is not None:
                console.print(
                    f"  recorded run {evidence.run.id[:12]} in {store.redacted_url}", markup=False, highlight=False
                )
            if config.energy.enabled and "render" in render_meter.stages:
                spent = render_meter.stages["render"]
                console.print(
                    f"  rendering used {spent.energy_kwh * 1000:.3g} Wh ({spent.emissions_kg * 1000:.3g} g CO2e), "
                    "not included in the report",
                    markup=False,
                    emoji=False,
                )
            if config.mlflow.enabled:
                _log_to_mlflow(evidence, output, config)
            if evidence.verdict == "fail" and not exit_zero:
                raise typer.Exit(int(ExitCode.NOT_COMPLIANT))
