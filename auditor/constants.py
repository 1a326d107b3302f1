"""Closed sets the CLI needs before anything heavy is imported (``audit --help`` stays fast)."""

from __future__ import annotations

from typing import Literal

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")
OutputFormat = Literal["json", "pdf", "html", "junit", "sarif", "markdown", "modelcard"]
ALL_FORMATS: tuple[OutputFormat, ...] = ("json", "pdf", "html", "junit", "sarif", "markdown", "modelcard")
