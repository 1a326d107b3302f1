"""Number and text formatting shared by the renderers (formatting only, no arithmetic on results)."""

from __future__ import annotations

import json
import math
from typing import Any


def num(value: Any, digits: int = 3) -> str:
    """Readable number: 0.000123 -> 1.23e-04, 12345.6 -> 12,345.6, None -> n/a."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    if abs(value) < 10 ** (-digits) or abs(value) >= 1e9:
        return f"{value:.{digits - 1}e}"
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.{digits}g}" if abs(value) < 1 else f"{value:.{digits}f}".rstrip("0").rstrip(".")


def pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def observed(value: Any) -> str:
    """How a control's observed value reads in a table cell."""
    if value is None:
        return "—"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return num(value)
    if isinstance(value, list):
        return ", ".join(observed(v) for v in value) if value else "none"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def energy(kwh: float | None) -> str:
    """kWh with a unit that keeps digits readable (Wh below 1 kWh, MWh above 1000)."""
    if kwh is None:
        return "n/a"
    if kwh < 1e-3:
        return f"{kwh * 1e3:.3g} Wh"
    if kwh < 1000:
        return f"{kwh:.4g} kWh"
    return f"{kwh / 1000:.4g} MWh"


def mass(kg: float | None) -> str:
    if kg is None:
        return "n/a"
    if kg < 1e-3:
        return f"{kg * 1e3:.3g} g CO₂e"
    if kg < 1000:
        return f"{kg:.4g} kg CO₂e"
    return f"{kg / 1000:.4g} t CO₂e"


def seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


def as_yaml(value: Any) -> str:
    import yaml

    return str(yaml.safe_dump(value, sort_keys=True, allow_unicode=True, default_flow_style=None, width=88))


def signed(value: float | None, digits: int = 4) -> str:
    """A difference with its sign, or a dash when it is unknown."""
    return "—" if value is None else f"{value:+.{digits}f}"


METRIC_LABELS = {
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "macro_f1": "Macro F1",
    "roc_auc": "ROC AUC",
    "log_loss": "Log loss",
    "mse": "Mean squared error",
    "rmse": "Root mean squared error",
    "mae": "Mean absolute error",
    "r2": "R²",
    "loss": "Loss (standardised MSE)",
    "macro_recall": "Macro recall",
    "selection_rate": "Selection rate",
}
