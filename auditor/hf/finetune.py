"""What a fine-tune trains: LoRA adapters, the top layers, or everything above the embeddings.

The classification head is new, so it is trained in every mode. The
returned description is what the report says was fine-tuned.
"""

from __future__ import annotations

import warnings
from typing import Any

from torch import nn

from auditor.config import LoraSettings
from auditor.errors import InputError

HEADS = ("classifier", "score", "pre_classifier", "lm_head")


def _set_trainable(module: nn.Module, trainable: bool) -> None:
    for parameter in module.parameters():
        parameter.requires_grad_(trainable)


def encoder_layers(model: nn.Module) -> tuple[str, nn.ModuleList]:
    """The stack of transformer blocks: the longest ModuleList in the model."""
    best: tuple[str, nn.ModuleList] | None = None
    for name, module in model.named_modules():
        if isinstance(module, nn.ModuleList) and (best is None or len(module) > len(best[1])):
            best = (name, module)
    if best is None or len(best[1]) == 0:
        raise InputError("cannot find the model's stack of layers for train.fine_tune")
    return best


def embeddings(model: Any) -> nn.Module:
    """The input embedding block (token, position and type embeddings with their norm), or the token embedding."""
    for name, module in model.named_modules():
        if name.split(".")[-1] in ("embeddings", "embed_tokens", "wte", "word_embeddings"):
            return module  # type: ignore[no-any-return]
    found: nn.Module = model.get_input_embeddings()
    return found


def freeze_embeddings(model: Any) -> None:
    """Freeze the embedding block and every position embedding (their ids are broadcast, opacus#841)."""
    _set_trainable(embeddings(model), False)
    for name, module in model.named_modules():
        if isinstance(module, nn.Embedding) and ("position" in name or name.endswith("wpe")):
            _set_trainable(module, False)


def _heads(model: nn.Module) -> list[str]:
    return [name for name, _ in model.named_children() if name in HEADS]


def apply_lora(model: Any, lora: LoraSettings, causal: bool = False) -> tuple[Any, str]:
    """Adapters on the attention projections; a classifier's new head is trained too, an LM head is not."""
    from peft import LoraConfig, TaskType, get_peft_model

    settings = LoraConfig(
        task_type=TaskType.CAUSAL_LM if causal else TaskType.SEQ_CLS,
        r=lora.r,
        lora_alpha=lora.alpha,  # type: ignore[arg-type]  # peft annotates int; it only divides by r
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        modules_to_save=None if causal else (_heads(model) or None),
    )
    try:
        with warnings.catch_warnings():
            # peft 0.21 reads transformers 5's deprecated is_gradient_checkpointing; nothing for users to act on.
            warnings.filterwarnings(
                "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
            )
            wrapped = get_peft_model(model, settings)
    except ValueError as exc:
        message = " ".join(str(exc).split())[:200]
        raise InputError(f"LoRA cannot be applied (train.lora): {message}") from None
    targets = sorted(getattr(wrapped.peft_config["default"], "target_modules", None) or [])
    head = "" if causal else ", with the head"
    return wrapped, f"LoRA r={lora.r}, alpha={lora.alpha:g} on {', '.join(targets)}{head}"


def apply_top(model: nn.Module, layers: int) -> str:
    _set_trainable(model, True)
    name, stack = encoder_layers(model)
    if layers > len(stack):
        raise InputError(f"train.top_layers is {layers} but the model has {len(stack)} layers")
    freeze_embeddings(model)
    for block in list(stack)[: len(stack) - layers]:
        _set_trainable(block, False)
    return f"top {layers} of {len(stack)} layers ({name}) and everything above them, embeddings frozen"


def apply_frozen_embeddings(model: nn.Module) -> str:
    _set_trainable(model, True)
    freeze_embeddings(model)
    _, stack = encoder_layers(model)
    return f"all {len(stack)} layers and the head, embeddings frozen"


def apply_fine_tune(model: Any, mode: str, lora: LoraSettings, top_layers: int) -> tuple[Any, str]:
    """Freeze what ``mode`` keeps fixed; returns the (possibly peft-wrapped) model and a one-line description."""
    if mode == "lora":
        return apply_lora(model, lora)
    if mode == "top":
        return model, apply_top(model, top_layers)
    return model, apply_frozen_embeddings(model)
