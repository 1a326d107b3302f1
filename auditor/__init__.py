"""auditor: a pre-deployment compliance gate for ML training.

    import auditor
    evidence = auditor.run("examples/credit-scoring/audit.yaml")
    auditor.render(evidence, "out")

The names below are the public API (pinned by tests/test_public_api.py).
"""

from typing import TYPE_CHECKING, Any

from auditor._version import __version__

if TYPE_CHECKING:  # the names as mypy and editors see them; at run time they load on first use
    from auditor.api import render, run, scan, verify
    from auditor.config import AuditConfig, PiiConfig, load_config
    from auditor.errors import AuditError, ExitCode, InputError
    from auditor.evidence import Evidence, dump_evidence, load_evidence, parse_evidence
    from auditor.history import HistoryStore
    from auditor.stages import Stage
    from auditor.stages import register as register_stage
    from auditor.tasks import Task
    from auditor.tasks import register as register_task

__all__ = [
    "AuditConfig",
    "AuditError",
    "Evidence",
    "ExitCode",
    "HistoryStore",
    "InputError",
    "PiiConfig",
    "Stage",
    "Task",
    "__version__",
    "dump_evidence",
    "load_config",
    "load_evidence",
    "parse_evidence",
    "register_stage",
    "register_task",
    "render",
    "run",
    "scan",
    "verify",
]

# Every name loads on first use, so ``import auditor`` (and ``audit --version``) stays light.
_LAZY = {
    "AuditConfig": ("auditor.config", "AuditConfig"),
    "AuditError": ("auditor.errors", "AuditError"),
    "Evidence": ("auditor.evidence", "Evidence"),
    "ExitCode": ("auditor.errors", "ExitCode"),
    "HistoryStore": ("auditor.history", "HistoryStore"),
    "InputError": ("auditor.errors", "InputError"),
    "PiiConfig": ("auditor.config", "PiiConfig"),
    "Stage": ("auditor.stages", "Stage"),
    "Task": ("auditor.tasks", "Task"),
    "dump_evidence": ("auditor.evidence", "dump_evidence"),
    "load_config": ("auditor.config", "load_config"),
    "load_evidence": ("auditor.evidence", "load_evidence"),
    "parse_evidence": ("auditor.evidence", "parse_evidence"),
    "register_stage": ("auditor.stages", "register"),
    "register_task": ("auditor.tasks", "register"),
    "render": ("auditor.api", "render"),
    "run": ("auditor.api", "run"),
    "scan": ("auditor.api", "scan"),
    "verify": ("auditor.api", "verify"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'auditor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
