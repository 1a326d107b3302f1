"""The text classifier as auditor trains it: one tensor in, logits out.

Inputs are ``(batch, 2, length)`` integer tensors: token ids and the
attention mask, so that every loop, the canary audit and membership
inference treat text like any other tensor data.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

EVAL_CHUNK = 256


class TextClassifier(nn.Module):
    def __init__(self, model: Any, precision: str = "fp32") -> None:
        super().__init__()
        self.model = model
        self.precision = precision

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled() and len(x) > EVAL_CHUNK:
            # Evaluation passes whole splits; chunks keep the attention activations small.
            return torch.cat([self.forward(x[i : i + EVAL_CHUNK]) for i in range(0, len(x), EVAL_CHUNK)])
        ids, mask = x[:, 0], x[:, 1]
        autocast = (
            torch.autocast(device_type=ids.device.type, dtype=torch.bfloat16)
            if self.precision == "bf16"
            else nullcontext()
        )
        with autocast:
            logits: torch.Tensor = self.model(input_ids=ids, attention_mask=mask).logits
        return logits.float()


def trainable_named(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p for name, p in model.named_parameters() if p.requires_grad}
