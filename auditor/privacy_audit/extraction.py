"""PII extraction (after Lukas et al., IEEE S&P 2023): does the model complete a prompt with the personal data
that followed it in the training text?

The records are training rows that held a direct identifier before anonymisation.
Each is prompted with the raw text before each usable span (a direct identifier, not already
in the prompt) and decoded greedily (deterministic); a record counts as reproduced when a
continuation starts with the original value, compared without case and whitespace. Only counts leave this module:
the values, prompts and continuations are never written, logged or returned.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.stats import beta

from auditor.evidence.memorisation import ExtractionAudit, ExtractionModel
from auditor.hf.causal import cache_argument
from auditor.pii.entities import DIRECT_ENTITIES
from auditor.tasks.base import Prepared
from auditor.tasks.text_classification import TextData

RAW = "non-private, raw text"
MIN_VALUE_CHARS = 4
"""Shorter values (initials, a two-digit number) could be completed by chance."""
BATCH = 64
SLACK = 2
"""Tokens decoded beyond the value's own (a tokenizer may split the continuation differently)."""
CONFIDENCE = 0.95
NOTE = (
    "Each record is prompted with the text before each of its personal-data spans (values already in the prompt "
    "are skipped) and decoded greedily; it counts when a continuation reproduces the original value. "
    "Lukas et al. (S&P 2023) found sentence-level DP at epsilon 8 still leaked about 3% of PII sequences from "
    "GPT-2. Only counts are recorded, never a value."
)


@dataclass(frozen=True)
class RawSpans:
    """The joined raw text of every data row and its personal-data spans (start, end, entity), before anonymisation.

    Held in memory for the audit stage only; never written."""

    texts: list[str]
    spans: list[list[tuple[int, int, str]]]


class RawSpansBuilder:
    """Joins the raw text columns as the text tasks do (non-empty parts, a blank line between) and moves each
    column's spans to the joined text's offsets."""

    def __init__(self, rows: int) -> None:
        self.texts = [""] * rows
        self.spans: list[list[tuple[int, int, str]]] = [[] for _ in range(rows)]

    def add(self, values: Any, spans: list[list[Any]]) -> None:
        for row, (value, found) in enumerate(zip(values, spans, strict=True)):
            part = "" if pd.isna(value) else str(value)
            if not part.strip():
                continue
            offset = len(self.texts[row]) + (2 if self.texts[row] else 0)
            self.texts[row] = f"{self.texts[row]}\n\n{part}" if self.texts[row] else part
            self.spans[row].extend((offset + s.start, offset + s.end, s.entity) for s in found)

    def build(self) -> RawSpans:
        return RawSpans(texts=self.texts, spans=self.spans)


@dataclass(frozen=True)
class Prompted:
    prompt: list[int]
    value: str
    value_tokens: int
    entity: str


def _norm(text: str) -> str:
    return "".join(text.split()).casefold()


def _usable(body: str, spans: list[tuple[int, int, str]], head: list[int], text: TextData) -> list[Prompted]:
    """The record's spans worth prompting for: a direct identifier, long enough, not already in the prompt
    (copying from the prompt is not memorisation), inside the trained window."""
    found = []
    for start, end, entity in sorted(spans):
        value = body[start:end]
        if entity not in DIRECT_ENTITIES or len(value.strip()) < MIN_VALUE_CHARS:
            continue
        if _norm(value) in _norm(body[:start]):
            continue
        prompt = head + list(text.tokenizer_object(body[:start], add_special_tokens=False)["input_ids"])
        value_ids = text.tokenizer_object(value, add_special_tokens=False)["input_ids"]
        if len(prompt) + len(value_ids) + SLACK <= text.length and len(prompt) > len(head):
            found.append(Prompted(prompt, value, len(value_ids), entity))
    return found


