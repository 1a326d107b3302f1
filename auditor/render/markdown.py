"""``summary.md``: short, for pull-request comments and ``$GITHUB_STEP_SUMMARY``.

Every string that can come from the user's data or config (project, column names in
reasons, stage errors) goes through ``_cell``: line breaks become spaces and Markdown's
and HTML's active characters are backslash-escaped, so a column name cannot add an image,
a link or a table row. A control that failed below the gate's severity is marked as such,
in agreement with the exit code."""

from __future__ import annotations

import re

from auditor.evidence import Evidence
from auditor.render.base import RenderContext, Renderer, register
from auditor.render.fmt import energy, mass, num, observed

ICONS = {"pass": "✅", "fail": "❌", "error": "⛔", "waived": "⚠️", "skipped": "⏭️", "inconclusive": "❔"}


_CONTROL = re.compile("[\x00-\x1f\x7f]")
_ACTIVE = re.compile(r"([\\`*_{}\[\]()#+!|<>~&])")


def _cell(text: str) -> str:
    """``text`` inert in a Markdown table cell: one line, every active character escaped."""
    visible = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", " ".join(text.split()))
    return _ACTIVE.sub(r"\\\1", visible)


def summary_markdown(ev: Evidence) -> str:
    lines = [
        f"## auditor: {'✅ PASS' if ev.verdict == 'pass' else '❌ FAIL'} — {_cell(ev.run.project)}",
        "",
        f"**{ev.summary.line}** · run `{ev.run.id[:12]}` · {ev.run.started_at}",
        "",
    ]
    t = ev.training
    facts = []
    if t and t.privacy:
        facts.append(f"ε = {num(t.privacy.epsilon)} (δ = {num(t.privacy.delta)}, {t.privacy.accountant})")
    if t:
        u = t.utility
        base = f" vs {num(u.baseline, 4)} without DP" if u.baseline is not None else ""
        facts.append(f"{u.metric} {num(u.value, 4)}{base} ({t.task.name})")
    if ev.pii:
        facts.append(f"{num(ev.pii.rows_with_pii)} of {num(ev.pii.rows_scanned)} rows contain personal data")
    if ev.energy:
        facts.append(
            f"{energy(ev.energy.total.energy_kwh)}, {mass(ev.energy.total.emissions_kg)} ({ev.energy.country_iso_code})"
        )
    if ev.previous:
        facts.append(f"compared with the earlier {_cell(ev.previous.source)}")
    lines += [f"- {f}" for f in facts] + [""]
    shown = [c for c in ev.controls if c.status not in {"pass", "skipped"}]
    skipped = [c.id for c in ev.controls if c.status == "skipped"]
    blocking = set(ev.summary.blocking)
    if shown:
        lines += ["| | Control | Severity | Observed | Expected |", "|---|---|---|---|---|"]
        for c in shown:
            icon = ICONS[c.status] if c.status != "fail" or c.id in blocking else f"{ICONS['waived']} below the gate"
            lines.append(
                f"| {icon} | **{c.id}** {_cell(c.title)} | {c.severity} "
                f"| {_cell(observed(c.observed))} | {_cell(c.expected)} |"
            )
        lines.append("")
    if skipped:
        lines += [f"{ICONS['skipped']} skipped: {', '.join(skipped)}", ""]
    errors = [s for s in ev.stages if s.status == "error"]
    for stage in errors:
        lines.append(f"> ⛔ stage **{stage.name}** failed: {_cell(stage.error or '')}")
    if errors:
        lines.append("")
    lines.append("<sub>Personal data is never reproduced here; see report.pdf for the full audit.</sub>")
    return "\n".join(lines) + "\n"


class MarkdownRenderer(Renderer):
    name = "markdown"
    filename = "summary.md"

    def render(self, evidence: Evidence, context: RenderContext) -> bytes:
        return summary_markdown(evidence).encode("utf-8")


register(MarkdownRenderer())
