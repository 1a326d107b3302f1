"""Per-group utility, DP and baseline side by side, in the task's own group metrics.

DP-SGD is known to cost under-represented groups more utility (Bagdasaryan
et al., 2019); the widening of the gap is reported, whichever way it goes.
"""

from __future__ import annotations

import numpy as np

from auditor.evidence import GroupMetrics, GroupRow
from auditor.tasks.base import Prepared, Task


def _gap(rows: list[dict[str, float | None]], metric: str) -> float | None:
    values = [v for r in rows if (v := r.get(metric)) is not None]
    return round(float(max(values) - min(values)), 6) if values else None


def group_metrics(
    attribute: str, task: Task, prepared: Prepared, outputs: np.ndarray, base_outputs: np.ndarray | None
) -> GroupMetrics:
    assert prepared.groups_test is not None
    groups = prepared.groups_test
    targets = prepared.y_test.numpy()
    metric = task.primary_group_metric
    names, counts = np.unique(groups, return_counts=True)
    rows = []
    dp_rows, base_rows = [], []
    for name, count in zip(names, counts, strict=True):
        mask = groups == name
        dp = task.group_metrics(outputs[mask], targets[mask], prepared)
        base = task.group_metrics(base_outputs[mask], targets[mask], prepared) if base_outputs is not None else None
        dp_rows.append(dp)
        if base is not None:
            base_rows.append(base)
        d, b = dp.get(metric), base.get(metric) if base is not None else None
        rows.append(
            GroupRow(
                group=str(name),
                count=int(count),
                dp=dp,
                baseline=base,
                difference=round(d - b, 6) if d is not None and b is not None else None,
            )
        )
    gap_dp = _gap(dp_rows, metric) or 0.0
    gap_base = _gap(base_rows, metric) if base_rows else None
    return GroupMetrics(
        attribute=attribute,
        metric=metric,
        rows=rows,
        gap_dp=gap_dp,
        gap_baseline=gap_base,
        gap_widening=None if gap_base is None else round(gap_dp - gap_base, 6),
    )
