from __future__ import annotations

from auditor.data import get_loader, read_options
from auditor.pii.parallel import make_runner
from auditor.pii.scanner import Scanner
from auditor.stages.base import RunContext, Stage, register


class PiiStage(Stage):
    name = "pii"

    def skip_reason(self, ctx: RunContext) -> str | None:
        return None if ctx.config.pii.enabled else "pii.enabled is false"

    def run(self, ctx: RunContext) -> None:
        config = ctx.config
        loader = get_loader(ctx.data.path, ctx.data.format)
        runner = make_runner(config.pii.engine, config.pii.workers, config.pii.scheduler)
        try:
            ctx.progress.begin("pii", total=None, unit="rows")
            scanner = Scanner(config.pii, runner=runner)
            ctx.pii = scanner.scan(
                loader.iter_text_chunks(ctx.data.path, read_options(config)), on_progress=ctx.progress.advance
            )
        finally:
            runner.close()


register(PiiStage())
