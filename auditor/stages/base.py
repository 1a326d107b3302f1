"""The stage axis: one small interface, a registry, and the context stages share.

A stage declares its name, the stages it depends on, the evidence section it
writes (and that section's model), and how ``--verbose`` describes its result.
The run order comes from the dependencies. A stage reads what earlier stages
left in the context and returns its own section. It never renders and never
decides compliance.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from auditor.config import AuditConfig
from auditor.energy import EnergyMeter
from auditor.evidence._base import Record
from auditor.progress import Progress

if TYPE_CHECKING:
    from auditor.data import LoadedData
    from auditor.evidence import PreviousRun

R = TypeVar("R", bound=Record)


@dataclass
class RunContext:
    config: AuditConfig
    seed: int
    meter: EnergyMeter
    progress: Progress
    data: LoadedData | None = None
    previous: PreviousRun | None = None
    previous_note: str = "no --baseline given"
    sections: dict[str, Record] = field(default_factory=dict)
    scratch: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str, kind: type[R]) -> R | None:
        """An earlier stage's section, typed; None when that stage did not produce it."""
        value = self.sections.get(name)
        return value if isinstance(value, kind) else None

    def loaded(self) -> LoadedData:
        assert self.data is not None, "the data stage runs before every stage that depends on it"
        return self.data


class Stage(ABC):
    """One step of ``audit run``; a crash is recorded, never propagated (except input errors)."""

    name: ClassVar[str]
    description: ClassVar[str]
    depends_on: ClassVar[tuple[str, ...]] = ()
    """Stages whose results this one needs: it runs after them, and errors when one of them failed."""
    after: ClassVar[tuple[str, ...]] = ()
    """Stages this one runs after, without needing their results."""
    phase: ClassVar[Literal["work", "summary"]] = "work"
    """``summary`` stages run after every ``work`` stage (energy, the previous-run comparison)."""
    section: ClassVar[str | None] = None
    """The evidence key this stage writes."""
    model: ClassVar[type[Record] | None] = None
    """The model of that section."""
    tracked: ClassVar[bool] = True
    """Whether the energy meter wraps this stage."""
    switch: ClassVar[str | None] = None
    """The config setting that turns this stage off (``pii.enabled``). A pack control that needs a stage
    turned off this way is an error, not a skip: a gate cannot be emptied by switching its evidence off."""

    def disabled(self, ctx: RunContext) -> bool:
        """Whether the config turned this stage off (its ``switch`` is false)."""
        if self.switch is None:
            return False
        node: Any = ctx.config
        for part in self.switch.split("."):
            node = getattr(node, part)
        return node is False

    def skip_reason(self, ctx: RunContext) -> str | None:
        """Why this stage does not run for this config, or None to run it."""
        return None

    @abstractmethod
    def run(self, ctx: RunContext) -> Record | None:
        """Do the work and return this stage's evidence section."""

    def describe(self, section: Any) -> list[str]:
        """``--verbose`` lines about a finished stage's section (evidence values and masked samples only)."""
        return []


STAGES: list[Stage] = []


def _ordered(stages: list[Stage], strict: bool) -> list[Stage]:
    """Dependencies first; otherwise work before summary, then registration order.

    While packages are still registering, a dependency not registered yet is waited for
    later (``strict=False``); the pipeline checks the finished registry (``strict=True``)."""
    names = {s.name for s in stages}
    for stage in stages:
        unknown = [d for d in (*stage.depends_on, *stage.after) if d not in names]
        if unknown and strict:
            raise ValueError(f"stage {stage.name!r} depends on unknown stage {unknown[0]!r}")
    done: list[Stage] = []
    placed: set[str] = {d for s in stages for d in (*s.depends_on, *s.after) if d not in names}
    pending = sorted(stages, key=lambda s: s.phase == "summary")
    while pending:
        ready = next((s for s in pending if all(d in placed for d in (*s.depends_on, *s.after))), None)
        if ready is None:
            raise ValueError(f"stage dependencies form a cycle among {sorted(s.name for s in pending)}")
        pending.remove(ready)
        done.append(ready)
        placed.add(ready.name)
    return done


def register(stage: Stage) -> Stage:
    """Add a stage; a second stage with the same name or section is a programming error."""
    if any(s.name == stage.name for s in STAGES):
        raise ValueError(f"stage {stage.name!r} is already registered")
    if stage.section and any(s.section == stage.section for s in STAGES):
        raise ValueError(f"evidence section {stage.section!r} already belongs to another stage")
    STAGES[:] = _ordered([*STAGES, stage], strict=False)
    return stage


def run_order() -> list[Stage]:
    """The registered stages in the order they run; an unknown dependency or a cycle is a programming error."""
    return _ordered(list(STAGES), strict=True)


def unregister(name: str) -> None:
    """Remove a stage (for tests that plug in a stage of their own)."""
    STAGES[:] = [s for s in STAGES if s.name != name]


def section_models() -> dict[str, type[Record]]:
    return {s.section: s.model for s in STAGES if s.section and s.model is not None}


def stage_of_section() -> dict[str, str]:
    """Evidence root -> the stage that writes it (``run`` belongs to the data stage)."""
    from auditor.stage_names import DATA

    return {"run": DATA, **{s.section: s.name for s in STAGES if s.section}}
