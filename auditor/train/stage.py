"""The train stage: DP-SGD next to a non-private baseline, on the same split and initial weights.

Everything task-specific (the loss, the metrics, the trivial predictor) comes
from the task; this module only trains and assembles the evidence.
"""

from __future__ import annotations

import copy
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from auditor.config import AuditConfig, TrainConfig
from auditor.data.fingerprint import file_sha256
from auditor.energy.meter import EnergyMeter
from auditor.errors import InputError
from auditor.evidence import (
    Baseline,
    LayerRewrite,
    MetricRow,
    ModelInfo,
    Privacy,
    TaskInfo,
    TrainingSection,
    TrivialComparison,
    Utility,
)
from auditor.stage_names import TRAIN_BASELINE, TRAIN_DP
from auditor.tasks.base import BuiltModel, Prepared, Task
from auditor.train.accounting import CROSSCHECK, epsilon_curve, final_epsilon, plan_privacy
from auditor.train.flops import flops_per_sample
from auditor.train.groups import group_metrics
from auditor.train.loop import EpochCallback, Fit, LossFn, make_optimizer, train_baseline, train_private
from auditor.train.metrics import model_outputs, paired_interval, task_score
from auditor.train.models import count_parameters, describe
from auditor.train.post import flops_6nd, require_moved, text_inputs, weight_check
from auditor.train.secure import NOTE_OFF, NOTE_ON
from auditor.train.spread import Spread
from auditor.train.subjects import UNIT_EXAMPLE, UNIT_SUBJECT, SubjectColumn, subjects_evidence
from auditor.train.user_level import train_private_subjects

if TYPE_CHECKING:
    from auditor.privacy_audit.gradient import GradientCanaries

CONFIDENCE = 0.95

FLOPS_METHOD = (
    "torch.utils.flop_counter.FlopCounterMode on one forward and backward pass of up to 64 training examples, "
    "scaled by the examples processed (epochs x training examples x runs); per-example clipping and noise "
    "are not counted"
)


@dataclass
class TrainArtifacts:
    task: Task
    prepared: Prepared
    x_train: torch.Tensor
    y_train: torch.Tensor
    initial: nn.Module
    model: nn.Module
    baseline: nn.Module | None
    gradient: GradientCanaries | None = None
    """The white-box audit's gradient canaries, scored during DP training."""
    gradient_note: str | None = None
    """Why there are none, when there are none."""


def pick_device(requested: str) -> torch.device:
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def _no_track(_: str) -> AbstractContextManager[None]:
    return nullcontext()


def _warm_up(model: nn.Module, x: torch.Tensor, y: torch.Tensor, config: TrainConfig, loss_fn: LossFn) -> None:
    """One throwaway step on a copy, outside the measured phases.

    PyTorch imports parts of itself lazily on the first optimizer and the first
    backward pass (about a second); without this the baseline, trained first,
    would be charged for it in both time and energy.
    """
    scratch = copy.deepcopy(model)
    optimizer = make_optimizer(scratch, config)
    device = next(scratch.parameters()).device
    n = min(len(x), config.batch_size)
    torch.autograd.backward([loss_fn(scratch(x[:n].to(device)), y[:n].to(device)).mean()])
    optimizer.step()


def _comparison(metrics: dict[str, float | None], baseline: dict[str, float | None] | None) -> list[MetricRow]:
    rows = []
    for name, value in metrics.items():
        base = baseline.get(name) if baseline is not None else None
        difference = round(value - base, 6) if value is not None and base is not None else None
        rows.append(MetricRow(name=name, baseline=base, model=value, difference=difference))
    return rows


def _trivial(task: Task, prepared: Prepared, outputs: np.ndarray, base_outputs: np.ndarray | None) -> TrivialComparison:
    targets = prepared.y_test.numpy()
    trivial = task.trivial_errors(prepared)
    model = task.errors(outputs, targets)
    mean, low, high = paired_interval(trivial - model, CONFIDENCE)
    base_gain = None
    if base_outputs is not None:
        base_gain = round(float(np.mean(trivial - task.errors(base_outputs, targets))), 6)
    return TrivialComparison(
        loss=task.error_name,
        trivial=task.trivial_name,
        rows=len(trivial),
        model_loss=round(float(model.mean()), 6),
        trivial_loss=round(float(trivial.mean()), 6),
        improvement=round(mean, 6),
        interval_low=None if low is None else round(low, 6),
        interval_high=None if high is None else round(high, 6),
        confidence=CONFIDENCE,
        baseline_improvement=base_gain,
    )


def _model_name(cfg: TrainConfig, built: BuiltModel) -> str:
    if isinstance(cfg.model, str):
        return cfg.model
    if built.pretrained is not None:
        return f"hf:{built.pretrained.base_model}"
    return f"hf:{cfg.model.hf}" if cfg.model.hf is not None else "hf_config:gpt2"


