"""k-anonymity over quasi-identifiers, counted chunk by chunk.

Only group sizes leave this module: the report shows how small the smallest
groups are, never which values form them.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from auditor.evidence import KAnonymity

MISSING = "\x00missing"


class KAnonymityCounter:
    def __init__(self, quasi_identifiers: list[str], source: str, threshold: int) -> None:
        self.quasi_identifiers = quasi_identifiers
        self.source = source
        self.threshold = threshold
        self._counts: Counter[tuple[str, ...]] = Counter()

    def add(self, chunk: pd.DataFrame) -> None:
        if not self.quasi_identifiers:
            return
        keys = chunk[self.quasi_identifiers].astype("str").fillna(MISSING)
        self._counts.update(keys.itertuples(index=False, name=None))

    def result(self) -> KAnonymity:
        if not self.quasi_identifiers or not self._counts:
            return KAnonymity(
                quasi_identifiers=[],
                source="none",
                k=None,
                smallest_groups=[],
                rows_in_groups_below_threshold=0,
                threshold=self.threshold,
            )
        sizes = sorted(self._counts.values())
        return KAnonymity(
            quasi_identifiers=list(self.quasi_identifiers),
            source="config" if self.source == "config" else "detected",
            k=sizes[0],
            smallest_groups=sizes[:10],
            rows_in_groups_below_threshold=sum(s for s in sizes if s < self.threshold),
            threshold=self.threshold,
        )


def k_anonymity(frame: pd.DataFrame, quasi_identifiers: list[str], threshold: int, source: str) -> KAnonymity:
    counter = KAnonymityCounter(quasi_identifiers, source, threshold)
    counter.add(frame)
    return counter.result()
