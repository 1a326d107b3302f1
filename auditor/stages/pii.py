"""The pii stage: the Presidio scan of every column."""

from __future__ import annotations

from typing import Any, ClassVar

from auditor import stage_names as names
from auditor.data import get_loader, read_options
from auditor.evidence import PiiSection
from auditor.evidence._base import Record
from auditor.pii.parallel import make_runner
from auditor.pii.partitioned import scan_dataset
from auditor.pii.scanner import Scanner
from auditor.pii.semantics import extra_special_categories
from auditor.stages.base import RunContext, Stage, register


class PiiStage(Stage):
    name: ClassVar[str] = names.PII
    description: ClassVar[str] = "The personal-data scan: per-column profile, special categories, k-anonymity."
    depends_on: ClassVar[tuple[str, ...]] = (names.DATA,)
    section: ClassVar[str | None] = "pii"
    model: ClassVar[type[Record] | None] = PiiSection

    switch: ClassVar[str | None] = "pii.enabled"

    def skip_reason(self, ctx: RunContext) -> str | None:
        return None if ctx.config.pii.enabled else "pii.enabled is false"

    def run(self, ctx: RunContext) -> Record:
        config = ctx.config
        data = ctx.loaded()
        loader = get_loader(data.readable, data.format)
        runner = make_runner(config.pii.engine, config.pii.workers, config.pii.scheduler)
        try:
            ctx.progress.begin(self.name, total=None, unit="rows")
            scanner = Scanner(config.pii, runner=runner)
            section = scan_dataset(
                scanner, loader, data.readable, read_options(config), on_progress=ctx.progress.advance
            )
            found = {(s.column, s.category) for s in section.special_categories}
            extra = [s for s in extra_special_categories(config, data.frame) if (s.column, s.category) not in found]
            return section.model_copy(update={"special_categories": [*section.special_categories, *extra]})
        finally:
            runner.close()

    def describe(self, section: Any) -> list[str]:
        pii: PiiSection = section
        lines = [
            f"pii: {pii.rows_with_pii:,} of {pii.rows_scanned:,} rows hold personal data; "
            f"{pii.findings:,} findings; {pii.scan.rows_per_second:,.0f} rows/s on {pii.scan.workers} worker(s)"
        ]
        for column in pii.columns:
            if column.rows_with_pii:
                entities = ", ".join(f"{k} {v:,}" for k, v in sorted(column.entities.items()))
                samples = "; ".join(column.masked_examples)
                lines.append(f"pii: column {column.name} ({column.kind}): {entities}; masked: {samples}")
        if pii.k_anonymity.k is not None:
            lines.append(
                f"pii: k-anonymity k = {pii.k_anonymity.k} over {', '.join(pii.k_anonymity.quasi_identifiers)}"
            )
        return lines


register(PiiStage())
