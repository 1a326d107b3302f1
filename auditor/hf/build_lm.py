"""Build the causal LM both runs start from: a checkpoint or a GPT-2 from a config, made exact for DP-SGD."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.evidence import LanguageModel
from auditor.hf.build import pretrained_info
from auditor.hf.causal import CausalLM, build_gpt2, linear_from_conv1d, load_causal, untie_head
from auditor.hf.finetune import apply_frozen_embeddings, apply_lora, apply_top
from auditor.hf.preflight import preflight
from auditor.tasks.base import BuiltModel, Prepared

if TYPE_CHECKING:
    from auditor.config import TrainConfig
    from auditor.tasks.text_classification import TextData

POSITIONS = "one row of position ids per example, so each example's position-embedding gradient is its own (opacus#841)"


def _fine_tune(model: Any, config: TrainConfig) -> tuple[Any, str, str]:
    """Freeze what train.fine_tune keeps fixed; returns the model, what was trained, and the head's handling."""
    if config.fine_tune == "lora":
        tied = model.get_output_embeddings().weight is model.get_input_embeddings().weight
        wrapped, description = apply_lora(model, config.lora, causal=True)
        return wrapped, description, "tied to the token embedding; both frozen under LoRA" if tied else "frozen"
    untied = untie_head(model)
    description = apply_top(model, config.top_layers) if config.fine_tune == "top" else apply_frozen_embeddings(model)
    head = "untied: the LM head trains its own copy of the token embedding" if untied else "not tied; trained"
    return model, description, head


def build_causal_lm(prepared: Prepared, config: TrainConfig) -> BuiltModel:
    from auditor.config import HfModel
    from auditor.train.stage import pick_device

    text: TextData = prepared.text
    assert isinstance(config.model, HfModel)
    checkpoint = text.checkpoint
    special = {"bos_token_id": text.bos_id, "eos_token_id": text.eos_id, "pad_token_id": text.pad_id}
    if checkpoint is None:
        model = build_gpt2(config.model.hf_config or {}, text.vocab_size, config.max_length, special)
        description, head = "every layer, from a seeded random initialisation", "not tied (built untied); trained"
    else:
        model = load_causal(str(checkpoint.path), checkpoint.weights_format == "safetensors")
        if model.get_input_embeddings().num_embeddings < text.vocab_size:
            from auditor.errors import InputError

            raise InputError(
                f"the tokenizer has {text.vocab_size} tokens but the model's embedding only "
                f"{model.get_input_embeddings().num_embeddings} (train.model.tokenizer)"
            )
    rewrites = linear_from_conv1d(model)
    model = model.to(pick_device(config.device))
    if checkpoint is not None:
        model, description, head = _fine_tune(model, config)
    module = CausalLM(model, config.precision)
    module.train()
    notes = preflight(module, prepared.x_train[:2].to(next(module.parameters()).device))
    settings = module.model.config
    info = LanguageModel(
        source="hf_config" if checkpoint is None else "checkpoint",
        architecture=type(model.get_base_model() if hasattr(model, "get_base_model") else model).__name__,
        layers=int(getattr(settings, "n_layer", getattr(settings, "num_hidden_layers", 0))),
        hidden_size=int(getattr(settings, "n_embd", getattr(settings, "hidden_size", 0))),
        heads=int(getattr(settings, "n_head", getattr(settings, "num_attention_heads", 0))),
        vocab_size=text.vocab_size,
        positions=int(getattr(settings, "n_positions", getattr(settings, "max_position_embeddings", 0))),
        tokenizer_path=str(config.model.tokenizer or config.model.hf),
        head=head,
        position_ids=POSITIONS,
    )
    pretrained = None
    if checkpoint is not None:
        pretrained = pretrained_info(checkpoint, info.architecture, module, config, description, [], notes)
    return BuiltModel(module=module, rewrites=rewrites, pretrained=pretrained, language_model=info)
