"""Secret DP randomness: the seed fixes everything but the DP noise and the Poisson masks."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import auditor
from auditor.config import PrivacyConfig, TrainConfig
from auditor.evidence import dump_evidence
from auditor.train.accounting import plan_privacy
from auditor.train.loop import train_private
from auditor.train.models import build_model
from auditor.train.secure import SecureRandom
from tests.conftest import write_small_example


def _toy(rows: int = 600) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(rows, 6, generator=generator)
    return x, (x[:, 0] + x[:, 1] > 0).long()


def _weights(secure: bool, clipping: str = "bk") -> torch.Tensor:
    x, y = _toy()
    config = TrainConfig(
        epochs=2, batch_size=64, hidden_layers=[8], privacy=PrivacyConfig(noise_multiplier=1.0, secure_rng=secure)
    )
    config = config.model_copy(update={"privacy": config.privacy.model_copy(update={"clipping": clipping})})
    plan = plan_privacy(len(x), config.batch_size, config.epochs, config.privacy)
    torch.manual_seed(0)
    model = build_model("mlp", (6,), 2, [8]).module
    fit, _ = train_private(copy.deepcopy(model), x, y, x[:100], y[:100], config, plan, seed=3)
    return torch.cat([p.detach().flatten() for p in fit.model.parameters()])


@pytest.mark.parametrize("clipping", ["bk", "ghost"])
def test_the_seed_no_longer_determines_the_noise(clipping: str) -> None:
    assert torch.equal(_weights(False, clipping), _weights(False, clipping))  # seeded: reproducible
    assert not torch.equal(_weights(True, clipping), _weights(True, clipping))  # secret: not


@pytest.mark.parametrize("clipping", ["bk", "ghost"])
def test_os_entropy_is_the_only_source_of_the_noise(clipping: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With os.urandom pinned, two secure runs agree: nothing else (no seed, no output) feeds the noise."""
    monkeypatch.setattr("auditor.train.secure.os.urandom", lambda n: bytes(range(n)))
    assert torch.equal(_weights(True, clipping), _weights(True, clipping))


def test_secure_normals_and_uniforms_have_the_right_distribution() -> None:
    secure = SecureRandom()
    normals = secure.normal(1_000_001)
    assert len(normals) == 1_000_001
    assert abs(normals.mean()) < 0.01 and abs(normals.std() - 1) < 0.01
    assert abs(np.mean(np.abs(normals) > 1.959964) - 0.05) < 0.002
    uniforms = secure.uniform(1_000_000)
    assert uniforms.min() >= 0.0 and uniforms.max() < 1.0 and abs(uniforms.mean() - 0.5) < 0.002
    mask = secure.poisson_mask(1_000_000, 0.1, torch.device("cpu"))
    assert abs(float(mask.float().mean()) - 0.1) < 0.002


@pytest.mark.slow
def test_same_seed_same_split_epsilon_and_baseline_but_different_noise(tmp_path: Path) -> None:
    small = {
        "train.epochs": 2,
        "train.privacy": {"noise_multiplier": 1.0, "accountant": "rdp"},  # no noise search
        "pii.enabled": False,
        "energy.enabled": False,
    }
    config = write_small_example(tmp_path, rows=300, **small)
    first, second = (json.loads(dump_evidence(auditor.run(config, seed=5))) for _ in range(2))
    a, b = first["training"], second["training"]
    assert a["privacy"]["secure_mode"] and "os.urandom" in a["privacy"]["secure_mode_note"]
    assert a["privacy"]["epsilon"] == b["privacy"]["epsilon"]
    assert (a["train_rows"], a["test_rows"], a["features"]) == (b["train_rows"], b["test_rows"], b["features"])
    assert a["baseline"]["metrics"] == b["baseline"]["metrics"]  # non-DP figures stay reproducible
    assert a["baseline"]["curve"] == b["baseline"]["curve"]
    assert [p["train_loss"] for p in a["curve"]] != [p["train_loss"] for p in b["curve"]]  # secret noise and batches
    control = next(c for c in first["controls"] if c["id"] == "GDPR-DP-005")
    assert control["status"] == "pass"
