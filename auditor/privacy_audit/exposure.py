"""The Secret Sharer exposure test (Carlini et al., USENIX Security 2019).

Canary secrets drawn uniformly from a known space (``alphabet``^``length``) fill a
fixed sentence and join the training text after anonymisation, each group
``repetitions`` times. After training, every canary's log-perplexity (the summed
negative log-likelihood of its tokens) is compared with that of ``references``
secrets from the same space that were never inserted:

- interpolation: rank = 1 + the references with a lower log-perplexity;
  exposure = log2(references) - log2(rank), at most log2(references);
- extrapolation: a skew-normal fitted to the references' log-perplexities;
  exposure = -log2(CDF(canary)), which can exceed log2(references).

TensorFlow Privacy's ``secret_sharer/exposures.py`` computes the same two figures.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import skewnorm
from torch import nn

from auditor.config import ExposureConfig
from auditor.config_lm import SECRET
from auditor.evidence.memorisation import ExposureAudit, ExposureModel, ExposureRow
from auditor.tasks.base import Prepared
from auditor.tasks.causal_lm import CausalLanguageModel

NOTE = (
    "Exposure says how much more likely the model finds an inserted canary than random secrets from the same "
    "space: e bits means the canary ranks among the top 2^-e of all candidates. Interpolated exposure is capped at "
    "log2(references); the extrapolated one, from a skew-normal fit to the references, is not. Carlini et al. "
    "(2019) treat exposure near log2 of the space as memorised, and extraction by enumeration as feasible."
)
SCORE_BATCH = 512


@dataclass(frozen=True)
class ExposureCanaries:
    """The canaries (one text each, with its repetition count) and the references; never written anywhere."""

    canaries: list[str]
    repetitions: list[int]
    references: list[str]

    def inserted(self) -> list[str]:
        return [text for text, r in zip(self.canaries, self.repetitions, strict=True) for _ in range(r)]


def draw_secrets(config: ExposureConfig, count: int, seed: int) -> list[str]:
    """``count`` distinct secrets, uniform over the space, from a seeded generator."""
    rng = np.random.default_rng(seed + 104_729)
    alphabet = np.array(list(config.alphabet))
    seen: dict[str, None] = {}
    while len(seen) < count:
        batch = rng.integers(0, len(alphabet), size=(2 * (count - len(seen)), config.length))
        for row in batch:
            seen.setdefault("".join(alphabet[row]), None)
            if len(seen) == count:
                break
    return list(seen)


def make_exposure_canaries(config: ExposureConfig, seed: int) -> ExposureCanaries:
    per = config.canaries_per_repetition
    secrets = draw_secrets(config, per * len(config.repetitions) + config.references, seed)
    fill = [config.template.replace(SECRET, s) for s in secrets]
    canaries = fill[: per * len(config.repetitions)]
    repetitions = [r for r in config.repetitions for _ in range(per)]
    return ExposureCanaries(canaries=canaries, repetitions=repetitions, references=fill[len(canaries) :])


def exposure_interpolation(canary: np.ndarray, references: np.ndarray) -> np.ndarray:
    """log2(R) - log2(rank), rank = 1 + the references with a strictly lower log-perplexity."""
    ordered = np.sort(references)
    rank = 1 + np.searchsorted(ordered, canary, side="left")
    exposure: np.ndarray = np.log2(len(ordered)) - np.log2(rank)
    return exposure


def fit_skewnorm(references: np.ndarray) -> tuple[float, float, float]:
    shape, loc, scale = skewnorm.fit(references)
    return float(shape), float(loc), float(scale)


def exposure_extrapolation(canary: np.ndarray, params: tuple[float, float, float]) -> np.ndarray:
    """-log2 of the fitted skew-normal's CDF at each canary's log-perplexity (computed in logs: no underflow)."""
    shape, loc, scale = params
    exposure: np.ndarray = np.maximum(-skewnorm.logcdf(canary, shape, loc, scale) / math.log(2), 0.0)
    return exposure


@torch.no_grad()
def log_perplexities(task: CausalLanguageModel, model: nn.Module, prepared: Prepared, texts: list[str]) -> np.ndarray:
    """Summed negative log-likelihood (nats) of each text's tokens, in eval mode and in batches."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(texts), SCORE_BATCH):
        x, _ = task.encode_texts(prepared, texts[start : start + SCORE_BATCH], pad_to_longest=True)
        out.append(model(x.to(device)).sum(dim=1).double().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out)


def _row(repetitions: int, interp: np.ndarray, extrap: np.ndarray, ceiling: float) -> ExposureRow:
    return ExposureRow(
        repetitions=repetitions,
        canaries=len(interp),
        exposures=[round(float(e), 4) for e in interp],
        max_exposure=round(float(interp.max()), 4),
        mean_exposure=round(float(interp.mean()), 4),
        extrapolated=[round(float(e), 4) for e in extrap],
        max_extrapolated=round(float(extrap.max()), 4),
        ranked_first=int(np.sum(interp >= ceiling)),
    )


def exposure_audit(
    task: CausalLanguageModel,
    prepared: Prepared,
    canaries: ExposureCanaries,
    config: ExposureConfig,
    models: list[tuple[str, nn.Module]],
) -> ExposureAudit:
    """Score the canaries and references on each model; the first model's fit is the one reported."""
    started = time.perf_counter()
    results = []
    fitted: tuple[float, float, float] | None = None
    repetitions = np.array(canaries.repetitions)
    for name, model in models:
        references = log_perplexities(task, model, prepared, canaries.references)
        scored = log_perplexities(task, model, prepared, canaries.canaries)
        params = fit_skewnorm(references)
        fitted = fitted or params
        interp = exposure_interpolation(scored, references)
        extrap = exposure_extrapolation(scored, params)
        ceiling = math.log2(len(references))
        rows = []
        for r in config.repetitions:
            pick = repetitions == r
            rows.append(_row(r, interp[pick], extrap[pick], ceiling))
        results.append(ExposureModel(model=name, rows=rows))
    assert fitted is not None
    return ExposureAudit(
        template=config.template,
        space_bits=round(config.space_bits, 4),
        references=len(canaries.references),
        max_measurable=round(math.log2(len(canaries.references)), 4),
        skewnorm=[round(v, 6) for v in fitted],
        inserted_rows=sum(canaries.repetitions),
        model=results[0],
        baseline=results[1] if len(results) > 1 else None,
        seconds=round(time.perf_counter() - started, 6),
        note=NOTE,
    )
