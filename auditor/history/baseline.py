"""Resolve ``--baseline latest|RUN_ID|evidence.json`` to the metrics a run is compared against."""

from __future__ import annotations

from pathlib import Path

from auditor.evidence import PreviousRun, load_evidence
from auditor.history.store import HistoryStore


def baseline_needs_store(reference: str | None) -> bool:
    """Whether ``--baseline`` names a run in history rather than an evidence file."""
    return reference is not None and not (reference.endswith(".json") or Path(reference).is_file())


def load_baseline(reference: str, store: HistoryStore | None, project: str) -> PreviousRun | None:
    """The baseline's metrics; None for ``latest`` when the project has no recorded run yet
    (a pipeline's first run has nothing to regress against). An unknown run id is an error."""
    path = Path(reference)
    if not baseline_needs_store(reference):
        return PreviousRun(source=f"file {path.name}", metrics=load_evidence(path).metrics())
    if store is None:
        from auditor.errors import InputError

        raise InputError(
            f"--baseline {reference!r} needs the run history (drop --no-history, or give an evidence.json)"
        )
    if reference == "latest" and not store.previous(project):
        return None
    run_id = store.resolve_id(reference, project)
    return PreviousRun(source=f"history run {run_id}", metrics=store.run_metrics(run_id))
