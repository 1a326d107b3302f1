"""The train stage: DP-SGD next to a non-private baseline, on the same split and initial weights."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch
from torch import nn

from auditor.config import AuditConfig, TrainConfig
from auditor.data.fingerprint import file_sha256
from auditor.evidence import Baseline, ModelInfo, Privacy, TrainingSection
from auditor.train.accounting import CROSSCHECK, epsilon_curve, final_epsilon, plan_privacy
from auditor.train.flops import flops_per_sample
from auditor.train.groups import group_metrics
from auditor.train.loop import EpochCallback, Fit, make_optimizer, train_baseline, train_private
from auditor.train.metrics import compute_metrics, predict
from auditor.train.models import build_model, count_parameters, describe
from auditor.train.preprocess import Prepared

SECURE_MODE_NOTE = (
    "off: Opacus secure_mode needs torchcsprng, which pins torch 1.8.1 and cannot be installed with "
    "modern torch (opacus#504); noise comes from torch's default PRNG, seeded for reproducibility"
)
UNIT = "one row (example-level DP); a person with several rows is protected only per row"

Track = Callable[[str], AbstractContextManager[None]]


@dataclass
class TrainArtifacts:
    prepared: Prepared
    x_train: torch.Tensor
    y_train: torch.Tensor
    initial: nn.Module
    model: nn.Module
    baseline: nn.Module | None


def pick_device(requested: str) -> torch.device:
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def _no_track(_: str) -> AbstractContextManager[None]:
    return nullcontext()


def _warm_up(model: nn.Module, x: torch.Tensor, y: torch.Tensor, config: TrainConfig) -> None:
    """One throwaway step on a copy, outside the measured phases.

    PyTorch imports parts of itself lazily on the first optimizer and the first
    backward pass (about a second); without this the baseline, trained first,
    would be charged for it in both time and energy.
    """
    scratch = copy.deepcopy(model)
    optimizer = make_optimizer(scratch, config)
    device = next(scratch.parameters()).device
    n = min(len(x), config.batch_size)
    torch.autograd.backward([nn.functional.cross_entropy(scratch(x[:n].to(device)), y[:n].to(device))])
    optimizer.step()


def train_models(
    config: AuditConfig,
    prepared: Prepared,
    seed: int,
    x_train: torch.Tensor | None = None,
    y_train: torch.Tensor | None = None,
    track: Track = _no_track,
    on_epoch: EpochCallback | None = None,
) -> tuple[TrainingSection, TrainArtifacts]:
    """Train the baseline and the DP model; ``x_train``/``y_train`` may carry canaries added by the audit."""
    cfg = config.train
    x = prepared.x_train if x_train is None else x_train
    y = prepared.y_train if y_train is None else y_train
    device = pick_device(cfg.device)
    torch.manual_seed(seed)
    weights = config.resolve(cfg.init_weights) if cfg.init_weights else None
    initial = build_model(cfg.model, prepared.input_shape, len(prepared.classes), cfg.hidden_layers, weights)
    initial = initial.to(device)
    _warm_up(initial, x, y, cfg)
    started = time.perf_counter()
    baseline_fit: Fit | None = None
    if cfg.baseline or not cfg.privacy.enabled:
        with track("train.baseline"):
            baseline_fit = train_baseline(
                copy.deepcopy(initial), x, y, prepared.x_test, prepared.y_test, cfg, seed, on_epoch
            )
    privacy: Privacy | None = None
    if cfg.privacy.enabled:
        plan = plan_privacy(len(x), cfg.batch_size, cfg.epochs, cfg.privacy)
        with track("train.dp"):
            fit, steps = train_private(
                copy.deepcopy(initial), x, y, prepared.x_test, prepared.y_test, cfg, plan, seed, on_epoch
            )
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
            unit=UNIT,
            secure_mode=False,
            secure_mode_note=SECURE_MODE_NOTE,
            includes_canaries=len(x) != len(prepared.x_train),
            epsilon_curve=epsilon_curve(plan, accountant, steps),
        )
        main_fit = fit
    else:
        assert baseline_fit is not None
        main_fit, baseline_fit = baseline_fit, None
    training_seconds = time.perf_counter() - started
    labels = prepared.y_test.numpy()
    main_probs = predict(main_fit.model, prepared.x_test)
    baseline_section = None
    baseline_pred = None
    if baseline_fit is not None:
        base_probs = predict(baseline_fit.model, prepared.x_test)
        baseline_pred = base_probs.argmax(axis=1)
        baseline_section = Baseline(
            metrics=compute_metrics(base_probs, labels),
            seconds_per_epoch=round(baseline_fit.seconds_per_epoch, 6),
            epochs=cfg.epochs,
            curve=baseline_fit.curve,
        )
    groups = None
    if prepared.groups_test is not None and cfg.sensitive_attribute:
        groups = group_metrics(
            cfg.sensitive_attribute, prepared.groups_test, labels, main_probs.argmax(axis=1), baseline_pred
        )
    per_sample = flops_per_sample(
        copy.deepcopy(initial), x[: min(len(x), 64)].to(device), y[: min(len(y), 64)].to(device)
    )
    runs = (1 if cfg.privacy.enabled else 0) + (1 if baseline_fit is not None else 0)
    section = TrainingSection(
        model=ModelInfo(
            name=cfg.model,
            architecture=describe(initial),
            parameters=count_parameters(initial),
            task="binary" if len(prepared.classes) == 2 else "multiclass",
            classes=prepared.classes,
            device=str(device),
            init_weights_sha256=file_sha256(weights) if weights else None,
        ),
        privacy=privacy,
        metrics=compute_metrics(main_probs, labels),
        seconds_per_epoch=round(main_fit.seconds_per_epoch, 6),
        curve=main_fit.curve,
        baseline=baseline_section,
        features=prepared.features,
        excluded_columns=prepared.excluded,
        quasi_identifiers_in_features=prepared.quasi_identifiers,
        k_anonymity_features=prepared.k_features,
        train_rows=len(prepared.x_train),
        test_rows=len(prepared.x_test),
        flops_estimate=float(per_sample * len(x) * cfg.epochs * max(runs, 1)),
        training_seconds=round(training_seconds, 6),
        groups=groups,
    )
    artifacts = TrainArtifacts(
        prepared=prepared,
        x_train=x,
        y_train=y,
        initial=initial,
        model=main_fit.model,
        baseline=baseline_fit.model if baseline_fit is not None else None,
    )
    return section, artifacts
