"""Book-keeping clipping for any model whose trainable layers are Linear or LayerNorm (transformers).

The sequential version (``bk.py``) walks an MLP by hand. Here forward hooks
record each trainable layer's input ``a`` and output; one backward pass to
those outputs gives every output gradient ``g``. Per example i:

- Linear: the weight gradient is Σ_t g_it a_itᵀ. Its squared norm is either
  ⟨a_i a_iᵀ, g_i g_iᵀ⟩ (the "ghost norm", O(T²) per example) or the norm of
  the materialised d_out × d_in matrix, whichever is cheaper (Bu et al.'s
  mixed strategy: LoRA's thin matrices are materialised, square ones are not).
  The bias gradient is Σ_t g_it.
- LayerNorm: the weight gradient is Σ_t g_it ⊙ â_it with â the normalised
  input (recomputed), the bias gradient Σ_t g_it; both are small.

With the clipping factors c_i = min(1, C/‖∇_i‖), each layer's clipped sum is
one matmul, as in a non-private step. No second backward pass (Opacus' ghost
clipping needs one) and no per-example copy of wide weight matrices (Opacus'
hooks mode needs one). tests/test_bk_hooks.py checks the clipped sums
against Opacus' own per-sample gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

SUPPORTED = (nn.Linear, nn.LayerNorm)
EPS = 1e-6


def trainable_owners(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if any(p.requires_grad for p in m.parameters(recurse=False))]


def supports_hooked_book_keeping(model: nn.Module) -> bool:
    """True when every trainable parameter sits in a Linear or LayerNorm layer and none is shared."""
    owners = trainable_owners(model)
    if not owners or not all(type(m) in SUPPORTED for m in owners):
        return False
    seen: set[int] = set()
    for _, parameter in model.named_parameters(remove_duplicate=False):
        if parameter.requires_grad:
            if id(parameter) in seen:
                return False
            seen.add(id(parameter))
    return True


@dataclass
class _Call:
    module: nn.Module
    inputs: torch.Tensor
    output: torch.Tensor


def _as_3d(t: torch.Tensor) -> torch.Tensor:
    """(batch, positions, features): a 2-D activation is one position per example."""
    if t.dim() == 2:
        return t.unsqueeze(1)
    return t.reshape(t.shape[0], -1, t.shape[-1])


def _linear_norms(layer: nn.Linear, a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    positions = a.shape[1]
    if positions * positions <= layer.in_features * layer.out_features:
        # Ghost norm: ‖Σ_t g_t a_tᵀ‖² = Σ_{t,s} (a_t·a_s)(g_t·g_s).
        weight = (torch.bmm(a, a.transpose(1, 2)) * torch.bmm(g, g.transpose(1, 2))).sum(dim=(1, 2))
    else:
        weight = torch.bmm(g.transpose(1, 2), a).flatten(1).square().sum(dim=1)
    if layer.bias is not None and layer.bias.requires_grad:
        weight = weight + g.sum(dim=1).square().sum(dim=1)
    return weight


def _layer_norm_parts(layer: nn.LayerNorm, a: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    normalised = nn.functional.layer_norm(a, layer.normalized_shape, eps=layer.eps)
    return (g * normalised).sum(dim=1), g.sum(dim=1)


def clipped_grads_hooked(
    model: nn.Module,
    features: torch.Tensor,
    labels: torch.Tensor,
    max_grad_norm: float,
    accumulate: bool = False,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Set (or add to) each trainable parameter's ``.grad`` the sum of per-example clipped gradients.

    Returns the summed loss of the batch, detached."""
    if loss_fn is None:
        raise ValueError("book-keeping clipping needs the task's per-example loss")
    calls: list[_Call] = []
    owners = trainable_owners(model)

    def record(module: nn.Module, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        calls.append(_Call(module, args[0].detach(), output))

    handles = [m.register_forward_hook(record) for m in owners]
    try:
        losses = loss_fn(model(features), labels)
    finally:
        for handle in handles:
            handle.remove()
    if len(calls) != len(owners) or len({id(c.module) for c in calls}) != len(owners):
        raise RuntimeError("book-keeping clipping needs every trainable layer called exactly once per forward pass")
    grads = torch.autograd.grad(losses.sum(), [c.output for c in calls])
    sq_norms = torch.zeros(len(features), device=losses.device, dtype=torch.float32)
    parts: list[tuple[nn.Module, torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]] = []
    for call, grad in zip(calls, grads, strict=True):
        a, g = _as_3d(call.inputs.float()), _as_3d(grad.float())
        if isinstance(call.module, nn.Linear):
            sq_norms += _linear_norms(call.module, a, g)
            parts.append((call.module, a, g, None))
        else:
            assert isinstance(call.module, nn.LayerNorm)
            weight, bias = _layer_norm_parts(call.module, a, g)
            if call.module.weight is not None and call.module.weight.requires_grad:
                sq_norms += weight.square().sum(dim=1)
            if call.module.bias is not None and call.module.bias.requires_grad:
                sq_norms += bias.square().sum(dim=1)
            parts.append((call.module, a, g, (weight, bias)))
    factors = (max_grad_norm / (sq_norms.sqrt() + EPS)).clamp(max=1.0)
    for module, a, g, per_example in parts:
        scaled = g * factors.view(-1, 1, 1)
        if per_example is None:
            weight_grad = scaled.flatten(0, 1).t() @ a.flatten(0, 1)
            bias_grad = scaled.sum(dim=(0, 1))
        else:
            weight_grad = factors @ per_example[0]
            bias_grad = factors @ per_example[1]
        _assign(getattr(module, "weight", None), weight_grad, accumulate)
        _assign(getattr(module, "bias", None), bias_grad, accumulate)
    return losses.detach().sum()


def _assign(parameter: torch.Tensor | None, grad: torch.Tensor, accumulate: bool) -> None:
    if parameter is None or not parameter.requires_grad:
        return
    grad = grad.to(parameter.dtype).view_as(parameter)
    if accumulate and parameter.grad is not None:
        parameter.grad.add_(grad)
    else:
        parameter.grad = grad
