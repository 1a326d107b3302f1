"""The language-model memorisation audits of the audit stage: exposure, and PII extraction (causal-lm only)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextlib import AbstractContextManager

from torch import nn

from auditor import stage_names as names
from auditor.config import AuditConfig
from auditor.evidence.memorisation import ExposureAudit, ExtractionAudit
from auditor.privacy_audit.exposure import ExposureCanaries, exposure_audit
from auditor.privacy_audit.extraction import RAW, RawSpans, extraction_audit
from auditor.tasks.causal_lm import CausalLanguageModel, frame_ids, predicted
from auditor.tasks.text_classification import encode
from auditor.train.loop import train_baseline
from auditor.train.metrics import task_score
from auditor.train.stage import TrainArtifacts

DP, BASELINE = "DP model", "non-private baseline"


def _raw_model(artifacts: TrainArtifacts, raw: RawSpans, config: AuditConfig, seed: int) -> nn.Module:
    """A non-private model trained like the baseline, on the raw (not anonymised) training rows."""
    task, prepared = artifacts.task, artifacts.prepared
    assert isinstance(task, CausalLanguageModel) and prepared.train_index is not None
    text = prepared.text
    texts = [raw.texts[i] for i in prepared.train_index.tolist()]
    ids = [frame_ids(text, list(r)) for r in text.tokenizer_object(texts, add_special_tokens=False)["input_ids"]]
    x = encode(ids, text.length, text.pad_id)
    fit = train_baseline(
        copy.deepcopy(artifacts.initial),
        x,
        predicted(x),
        prepared.x_test,
        prepared.y_test,
        config.train,
        seed,
        loss_fn=task.loss,
        score=task_score(task, prepared),
    )
    return fit.model


def memorisation_audits(
    artifacts: TrainArtifacts,
    canaries: ExposureCanaries | None,
    raw: RawSpans | None,
    config: AuditConfig,
    seed: int,
    anonymised: bool,
    track: Callable[[str], AbstractContextManager[None]],
) -> tuple[ExposureAudit | None, ExtractionAudit | None]:
    """Exposure and extraction on the trained models, each in its own energy phase."""
    task = artifacts.task
    if not isinstance(task, CausalLanguageModel):
        return None, None
    private = config.train.privacy.enabled
    models = [(DP if private else "model (no DP)", artifacts.model)]
    if artifacts.baseline is not None:
        models.append((BASELINE, artifacts.baseline))
    exposure = None
    if canaries is not None:
        with track(names.AUDIT_EXPOSURE):
            exposure = exposure_audit(task, artifacts.prepared, canaries, config.audit.exposure, models)
    extraction = None
    if raw is not None and config.audit.extraction_records > 0:
        trained_on = "anonymised text" if anonymised else "raw text"
        runs = [(name, trained_on, model) for name, model in models]
        if config.audit.extraction_raw_baseline and anonymised:  # without anonymisation the baseline is that model
            with track(names.AUDIT_RAW_BASELINE):
                runs.append((RAW, "raw text", _raw_model(artifacts, raw, config, seed)))
        with track(names.AUDIT_EXTRACTION):
            extraction = extraction_audit(raw, artifacts.prepared, config.audit.extraction_records, seed, runs)
    return exposure, extraction
