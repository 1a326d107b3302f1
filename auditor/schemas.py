"""JSON Schemas auditor ships: audit.yaml, evidence.json, policy packs and waiver files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.config import config_json_schema
from auditor.evidence import evidence_json_schema
from auditor.policy.model import Pack, WaiverFile


def _schema(model: Any, title: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        schema: dict[str, Any] = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = title
        return schema

    return build


SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "config": config_json_schema,
    "evidence": evidence_json_schema,
    "policy": _schema(Pack, "auditor policy pack"),
    "waivers": _schema(WaiverFile, "auditor waivers"),
}
