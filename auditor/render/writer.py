"""Write the selected outputs: render everything in memory first, then move files into place.

A rendering failure therefore leaves no output at all, and a crash while
writing leaves no half-written file (each file is written atomically).

An output directory keeps a manifest of the files auditor wrote there
(``.auditor-outputs.json``). A file of the same name that is not in it (a
project's own README.md, say) is never replaced, unless ``--force`` says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from auditor._io import write_bytes, write_text
from auditor.errors import InputError
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


MANIFEST = ".auditor-outputs.json"


def output_filenames(formats: Iterable[str]) -> list[str]:
    return [RENDERERS[f].filename for f in formats if f in RENDERERS]


def _ours(directory: Path) -> set[str]:
    """Files auditor wrote in ``directory`` before (an unreadable manifest vouches for nothing)."""
    try:
        files = json.loads((directory / MANIFEST).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {f for f in files if isinstance(f, str)}


def check_overwrite(directory: Path, names: Iterable[str], force: bool = False) -> None:
    """Refuse, before any work, to replace a file auditor did not write (exit code 2)."""
    if force or not directory.is_dir():
        return
    ours = _ours(directory)
    foreign = sorted(n for n in names if (directory / n).exists() and n not in ours)
    if foreign:
        raise InputError(
            "exists and was not written by auditor; move it, choose another -o directory, or pass --force",
            where=str(directory / foreign[0]),
        )


def write_outputs(outputs: dict[str, bytes], directory: Path) -> list[Path]:
    written = []
    for name, data in outputs.items():
        path = directory / name
        write_bytes(path, data)
        written.append(path)
    files = sorted(_ours(directory) | set(outputs))
    write_text(directory / MANIFEST, json.dumps({"files": files, "writer": "auditor"}, indent=2) + "\n")
    return written
