"""``junit.xml``: one testcase per control, grouped in one testsuite per pack."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from auditor.evidence import ControlResult, Evidence
from auditor.render.base import RenderContext, Renderer, register
from auditor.render.fmt import observed


def junit_xml(ev: Evidence) -> bytes:
    root = ET.Element("testsuites", name=f"auditor {ev.run.project}")
    packs: dict[str, list[ControlResult]] = {}
    for control in ev.controls:
        packs.setdefault(control.pack, []).append(control)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for pack, controls in packs.items():
        suite = ET.SubElement(root, "testsuite", name=pack, timestamp=ev.run.started_at)
        counts = {"tests": len(controls), "failures": 0, "errors": 0, "skipped": 0}
        for c in controls:
            case = ET.SubElement(suite, "testcase", classname=f"auditor.{pack}", name=f"{c.id} {c.title}")
            detail = f"observed: {observed(c.observed)}; expected: {c.expected}; {c.reason}"
            if c.status == "fail":
                counts["failures"] += 1
                ET.SubElement(
                    case, "failure", message=f"{c.id} failed ({c.severity})", type=c.severity
                ).text = f"{detail}\nremediation: {c.remediation}\nrefs: {'; '.join(c.refs)}"
            elif c.status == "error":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=f"{c.id} could not be evaluated", type="error").text = detail
            elif c.status in {"skipped", "waived"}:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"{c.status}: {c.reason}")
            ET.SubElement(case, "system-out").text = detail
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"


class JunitRenderer(Renderer):
    name = "junit"
    filename = "junit.xml"

    def render(self, evidence: Evidence, context: RenderContext) -> bytes:
        return junit_xml(evidence)


register(JunitRenderer())
