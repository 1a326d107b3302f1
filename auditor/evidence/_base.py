from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """Base for every evidence model: immutable, and strict about unknown keys.

    Each field's docstring becomes its description in ``audit schema evidence``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
