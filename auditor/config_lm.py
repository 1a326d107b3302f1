"""Hugging Face models (a local checkpoint, or a GPT-2 built from a config) and the language-model audits' settings."""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, model_validator

from auditor.config_base import _Strict

SECRET = "{secret}"
MIN_SPACE_FACTOR = 10
"""The randomness space must hold this many times the references and canaries drawn from it."""


class HfModel(_Strict):
    """A Hugging Face model: a checkpoint in a local directory, or (causal-lm) a GPT-2 built from a config."""

    hf: str | None = Field(
        None, description="Directory with config.json, the weights and the tokenizer, relative to the config."
    )
    hf_config: dict[str, Any] | None = Field(
        None,
        description="causal-lm only: a small GPT-2 initialised from the seed, from these GPT2Config settings "
        "(e.g. {n_layer: 2, n_embd: 128, n_head: 4}); vocab_size and n_positions come from the tokenizer and "
        "train.max_length. Trained in full.",
    )
    tokenizer: str | None = Field(
        None,
        description="A local tokenizer directory (tokenizer.json); the checkpoint's own tokenizer when omitted. "
        "Required with hf_config.",
    )
    name: str | None = Field(
        None,
        max_length=200,
        description="The base model's name for the report and model card; the directory's name when omitted.",
    )
    allow_pickle: bool = Field(
        False,
        description="Also accept pytorch_model.bin (a pickle, which can run code when loaded); "
        "by default only safetensors weights are read.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> HfModel:
        if (self.hf is None) == (self.hf_config is None):
            raise ValueError("train.model needs exactly one of hf (a checkpoint directory) or hf_config")
        if self.hf_config is not None and self.tokenizer is None:
            raise ValueError("train.model.hf_config needs train.model.tokenizer (a local tokenizer directory)")
        return self

    @property
    def source(self) -> str:
        """The checkpoint directory, or the tokenizer directory of a model built from a config."""
        return self.hf if self.hf is not None else str(self.tokenizer)


class ExposureConfig(_Strict):
    """causal-lm: the Secret Sharer exposure audit (Carlini et al. 2019).

    Canary secrets drawn from ``alphabet``^``length`` fill ``template`` and join the training
    text (after anonymisation) ``repetitions`` times each; exposure ranks each canary among
    ``references`` candidates from the same space that were never inserted."""

    enabled: bool = True
    template: str = Field(
        "my account number is {secret}", min_length=len(SECRET), max_length=500, description="Holds {secret} once."
    )
    alphabet: str = Field("0123456789", min_length=2, max_length=256, description="The characters of a secret.")
    length: int = Field(9, ge=1, le=64, description="Characters per secret.")
    repetitions: list[int] = Field(
        default_factory=lambda: [1, 4, 16],
        min_length=1,
        description="How many times each group of canaries is inserted.",
    )
    canaries_per_repetition: int = Field(3, ge=1, le=100)
    references: int = Field(
        10_000,
        ge=100,
        le=1_000_000,
        description="Candidates never inserted; the interpolated exposure's ceiling is log2 of it.",
    )

    @model_validator(mode="after")
    def _space(self) -> ExposureConfig:
        if self.template.count(SECRET) != 1:
            raise ValueError("audit.exposure.template must hold {secret} exactly once")
        if len(set(self.alphabet)) != len(self.alphabet):
            raise ValueError("audit.exposure.alphabet repeats a character")
        if any(r < 1 or r > 1000 for r in self.repetitions) or len(set(self.repetitions)) != len(self.repetitions):
            raise ValueError("audit.exposure.repetitions must be distinct counts from 1 to 1000")
        drawn = self.references + self.canaries_per_repetition * len(self.repetitions)
        bits = self.length * math.log2(len(self.alphabet))
        if bits < math.log2(MIN_SPACE_FACTOR * drawn):
            raise ValueError(
                f"audit.exposure: the randomness space ({len(self.alphabet)}^{self.length}, {bits:.1f} bits) is too "
                f"small for {drawn:,} distinct secrets; it must hold at least {MIN_SPACE_FACTOR}x as many: "
                "lengthen the secret or widen the alphabet"
            )
        return self

    @property
    def space_bits(self) -> float:
        return self.length * math.log2(len(self.alphabet))
