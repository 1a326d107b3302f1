"""Write tokenizer/: a byte-level tokenizer (256 byte tokens and <|endoftext|>), learnt from no data.

A tokenizer trained on the tickets would hold their names and emails in its vocabulary;
one token per byte holds nothing, reads any script, and makes a 9-digit secret exactly
9 tokens. Usage: python make_tokenizer.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

END = "<|endoftext|>"


def byte_tokenizer() -> PreTrainedTokenizerFast:
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {symbol: i for i, symbol in enumerate(sorted(alphabet))}
    vocab[END] = len(vocab)
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    core.add_special_tokens([END])
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token=END, eos_token=END, pad_token=END)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("tokenizer"))
    args = parser.parse_args()
    byte_tokenizer().save_pretrained(str(args.out))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
