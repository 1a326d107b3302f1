"""Renderers: pure functions of the Evidence, one per output format."""

from auditor.render.base import RENDERERS, RenderContext, Renderer
from auditor.render.writer import (
    check_output_location,
    check_overwrite,
    output_filenames,
    render_outputs,
    write_outputs,
)

__all__ = [
    "RENDERERS",
    "RenderContext",
    "Renderer",
    "check_output_location",
    "check_overwrite",
    "output_filenames",
    "render_outputs",
    "write_outputs",
]
