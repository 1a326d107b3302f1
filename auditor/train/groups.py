"""Per-group utility with fairlearn's MetricFrame, DP and baseline side by side.

DP-SGD is known to cost under-represented groups more accuracy (Bagdasaryan
et al., 2019); the widening of the accuracy gap is reported, whichever way it goes.
"""

from __future__ import annotations

import numpy as np
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn.metrics import accuracy_score, recall_score

from auditor.evidence import GroupMetrics, GroupRow


def _recall(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(recall_score(y_true, y_pred, average="macro", zero_division=0))


METRICS = {"accuracy": accuracy_score, "macro_recall": _recall, "selection_rate": selection_rate}


def _frame(groups: np.ndarray, labels: np.ndarray, predicted: np.ndarray) -> MetricFrame:
    return MetricFrame(metrics=METRICS, y_true=labels, y_pred=predicted, sensitive_features=groups)


def _row(frame: MetricFrame, group: str) -> dict[str, float | None]:
    values = frame.by_group.loc[group]
    return {name: round(float(values[name]), 6) for name in METRICS}


def group_metrics(
    attribute: str, groups: np.ndarray, labels: np.ndarray, dp_pred: np.ndarray, baseline_pred: np.ndarray | None
) -> GroupMetrics:
    dp = _frame(groups, labels, dp_pred)
    base = _frame(groups, labels, baseline_pred) if baseline_pred is not None else None
    names, counts = np.unique(groups, return_counts=True)
    rows = [
        GroupRow(
            group=str(name),
            count=int(count),
            dp=_row(dp, name),
            baseline=_row(base, name) if base is not None else None,
        )
        for name, count in zip(names, counts, strict=True)
    ]
    gap_dp = round(float(dp.difference()["accuracy"]), 6)
    gap_base = round(float(base.difference()["accuracy"]), 6) if base is not None else None
    return GroupMetrics(
        attribute=attribute,
        metric="accuracy",
        rows=rows,
        gap_dp=gap_dp,
        gap_baseline=gap_base,
        gap_widening=None if gap_base is None else round(gap_dp - gap_base, 6),
    )
