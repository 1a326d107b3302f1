"""DP training: equivalence with Opacus, accounting against Google's dp_accounting, models, DDP, images."""

from __future__ import annotations

import copy
import importlib.util
import math
import sys
from pathlib import Path

import pytest
import torch
from opacus.accountants import create_accountant
from opacus.grad_sample import GradSampleModule
from opacus.optimizers import DPOptimizerFastGradientClipping
from opacus.utils.uniform_sampler import UniformWithReplacementSampler
from torch import nn

from auditor.config import PrivacyConfig, TrainConfig
from auditor.errors import InputError
from auditor.train.accounting import PrivacyPlan, epsilon_for, final_epsilon, plan_privacy
from auditor.train.bk import BookKeepingDPOptimizer, clipped_grads, supports_book_keeping
from auditor.train.ddp import Job, train_distributed
from auditor.train.loop import train_private
from auditor.train.models import build_model
from auditor.train.tensors import poisson_batches

REPO = Path(__file__).resolve().parents[1]


def small_mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3))


# Opacus' hooks fire on a first layer whose input needs no gradient; PyTorch warns, harmlessly.
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_book_keeping_equals_opacus_per_sample_clipping() -> None:
    model = small_mlp()
    x = torch.randn(32, 6) * 3
    y = torch.randint(0, 3, (32,))
    reference = GradSampleModule(copy.deepcopy(model), loss_reduction="sum")
    nn.functional.cross_entropy(reference(x), y, reduction="sum").backward()
    params = [p for p in reference.parameters() if p.requires_grad]
    norms = torch.stack([p.grad_sample.reshape(32, -1).norm(dim=1) for p in params]).norm(dim=0)
    factors = (1.0 / (norms + 1e-6)).clamp(max=1.0)
    expected = [torch.einsum("i,i...->...", factors, p.grad_sample) for p in params]
    assert supports_book_keeping(model)
    clipped_grads(model, x, y, max_grad_norm=1.0)
    for got, want in zip((p.grad for p in model.parameters()), expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_fused_optimizer_equals_opacus_fast_gradient_clipping() -> None:
    grads = [torch.randn(8, 6), torch.randn(8)]

    def stepped(cls: type) -> tuple[list[torch.Tensor], list[tuple[float, float, int]]]:
        params = [nn.Parameter(torch.zeros_like(g)) for g in grads]
        optimizer = cls(
            torch.optim.SGD(params, lr=1.0),
            noise_multiplier=1.3,
            max_grad_norm=0.7,
            expected_batch_size=50,
            generator=torch.Generator().manual_seed(5),
        )
        accountant = create_accountant("rdp")
        optimizer.attach_step_hook(accountant.get_optimizer_hook_fn(sample_rate=0.1))
        for _ in range(3):
            optimizer.zero_grad()
            for p, g in zip(params, grads, strict=True):
                p.grad = g.clone()
            optimizer.step()
        return [p.detach().clone() for p in params], accountant.history

    ours, our_history = stepped(BookKeepingDPOptimizer)
    theirs, their_history = stepped(DPOptimizerFastGradientClipping)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    assert our_history == their_history == [(1.3, 0.1, 3)]


def test_poisson_batches_are_opacus_batches() -> None:
    x = torch.arange(500).float().unsqueeze(1)
    y = torch.zeros(500, dtype=torch.long)
    ours = [
        xb.squeeze(1).long().tolist() for xb, _ in poisson_batches(x, y, 0.05, 10, torch.Generator().manual_seed(9))
    ]
    sampler = UniformWithReplacementSampler(
        num_samples=500, sample_rate=0.05, generator=torch.Generator().manual_seed(9), steps=10
    )
    assert ours == list(sampler)
    assert any(len(b) != len(ours[0]) for b in ours), "Poisson batches vary in size"


@pytest.mark.slow
def test_plan_mirrors_opacus_sampling() -> None:
    plan = plan_privacy(rows=1000, batch_size=64, epochs=3, config=PrivacyConfig(target_epsilon=2.0))
    assert plan.steps_per_epoch == math.ceil(1000 / 64) and plan.sample_rate == 1 / 16 and plan.steps == 48
    assert plan.delta == pytest.approx(1 / 10_000) and plan.accountant == "prv"
    assert epsilon_for("prv", plan.noise_multiplier, plan.sample_rate, plan.steps, plan.delta) <= 2.0 + 1e-9
    fixed = plan_privacy(1000, 64, 3, PrivacyConfig(noise_multiplier=1.5))
    assert fixed.noise_multiplier == 1.5 and fixed.target_epsilon is None


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("dp_accounting") is None, reason="dp-accounting not installed")
@pytest.mark.parametrize(
    ("accountant", "sigma", "q", "steps", "delta"),
    [
        ("prv", 1.1, 0.004, 15000, 1e-5),
        ("prv", 1.39, 0.0625, 160, 1.25e-5),
        ("prv", 2.0, 0.06, 1800, 1.2e-5),
        ("rdp", 1.1, 0.004, 15000, 1e-5),
        ("rdp", 1.3, 0.1, 100, 1e-5),
        ("rdp", 0.9, 0.1, 100, 1e-5),
        ("rdp", 1.0, 0.0625, 300, 1e-5),
        ("prv", 0.6, 0.05, 200, 1e-5),
        ("prv", 0.9, 0.1, 100, 1e-5),
    ],
)
def test_epsilon_agrees_with_google_dp_accounting(
    accountant: str, sigma: float, q: float, steps: int, delta: float
) -> None:
    """Within 5% of an independent accountant and never below it (PRV vs PLD, RDP vs RDP)."""
    import dp_accounting
    from dp_accounting.pld import pld_privacy_accountant
    from dp_accounting.rdp import rdp_privacy_accountant

    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), steps
    )
    independent = (
        pld_privacy_accountant.PLDAccountant() if accountant == "prv" else rdp_privacy_accountant.RdpAccountant()
    )
    independent.compose(event)
    reference = independent.get_epsilon(delta)
    plan = PrivacyPlan(sigma, q, steps, 1, delta, "test", accountant, None, None, 1.0)
    spent = final_epsilon(plan, steps)
    assert spent.epsilon >= reference
    assert spent.epsilon <= reference * 1.05
    assert spent.opacus == epsilon_for(accountant, sigma, q, steps, delta)
    assert spent.crosscheck == pytest.approx(reference)


