"""``report.html``: the reviewer's report as HTML (also the source of the PDF)."""

from __future__ import annotations

import hashlib
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from auditor import stage_names
from auditor._assets import asset_dir
from auditor._version import __version__
from auditor.evidence import ControlResult, Evidence, dump_evidence
from auditor.render import fmt
from auditor.render.base import RenderContext, Renderer, register
from auditor.render.charts import charts

STATUS_ORDER = {"error": 0, "fail": 1, "inconclusive": 2, "waived": 3, "skipped": 4, "pass": 5}


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(asset_dir("templates"))),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        yaml=fmt.as_yaml,
        num=fmt.num,
        pct=fmt.pct,
        observed=fmt.observed,
        energy=fmt.energy,
        mass=fmt.mass,
        seconds=fmt.seconds,
        signed=fmt.signed,
    )
    env.globals.update(stage_names=stage_names, metric_labels=fmt.METRIC_LABELS)
    return env


def evidence_digest(ev: Evidence) -> str:
    """SHA-256 of ``evidence.json`` exactly as written and attached."""
    return hashlib.sha256(dump_evidence(ev).encode("utf-8")).hexdigest()


def _by_pack(controls: list[ControlResult]) -> dict[str, list[ControlResult]]:
    packs: dict[str, list[ControlResult]] = {}
    for control in controls:
        packs.setdefault(control.pack, []).append(control)
    for items in packs.values():
        items.sort(key=lambda c: (STATUS_ORDER[c.status], c.id))
    return packs


def view(ev: Evidence, context: RenderContext, for_pdf: bool) -> dict[str, Any]:
    return {
        "ev": ev,
        "for_pdf": for_pdf,
        "rendered_at": context.rendered_at.isoformat(timespec="seconds"),
        "digest": evidence_digest(ev),
        "controls_by_id": {c.id: c for c in ev.controls},
        "packs": _by_pack(ev.controls),
        "charts": {k: Markup(v) if v else None for k, v in charts(ev).items()},
        "signed": context.evidence_signed,
        "pdf_signed": context.pdf_signed,
        "renderer_version": __version__,
        "regressions": [c for c in ev.controls if "-REG-" in c.id],
    }


def render_html(ev: Evidence, context: RenderContext, for_pdf: bool = False) -> str:
    return environment().get_template("report.html.j2").render(**view(ev, context, for_pdf))


class HtmlRenderer(Renderer):
    name = "html"
    filename = "report.html"

    def render(self, evidence: Evidence, context: RenderContext) -> bytes:
        return render_html(evidence, context).encode("utf-8")


register(HtmlRenderer())
