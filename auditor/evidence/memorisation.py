"""What the language-model memorisation audits established: Secret Sharer exposure and PII extraction.

Only counts, ranks and exposures are recorded: never a canary secret, a reference
candidate, a prompt or a personal-data value."""

from __future__ import annotations

from auditor.evidence._base import Record


class ExposureRow(Record):
    """The canaries inserted a given number of times, scored against one model."""

    repetitions: int
    """How many times each of these canaries was inserted into the training text."""
    canaries: int
    """Canaries inserted this many times."""
    exposures: list[float]
    """Interpolated exposure of each canary (bits): log2(references) - log2(rank), rank 1 = most likely."""
    max_exposure: float
    """The largest interpolated exposure among these canaries (what GDPR-MEM-001 checks)."""
    mean_exposure: float
    """Their mean interpolated exposure."""
    extrapolated: list[float]
    """Extrapolated exposure of each canary (bits): -log2 of the skew-normal CDF fitted to the references."""
    max_extrapolated: float
    """The largest extrapolated exposure among these canaries."""
    ranked_first: int
    """Canaries the model finds more likely than every reference."""


class ExposureModel(Record):
    model: str
    """DP model, non-private baseline."""
    rows: list[ExposureRow]
    """One row per repetition count."""


class ExposureAudit(Record):
    """The Secret Sharer exposure test (Carlini et al. 2019), per model and repetition count."""

    template: str
    """The canary sentence with {secret} where the secret goes (the secrets themselves are never written)."""
    space_bits: float
    """log2 of the number of possible secrets: the randomness space."""
    references: int
    """Candidates from the same space never inserted: the ranking population."""
    max_measurable: float
    """The largest interpolated exposure: log2(references)."""
    skewnorm: list[float]
    """The skew-normal fit (shape, location, scale) to the DP model's reference log-perplexities."""
    inserted_rows: int
    """Training rows the canaries added (each canary times its repetitions)."""
    model: ExposureModel
    """The trained model: DP, or the only model when DP is off."""
    baseline: ExposureModel | None
    """The non-private baseline, trained on the same text and canaries."""
    seconds: float
    """Scoring time (all models, canaries and references)."""
    note: str
    """How to read exposure."""


class ExtractionModel(Record):
    model: str
    """DP model, non-private baseline, or the non-private model trained on the raw text."""
    trained_on: str
    """anonymised text or raw text."""
    reproduced: int
    """Records for which greedy decoding reproduced an original personal-data value."""
    rate: float
    """reproduced / records."""
    rate_low: float
    """Lower end of the Clopper-Pearson 95% interval."""
    rate_high: float
    """Upper end of the Clopper-Pearson 95% interval."""
    records: int
    """Records tested (the interval's n)."""
    by_entity: dict[str, int]
    """Reproduced values per entity type (counts only, over prompts)."""


class ExtractionAudit(Record):
    """PII extraction (Lukas et al., S&P 2023): prompt with the text before a personal-data span, decode greedily."""

    records: int
    """Training records tested (the control's n)."""
    prompts: int
    """Prompts: every usable span of the tested records."""
    candidates: int
    """Training records with a usable span before anonymisation; up to audit.extraction_records are tested."""
    by_entity: dict[str, int]
    """Prompts per entity type."""
    model: ExtractionModel
    """The trained model: DP, or the only model when DP is off."""
    baseline: ExtractionModel | None
    """The non-private baseline, trained on the same text."""
    raw_baseline: ExtractionModel | None
    """A non-private model trained on the raw text (audit.extraction_raw_baseline): the test's power."""
    seconds: float
    """Prompting time (all models)."""
    note: str
    """How the test works, and the literature's reference figure."""
