"""k-anonymity over quasi-identifiers, counted chunk by chunk.

Each row's quasi-identifier tuple is hashed to 64 bits (pandas' stable row
hash); each chunk keeps its distinct hashes with their counts, so memory follows
the groups rather than the rows, and parts scanned elsewhere merge by adding
counts. Group sizes come from summing equal hashes at the end. Only group sizes
leave this module: the report shows how small the smallest groups are, never
which values form them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.evidence import KAnonymity

MISSING = "\x00missing"
COMPACT_AFTER = 64
"""Per-chunk arrays kept before they are folded into one."""


class KAnonymityCounter:
    def __init__(self, quasi_identifiers: list[str], source: str, threshold: int) -> None:
        self.quasi_identifiers = quasi_identifiers
        self.source = source
        self.threshold = threshold
        self._hashes: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []

    def add(self, chunk: pd.DataFrame) -> None:
        if not self.quasi_identifiers:
            return
        keys = chunk[self.quasi_identifiers].astype("str").fillna(MISSING)
        hashes, counts = np.unique(pd.util.hash_pandas_object(keys, index=False).to_numpy(), return_counts=True)
        self._hashes.append(hashes)
        self._counts.append(counts)
        self._compact_if_long()

    def merge(self, other: KAnonymityCounter) -> None:
        """Add another part's groups (a partition scanned elsewhere)."""
        self._hashes.extend(other._hashes)
        self._counts.extend(other._counts)
        self._compact_if_long()

    def _compact_if_long(self) -> None:
        """Fold the per-chunk arrays into one once there are many: memory follows the distinct groups."""
        if len(self._hashes) >= COMPACT_AFTER:
            hashes, counts = self._totals()
            self._hashes, self._counts = [hashes], [counts]

    def _totals(self) -> tuple[np.ndarray, np.ndarray]:
        hashes, where = np.unique(np.concatenate(self._hashes), return_inverse=True)
        return hashes, np.bincount(where, weights=np.concatenate(self._counts)).astype(np.int64)

    def group_sizes(self) -> np.ndarray:
        if not self._hashes:
            return np.array([], dtype=np.int64)
        return np.sort(self._totals()[1])

    def result(self) -> KAnonymity:
        sizes = self.group_sizes()
        if not self.quasi_identifiers or len(sizes) == 0:
            return KAnonymity(
                quasi_identifiers=[],
                source="none",
                k=None,
                smallest_groups=[],
                rows_in_groups_below_threshold=0,
                threshold=self.threshold,
            )
        return KAnonymity(
            quasi_identifiers=list(self.quasi_identifiers),
            source="config" if self.source == "config" else "detected",
            k=int(sizes[0]),
            smallest_groups=[int(s) for s in sizes[:10]],
            rows_in_groups_below_threshold=int(sizes[sizes < self.threshold].sum()),
            threshold=self.threshold,
        )


def k_anonymity(frame: pd.DataFrame, quasi_identifiers: list[str], threshold: int, source: str) -> KAnonymity:
    counter = KAnonymityCounter(quasi_identifiers, source, threshold)
    counter.add(frame)
    return counter.result()
