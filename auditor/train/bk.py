"""Book-keeping per-sample clipping for stacks of Linear layers (Bu et al., ICML 2023).

For a Linear layer with input a_i and output gradient g_i, sample i's weight
gradient is the outer product g_i a_iᵀ, whose norm is ‖g_i‖·‖a_i‖. One
backward pass to the layer outputs gives every g_i; the per-sample norms and
clipping factors c_i follow, and each layer's clipped, summed gradient is a
single matmul (c ⊙ g)ᵀ a. Cost: about one non-private step, against two
backward passes for ghost clipping.

Noise, the Poisson sampler and the privacy accountant stay Opacus' own
(``DPOptimizerFastGradientClipping``, ``DPDataLoader``, the PRV/RDP
accountants); this module only fills ``p.grad`` with the clipped sum.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from opacus.optimizers import DPOptimizerFastGradientClipping
from torch import nn

PARAMETER_FREE = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.Identity,
    nn.Dropout,
    nn.Flatten,
)


def supports_book_keeping(model: nn.Module) -> bool:
    """True for an ``nn.Sequential`` of Linear layers and parameter-free activations."""
    if not isinstance(model, nn.Sequential):
        return False
    layers = list(model)
    return any(isinstance(m, nn.Linear) for m in layers) and all(
        isinstance(m, (nn.Linear, *PARAMETER_FREE)) for m in layers
    )


def _cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(outputs, targets, reduction="none")


def clipped_grads(
    model: nn.Sequential,
    features: torch.Tensor,
    labels: torch.Tensor,
    max_grad_norm: float,
    accumulate: bool = False,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = _cross_entropy,
    groups: torch.Tensor | None = None,
) -> torch.Tensor:
    """Set (or add to) each parameter's ``.grad`` the sum of per-sample clipped gradients.

    Returns the summed (unclipped) loss of the batch, detached. ``accumulate`` adds to
    existing gradients, for a logical batch processed in several physical batches.
    With ``groups`` (a group index per row, e.g. the person), each group's summed
    gradient is clipped instead: its squared norm is the sum over pairs of its rows of
    (g_i . g_j)(a_i . a_j + 1) per layer, so only rows of groups with several rows
    need cross terms. All of a group's rows must be in this call.
    """
    inputs: list[torch.Tensor] = []
    outputs: list[torch.Tensor] = []
    layers: list[nn.Linear] = []
    hidden = features
    for layer in model:
        if isinstance(layer, nn.Linear):
            if hidden.dim() != 2:
                raise ValueError("book-keeping clipping needs 2-D inputs to every Linear layer")
            inputs.append(hidden.detach())
            hidden = layer(hidden)
            outputs.append(hidden)
            layers.append(layer)
        else:
            hidden = layer(hidden)
    losses = loss_fn(hidden, labels)
    grads = torch.autograd.grad(losses.sum(), outputs)
    sq_norms = torch.zeros_like(losses)
    for layer, a, g in zip(layers, inputs, grads, strict=True):
        # ‖g aᵀ‖² = ‖g‖²‖a‖², plus ‖g‖² for the bias. (vector_norm is much
        # faster on CPU than an elementwise square followed by a row sum.)
        a_sq = torch.linalg.vector_norm(a, dim=1).square_()
        if layer.bias is not None:
            a_sq.add_(1.0)
        sq_norms.addcmul_(torch.linalg.vector_norm(g, dim=1).square_(), a_sq)
    if groups is not None:
        sq_norms = _group_sq_norms(sq_norms, groups, layers, inputs, grads)
    factors = (max_grad_norm / (sq_norms.sqrt_() + 1e-6)).clamp_(max=1.0)
    column = factors.unsqueeze(1)
    for layer, a, g in zip(layers, inputs, grads, strict=True):
        # Scale whichever side is narrower; the product is the same.
        weight_grad = g.t() @ (a * column) if a.shape[1] <= g.shape[1] else (g * column).t() @ a
        bias_grad = torch.mv(g.t(), factors) if layer.bias is not None else None
        if accumulate and layer.weight.grad is not None:
            layer.weight.grad.add_(weight_grad)
            if bias_grad is not None and layer.bias is not None and layer.bias.grad is not None:
                layer.bias.grad.add_(bias_grad)
        else:
            layer.weight.grad = weight_grad
            if layer.bias is not None:
                layer.bias.grad = bias_grad
    return losses.detach().sum()


def _group_sq_norms(
    row_sq: torch.Tensor,
    groups: torch.Tensor,
    layers: list[nn.Linear],
    inputs: list[torch.Tensor],
    grads: tuple[torch.Tensor, ...],
) -> torch.Tensor:
    """Each row gets its group's squared gradient norm: its rows' own terms plus the cross terms."""
    count = int(groups.max()) + 1 if len(groups) else 0
    group_sq = torch.zeros(count, dtype=row_sq.dtype, device=row_sq.device).index_add_(0, groups, row_sq)
    sizes = torch.bincount(groups, minlength=count)
    shared = (sizes[groups] > 1).nonzero().squeeze(1)
    if len(shared):
        members = groups.index_select(0, shared)
        same = members.unsqueeze(0) == members.unsqueeze(1)
        same.fill_diagonal_(False)  # the diagonal is row_sq, already counted
        cross = torch.zeros(len(shared), len(shared), dtype=row_sq.dtype, device=row_sq.device)
        for layer, a, g in zip(layers, inputs, grads, strict=True):
            a_s, g_s = a.index_select(0, shared), g.index_select(0, shared)
            gram_a = a_s @ a_s.t()
            if layer.bias is not None:
                gram_a.add_(1.0)
            cross.addcmul_(gram_a, g_s @ g_s.t())
        group_sq.index_add_(0, members, (cross * same).sum(1))
    return group_sq.index_select(0, groups).clamp_(min=0.0)


def zero_grads(model: nn.Module) -> None:
    """An empty Poisson batch contributes nothing; the optimizer still adds noise."""
    for p in model.parameters():
        if p.requires_grad:
            p.grad = torch.zeros_like(p)


class BookKeepingDPOptimizer(DPOptimizerFastGradientClipping):  # type: ignore[misc]  # Opacus is untyped
    """Opacus' fast-gradient-clipping optimizer, with its per-parameter bookkeeping fused.

    ``pre_step`` keeps the parent's contract step for step: accumulate the clipped
    sums, honour a skip signal (physical batches), add Gaussian noise of standard
    deviation ``noise_multiplier * max_grad_norm`` to each summed gradient, divide by
    the expected batch size (mean reduction), then call the accountant's step hook.
    It does so with one noise draw per parameter and foreach arithmetic instead of
    Opacus' per-parameter Python calls, which on a small MLP cost as much as the
    noise itself. tests/test_train_dp.py checks it against Opacus' implementation.
    """

    def accumulate(self) -> None:
        # Book-keeping assigns a fresh tensor to p.grad on every physical batch, so
        # the first accumulation can take it as is instead of deep-copying it.
        for p in self.params:
            if p.summed_grad is None:
                p.summed_grad = p.grad.detach()
            else:
                p.summed_grad.add_(p.grad.detach())

    def pre_step(self, closure: object = None) -> bool:
        self.accumulate()
        if self._check_skip_next_step():
            self._is_last_step_skipped = True
            return False
        summed = [p.summed_grad for p in self.params]
        self._add_noise(summed)
        if self.loss_reduction == "mean":
            torch._foreach_mul_(summed, 1.0 / (self._expected_total_batch() * self.accumulated_iterations))
        for p, grad in zip(self.params, summed, strict=True):
            p.grad = grad.view_as(p)
        if self.step_hook:
            self.step_hook(self)
        self._is_last_step_skipped = False
        return True

    def _add_noise(self, summed: list[torch.Tensor]) -> None:
        """Add N(0, (noise_multiplier * max_grad_norm)^2) to each summed gradient, in place."""
        std = getattr(self, "_adjusted_noise_multiplier", self.noise_multiplier) * self.max_grad_norm
        secure = getattr(self, "secure", None)  # a SecureRandom: train.privacy.secure_rng
        noise = [
            secure.normal_like(s, std)
            if secure is not None
            else torch.normal(mean=0.0, std=std, size=s.shape, device=s.device, generator=self.generator)
            for s in summed
        ]
        torch._foreach_add_(summed, noise)

    def _expected_total_batch(self) -> float:
        """The expected logical batch size the mean reduction divides by."""
        return float(self.expected_batch_size)
