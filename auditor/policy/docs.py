"""docs/controls.md, generated from the packs (``audit policies docs > docs/controls.md``)."""

from __future__ import annotations

from auditor.policy.loader import LoadedPack
from auditor.policy.model import CelCheck, MetricCheck


def _check_text(check: MetricCheck | CelCheck) -> str:
    if isinstance(check, MetricCheck):
        value = "" if check.value is None else f" {check.value}"
        text = f"`{check.metric} {check.op}{value}`"
        rule = check.sample
        if rule is not None:
            text += (
                f"; statistic `{check.metric}`, interval `[{rule.low}, {rule.high}]` ({rule.method}); "
                "passes when the whole interval meets the limit, fails when it misses it, inconclusive otherwise"
            )
            if rule.n is not None and rule.min_n is not None:
                text += f"; minimum n: `{rule.n}` >= {rule.min_n}"
        return text
    return f"CEL: `{' '.join(check.cel.split())}`"


def controls_markdown(packs: list[LoadedPack]) -> str:
    lines = [
        "# Controls",
        "",
        "Generated from `policies/*.yaml` by `audit policies docs`; do not edit by hand.",
        "A test fails when this file and the packs disagree.",
        "",
        "Statuses: **pass**, **fail**, **error** (the evidence is missing or its stage crashed; always blocks),",
        "**waived** (a valid waiver covers a failure), **skipped** (the control does not apply to the run: see",
        "*Applies to* and *When*), **inconclusive** (a control that measures a sample: its interval contains the",
        "limit, or n is below its minimum; it does not block unless `--fail-on-inconclusive`). A stage turned off",
        "in the config makes the controls that need it **error**.",
        "",
    ]
    for loaded in packs:
        pack = loaded.pack
        lines += [f"## {pack.title} (`{pack.id}` {pack.version})", "", " ".join(pack.description.split()), ""]
        if pack.params:
            lines += ["| Parameter | Default | Meaning |", "|---|---|---|"]
            for name, param in pack.params.items():
                lines.append(f"| `{pack.id}.{name}` | {param.default} | {param.description} |")
            lines.append("")
        for control in pack.controls:
            lines += [
                f"### {control.id}: {control.title}",
                "",
                f"- **Severity:** {control.severity}",
                f"- **References:** {'; '.join(control.refs)}",
                f"- **Check:** {_check_text(control.check)}",
            ]
            if control.expected:
                lines.append(f"- **Expected:** {control.expected}")
            if control.applies_to:
                lines.append(f"- **Applies to:** {', '.join(control.applies_to)}")
            if control.when:
                lines.append(f"- **When:** `{' '.join(control.when.split())}`")
            lines += [
                f"- **Remediation:** {' '.join(control.remediation.split())}",
                "",
                " ".join(control.description.split()),
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"
