"""Run history, trends and regression baselines."""

from auditor.history.baseline import baseline_needs_store, load_baseline
from auditor.history.store import DEFAULT_URL, ENV_VAR, TREND_RUNS, HistoryStore, is_new, resolve_url

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "TREND_RUNS",
    "HistoryStore",
    "baseline_needs_store",
    "is_new",
    "load_baseline",
    "resolve_url",
]
