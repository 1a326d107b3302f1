"""Write the selected outputs: render everything in memory first, then move files into place.

A rendering failure therefore leaves no output at all, and a crash while
writing leaves no half-written file (each file is written atomically).
"""

from __future__ import annotations

from pathlib import Path

from auditor._io import write_bytes
from auditor.evidence import Evidence
from auditor.render import html as _html  # noqa: F401  (registers the renderer)
from auditor.render import json_out as _json  # noqa: F401
from auditor.render import junit as _junit  # noqa: F401
from auditor.render import markdown as _markdown  # noqa: F401
from auditor.render import modelcard as _modelcard  # noqa: F401
from auditor.render import pdf as _pdf  # noqa: F401
from auditor.render import sarif as _sarif  # noqa: F401
from auditor.render.base import RENDERERS, RenderContext


def render_outputs(evidence: Evidence, formats: list[str], context: RenderContext) -> dict[str, bytes]:
    unknown = [f for f in formats if f not in RENDERERS]
    if unknown:
        raise ValueError(f"unknown output format(s): {', '.join(unknown)}")
    return {RENDERERS[f].filename: RENDERERS[f].render(evidence, context) for f in formats}


def write_outputs(outputs: dict[str, bytes], directory: Path) -> list[Path]:
    written = []
    for name, data in outputs.items():
        path = directory / name
        write_bytes(path, data)
        written.append(path)
    return written
