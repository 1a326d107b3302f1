"""Stage names, spelt once. Templates, policies and the energy analysis use these constants.

``TRAIN_DP`` and ``TRAIN_BASELINE`` are the energy phases inside the train stage.
"""

from __future__ import annotations

DATA = "data"
PII = "pii"
ANONYMISE = "anonymise"
TRAIN = "train"
TRAIN_DP = "train.dp"
TRAIN_BASELINE = "train.baseline"
AUDIT = "audit"
ENERGY = "energy"
PREVIOUS = "previous"
