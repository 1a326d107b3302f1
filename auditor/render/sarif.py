"""``results.sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One rule per control and one per PII entity type; one result per failing or
erroring control and one per (column, entity) PII finding. Locations point at
the dataset file, with the column as a logical location.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.evidence import ControlResult, Evidence
from auditor.render.base import RenderContext, Renderer, register
from auditor.render.fmt import observed

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/auditor-dev/auditor"
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.5"}


def _control_rule(c: ControlResult) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": "".join(part.capitalize() for part in c.title.split()),
        "shortDescription": {"text": c.title},
        "fullDescription": {"text": c.description},
        "help": {"text": f"{c.remediation}\nReferences: {'; '.join(c.refs)}"},
        "defaultConfiguration": {"level": LEVEL[c.severity]},
        "properties": {"tags": ["compliance", c.pack, *c.refs], "security-severity": SECURITY_SEVERITY[c.severity]},
    }


def _pii_rule(entity: str) -> dict[str, Any]:
    return {
        "id": f"PII-{entity}",
        "name": f"PersonalData{''.join(p.capitalize() for p in entity.split('_'))}",
        "shortDescription": {"text": f"Personal data detected: {entity}"},
        "fullDescription": {"text": f"The Presidio-based scan found {entity} values in the training data."},
        "help": {"text": "Exclude the column from the features, or remove or pseudonymise the values before training."},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["privacy", "pii", "GDPR Art. 5(1)(c)"]},
    }


def _location(uri: str, column: str | None) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": uri, "index": 0}, "region": {"startLine": 1}}
    }
    if column is not None:
        location["logicalLocations"] = [{"name": column, "kind": "member"}]
    return location


def sarif_log(ev: Evidence, version: str) -> dict[str, Any]:
    rules = [_control_rule(c) for c in ev.controls]
    index = {c.id: i for i, c in enumerate(ev.controls)}
    results = []
    data_path = ev.data.path if ev.data is not None else "."
    blocking = set(ev.summary.blocking)
    for c in ev.controls:
        if c.status not in {"fail", "error", "inconclusive"}:
            continue
        text = f"{c.id} {c.title}: {c.status}. Observed {observed(c.observed)}; expected {c.expected}. {c.reason}"
        blocks = c.id in blocking
        if not blocks:
            text += f" Below the gate's severity ({ev.summary.fail_on}): not blocking."
        results.append(
            {
                "ruleId": c.id,
                "ruleIndex": index[c.id],
                # A failure below the gate's severity is a note, so code scanning agrees with the exit code.
                "level": "error" if c.status == "error" else (LEVEL[c.severity] if blocks else "note"),
                "kind": "review" if c.status == "inconclusive" else "fail",
                "message": {"text": text},
                "locations": [_location(data_path, None)],
                "properties": {"status": c.status, "severity": c.severity, "blocking": blocks},
            }
        )
    if ev.pii is not None:
        entities = sorted({e for col in ev.pii.columns for e in col.entities})
        for entity in entities:
            index[f"PII-{entity}"] = len(rules)
            rules.append(_pii_rule(entity))
        for col in ev.pii.columns:
            for entity, count in sorted(col.entities.items()):
                results.append(
                    {
                        "ruleId": f"PII-{entity}",
                        "ruleIndex": index[f"PII-{entity}"],
                        "level": "warning" if col.identifier == "direct" else "note",
                        "message": {
                            "text": (
                                f"Column '{col.name}': {count} {entity} finding(s) in {col.rows_with_pii} "
                                f"of {col.non_null} rows ({col.identifier} identifier)."
                            )
                        },
                        "locations": [_location(data_path, col.name)],
                        "partialFingerprints": {"columnEntity": f"{col.name}:{entity}"},
                    }
                )
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "auditor", "version": version, "informationUri": INFO_URI, "rules": rules}},
                "artifacts": (
                    [{"location": {"uri": ev.data.path}, "hashes": {"sha-256": ev.data.sha256}}] if ev.data else []
                ),
                "invocations": [
                    {"executionSuccessful": all(s.status != "error" for s in ev.stages), "commandLine": ev.run.command}
                ],
                "automationDetails": {"id": f"auditor/{ev.run.project}/{ev.run.id}"},
                "results": results,
            }
        ],
    }


class SarifRenderer(Renderer):
    name = "sarif"
    filename = "results.sarif"

    def render(self, evidence: Evidence, context: RenderContext) -> bytes:
        text = json.dumps(
            sarif_log(evidence, evidence.run.versions.auditor), indent=2, sort_keys=True, ensure_ascii=False
        )
        return (text + "\n").encode("utf-8")


register(SarifRenderer())
