from __future__ import annotations

from auditor.evidence import Evidence, dump_evidence
from auditor.render.base import RenderContext, Renderer, register


class JsonRenderer(Renderer):
    name = "json"
    filename = "evidence.json"

    def render(self, evidence: Evidence, context: RenderContext) -> bytes:
        return dump_evidence(evidence).encode("utf-8")


register(JsonRenderer())
