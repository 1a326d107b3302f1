"""The output-format axis: a renderer is a pure function of the Evidence.

Renderers never compute: every number they print is in the evidence. The
only other input is the render context (when the document was rendered).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass

from auditor.evidence import Evidence


@dataclass(frozen=True)
class RenderContext:
    rendered_at: dt.datetime
    sign_key: bytes | None = None


class Renderer(ABC):
    name: str
    filename: str

    @abstractmethod
    def render(self, evidence: Evidence, context: RenderContext) -> bytes:
        """The file's bytes."""


RENDERERS: dict[str, Renderer] = {}


def register(renderer: Renderer) -> Renderer:
    RENDERERS[renderer.name] = renderer
    return renderer
