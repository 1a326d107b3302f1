"""Causal language modelling of free text: a GPT-2 from a local checkpoint or from a config, with DP.

Texts become ``(rows, 2, length)`` token ids and attention masks, each text
framed by the tokenizer's begin/end token. The model outputs per-token losses
(auditor/hf/causal.py), and the target of a row is its number of predicted
tokens, so the loops, the canary audit and membership inference work unchanged.
The held-out metric is perplexity; the trivial predictor is the training split's
unigram token frequencies.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from auditor.errors import InputError
from auditor.evidence import ExcludedColumn
from auditor.tasks.base import BuiltModel, Family, Prepared, Task
from auditor.tasks.text_classification import TextData, encode, joined_texts, text_problem
from auditor.train.preprocess import split_indices

if TYPE_CHECKING:
    from auditor.config import AuditConfig, TrainConfig
    from auditor.data import LoadedData
    from auditor.evidence import PiiSection
    from auditor.hf.checkpoint import Checkpoint

MISSING = "(missing)"


def frame_ids(text: TextData, tokens: list[int]) -> list[int]:
    """A text's token ids between the begin and end tokens, cut to the sequence length."""
    ids = [*([text.bos_id] if text.bos_id is not None else []), *tokens]
    ids = ids[: text.length - 1] if text.eos_id is not None else ids[: text.length]
    return ids + ([text.eos_id] if text.eos_id is not None else [])


def predicted(x: torch.Tensor) -> torch.Tensor:
    """Per row, the tokens the model predicts: every real token after the first."""
    return x[:, 1, 1:].sum(dim=1).to(torch.float32)