@pytest.mark.slow
def test_prv_failure_falls_back_to_rdp(monkeypatch: pytest.MonkeyPatch) -> None:
    import auditor.train.accounting as accounting

    real = accounting.create_accountant

    def flaky(mechanism: str) -> object:
        if mechanism == "prv":
            raise RuntimeError("PRV domain too large")
        return real(mechanism=mechanism)

    monkeypatch.setattr(accounting, "create_accountant", flaky)
    plan = plan_privacy(1000, 64, 2, PrivacyConfig(target_epsilon=3.0))
    spent = final_epsilon(plan, plan.steps)
    assert spent.accountant == "rdp" and spent.note and "fell back to RDP" in spent.note
    assert spent.opacus == epsilon_for("rdp", plan.noise_multiplier, plan.sample_rate, plan.steps, plan.delta)
    assert spent.epsilon >= spent.opacus


def _toy(rows: int = 600) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(rows, 6, generator=generator)
    return x, (x[:, 0] + x[:, 1] > 0).long()


@pytest.mark.slow
def test_private_training_reaches_its_target_and_learns() -> None:
    x, y = _toy()
    config = TrainConfig(
        epochs=4, batch_size=64, learning_rate=0.2, hidden_layers=[16], privacy=PrivacyConfig(target_epsilon=4.0)
    )
    plan = plan_privacy(len(x), config.batch_size, config.epochs, config.privacy)
    fit, steps = train_private(build_model("mlp", (6,), 2, [16]).module, x, y, x[:200], y[:200], config, plan, seed=0)
    assert fit.clipping == "bk" and steps == plan.steps
    assert final_epsilon(plan, steps).epsilon <= 4.0 + 1e-5
    assert fit.curve[-1].value > 0.75


@pytest.mark.slow
@pytest.mark.parametrize("clipping", ["ghost", "hooks"])
def test_opacus_engine_paths_train(clipping: str) -> None:
    x, y = _toy(300)
    privacy = PrivacyConfig(target_epsilon=4.0, clipping=clipping)
    config = TrainConfig(epochs=2, batch_size=64, hidden_layers=[8], privacy=privacy, max_physical_batch_size=32)
    plan = plan_privacy(len(x), config.batch_size, config.epochs, config.privacy)
    fit, steps = train_private(build_model("mlp", (6,), 2, [8]).module, x, y, x[:100], y[:100], config, plan, seed=0)
    assert fit.clipping == clipping and steps == plan.steps


