from __future__ import annotations

from auditor.privacy_audit import run_audit
from auditor.stages.base import RunContext, Stage, register


class AuditStage(Stage):
    name = "audit"
    depends_on = ("train",)

    def skip_reason(self, ctx: RunContext) -> str | None:
        return None if ctx.config.audit.enabled else "audit.enabled is false"

    def run(self, ctx: RunContext) -> None:
        assert ctx.training is not None, "the audit stage runs after a successful train stage"
        ctx.progress.begin("audit")
        privacy = ctx.training.privacy
        delta = privacy.delta if privacy is not None else 1.0 / (10 * ctx.training.train_rows)
        ctx.audit = run_audit(
            ctx.scratch["train"],
            ctx.scratch.get("canaries"),
            ctx.config.audit,
            privacy.epsilon if privacy is not None else None,
            delta,
            ctx.seed,
        )


register(AuditStage())
