"""auditor: a pre-deployment compliance gate for ML training.

    import auditor
    evidence = auditor.run("examples/credit-scoring/audit.yaml")
    auditor.render(evidence, "out")

The names below are the public API (pinned by tests/test_public_api.py).
"""

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
    "__version__",
    "dump_evidence",
    "load_config",
    "load_evidence",
    "parse_evidence",
    "render",
    "run",
    "scan",
    "verify",
]
