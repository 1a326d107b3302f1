"""The white-box audit: Dirac gradient canaries inside DP-SGD, each an independent trial.

auditor runs the training itself, so it can audit the mechanism rather than the
final model (the white-box setting of Nasr et al. 2023, "Tight Auditing of
Differentially Private Machine Learning", and of Steinke, Nasr & Jagielski 2023).

- **Canaries.** m distinct coordinates of the trainable parameters, each with a
  random sign. The audit includes each with probability 1/2 (its secret bit).
  At every step an included canary joins the batch by Poisson sampling with
  the same rate q as any row, and adds a gradient of norm C (the clipping norm)
  along its coordinate before the noise. Canaries are examples like any other:
  the accountant's epsilon covers each of them.
- **Readings.** After the noise, at each canary's coordinate, the noisy sum minus
  the clipped sum of the real rows sampled at that step: the canary's own
  contribution plus the Gaussian noise there. A post-processing of the
  mechanism's output and of the other examples' sampling (independent of the
  canary's), so each canary's readings are the output of an (epsilon, delta)-DP
  mechanism with respect to its secret bit.
- **Independence.** Distinct coordinates get independent noise, and each canary's
  sampling is its own, so the m canaries are m independent trials of that
  mechanism: a many-run audit in one run.
- **Noise level.** Probe coordinates without a canary read the noise alone; their
  RMS over the claimed sigma x C is the noise ratio (1 when the noise is as claimed).
- **Score.** The sum over steps of the subsampled Gaussian's log-likelihood ratio,
  log(1 - q + q exp((mu y - mu^2/2) / s^2)), mu = 1/sigma, y the reading in units
  of sigma C, s the noise ratio the probes measured over the first 16 steps (the
  readings of those steps are kept until then): the most powerful test of
  "included" at the noise actually observed.
- **Bound.** Thresholds at the null score distribution's quantiles (simulated, for
  1, 3, 10 and 30 expected false positives). At each, Clopper-Pearson bounds on the
  true- and false-positive rates give epsilon_hat = log((TPR_lower - delta) / FPR_upper),
  since (epsilon, delta)-DP implies TPR <= e^epsilon FPR + delta for any test.
  Bonferroni over the thresholds and both rates.

The noise ratio, the grid point and the thresholds use no canary's secret bit, so the
counts are binomial and the bound holds at its confidence. Readings and scores stay in
memory; only counts reach the evidence.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from scipy.stats import beta

from auditor.config import AuditConfig
from auditor.evidence import GradientAudit
from auditor.train.accounting import PrivacyPlan
from auditor.train.secure import SecureRandom

MAX_AUTO = 50_000
"""Default gradient canaries: at most this many, and at most half the trainable coordinates."""
MAX_PROBES = 4096
WARM_UP_STEPS = 16
"""Steps whose readings are kept until the probes have measured the noise level; then each step is scored once."""
MIN_LEVEL = 0.01
"""The smallest noise level scored, as a multiple of the claim (no noise at all scores as this)."""
EXPECTED_FALSE_POSITIVES = (1, 3, 10, 30)
NULL_BUDGET = 30_000_000
"""Simulated null readings (canaries x steps) for the thresholds."""

NOTE = (
    "White-box: Dirac gradient canaries (distinct parameter coordinates) each included with probability 1/2, "
    "then Poisson-sampled at every step like a row, adding a gradient of norm C before the noise. Each is read on "
    "the noisy sum minus the sampled real rows' clipped sum at its coordinate, and scored by the subsampled "
    "Gaussian's likelihood ratio at the noise observed on probe coordinates. Canaries are independent trials, so "
    "Clopper-Pearson bounds on the true- and false-positive rates give a lower bound on epsilon (Bonferroni over "
    "thresholds). epsilon_hat above epsilon proves the DP implementation broken; below it, max_refutable says how "
    "large a violation the audit could have shown"
)


def gradient_canary_count(requested: int | str, trainable: int) -> int:
    if requested == "auto":
        return int(min(MAX_AUTO, trainable // 2))
    return int(min(int(requested), trainable // 2))


def _log_lr(y: np.ndarray, rate: float, mu: float, level: float) -> np.ndarray:
    """Per-step log-likelihood ratios of 'sampled canary' at noise ``level`` (a multiple of the claim);
    ``y`` in claimed-noise units (sigma x C)."""
    ratios: np.ndarray = np.logaddexp(math.log1p(-rate), math.log(rate) + (mu * y - mu * mu / 2) / level**2)
    return ratios


class GradientCanaries:
    """m Dirac canaries and the noise probes over the trainable parameters of one optimizer."""

    def __init__(
        self,
        params: list[torch.Tensor],
        count: int,
        sample_rate: float,
        noise_multiplier: float,
        max_grad_norm: float,
        seed: int,
        secure: SecureRandom | None,
    ) -> None:
        sizes = [p.numel() for p in params]
        total = sum(sizes)
        probes = min(MAX_PROBES, total - count)
        if count < 2 or probes < 1:
            raise ValueError(f"{count} gradient canaries and a probe need more than {total} trainable coordinates")
        rng = np.random.default_rng(seed + 104_729)
        chosen = rng.choice(total, size=count + probes, replace=False)
        flat = np.sort(chosen[:count])
        probe_flat = np.sort(chosen[count:])
        self.included = rng.random(count) < 0.5
        signs = np.where(rng.random(count) < 0.5, -1.0, 1.0)
        self.count, self.probes = count, probes
        self.rate, self.sigma, self.clip, self.seed = sample_rate, noise_multiplier, max_grad_norm, seed
        self._secure = secure
        self._sampler = torch.Generator().manual_seed(seed + 130_363)
        starts = np.cumsum([0, *sizes])
        self._groups = self._grouped(params, starts, flat, signs)
        self._probe_groups = self._grouped(params, starts, probe_flat, np.ones(probes))
        self._scores = np.zeros(count)
        self._pending: list[np.ndarray] = []  # readings of the first steps, until the level is fixed
        self._level: float | None = None
        self._noise_squares = 0.0
        self._noise_readings = 0
        self.steps = 0
        self._real: list[torch.Tensor] = []
        self._probe_real: list[torch.Tensor] = []

    @staticmethod
    def _grouped(
        params: list[torch.Tensor], starts: np.ndarray, flat: np.ndarray, signs: np.ndarray
    ) -> list[tuple[int, torch.Tensor, torch.Tensor, np.ndarray]]:
        groups = []
        for k, p in enumerate(params):
            members = np.nonzero((flat >= starts[k]) & (flat < starts[k + 1]))[0]
            if len(members):
                offsets = torch.from_numpy(flat[members] - starts[k]).to(p.device)
                sign = torch.from_numpy(signs[members]).to(device=p.device, dtype=p.dtype)
                groups.append((k, offsets, sign, members))
        return groups

    def _draw(self) -> np.ndarray:
        """Which canaries join this step's batch: included ones, each with probability q (secret randomness)."""
        if self._secure is not None:
            uniforms = self._secure.uniform(self.count)
        else:
            uniforms = torch.rand(self.count, generator=self._sampler, dtype=torch.float64).numpy()
        joined: np.ndarray = self.included & (uniforms < self.rate)
        return joined

    def inject(self, summed: list[torch.Tensor]) -> None:
        """Before the noise: keep the real rows' clipped sum at canaries and probes, then add the sampled canaries."""
        joined = self._draw()
        self._real = []
        for k, offsets, sign, members in self._groups:
            view = summed[k].view(-1)
            self._real.append(view.index_select(0, offsets).clone())
            mask = torch.from_numpy(joined[members]).to(device=view.device, dtype=view.dtype)
            view.index_add_(0, offsets, sign * mask * self.clip)
        self._probe_real = [summed[k].view(-1).index_select(0, o).clone() for k, o, _, _ in self._probe_groups]

    def observe(self, noisy: list[torch.Tensor]) -> None:
        """After the noise: measure the noise at the probes, and score each canary on its reading."""
        unit = self.sigma * self.clip if self.sigma > 0 else self.clip
        for (k, offsets, _, _), real in zip(self._probe_groups, self._probe_real, strict=True):
            noise = (noisy[k].view(-1).index_select(0, offsets) - real).double().cpu().numpy() / unit
            self._noise_squares += float(np.sum(noise * noise))
            self._noise_readings += len(noise)
        readings = np.empty(self.count)
        for (k, offsets, sign, members), real in zip(self._groups, self._real, strict=True):
            reading = (noisy[k].view(-1).index_select(0, offsets) - real) * sign
            readings[members] = reading.double().cpu().numpy() / unit
        self.steps += 1
        self._real, self._probe_real = [], []
        if self._level is None:
            self._pending.append(readings)
            if len(self._pending) >= WARM_UP_STEPS:
                self._settle()
        else:
            self._scores += _log_lr(readings, self.rate, self._mu, self._level)

    @property
    def _mu(self) -> float:
        return 1.0 / self.sigma if self.sigma > 0 else 1.0

    def _settle(self) -> None:
        """Fix the scored noise level from the probes alone (no canary's bit), then score the kept readings."""
        self._level = max(self.noise_ratio, MIN_LEVEL)
        for readings in self._pending:
            self._scores += _log_lr(readings, self.rate, self._mu, self._level)
        self._pending = []

    @property
    def noise_ratio(self) -> float:
        """RMS of the noise at the probes, over the claimed noise sigma x C."""
        return math.sqrt(self._noise_squares / self._noise_readings) if self._noise_readings else 1.0

    @property
    def level(self) -> float:
        if self._level is None:
            self._settle()
        assert self._level is not None
        return self._level

    def scores(self) -> np.ndarray:
        """Each canary's log-likelihood ratio at the noise level the probes measured in the first steps."""
        level = self.level
        assert level > 0
        return self._scores

    def null_thresholds(self, excluded: int) -> list[float]:
        """Score thresholds with 1, 3, 10 and 30 expected false positives among ``excluded`` canaries,
        from simulated readings of pure noise at the observed level (no canary's bit is used)."""
        rng = np.random.default_rng(self.seed + 7_368_787)
        trials = int(min(400_000, max(100_000, NULL_BUDGET // max(self.steps, 1))))
        level = self.level
        null = np.zeros(trials)
        for _ in range(self.steps):
            null += _log_lr(rng.normal(0.0, self.noise_ratio, trials), self.rate, self._mu, level)
        return [float(np.quantile(null, max(0.0, 1.0 - e / max(excluded, 1)))) for e in EXPECTED_FALSE_POSITIVES]


def _cp_upper(k: int, n: int, alpha: float) -> float:
    return 1.0 if k >= n else float(beta.ppf(1 - alpha, k + 1, n - k))


def _cp_lower(k: int, n: int, alpha: float) -> float:
    return 0.0 if k <= 0 else float(beta.ppf(alpha, k, n - k + 1))


def _bound(tp: int, n_in: int, fp: int, n_out: int, alpha: float, delta: float) -> tuple[float, float, float]:
    tpr, fpr = _cp_lower(tp, n_in, alpha), _cp_upper(fp, n_out, alpha)
    epsilon = math.log((tpr - delta) / fpr) if tpr > delta and fpr > 0 else 0.0
    return max(0.0, epsilon), tpr, fpr


def white_box_audit(
    canaries: GradientCanaries, delta: float, confidence: float, epsilon: float, seed: int
) -> GradientAudit:
    """The lower bound on epsilon from the canaries' scores: the best threshold, Bonferroni-corrected."""
    included = canaries.included
    n_in, n_out = int(included.sum()), int((~included).sum())
    scores = canaries.scores()
    thresholds = canaries.null_thresholds(n_out)
    alpha = (1 - confidence) / (2 * len(thresholds))
    best = (0.0, 0, 0, 0.0, 1.0)
    for threshold in thresholds:
        above = scores > threshold
        tp, fp = int((above & included).sum()), int((above & ~included).sum())
        bound, tpr, fpr = _bound(tp, n_in, fp, n_out, alpha, delta)
        if bound > best[0] or best[1] + best[2] == 0:
            best = (bound, tp, fp, tpr, fpr)
    bound, tp, fp, tpr, fpr = best
    return GradientAudit(
        canaries=canaries.count,
        included=n_in,
        probes=canaries.probes,
        noise_ratio=round(canaries.noise_ratio, 6),
        steps=canaries.steps,
        thresholds=len(thresholds),
        true_positives=tp,
        false_positives=fp,
        tpr_lower=round(tpr, 6),
        fpr_upper=round(fpr, 9),
        confidence=confidence,
        epsilon_lower_bound=round(bound, 6),
        epsilon_theoretical=epsilon,
        max_refutable=round(_bound(n_in, n_in, 0, n_out, alpha, delta)[0], 6),
        note=NOTE,
    )


def attach(optimizer: Any, canaries: GradientCanaries, params: list[torch.Tensor]) -> None:
    """Wrap an optimizer's noise step: inject the canaries before it, read them after it.

    auditor's book-keeping optimizer adds noise in ``_add_noise(summed)``; Opacus'
    optimizers in ``add_noise()``, from ``p.summed_grad`` into ``p.grad``.
    """
    if hasattr(optimizer, "_add_noise"):
        noise_summed: Callable[[list[torch.Tensor]], None] = optimizer._add_noise

        def add_noise_summed(self: Any, summed: list[torch.Tensor]) -> None:
            canaries.inject(summed)
            noise_summed(summed)
            canaries.observe(summed)

        optimizer._add_noise = types.MethodType(add_noise_summed, optimizer)
        return
    noise: Callable[[], None] = optimizer.add_noise

    def add_noise(self: Any) -> None:
        canaries.inject([getattr(p, "summed_grad") for p in params])  # noqa: B009  # Opacus' attribute
        noise()
        canaries.observe([getattr(p, "grad") for p in params])  # noqa: B009

    optimizer.add_noise = types.MethodType(add_noise, optimizer)


class GradientProbe:
    """The ``instrument`` hook of DP training: builds the canaries over the optimizer's parameters and attaches them."""

    def __init__(
        self,
        requested: int | str,
        sample_rate: float,
        noise_multiplier: float,
        max_grad_norm: float,
        seed: int,
        secure_rng: bool,
    ) -> None:
        self.requested = requested
        self.rate, self.sigma, self.clip = sample_rate, noise_multiplier, max_grad_norm
        self.seed, self.secure_rng = seed, secure_rng
        self.canaries: GradientCanaries | None = None
        self.note: str | None = None

    def __call__(self, optimizer: Any) -> None:
        params = [p for p in optimizer.params if p.requires_grad]
        trainable = sum(p.numel() for p in params)
        count = gradient_canary_count(self.requested, trainable)
        if count < 2 or trainable - count < 1:
            self.note = f"the model has too few trainable coordinates ({trainable}) for gradient canaries"
            return
        secure = SecureRandom() if self.secure_rng else None
        self.canaries = GradientCanaries(params, count, self.rate, self.sigma, self.clip, self.seed, secure)
        attach(optimizer, self.canaries, params)


def gradient_probe(
    config: AuditConfig, plan: PrivacyPlan, seed: int, distributed: bool
) -> tuple[GradientProbe | None, str | None]:
    """The white-box audit's hook for this run's DP training, or why there is none."""
    if not config.audit.enabled:
        return None, "audit.enabled is false"
    if config.audit.gradient_canaries == 0:
        return None, "audit.gradient_canaries is 0"
    if distributed:
        return None, "DDP training: the white-box audit runs in one-process training only"
    privacy = config.train.privacy
    probe = GradientProbe(
        config.audit.gradient_canaries,
        plan.sample_rate,
        plan.noise_multiplier,
        privacy.max_grad_norm,
        seed,
        privacy.secure_rng,
    )
    return probe, None
