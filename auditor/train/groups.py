"""Per-group utility, DP and baseline side by side, in the task's own group metrics.

DP-SGD is known to cost under-represented groups more utility (Bagdasaryan
et al., 2019); the widening of the gap is reported, whichever way it goes.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import beta

from auditor.evidence import GroupMetrics, GroupRow
from auditor.tasks.base import Prepared, Task

CONFIDENCE = 0.95
PROPORTIONS = {"accuracy", "selection_rate"}


def proportion_interval(value: float, count: int, alpha: float) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval of a proportion observed as ``value`` over ``count`` rows."""
    k = round(value * count)
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, count - k + 1))
    high = 1.0 if k == count else float(beta.ppf(1 - alpha / 2, k + 1, count - k))
    return low, high


def _gap_interval(intervals: list[tuple[float, float]]) -> tuple[float, float]:
    """Interval of max - min over groups, from simultaneous per-group intervals."""
    lows, highs = [lo for lo, _ in intervals], [hi for _, hi in intervals]
    return max(0.0, max(lows) - min(highs)), max(highs) - min(lows)


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
    section = GroupMetrics(
        attribute=attribute,
        metric=metric,
        rows=rows,
        gap_dp=gap_dp,
        gap_baseline=gap_base,
        gap_widening=None if gap_base is None else round(gap_dp - gap_base, 6),
        smallest_group=int(counts.min()) if len(counts) else 0,
    )
    return _with_intervals(section, dp_rows, base_rows, counts) if metric in PROPORTIONS else section


def _with_intervals(
    section: GroupMetrics,
    dp_rows: list[dict[str, float | None]],
    base_rows: list[dict[str, float | None]],
    counts: np.ndarray,
) -> GroupMetrics:
    """Clopper-Pearson per group, Bonferroni over the groups (and over both models for the widening)."""
    metric = section.metric
    models = 2 if base_rows else 1
    alpha = (1 - CONFIDENCE) / (len(counts) * models)
    dp = [proportion_interval(r.get(metric) or 0.0, int(n), alpha) for r, n in zip(dp_rows, counts, strict=True)]
    rows = [
        row.model_copy(update={"dp_low": round(lo, 6), "dp_high": round(hi, 6)})
        for row, (lo, hi) in zip(section.rows, dp, strict=True)
    ]
    gap_low, gap_high = _gap_interval(dp) if len(dp) > 1 else (0.0, 0.0)
    update: dict[str, object] = {
        "rows": rows,
        "gap_low": round(gap_low, 6),
        "gap_high": round(gap_high, 6),
        "interval_method": f"Clopper-Pearson {CONFIDENCE:.0%}, Bonferroni over {len(counts)} groups x {models} models",
    }
    if base_rows and len(base_rows) > 1:
        base = [
            proportion_interval(r.get(metric) or 0.0, int(n), alpha) for r, n in zip(base_rows, counts, strict=True)
        ]
        base_low, base_high = _gap_interval(base)
        update["widening_low"] = round(gap_low - base_high, 6)
        update["widening_high"] = round(gap_high - base_low, 6)
    return section.model_copy(update=update)