class CausalLanguageModel(Task):
    name: ClassVar[str] = "causal-lm"
    family: ClassVar[Family] = "generation"
    description: ClassVar[str] = "next-token prediction on free text by a GPT-2 causal language model"
    primary_metric: ClassVar[str] = "perplexity"
    higher_is_better: ClassVar[bool] = False
    primary_group_metric: ClassVar[str] = "perplexity"
    error_name: ClassVar[str] = "mean negative log-likelihood per token (nats)"
    trivial_name: ClassVar[str] = "unigram token frequencies of the training split"

    def accepts(self, data: LoadedData) -> str | None:
        return text_problem(data)

    def tokenizer(self, config: TrainConfig) -> tuple[Any, Checkpoint | None]:
        """The tokenizer (from train.model.tokenizer or the checkpoint) and the opened checkpoint, if any."""
        from auditor.config import HfModel
        from auditor.hf.causal import check_causal
        from auditor.hf.checkpoint import load_tokenizer, open_checkpoint, open_tokenizer_dir

        if not isinstance(config.model, HfModel):
            raise InputError(
                "causal-lm trains a GPT-2: set train.model: {hf: DIR} or {hf_config: {...}, tokenizer: DIR}"
            )
        checkpoint = None
        if config.model.hf is not None:
            checkpoint = open_checkpoint(Path(config.model.hf), config.model.allow_pickle, config.model.name)
            check_causal(checkpoint.architectures, checkpoint.model_type, f"{checkpoint.path} (train.model.hf)")
        if config.model.tokenizer is not None:
            return load_tokenizer(open_tokenizer_dir(Path(config.model.tokenizer))), checkpoint
        assert checkpoint is not None
        return load_tokenizer(checkpoint), checkpoint

    def prepare(self, data: LoadedData, pii: PiiSection | None, config: TrainConfig, seed: int) -> Prepared:
        tok, checkpoint = self.tokenizer(config)
        columns = list(data.text)
        texts = joined_texts(data.frame, columns, str(data.path))
        bos = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        eos = tok.eos_token_id
        pad = tok.pad_token_id if tok.pad_token_id is not None else (eos if eos is not None else 0)
        raw = [list(ids) for ids in tok(texts, add_special_tokens=False)["input_ids"]]
        framed_len = [len(r) + int(bos is not None) + int(eos is not None) for r in raw]
        too_long = sum(n > config.max_length for n in framed_len)
        if too_long and not config.truncation:
            raise InputError(
                f"{too_long} texts are longer than train.max_length ({config.max_length} tokens; longest "
                f"{max(framed_len)}): raise train.max_length or set train.truncation: true"
            )
        length = config.max_length if config.padding == "max_length" else min(config.max_length, max(framed_len))
        text = TextData(
            checkpoint=checkpoint,
            tokenizer=type(tok).__name__,
            columns=columns,
            length=length,
            truncated=too_long,
            mean_tokens=0.0,
            train_tokens=0,
            vocab_size=len(tok),
            pad_id=int(pad),
            special_ids=tuple(int(i) for i in tok.all_special_ids),
            bos_id=None if bos is None else int(bos),
            eos_id=None if eos is None else int(eos),
            tokenizer_object=tok,
        )
        ids = [frame_ids(text, r) for r in raw]
        if any(len(s) < 2 for s in ids):
            raise InputError("a text has fewer than two tokens: nothing to predict", where=str(data.path))
        x = encode(ids, length, text.pad_id)
        train, test = split_indices(np.zeros(len(x)), config.test_fraction, seed, stratify=False)
        lengths = np.array([len(s) for s in ids])
        text = text.with_counts(round(float(lengths.mean()), 3), int(lengths[train].sum()))
        groups = None
        if config.sensitive_attribute:
            groups = data.frame[config.sensitive_attribute].astype("str").fillna(MISSING).to_numpy()[test]
        excluded = [
            ExcludedColumn(name=str(c), reason="not a text column (data.text)")
            for c in data.frame.columns
            if c not in columns
        ]
        y = predicted(x)
        return Prepared(
            x_train=x[torch.from_numpy(train)],
            y_train=y[torch.from_numpy(train)],
            x_test=x[torch.from_numpy(test)],
            y_test=y[torch.from_numpy(test)],
            output_dim=text.vocab_size,
            classes=[],
            features=columns,
            excluded=excluded,
            groups_test=groups,
            text=text,
            train_index=train,
        )

    def encode_texts(
        self, prepared: Prepared, texts: list[str], pad_to_longest: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """More texts (exposure canaries, references) encoded like the training text; InputError if one is cut.

        Padded to the training length (rows that join the training set), or to the longest text (scoring)."""
        text: TextData = prepared.text
        raw = [list(r) for r in text.tokenizer_object(texts, add_special_tokens=False)["input_ids"]]
        longest = max(len(r) + int(text.bos_id is not None) + int(text.eos_id is not None) for r in raw)
        if longest > text.length:
            raise InputError(
                f"an exposure canary is {longest} tokens, longer than the training sequences ({text.length}; "
                "train.max_length): shorten audit.exposure.template or raise train.max_length"
            )
        ids = [frame_ids(text, r) for r in raw]
        x = encode(ids, longest if pad_to_longest else text.length, text.pad_id)
        return x, predicted(x)

    def build_model(self, prepared: Prepared, config: TrainConfig, weights: Path | None) -> BuiltModel:
        from auditor.hf.build_lm import build_causal_lm

        if weights is not None:
            raise InputError("train.init_weights does not apply to a Hugging Face model (train.model: {hf...})")
        return build_causal_lm(prepared, config)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return outputs.sum(dim=1) / targets.clamp(min=1)

    def metrics(self, outputs: np.ndarray, targets: np.ndarray, prepared: Prepared) -> dict[str, float | None]:
        tokens = float(targets.sum())
        nll = float(outputs.sum()) / max(tokens, 1.0)
        return {
            "perplexity": round(math.exp(min(nll, 700.0)), 6),
            "log_loss": round(nll, 6),
            "bits_per_token": round(nll / math.log(2), 6),
        }

    def errors(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        per_row: np.ndarray = outputs.sum(axis=1) / np.maximum(targets, 1)
        return per_row

    def trivial_errors(self, prepared: Prepared) -> np.ndarray:
        vocab = prepared.output_dim
        train_ids, train_mask = prepared.x_train[:, 0, 1:], prepared.x_train[:, 1, 1:].bool()
        counts = np.bincount(train_ids[train_mask].numpy(), minlength=vocab).astype(np.float64) + 1.0
        logp = np.log(counts / counts.sum())
        ids, mask = prepared.x_test[:, 0, 1:].numpy(), prepared.x_test[:, 1, 1:].numpy().astype(np.float64)
        nll = -(logp[ids] * mask).sum(axis=1)
        per_row: np.ndarray = nll / np.maximum(mask.sum(axis=1), 1)
        return per_row

    def group_metrics(self, outputs: np.ndarray, targets: np.ndarray, prepared: Prepared) -> dict[str, float | None]:
        return {"perplexity": self.metrics(outputs, targets, prepared)["perplexity"]}

    def synthetic_inputs(self, rng: np.random.Generator, count: int, prepared: Prepared) -> torch.Tensor:
        """Full-length texts of random tokens: nothing in real text pulls on them."""
        text: TextData = prepared.text
        special = set(text.special_ids)
        pool = np.array([i for i in range(text.vocab_size) if i not in special], dtype=np.int64)
        ids = [frame_ids(text, rng.choice(pool, size=text.length).tolist()) for _ in range(count)]
        return encode(ids, text.length, text.pad_id)

    def random_targets(self, rng: np.random.Generator, count: int, prepared: Prepared) -> torch.Tensor:
        """A text's target is fixed by the text (its token count): synthetic canaries fill the whole length."""
        return torch.full((count,), float(prepared.text.length - 1))

    def wrong_targets(self, rng: np.random.Generator, targets: torch.Tensor, prepared: Prepared) -> torch.Tensor:
        raise InputError(
            "audit.canary_kind: mislabelled does not apply to causal-lm (a text has no label); use synthetic"
        )


def check_canary_length(config: AuditConfig) -> None:
    """Before any stage: an exposure canary must fit in train.max_length tokens (InputError otherwise)."""
    from auditor.config_lm import SECRET

    exposure = config.audit.exposure
    tokenizer, _ = CausalLanguageModel().tokenizer(config.train)
    longest = max(
        len(tokenizer(exposure.template.replace(SECRET, c * exposure.length), add_special_tokens=False)["input_ids"])
        for c in exposure.alphabet
    )
    framed = (
        longest
        + int(tokenizer.bos_token_id is not None or tokenizer.eos_token_id is not None)
        + int(tokenizer.eos_token_id is not None)
    )
    if framed > config.train.max_length:
        raise InputError(
            f"an exposure canary is {framed} tokens, longer than train.max_length ({config.train.max_length}): "
            "shorten audit.exposure.template or raise train.max_length"
        )
