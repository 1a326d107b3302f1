"""Book-keeping clipping on transformers equals clipping Opacus' own per-sample gradients."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from opacus import GradSampleModule

from auditor.config import LoraSettings
from auditor.hf.checkpoint import load_classifier, open_checkpoint
from auditor.hf.finetune import apply_fine_tune
from auditor.hf.model import TextClassifier
from auditor.train.bk_hooks import clipped_grads_hooked, supports_hooked_book_keeping
from auditor.train.loop import opacus_notices_silenced


def _model(text_example: Path, mode: str) -> TextClassifier:
    torch.manual_seed(0)
    hf, _ = load_classifier(open_checkpoint(text_example / "bert", allow_pickle=False), labels=3)
    tuned, _ = apply_fine_tune(hf, mode, LoraSettings(r=4), top_layers=1)
    model = TextClassifier(tuned)
    for module in model.modules():  # dropout off, so both computations see the same function
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    return model.train()  # Opacus records activations in training mode only


def _batch(rows: int = 6, length: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    ids = torch.randint(10, 200, (rows, length), generator=generator)
    mask = torch.ones_like(ids)
    mask[0, 8:] = 0  # one padded example
    return torch.stack([ids, mask], dim=1), torch.randint(0, 3, (rows,), generator=generator)


def _opacus_clipped(model: TextClassifier, x: torch.Tensor, y: torch.Tensor, clip: float) -> dict[str, torch.Tensor]:
    wrapped = GradSampleModule(copy.deepcopy(model), loss_reduction="sum")
    loss = torch.nn.functional.cross_entropy(wrapped(x), y, reduction="sum")
    with opacus_notices_silenced():  # token ids need no gradient, so PyTorch notes the hook fires on outputs
        loss.backward()
    named = [(n.removeprefix("_module."), p) for n, p in wrapped.named_parameters() if p.requires_grad]
    norms = torch.stack([p.grad_sample.flatten(1).norm(dim=1) for _, p in named]).norm(dim=0)
    factors = (clip / (norms + 1e-6)).clamp(max=1.0)
    return {n: torch.einsum("b,b...->...", factors, p.grad_sample) for n, p in named}


@pytest.mark.parametrize("mode", ["lora", "top", "frozen-embeddings"])
def test_clipped_sums_match_opacus(text_example: Path, mode: str) -> None:
    model = _model(text_example, mode)
    assert supports_hooked_book_keeping(model)
    x, y = _batch()
    clip = 0.05  # small enough that every example is clipped
    expected = _opacus_clipped(model, x, y, clip)
    ours = copy.deepcopy(model)
    loss = clipped_grads_hooked(
        ours, x, y, clip, loss_fn=lambda o, t: torch.nn.functional.cross_entropy(o, t, reduction="none")
    )
    assert loss > 0
    got = {n: p.grad for n, p in ours.named_parameters() if p.requires_grad}
    assert set(got) == set(expected)
    for name, grad in expected.items():
        assert got[name] is not None, name
        torch.testing.assert_close(got[name], grad, rtol=1e-4, atol=1e-6, msg=name)


def test_shared_or_unsupported_layers_are_not_book_kept(text_example: Path) -> None:
    model = _model(text_example, "frozen-embeddings")
    model.model.bert.embeddings.word_embeddings.weight.requires_grad_(True)  # an Embedding: not Linear/LayerNorm
    assert not supports_hooked_book_keeping(model)


def test_bf16_autocast_keeps_fp32_gradients(text_example: Path) -> None:
    """train.precision: bf16 autocasts the forward pass; outputs and clipped gradients stay fp32."""
    model = _model(text_example, "lora")
    x, y = _batch()
    ce = lambda o, t: torch.nn.functional.cross_entropy(o, t, reduction="none")  # noqa: E731
    full = copy.deepcopy(model)
    clipped_grads_hooked(full, x, y, 0.05, loss_fn=ce)
    half = copy.deepcopy(model)
    half.precision = "bf16"
    assert half(x).dtype == torch.float32
    clipped_grads_hooked(half, x, y, 0.05, loss_fn=ce)
    for (name, a), b in zip(full.named_parameters(), half.parameters(), strict=True):
        if a.requires_grad:
            assert b.grad is not None and b.grad.dtype == torch.float32, name
            torch.testing.assert_close(b.grad, a.grad, rtol=0.1, atol=2e-3, msg=name)