def test_model_factory_and_its_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_models.py").write_text(
        "from torch import nn\n"
        "def good(input_shape, num_classes):\n    return nn.Sequential(nn.Linear(input_shape[0], num_classes))\n"
        "def wrong_output(input_shape, num_classes):\n    return nn.Linear(input_shape[0], num_classes + 1)\n"
        "def not_a_module():\n    return 42\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert isinstance(build_model("my_models:good", (6,), 2, []).module, nn.Module)
    with pytest.raises(InputError, match="outputs of shape"):
        build_model("my_models:wrong_output", (6,), 2, [])
    with pytest.raises(InputError, match=r"not a torch\.nn\.Module"):
        build_model("my_models:not_a_module", (6,), 2, [])
    with pytest.raises(InputError, match="cannot import"):
        build_model("no_such_module:f", (6,), 2, [])
    with pytest.raises(InputError, match="unknown model"):
        build_model("transformer", (6,), 2, [])
    sys.modules.pop("my_models", None)


def test_torchvision_models_are_fixed_for_opacus() -> None:
    model = build_model("torchvision:resnet18", (3, 32, 32), 10, []).module
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    assert any(isinstance(m, nn.GroupNorm) for m in model.modules())
    with pytest.raises(InputError, match="unknown torchvision model"):
        build_model("torchvision:nonet", (3, 32, 32), 10, [])


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_keeps_the_accounting() -> None:
    x, y = _toy(800)
    config = TrainConfig(
        epochs=3,
        batch_size=64,
        learning_rate=0.2,
        hidden_layers=[16],
        nproc=2,
        privacy=PrivacyConfig(target_epsilon=4.0),
    )
    plan = plan_privacy(len(x), config.batch_size, config.epochs, config.privacy)
    model = build_model("mlp", (6,), 2, [16]).module
    fit, steps = train_distributed(Job(True, model, x, y, x[:200], y[:200], config, plan, 0), world=2)
    assert steps == plan.steps
    assert final_epsilon(plan, steps).epsilon == final_epsilon(plan, plan.steps).epsilon
    assert fit.clipping == "bk" and len(fit.epoch_seconds) == 3 and fit.curve[-1].value > 0.7
    baseline, _ = train_distributed(Job(False, copy.deepcopy(model), x, y, x[:200], y[:200], config, None, 0), world=2)
    assert baseline.curve[-1].value > 0.8


@pytest.mark.slow
def test_digits_example_pipeline(tmp_path: Path) -> None:
    import yaml

    from auditor.config import load_config
    from auditor.pipeline import run

    spec = importlib.util.spec_from_file_location("prepare_digits", REPO / "examples" / "digits" / "prepare.py")
    assert spec and spec.loader
    prepare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prepare)
    assert prepare.write_images(tmp_path / "images", limit=400) == 400
    config = yaml.safe_load((REPO / "examples" / "digits" / "audit.yaml").read_text())
    config["train"]["epochs"] = 2
    config["audit"]["canaries"] = 40
    (tmp_path / "audit.yaml").write_text(yaml.safe_dump(config))
    evidence = run(load_config(tmp_path / "audit.yaml"))
    assert all(s.status == "ok" for s in evidence.stages if s.name not in ("previous", "anonymise")), evidence.stages
    assert evidence.data.format == "imagefolder" and evidence.data.rows == 400
    assert evidence.training is not None and evidence.training.privacy is not None
    assert evidence.training.model.name == "cnn" and evidence.training.privacy.clipping == "ghost"
    assert evidence.training.model.classes == [str(d) for d in range(10)]


@pytest.mark.slow
@pytest.mark.parametrize(("rows", "batch", "epochs"), [(1000, 100, 10), (2000, 200, 5)])
def test_reported_epsilon_never_exceeds_the_target(rows: int, batch: int, epochs: int) -> None:
    """With RDP at q = 0.1, Opacus' own search landed at 7.99 while the reported (larger, independent)
    bound was 8.02; the noise is now calibrated against the value that is reported."""
    plan = plan_privacy(rows, batch, epochs, PrivacyConfig(target_epsilon=8.0, accountant="rdp"))
    spent = final_epsilon(plan, plan.steps)
    assert spent.epsilon <= 8.0
    assert spent.crosscheck is not None and spent.crosscheck <= 8.0
    assert spent.epsilon > 7.9  # calibrated, not padded


def test_epsilon_curve_ends_at_the_reported_epsilon() -> None:
    from auditor.train.accounting import epsilon_curve

    plan = plan_privacy(1000, 100, 3, PrivacyConfig(noise_multiplier=1.0, accountant="rdp"))
    spent = final_epsilon(plan, plan.steps)
    curve = epsilon_curve(plan, spent.accountant, plan.steps, spent.epsilon)
    assert curve[-1] == (plan.steps, spent.epsilon)
    assert [e for _, e in curve] == sorted(e for _, e in curve)
