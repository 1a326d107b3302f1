"""``audit policies``: list, validate and explain policy packs."""

from __future__ import annotations

from pathlib import Path

import typer

from auditor.cli._common import console, guarded
from auditor.errors import InputError

app = typer.Typer(help="List, validate and explain policy packs.", no_args_is_help=True)


@app.command("list")
@guarded
def list_command(
    packs: list[str] | None = typer.Option(None, "--pack", help="Pack names or paths (default: all built-in packs)."),
) -> None:
    """List packs and their controls."""
    from auditor.policy import builtin_packs
    from auditor.policy.loader import load_packs

    for loaded in load_packs(packs or list(builtin_packs()), {}):
        pack = loaded.pack
        typer.echo(f"{pack.id} {pack.version}: {pack.title} ({len(pack.controls)} controls)")
        for control in pack.controls:
            typer.echo(f"  {control.id:<16} {control.severity:<8} {control.title}")


@app.command("validate")
@guarded
def validate_command(paths: list[Path] = typer.Argument(..., help="Pack files or directories.")) -> None:
    """Validate pack files: schema, CEL syntax, evidence paths and parameters."""
    from auditor.policy import read_pack

    count = controls = 0
    for path in paths:
        files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
        if not files:
            raise InputError("no .yaml policy packs in directory", where=str(path))
        for file in files:
            pack = read_pack(file)
            count += 1
            controls += len(pack.controls)
    console.print(f"[green]✓[/] {count} pack(s), {controls} control(s) valid", markup=True, emoji=False)


@app.command("docs")
@guarded
def docs_command(
    packs: list[str] | None = typer.Option(None, "--pack", help="Pack names or paths (default: all built-in packs)."),
) -> None:
    """Print Markdown documentation of the packs (this is how docs/controls.md is made)."""
    from auditor.policy import builtin_packs
    from auditor.policy.docs import controls_markdown
    from auditor.policy.loader import load_packs

    typer.echo(controls_markdown(load_packs(packs or list(builtin_packs()), {})), nl=False)


@app.command("explain")
@guarded
def explain_command(
    control_id: str = typer.Argument(..., help="A control id, e.g. GDPR-DP-002."),
    packs: list[str] | None = typer.Option(None, "--pack", help="Pack names or paths to search (default: built-in)."),
) -> None:
    """Explain one control: what it checks, why, and how to fix a failure."""
    from auditor.policy import builtin_packs
    from auditor.policy.loader import load_packs
    from auditor.policy.model import MetricCheck

    for loaded in load_packs(packs or list(builtin_packs()), {}):
        for control in loaded.pack.controls:
            if control.id != control_id:
                continue
            check = control.check
            typer.echo(
                f"{control.id}: {control.title} [{control.severity}] (pack {loaded.pack.id} {loaded.pack.version})"
            )
            typer.echo(f"\n{control.description.strip()}\n")
            typer.echo(f"References: {'; '.join(control.refs)}")
            if isinstance(check, MetricCheck):
                typer.echo(
                    f"Check: {check.metric} {check.op} {check.value if check.value is not None else ''}".rstrip()
                )
            else:
                typer.echo(f"Check (CEL): {check.cel.strip()}")
            if control.expected:
                typer.echo(f"Expected: {control.expected}")
            if control.applies_to:
                typer.echo(f"Applies to: {', '.join(control.applies_to)} (skipped for other tasks)")
            if control.when:
                typer.echo(f"When: {' '.join(control.when.split())} (skipped when false)")
            for name, param in loaded.pack.params.items():
                typer.echo(f"Parameter {loaded.pack.id}.{name} = {param.default}: {param.description}")
            typer.echo(f"Remediation: {control.remediation.strip()}")
            return
    raise InputError(f"unknown control {control_id!r}; see audit policies list")