def _kind(task: Task, prepared: Prepared) -> str:
    if task.family in ("regression", "generation"):
        return "regression" if task.family == "regression" else "language-model"
    return "binary" if prepared.output_dim == 2 else "multiclass"


def train_models(
    config: AuditConfig,
    task: Task,
    task_info: TaskInfo,
    prepared: Prepared,
    seed: int,
    x_train: torch.Tensor | None = None,
    y_train: torch.Tensor | None = None,
    meter: EnergyMeter | None = None,
    on_epoch: EpochCallback | None = None,
    subjects: SubjectColumn | None = None,
    trained_codes: np.ndarray | None = None,
) -> tuple[TrainingSection, TrainArtifacts]:
    """Train the baseline and the DP model; ``x_train``/``y_train`` may carry canaries added by the audit.

    ``subjects`` identifies the person behind each real training row; ``trained_codes`` gives a person to
    every row of ``x_train`` (canaries included), which user-level DP (privacy.unit: subject) samples."""
    cfg = config.train
    track = meter.track if meter is not None else _no_track
    x = prepared.x_train if x_train is None else x_train
    y = prepared.y_train if y_train is None else y_train
    device = pick_device(cfg.device)
    torch.manual_seed(seed)
    weights = config.resolve(cfg.init_weights) if cfg.init_weights else None
    built = task.build_model(prepared, cfg, weights)
    initial = built.module.to(device)
    loss_fn, score = task.loss, task_score(task, prepared)
    _warm_up(initial, x, y, cfg, loss_fn)
    started = time.perf_counter()
    baseline_fit: Fit | None = None
    spread = Spread(config, task, prepared, x, y, seed, meter, on_epoch)
    if cfg.baseline or not cfg.privacy.enabled:
        with track(TRAIN_BASELINE):
            if spread.active:
                baseline_fit, _ = spread.fit(TRAIN_BASELINE, copy.deepcopy(initial), None)
            else:
                baseline_fit = train_baseline(
                    copy.deepcopy(initial),
                    x,
                    y,
                    prepared.x_test,
                    prepared.y_test,
                    cfg,
                    seed,
                    on_epoch,
                    loss_fn=loss_fn,
                    score=score,
                )
    privacy: Privacy | None = None
    gradient: GradientCanaries | None = None
    gradient_note: str | None = "train.privacy.enabled is false: there is no DP mechanism to audit"
    if cfg.privacy.enabled:
        by_person = cfg.privacy.unit == "subject"
        if by_person and trained_codes is None:
            raise InputError("train.privacy.unit: subject needs a table with the data.subject_id column")
        people = int(trained_codes.max()) + 1 if by_person and trained_codes is not None else 0
        plan = plan_privacy(people if by_person else len(x), cfg.batch_size, cfg.epochs, cfg.privacy)
        from auditor.privacy_audit.gradient import gradient_probe

        probe, gradient_note = gradient_probe(config, plan, seed, spread.active)
        with track(TRAIN_DP):
            if spread.active:
                fit, steps = spread.fit(TRAIN_DP, copy.deepcopy(initial), plan)
            elif by_person and trained_codes is not None:
                fit, steps = train_private_subjects(
                    copy.deepcopy(initial), x, y, trained_codes, cfg, plan, seed, on_epoch, loss_fn, score, probe
                )
            else:
                fit, steps = train_private(
                    copy.deepcopy(initial),
                    x,
                    y,
                    prepared.x_test,
                    prepared.y_test,
                    cfg,
                    plan,
                    seed,
                    on_epoch,
                    loss_fn=loss_fn,
                    score=score,
                    instrument=probe,
                )
        if probe is not None:
            gradient, gradient_note = probe.canaries, probe.note
        spent = final_epsilon(plan, steps)
        accountant = spent.accountant
        privacy = Privacy(
            accountant=accountant,
            accountant_requested=cfg.privacy.accountant,
            accountant_note=spent.note,
            epsilon=spent.epsilon,
            epsilon_opacus=spent.opacus,
            epsilon_crosscheck=spent.crosscheck,
            crosscheck=CROSSCHECK[accountant] if spent.crosscheck is not None else None,
            delta=plan.delta,
            delta_source=plan.delta_source,
            target_epsilon=plan.target_epsilon,
            noise_multiplier=plan.noise_multiplier,
            sample_rate=plan.sample_rate,
            expected_batch_size=plan.expected_batch_size,
            steps=steps,
            epochs=cfg.epochs,
            max_grad_norm=cfg.privacy.max_grad_norm,
            poisson_sampling=True,
            clipping=fit.clipping,
            unit=UNIT_SUBJECT if by_person else UNIT_EXAMPLE,
            secure_mode=cfg.privacy.secure_rng,
            secure_mode_note=NOTE_ON if cfg.privacy.secure_rng else NOTE_OFF,
            includes_canaries=len(x) != len(prepared.x_train),
            epsilon_curve=epsilon_curve(plan, accountant, steps, spent.epsilon),
        )
        main_fit = fit
    else:
        assert baseline_fit is not None
        main_fit, baseline_fit = baseline_fit, None
    training_seconds = time.perf_counter() - started
    checks = [weight_check("DP model" if privacy is not None else "model", initial, main_fit.model)]
    if baseline_fit is not None:
        checks.append(weight_check("non-private baseline", initial, baseline_fit.model))
    for check in checks:
        require_moved(check, private=privacy is not None and check is checks[0])
    targets = prepared.y_test.numpy()
    outputs = model_outputs(main_fit.model, prepared.x_test)
    metrics = task.metrics(outputs, targets, prepared)
    baseline_section = None
    base_outputs = None
    if baseline_fit is not None:
        base_outputs = model_outputs(baseline_fit.model, prepared.x_test)
        baseline_section = Baseline(
            metrics=task.metrics(base_outputs, targets, prepared),
            seconds_per_epoch=round(baseline_fit.seconds_per_epoch, 6),
            epochs=cfg.epochs,
            curve=baseline_fit.curve,
        )
    groups = None
    if prepared.groups_test is not None and cfg.sensitive_attribute:
        groups = group_metrics(cfg.sensitive_attribute, task, prepared, outputs, base_outputs)
    per_sample = flops_per_sample(
        copy.deepcopy(initial), x[: min(len(x), 64)].to(device), y[: min(len(y), 64)].to(device), loss_fn
    )
    runs = (1 if cfg.privacy.enabled else 0) + (1 if baseline_fit is not None else 0)
    passes = len(x) * cfg.epochs * max(runs, 1)
    text = None
    if prepared.text is not None:
        text = text_inputs(
            prepared,
            cfg,
            x,
            main_fit.seconds_per_epoch or None,
            baseline_fit.seconds_per_epoch if baseline_fit is not None else None,
        )
    base_metrics = baseline_section.metrics if baseline_section else None
    primary = metrics.get(task.primary_metric)
    base_primary = base_metrics.get(task.primary_metric) if base_metrics else None
    section = TrainingSection(
        task=task_info,
        model=ModelInfo(
            name=_model_name(cfg, built),
            architecture=describe(initial) if built.pretrained is None else built.pretrained.architecture,
            parameters=count_parameters(initial),
            kind=_kind(task, prepared),
            output_dim=prepared.output_dim,
            classes=prepared.classes,
            device=str(device),
            init_weights_sha256=file_sha256(weights) if weights else None,
            rewrites=[LayerRewrite(path=r.path, before=r.before, after=r.after) for r in built.rewrites],
            pretrained=built.pretrained,
            language_model=built.language_model,
        ),
        privacy=privacy,
        metrics=metrics,
        utility=Utility(
            metric=task.primary_metric,
            higher_is_better=task.higher_is_better,
            value=primary,
            baseline=base_primary,
            difference=round(primary - base_primary, 6) if primary is not None and base_primary is not None else None,
        ),
        comparison=_comparison(metrics, base_metrics),
        trivial=_trivial(task, prepared, outputs, base_outputs),
        seconds_per_epoch=round(main_fit.seconds_per_epoch, 6),
        time_ratio=(
            round(main_fit.seconds_per_epoch / baseline_fit.seconds_per_epoch, 6)
            if baseline_fit is not None and baseline_fit.seconds_per_epoch > 0
            else None
        ),
        curve_metric=task.primary_metric,
        curve=main_fit.curve,
        baseline=baseline_section,
        features=prepared.features,
        excluded_columns=prepared.excluded,
        quasi_identifiers_in_features=prepared.quasi_identifiers,
        k_anonymity_features=prepared.k_features,
        train_rows=len(prepared.x_train),
        test_rows=len(prepared.x_test),
        training_examples=len(x),
        delta_limit=1.0 / (people if privacy is not None and people else len(x)),
        delta_units=people if privacy is not None and people else len(x),
        flops_estimate=float(per_sample * passes),
        flops_method=FLOPS_METHOD,
        flops_6nd=flops_6nd(initial, passes * int(x.shape[-1])) if text is not None else None,
        text=text,
        weights_changed=checks,
        training_seconds=round(training_seconds, 6),
        groups=groups,
        distributed=spread.evidence(),
        subjects=(
            subjects_evidence(
                subjects,
                cfg.privacy.unit,
                privacy.epsilon if privacy else None,
                privacy.delta if privacy else None,
            )
            if subjects is not None
            else None
        ),
    )
    artifacts = TrainArtifacts(
        task=task,
        prepared=prepared,
        x_train=x,
        y_train=y,
        initial=initial,
        model=main_fit.model,
        baseline=baseline_fit.model if baseline_fit is not None else None,
        gradient=gradient,
        gradient_note=gradient_note,
    )
    return section, artifacts
