"""Findings: one detected span per line, never the matched value (design.md contract)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from auditor._io import atomic_writer


@dataclass(frozen=True, order=True)
class Finding:
    row: int
    column: str
    start: int
    end: int
    entity: str
    score: float

    def to_json(self) -> str:
        # Key order follows the documented example: row, column, entity, start, end, score.
        # ASCII-escaped, so a column name with U+2028 or U+0085 cannot split a line for
        # readers that honour Unicode line breaks (str.splitlines, JavaScript).
        return json.dumps(
            {
                "row": self.row,
                "column": self.column,
                "entity": self.entity,
                "start": self.start,
                "end": self.end,
                "score": round(self.score, 4),
            },
            ensure_ascii=True,
        )


class FindingsWriter:
    """Streams findings to a JSON Lines file, written atomically on close."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._context: Any = None
        self._handle: IO[str] | None = None

    def __enter__(self) -> FindingsWriter:
        self._context = atomic_writer(self.path, "w")
        self._handle = self._context.__enter__()
        return self

    def write(self, findings: list[Finding]) -> None:
        assert self._handle is not None, "use FindingsWriter as a context manager"
        for finding in findings:
            self._handle.write(finding.to_json() + "\n")
        self.count += len(findings)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._context.__exit__(exc_type, exc, tb)
