"""``audit history``: list, show, diff, trend and prune recorded runs."""

from __future__ import annotations

import json
from typing import Any

import typer

from auditor.cli._common import console, deprecated_format, guarded
from auditor.errors import InputError

app = typer.Typer(help="Recorded runs: list, show, diff, trend, prune.", invoke_without_command=True)

HISTORY = typer.Option(
    None, "--history", help="Database URL (default: $AUDIT_HISTORY_URL or sqlite:///.audit/history.db)."
)
FORMAT = typer.Option("table", "--output-format", help="table or json.")
LEGACY_FORMAT = typer.Option(None, "-f", "--format", hidden=True)
METRICS = ("epsilon", "accuracy", "utility", "pii_rows", "energy_kwh", "emissions_kg")


def _store(ctx: typer.Context, url: str | None) -> Any:
    """Open an existing history; its connections close when the command ends, however it ends."""
    from auditor.history import HistoryStore

    store = HistoryStore(url, create=False)
    ctx.call_on_close(store.close)
    return store


def _check_format(fmt: str, legacy: str | None = None) -> str:
    if legacy is not None:
        fmt = deprecated_format(legacy, "history")
    if fmt not in {"table", "json"}:
        raise InputError("--output-format must be table or json")
    return fmt


def _num(value: Any) -> str:
    from auditor.render.fmt import num

    return num(value)


