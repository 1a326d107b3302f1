"""auditor: a pre-deployment compliance gate for ML training.

    import auditor
    evidence = auditor.run("examples/credit-scoring/audit.yaml")
    auditor.render(evidence, "out")

The names below are the public API (pinned by tests/test_public_api.py).
"""

from typing import Any

from auditor._version import __version__
from auditor.api import render, run, scan, verify
from auditor.config import AuditConfig, PiiConfig, load_config
from auditor.errors import AuditError, ExitCode, InputError
from auditor.evidence import Evidence, dump_evidence, load_evidence, parse_evidence
from auditor.history import HistoryStore

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

# The extension axes import torch; they load on first use, so ``import auditor`` stays light.
_LAZY = {
    "Task": ("auditor.tasks", "Task"),
    "register_task": ("auditor.tasks", "register"),
    "Stage": ("auditor.stages", "Stage"),
    "register_stage": ("auditor.stages", "register"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'auditor' has no attribute {name!r}")
