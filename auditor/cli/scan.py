"""``audit scan``: the PII scanner on its own, with a findings file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from auditor.cli._common import ConsoleProgress, console, deprecated_format, guarded, split_list
from auditor.errors import InputError

if TYPE_CHECKING:
    from auditor.evidence import PiiSection


def _print_table(section: PiiSection) -> None:
    from rich.table import Table

    table = Table(
        title=f"{section.rows_scanned:,} rows scanned, {section.rows_with_pii:,} with personal data",
        title_justify="left",
    )
    for header in ("column", "kind", "identifier", "entities", "rows with PII", "masked examples"):
        table.add_column(header)
    for col in section.columns:
        entities = ", ".join(f"{e} {n:,}" for e, n in col.entities.items())
        share = f"{col.rows_with_pii:,} ({col.share:.1%})" if col.rows_with_pii else "0"
        table.add_row(col.name, col.kind, col.identifier, entities, share, ", ".join(col.masked_examples))
    typer.echo()
    from rich.console import Console

    Console(highlight=False).print(table)
    k = section.k_anonymity
    typer.echo(f"k-anonymity over {', '.join(k.quasi_identifiers) or 'no quasi-identifiers'}: k = {k.k}")
    for s in section.special_categories:
        typer.echo(f"special category {s.category} in {s.column}: {s.rows:,} rows ({s.signal})")


@guarded
def scan_command(
    data: Path = typer.Argument(..., metavar="DATA", help="CSV, Parquet or JSONL file, or a directory of them."),
    findings: Path | None = typer.Option(
        None, "--findings", help="Write one JSON line per detected span (never the value)."
    ),
    output_format: str = typer.Option("table", "--output-format", help="table or json (the evidence's pii section)."),
    legacy_format: str | None = typer.Option(None, "-f", "--format", hidden=True),
    columns: list[str] | None = typer.Option(
        None, "--columns", help="Scan only these columns (repeat or comma-separate)."
    ),
    engine: str | None = typer.Option(None, "--engine", help="local (process pool) or dask."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="dask.distributed scheduler address (default: a LocalCluster)."
    ),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Worker processes (default: CPU count)."),
    config_path: Path | None = typer.Option(
        None, "--config", help="Take pii settings (recognizers, lists, model) and data limits from this audit.yaml."
    ),
    max_rows: int | None = typer.Option(
        None,
        "--max-rows",
        min=1,
        help="Refuse datasets with more rows than this (default 5,000,000, or data.max_rows).",
    ),
) -> None:
    """Scan a dataset for personal data with Presidio, column-aware."""
    from auditor.config import PiiConfig, load_config

    if legacy_format is not None:
        output_format = deprecated_format(legacy_format, "scan")
    from auditor.data import ReadOptions, get_loader, read_options
    from auditor.pii.findings import FindingsWriter
    from auditor.pii.parallel import make_runner
    from auditor.pii.partitioned import scan_dataset
    from auditor.pii.presidio_engine import check_model_installed
    from auditor.pii.scanner import Scanner

    if output_format not in {"table", "json"}:
        raise InputError(f"--output-format must be table or json, not {output_format!r}")
    config = load_config(config_path) if config_path else None
    base = config.pii if config is not None else PiiConfig()
    update: dict[str, object] = {}
    if split_list(columns):
        update["columns"] = split_list(columns)
    if engine is not None:
        if engine not in {"local", "dask"}:
            raise InputError(f"--engine must be local or dask, not {engine!r}")
        update["engine"] = engine
    if scheduler is not None:
        update["scheduler"] = scheduler
    if workers is not None:
        update["workers"] = workers
    pii = base.model_copy(update=update)
    check_model_installed(pii.spacy_model)
    loader = get_loader(data)
    options = read_options(config) if config is not None else ReadOptions(chunk_rows=pii.chunk_rows)
    if max_rows is not None:
        options = dataclasses.replace(options, max_rows=max_rows)
    runner = make_runner(pii.engine, pii.workers, pii.scheduler)
    progress = ConsoleProgress()

    def checked(section: PiiSection) -> PiiSection:
        # Inside the findings writer's block: an empty table leaves no findings file behind.
        if section.rows_scanned == 0:
            raise InputError("no data rows to scan", where=str(data))
        return section

    try:
        scanner = Scanner(pii, runner=runner)
        progress.begin("scan", unit="rows")
        if findings is not None:
            with FindingsWriter(findings) as writer:
                section = checked(scan_dataset(scanner, loader, data, options, writer.write, progress.advance))
        else:
            section = checked(scan_dataset(scanner, loader, data, options, None, progress.advance))
        progress.end("ok")
    finally:
        runner.close()
    if output_format == "json":
        typer.echo(json.dumps(section.model_dump(mode="json"), indent=2, sort_keys=True))
    else:
        _print_table(section)
    if findings is not None:
        console.print(f"wrote {section.findings:,} findings to {findings}", markup=False, emoji=False)
