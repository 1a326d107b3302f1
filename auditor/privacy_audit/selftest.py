"""``audit selftest privacy``: would the audits notice broken DP?

The self-test reads the data as ``audit run`` does (data, scan, anonymisation),
then trains the DP model three times from the same initial weights and
canaries: correctly, with the noise removed, and with the noise multiplier
halved. The claim (sigma, q, steps, and so epsilon) is the correct run's in
all three. Each run is audited white-box (gradient canaries) and black-box
(data canaries, and membership inference for reference). An audit catches a
run when its lower bound epsilon-hat exceeds the claimed epsilon; on the
correct run it must not.

The sabotage is reachable only from here: no configuration can weaken the noise.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from auditor import stage_names as names
from auditor.config import AuditConfig
from auditor.energy import EnergyMeter
from auditor.errors import InputError
from auditor.evidence import CanaryAudit, GradientAudit, PiiSection
from auditor.privacy_audit.audit import canary_audit, membership_inference
from auditor.privacy_audit.canaries import make_canaries, with_canaries
from auditor.privacy_audit.gradient import GradientProbe, white_box_audit
from auditor.progress import NoProgress, Progress
from auditor.stages import RunContext, run_order
from auditor.train.accounting import final_epsilon, plan_privacy
from auditor.train.loop import train_private
from auditor.train.metrics import task_score
from auditor.train.stage import TrainArtifacts, pick_device

VARIANTS: tuple[tuple[str, float], ...] = (
    ("correct", 1.0),
    ("noise removed", 0.0),
    ("noise multiplier halved", 0.5),
)


@dataclass(frozen=True)
class SelftestRow:
    run: str
    noise_scale: float
    """Noise actually added, as a multiple of the claimed noise."""
    white_box: GradientAudit
    black_box: CanaryAudit | None
    mia_auc: float | None

    @property
    def broken(self) -> bool:
        return self.noise_scale < 1.0

    def caught(self, audit: CanaryAudit | GradientAudit | None) -> bool | None:
        if audit is None or audit.epsilon_theoretical is None:
            return None
        return audit.epsilon_lower_bound > audit.epsilon_theoretical


@dataclass
class SelftestResult:
    seed: int
    epsilon: float
    delta: float
    noise_multiplier: float
    steps: int
    rows: list[SelftestRow] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """The white-box audit stayed below epsilon on the correct run and caught both broken runs."""
        return all(row.caught(row.white_box) is row.broken for row in self.rows)


def _read_data(config: AuditConfig, seed: int) -> RunContext:
    """Run the stages before training (data, scan, anonymisation), energy off."""
    quiet = config.energy.model_copy(update={"enabled": False})
    ctx = RunContext(config=config, seed=seed, meter=EnergyMeter(quiet), progress=NoProgress())
    for stage in run_order():
        if stage.name not in (names.DATA, names.PII, names.ANONYMISE) or stage.skip_reason(ctx) is not None:
            continue
        section = stage.run(ctx)
        if stage.section is not None and section is not None:
            ctx.sections[stage.section] = section
    return ctx


def selftest_privacy(config: AuditConfig, seed: int | None = None, progress: Progress | None = None) -> SelftestResult:
    from auditor.stages.train import resolve_task

    if not config.train.privacy.enabled:
        raise InputError("the privacy self-test needs train.privacy.enabled: true")
    progress = progress or NoProgress()
    seed = config.seed if seed is None else seed
    started = time.perf_counter()
    ctx = _read_data(config, seed)
    task, _ = resolve_task(ctx)
    problem = task.accepts(ctx.loaded())
    if problem is not None:
        raise InputError(f"task {task.name} {problem} (train.task)")
    cfg = config.train
    prepared = task.prepare(ctx.loaded(), ctx.section("pii", PiiSection), cfg, seed)
    canaries = make_canaries(config.audit, task, prepared, seed)
    x, y = with_canaries(prepared.x_train, prepared.y_train, canaries)
    plan = plan_privacy(len(x), cfg.batch_size, cfg.epochs, cfg.privacy)
    torch.manual_seed(seed)
    weights = config.resolve(cfg.init_weights) if cfg.init_weights else None
    initial = task.build_model(prepared, cfg, weights).module.to(pick_device(cfg.device))
    requested = config.audit.gradient_canaries if config.audit.gradient_canaries != 0 else "auto"
    result = SelftestResult(seed, 0.0, plan.delta, plan.noise_multiplier, plan.steps)
    progress.begin("selftest", total=len(VARIANTS) * cfg.epochs, unit="epochs")
    for name, scale in VARIANTS:
        probe = GradientProbe(
            requested, plan.sample_rate, plan.noise_multiplier, cfg.privacy.max_grad_norm, seed, cfg.privacy.secure_rng
        )
        fit, steps = train_private(
            copy.deepcopy(initial),
            x,
            y,
            prepared.x_test,
            prepared.y_test,
            cfg,
            plan,
            seed,
            lambda _e, _n: progress.advance(1),
            loss_fn=task.loss,
            score=task_score(task, prepared),
            instrument=_sabotaged(probe, plan.noise_multiplier * scale),
        )
        epsilon = final_epsilon(plan, steps).epsilon
        result.epsilon = epsilon
        if probe.canaries is None:
            raise InputError(f"the model is too small for the white-box audit: {probe.note}")
        confidence = config.audit.confidence
        white = white_box_audit(probe.canaries, plan.delta, confidence, epsilon, seed)
        black = canary_audit(task, canaries, initial, fit.model, plan.delta, confidence, epsilon)
        artifacts = TrainArtifacts(task, prepared, x, y, initial, fit.model, None)
        real_rows = len(x) - int(canaries.included.sum())
        mia = membership_inference(artifacts, fit.model, name, seed, real_rows)
        result.rows.append(SelftestRow(name, scale, white, black, mia.auc))
    progress.end("ok")
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _sabotaged(probe: GradientProbe, noise_multiplier: float) -> Callable[[Any], None]:
    """Instrument the optimizer: the probe's canaries, and the noise actually added (the claim is unchanged)."""

    def instrument(optimizer: Any) -> None:
        optimizer.noise_multiplier = noise_multiplier
        probe(optimizer)

    return instrument
