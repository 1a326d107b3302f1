"""The pieces every part of the ``audit.yaml`` model shares."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")
OutputFormat = Literal["json", "pdf", "html", "junit", "sarif", "markdown", "modelcard"]
ALL_FORMATS: tuple[OutputFormat, ...] = ("json", "pdf", "html", "junit", "sarif", "markdown", "modelcard")


class _Strict(BaseModel):
    # allow_inf_nan=False: .inf and .nan are refused with "Input should be a finite number",
    # before any stage runs (an infinite noise multiplier would hang the accountant).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
