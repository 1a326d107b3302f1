"""Checks and figures after training: the weights moved, token throughput, the 6·N·tokens cross-check.

opacus#820: six DP-LoRA runs (45 GPU-hours) looked normal, loss falling and
epsilon growing, while the LoRA weights never moved (max|Δ| = 0). DP noise
moves every tensor the optimizer updates, so a DP model with an unchanged
trainable tensor trained nothing there: the train stage fails with an error.
"""

from __future__ import annotations

import torch
from torch import nn

from auditor.config import TrainConfig
from auditor.evidence import TextInputs, WeightCheck
from auditor.tasks.base import Prepared

EXAMPLES = 5


class WeightsDidNotMove(RuntimeError):
    """Training finished but trainable weights are exactly where they started."""


def weight_check(name: str, initial: nn.Module, trained: nn.Module) -> WeightCheck:
    before = dict(initial.named_parameters())
    unchanged: list[str] = []
    largest, count = 0.0, 0
    for key, parameter in trained.named_parameters():
        if not parameter.requires_grad or key not in before:
            continue
        count += 1
        delta = float((parameter.detach().float().cpu() - before[key].detach().float().cpu()).abs().max())
        largest = max(largest, delta)
        if delta == 0.0:
            unchanged.append(key)
    return WeightCheck(
        model=name,
        tensors=count,
        unchanged=len(unchanged),
        unchanged_examples=unchanged[:EXAMPLES],
        max_abs_delta=largest,
    )


def require_moved(check: WeightCheck, private: bool) -> None:
    """Any unchanged tensor of a DP model, or a model where nothing moved, is a stage error."""
    if (private and check.unchanged) or check.unchanged == check.tensors:
        raise WeightsDidNotMove(
            f"post-check (opacus#820): {check.unchanged} of {check.tensors} trainable tensors of the {check.model} "
            f"never moved (max|delta| = 0), so the run trained nothing there; first: {check.unchanged_examples[0]}"
        )


def real_tokens(x: torch.Tensor) -> int:
    """Non-padding tokens in a text batch ``(rows, 2, length)``: the attention mask's sum."""
    return int(x[:, 1].sum())


def text_inputs(
    prepared: Prepared, config: TrainConfig, x: torch.Tensor, dp_seconds: float | None, base_seconds: float | None
) -> TextInputs:
    tokens = real_tokens(x)
    text = prepared.text
    return TextInputs(
        columns=list(text.columns),
        tokenizer=text.tokenizer,
        max_length=config.max_length,
        padding=config.padding,
        truncation=config.truncation,
        sequence_length=text.length,
        truncated_texts=text.truncated,
        mean_tokens=text.mean_tokens,
        training_tokens=tokens,
        tokens_per_second=round(tokens / dp_seconds, 3) if dp_seconds else None,
        baseline_tokens_per_second=round(tokens / base_seconds, 3) if base_seconds else None,
    )


def flops_6nd(model: nn.Module, positions: int) -> float:
    """6 x non-embedding parameters x token positions: the usual estimate for a full training step.

    With frozen layers (LoRA, top layers) the measured count is lower: frozen weights get no
    weight gradient, about a third of a full step's matrix work."""
    embedded = sum(p.numel() for m in model.modules() if isinstance(m, nn.Embedding) for p in m.parameters(False))
    return 6.0 * float(sum(p.numel() for p in model.parameters()) - embedded) * positions
