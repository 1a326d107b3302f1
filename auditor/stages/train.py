"""The train stage: the task's model trained with DP-SGD, next to a non-private baseline."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from auditor import stage_names as names
from auditor.config import PiiConfig
from auditor.errors import InputError
from auditor.evidence import PiiSection, TaskInfo, TrainingSection
from auditor.evidence._base import Record
from auditor.privacy_audit import make_canaries, with_canaries
from auditor.privacy_audit.exposure import make_exposure_canaries
from auditor.stages.base import RunContext, Stage, register
from auditor.tasks import get_task, infer_task
from auditor.tasks.base import Task
from auditor.tasks.causal_lm import CausalLanguageModel
from auditor.train.stage import train_models
from auditor.train.subjects import subject_column, with_canary_subjects


def _flagged(pii: PiiSection | None, column: str | None) -> bool:
    """Whether the scan found personal data in ``column``."""
    if pii is None or column is None:
        return False
    return any(c.name == column and (c.rows_with_pii > 0 or c.identifier == "direct") for c in pii.columns)


def coded_labels(
    section: TrainingSection,
    pii: PiiSection | None,
    target: str,
    attribute: str | None,
    labels: Any,
    pii_config: PiiConfig | None = None,
) -> TrainingSection:
    """Class labels and group names that are personal data never leave the train stage raw: the column was
    flagged by the scan, or a value itself holds a direct identifier (``auditor/pii/labels.py``).

    They become 'class 1', 'group 2'... with their counts (training rows per class, held-out rows
    per group); every output renders the coded names."""
    from auditor.pii.labels import personal_values

    update: dict[str, Any] = {}
    classes = section.model.classes
    if classes and (_flagged(pii, target) or personal_values(classes, pii_config)):
        counts = [int((labels == i).sum()) for i in range(len(section.model.classes))]
        coded = [f"class {i + 1} ({n:,} training rows)" for i, n in enumerate(counts)]
        update["model"] = section.model.model_copy(update={"classes": coded})
    groups = section.groups
    if groups is not None and (_flagged(pii, attribute) or personal_values([r.group for r in groups.rows], pii_config)):
        rows = [r.model_copy(update={"group": f"group {i + 1}"}) for i, r in enumerate(groups.rows)]
        update["groups"] = groups.model_copy(update={"rows": rows})
    return section.model_copy(update=update) if update else section


def resolve_task(ctx: RunContext) -> tuple[Task, TaskInfo]:
    data = ctx.loaded()
    configured = ctx.config.train.task
    if configured is not None:
        task, source, reason = get_task(configured), "config", "set in train.task"
    else:
        task, reason = infer_task(data)
        source = "inferred"
    info = TaskInfo(name=task.name, family=task.family, description=task.description, source=source, reason=reason)
    return task, info


class TrainStage(Stage):
    name: ClassVar[str] = names.TRAIN
    description: ClassVar[str] = "DP training next to the non-private baseline."
    # A failed anonymisation stops training: it never falls back to the raw text.
    depends_on: ClassVar[tuple[str, ...]] = (names.DATA, names.PII, names.ANONYMISE)
    section: ClassVar[str | None] = "training"
    model: ClassVar[type[Record] | None] = TrainingSection

    def run(self, ctx: RunContext) -> Record:
        config = ctx.config
        task, info = resolve_task(ctx)
        data = ctx.loaded()
        problem = task.accepts(data)
        if problem is not None:
            raise InputError(f"task {task.name} {problem} (train.task)", where=str(data.path))
        pii = ctx.section("pii", PiiSection)
        prepared = task.prepare(data, pii, config.train, ctx.seed)
        subjects = subject_column(data, pii, prepared)
        if config.train.privacy.unit == "subject" and (subjects is None or subjects.source != "config"):
            raise InputError(f"train.privacy.unit: subject needs a table; task {task.name} has no data.subject_id")
        codes = subjects.codes if subjects is not None else None
        x, y = prepared.x_train, prepared.y_train
        canaries = None
        if config.audit.enabled:
            # Canaries join the training set before training, so epsilon is accounted over them too;
            # each canary is a person of its own.
            canaries = make_canaries(config.audit, task, prepared, ctx.seed)
            x, y = with_canaries(x, y, canaries)
            if codes is not None:
                codes = with_canary_subjects(codes, canaries.removed_rows, int(canaries.included.sum()))
        exposure = None
        if config.audit.enabled and config.audit.exposure.enabled and isinstance(task, CausalLanguageModel):
            # Secret Sharer canaries join the anonymised training text (they are not personal data).
            exposure = make_exposure_canaries(config.audit.exposure, ctx.seed)
            ex_x, ex_y = task.encode_texts(prepared, exposure.inserted())
            x, y = torch.cat([x, ex_x]), torch.cat([y, ex_y])
            if codes is not None:
                codes = np.concatenate([codes, np.arange(len(ex_x)) + int(codes.max()) + 1])
        runs = int(config.train.privacy.enabled) + int(config.train.baseline or not config.train.privacy.enabled)
        ctx.progress.begin(self.name, total=runs * config.train.epochs, unit="epochs")
        section, artifacts = train_models(
            config,
            task,
            info,
            prepared,
            ctx.seed,
            x_train=x,
            y_train=y,
            meter=ctx.meter,
            on_epoch=lambda _e, _n: ctx.progress.advance(1),
            subjects=subjects,
            trained_codes=codes,
        )
        ctx.scratch[names.TRAIN] = artifacts
        ctx.scratch["canaries"] = canaries
        ctx.scratch["exposure"] = exposure
        return coded_labels(section, pii, data.target, config.train.sensitive_attribute, prepared.y_train, config.pii)

    def describe(self, section: Any) -> list[str]:
        t: TrainingSection = section
        lines = [
            f"train: task {t.task.name} ({t.task.reason}); {t.model.architecture}, "
            f"{t.model.parameters:,} parameters, {t.train_rows:,} training rows"
        ]
        kinds: dict[tuple[str, str], list[str]] = {}
        for rewrite in t.model.rewrites:
            kinds.setdefault((rewrite.before, rewrite.after), []).append(rewrite.path)
        for (before, after), paths in kinds.items():
            more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
            layers = "layers" if len(paths) > 1 else "layer"
            lines.append(f"train: {layers} {paths[0]}{more} rewritten for DP-SGD: {before} -> {after}")
        if t.model.language_model is not None:
            lm = t.model.language_model
            lines.append(f"train: {lm.architecture} ({lm.source}), LM head {lm.head}; {lm.position_ids}")
        if t.privacy is not None:
            p = t.privacy
            lines.append(
                f"train: epsilon {p.epsilon} at delta {p.delta:.2e} ({p.accountant}); sigma {p.noise_multiplier:.4f}, "
                f"q {p.sample_rate:.4f}, {p.steps} steps, clipping {p.clipping}"
            )
        if t.subjects is not None:
            sj = t.subjects
            per_person = (
                f"; per person epsilon {sj.per_person_epsilon:g}, delta {sj.per_person_delta:.3g}"
                if sj.per_person_epsilon is not None and sj.per_person_delta is not None
                else ""
            )
            lines.append(
                f"train: {sj.subjects:,} people ({sj.source} column), up to {sj.max_rows_per_subject} rows each, "
                f"median {sj.median_rows_per_subject:g}; unit {sj.unit}{per_person}"
            )
        if t.distributed is not None:
            d = t.distributed
            rows = ", ".join(str(r.rows) for r in d.ranks[: d.world_size])
            lines.append(
                f"train: DDP on {d.world_size} ranks over {d.backend} ({d.launcher}); "
                f"per-rank batch {d.per_rank_batch:g}, rows per rank {rows}"
            )
        u = t.utility
        value = "n/a" if u.value is None else f"{u.value:.4f}"
        base = f" (non-private {u.baseline:.4f})" if u.baseline is not None else ""
        lines.append(f"train: held-out {u.metric} {value}{base}; {t.seconds_per_epoch:.2f} s/epoch")
        tv = t.trivial
        interval = (
            f"{tv.confidence:.0%} CI {tv.interval_low:.4f} to {tv.interval_high:.4f}"
            if tv.interval_low is not None and tv.interval_high is not None
            else "no interval"
        )
        lines.append(f"train: error gain over the trivial predictor {tv.improvement:.4f} ({interval}, {tv.rows} rows)")
        return lines


register(TrainStage())
