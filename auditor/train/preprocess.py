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

MAX_CATEGORIES = 50
MISSING = "(missing)"


@dataclass(frozen=True)
class Prepared:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: list[str]
    features: list[str]
    excluded: list[ExcludedColumn]
    encoded_dim: int
    groups_test: np.ndarray | None
    quasi_identifiers: list[str]
    k_features: int | None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


def split_indices(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified, seeded split; a class too small to stratify is an input error."""
    index = np.arange(len(labels))
    values, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        raise InputError(f"target class {values[counts.argmin()]!r} has a single row; cannot split train/test")
    train, test = train_test_split(index, test_size=test_fraction, stratify=labels, random_state=seed)
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
    frame: pd.DataFrame, target: str, config: TrainConfig, kinds: Kinds, scanned: bool
) -> tuple[list[str], list[ExcludedColumn], list[str]]:
    features: list[str] = []
    excluded: list[ExcludedColumn] = []
    quasi: list[str] = []
    for name in map(str, frame.columns):
        if name == target:
            continue
        kind, identifier = kinds.get(name, ("structured", "none"))
        reason = None
        if name in config.exclude_columns:
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


def prepare_tabular(
    frame: pd.DataFrame, target: str, config: TrainConfig, pii: PiiSection | None, seed: int
) -> Prepared:
    labels_text = frame[target].astype("str").to_numpy()
    classes = sorted(set(labels_text))
    labels = np.searchsorted(np.array(classes), labels_text)
    train, test = split_indices(labels, config.test_fraction, seed)
    kinds = column_kinds(frame, pii)
    features, excluded, quasi = select_features(frame, target, config, kinds, scanned=pii is not None)
    matrix, _ = encode(frame, features, train, kinds)
    groups = None
    if config.sensitive_attribute:
        groups = frame[config.sensitive_attribute].astype("str").fillna(MISSING).to_numpy()[test]
    k_features = None
    if quasi:
        k_features = int(frame[quasi].astype("str").fillna(MISSING).value_counts().min())
    return Prepared(
        x_train=torch.from_numpy(matrix[train]),
        y_train=torch.from_numpy(labels[train].astype(np.int64)),
        x_test=torch.from_numpy(matrix[test]),
        y_test=torch.from_numpy(labels[test].astype(np.int64)),
        classes=classes,
        features=features,
        excluded=excluded,
        encoded_dim=int(matrix.shape[1]),
        groups_test=groups,
        quasi_identifiers=quasi,
        k_features=k_features,
    )
