"""Training compute for EU AI Act Annex XI §1.2(d): counted, not guessed.

PyTorch's FlopCounterMode counts the forward and backward FLOPs of one
physical batch; the total scales that by the samples processed. DP's
per-sample clipping and noise add a few percent that are not counted, and
the report says so.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def flops_per_sample(
    model: nn.Module,
    example: torch.Tensor,
    labels: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> float:
    with FlopCounterMode(display=False) as counter:
        loss = loss_fn(model(example), labels).mean()
        torch.autograd.backward([loss])
    model.zero_grad(set_to_none=True)
    return float(counter.get_total_flops()) / max(1, example.shape[0])