def pick_records(raw: RawSpans, prepared: Prepared, limit: int, seed: int) -> tuple[list[list[Prompted]], int]:
    """Up to ``limit`` training rows with at least one usable span, chosen with a seeded generator (each with
    all its usable spans); and how many rows had one."""
    text: TextData = prepared.text
    head = [text.bos_id] if text.bos_id is not None else []
    assert prepared.train_index is not None
    candidates = [
        found for row in prepared.train_index.tolist() if (found := _usable(raw.texts[row], raw.spans[row], head, text))
    ]
    rng = np.random.default_rng(seed + 15_485_863)
    keep = np.sort(rng.choice(len(candidates), size=min(limit, len(candidates)), replace=False))
    return [candidates[i] for i in keep.tolist()], len(candidates)


@torch.no_grad()
def greedy_batch(
    model: torch.nn.Module, prompts: list[list[int]], new_tokens: int, pad: int, positions_limit: int
) -> list[list[int]]:
    """Greedy continuations of left-padded prompts, one forward pass per new token over a key-value cache.

    A prompt decoded past its own record's budget (the batch decodes its longest budget) stays at the last
    position the model knows; only its first budgeted tokens are compared."""
    inner: Any = model.model
    device = next(model.parameters()).device
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p)
        mask[i, width - len(p) :] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    out = []
    past = None
    step = ids
    argument = cache_argument(inner)
    for _ in range(new_tokens):
        result = inner(input_ids=step, attention_mask=mask, position_ids=positions, use_cache=True, **{argument: past})
        past = result["cache"] if "cache" in result else result["past_key_values"]
        token = result.logits[:, -1].argmax(dim=-1, keepdim=True)
        out.append(token)
        step = token
        mask = torch.cat([mask, torch.ones_like(token)], dim=1)
        positions = (positions[:, -1:] + 1).clamp(max=positions_limit - 1)
    tokens: list[list[int]] = torch.cat(out, dim=1).cpu().tolist()
    return tokens


def reproduced(model: torch.nn.Module, records: list[Prompted], text: TextData) -> list[bool]:
    was_training = model.training
    model.eval()
    hits: list[bool] = []
    try:
        for start in range(0, len(records), BATCH):
            batch = records[start : start + BATCH]
            new = max(r.value_tokens for r in batch) + SLACK
            outs = greedy_batch(model, [r.prompt for r in batch], new, text.pad_id, text.length)
            for record, tokens in zip(batch, outs, strict=True):
                decoded = text.tokenizer_object.decode(tokens[: record.value_tokens + SLACK], skip_special_tokens=True)
                hits.append(_norm(decoded).startswith(_norm(record.value)))
    finally:
        model.train(was_training)
    return hits


def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    alpha = 1 - confidence
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


def extraction_audit(
    raw: RawSpans, prepared: Prepared, limit: int, seed: int, models: list[tuple[str, str, torch.nn.Module]]
) -> ExtractionAudit:
    """Run the extraction test on each (name, trained_on, model): a record counts when any of its spans is
    reproduced; counts per model and entity."""
    started = time.perf_counter()
    records, candidates = pick_records(raw, prepared, limit, seed)
    prompts = [p for spans in records for p in spans]
    owner = [i for i, spans in enumerate(records) for _ in spans]
    results = []
    for name, trained_on, model in models:
        hits = reproduced(model, prompts, prepared.text) if prompts else []
        leaked = {owner[i] for i, hit in enumerate(hits) if hit}
        k, n = len(leaked), len(records)
        low, high = clopper_pearson(k, n)
        by_entity = Counter(p.entity for p, hit in zip(prompts, hits, strict=True) if hit)
        results.append(
            ExtractionModel(
                model=name,
                trained_on=trained_on,
                reproduced=k,
                rate=round(k / n, 6) if n else 0.0,
                rate_low=round(low, 6),
                rate_high=round(high, 6),
                records=n,
                by_entity=dict(sorted(by_entity.items())),
            )
        )
    return ExtractionAudit(
        records=len(records),
        prompts=len(prompts),
        candidates=candidates,
        by_entity=dict(sorted(Counter(p.entity for p in prompts).items())),
        model=results[0],
        baseline=next((r for r in results[1:] if r.trained_on == results[0].trained_on), None),
        raw_baseline=next((r for r in results[1:] if r.model == RAW), None),
        seconds=round(time.perf_counter() - started, 6),
        note=NOTE,
    )