@app.callback()
@guarded
def list_runs(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", min=1, help="How many runs, newest first."),
    project: str | None = typer.Option(None, "--project", help="Only this project."),
    fmt: str = FORMAT,
    legacy_format: str | None = LEGACY_FORMAT,
    history: str | None = HISTORY,
) -> None:
    """List recorded runs, newest first."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"history": history}
        return
    fmt = _check_format(fmt, legacy_format)
    rows = _store(ctx, history).list_runs(limit, project)
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2, sort_keys=True))
        return
    for r in rows:
        typer.echo(
            f"{r['id'][:12]}  {r['started_at']}  {r['project'][:24]:24s}  {r['verdict'].upper():4s}  "
            f"eps {_num(r['epsilon']):>7s}  acc {_num(r['accuracy']):>6s}  "
            f"kWh {_num(r['energy_kwh']):>9s}  {r['summary']}"
        )
    if not rows:
        console.print("no runs recorded", markup=False)


def _url(ctx: typer.Context, history: str | None) -> str | None:
    return history or (ctx.obj or {}).get("history")


@app.command("show")
@guarded
def show(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="A run id, a unique prefix, or 'latest'."),
    fmt: str = FORMAT,
    legacy_format: str | None = LEGACY_FORMAT,
    history: str | None = HISTORY,
) -> None:
    """Show one run: its verdict, key figures and failing controls."""
    fmt = _check_format(fmt, legacy_format)
    store = _store(ctx, _url(ctx, history))
    evidence = store.evidence(store.resolve_id(run_id))
    metrics = evidence.metrics().model_dump()
    failing = [
        {"id": c.id, "status": c.status, "reason": c.reason}
        for c in evidence.controls
        if c.status in {"fail", "error", "waived"}
    ]
    if fmt == "json":
        typer.echo(
            json.dumps(
                {**metrics, "project": evidence.run.project, "summary": evidence.summary.line, "controls": failing},
                indent=2,
                sort_keys=True,
            )
        )
        return
    typer.echo(
        f"run {evidence.run.id} ({evidence.run.project}) at {evidence.run.started_at}: "
        f"{evidence.verdict.upper()}, {evidence.summary.line}"
    )
    for key in METRICS:
        typer.echo(f"  {key:13s} {_num(metrics[key])}")
    typer.echo(f"  pii_columns   {', '.join(metrics['pii_columns']) or 'none'}")
    for c in failing:
        typer.echo(f"  {c['status']:6s} {c['id']}: {c['reason']}")


@app.command("diff")
@guarded
def diff(
    ctx: typer.Context,
    run_a: str = typer.Argument(..., help="The earlier run (id, prefix or 'latest')."),
    run_b: str = typer.Argument(..., help="The later run."),
    fmt: str = FORMAT,
    legacy_format: str | None = LEGACY_FORMAT,
    history: str | None = HISTORY,
) -> None:
    """Compare two runs: key figures, PII columns and control statuses."""
    fmt = _check_format(fmt, legacy_format)
    store = _store(ctx, _url(ctx, history))
    a, b = (store.evidence(store.resolve_id(r)) for r in (run_a, run_b))
    ma, mb = a.metrics(), b.metrics()
    changes = {}
    for key in METRICS:
        va, vb = getattr(ma, key), getattr(mb, key)
        change = None if va is None or vb is None else vb - va
        changes[key] = {"a": va, "b": vb, "change": change}
    statuses_a = {c.id: c.status for c in a.controls}
    controls = {
        c.id: {"a": statuses_a.get(c.id), "b": c.status} for c in b.controls if statuses_a.get(c.id) != c.status
    }
    pii = {
        "added": sorted(set(mb.pii_columns) - set(ma.pii_columns)),
        "removed": sorted(set(ma.pii_columns) - set(mb.pii_columns)),
    }
    result = {"a": ma.run_id, "b": mb.run_id, "metrics": changes, "pii_columns": pii, "controls": controls}
    if fmt == "json":
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
        return
    typer.echo(f"{ma.run_id[:12]} -> {mb.run_id[:12]}")
    for key, c in changes.items():
        delta = "" if c["change"] is None else f"  ({c['change']:+.4g})"
        typer.echo(f"  {key:13s} {_num(c['a']):>10s} -> {_num(c['b']):>10s}{delta}")
    typer.echo(
        f"  PII columns added: {', '.join(pii['added']) or 'none'}; removed: {', '.join(pii['removed']) or 'none'}"
    )
    for control, c in controls.items():
        typer.echo(f"  {control}: {c['a'] or '-'} -> {c['b']}")


@app.command("trend")
@guarded
def trend(
    ctx: typer.Context,
    metric: str = typer.Argument(..., help=f"One of {', '.join(METRICS)}."),
    project: str | None = typer.Option(None, "--project", help="The project (default: the latest run's)."),
    limit: int = typer.Option(20, "--limit", min=1),
    fmt: str = FORMAT,
    legacy_format: str | None = LEGACY_FORMAT,
    history: str | None = HISTORY,
) -> None:
    """Print a metric over the last runs of a project, oldest first."""
    fmt = _check_format(fmt, legacy_format)
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    store = _store(ctx, _url(ctx, history))
    if project is None:
        latest = store.list_runs(1)
        if not latest:
            raise InputError("no runs recorded")
        project = str(latest[0]["project"])
    points = [
        {"run_id": p.run_id, "started_at": p.started_at, metric: getattr(p, metric)}
        for p in store.trend(project, limit)
    ]
    if fmt == "json":
        typer.echo(json.dumps({"project": project, "metric": metric, "points": points}, indent=2, sort_keys=True))
        return
    values = [p[metric] for p in points if p[metric] is not None]
    top = max(values) if values else 0
    for p in points:
        value = p[metric]
        bar = "" if value is None or not top else "#" * max(1, round(40 * value / top))
        typer.echo(f"{p['started_at']}  {p['run_id'][:12]}  {_num(value):>10s}  {bar}")


@app.command("prune")
@guarded
def prune(
    ctx: typer.Context,
    keep: int | None = typer.Option(None, "--keep", min=0, help="Keep the newest N runs of each project."),
    older_than: int | None = typer.Option(None, "--older-than", min=0, help="Delete runs older than DAYS."),
    history: str | None = HISTORY,
) -> None:
    """Delete old runs."""
    if keep is None and older_than is None:
        raise InputError("give --keep N or --older-than DAYS")
    removed = _store(ctx, _url(ctx, history)).prune(keep=keep, older_than_days=older_than)
    console.print(f"deleted {removed} run(s)", markup=False)
