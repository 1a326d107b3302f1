"""Privacy planning and accounting with Opacus' accountants.

The plan mirrors Opacus exactly: for N rows and batch size B there are
ceil(N/B) Poisson steps per epoch with sampling rate q = 1/ceil(N/B), so the
accounted (σ, q, steps) are the ones the optimizer actually ran.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from opacus.accountants import create_accountant
from opacus.accountants.analysis import rdp as rdp_analysis
from opacus.accountants.utils import get_noise_multiplier

from auditor.config import PrivacyConfig
from auditor.errors import InputError

T = TypeVar("T")
# Each PRV evaluation costs ~0.2-0.4 s, so the chart gets a dozen points.
CURVE_POINTS = 12


@dataclass(frozen=True)
class PrivacyPlan:
    noise_multiplier: float
    sample_rate: float
    steps_per_epoch: int
    epochs: int
    delta: float
    delta_source: str
    accountant: str
    accountant_note: str | None
    target_epsilon: float | None
    expected_batch_size: float

    @property
    def steps(self) -> int:
        return self.steps_per_epoch * self.epochs


@contextmanager
def _memoised_rdp() -> Iterator[None]:
    """Memoise Opacus' per-order RDP term while our accounting runs.

    The PRV accountant bounds its discretisation domain with RDP, and that RDP
    term (a pure function of q, sigma and the order) dominates its run time; the
    noise search and the epsilon curve ask for the same (q, sigma) many times.
    The cache lives only inside this context, and results are unchanged.
    """
    original = rdp_analysis._compute_rdp
    rdp_analysis._compute_rdp = functools.lru_cache(maxsize=4096)(original)
    try:
        yield
    finally:
        rdp_analysis._compute_rdp = original


def _quietly(fn: Callable[[], T]) -> T:
    # Opacus' PRV accountant bounds its domain with RDP and warns when the best RDP
    # order is the largest one tried; that loosens the domain bound, not epsilon.
    with warnings.catch_warnings(), _memoised_rdp():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        return fn()


REPORT_DECIMALS = 6


def round_up(epsilon: float) -> float:
    """Round epsilon up at the sixth decimal: a reported bound must never drop below the exact one,
    and independent accountants agree with Opacus only to about 1e-9 (floating point)."""
    scale = float(10**REPORT_DECIMALS)
    steps = math.ceil(epsilon * scale)
    while steps / scale < epsilon:  # float rounding in the multiplication can land one step low
        steps += 1
    return steps / scale


def epsilon_for(accountant: str, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
    """Epsilon spent after ``steps`` steps, as reported: Opacus' upper bound, rounded up."""
    if steps == 0:
        return 0.0
    acc = create_accountant(mechanism=accountant)
    acc.history = [(noise_multiplier, sample_rate, steps)]
    return round_up(float(_quietly(lambda: acc.get_epsilon(delta=delta))))


def _unreachable(target: float, sample_rate: float, steps: int, delta: float, accountant: str, epochs: int) -> str:
    """Why a target epsilon cannot be reached, and the smallest epsilon these settings can."""
    from auditor.config import MAX_NOISE_MULTIPLIER

    try:
        floor = epsilon_for(accountant, MAX_NOISE_MULTIPLIER, sample_rate, steps, delta)
        reach = f"the smallest these settings reach is {floor:.3g} (at noise multiplier {MAX_NOISE_MULTIPLIER:g})"
    except Exception:  # the accountant's own numerical limits
        reach = "even the largest noise multiplier does not reach it"
    return (
        f"cannot reach target_epsilon {target:g} at delta {delta:.3g} with {epochs} epochs and sampling rate "
        f"{sample_rate:.4g}: {reach}; raise target_epsilon, train fewer epochs, use smaller batches or more data"
    )


def _refuse_below_floor(
    target: float, sample_rate: float, steps: int, delta: float, accountant: str, epochs: int
) -> None:
    """One accountant call at the largest noise multiplier: a target below it is refused at once, instead of
    after Opacus' noise search has doubled its way to the limit (tens of seconds)."""
    from auditor.config import MAX_NOISE_MULTIPLIER

    try:
        floor = epsilon_for(accountant, MAX_NOISE_MULTIPLIER, sample_rate, steps, delta)
    except Exception:  # the accountant's own numerical limits: leave it to the search
        return
    if floor > target:
        raise InputError(_unreachable(target, sample_rate, steps, delta, accountant, epochs))


