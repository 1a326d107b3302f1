"""A Hugging Face-style model card (``README.md`` with YAML metadata)."""

from __future__ import annotations

from typing import Any

import yaml

from auditor.evidence import Evidence, TrainingSection
from auditor.render.base import RenderContext, Renderer, register
from auditor.render.fmt import energy, mass, num, pct

HUB_PIPELINE_TAGS = {"causal-lm": "text-generation"}
"""Task names that differ from the Hub's pipeline tags (the others match one already)."""


def card_metadata(ev: Evidence) -> dict[str, Any]:
    t = ev.training
    tags = [t.task.name] if t is not None else []
    meta: dict[str, Any] = {"tags": [*tags, "auditor"], "library_name": "pytorch"}
    pretrained = t.model.pretrained if t is not None else None
    if pretrained is not None:
        meta["base_model"] = pretrained.base_model
        meta["library_name"] = "peft" if pretrained.fine_tune == "lora" else "transformers"
    if t is not None and t.privacy is not None:
        meta["tags"] += ["differential-privacy", "opacus"]
        meta["differential_privacy"] = {
            "epsilon": round(t.privacy.epsilon, 4),
            "delta": t.privacy.delta,
            "accountant": t.privacy.accountant,
            "unit": t.privacy.unit,
            "noise_multiplier": round(t.privacy.noise_multiplier, 6),
            "max_grad_norm": t.privacy.max_grad_norm,
        }
    report = ev.run.config.get("report", {}) if isinstance(ev.run.config, dict) else {}
    if report.get("license"):
        meta["license"] = report["license"]
    dataset = report.get("dataset") or (f"sha256-{ev.data.sha256[:16]}" if ev.data is not None else None)
    if dataset:
        meta["datasets"] = [dataset]
    if t is not None:
        meta["pipeline_tag"] = HUB_PIPELINE_TAGS.get(t.task.name, t.task.name)
        meta["model-index"] = [_model_index(ev, t, dataset or "unknown")]
    if ev.energy is not None:
        e = ev.energy
        hardware = f"{e.hardware.cpu_model} ({e.hardware.cpu_count} threads)"
        if e.hardware.gpu_model:
            hardware += f", {e.hardware.gpu_count} x {e.hardware.gpu_model}"
        meta["co2_eq_emissions"] = {
            "emissions": round(e.training_emissions_kg * 1000, 6),
            "source": (
                f"CodeCarbon {ev.run.versions.codecarbon} OfflineEmissionsTracker "
                f"({e.method.cpu.status} CPU power), via auditor"
            ),
            "training_type": "fine-tuning" if pretrained is not None else "pre-training",
            "geographical_location": f"{e.country_name} ({e.country_iso_code})",
            "hardware_used": hardware,
        }
    return meta


def _model_index(ev: Evidence, t: TrainingSection, dataset: str) -> dict[str, Any]:
    """Held-out results of the deployed (DP) model and of the non-private baseline, in the Hub's schema."""
    dp = f"DP, epsilon {t.privacy.epsilon:.3g}" if t.privacy is not None else "deployed model"
    metrics = []
    for row in t.comparison:
        if row.model is not None:
            metrics.append({"type": row.name, "value": row.model, "name": f"{row.name} ({dp})"})
        if row.baseline is not None:
            metrics.append({"type": row.name, "value": row.baseline, "name": f"{row.name} (non-private baseline)"})
    return {
        "name": ev.run.system or ev.run.project,
        "results": [
            {
                "task": {"type": t.task.name, "name": t.task.description},
                "dataset": {"type": dataset, "name": dataset, "split": f"held-out ({t.test_rows:,} rows)"},
                "metrics": metrics,
            }
        ],
    }


