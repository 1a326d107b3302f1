"""Score canaries and members after training, and turn the guesses into evidence."""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from auditor.config import PrivacyAuditConfig
from auditor.evidence import AuditSection, CanaryAudit, MiaResult
from auditor.evidence.audit import CanaryKind
from auditor.privacy_audit.bound import epsilon_lower_bound
from auditor.privacy_audit.canaries import CanarySet
from auditor.privacy_audit.gradient import white_box_audit
from auditor.privacy_audit.mia import attack
from auditor.tasks.base import Task
from auditor.train.metrics import model_outputs
from auditor.train.stage import TrainArtifacts

GUESS_FRACTIONS = (0.05, 0.1, 0.2)
MAX_MEMBERS = 5000

NOTE = (
    "epsilon_hat is a statistical lower bound from one training run: exceeding epsilon would prove the "
    "DP implementation broken; staying below it proves nothing about privacy. Guesses use the top and "
    "bottom k canaries by loss drop for k in {5, 10, 20}% of m, with a Bonferroni-corrected confidence."
)


def _losses(task: Task, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """The task's per-example losses: what membership and canary audits score."""
    return task.example_losses(model_outputs(model, x), y)


def power(m: int, delta: float, confidence: float) -> float:
    """The largest epsilon the audit could refute with m canaries: every guess right, at the best k."""
    ks = guess_sizes(m)
    per_test = 1 - (1 - confidence) / len(ks)
    return max(epsilon_lower_bound(m, 2 * k, 2 * k, delta, per_test) for k in ks)


def guess_sizes(m: int) -> list[int]:
    return sorted({max(1, round(m * f)) for f in GUESS_FRACTIONS if 2 * max(1, round(m * f)) <= m}) or [1]


def audit_scores(
    kind: CanaryKind,
    scores: np.ndarray,
    included: np.ndarray,
    delta: float,
    confidence: float,
    epsilon: float | None,
    note: str = NOTE,
) -> CanaryAudit:
    """Guess 'in' for the k highest scores and 'out' for the k lowest; the best k's bound, Bonferroni-corrected."""
    order = np.argsort(-scores, kind="stable")
    m = len(scores)
    ks = guess_sizes(m)
    per_test = 1 - (1 - confidence) / len(ks)
    best = (0.0, ks[0], 0)
    for k in ks:
        guessed_in, guessed_out = order[:k], order[-k:]
        correct = int(included[guessed_in].sum() + (~included[guessed_out]).sum())
        bound = epsilon_lower_bound(m, 2 * k, correct, delta, per_test)
        if bound > best[0] or (bound == best[0] and k == ks[0]):
            best = (bound, k, correct)
    bound, k, correct = best
    return CanaryAudit(
        kind=kind,
        canaries=m,
        included=int(included.sum()),
        guesses=2 * k,
        correct=correct,
        k_plus=k,
        k_minus=k,
        confidence=confidence,
        epsilon_lower_bound=round(bound, 6),
        epsilon_theoretical=epsilon,
        max_refutable=round(power(m, delta, confidence), 6),
        note=note,
    )


def canary_audit(
    task: Task,
    canaries: CanarySet,
    initial: nn.Module,
    final: nn.Module,
    delta: float,
    confidence: float,
    epsilon: float | None,
) -> CanaryAudit:
    """The black-box audit: each canary's loss drop from the initial to the final model."""
    x, y = canaries.features, canaries.labels
    scores = _losses(task, initial, x, y) - _losses(task, final, x, y)
    kind: CanaryKind = "synthetic" if canaries.kind == "synthetic" else "mislabelled"
    return audit_scores(kind, scores, canaries.included, delta, confidence, epsilon)


def membership_inference(
    artifacts: TrainArtifacts, model: nn.Module, name: str, seed: int, real_rows: int
) -> MiaResult:
    """Members: real training rows (canaries excluded); non-members: the held-out split."""
    prepared, task = artifacts.prepared, artifacts.task
    rng = np.random.default_rng(seed + 31)
    n = min(real_rows, len(prepared.x_test), MAX_MEMBERS)
    members = torch.from_numpy(np.sort(rng.choice(real_rows, size=n, replace=False)))
    mx, my = artifacts.x_train[members], artifacts.y_train[members]
    nx, ny = prepared.x_test[:n], prepared.y_test[:n]
    return attack(
        name,
        _losses(task, model, mx, my),
        _losses(task, model, nx, ny),
        _losses(task, artifacts.initial, mx, my),
        _losses(task, artifacts.initial, nx, ny),
    )


def run_audit(
    artifacts: TrainArtifacts,
    canaries: CanarySet | None,
    config: PrivacyAuditConfig,
    epsilon: float | None,
    delta: float,
    seed: int,
    inserted_rows: int = 0,
) -> AuditSection:
    """The canary audits and membership inference; ``inserted_rows`` (exposure canaries, after the real rows
    and the canaries) are never picked as members."""
    started = time.perf_counter()
    dp_name = "DP model" if epsilon is not None else "model (no DP)"
    canary = canary_baseline = None
    if canaries is not None:
        task = artifacts.task
        canary = canary_audit(task, canaries, artifacts.initial, artifacts.model, delta, config.confidence, epsilon)
        if artifacts.baseline is not None:
            canary_baseline = canary_audit(
                task, canaries, artifacts.initial, artifacts.baseline, delta, config.confidence, None
            )
    gradient = None
    if artifacts.gradient is not None and epsilon is not None:
        gradient = white_box_audit(artifacts.gradient, delta, config.confidence, epsilon, seed)
    mia_dp = mia_baseline = None
    real_rows = len(artifacts.x_train) - (int(canaries.included.sum()) if canaries is not None else 0) - inserted_rows
    if config.membership_inference:
        mia_dp = membership_inference(artifacts, artifacts.model, dp_name, seed, real_rows)
        if artifacts.baseline is not None:
            mia_baseline = membership_inference(artifacts, artifacts.baseline, "non-private baseline", seed, real_rows)
    return AuditSection(
        canary=canary,
        canary_baseline=canary_baseline,
        gradient=gradient,
        gradient_note=artifacts.gradient_note if gradient is None else None,
        mia_dp=mia_dp,
        mia_baseline=mia_baseline,
        seconds=round(time.perf_counter() - started, 6),
    )
