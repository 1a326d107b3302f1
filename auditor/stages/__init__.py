"""The stage axis. Importing this package registers the built-in stages, in dependency order."""

from auditor.stages import anonymise as _anonymise  # noqa: F401
from auditor.stages import audit as _audit  # noqa: F401
from auditor.stages import data as _data  # noqa: F401
from auditor.stages import energy as _energy  # noqa: F401
from auditor.stages import pii as _pii  # noqa: F401
from auditor.stages import previous as _previous  # noqa: F401
from auditor.stages import train as _train  # noqa: F401
from auditor.stages.base import (
    STAGES,
    RunContext,
    Stage,
    register,
    run_order,
    section_models,
    stage_of_section,
    unregister,
)

__all__ = ["STAGES", "RunContext", "Stage", "register", "run_order", "section_models", "stage_of_section", "unregister"]
