"""A pretrained model directory, checked before anything in it is read.

Only safetensors weights are accepted unless ``train.model.allow_pickle`` is
true: a ``pytorch_model.bin`` is a pickle, which can run code when loaded.
Everything is read with ``local_files_only=True``: nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.data.fingerprint import file_sha256
from auditor.errors import InputError

SAFETENSORS = ("model.safetensors", "model.safetensors.index.json")
PICKLE = ("pytorch_model.bin", "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model")


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    weights: list[Path]
    weights_format: str
    weights_sha256: str
    model_type: str
    architectures: list[str]
    base_model: str


def _where(path: Path) -> str:
    return f"{path} (train.model.hf)"


def _shards(path: Path, index: Path) -> list[Path]:
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        names = sorted(set(weight_map.values()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise InputError(f"unreadable shard index {index.name}", where=_where(path)) from None
    shards = [path / name for name in names]
    missing = [s.name for s in shards if not s.is_file() or s.resolve().parent != path.resolve()]
    if missing:
        raise InputError(f"weight shards listed in {index.name} are missing: {missing[:3]}", where=_where(path))
    return shards


def _weights(path: Path, allow_pickle: bool) -> tuple[list[Path], str]:
    single, index = (path / name for name in SAFETENSORS)
    if single.is_file():
        return [single], "safetensors"
    if index.is_file():
        return _shards(path, index), "safetensors"
    pickled, pickled_index = (path / name for name in PICKLE)
    if pickled.is_file() or pickled_index.is_file():
        if not allow_pickle:
            raise InputError(
                "only pickle weights (pytorch_model.bin), which can run code when loaded; convert them to "
                "safetensors, or set train.model.allow_pickle: true if you trust this checkpoint",
                where=_where(path),
            )
        return ([pickled] if pickled.is_file() else _shards(path, pickled_index)), "pytorch-pickle"
    raise InputError("no weights (model.safetensors) in the model directory", where=_where(path))


def _digest(files: list[Path]) -> str:
    if len(files) == 1:
        return file_sha256(files[0])
    lines = "".join(f"{f.name}\0{file_sha256(f)}\n" for f in files)
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def open_checkpoint(path: Path, allow_pickle: bool, name: str | None = None) -> Checkpoint:
    """Check the directory (config, weights, tokenizer) and fingerprint its weights; InputError on any gap."""
    from auditor.extras import require

    require("text", "train.model.hf (a Hugging Face checkpoint)")
    if not path.exists():
        raise InputError("model directory not found", where=_where(path))
    if not path.is_dir():
        raise InputError("expected a model directory (config.json, weights, tokenizer)", where=_where(path))
    config_file = path / "config.json"
    if not config_file.is_file():
        raise InputError("no config.json in the model directory", where=_where(path))
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise InputError("config.json is not readable JSON", where=_where(path)) from None
    if not isinstance(config, dict) or not isinstance(config.get("model_type"), str):
        raise InputError("config.json names no model_type", where=_where(path))
    weights, weights_format = _weights(path, allow_pickle)
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise InputError("no tokenizer (tokenizer.json or a vocabulary) in the model directory", where=_where(path))
    return Checkpoint(
        path=path,
        weights=weights,
        weights_format=weights_format,
        weights_sha256=_digest(weights),
        model_type=config["model_type"],
        architectures=[str(a) for a in config.get("architectures") or []],
        base_model=name or path.name,
    )


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """transformers logs a load report (newly initialised head weights) and draws a progress bar while
    loading; the evidence records the report, and auditor draws its own progress."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity(logging.ERROR)
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]


def open_tokenizer_dir(path: Path) -> Path:
    """A named tokenizer directory (train.model.tokenizer), checked before anything is read."""
    from auditor.extras import require

    require("text", "train.model.tokenizer (a Hugging Face tokenizer)")
    where = f"{path} (train.model.tokenizer)"
    if not path.is_dir():
        raise InputError("tokenizer directory not found", where=where)
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise InputError("no tokenizer (tokenizer.json or a vocabulary) in the directory", where=where)
    return path


def load_tokenizer(checkpoint: Checkpoint | Path) -> Any:
    """The tokenizer of a checkpoint, or of a tokenizer directory; local files only."""
    from transformers import AutoTokenizer

    path = checkpoint.path if isinstance(checkpoint, Checkpoint) else checkpoint
    try:
        with quiet_transformers():
            return AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        message = " ".join(str(exc).split())[:200]
        where = _where(path) if isinstance(checkpoint, Checkpoint) else f"{path} (train.model.tokenizer)"
        raise InputError(f"cannot load the tokenizer: {message}", where=where) from None


def load_classifier(checkpoint: Checkpoint, labels: int) -> tuple[Any, list[str]]:
    """The pretrained model with a sequence-classification head of ``labels`` outputs, and the new head weights."""
    from transformers import AutoModelForSequenceClassification

    try:
        with quiet_transformers():
            model, info = AutoModelForSequenceClassification.from_pretrained(
                str(checkpoint.path),
                num_labels=labels,
                local_files_only=True,
                use_safetensors=checkpoint.weights_format == "safetensors",
                output_loading_info=True,
            )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        message = " ".join(str(exc).split())[:200]
        raise InputError(f"cannot load the model: {message}", where=_where(checkpoint.path)) from None
    return model, sorted(str(k) for k in info.get("missing_keys", []))
