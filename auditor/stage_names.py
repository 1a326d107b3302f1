"""Stage names, spelt once. Templates, policies and the energy analysis use these constants.

``TRAIN_DP`` and ``TRAIN_BASELINE`` are the energy phases inside the train stage; the ``AUDIT_*`` ones are
the language-model audits' own cost (exposure scoring, extraction prompts, the raw-text model).
"""

from __future__ import annotations

DATA = "data"
PII = "pii"
ANONYMISE = "anonymise"
TRAIN = "train"
TRAIN_DP = "train.dp"
TRAIN_BASELINE = "train.baseline"
AUDIT = "audit"
AUDIT_EXPOSURE = "audit.exposure"
AUDIT_EXTRACTION = "audit.extraction"
AUDIT_RAW_BASELINE = "audit.raw-baseline"
ENERGY = "energy"
PREVIOUS = "previous"
