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
    sign_cert: bytes | None = None
    # ``audit verify`` re-renders a signed report's pages without its key: (evidence signed, PDF signed).
    states_signatures: tuple[bool, bool] | None = None

    @property
    def evidence_signed(self) -> bool:
        """An Ed25519 key also signs the evidence digest (``evidence.sig``)."""
        if self.states_signatures is not None:
            return self.states_signatures[0]
        from auditor.signing import is_ed25519

        return self.sign_key is not None and is_ed25519(self.sign_key)

    @property
    def pdf_signed(self) -> bool:
        if self.states_signatures is not None:
            return self.states_signatures[1]
        return self.sign_key is not None


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
