"""The pieces every part of the ``audit.yaml`` model shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from auditor.constants import ALL_FORMATS, SEVERITIES, OutputFormat, Severity

__all__ = ["ALL_FORMATS", "SEVERITIES", "OutputFormat", "Severity", "_Strict"]


class _Strict(BaseModel):
    # allow_inf_nan=False: .inf and .nan are refused with "Input should be a finite number",
    # before any stage runs (an infinite noise multiplier would hang the accountant).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
