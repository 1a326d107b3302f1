"""``junit.xml``: one testcase per control, grouped in one testsuite per pack.

A ``<failure>`` is a control that blocks the gate, nothing else: a control that failed below
the gate's severity (``--fail-on``) is ``<skipped>`` with the reason, so a CI test tab agrees
with the exit code. Every string is cut to XML 1.0's characters (a column name can hold
control characters that would make the file unparseable).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from auditor.evidence import ControlResult, Evidence
from auditor.render.base import RenderContext, Renderer, register
from auditor.render.fmt import observed

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids written as a visible escape (\\x01)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def junit_xml(ev: Evidence) -> bytes:
    root = ET.Element("testsuites", name=xml_text(f"auditor {ev.run.project}"))
    blocking = set(ev.summary.blocking)
    packs: dict[str, list[ControlResult]] = {}
    for control in ev.controls:
        packs.setdefault(control.pack, []).append(control)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for pack, controls in packs.items():
        suite = ET.SubElement(root, "testsuite", name=pack, timestamp=ev.run.started_at)
        counts = {"tests": len(controls), "failures": 0, "errors": 0, "skipped": 0}
        for c in controls:
            case = ET.SubElement(suite, "testcase", classname=f"auditor.{pack}", name=xml_text(f"{c.id} {c.title}"))
            detail = xml_text(f"observed: {observed(c.observed)}; expected: {c.expected}; {c.reason}")
            if c.status == "fail" and c.id in blocking:
                counts["failures"] += 1
                ET.SubElement(
                    case, "failure", message=f"{c.id} failed ({c.severity})", type=c.severity
                ).text = xml_text(f"{detail}\nremediation: {c.remediation}\nrefs: {'; '.join(c.refs)}")
            elif c.status == "fail":
                counts["skipped"] += 1
                below = f"failed below the gate's severity ({c.severity} < {ev.summary.fail_on}), not blocking"
                ET.SubElement(case, "skipped", message=xml_text(f"{below}: {c.reason}"))
            elif c.status == "error":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=f"{c.id} could not be evaluated", type="error").text = detail
            elif c.status == "inconclusive":
                counts["skipped"] += 1
                verdict = "blocks (--fail-on-inconclusive)" if c.id in blocking else "does not block"
                ET.SubElement(case, "skipped", message=xml_text(f"inconclusive, {verdict}: {c.reason}"))
                ET.SubElement(ET.SubElement(case, "properties"), "property", name="status", value="inconclusive")
            elif c.status in {"skipped", "waived"}:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=xml_text(f"{c.status}: {c.reason}"))
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
