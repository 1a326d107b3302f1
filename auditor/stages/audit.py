"""The audit stage: the empirical privacy audit of the trained models."""

from __future__ import annotations

from typing import Any, ClassVar

from auditor import stage_names as names
from auditor.evidence import AuditSection, TrainingSection
from auditor.evidence._base import Record
from auditor.privacy_audit import run_audit
from auditor.stages.base import RunContext, Stage, register


class AuditStage(Stage):
    name: ClassVar[str] = names.AUDIT
    description: ClassVar[str] = "The empirical privacy audit: canaries and membership inference."
    depends_on: ClassVar[tuple[str, ...]] = (names.TRAIN,)
    section: ClassVar[str | None] = "audit"
    model: ClassVar[type[Record] | None] = AuditSection

    switch: ClassVar[str | None] = "audit.enabled"

    def skip_reason(self, ctx: RunContext) -> str | None:
        return None if ctx.config.audit.enabled else "audit.enabled is false"

    def run(self, ctx: RunContext) -> Record:
        training = ctx.section("training", TrainingSection)
        assert training is not None, "the audit stage runs after a successful train stage"
        privacy = training.privacy
        delta = privacy.delta if privacy is not None else 1.0 / (10 * training.train_rows)
        exposure = ctx.scratch.get("exposure")
        section = run_audit(
            ctx.scratch[names.TRAIN],
            ctx.scratch.get("canaries"),
            ctx.config.audit,
            privacy.epsilon if privacy is not None else None,
            delta,
            ctx.seed,
            inserted_rows=len(exposure.inserted()) if exposure is not None else 0,
        )
        if training.task.name != "causal-lm":
            return section
        from auditor.privacy_audit.memorisation import memorisation_audits

        anonymised = "raw_spans" in ctx.scratch
        raw = ctx.scratch.get("raw_spans") or _scan_raw(ctx)
        found_exposure, extraction = memorisation_audits(
            ctx.scratch[names.TRAIN], exposure, raw, ctx.config, ctx.seed, anonymised, ctx.meter.track
        )
        return section.model_copy(update={"exposure": found_exposure, "extraction": extraction})

    def describe(self, section: Any) -> list[str]:
        a: AuditSection = section
        lines = []
        if a.canary is not None:
            lines.append(
                f"audit: {a.canary.canaries} canaries, {a.canary.correct}/{a.canary.guesses} guesses right, "
                f"empirical epsilon lower bound {a.canary.epsilon_lower_bound:.3f}"
            )
        if a.gradient is not None:
            g = a.gradient
            lines.append(
                f"audit: white-box, {g.canaries} gradient canaries, noise seen {g.noise_ratio:.3f}x the claim; "
                f"epsilon lower bound {g.epsilon_lower_bound:.3f} (could refute up to {g.max_refutable:.3f})"
            )
        elif a.gradient_note is not None:
            lines.append(f"audit: no white-box audit: {a.gradient_note}")
        if a.mia_dp is not None:
            lines.append(f"audit: membership inference AUC {a.mia_dp.auc:.4f}, advantage {a.mia_dp.advantage:.4f}")
        return lines


def _scan_raw(ctx: RunContext) -> Any:
    """Without the anonymise stage the model trained on the raw text; the extraction test needs its spans."""
    if ctx.config.audit.extraction_records == 0:
        return None
    from auditor.pii.parallel import make_runner
    from auditor.pii.scanner import Scanner
    from auditor.privacy_audit.extraction import RawSpansBuilder

    data = ctx.loaded()
    pii = ctx.config.pii
    runner = make_runner(pii.engine, pii.workers, pii.scheduler)
    builder = RawSpansBuilder(len(data.frame))
    try:
        scanner = Scanner(pii, runner)
        for column in data.text:
            texts = ["" if v is None else str(v) for v in data.frame[column].astype("str").fillna("")]
            builder.add(data.frame[column], scanner.text_spans(column, texts))
    finally:
        runner.close()
    return builder.build()


register(AuditStage())
