"""Feature selection and encoding, fitted on the training split only (no leakage).

Direct identifiers found by the scan, free text, high-cardinality strings,
dates and the sensitive attribute never become features; every exclusion is
recorded with its reason, for the minimisation evidence (GDPR Art. 5(1)(c)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

from auditor.config import TrainConfig
from auditor.errors import InputError
from auditor.evidence import ExcludedColumn, PiiSection
from auditor.pii.entities import is_key_name, is_quasi_identifier_name
from auditor.pii.profile import classify
from auditor.tasks.base import Prepared

MAX_CATEGORIES = 50
MISSING = "(missing)"


def split_indices(
    labels: np.ndarray, test_fraction: float, seed: int, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split, stratified by class for classification; a class too small to stratify is an input error."""
    index = np.arange(len(labels))
    if stratify:
        values, counts = np.unique(labels, return_counts=True)
        if counts.min() < 2:
            raise InputError(
                f"target class {values[counts.argmin()]!r} has a single row; cannot split train/test "
                "(a numeric target with many values is a regression: train.task: tabular-regression)"
            )
    train, test = train_test_split(
        index, test_size=test_fraction, stratify=labels if stratify else None, random_state=seed
    )
    return np.sort(train), np.sort(test)


def column_kinds(frame: pd.DataFrame, pii: PiiSection | None) -> dict[str, tuple[str, str]]:
    """Column -> (kind, identifier class), from the scan when there is one."""
    if pii is not None:
        return {c.name: (c.kind, c.identifier) for c in pii.columns}
    out = {}
    for name in frame.columns:
        present = frame[name].dropna()
        kind = classify(present.astype("str"), len(present), len(frame))
        identifier = "quasi" if is_quasi_identifier_name(str(name)) else "none"
        if kind == "structured" and is_key_name(str(name)):
            identifier = "direct"
        out[str(name)] = (str(kind), identifier)
    return out


Kinds = dict[str, tuple[str, str]]


def select_features(
    frame: pd.DataFrame, target: str, config: TrainConfig, kinds: Kinds, scanned: bool, subject: str | None = None
) -> tuple[list[str], list[ExcludedColumn], list[str]]:
    features: list[str] = []
    excluded: list[ExcludedColumn] = []
    quasi: list[str] = []
    for name in map(str, frame.columns):
        if name == target:
            continue
        kind, identifier = kinds.get(name, ("structured", "none"))
        reason = None
        if name == subject:
            reason = "identifies the data subject (data.subject_id)"
        elif name in config.exclude_columns:
            reason = "excluded by train.exclude_columns"
        elif name == config.sensitive_attribute:
            reason = "sensitive attribute: used for per-group metrics only"
        elif identifier == "direct":
            reason = "direct identifier found by the PII scan" if scanned else "record key (ID-like name, unique)"
        elif kind == "free_text":
            reason = "free text"
        elif kind in {"structured", "binary", "empty"}:
            reason = f"{kind} column (not encodable as a feature)"
        elif kind == "datetime":
            reason = "date/time column (quasi-identifier risk; not encoded)"
        elif kind == "categorical" and frame[name].nunique() > MAX_CATEGORIES:
            reason = f"more than {MAX_CATEGORIES} categories"
        elif frame[name].nunique(dropna=False) <= 1:
            reason = "constant column"
        if reason:
            excluded.append(ExcludedColumn(name=name, reason=reason))
        else:
            features.append(name)
            if identifier == "quasi":
                quasi.append(name)
    if not features:
        raise InputError("no usable feature columns remain after excluding identifiers and text (train)")
    return features, excluded, quasi


def encode(frame: pd.DataFrame, features: list[str], train: np.ndarray, kinds: Kinds) -> tuple[np.ndarray, list[str]]:
    """Standardise numeric columns and one-hot encode the others, with statistics from ``train`` only."""
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for name in features:
        column = frame[name]
        if kinds[name][0] == "numeric":
            values = pd.to_numeric(column, errors="coerce").astype("float64")
            fitted = values.iloc[train]
            median = float(fitted.median()) if fitted.notna().any() else 0.0
            filled = values.fillna(median).to_numpy()
            mean, std = float(filled[train].mean()), float(filled[train].std())
            blocks.append(((filled - mean) / (std if std > 0 else 1.0)).reshape(-1, 1))
            names.append(name)
        else:
            text = column.astype("str").fillna(MISSING)
            categories = sorted(text.iloc[train].unique())
            onehot = np.stack([(text == c).to_numpy(dtype=np.float64) for c in categories], axis=1)
            blocks.append(onehot)
            names += [f"{name}={c}" for c in categories]
    return np.concatenate(blocks, axis=1).astype(np.float32), names


@dataclass(frozen=True)
class Features:
    """The encoded feature matrix (all rows) and what went into it."""

    matrix: np.ndarray
    features: list[str]
    excluded: list[ExcludedColumn]
    quasi_identifiers: list[str]
    k_features: int | None
    groups: np.ndarray | None


def tabular_features(
    frame: pd.DataFrame,
    target: str,
    config: TrainConfig,
    pii: PiiSection | None,
    train: np.ndarray,
    subject: str | None = None,
) -> Features:
    """Select and encode the feature columns, with statistics from the ``train`` rows only."""
    kinds = column_kinds(frame, pii)
    features, excluded, quasi = select_features(frame, target, config, kinds, pii is not None, subject)
    matrix, _ = encode(frame, features, train, kinds)
    groups = None
    if config.sensitive_attribute:
        groups = frame[config.sensitive_attribute].astype("str").fillna(MISSING).to_numpy()
    k_features = None
    if quasi:
        k_features = int(frame[quasi].astype("str").fillna(MISSING).value_counts().min())
    return Features(matrix, features, excluded, quasi, k_features, groups)


def tabular_prepared(
    encoded: Features,
    targets: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    output_dim: int,
    classes: list[str],
    target_scale: tuple[float, float] = (0.0, 1.0),
) -> Prepared:
    """The split tensors of a table task: features and targets of the ``train`` and ``test`` rows."""
    return Prepared(
        x_train=torch.from_numpy(encoded.matrix[train]),
        y_train=torch.from_numpy(targets[train]),
        x_test=torch.from_numpy(encoded.matrix[test]),
        y_test=torch.from_numpy(targets[test]),
        output_dim=output_dim,
        classes=classes,
        features=encoded.features,
        excluded=encoded.excluded,
        groups_test=None if encoded.groups is None else encoded.groups[test],
        quasi_identifiers=encoded.quasi_identifiers,
        k_features=encoded.k_features,
        target_scale=target_scale,
        train_index=train,
    )
