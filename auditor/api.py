"""The Python API; it mirrors the CLI. Heavy libraries load on first call, not on import."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.config import AuditConfig, PiiConfig, load_config, parse_config

if TYPE_CHECKING:
    from auditor.evidence import Evidence, PiiSection
    from auditor.history import HistoryStore
    from auditor.progress import Progress
    from auditor.verify import Verification


def run(
    config: AuditConfig | str | Path | Mapping[str, Any],
    *,
    seed: int | None = None,
    waivers: str | Path | None = None,
    progress: Progress | None = None,
    history: HistoryStore | None = None,
    baseline: str | Path | None = None,
) -> Evidence:
    """Run the audit (``audit run`` without writing report files) and return the Evidence.

    ``config`` is an ``AuditConfig``, a path to an audit.yaml, or the same content as a mapping.
    With ``history`` (a ``HistoryStore``) the run gets the project's trend and is
    recorded, like ``audit run``; without it nothing is recorded. ``baseline``
    (``"latest"``, a run id, or an evidence.json path) adds the regression controls.
    Raises ``InputError`` for a bad config or bad data, like the CLI's exit code 2.
    """
    from auditor._isolation import process_state_restored

    with process_state_restored():  # the imports below add warning filters of their own
        return _run(config, seed, waivers, progress, history, baseline)


def _run(
    config: AuditConfig | str | Path | Mapping[str, Any],
    seed: int | None,
    waivers: str | Path | None,
    progress: Progress | None,
    history: HistoryStore | None,
    baseline: str | Path | None,
) -> Evidence:
    from auditor.history import load_baseline
    from auditor.pipeline import run as run_pipeline

    if isinstance(config, AuditConfig):
        resolved = config
    elif isinstance(config, Mapping):  # an audit.yaml as a dict; relative paths resolve from the working directory
        resolved = parse_config(dict(config), "auditor.run() config", Path.cwd())
    else:
        resolved = load_config(config)
    reference = load_baseline(str(baseline), history, resolved.project) if baseline is not None else None
    evidence = run_pipeline(
        resolved,
        seed=seed,
        progress=progress,
        waivers=Path(waivers) if waivers else None,
        command="auditor.run()",
        previous=reference,
        previous_note="no baseline given" if baseline is None else f"no earlier run of {resolved.project!r}",
        trend=history.previous(resolved.project) if history is not None else None,
    )
    if history is not None:
        history.record_or_fail(evidence)
    return evidence


def scan(data: str | Path, config: PiiConfig | None = None, findings: str | Path | None = None) -> PiiSection:
    """Scan a dataset for personal data (``audit scan``); optionally write the findings file."""
    from auditor.data import ReadOptions, get_loader, masked_chunks
    from auditor.errors import InputError
    from auditor.pii.findings import FindingsWriter
    from auditor.pii.parallel import make_runner
    from auditor.pii.presidio_engine import check_model_installed
    from auditor.pii.scanner import Scanner

    pii = config or PiiConfig()
    check_model_installed(pii.spacy_model)
    path = Path(data)
    loader = get_loader(path)
    chunks = masked_chunks(loader.iter_text_chunks(path, ReadOptions(chunk_rows=pii.chunk_rows)))
    runner = make_runner(pii.engine, pii.workers, pii.scheduler)

    def checked(section: PiiSection) -> PiiSection:
        if section.rows_scanned == 0:  # raised inside the writer's block: no findings file is left
            raise InputError("no data rows to scan", where=str(path))
        return section

    try:
        scanner = Scanner(pii, runner=runner)
        if findings is None:
            return checked(scanner.scan(chunks))
        with FindingsWriter(Path(findings)) as writer:
            return checked(scanner.scan(chunks, writer.write))
    finally:
        runner.close()


def render(
    evidence: Evidence, output: str | Path, formats: list[str] | None = None, sign_key: bytes | None = None
) -> list[Path]:
    """Write report outputs for ``evidence`` into ``output`` (``audit report``)."""
    from auditor.config import ALL_FORMATS
    from auditor.render import RenderContext, render_outputs, write_outputs

    context = RenderContext(rendered_at=dt.datetime.now(dt.UTC), sign_key=sign_key)
    outputs = render_outputs(evidence, list(formats or ALL_FORMATS), context)
    return write_outputs(outputs, Path(output))


def verify(report: str | Path, public_key: bytes | None = None) -> Verification:
    """Check a report's attached evidence against its digests (``audit verify``)."""
    from auditor.verify import verify_report

    return verify_report(Path(report), public_key)
