"""Classification of free text with a pretrained Hugging Face model fine-tuned from a local directory.

The tokenizer comes from the model directory. Texts become ``(rows, 2,
length)`` tensors of token ids and attention masks, so the training loops,
the canary audit and membership inference work unchanged. Canaries are
out-of-distribution texts: random vocabulary tokens with random labels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import torch

from auditor.errors import InputError
from auditor.evidence import ExcludedColumn
from auditor.tasks._classification import ClassificationTask
from auditor.tasks.base import BuiltModel, Prepared
from auditor.train.preprocess import split_indices

if TYPE_CHECKING:
    from auditor.config import TrainConfig
    from auditor.data import LoadedData
    from auditor.evidence import PiiSection
    from auditor.hf.checkpoint import Checkpoint

MISSING = "(missing)"
SENSITIVE = "sensitive attribute: used for per-group metrics only"


@dataclass(frozen=True)
class TextData:
    """What the text task learnt while preparing, for the model and the evidence."""

    checkpoint: Checkpoint | None
    tokenizer: str
    columns: list[str]
    length: int
    truncated: int
    mean_tokens: float
    train_tokens: int
    vocab_size: int
    pad_id: int
    special_ids: tuple[int, ...]
    bos_id: int | None
    eos_id: int | None
    tokenizer_object: Any = None
    """The tokenizer itself (causal-lm encodes canaries and prompts with it)."""

    def with_counts(self, mean_tokens: float, train_tokens: int) -> TextData:
        return replace(self, mean_tokens=mean_tokens, train_tokens=train_tokens)


def text_problem(data: LoadedData) -> str | None:
    """Why a text task cannot learn from ``data``, or None: it needs a table with data.text."""
    if data.format == "imagefolder":
        return "needs a table with a text column, not an image folder"
    return None if data.text else "needs the text column(s) named in data.text"


def joined_texts(frame: pd.DataFrame, columns: list[str], where: str) -> list[str]:
    """The text of each row (several columns joined by a blank line); empty texts are refused."""
    parts = [frame[c].map(lambda v: "" if pd.isna(v) else str(v)) for c in columns]
    texts = ["\n\n".join(p for p in row if p.strip()) for row in zip(*parts, strict=True)]
    empty = [i for i, text in enumerate(texts) if not text.strip()]
    if empty:
        raise InputError(
            f"{len(empty)} rows have empty text in data.text (first: row {empty[0]}); drop or fill them", where=where
        )
    return texts


def _tokenize(tokenizer: Any, texts: list[str], config: TrainConfig) -> tuple[list[list[int]], int]:
    full = tokenizer(texts, truncation=False, padding=False)["input_ids"]
    too_long = [i for i, ids in enumerate(full) if len(ids) > config.max_length]
    if too_long and not config.truncation:
        longest = max(len(full[i]) for i in too_long)
        raise InputError(
            f"{len(too_long)} texts are longer than train.max_length ({config.max_length} tokens; longest {longest}): "
            "raise train.max_length or set train.truncation: true"
        )
    if not too_long:
        return [list(ids) for ids in full], 0
    cut = tokenizer(texts, truncation=True, max_length=config.max_length, padding=False)["input_ids"]
    return [list(ids) for ids in cut], len(too_long)


def _pad_id(tokenizer: Any) -> int:
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0):
        if candidate is not None:
            return int(candidate)
    return 0


def encode(ids: list[list[int]], length: int, pad: int) -> torch.Tensor:
    """Token ids and attention masks as one ``(rows, 2, length)`` tensor."""
    out = torch.full((len(ids), 2, length), pad, dtype=torch.long)
    out[:, 1] = 0
    for row, seq in enumerate(ids):
        out[row, 0, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        out[row, 1, : len(seq)] = 1
    return out


class TextClassification(ClassificationTask):
    name: ClassVar[str] = "text-classification"
    description: ClassVar[str] = "a class label predicted from free text by a fine-tuned pretrained transformer"

    def accepts(self, data: LoadedData) -> str | None:
        return text_problem(data)

    def prepare(self, data: LoadedData, pii: PiiSection | None, config: TrainConfig, seed: int) -> Prepared:
        from auditor.config import HfModel
        from auditor.hf.checkpoint import load_tokenizer, open_checkpoint

        if not isinstance(config.model, HfModel):
            raise InputError("text-classification fine-tunes a pretrained model: set train.model: {hf: DIR}")
        if config.model.hf is None:
            raise InputError("text-classification fine-tunes a checkpoint (train.model.hf); hf_config is for causal-lm")
        base = Path(config.model.hf)
        checkpoint = open_checkpoint(base, config.model.allow_pickle, config.model.name)
        tokenizer = load_tokenizer(checkpoint)
        columns = list(data.text)
        texts = joined_texts(data.frame, columns, str(data.path))
        labels_text = data.frame[data.target].astype("str").to_numpy()
        classes = sorted(set(labels_text))
        labels = np.searchsorted(np.array(classes), labels_text).astype(np.int64)
        train, test = split_indices(labels, config.test_fraction, seed)
        ids, truncated = _tokenize(tokenizer, texts, config)
        length = config.max_length if config.padding == "max_length" else max(len(s) for s in ids)
        pad = _pad_id(tokenizer)
        x = encode(ids, length, pad)
        y = torch.from_numpy(labels)
        groups = None
        if config.sensitive_attribute:
            groups = data.frame[config.sensitive_attribute].astype("str").fillna(MISSING).to_numpy()[test]
        excluded = [
            ExcludedColumn(
                name=str(c), reason=SENSITIVE if c == config.sensitive_attribute else "not a text column (data.text)"
            )
            for c in data.frame.columns
            if c not in columns and c != data.target
        ]
        lengths = np.array([len(s) for s in ids])
        text = TextData(
            checkpoint=checkpoint,
            tokenizer=type(tokenizer).__name__,
            columns=columns,
            length=length,
            truncated=truncated,
            mean_tokens=round(float(lengths.mean()), 3),
            train_tokens=int(lengths[train].sum()),
            vocab_size=len(tokenizer),
            pad_id=pad,
            special_ids=tuple(int(i) for i in tokenizer.all_special_ids),
            bos_id=tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id,
            eos_id=tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id,
        )
        return Prepared(
            x_train=x[torch.from_numpy(train)],
            y_train=y[torch.from_numpy(train)],
            x_test=x[torch.from_numpy(test)],
            y_test=y[torch.from_numpy(test)],
            output_dim=len(classes),
            classes=classes,
            features=columns,
            excluded=excluded,
            groups_test=groups,
            text=text,
            train_index=train,
        )

    def build_model(self, prepared: Prepared, config: TrainConfig, weights: Path | None) -> BuiltModel:
        from auditor.hf.build import build_text_classifier

        if weights is not None:
            raise InputError("train.init_weights does not apply to a pretrained model (train.model: {hf: DIR})")
        return build_text_classifier(prepared, config)

    def synthetic_inputs(self, rng: np.random.Generator, count: int, prepared: Prepared) -> torch.Tensor:
        """Random-token texts: each canary is a sequence no real ticket resembles."""
        text: TextData = prepared.text
        special = set(text.special_ids)
        pool = np.array([i for i in range(text.vocab_size) if i not in special], dtype=np.int64)
        sequences = []
        for _ in range(count):
            body = rng.choice(pool, size=int(rng.integers(max(1, text.length // 4), max(2, text.length - 1))))
            seq = [*([text.bos_id] if text.bos_id is not None else []), *body.tolist()]
            seq = seq[: text.length - 1] + ([text.eos_id] if text.eos_id is not None else [])
            sequences.append(seq[: text.length])
        return encode(sequences, text.length, text.pad_id)