def model_card(ev: Evidence) -> str:
    t = ev.training
    lines = ["---", yaml.safe_dump(card_metadata(ev), sort_keys=True, allow_unicode=True).rstrip(), "---", ""]
    lines += [f"# {ev.run.system or ev.run.project}", ""]
    lines += [
        f"Audited by auditor {ev.run.versions.auditor} on {ev.run.started_at}: "
        f"**{ev.verdict.upper()}** ({ev.summary.line}).",
        "",
    ]
    if t is not None:
        lines += ["## Model", "", f"- Architecture: {t.model.architecture} ({num(t.model.parameters)} parameters)"]
        target = f" of `{ev.data.target}`" if ev.data is not None else ""
        classes = f" ({', '.join(t.model.classes)})" if t.model.classes else ""
        lines += [f"- Task: {t.task.name}{target}{classes}: {t.task.description}"]
        lines += [f"- Layer rewritten for DP-SGD: `{r.before}` → `{r.after}`" for r in t.model.rewrites]
        if t.model.pretrained is not None:
            pm = t.model.pretrained
            lines += [
                f"- Base model: {pm.base_model} ({pm.architecture}, {num(pm.total_parameters)} parameters, "
                f"weights SHA-256 `{pm.weights_sha256}`)",
                f"- Fine-tune: {pm.fine_tune_description}; {num(pm.trainable_parameters)} trainable parameters",
            ]
        label = "Text columns" if t.text is not None else "Features"
        lines += [f"- {label} ({len(t.features)}): {', '.join(t.features)}", ""]
        lines += ["## Privacy", ""]
        if t.privacy is not None:
            p = t.privacy
            lines += [
                f"Trained with DP-SGD (Opacus {ev.run.versions.opacus}): "
                f"({num(p.epsilon)}, {num(p.delta)})-DP for {p.unit}, "
                f"{p.accountant.upper()} accountant, noise multiplier {num(p.noise_multiplier)}, "
                f"clipping norm {p.max_grad_norm}, "
                f"{p.steps} steps with Poisson sampling (q = {num(p.sample_rate)}).",
                "",
            ]
        else:
            lines += ["Trained **without** differential privacy.", ""]
        excluded = ", ".join(x.name for x in t.excluded_columns)
        if t.text is not None:
            lines += [
                f"The model reads the text column(s) {', '.join(t.features)} as they are: the personal data the "
                f"PII scan found in them went into training. Other columns are not inputs: {excluded or 'none'}.",
                "",
            ]
        else:
            lines += [
                f"Columns excluded from the features: {excluded or 'none'}. "
                "Direct identifiers found by the PII scan are never features.",
                "",
            ]
        lines += ["## Evaluation", "", "| Metric | Non-private baseline | This model |", "|---|---|---|"]
        for row in t.comparison:
            base = num(row.baseline, 4) if t.baseline else "n/a"
            lines.append(f"| {row.name} | {base} | {num(row.model, 4)} |")
        lines.append("")
        if t.groups is not None:
            lines += [
                f"Gap in {t.groups.metric} across `{t.groups.attribute}` groups: {num(t.groups.gap_dp, 4)} "
                f"(baseline {num(t.groups.gap_baseline, 4)}).",
                "",
            ]
    if ev.energy is not None:
        e = ev.energy
        lines += ["## Sustainability", ""]
        lines += [
            f"Whole audited run: {energy(e.total.energy_kwh)}, {mass(e.total.emissions_kg)} "
            f"at {num(e.carbon_intensity_g_per_kwh)} g/kWh "
            f"({e.country_name}, location-based), PUE {e.pue}. CPU energy {e.method.cpu.status}: {e.method.cpu.how}.",
            "",
        ]
        if t is not None:
            lines += [f"Training compute: {t.flops_estimate:.3e} FLOP; training time {num(t.training_seconds)} s.", ""]
            if e.kwh_per_1000_tokens is not None:
                lines += [f"Training energy per 1,000 tokens: {energy(e.kwh_per_1000_tokens)}.", ""]
    if ev.pii is not None and ev.data is not None:
        lines += ["## Training data", ""]
        lines += [
            f"{num(ev.data.rows)} rows (SHA-256 `{ev.data.sha256}`). The PII scan found personal data in "
            f"{pct(ev.pii.rows_with_pii_share)} of rows; "
            f"direct-identifier columns: {', '.join(ev.pii.direct_identifiers) or 'none'}.",
            "",
        ]
    return "\n".join(lines)


class ModelCardRenderer(Renderer):
    name = "modelcard"
    filename = "README.md"

    def render(self, evidence: Evidence, context: RenderContext) -> bytes:
        return model_card(evidence).encode("utf-8")


register(ModelCardRenderer())
