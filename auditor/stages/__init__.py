"""Pipeline stages, in order. Importing this package registers them."""

from auditor.stages import audit as _audit  # noqa: F401
from auditor.stages import pii as _pii  # noqa: F401
from auditor.stages import train as _train  # noqa: F401
from auditor.stages.base import STAGES, RunContext, Stage

__all__ = ["STAGES", "RunContext", "Stage"]
