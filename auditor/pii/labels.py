"""Are class labels or group names personal data? Checked on the values themselves (#21 class 2).

The column scan flags a target or a sensitive attribute whose cells hold personal data, but the labels
are printed in the data section before the scan runs, and the scan can be switched off. So the distinct
values that outputs would print are checked on their own: a fast recognizer's match anywhere in a value
(an email, a phone number, a card) or a direct identifier that Presidio finds covering at least half of
it (a person's name, a street address). A category such as "female" or "Christian" is not identifying
and stays readable; "Clinton" and "Dole" are names, and are coded.
"""

from __future__ import annotations

from collections.abc import Sequence

from auditor.config import PiiConfig
from auditor.pii.entities import DIRECT_ENTITIES
from auditor.pii.masking import scrub
from auditor.pii.presidio_engine import EngineSettings, analyze_texts

MAX_LABELS = 1_000  # more distinct values than this are never listed by name anyway


def personal_values(values: Sequence[object], config: PiiConfig | None = None) -> bool:
    """Whether any of ``values`` holds a direct identifier."""
    texts = [str(value) for value in values[:MAX_LABELS]]
    if not texts:
        return False
    if any(scrub(text) != text for text in texts):
        return True
    settings = EngineSettings.from_config(config or PiiConfig())
    for text, spans in zip(texts, analyze_texts(settings, texts, ()), strict=True):
        covered = sum(s.end - s.start for s in spans if s.entity in DIRECT_ENTITIES)
        if text.strip() and covered * 2 >= len(text.strip()):
            return True
    return False
