"""The ``audit`` command line. Commands only wire library calls together."""

from __future__ import annotations

import json

import typer

from auditor._version import __version__
from auditor.cli import history as _history
from auditor.cli import policies as _policies
from auditor.cli import selftest as _selftest
from auditor.cli._common import STATE, fail_input, guarded, set_quiet
from auditor.cli.report import modelcard_command, report_command, verify_command
from auditor.cli.run import run_command
from auditor.cli.scan import scan_command
from auditor.errors import InputError

app = typer.Typer(
    name="audit",
    help="Pre-deployment compliance gate for ML training: PII scan, DP-SGD, privacy audit, energy, policy packs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"auditor {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="More detail on stderr (never personal data)."),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print only errors and the verdict line: no progress, no file list."
    ),
) -> None:
    from auditor.verbose import configure

    if quiet and verbose:
        raise fail_input("--quiet and --verbose contradict each other")
    set_quiet(quiet)
    STATE["debug"] = debug
    STATE["verbose"] = verbose
    configure(verbose)


@guarded
def schema_command(
    kind: str = typer.Argument("config", help="config (audit.yaml), evidence, policy or waivers."),
) -> None:
    """Print a JSON Schema, e.g. for editor completion of audit.yaml."""
    from auditor.schemas import SCHEMAS

    if kind not in SCHEMAS:
        raise InputError(f"unknown schema {kind!r}; choose from {', '.join(SCHEMAS)}")
    typer.echo(json.dumps(SCHEMAS[kind](), indent=2, sort_keys=True))


app.command("run")(run_command)
app.command("scan")(scan_command)
app.command("report")(report_command)
app.command("verify")(verify_command)
app.command("modelcard")(modelcard_command)
app.command("schema")(schema_command)
app.add_typer(_policies.app, name="policies")
app.add_typer(_history.app, name="history")
app.add_typer(_selftest.app, name="selftest")


def main() -> None:
    app()
