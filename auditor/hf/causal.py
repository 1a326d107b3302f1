"""Causal language models for DP training: GPT-2 from a checkpoint or a config, made safe for per-example clipping.

Three things would otherwise go wrong silently or loudly under Opacus:
- GPT-2's ``Conv1D`` layers have no per-sample gradient in Opacus: each becomes the
  equivalent ``nn.Linear`` (weight transposed), reported as a rewrite.
- The LM head shares its weight with the token embedding (tied): per-example clipping
  cannot attribute a shared parameter. A trained head gets its own copy (untied); under
  LoRA both stay frozen and may stay tied.
- HF broadcasts ``position_ids`` across the batch, so the position embedding's per-sample
  gradient has batch size 1 (opacus#841): the wrapper passes one row of positions per example.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

from auditor.errors import InputError
from auditor.tasks.base import Rewrite

EVAL_CHUNK = 128
CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel")


class CausalLM(nn.Module):
    """One tensor in (``(batch, 2, length)``: token ids and attention mask), per-token losses out.

    Position ``t`` of the output is the negative log-likelihood of token ``t + 1`` given the
    tokens up to ``t`` (0 where token ``t + 1`` is padding, and at the last position), so that
    every loop, the canary audit and membership inference treat text like any other tensor."""

    def __init__(self, model: Any, precision: str = "fp32") -> None:
        super().__init__()
        self.model = model
        self.precision = precision

    def logits(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0).repeat(ids.shape[0], 1)
        autocast = (
            torch.autocast(device_type=ids.device.type, dtype=torch.bfloat16)
            if self.precision == "bf16"
            else nullcontext()
        )
        with autocast:
            out: torch.Tensor = self.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
        return out.float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled() and len(x) > EVAL_CHUNK:
            return torch.cat([self.forward(x[i : i + EVAL_CHUNK]) for i in range(0, len(x), EVAL_CHUNK)])
        # Contiguous: Opacus' embedding norm sampler views the ids flat.
        ids, mask = x[:, 0].contiguous(), x[:, 1].contiguous()
        logp = torch.log_softmax(self.logits(ids, mask)[:, :-1], dim=-1)
        nll = -logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1) * mask[:, 1:].to(logp.dtype)
        return nn.functional.pad(nll, (0, 1))


def linear_from_conv1d(model: nn.Module) -> list[Rewrite]:
    """Replace every transformers ``Conv1D`` (``x @ W + b``, W of shape (in, out)) by the same ``nn.Linear``."""
    rewrites = []
    for name, module in list(model.named_modules()):
        if type(module).__name__ != "Conv1D":
            continue
        weight = module.weight
        linear = nn.Linear(weight.shape[0], weight.shape[1], bias=module.bias is not None)
        linear.to(device=weight.device, dtype=weight.dtype)
        with torch.no_grad():
            linear.weight.copy_(weight.t())
            if module.bias is not None:
                linear.bias.copy_(module.bias)
        linear.weight.requires_grad_(weight.requires_grad)
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name) if parent_name else model, child, linear)
        rewrites.append(Rewrite(path=name, before="Conv1D", after="Linear"))
    return rewrites


def untie_head(model: Any) -> bool:
    """Give the LM head its own copy of a weight it shares with the token embedding; True when it did."""
    head, embedding = model.get_output_embeddings(), model.get_input_embeddings()
    if head is None or embedding is None or head.weight is not embedding.weight:
        return False
    head.weight = nn.Parameter(embedding.weight.detach().clone(), requires_grad=embedding.weight.requires_grad)
    model.config.tie_word_embeddings = False
    return True


def check_causal(architectures: list[str], model_type: str, where: str) -> None:
    if not any(a.endswith(CAUSAL_SUFFIXES) for a in architectures):
        named = ", ".join(architectures) or model_type
        raise InputError(
            f"the checkpoint is not a causal language model ({named}); causal-lm needs a *ForCausalLM or "
            "*LMHeadModel checkpoint such as GPT-2",
            where=where,
        )


def build_gpt2(settings: dict[str, Any], vocab_size: int, positions: int, special: dict[str, Any]) -> Any:
    """A GPT-2 initialised from the current torch seed, head untied from the start."""
    from transformers import GPT2Config, GPT2LMHeadModel

    fixed = {"vocab_size", "n_positions", "tie_word_embeddings", "model_type"}
    clash = sorted(fixed & set(settings))
    if clash:
        raise InputError(f"train.model.hf_config sets {clash[0]}, which auditor derives (tokenizer, max_length)")
    known = set(GPT2Config().to_dict())
    unknown = sorted(set(settings) - known)
    if unknown:
        raise InputError(f"train.model.hf_config: unknown GPT2Config setting {unknown[0]!r}")
    try:
        config = GPT2Config(
            **settings, vocab_size=vocab_size, n_positions=positions, tie_word_embeddings=False, **special
        )
        return GPT2LMHeadModel(config)
    except (TypeError, ValueError, AssertionError) as exc:
        message = " ".join(str(exc).split())[:200]
        raise InputError(f"train.model.hf_config: {message}") from None


def load_causal(path: str, use_safetensors: bool) -> Any:
    from transformers import AutoModelForCausalLM

    from auditor.hf.checkpoint import quiet_transformers

    try:
        with quiet_transformers():
            return AutoModelForCausalLM.from_pretrained(path, local_files_only=True, use_safetensors=use_safetensors)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        message = " ".join(str(exc).split())[:200]
        raise InputError(f"cannot load the model: {message}", where=f"{path} (train.model.hf)") from None


def cache_argument(model: Any) -> str:
    """The name the model's forward takes its key-value cache by: ``cache`` (transformers >= 5.2x) or
    ``past_key_values`` (earlier)."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"
