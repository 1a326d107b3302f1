"""Tiny random-initialised Hugging Face models built from a config, so text tests stay fast and offline."""

from __future__ import annotations

import re
import string
from collections import Counter
from pathlib import Path

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def vocabulary(texts: list[str], size: int = 600) -> list[str]:
    """Special tokens, single characters (with their ## forms), then the commonest words."""
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    words = Counter(w for text in texts for w in re.findall(r"[a-z]+", text.lower()))
    common = [w for w, _ in words.most_common(size) if w not in chars]
    return SPECIAL + chars + [f"##{c}" for c in string.ascii_lowercase + string.digits] + common


def tiny_bert(directory: Path, texts: list[str], layers: int = 2, hidden: int = 32, seed: int = 0) -> Path:
    """A BERT with ``layers`` layers of width ``hidden``, its WordPiece tokenizer, saved as safetensors."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    words = vocabulary(texts)
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(words)}, do_lower_case=True)
    tokenizer.save_pretrained(str(directory))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(str(directory))
    return directory
