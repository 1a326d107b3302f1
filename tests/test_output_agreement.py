"""Machine outputs agree with the gate, and user strings cannot break their grammar."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from auditor.evidence import Evidence, parse_evidence
from auditor.policy.engine import gate
from auditor.render.charts import charts
from auditor.render.junit import junit_xml
from auditor.render.markdown import summary_markdown
from auditor.render.sarif import sarif_log

FIXTURE = Path(__file__).parent / "data" / "evidence.json"


def _evidence(fail_on: str = "low", edit: Any = None) -> Evidence:
    document = json.loads(FIXTURE.read_text())
    if edit is not None:
        edit(document)
    evidence = parse_evidence(json.dumps(document))
    summary, verdict = gate(evidence.controls, evidence.stages, fail_on, "info")  # type: ignore[arg-type]
    return evidence.model_copy(update={"summary": summary, "verdict": verdict})


def _junit_failures(evidence: Evidence) -> set[str]:
    root = ET.fromstring(junit_xml(evidence))
    return {case.get("name", "").split()[0] for case in root.iter("testcase") if case.find("failure") is not None}


@pytest.mark.parametrize("fail_on", ["info", "low", "medium", "high", "critical"])
def test_junit_failures_are_the_blocking_failures(fail_on: str) -> None:
    evidence = _evidence(fail_on)
    blocking_failures = {c.id for c in evidence.controls if c.status == "fail" and c.id in evidence.summary.blocking}
    assert _junit_failures(evidence) == blocking_failures
    root = ET.fromstring(junit_xml(evidence))
    assert int(root.get("failures", "0")) == len(blocking_failures)
    for control in evidence.controls:
        if control.status == "fail" and control.id not in evidence.summary.blocking:
            case = next(c for c in root.iter("testcase") if c.get("name", "").startswith(control.id + " "))
            skipped = case.find("skipped")
            assert skipped is not None and "below the gate's severity" in skipped.get("message", "")


def test_sarif_levels_follow_the_gate() -> None:
    evidence = _evidence("critical")
    results = [r for r in sarif_log(evidence, "test")["runs"][0]["results"] if not r["ruleId"].startswith("PII-")]
    assert results and all(
        r["level"] == "note" and r["properties"]["blocking"] is False
        for r in results
        if r["properties"]["status"] == "fail"
    )


def test_summary_markdown_marks_non_blocking_failures() -> None:
    evidence = _evidence("critical")
    text = summary_markdown(evidence)
    failed = [c.id for c in evidence.controls if c.status == "fail"]
    assert failed and all(f"below the gate | **{cid}**" in text for cid in failed)


HOSTILE = "![t](http://tracker.example/p.gif) a|b \\| c\rd <img src=x> \x01\x08\x0b\x0c\x1b $\\undefinedcommand{x}$"


def _hostile(document: dict[str, Any]) -> None:
    document["run"]["project"] = HOSTILE
    document["controls"][0]["reason"] = HOSTILE
    document["controls"][0]["status"] = "fail"
    document["training"]["groups"]["rows"][0]["group"] = HOSTILE


def test_hostile_strings_stay_inert_in_every_machine_output() -> None:
    evidence = _evidence(edit=_hostile)
    root = ET.fromstring(junit_xml(evidence))  # parses: no XML-illegal character survives
    assert "\\x01" in ET.tostring(root, encoding="unicode")
    text = summary_markdown(evidence)
    import re

    assert "![" not in text and "](http" not in text and not re.search(r"(?<!\\)<img", text)
    assert not re.search("[\x00-\x08\x0b-\x1f]", text) and "\\x1b" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") - line.count("\\| ") == 4 for line in table[1:] if not line.startswith("|---"))
    rendered = charts(evidence)  # mathtext off: a "$...$" label is plain text, not a crash
    assert any(svg for svg in rendered.values())
