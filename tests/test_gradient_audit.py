"""The white-box audit: gradient canaries read on the noisy gradient, as independent trials."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from auditor.privacy_audit.gradient import (
    GradientCanaries,
    GradientProbe,
    _bound,
    gradient_canary_count,
    white_box_audit,
)
from auditor.train.accounting import epsilon_for

RATE, SIGMA, CLIP, STEPS, DELTA = 0.1, 2.0, 1.0, 150, 1e-5


def _params() -> list[torch.Tensor]:
    return [torch.zeros(60, 50), torch.zeros(50), torch.zeros(50, 40)]  # 5,050 coordinates


def _drive(canaries: GradientCanaries, noise: float, seed: int = 0) -> None:
    """``STEPS`` steps of DP-SGD's noise step: a real rows' sum, the canaries, then noise of ``noise`` x sigma C."""
    generator = torch.Generator().manual_seed(seed)
    for _ in range(STEPS):
        summed = [torch.randn(p.shape, generator=generator) * 3.0 for p in _params()]  # whatever the rows gave
        canaries.inject(summed)
        for tensor in summed:
            tensor.add_(torch.randn(tensor.shape, generator=generator) * noise * SIGMA * CLIP)
        canaries.observe(summed)


def _canaries(count: int = 2000, seed: int = 3) -> GradientCanaries:
    return GradientCanaries(_params(), count, RATE, SIGMA, CLIP, seed, None)


def _epsilon() -> float:
    return epsilon_for("prv", SIGMA, RATE, STEPS, DELTA)


def test_canary_count_is_capped_by_the_model() -> None:
    assert gradient_canary_count("auto", 72_706) == 36_353
    assert gradient_canary_count("auto", 10**7) == 50_000
    assert gradient_canary_count(100_000, 5_000) == 2_500


def test_readings_are_the_canary_contribution_when_there_is_no_noise() -> None:
    canaries = _canaries()
    _drive(canaries, noise=0.0)
    assert canaries.noise_ratio == 0.0
    scores = canaries.scores()
    # With no noise, every included canary that was sampled at least once scores above every excluded one.
    assert scores[~canaries.included].max() < np.sort(scores[canaries.included])[-100]
    audit = white_box_audit(canaries, DELTA, 0.95, _epsilon(), seed=0)
    assert audit.false_positives == 0 and audit.true_positives > 0
    assert audit.epsilon_lower_bound > _epsilon()


def test_a_correct_run_stays_below_epsilon_and_a_halved_noise_is_measured() -> None:
    epsilon = _epsilon()
    correct = _canaries()
    _drive(correct, noise=1.0, seed=1)
    audit = white_box_audit(correct, DELTA, 0.95, epsilon, seed=0)
    assert abs(audit.noise_ratio - 1.0) < 0.02
    assert audit.epsilon_lower_bound <= epsilon
    assert audit.max_refutable > epsilon  # the audit could have refuted the claim
    halved = _canaries()
    _drive(halved, noise=0.5, seed=1)
    broken = white_box_audit(halved, DELTA, 0.95, epsilon, seed=0)
    assert abs(broken.noise_ratio - 0.5) < 0.02
    assert broken.epsilon_lower_bound > audit.epsilon_lower_bound


def test_the_bound_is_sound_over_repeated_correct_runs() -> None:
    """At 95% confidence, correct runs almost never exceed epsilon; here none of 4 does."""
    epsilon = _epsilon()
    bounds = []
    for seed in range(4):
        canaries = _canaries(seed=100 + seed)
        _drive(canaries, noise=1.0, seed=200 + seed)
        bounds.append(white_box_audit(canaries, DELTA, 0.95, epsilon, seed=seed).epsilon_lower_bound)
    assert max(bounds) < epsilon


def test_clopper_pearson_bound_by_hand() -> None:
    from scipy.stats import binom

    # 40 of 50 included above the threshold, 0 of 50 excluded, one-sided at alpha 0.05:
    bound, tpr, fpr = _bound(40, 50, 0, 50, 0.05, 0.0)
    assert binom.sf(39, 50, tpr) == pytest.approx(0.05, abs=1e-6)  # P[X >= 40 | TPR_lower] = alpha
    assert fpr == pytest.approx(1 - 0.05 ** (1 / 50))  # no success: the closed form
    assert bound == pytest.approx(math.log(tpr / fpr))
    assert _bound(0, 50, 0, 50, 0.05, 0.0)[0] == 0.0  # no true positive: nothing shown


def test_a_model_without_room_for_canaries_is_noted() -> None:
    from torch import nn

    probe = GradientProbe("auto", RATE, SIGMA, CLIP, 0, False)

    class Optimizer:
        def __init__(self) -> None:
            self.params = [nn.Parameter(torch.zeros(2))]

    probe(Optimizer())
    assert probe.canaries is None and probe.note is not None and "too few" in probe.note


def test_gradient_canaries_setting_is_validated() -> None:
    from pydantic import ValidationError

    from auditor.config import PrivacyAuditConfig

    assert PrivacyAuditConfig(gradient_canaries=0).gradient_canaries == 0
    with pytest.raises(ValidationError, match="0 \\(off\\) or at least 2"):
        PrivacyAuditConfig(gradient_canaries=1)


def test_the_pipeline_audits_white_box_and_the_gate_reads_it(e2e: object) -> None:
    import json

    out: Path = e2e.out  # type: ignore[attr-defined]
    evidence = json.loads((out / "evidence.json").read_text())
    gradient = evidence["audit"]["gradient"]
    assert gradient["canaries"] > 1000 and 0.9 < gradient["noise_ratio"] < 1.1
    assert gradient["epsilon_lower_bound"] <= gradient["epsilon_theoretical"]
    control = next(c for c in evidence["controls"] if c["id"] == "GDPR-AUDIT-003")
    assert control["status"] == "pass"
    html = (out / "report.html").read_text()
    assert "White-box audit: gradient canaries" in html and "it could refute" in html


@pytest.mark.slow
def test_selftest_catches_the_noise_removed_and_passes_the_correct_run() -> None:
    from typer.testing import CliRunner

    from auditor.cli import app

    config = Path(__file__).resolve().parents[1] / "examples" / "credit-scoring" / "audit.yaml"
    result = CliRunner().invoke(app, ["selftest", "privacy", str(config)])
    assert result.exit_code in (0, 1), result.stderr
    rows = {line.split("  ")[0].strip(): line for line in result.stdout.splitlines()}
    assert "not caught" in rows["correct"].split("x")[2]  # the white-box column of the correct run
    assert "CAUGHT" in rows["noise removed"].split("x")[2]
    assert "noise multiplier halved" in rows
    assert "self-test" in result.stdout.splitlines()[-1]
