"""Checks before DP fine-tuning, and the check after it, against the known silent failures.

Before: shared (tied) trainable parameters, which per-example clipping cannot
attribute; trainable layers whose input is broadcast across the batch (HF's
``position_ids``, opacus#841), which are frozen; and trainable layers Opacus
has no per-sample gradient for. After: every trainable tensor of the DP model
moved (auditor/train/post.py, for every model).
"""

from __future__ import annotations

import torch
from opacus import GradSampleModule
from torch import nn

from auditor.errors import InputError


def _owners(model: nn.Module) -> dict[str, nn.Module]:
    """Modules that own trainable parameters directly, by path."""
    return {
        name: module
        for name, module in model.named_modules()
        if any(p.requires_grad for p in module.parameters(recurse=False))
    }


def check_shared(model: nn.Module) -> None:
    names: dict[int, list[str]] = {}
    for name, parameter in model.named_parameters(remove_duplicate=False):
        if parameter.requires_grad:
            names.setdefault(id(parameter), []).append(name)
    shared = [group for group in names.values() if len(group) > 1]
    if shared:
        raise InputError(
            f"trainable parameter shared by {' and '.join(shared[0][:3])} (tied weights): per-example clipping "
            "cannot attribute its gradient; freeze it or untie it (train.fine_tune)"
        )


def check_supported(model: nn.Module) -> None:
    unsupported = sorted(
        f"{name} ({type(module).__name__})"
        for name, module in _owners(model).items()
        if type(module) not in GradSampleModule.GRAD_SAMPLERS
    )
    if unsupported:
        raise InputError(
            f"trainable layers without a per-sample gradient in Opacus: {', '.join(unsupported[:4])}; "
            "freeze them (train.fine_tune: lora or top) or use another model"
        )


def freeze_broadcast(model: nn.Module, example: torch.Tensor) -> list[str]:
    """Run two examples through the model; freeze trainable embeddings whose input has batch size 1.

    Any other trainable layer fed a broadcast input is refused: its per-sample gradients would be wrong.
    """
    owners = _owners(model)
    seen: dict[str, int] = {}
    handles = []
    for name, module in owners.items():

        def hook(_module: nn.Module, args: tuple[object, ...], _out: object, name: str = name) -> None:
            if args and isinstance(args[0], torch.Tensor) and args[0].dim() > 0:
                seen[name] = int(args[0].shape[0])

        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    frozen = []
    for name, batch in sorted(seen.items()):
        if batch == len(example):
            continue
        if not isinstance(owners[name], nn.Embedding):
            raise InputError(
                f"trainable layer {name} receives an input broadcast across the batch (batch {batch}, "
                f"not {len(example)}): its per-example gradients would be wrong; freeze it"
            )
        owners[name].requires_grad_(False)
        frozen.append(f"froze {name}: its ids are broadcast across the batch (opacus#841)")
    return frozen


def preflight(model: nn.Module, example: torch.Tensor) -> list[str]:
    """All the checks before training; returns what was changed (frozen layers), InputError on a blocker."""
    check_shared(model)
    notes = freeze_broadcast(model, example)
    check_supported(model)
    if not any(p.requires_grad for p in model.parameters()):
        raise InputError("the fine-tune leaves no trainable parameter (train.fine_tune)")
    return notes
