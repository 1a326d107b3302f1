"""Build the text classifier both runs start from: load, fine-tune mode, DP preflight."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.evidence import PretrainedModel
from auditor.hf.checkpoint import load_classifier
from auditor.hf.finetune import apply_fine_tune
from auditor.hf.model import TextClassifier
from auditor.hf.preflight import preflight
from auditor.tasks.base import BuiltModel, Prepared

if TYPE_CHECKING:
    from torch import nn

    from auditor.config import TrainConfig
    from auditor.hf.checkpoint import Checkpoint
    from auditor.tasks.text_classification import TextData


def build_text_classifier(prepared: Prepared, config: TrainConfig) -> BuiltModel:
    """Load the checkpoint with a new head, freeze per train.fine_tune, and run the DP preflight.

    The model is on the training device before peft adds adapters, so that they are
    materialised where they train (peft#3409, behind opacus#820)."""
    from auditor.train.stage import pick_device

    text: TextData = prepared.text
    checkpoint = text.checkpoint
    assert checkpoint is not None, "text-classification always reads a checkpoint"
    hf_model, new_weights = load_classifier(checkpoint, prepared.output_dim)
    architecture = type(hf_model).__name__
    if text.pad_id is not None and getattr(hf_model.config, "pad_token_id", None) is None:
        hf_model.config.pad_token_id = text.pad_id
    hf_model = hf_model.to(pick_device(config.device))
    tuned, description = apply_fine_tune(hf_model, config.fine_tune, config.lora, config.top_layers)
    model = TextClassifier(tuned, config.precision)
    model.train()
    notes = preflight(model, prepared.x_train[:2].to(next(model.parameters()).device))
    info = pretrained_info(checkpoint, architecture, model, config, description, new_weights, notes)
    return BuiltModel(module=model, rewrites=[], pretrained=info)


def pretrained_info(
    checkpoint: Checkpoint,
    architecture: str,
    model: nn.Module,
    config: TrainConfig,
    description: str,
    new_weights: list[str],
    notes: list[str],
) -> PretrainedModel:
    """The evidence of a fine-tuned checkpoint: what it is, what was trained, what the preflight changed."""
    return PretrainedModel(
        base_model=checkpoint.base_model,
        path=str(checkpoint.path),
        model_type=checkpoint.model_type,
        architecture=architecture,
        weights_format="safetensors" if checkpoint.weights_format == "safetensors" else "pytorch-pickle",
        weights_sha256=checkpoint.weights_sha256,
        total_parameters=sum(p.numel() for p in model.parameters()),
        trainable_parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
        fine_tune=config.fine_tune,
        fine_tune_description=description,
        new_weights=new_weights,
        preflight=notes,
        precision=config.precision,
    )