def plan_privacy(rows: int, batch_size: int, epochs: int, config: PrivacyConfig) -> PrivacyPlan:
    steps_per_epoch = math.ceil(rows / batch_size)
    sample_rate = 1.0 / steps_per_epoch
    delta = config.delta if config.delta is not None else 1.0 / (10 * rows)
    delta_source = "config" if config.delta is not None else f"1/(10·N), N = {rows}"
    accountant, note = config.accountant, None
    steps = steps_per_epoch * epochs
    if config.noise_multiplier is not None:
        sigma = config.noise_multiplier
        target = None
    else:
        target = config.target_epsilon
        assert target is not None
        _refuse_below_floor(target, sample_rate, steps, delta, accountant, epochs)
        try:
            sigma = _quietly(
                lambda: get_noise_multiplier(
                    target_epsilon=target,
                    target_delta=delta,
                    sample_rate=sample_rate,
                    steps=steps,
                    accountant=accountant,
                )
            )
        except ValueError:
            raise InputError(_unreachable(target, sample_rate, steps, delta, accountant, epochs)) from None
        except Exception as exc:  # PRV's numerical domain fails for some large budgets (opacus#604)
            if accountant != "prv":
                raise
            accountant = "rdp"
            note = f"PRV accountant failed ({type(exc).__name__}); fell back to RDP, a looser upper bound"
            sigma = _quietly(
                lambda: get_noise_multiplier(
                    target_epsilon=target, target_delta=delta, sample_rate=sample_rate, steps=steps, accountant="rdp"
                )
            )
    plan = PrivacyPlan(
        noise_multiplier=float(sigma),
        sample_rate=sample_rate,
        steps_per_epoch=steps_per_epoch,
        epochs=epochs,
        delta=delta,
        delta_source=delta_source,
        accountant=accountant,
        accountant_note=note,
        target_epsilon=target,
        expected_batch_size=rows * sample_rate,
    )
    return plan if target is None else _calibrated(plan, target)


CALIBRATION_STEP = 1.001
CALIBRATION_TRIES = 200


def _calibrated(plan: PrivacyPlan, target: float) -> PrivacyPlan:
    """Raise sigma until the epsilon that will be *reported* (the larger of Opacus' bound and the
    independent one, rounded up) is within the target; Opacus' search only looks at its own bound,
    so with RDP the reported epsilon could end above the target (8.008 for 8.0)."""
    for _ in range(CALIBRATION_TRIES):
        if final_epsilon(plan, plan.steps).epsilon <= target:
            return plan
        plan = dataclasses.replace(plan, noise_multiplier=plan.noise_multiplier * CALIBRATION_STEP)
    return plan


CROSSCHECK = {"prv": "Google dp_accounting PLD", "rdp": "Google dp_accounting RDP"}


def crosscheck_epsilon(accountant: str, noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
    """The same guarantee from an independent implementation: Google's dp_accounting
    (privacy-loss distributions for PRV, its own RDP for RDP)."""
    import logging

    import dp_accounting
    from dp_accounting.pld import pld_privacy_accountant
    from dp_accounting.rdp import rdp_privacy_accountant

    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(sample_rate, dp_accounting.GaussianDpEvent(noise_multiplier)), steps
    )
    independent = (
        pld_privacy_accountant.PLDAccountant() if accountant == "prv" else rdp_privacy_accountant.RdpAccountant()
    )
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)  # it logs each fractional RDP order it has to skip (RDP computes them in compose)
    try:
        independent.compose(event)
        return float(independent.get_epsilon(delta))
    finally:
        absl.setLevel(level)


@dataclass(frozen=True)
class Spent:
    """Epsilon as reported: the larger of Opacus' bound and the independent one, rounded up."""

    epsilon: float
    opacus: float
    crosscheck: float | None
    accountant: str
    note: str | None


def _opacus_epsilon(plan: PrivacyPlan, steps: int) -> tuple[float, str, str | None]:
    try:
        return (
            epsilon_for(plan.accountant, plan.noise_multiplier, plan.sample_rate, steps, plan.delta),
            plan.accountant,
            plan.accountant_note,
        )
    except Exception as exc:
        if plan.accountant != "prv":
            raise
        note = f"PRV accountant failed ({type(exc).__name__}); fell back to RDP, a looser upper bound"
        return epsilon_for("rdp", plan.noise_multiplier, plan.sample_rate, steps, plan.delta), "rdp", note


def final_epsilon(plan: PrivacyPlan, steps: int) -> Spent:
    """Epsilon after ``steps`` steps. PRV falls back to RDP if it fails, and says so. Both Opacus and
    Google's dp_accounting compute an upper bound; their numerics differ in the last digits, so the
    larger one is reported."""
    opacus, accountant, note = _opacus_epsilon(plan, steps)
    try:
        independent: float | None = crosscheck_epsilon(
            accountant, plan.noise_multiplier, plan.sample_rate, steps, plan.delta
        )
    except Exception:  # the cross-check is a second opinion; Opacus' bound stands without it
        independent = None
        note = (note + "; " if note else "") + "the dp_accounting cross-check failed"
    reported = opacus if independent is None else max(opacus, round_up(independent))
    return Spent(epsilon=reported, opacus=opacus, crosscheck=independent, accountant=accountant, note=note)


def epsilon_curve(plan: PrivacyPlan, accountant: str, steps: int, reported: float) -> list[tuple[int, float]]:
    """Epsilon at evenly spaced steps, for the report's chart. The last point is the reported epsilon
    (the larger of the two accountants), so the curve ends where the guarantee does; the points
    before it are Opacus' bound (the independent PLD check costs about 0.5 s a point)."""
    if steps == 0:
        return []
    points = sorted({max(1, round(steps * i / CURVE_POINTS)) for i in range(1, CURVE_POINTS + 1)})
    with _memoised_rdp():
        curve = [
            (s, epsilon_for(accountant, plan.noise_multiplier, plan.sample_rate, s, plan.delta)) for s in points[:-1]
        ]
    return [*curve, (points[-1], reported)]
