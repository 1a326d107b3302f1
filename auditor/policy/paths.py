"""Metric paths into the evidence (``training.privacy.epsilon``): lookup and static validation."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

FIXED_ROOTS = ("run", "stages", "params")


def roots() -> tuple[str, ...]:
    """Names a policy expression may start from: the fixed ones and every registered stage's section."""
    from auditor.stages import STAGES

    return (*FIXED_ROOTS, *(s.section for s in STAGES if s.section))


class MissingEvidence(Exception):
    """The path leads to a missing or null value."""


def lookup(document: dict[str, Any], path: str) -> Any:
    node: Any = document
    walked = []
    for part in path.split("."):
        walked.append(part)
        if not isinstance(node, dict) or part not in node:
            raise MissingEvidence(f"evidence has no {'.'.join(walked)}")
        node = node[part]
        if node is None:
            raise MissingEvidence(f"{'.'.join(walked)} is null (its stage did not produce it)")
    return node


@lru_cache(maxsize=4)
def _schema_for(_sections: tuple[str, ...]) -> dict[str, Any]:
    from auditor.evidence import evidence_json_schema

    return evidence_json_schema()


def _schema() -> dict[str, Any]:
    return _schema_for(roots())


def _resolve(node: dict[str, Any]) -> list[dict[str, Any]]:
    """All concrete alternatives of a schema node ($ref and anyOf resolved)."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _resolve(_schema()["$defs"][name])
    if "anyOf" in node:
        return [alt for option in node["anyOf"] for alt in _resolve(option)]
    return [node]


def path_exists(path: str) -> bool:
    """Whether ``path`` names a field of the Evidence schema (any key is allowed inside maps)."""
    nodes = [_schema()]
    for part in path.split("."):
        following: list[dict[str, Any]] = []
        for node in nodes:
            for alt in _resolve(node):
                if not alt:  # an unconstrained value (e.g. the config as a dict): any path below is allowed
                    following.append({})
                elif alt.get("type") == "object" and part in alt.get("properties", {}):
                    following.append(alt["properties"][part])
                elif alt.get("type") == "object" and isinstance(alt.get("additionalProperties"), dict):
                    following.append(alt["additionalProperties"])
                elif alt.get("type") == "object" and alt.get("additionalProperties") is True:
                    following.append({})
        if not following:
            return False
        nodes = following
    return True
