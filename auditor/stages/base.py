"""The stage axis: one small interface, a registry, and the context stages share.

A stage reads what earlier stages left in the context and adds its own
result. It never renders and never decides compliance.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from auditor.config import AuditConfig
from auditor.data import LoadedData
from auditor.energy import EnergyMeter
from auditor.evidence import AuditSection, PiiSection, TrainingSection
from auditor.progress import Progress


@dataclass
class RunContext:
    config: AuditConfig
    data: LoadedData
    seed: int
    meter: EnergyMeter
    progress: Progress
    pii: PiiSection | None = None
    training: TrainingSection | None = None
    audit: AuditSection | None = None
    scratch: dict[str, Any] = field(default_factory=dict)


class Stage(ABC):
    """One step of ``audit run``; a crash is recorded, never propagated (except input errors)."""

    name: str
    depends_on: tuple[str, ...] = ()

    def skip_reason(self, ctx: RunContext) -> str | None:
        """Why this stage does not run for this config, or None to run it."""
        return None

    @abstractmethod
    def run(self, ctx: RunContext) -> None:
        """Do the work and store the result in ``ctx``."""


STAGES: list[Stage] = []
ORDER = ("pii", "train", "audit")


def register(stage: Stage) -> Stage:
    """Add a stage; stages run in ``ORDER``, then in registration order."""
    STAGES.append(stage)
    STAGES.sort(key=lambda s: ORDER.index(s.name) if s.name in ORDER else len(ORDER))
    return stage
