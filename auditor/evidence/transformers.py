"""Evidence of transformer models: a pretrained checkpoint and its fine-tune, text inputs, causal LMs."""

from __future__ import annotations

from typing import Literal

from auditor.evidence._base import Record


class PretrainedModel(Record):
    """A pretrained Hugging Face model, fine-tuned from a local directory (nothing downloaded)."""

    base_model: str
    """The base model's name (train.model.name, or the directory's name); the model card's base_model."""
    path: str
    """The directory the weights and tokenizer were read from, with local_files_only."""
    model_type: str
    """The transformers model type from config.json, e.g. bert."""
    architecture: str
    """The transformers class fine-tuned, e.g. BertForSequenceClassification."""
    weights_format: Literal["safetensors", "pytorch-pickle"]
    """Weights file format; pickle is read only with train.model.allow_pickle."""
    weights_sha256: str
    """SHA-256 of the weights file (of the sorted shard digests for a sharded checkpoint)."""
    total_parameters: int
    """All parameters, frozen ones included."""
    trainable_parameters: int
    """Parameters the fine-tune trains."""
    fine_tune: Literal["lora", "top", "frozen-embeddings"]
    """train.fine_tune."""
    fine_tune_description: str
    """What was trained, in words (adapters and their targets, or which layers)."""
    new_weights: list[str]
    """Weights absent from the checkpoint, initialised from the seed (the new classification head)."""
    preflight: list[str]
    """What the DP preflight changed before training (layers frozen), empty when nothing."""
    precision: Literal["fp32", "bf16"]
    """train.precision: bf16 runs the forward pass under autocast; weights and gradients stay fp32."""


class TextInputs(Record):
    """How texts became model inputs, and the training throughput in tokens."""

    columns: list[str]
    """The data.text columns (joined by a blank line when several)."""
    tokenizer: str
    """Tokenizer class, read from the model directory."""
    max_length: int
    """train.max_length."""
    padding: Literal["longest", "max_length"]
    """train.padding."""
    truncation: bool
    """train.truncation."""
    sequence_length: int
    """Token positions per example after padding."""
    truncated_texts: int
    """Texts cut to max_length."""
    mean_tokens: float
    """Mean tokens per text after truncation, special tokens included."""
    training_tokens: int
    """Real (non-padding) tokens in one pass over the training set as trained, canaries included."""
    tokens_per_second: float | None
    """training_tokens per second of optimisation of the trained (DP) model."""
    baseline_tokens_per_second: float | None
    """The same for the non-private baseline."""


class LanguageModel(Record):
    """A causal language model (causal-lm) and what was done to make DP-SGD exact on it."""

    source: Literal["checkpoint", "hf_config"]
    """A pretrained checkpoint (train.model.hf), or a GPT-2 initialised from the seed (train.model.hf_config)."""
    architecture: str
    """The transformers class, e.g. GPT2LMHeadModel."""
    layers: int
    """Transformer blocks."""
    hidden_size: int
    """Width of the hidden states."""
    heads: int
    """Attention heads per block."""
    vocab_size: int
    """Tokens in the tokenizer's vocabulary (the embedding and head size)."""
    positions: int
    """Token positions the model was built for (n_positions)."""
    tokenizer_path: str
    """The tokenizer directory (train.model.tokenizer, or the checkpoint)."""
    head: str
    """How the LM head's weight tie with the token embedding was handled (untied, or tied and frozen)."""
    position_ids: str
    """How position ids reach the model (one row per example: opacus#841)."""
