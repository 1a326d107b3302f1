from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """Base for every evidence model: immutable, and strict about unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)
