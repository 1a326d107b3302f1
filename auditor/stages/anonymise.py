"""The anonymise stage: the text columns the task reads are anonymised, then scanned again.

It runs after the scan and before training; the train stage depends on it, so
a failed anonymisation never falls back to training on the raw text. The
canaries join the training set later, inside the train stage.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from typing import Any, ClassVar

from auditor import stage_names as names
from auditor.anonymise.evidence import AnonymisationSection, OperatorUse
from auditor.anonymise.operators import EFFECT, Anonymiser, check_secret, load_secret, operator_for
from auditor.evidence._base import Record
from auditor.pii.entities import DIRECT_ENTITIES
from auditor.privacy_audit.extraction import RawSpansBuilder
from auditor.stages.base import RunContext, Stage, register


class AnonymiseStage(Stage):
    name: ClassVar[str] = names.ANONYMISE
    description: ClassVar[str] = "Anonymise the text columns, then rescan them."
    depends_on: ClassVar[tuple[str, ...]] = (names.DATA,)
    after: ClassVar[tuple[str, ...]] = (names.PII,)
    section: ClassVar[str | None] = "anonymisation"
    model: ClassVar[type[Record] | None] = AnonymisationSection

    def skip_reason(self, ctx: RunContext) -> str | None:
        if not ctx.config.anonymise.enabled:
            return "anonymise.enabled is false"
        return None if ctx.loaded().text else "no text columns (data.text)"

    def run(self, ctx: RunContext) -> Record:
        from auditor.pii.parallel import make_runner
        from auditor.pii.scanner import Scanner

        started = time.perf_counter()
        config = ctx.config.anonymise
        secret, source = load_secret(config, ctx.config.resolve("."))
        check_secret(config, secret)
        data = ctx.loaded()
        frame = data.frame.copy()
        pii = ctx.config.pii
        runner = make_runner(pii.engine, pii.workers, pii.scheduler)
        anonymiser = Anonymiser(config, secret)
        replaced: Counter[str] = Counter()
        residual: Counter[str] = Counter()
        residual_rows: set[int] = set()
        changed: set[int] = set()
        try:
            scanner = Scanner(pii, runner)
            ctx.progress.begin(self.name, total=2 * len(data.text) * len(frame), unit="texts")
            raw = RawSpansBuilder(len(frame))
            for column in data.text:
                texts = ["" if v is None else str(v) for v in frame[column].astype("str").fillna("")]
                spans = scanner.text_spans(column, texts)
                raw.add(frame[column], spans)
                ctx.progress.advance(len(texts))
                out = [anonymiser.anonymise(text, found) for text, found in zip(texts, spans, strict=True)]
                replaced.update(s.entity for found in spans for s in found)
                changed.update(i for i, (a, b) in enumerate(zip(texts, out, strict=True)) if a != b)
                written = anonymiser.outputs
                for row, (text, found) in enumerate(zip(out, scanner.text_spans(column, out), strict=True)):
                    left = [s for s in found if not _inside_output(text, s.start, s.end, written)]
                    residual.update(s.entity for s in left)
                    if left:
                        residual_rows.add(row)
                ctx.progress.advance(len(texts))
                frame[column] = out
        finally:
            runner.close()
        ctx.data = dataclasses.replace(data, frame=frame)
        ctx.scratch["raw_spans"] = raw.build()  # for the extraction test; in memory only
        section = self._section(ctx, data.text, len(frame), replaced, residual, residual_rows, changed, source)
        section = section.model_copy(update={"seconds": round(time.perf_counter() - started, 6)})
        if config.write_to is not None:
            from auditor.anonymise.export import write_anonymised

            columns = [*data.text, data.target]
            write_anonymised(ctx.config.resolve(config.write_to), frame, columns, section, data.sha256)
        return section

    @staticmethod
    def _section(
        ctx: RunContext,
        columns: tuple[str, ...],
        rows: int,
        replaced: Counter[str],
        residual: Counter[str],
        residual_rows: set[int],
        changed: set[int],
        source: str,
    ) -> AnonymisationSection:
        config = ctx.config.anonymise
        entities = sorted(set(replaced) | set(residual))
        uses = [
            OperatorUse(
                entity=e,
                operator=operator_for(config, e),
                effect=EFFECT[operator_for(config, e)],
                replaced=replaced[e],
                residual=residual[e],
            )
            for e in entities
        ]
        return AnonymisationSection(
            columns=list(columns),
            rows=rows,
            operators=uses,
            replaced=sum(replaced.values()),
            residual=sum(residual.values()),
            residual_direct=sum(n for e, n in residual.items() if e in DIRECT_ENTITIES),
            rows_with_residual=len(residual_rows),
            rows_changed=len(changed),
            key_source=source,
            pseudonymised=any(u.effect == "pseudonymised" for u in uses if u.replaced),
            seconds=0.0,
        )

    def describe(self, section: Any) -> list[str]:
        a: AnonymisationSection = section
        return [
            f"anonymise: {a.replaced:,} spans replaced in {a.rows_changed:,} of {a.rows:,} rows; "
            f"rescan finds {a.residual:,} ({a.residual_direct:,} direct identifiers) in {a.rows_with_residual:,} rows"
        ]


def _inside_output(text: str, start: int, end: int, written: set[str]) -> bool:
    """Whether a rescanned span is (part of) a value an operator wrote (a pseudonym, a ciphertext): not a leak."""
    found = text[start:end]
    return bool(found) and any(found in value for value in written)


register(AnonymiseStage())
