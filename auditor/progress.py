"""Progress reporting: the pipeline announces work, the CLI draws it (Rich, on stderr)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def begin(self, stage: str, total: int | None = None, unit: str = "") -> None: ...

    def advance(self, amount: int = 1) -> None: ...

    def end(self, status: str) -> None: ...


class NoProgress:
    """Silent progress, for the Python API and tests."""

    def begin(self, stage: str, total: int | None = None, unit: str = "") -> None:
        return None

    def advance(self, amount: int = 1) -> None:
        return None

    def end(self, status: str) -> None:
        return None
