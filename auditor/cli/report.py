"""``audit report``, ``audit verify`` and ``audit modelcard``: work from the evidence alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from auditor.cli._common import (
    SIGN_CERT_HELP,
    SIGN_KEY_HELP,
    console,
    guarded,
    loud,
    signing_files,
    split_list,
)
from auditor.constants import ALL_FORMATS
from auditor.errors import ExitCode, InputError


@guarded
def report_command(
    evidence_path: Path = typer.Argument(..., metavar="EVIDENCE", help="An evidence.json written by audit run."),
    output: Path = typer.Option(Path("out"), "-o", "--output", help="Directory for the outputs."),
    formats: list[str] | None = typer.Option(None, "--format", "-f", help="Outputs to write (default: all)."),
    sign_key: Path | None = typer.Option(None, "--sign-key", help=SIGN_KEY_HELP),
    sign_cert: Path | None = typer.Option(None, "--sign-cert", help=SIGN_CERT_HELP),
    force: bool = typer.Option(
        False, "--force", help="Replace files in the output directory that auditor did not write."
    ),
) -> None:
    """Re-render every output from an evidence file (no stage runs again)."""
    from auditor.evidence import load_evidence
    from auditor.render import (
        RenderContext,
        check_output_location,
        check_overwrite,
        output_filenames,
        render_outputs,
        write_outputs,
    )

    evidence = load_evidence(evidence_path)
    selected = split_list(formats) or list(ALL_FORMATS)
    unknown = [f for f in selected if f not in ALL_FORMATS]
    if unknown:
        raise InputError(f"unknown --format {unknown[0]!r}; choose from {', '.join(ALL_FORMATS)}")
    key, cert = signing_files(sign_key, sign_cert)
    check_output_location(output)
    check_overwrite(output, output_filenames(selected), force)
    outputs = render_outputs(
        evidence, selected, RenderContext(rendered_at=dt.datetime.now(dt.UTC), sign_key=key, sign_cert=cert)
    )
    for path in write_outputs(outputs, output):
        console.print(f"wrote {path}", markup=False, emoji=False)


@guarded
def verify_command(
    report: Path = typer.Argument(..., metavar="REPORT", help="A report.pdf written by auditor."),
    public_key: Path | None = typer.Option(
        None, "--public-key", help="Public key (PEM) the report must be signed with (PDF and evidence signatures)."
    ),
) -> None:
    """Check that the evidence attached to a report is the evidence it was rendered from."""
    from auditor.signing import read_key_file
    from auditor.verify import verify_report

    key = read_key_file(public_key) if public_key else None
    result = verify_report(report, key)
    console.print(f"evidence SHA-256 {result.digest}", markup=False, emoji=False)
    console.print(
        f"verdict in evidence: {result.verdict or 'unreadable'}; signature: {result.signature}; "
        f"PDF signature: {result.pdf_signature}; pages: {result.pages}",
        markup=False,
        emoji=False,
    )
    for limit in result.limits:
        console.print(f"note: {limit}", markup=False, emoji=False)
    if not result.ok:
        for problem in result.problems:
            loud.print(f"[red]✗[/] {problem}", markup=True, emoji=False)
        raise typer.Exit(int(ExitCode.NOT_COMPLIANT))
    console.print("[green]✓[/] report, its pages and attached evidence match", markup=True, emoji=False)


@guarded
def modelcard_command(
    evidence_path: Path = typer.Argument(..., metavar="EVIDENCE", help="An evidence.json written by audit run."),
    output: Path = typer.Option(Path("README.md"), "-o", "--output", help="Model card file to write."),
    force: bool = typer.Option(False, "--force", help="Replace the file even if auditor did not write it."),
) -> None:
    """Write a Hugging Face-style model card (README.md with YAML metadata)."""
    from auditor.evidence import load_evidence
    from auditor.render import check_overwrite, write_outputs
    from auditor.render.modelcard import model_card

    evidence = load_evidence(evidence_path)
    if output.is_dir():
        raise InputError("is a directory; give the model card's file name", where=str(output))
    check_overwrite(output.parent, [output.name], force)
    write_outputs({output.name: model_card(evidence).encode("utf-8")}, output.parent)
    console.print(f"wrote {output}", markup=False, emoji=False)
